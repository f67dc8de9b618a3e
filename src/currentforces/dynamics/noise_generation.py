"""Gaussian coloured force noise with a prescribed matrix spectrum S(omega).

The semi-classical Langevin equation (seed section V, eq. 58;
:ref:`theory-langevin`, :eq:`eq-langevin`) needs a real, stationary,
multivariate Gaussian random force xi(t) with

.. math::

    \\langle \\xi_\\alpha(t+s)\\xi_\\beta(t)\\rangle
        = \\int \\frac{d\\omega}{2\\pi} e^{-i\\omega s} S_{\\alpha\\beta}(\\omega),

where S(omega) is Hermitian positive semidefinite with S(-omega) = S(omega)^T
(:ref:`theory-noise`, :eq:`eq-noise`).  :class:`NoiseGenerator` implements the
FFT recipe of :ref:`theory-noise-generation` (:eq:`eq-noise-recipe`) for any
number of modes, including the antisymmetric (imaginary) off-diagonal part
that appears under bias.

Spectrum callables take ``hbar_omega`` (eV, a 1-D array of non-negative
values) and return an array of shape ``(n, M, M)`` in eV^2*fs/Angstrom^2;
the generator only ever asks for omega >= 0 and uses S(-omega) = S(omega)^T.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import check_number, check_positive, check_spin, check_temperature
from ..errors import InputError
from ..units import HBAR, KB
from ._moved import call_moved

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._checks import ArrayLike, ComplexArray, Spectrum

__all__ = [
    "NoiseGenerator",
    "spectrum_factors",
    "evaluate_spectrum",
    "tabulated_spectrum",
    "wide_band_spectrum",
    "spectrum_from_junction",
]

SPECTRUM_RTOL = 1e-8
"""Relative tolerance of the Hermiticity / positivity checks on S(omega)."""


def evaluate_spectrum(spectrum: Spectrum, hbar_omega: ArrayLike, n_modes: int) -> ComplexArray:
    """Call ``spectrum`` on non-negative ``hbar_omega`` (eV) and validate it.

    Returns a complex array of shape ``(n, n_modes, n_modes)``.  Raises
    :class:`InputError` naming ``spectrum`` when the shape is wrong, when
    entries are not finite, or when a matrix is not Hermitian positive
    semidefinite (tolerance ``SPECTRUM_RTOL`` relative to the largest entry).
    """
    hw = np.atleast_1d(np.asarray(hbar_omega, dtype=float))
    try:
        s = np.asarray(spectrum(hw), dtype=complex)
    except InputError:
        raise
    except Exception as exc:  # a user callable: report which argument failed
        raise InputError(f"spectrum(hbar_omega) failed: {exc!r}") from exc
    if n_modes == 1 and s.shape == hw.shape:
        s = s.reshape(-1, 1, 1)
    if s.shape != (hw.size, n_modes, n_modes):
        raise InputError(
            f"spectrum must return shape (n, {n_modes}, {n_modes}) for n = {hw.size} frequencies, got {s.shape}"
        )
    if not np.all(np.isfinite(s)):
        raise InputError("spectrum returned NaN or inf entries")
    scale = max(np.max(np.abs(s)) if s.size else 0.0, 1e-300)
    dev = np.max(np.abs(s - np.conj(np.swapaxes(s, -1, -2)))) if s.size else 0.0
    if dev > SPECTRUM_RTOL * scale:
        raise InputError(f"spectrum is not Hermitian: max |S - S^dagger| = {dev:.3g} (largest entry {scale:.3g})")
    s = 0.5 * (s + np.conj(np.swapaxes(s, -1, -2)))
    w = np.linalg.eigvalsh(s)
    if w.size and w.min() < -SPECTRUM_RTOL * scale:
        k = int(np.unravel_index(np.argmin(w), w.shape)[0])
        raise InputError(
            "spectrum is not positive semidefinite: eigenvalue "
            f"{w.min():.3g} at hbar_omega = {hw[k]:.6g} eV (largest entry {scale:.3g})"
        )
    return s


def spectrum_factors(s: NDArray[Any], real: bool = False) -> NDArray[Any]:
    """Square-root factors B with B B^dagger = S for a stack of PSD matrices.

    Uses the eigen-decomposition (so singular S is fine); negative round-off
    eigenvalues are clipped to zero.  With ``real=True`` only the real
    symmetric part of S is factorised (used at omega = 0 and at the Nyquist
    frequency, where the FFT recipe needs a real construction).
    """
    s = np.asarray(s)
    if real:
        s = np.real(s)
        s = 0.5 * (s + np.swapaxes(s, -1, -2))
    w, u = np.linalg.eigh(s)
    return u * np.sqrt(np.clip(w, 0.0, None))[..., None, :]


class NoiseGenerator:
    """Blocks of real Gaussian noise with spectrum S(omega) (:ref:`theory-noise-generation`).

    The noise on the time grid t_n = n*dt is produced in independent blocks of
    ``block_length`` steps.  Realisation j of block b is drawn from
    ``numpy.random.default_rng([seed, b, j])``, so any step can be
    regenerated from ``(seed, block_length)`` alone: runs are reproducible bit
    for bit and checkpoints need not store the noise.

    Recipe (:eq:`eq-noise-recipe`, :eq:`eq-lag-covariance`), with N = ``block_length`` and
    omega_k = 2 pi k/(N dt), k = 0 ... N/2:

    .. math::

        \\tilde\\xi_k = \\sqrt{N/\\Delta t}\\; B_k (z_1 + i z_2)/\\sqrt 2,
        \\quad B_k B_k^\\dagger = S(\\omega_k),
        \\qquad \\tilde\\xi_{N-k} = \\tilde\\xi_k^*,

    real construction sqrt(N/dt) B_k z at k = 0 and k = N/2, and
    xi_n = (1/N) sum_k xi~_k exp(-i omega_k n dt).  Within a block the lag
    covariance is exactly (1/(N dt)) sum_k S(omega_k) exp(-i omega_k s), the
    Riemann sum of the target integral; blocks are mutually independent, so
    ``block_length * dt`` must be long compared with the noise correlation
    time and 2 pi/(N dt) must resolve the structure of S (and the line widths
    of the driven modes).

    Parameters
    ----------
    spectrum : callable
        ``spectrum(hbar_omega)`` with ``hbar_omega`` in eV (array, >= 0)
        returning S in eV^2*fs/Angstrom^2, shape ``(n, M, M)``.
    n_modes : int
        Number M of degrees of freedom.
    timestep : float
        Time step dt in fs.
    n_realizations : int
        Number R of independent realisations generated together.
    seed : int
        Non-negative integer seed.
    block_length : int
        Even FFT length N (steps per block).
    """

    def __init__(
        self,
        spectrum: Callable,
        n_modes: int,
        timestep: float,
        *,
        n_realizations: int = 1,
        seed: int = 0,
        block_length: int = 16384,
    ) -> None:
        if not callable(spectrum):
            raise InputError("spectrum must be a callable spectrum(hbar_omega) -> (n, M, M)")
        if int(block_length) != block_length or block_length < 4 or block_length % 2:
            raise InputError(f"block_length must be an even integer >= 4, got {block_length!r}")
        if int(seed) != seed or seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {seed!r}")
        if int(n_modes) != n_modes or n_modes < 1:
            raise InputError(f"n_modes must be an integer >= 1, got {n_modes!r}")
        if int(n_realizations) != n_realizations or n_realizations < 1:
            raise InputError(f"n_realizations must be an integer >= 1, got {n_realizations!r}")
        self.n_modes = int(n_modes)
        self.timestep = check_positive("timestep", timestep, "fs")
        self.n_realizations = int(n_realizations)
        self.seed = int(seed)
        self.block_length = int(block_length)
        n = self.block_length
        k = np.arange(n // 2 + 1)
        self.omega = 2.0 * np.pi * k / (n * self.timestep)  # rad/fs
        s = evaluate_spectrum(spectrum, HBAR * self.omega, self.n_modes)
        self.spectrum_values = s
        factors = spectrum_factors(s)
        factors[0] = spectrum_factors(s[0], real=True)
        factors[-1] = spectrum_factors(s[-1], real=True)
        self._factors = factors
        self._cached: tuple[int | None, np.ndarray | None] = (None, None)

    def block(self, index: int) -> np.ndarray:
        """Noise block ``index`` as a real array of shape (N, R, M) in eV/Angstrom.

        Realisation j of block b is drawn from ``default_rng([seed, b, j])``:
        it does not depend on how many realisations are generated together,
        and peak memory stays at about one block.
        """
        cached_index, cached = self._cached
        if cached_index == index and cached is not None:
            return cached
        n, r, m = self.block_length, self.n_realizations, self.n_modes
        nk = n // 2 + 1
        amp = np.sqrt(n / self.timestep)
        xi = np.empty((n, r, m))
        for j in range(r):
            rng = np.random.default_rng([self.seed, int(index), j])
            z = rng.standard_normal((2, nk, m))
            zc = (z[0] + 1j * z[1]) / np.sqrt(2.0)
            zc[0] = z[0, 0]
            zc[-1] = z[0, -1]
            xt = amp * np.einsum("kab,kb->ka", self._factors, zc)
            # xi_n = fft(xi~)/N = irfft(conj(xi~_half)) for a Hermitian-symmetric xi~.
            xi[:, j, :] = np.fft.irfft(np.conj(xt), n=n, axis=0)
        self._cached = (index, xi)
        return xi

    def at(self, step: int) -> np.ndarray:
        """The noise xi(step*dt) for all realisations, shape (R, M)."""
        b, j = divmod(int(step), self.block_length)
        return self.block(b)[j]

    def lag_covariance(self, lags: ArrayLike) -> np.ndarray:
        """Exact within-block covariance <xi(t+s) xi(t)^T> for lags s = lag*dt.

        (1/(N dt)) sum over all N frequencies of S(omega_k) exp(-i omega_k s),
        with S(-omega) = S(omega)^T; returns a real array (len(lags), M, M).
        """
        n = self.block_length
        s = self.spectrum_values.copy()
        s[0] = np.real(s[0])
        s[-1] = np.real(s[-1])
        full = np.concatenate([s, np.swapaxes(s[1:-1][::-1], -1, -2)], axis=0)
        k = np.arange(n)
        phase = np.exp(-2j * np.pi * np.outer(np.asarray(lags), k) / n)
        return np.real(np.einsum("lk,kab->lab", phase, full)) / (n * self.timestep)


def tabulated_spectrum(hbar_omega: ArrayLike, values: ArrayLike, *, outside: str = "zero") -> Spectrum:
    """A spectrum callable interpolating tabulated S(omega) linearly.

    Parameters
    ----------
    hbar_omega : array_like, shape (n,)
        Increasing, non-negative grid of hbar*omega in eV.
    values : array_like, shape (n, M, M)
        S on the grid in eV^2*fs/Angstrom^2 (Hermitian PSD).
    outside : {"zero", "error"}
        Beyond the last grid point return zero (the grid end acts as an
        electronic-bandwidth cutoff of :ref:`theory-langevin`) or raise.
    """
    x = np.asarray(hbar_omega, dtype=float)
    v = np.asarray(values, dtype=complex)
    if x.ndim != 1 or x.size < 2 or np.any(np.diff(x) <= 0) or x[0] < 0:
        raise InputError("hbar_omega must be an increasing 1-D grid of >= 2 non-negative energies in eV")
    if v.ndim != 3 or v.shape[0] != x.size or v.shape[1] != v.shape[2]:
        raise InputError(f"values must have shape ({x.size}, M, M), got {v.shape}")
    if outside not in ("zero", "error"):
        raise InputError(f"outside must be 'zero' or 'error', got {outside!r}")
    evaluate_spectrum(lambda hw: v, x, v.shape[1])
    flat = v.reshape(x.size, -1)

    def spectrum(hw):
        hw = np.atleast_1d(np.asarray(hw, dtype=float))
        if np.any(hw < x[0]) or (outside == "error" and np.any(hw > x[-1])):
            raise InputError(f"hbar_omega outside the tabulated range [{x[0]}, {x[-1]}] eV")
        out = np.empty((hw.size, flat.shape[1]), dtype=complex)
        for j in range(flat.shape[1]):
            out[:, j] = np.interp(hw, x, flat[:, j].real, right=0.0) + 1j * np.interp(hw, x, flat[:, j].imag, right=0.0)
        return out.reshape(hw.size, v.shape[1], v.shape[2])

    return spectrum


def _x_coth(x, kt):
    """x*coth(x/2kT) with its limits: 2kT at x = 0 and |x| at T = 0."""
    x = np.asarray(x, dtype=float)
    if kt == 0.0:
        return np.abs(x)
    y = x / (2.0 * kt)
    out = np.empty_like(y)
    small = np.abs(y) < 1e-6
    out[small] = 2.0 * kt * (1.0 + y[small] ** 2 / 3.0)
    ys = y[~small]
    out[~small] = x[~small] / np.tanh(ys)
    return out


def wide_band_spectrum(
    t_matrices: ArrayLike,
    *,
    bias: float = 0.0,
    temperature: float = 300.0,
    spin: float = 2,
    cutoff: float | None = None,
) -> Spectrum:
    """Wide-band force-noise spectrum (:eq:`eq-wide-band-noise`), as a callable.

    .. math::

        S(\\omega) = g_s\\frac{\\hbar}{4\\pi}\\sum_{lm} T_{lm}\\, x_{lm}
                     \\coth\\frac{x_{lm}}{2k_BT},
        \\qquad x_{lm} = \\hbar\\omega - \\mu_l + \\mu_m,

    for two leads with mu_L - mu_R = e*bias, and T_lm[a, b] =
    Tr[f_a A_l f_b A_m] (energy-independent spectral functions).  The
    matching Markov coefficients are -L^sym = g_s (hbar/4 pi) Re sum_lm T_lm
    and K^asym = -g_s (e V/2 pi) Im T_LR (:eq:`eq-wide-band-noise`, :eq:`eq-small-bias`).

    Parameters
    ----------
    t_matrices : array_like, shape (2, 2, M, M)
        ``t_matrices[l, m]`` = T_lm in 1/Angstrom^2 (l, m = 0: L, 1: R).
        T_ll must be Hermitian PSD as a whole: S must be PSD.
    bias : float
        Bias V in volt (e*V = mu_L - mu_R in eV).
    temperature : float
        Electron temperature in K.
    spin : int
        Spin degeneracy g_s.
    cutoff : float or None
        If given (eV), S is multiplied by exp(-(hbar omega/cutoff)^2): a
        finite electronic bandwidth that removes the logarithmic divergence of
        <V^2> caused by the zero-point part (the bandwidth cutoff of
        :ref:`theory-langevin`).

    Returns
    -------
    callable
        ``spectrum(hbar_omega) -> (n, M, M)`` in eV^2*fs/Angstrom^2.
    """
    t = np.asarray(t_matrices, dtype=complex)
    if t.ndim != 4 or t.shape[:2] != (2, 2) or t.shape[2] != t.shape[3]:
        raise InputError(f"t_matrices must have shape (2, 2, M, M), got {t.shape}")
    kt = KB * check_temperature(temperature)
    ev = check_number("bias", bias, "V")
    spin = check_spin(spin)
    if cutoff is not None:
        cutoff = check_positive("cutoff", cutoff, "eV")
    shifts = np.array([[0.0, ev], [-ev, 0.0]])  # mu_l - mu_m

    def spectrum(hbar_omega):
        hw = np.atleast_1d(np.asarray(hbar_omega, dtype=float))
        s = np.zeros((hw.size,) + t.shape[2:], dtype=complex)
        for l in range(2):
            for m in range(2):
                s += _x_coth(hw - shifts[l, m], kt)[:, None, None] * t[l, m]
        s *= spin * HBAR / (4.0 * np.pi)
        if cutoff is not None:
            s *= np.exp(-((hw / cutoff) ** 2))[:, None, None]
        return s

    return spectrum


def spectrum_from_junction(*args: Any, **kwargs: Any) -> Any:
    """Deprecated: use :func:`currentforces.coupling.spectrum_from_junction`.

    Same arguments and result; warns with :class:`DeprecationWarning`.
    """
    return call_moved("currentforces.dynamics.spectrum_from_junction", "spectrum_from_junction", args, kwargs)
