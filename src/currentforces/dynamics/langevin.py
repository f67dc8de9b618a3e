"""Semi-classical Langevin and mean-force dynamics on given coefficients.

Equation of motion (seed eq. 14 with the noise of seed eq. 58;
:ref:`theory-langevin`, :eq:`eq-langevin`, Markov limit):

.. math::

    M \\ddot X = F^{(0)} - (K^b + K) X + L \\dot X + \\xi(t),
    \\qquad \\langle\\xi(t+s)\\xi(t)^T\\rangle
        = \\int\\frac{d\\omega}{2\\pi} e^{-i\\omega s} S(\\omega).

Integrator (:eq:`eq-baoab`): the symmetric B A O A B splitting of
:mod:`currentforces.dynamics.splitting`, with the kicks
B: V += (dt/2) M^-1 [F0 - (K^b + K) X + xi(t_n)] and the O-step
V <- exp(dt M^-1 L) V, the exact flow of the full, non-symmetric velocity
matrix (friction and Berry force), stable for any dt.

A phonon bath (:class:`~currentforces.dynamics.bath.PhononBath`, the
electrode phonons on the boundary atoms) adds its Ohmic friction to L and
its fluctuation-dissipation noise to xi, so that a trajectory reaches a
steady state even where the electronic friction of a mode vanishes.

Without L and noise this is velocity Verlet; the position part is stable for
omega_max dt < 2, which is checked.  ``spectrum=None`` gives mean-force
("Ehrenfest-like") dynamics (:class:`MeanForceDynamics`), the limit the seed
criticises in section V.

All realisations are integrated together as arrays of shape (R, M).

Runs follow ASE's ``MolecularDynamics``: :meth:`LangevinDynamics.irun` is a
generator that yields after every step, and
:meth:`LangevinDynamics.attach` registers observers called every
``interval`` steps; :meth:`LangevinDynamics.run` records a
:class:`~currentforces.dynamics.Trajectory` with observers of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import check_number, check_positive, check_rtol
from ..errors import InputError
from ..outfile import read_checkpoint, write_checkpoint
from ..units import AMU, HBAR
from ._moved import call_moved
from .bath import PhononBath, combined_spectrum
from .modes import check_masses, check_matrix
from .noise_generation import NoiseGenerator, evaluate_spectrum
from .observables import Trajectory
from .splitting import baoab_step, velocity_propagator

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .._checks import ArrayLike, RealArray, Spectrum

__all__ = ["LangevinDynamics", "MeanForceDynamics", "stationary_covariance", "stability_limit"]


def stability_limit(masses: ArrayLike, force_constants: ArrayLike) -> float:
    """Largest stable time step 2/omega_max (fs) of the Verlet position part.

    omega_max^2 is the largest ``|eigenvalue|`` of M^-1 (K^b + K) (masses in amu,
    force constants in eV/Angstrom^2).  Returns inf if all vanish.
    """
    m = check_masses(masses) * AMU
    k = check_matrix("force_constants", force_constants, m.size, "eV/Angstrom^2")
    ev = np.linalg.eigvals(k / m[:, None])
    wmax = np.sqrt(np.max(np.abs(ev))) if ev.size else 0.0
    return np.inf if wmax == 0 else 2.0 / wmax


class LangevinDynamics:
    """Integrate M X'' = F0 - (K^b + K) X + L X' + xi(t) for R realisations.

    Parameters
    ----------
    masses : array_like, shape (M,)
        Masses in amu (> 0).
    bare_force_constants : array_like, shape (M, M)
        Bare spring matrix K^b in eV/Angstrom^2.  If it is a zero-bias
        Born-Oppenheimer dynamical matrix, pass only the bias-window part of
        K (:ref:`theory-kernel-split`) so K_eq is not counted twice.
    timestep : float
        dt in fs; must be below the stability limit 2/omega_max
        (:func:`stability_limit`).
    K : array_like, shape (M, M), optional
        Current-induced force constants in eV/Angstrom^2 (may be
        non-symmetric: the non-conservative force is -K^asym X).
    L : array_like, shape (M, M), optional
        Velocity coefficients in eV*fs/Angstrom^2 (friction -L^sym, Berry
        force L^asym).
    mean_force : array_like, shape (M,), optional
        F^(0) in eV/Angstrom.
    spectrum : callable or None
        Noise spectrum ``spectrum(hbar_omega[eV]) -> (n, M, M)`` in
        eV^2*fs/Angstrom^2, Hermitian PSD (e.g. ``noise_spectrum`` through
        :func:`currentforces.coupling.spectrum_from_junction`, or
        :func:`~currentforces.dynamics.wide_band_spectrum`).  ``None``
        switches the noise off (mean-force dynamics).
    n_realizations : int
        Number R of independent trajectories integrated together.
    seed : int or None
        Non-negative integer; ``None`` draws one (stored in ``self.seed``).
        The same seed, R and ``noise_block`` reproduce a run bit for bit.
    noise_block : int
        FFT block length of the noise generator (steps, even); see
        :class:`~currentforces.dynamics.NoiseGenerator`.
    bath : PhononBath, optional
        A phonon bath (:class:`~currentforces.dynamics.bath.PhononBath`)
        on some of the M coordinates: its friction -eta is added to L and
        its noise, independent of the electrons', to the spectrum (with
        ``spectrum=None``, the bath is the only noise).

    Attributes
    ----------
    L : ndarray, shape (M, M)
        The velocity matrix of the equation of motion: the given L plus
        the bath's friction.
    positions, velocities : ndarray, shape (R, M)
        Displacements X (Angstrom) and velocities (Angstrom/fs).
    step : int
        Number of steps taken; ``time = step * timestep`` (fs).
    observers : list
        ``(function, interval, args, kwargs)`` registered by :meth:`attach`.
    """

    def __init__(
        self,
        masses: ArrayLike,
        bare_force_constants: ArrayLike,
        timestep: float,
        *,
        K: ArrayLike | None = None,
        L: ArrayLike | None = None,
        mean_force: ArrayLike | None = None,
        spectrum: Callable | None = None,
        n_realizations: int = 1,
        seed: int | None = None,
        noise_block: int = 16384,
        bath: PhononBath | None = None,
    ) -> None:
        m = check_masses(masses)
        n = m.size
        self.n_modes = n
        self.masses = m
        kb = check_matrix("bare_force_constants", bare_force_constants, n, "eV/Angstrom^2")
        k = check_matrix("K", K, n, "eV/Angstrom^2")
        lm = check_matrix("L", L, n, "eV*fs/Angstrom^2")
        if bath is not None:
            if not isinstance(bath, PhononBath):
                raise InputError(f"bath must be a currentforces.dynamics.PhononBath, got {type(bath).__name__}")
            lm = lm + bath.velocity_matrix(m, n)
            spectrum = combined_spectrum(spectrum, bath.spectrum(m, n))
        self.bath = bath
        self.force_constants = kb + k
        self.L = lm
        dt = check_number("timestep", timestep, "fs", positive=True)
        limit = stability_limit(m, self.force_constants)
        if dt >= limit:
            raise InputError(
                f"timestep = {dt} fs is above the stability limit 2/omega_max = {limit:.4g} fs "
                f"of the fastest mode (hbar*omega_max = {2 * HBAR / limit:.4g} eV)"
            )
        self.timestep = dt
        if mean_force is None:
            f0 = np.zeros(n)
        else:
            f0 = np.atleast_1d(np.asarray(mean_force, dtype=float))
            if f0.shape != (n,) or not np.all(np.isfinite(f0)):
                raise InputError(f"mean_force must be a finite array of shape ({n},) in eV/Angstrom, got {f0.shape}")
        self.mean_force = f0
        if int(n_realizations) != n_realizations or n_realizations < 1:
            raise InputError(f"n_realizations must be a positive integer, got {n_realizations!r}")
        self.n_realizations = int(n_realizations)
        if seed is None:
            seed = int(np.random.default_rng().integers(2**63))
        if int(seed) != seed or seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        self.noise_block = int(noise_block)
        mi = m * AMU
        self._minv = 1.0 / mi
        self._acc_matrix = -self.force_constants * self._minv[:, None]
        self._acc0 = f0 * self._minv
        self._expL = velocity_propagator(mi, lm, dt)
        if spectrum is None:
            self.noise = None
        else:
            self.noise = NoiseGenerator(
                spectrum, n, dt, n_realizations=self.n_realizations, seed=self.seed, block_length=self.noise_block
            )
        self.positions = np.zeros((self.n_realizations, n))
        self.velocities = np.zeros((self.n_realizations, n))
        self.step = 0
        self.observers: list[tuple[Callable, int, tuple, dict]] = []

    @classmethod
    def from_junction(cls, *args: Any, **kwargs: Any) -> Any:
        """Deprecated: use :func:`currentforces.coupling.from_junction`.

        ``LangevinDynamics.from_junction(junction, forces, ...)`` is
        ``currentforces.coupling.from_junction(junction, forces, ...,
        dynamics=LangevinDynamics)``; warns with :class:`DeprecationWarning`.
        """
        return call_moved(f"{cls.__name__}.from_junction", "from_junction", args, dict(kwargs, dynamics=cls))

    # -- state ---------------------------------------------------------------
    @property
    def time(self) -> float:
        """Elapsed time in fs."""
        return self.step * self.timestep

    def set_state(
        self, positions: ArrayLike | None = None, velocities: ArrayLike | None = None, step: int | None = None
    ) -> None:
        """Set displacements (Angstrom), velocities (Angstrom/fs) and/or step.

        Arrays of shape (M,) are broadcast to all realisations; (R, M) arrays
        set each realisation.
        """
        shape = (self.n_realizations, self.n_modes)
        for name, val in (("positions", positions), ("velocities", velocities)):
            if val is None:
                continue
            a = np.asarray(val, dtype=float)
            try:
                a = np.broadcast_to(a, shape).copy()
            except ValueError:
                raise InputError(f"{name} must have shape ({self.n_modes},) or {shape}, got {a.shape}") from None
            if not np.all(np.isfinite(a)):
                raise InputError(f"{name} contains NaN or inf entries")
            setattr(self, name, a)
        if step is not None:
            if int(step) != step or step < 0:
                raise InputError(f"step must be a non-negative integer, got {step!r}")
            self.step = int(step)

    def _force_noise(self, step):
        if self.noise is None:
            return 0.0
        return self.noise.at(step) * self._minv

    def _acceleration(self, x, step):
        return x @ self._acc_matrix.T + self._acc0 + self._force_noise(step)

    # -- integration ---------------------------------------------------------
    def attach(self, function: Callable[..., Any], interval: int = 1, *args: Any, **kwargs: Any) -> None:
        """Call ``function(*args, **kwargs)`` during runs, as ASE's ``attach``.

        With ``interval > 0`` it is called after every step whose global
        index :attr:`step` is a multiple of ``interval``; with ``interval <=
        0`` once, after step ``|interval|``.  Unlike ASE, nothing is called
        for the initial state (step 0 is not a step taken).  Observers see
        the state through :attr:`positions`, :attr:`velocities`,
        :attr:`step` and :attr:`time`; they stay attached for every later
        :meth:`run` and :meth:`irun`.

        Parameters
        ----------
        function : callable or object with a ``write`` method
            The observer (an object with ``write`` is called through it, as
            in ASE).
        interval : int
            Stride in steps.
        """
        try:
            whole = int(interval) == interval
        except (TypeError, ValueError):
            whole = False
        if not whole:
            raise InputError(f"interval must be an integer number of steps, got {interval!r}")
        if not callable(function):
            function = function.write
        self.observers.append((function, int(interval), args, kwargs))

    def irun(self, n_steps: int) -> Iterator[int]:
        """Advance ``n_steps`` steps as a generator, as ASE's ``irun``.

        After each step the attached observers are called and the global
        step index :attr:`step` is yielded, so the caller can inspect or
        change the state (:meth:`set_state`) between steps.

        Parameters
        ----------
        n_steps : int
            Number of time steps (>= 0).

        Yields
        ------
        int
            :attr:`step` after the step.
        """
        return self._irun(_count("n_steps", n_steps), self.observers)

    def _irun(self, n_steps, observers):
        dt = self.timestep
        x = v = a = step = None

        def next_acceleration(y):  # a(x_{n+1}, t_{n+1})
            return self._acceleration(y, step + 1)

        for _ in range(n_steps):
            if self.positions is not x or self.velocities is not v or self.step != step:
                x, v, step = self.positions, self.velocities, self.step
                a = self._acceleration(x, step)  # (re)start, or the state was set in between
            x, v, a = baoab_step(x, v, a, next_acceleration, dt, self._expL)
            step += 1
            self.positions, self.velocities, self.step = x, v, step
            for function, interval, args, kwargs in observers:
                if (step % interval == 0) if interval > 0 else (step == -interval):
                    function(*args, **kwargs)
            yield step

    def run(
        self,
        n_steps: int,
        *,
        record_every: int = 1,
        progress: bool = False,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int | None = None,
    ) -> Trajectory:
        """Advance ``n_steps`` steps and return the recorded frames.

        Frames are recorded after every step whose global index is a
        multiple of ``record_every``, so a run split into pieces (or resumed
        from a checkpoint) records exactly the frames of the unsplit run.
        The keywords attach observers for this run only (a frame recorder,
        a checkpoint writer, a progress bar), called before those of
        :meth:`attach`; for anything else attach an observer, or step
        with :meth:`irun`.

        Parameters
        ----------
        n_steps : int
            Number of time steps.
        record_every : int
            Recording stride in steps.
        progress : bool
            Show a tqdm progress bar.
        checkpoint : str or path, optional
            File written (atomically) every ``checkpoint_every`` steps and at
            the end; resume with :meth:`load_checkpoint`.
        checkpoint_every : int, optional
            Checkpoint stride in steps (default: only at the end).
        """
        n_steps = _count("n_steps", n_steps)
        record_every = _count("record_every", record_every, positive=True)
        recorder = _FrameRecorder(self, n_steps, record_every)
        observers: list[tuple[Callable, int, tuple, dict]] = [(recorder, record_every, (), {})]
        if checkpoint is not None and checkpoint_every:
            every = _count("checkpoint_every", checkpoint_every, positive=True)
            observers.append((self.save_checkpoint, every, (checkpoint,), {}))
        bar = None
        if progress:
            from tqdm.auto import tqdm  # lazy: optional dependency

            bar = tqdm(total=n_steps, desc="langevin", unit="step")
            observers.append((bar.update, 1, (1,), {}))
        try:
            for _ in self._irun(n_steps, observers + self.observers):
                pass
        finally:
            if bar is not None:
                bar.close()
        if checkpoint is not None:
            self.save_checkpoint(checkpoint)
        return recorder.trajectory()

    # -- checkpoints ---------------------------------------------------------
    def _fingerprint(self):
        parts = [
            self.masses,
            self.force_constants.ravel(),
            self.L.ravel(),
            self.mean_force,
            [self.timestep, self.seed, self.n_realizations, self.noise_block, 0.0 if self.noise is None else 1.0],
        ]
        if self.bath is not None:  # (without a bath: the fingerprint of earlier versions)
            parts.append(self.bath.fingerprint())
        return np.concatenate(parts)

    def save_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Write step, state and parameter fingerprint to ``path`` (.npz), atomically."""

        write_checkpoint(
            path, self._fingerprint(), positions=self.positions, velocities=self.velocities, step=self.step
        )

    def load_checkpoint(self, path: str | os.PathLike[str]) -> LangevinDynamics:
        """Restore the state written by :meth:`save_checkpoint`.

        Raises :class:`InputError` if the checkpoint was written by an
        integrator with different parameters (masses, K, L, F0, dt, seed, R,
        noise block or noise on/off): the resumed run is then identical, bit
        for bit, to an uninterrupted one.
        """
        data = read_checkpoint(path, self._fingerprint())
        self.positions = data["positions"]
        self.velocities = data["velocities"]
        self.step = int(data["step"])
        return self


