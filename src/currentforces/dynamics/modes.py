"""Mode analysis of the current-driven linear dynamics and runaway thresholds.

The mean (noise-averaged) Markov dynamics of :ref:`theory-modes`
(:eq:`eq-mean-dynamics`) is

.. math::

    M \\ddot X = F^{(0)} - (K^b + K) X + L \\dot X ,

(seed eq. 14 with a bare spring matrix K^b).  With X ~ x exp(lambda t) this is
the damped, non-symmetric quadratic eigenproblem

.. math::

    (M\\lambda^2 - L\\lambda + K^b + K)\\, x = 0,

solved here through its first-order companion form.  Re(lambda) is the
amplitude growth rate (1/fs; energy grows at 2 Re lambda) and hbar*Im(lambda)
the mode frequency (eV).  A mode runs away when Re(lambda) > 0
(:ref:`theory-two-modes` gives the two-mode Routh-Hurwitz and closed
thresholds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import as_real_matrix as check_matrix
from .._checks import check_masses, check_number, check_positive
from ..errors import InputError
from ..units import AMU, HBAR
from ._moved import call_moved

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._checks import ArrayLike, RealArray

__all__ = [
    "ModeAnalysis",
    "RunawayThreshold",
    "analyze_modes",
    "runaway_threshold",
    "coefficients_from_junction",
    "check_masses",
    "check_matrix",
]

GROWTH_RTOL = 1e-9
"""A mode counts as growing when Re(lambda) > GROWTH_RTOL * |lambda|."""

STATIC_RTOL = 1e-9
"""An unstable eigenvalue with |Im lambda| <= STATIC_RTOL*|lambda| is static."""


@dataclass(frozen=True)
class ModeAnalysis:
    """Eigen-analysis of M X'' = -(K^b + K) X + L X'.

    Attributes
    ----------
    eigenvalues : ndarray, shape (2M,)
        lambda in 1/fs (X ~ exp(lambda t)), sorted by decreasing Re lambda.
    eigenvectors : ndarray, shape (M, 2M)
        Displacement patterns x (columns), normalised to unit mass-weighted
        norm ``sum_a M_a |x_a|^2 = 1`` (masses in amu).
    growth_rates : ndarray
        Re lambda in 1/fs (amplitude growth; energy grows at twice this).
    frequencies : ndarray
        hbar * Im lambda in eV.
    nonconservative_power, friction_power : ndarray
        Cycle-averaged power (eV/fs, for the normalised x) fed into the mode
        by the non-conservative force, -<V.K^asym X> = -(w/2) Im(x^H K^asym x),
        and by the symmetric velocity force, <V.L^sym V> = (w^2/2) x^H L^sym x.
        The Berry force L^asym does no work.
    characters : tuple of str
        "stable", "static softening" (real positive lambda),
        "waterwheel" (growth driven by the non-conservative force) or
        "negative friction" (growth driven by L^sym).
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    nonconservative_power: np.ndarray
    friction_power: np.ndarray
    characters: tuple = field(default=())

    @property
    def growth_rates(self) -> RealArray:
        return self.eigenvalues.real

    @property
    def frequencies(self) -> RealArray:
        return HBAR * self.eigenvalues.imag

    @property
    def unstable(self) -> NDArray[Any]:
        lam = self.eigenvalues
        return lam.real > GROWTH_RTOL * np.abs(lam)

    @property
    def max_growth_rate(self) -> float:
        """Largest Re lambda in 1/fs."""
        return float(self.eigenvalues.real[0])

    @property
    def is_stable(self) -> bool:
        return not bool(np.any(self.unstable))

    @property
    def leading_character(self) -> str:
        """Character of the fastest-growing mode ("stable" if none grows)."""
        return self.characters[0]


def _assemble(masses, bare_force_constants, K, L):
    m = check_masses(masses)
    n = m.size
    kb = check_matrix("bare_force_constants", bare_force_constants, n, "eV/Angstrom^2")
    k = check_matrix("K", K, n, "eV/Angstrom^2")
    lm = check_matrix("L", L, n, "eV*fs/Angstrom^2")
    return m * AMU, kb + k, lm


def analyze_modes(
    masses: ArrayLike, bare_force_constants: ArrayLike, K: ArrayLike | None = None, L: ArrayLike | None = None
) -> ModeAnalysis:
    """Solve the quadratic eigenproblem (M lambda^2 - L lambda + K^b + K) x = 0.

    Parameters
    ----------
    masses : array_like, shape (M,)
        Masses in amu (> 0).
    bare_force_constants : array_like, shape (M, M)
        Bare (non-electronic) spring matrix K^b in eV/Angstrom^2.
    K : array_like, shape (M, M), optional
        Current-induced force constants in eV/Angstrom^2 (F = -K X).
    L : array_like, shape (M, M), optional
        Velocity coefficients in eV*fs/Angstrom^2 (F = L V); friction is
        -L^sym, the Berry force L^asym.

    Returns
    -------
    ModeAnalysis
    """
    mi, ktot, lm = _assemble(masses, bare_force_constants, K, L)
    n = mi.size
    a = np.zeros((2 * n, 2 * n))
    a[:n, n:] = np.eye(n)
    a[n:, :n] = -ktot / mi[:, None]
    a[n:, n:] = lm / mi[:, None]
    lam, vec = np.linalg.eig(a)
    order = np.lexsort((-lam.imag, -lam.real))
    lam, x = lam[order], vec[:n, order]
    norm = np.sqrt(np.einsum("a,ak->k", mi / AMU, np.abs(x) ** 2))
    x = x / np.where(norm > 0, norm, 1.0)
    kasym = 0.5 * (ktot - ktot.T)
    lsym = 0.5 * (lm + lm.T)
    w = lam.imag
    p_nc = -(w / 2.0) * np.imag(np.einsum("ak,ab,bk->k", x.conj(), kasym, x))
    p_fr = (w**2 / 2.0) * np.real(np.einsum("ak,ab,bk->k", x.conj(), lsym, x))
    chars = []
    for j in range(lam.size):
        if not lam[j].real > GROWTH_RTOL * abs(lam[j]):
            chars.append("stable")
        elif abs(lam[j].imag) <= STATIC_RTOL * abs(lam[j]):
            chars.append("static softening")
        elif p_fr[j] > 0 and p_fr[j] >= p_nc[j]:
            chars.append("negative friction")
        else:
            chars.append("waterwheel")
    return ModeAnalysis(lam, x, p_nc, p_fr, tuple(chars))


