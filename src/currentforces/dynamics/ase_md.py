"""ASE adaptor: molecular dynamics under current-induced forces and noise.

:class:`CurrentInducedLangevin` moves :class:`ase.Atoms` under the forces of
any ASE calculator (the bare potential, e.g. EMT) plus the current-induced
forces of seed eq. 14 and the coloured force noise of seed eq. 58
(:ref:`theory-langevin`, :eq:`eq-langevin`) on a chosen set of atoms:

.. math::

    M \\ddot R = F_{calc}(R) + F^{(0)} - K X + L \\dot X + \\xi(t),
    \\qquad X = R - R_{ref}.

ASE's own ``Langevin`` accepts only a scalar friction; here L may be any
real matrix (friction and Berry force) and K may be non-symmetric (the
non-conservative force).  The step is the B A O A B splitting of
:mod:`currentforces.dynamics.splitting` (exact exponential of M^-1 L in the
O-step), the same function that :class:`~currentforces.dynamics.LangevinDynamics`
steps with; with K = L = 0 and no noise it is ASE's ``VelocityVerlet``.

ASE is imported only here, so the rest of :mod:`currentforces.dynamics`
works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from ase import units as ase_units
from ase.md.md import MolecularDynamics

from .._checks import check_number
from ..errors import InputError
from .bath import PhononBath, combined_spectrum
from .modes import check_matrix
from .noise_generation import NoiseGenerator
from .splitting import baoab_step, velocity_propagator

if TYPE_CHECKING:
    from ase import Atoms
    from numpy.typing import NDArray

    from .._checks import ArrayLike, Indices, Spectrum

__all__ = ["CurrentInducedLangevin"]


class CurrentInducedLangevin(MolecularDynamics):
    """Langevin MD with matrix friction, Berry, non-conservative forces and coloured noise.

    Parameters
    ----------
    atoms : ase.Atoms
        The system, with a calculator for the bare forces (eV/Angstrom).
    timestep : float
        Time step in **ASE time units**, as for every ASE dynamics class
        (e.g. ``0.5 * ase.units.fs``).
    K : array_like, shape (3n, 3n), optional
        Current-induced force constants in eV/Angstrom^2 on the Cartesian
        degrees of freedom of ``indices`` (atom-major: x, y, z of the first
        atom, then the second, ...).
    L : array_like, shape (3n, 3n), optional
        Velocity coefficients in eV*fs/Angstrom^2 (same ordering).
    mean_force : array_like, shape (3n,), optional
        Extra mean force F^(0) in eV/Angstrom (leave ``None`` if the
        calculator already contains the current-carrying mean force).
    spectrum : callable, optional
        Noise spectrum ``spectrum(hbar_omega[eV]) -> (n, 3n, 3n)`` in
        eV^2*fs/Angstrom^2 (Hermitian PSD).  ``None``: no noise.
    indices : sequence of int, optional
        Atoms the current-induced forces act on (default: all atoms).
    reference_positions : array_like, shape (len(atoms), 3), optional
        Positions (Angstrom) at which X = 0 (default: initial positions).
    seed : int, optional
        Non-negative seed of the noise (bit-for-bit reproducible runs);
        ``None`` draws one, stored in ``self.noise.seed``.
    noise_block : int
        FFT block length of the noise generator (steps).
    bath : PhononBath, optional
        A phonon bath (:class:`~currentforces.dynamics.bath.PhononBath`) on
        some of the 3n degrees of freedom of ``indices`` (dof 3 i + axis is
        Cartesian ``axis`` of ``indices[i]``): its friction is added to L,
        its noise to that of ``spectrum`` (or is the only noise).  Put the
        boundary atoms that the electrode phonons damp into ``indices``
        (with zero K and L where no current acts on them).
    trajectory, logfile, loginterval, **kwargs
        As for :class:`ase.md.md.MolecularDynamics`.

    Notes
    -----
    Constraints are applied through ``set_positions`` and ``set_momenta`` (as
    for fixed atoms in ``VelocityVerlet``), without the RATTLE velocity
    correction; do not include constrained atoms in ``indices``.
    """

    def __init__(
        self,
        atoms: Atoms,
        timestep: float,
        *,
        K: ArrayLike | None = None,
        L: ArrayLike | None = None,
        mean_force: ArrayLike | None = None,
        spectrum: Spectrum | None = None,
        indices: Indices | None = None,
        reference_positions: ArrayLike | None = None,
        seed: int | None = None,
        noise_block: int = 16384,
        bath: PhononBath | None = None,
        trajectory: Any = None,
        logfile: Any = None,
        loginterval: int = 1,
        **kwargs: Any,
    ) -> None:
        ts = check_number("timestep", timestep, "ASE time units", positive=True)
        super().__init__(atoms, ts, trajectory=trajectory, logfile=logfile, loginterval=loginterval, **kwargs)
        natoms = len(atoms)
        idx = np.arange(natoms) if indices is None else np.asarray(indices, dtype=int).ravel()
        if idx.size == 0 or np.any(idx < 0) or np.any(idx >= natoms) or np.unique(idx).size != idx.size:
            raise InputError(f"indices must be distinct atom indices in [0, {natoms}), got {indices!r}")
        masses = np.asarray(atoms.get_masses(), dtype=float)
        if np.any(masses[idx] <= 0) or not np.all(np.isfinite(masses)):
            raise InputError("atoms must have finite masses > 0 amu on the driven atoms")
        self.indices = idx
        self.dofs = (3 * idx[:, None] + np.arange(3)).ravel()
        n = self.dofs.size
        self.K = check_matrix("K", K, n, "eV/Angstrom^2")
        self.L = check_matrix("L", L, n, "eV*fs/Angstrom^2")
        if mean_force is None:
            self.mean_force = np.zeros(n)
        else:
            self.mean_force = np.asarray(mean_force, dtype=float).ravel()
            if self.mean_force.shape != (n,):
                raise InputError(f"mean_force must have shape ({n},) in eV/Angstrom")
        if reference_positions is None:
            ref = atoms.get_positions()
        else:
            ref = np.asarray(reference_positions, dtype=float)
            if ref.shape != (natoms, 3):
                raise InputError(f"reference_positions must have shape ({natoms}, 3) in Angstrom")
        self.reference = ref.reshape(-1)[self.dofs].copy()
        # The step runs in ASE's own units (amu, Angstrom, eV, ASE time), so that
        # without current it is exactly ASE's VelocityVerlet; only L (per fs) and
        # the noise time step are converted, with ase.units.fs.
        self.dt_fs = ts / ase_units.fs
        self._mass = np.repeat(masses, 3)  # amu, per Cartesian component
        if bath is not None:
            if not isinstance(bath, PhononBath):
                raise InputError(f"bath must be a currentforces.dynamics.PhononBath, got {type(bath).__name__}")
            self.L = self.L + bath.velocity_matrix(self._mass[self.dofs], n)
            spectrum = combined_spectrum(spectrum, bath.spectrum(self._mass[self.dofs], n))
        self.bath = bath
        l_ase = self.L * ase_units.fs  # eV*(ASE time)/Angstrom^2
        self._expL = velocity_propagator(self._mass[self.dofs], l_ase, ts)
        self.noise = None
        if spectrum is not None:
            if seed is None:
                # the entropy drawn from the OS is an int (numpy types it int | Sequence[int] | None)
                seed = int(np.random.SeedSequence().entropy % (2**63))  # type: ignore[operator]
            self.noise = NoiseGenerator(spectrum, n, self.dt_fs, n_realizations=1, seed=seed, block_length=noise_block)
        self.noise_step = 0

    def todict(self) -> dict[str, Any]:
        d = super().todict()
        d.update({"seed": None if self.noise is None else self.noise.seed})
        return d

    def _total_force(self, forces, positions, step):
        f = np.array(forces, dtype=float).reshape(-1)
        x = positions.reshape(-1)[self.dofs] - self.reference
        extra = self.mean_force - self.K @ x
        if self.noise is not None:
            extra = extra + self.noise.at(step)[0]
        f[self.dofs] += extra
        return f

    def step(self, forces: ArrayLike | None = None) -> NDArray[Any]:
        atoms = self.atoms
        if forces is None:
            forces = atoms.get_forces(md=True)
        minv = 1.0 / self._mass
        r = atoms.get_positions().reshape(-1)
        v = atoms.get_momenta().reshape(-1) * minv
        a = self._total_force(forces, r, self.noise_step) * minv
        new_forces = []

        def acceleration(r_new):
            atoms.set_positions(r_new.reshape(-1, 3))  # applies constraints
            new_forces.append(atoms.get_forces(md=True))
            return self._total_force(new_forces[0], atoms.get_positions(), self.noise_step + 1) * minv

        _, v, _ = baoab_step(r, v, a, acceleration, self.dt, self._expL, self.dofs)
        self.noise_step += 1
        atoms.set_momenta((v * self._mass).reshape(-1, 3))  # applies constraints, as VelocityVerlet does
        return new_forces[0]