def _count(name, value, positive=False):
    """A whole number of steps, >= 0 (or > 0 if ``positive``)."""
    kind = "positive" if positive else "non-negative"
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a {kind} integer, got {value!r}") from None
    if n != value or n < (1 if positive else 0):
        raise InputError(f"{name} must be a {kind} integer, got {value!r}")
    return n


class _FrameRecorder:
    """Observer of :meth:`LangevinDynamics.run`: stores the frames into preallocated arrays."""

    def __init__(self, dyn, n_steps, record_every):
        first = (dyn.step // record_every + 1) * record_every
        last = dyn.step + n_steps
        n_frames = max(0, (last - first) // record_every + 1) if last >= first else 0
        shape = (n_frames, dyn.n_realizations, dyn.n_modes)
        self.dyn = dyn
        self.positions, self.velocities = np.empty(shape), np.empty(shape)
        self.steps = np.empty(n_frames, dtype=np.int64)
        self.n = 0

    def __call__(self):
        d, j = self.dyn, self.n
        self.positions[j], self.velocities[j], self.steps[j] = d.positions, d.velocities, d.step
        self.n = j + 1

    def trajectory(self):
        d = self.dyn
        return Trajectory(
            time=self.steps * d.timestep,
            positions=self.positions,
            velocities=self.velocities,
            masses=d.masses,
            force_constants=d.force_constants,
            L=d.L,
        )


class MeanForceDynamics(LangevinDynamics):
    """Mean-force ("Ehrenfest-like") dynamics: :class:`LangevinDynamics` without noise.

    M X'' = F0 - (K^b + K) X + L X'.  With hot equilibrium electrons only
    friction remains and the oscillator can only lose energy (seed section V):
    the missing noise is what heats it.
    """

    def __init__(
        self,
        masses: ArrayLike,
        bare_force_constants: ArrayLike,
        timestep: float,
        *,
        K: ArrayLike | None = None,
        L: ArrayLike | None = None,
        mean_force: ArrayLike | None = None,
        n_realizations: int = 1,
    ) -> None:
        super().__init__(
            masses,
            bare_force_constants,
            timestep,
            K=K,
            L=L,
            mean_force=mean_force,
            spectrum=None,
            n_realizations=n_realizations,
            seed=0,
        )


def stationary_covariance(
    masses: ArrayLike,
    force_constants: ArrayLike,
    L: ArrayLike,
    spectrum: Spectrum,
    hbar_omega_max: float,
    *,
    epsrel: float = 1e-8,
) -> tuple[RealArray, RealArray, RealArray]:
    """Exact stationary <X X^T>, <V V^T> and <X V^T> of the linear Langevin equation.

    :eq:`eq-stationary-covariance` with the Markov kernel Pi(omega) = K + i omega L:

    .. math::

        \\langle XX^T\\rangle = \\int\\frac{d\\omega}{2\\pi}\\,
            \\mathcal D S \\mathcal D^\\dagger,\\quad
        \\langle VV^T\\rangle = \\int\\frac{d\\omega}{2\\pi}\\,\\omega^2
            \\mathcal D S \\mathcal D^\\dagger,\\quad
        \\mathcal D = [K + i\\omega L - M\\omega^2]^{-1},

    and <X V^T> = int dw/2pi (i w) D S D^dagger (V(w) = -i w X(w)),
    folded onto omega >= 0 with S(-omega) = S(omega)^* (so D S D^dagger at
    -omega is the complex conjugate) and integrated adaptively up to
    ``hbar_omega_max`` (eV), with the mode frequencies as break points.  The
    spectrum must be negligible above ``hbar_omega_max``.

    Parameters
    ----------
    masses : array_like (M,), amu
    force_constants : array_like (M, M), eV/Angstrom^2 (K^b + K)
    L : array_like (M, M), eV*fs/Angstrom^2
    spectrum : callable, ``spectrum(hbar_omega[eV]) -> (n, M, M)`` eV^2*fs/Angstrom^2
    hbar_omega_max : float, eV

    Returns
    -------
    xx : ndarray (M, M), Angstrom^2
    vv : ndarray (M, M), (Angstrom/fs)^2
    xv : ndarray (M, M), Angstrom^2/fs; its antisymmetric part
        <X_a V_b - X_b V_a>/2 is the mean circulation (angular momentum per
        mass) driven by the non-conservative and Berry forces and the
        antisymmetric noise.
    """
    from scipy.integrate import quad_vec

    from .modes import analyze_modes

    m = check_masses(masses)
    n = m.size
    k = check_matrix("force_constants", force_constants, n, "eV/Angstrom^2")
    lm = check_matrix("L", L, n, "eV*fs/Angstrom^2")
    mi = np.diag(m * AMU)
    wmax = check_positive("hbar_omega_max", hbar_omega_max, "eV") / HBAR
    epsrel = check_rtol(epsrel, "epsrel")
    modes = analyze_modes(m, k, None, lm)
    if not modes.is_stable:
        raise InputError("the linear dynamics is unstable: no stationary covariance exists")
    pts = sorted({abs(w) for w in modes.eigenvalues.imag if 0 < abs(w) < wmax})

    def integrand(w):
        d = np.linalg.inv(k + 1j * w * lm - mi * w * w)
        s = evaluate_spectrum(spectrum, [HBAR * w], n)[0]
        c = d @ s @ d.conj().T
        cr = np.real(c) / np.pi
        return np.stack([cr, w * w * cr, -w * np.imag(c) / np.pi])

    res, _err = quad_vec(integrand, 0.0, wmax, epsrel=epsrel, epsabs=0.0, points=pts or None, limit=10000)
    return res[0], res[1], res[2]