@dataclass(frozen=True)
class RunawayThreshold:
    """Result of :func:`runaway_threshold`.

    Attributes
    ----------
    bias : float or None
        Smallest bias (V, measured from ``bias_min`` towards ``bias_max``) at
        which a mode grows, to within ``tolerance``; ``None`` if every scanned
        bias is stable.
    bracket : tuple of float
        (last stable bias, first unstable bias) after bisection.
    modes : ModeAnalysis or None
        Analysis at the unstable end of the bracket.
    character : str
        Character of the mode that goes unstable ("waterwheel",
        "negative friction", "static softening") or "stable".
    scan : tuple of ndarray
        (biases, largest Re lambda in 1/fs) of the initial scan.
    """

    bias: float | None
    bracket: tuple
    modes: ModeAnalysis | None
    character: str
    scan: tuple

    @property
    def found(self) -> bool:
        return self.bias is not None


def runaway_threshold(
    coefficients: Callable,
    masses: ArrayLike,
    bare_force_constants: ArrayLike,
    bias_max: float,
    *,
    bias_min: float = 0.0,
    n_scan: int = 21,
    tolerance: float = 1e-4,
    max_iter: int = 200,
) -> RunawayThreshold:
    """Smallest bias at which any mode of the current-driven dynamics grows.

    Scans ``n_scan`` biases from ``bias_min`` to ``bias_max`` for the first
    one at which the largest Re lambda of :func:`analyze_modes` is positive
    (bracketing), then bisects on that sign until the bracket is narrower
    than ``tolerance``.  Only the first crossing in the scan is resolved, so
    ``n_scan`` must be fine enough not to step over a stability window.

    Parameters
    ----------
    coefficients : callable
        ``coefficients(bias) -> (K, L)``: current-induced K (eV/Angstrom^2)
        and L (eV*fs/Angstrom^2) at ``bias`` in V.  Build one from a junction
        with :func:`currentforces.coupling.coefficients_from_junction`.
    masses : array_like, shape (M,)
        Masses in amu.
    bare_force_constants : array_like, shape (M, M)
        Bare spring matrix in eV/Angstrom^2 (add only the window part of K if
        this is a zero-bias Born-Oppenheimer matrix, :ref:`theory-kernel-split`).
    bias_max, bias_min : float
        Scan range in V (``bias_max`` may be negative).
    n_scan : int
        Number of scan points (>= 2).
    tolerance : float
        Width of the final bracket in V.

    Returns
    -------
    RunawayThreshold
    """
    if int(n_scan) != n_scan or n_scan < 2:
        raise InputError(f"n_scan must be an integer >= 2, got {n_scan!r}")
    bias_min = check_number("bias_min", bias_min, "V")
    bias_max = check_number("bias_max", bias_max, "V")
    if bias_max == bias_min:
        raise InputError(f"bias_min and bias_max must be different, got {bias_min} V for both")
    tolerance = check_positive("tolerance", tolerance, "V")

    def analyse(v):
        k, l = coefficients(float(v))
        return analyze_modes(masses, bare_force_constants, k, l)

    biases = np.linspace(float(bias_min), float(bias_max), int(n_scan))
    growth = np.empty(biases.size)
    first = None
    for i, v in enumerate(biases):
        res = analyse(v)
        growth[i] = res.max_growth_rate
        if not res.is_stable:
            first = i
            break
    growth = growth[: (first + 1) if first is not None else None]
    scan = (biases[: growth.size], growth)
    if first is None:
        return RunawayThreshold(None, (float(biases[-1]), None), None, "stable", scan)
    if first == 0:
        return RunawayThreshold(float(biases[0]), (None, float(biases[0])), res, res.leading_character, scan)
    lo, hi, hi_res = biases[first - 1], biases[first], res
    for _ in range(max_iter):
        if abs(hi - lo) <= tolerance:
            break
        mid = 0.5 * (lo + hi)
        r = analyse(mid)
        if r.is_stable:
            lo = mid
        else:
            hi, hi_res = mid, r
    return RunawayThreshold(float(0.5 * (lo + hi)), (float(lo), float(hi)), hi_res, hi_res.leading_character, scan)


def coefficients_from_junction(*args: Any, **kwargs: Any) -> Any:
    """Deprecated: use :func:`currentforces.coupling.coefficients_from_junction`.

    Same arguments and result; warns with :class:`DeprecationWarning`.
    """
    return call_moved("currentforces.dynamics.coefficients_from_junction", "coefficients_from_junction", args, kwargs)
