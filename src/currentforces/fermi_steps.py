r"""Fermi steps at low temperature: the step at T = 0 plus a thermal correction.

A window integral :math:`\int dE\, n_F((E - c)/k_BT)\, Y(E)` whose factor Y
varies only on scales much larger than k_B T near the step c (no band edge,
resonance or bound state within :data:`STEP_CLEARANCE` k_B T of c) is split as

.. math::

    \int dE\, n_F\, Y = \int_{-\infty}^{c} Y(E)\,dE
      + k_BT \int_0^\infty \frac{dt}{e^t + 1}\,\big[Y(c + k_BT t) - Y(c - k_BT t)\big],

exactly (:eq:`eq-fermi-step-split`; :math:`n_F(x) - \theta(-x)` is odd in
x and equals :math:`n_F(|x|)\,\mathrm{sign}\,x`).  The first term is the T = 0 integral,
with a breakpoint at c, which the adaptive rule of
:func:`~currentforces.integrate.integrate_adaptive` does at the cost of
T = 0; the second, the thermal correction, is an odd function against the
Fermi weight, done by the Gauss rule :func:`~currentforces.integrate.fermi_weight_rule`
with a handful of points (:func:`step_correction`).  The Fermi-surface
integrals :math:`\int dE\,(-\partial n_F/\partial E)\,Z(E)` are done by the
Gauss rule of the Fermi-derivative weight,
:func:`~currentforces.integrate.fermi_derivative_rule`
(:func:`derivative_integral`).  Bisection of the thermal window would
instead discover the Fermi tails panel by panel, one level of bisection per
halving of k_B T: a cost that grows as T falls.

Both rules converge at a rate set by the distance rho (in units of k_B T) of
the nearest singularity of Y from c: for a square-root branch point
(band edge) at rho = 40 the 6-point Fermi-weight rule is exact to ~5e-15
and the 4-point one to ~4e-13 of the correction, the 8- and 6-point
Fermi-derivative rules to ~2e-14 and ~2e-12 of the integral; the difference
of the two sizes is the error estimate.  :func:`smooth_steps` says where
they apply.

All energies are in eV.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import InputError
from .integrate import THERMAL_CUTOFF, Integral, fermi_derivative_rule, fermi_weight_rule

__all__ = ["STEP_CLEARANCE", "smooth_steps", "step_correction", "derivative_integral", "drop_step_grading"]

STEP_CLEARANCE = THERMAL_CUTOFF
"""Smallest distance, in units of k_B T, between a Fermi step and the nearest
singularity of its factor for :func:`step_correction` and
:func:`derivative_integral` to apply (40: the larger rule's nodes reach
28 k_B T; see the module docstring for the accuracy there)."""

STEP_RULES = (4, 6)
"""Sizes of the Fermi-weight rules of :func:`step_correction`: the larger
gives the value, their difference the error estimate."""

DERIVATIVE_RULES = (6, 8)
"""Sizes of the Fermi-derivative rules of :func:`derivative_integral`."""

_EPS = float(np.finfo(float).eps)
_ROUND = 4.0


def smooth_steps(steps: ArrayLike, kt: float, singularities: ArrayLike, clearance: float = STEP_CLEARANCE) -> NDArray:
    """Which Fermi steps are at least ``clearance`` k_B T from every singularity.

    Parameters
    ----------
    steps : array_like
        Step energies c (eV, real).
    kt : float
        k_B T in eV; at k_B T = 0 no step qualifies (a step at T = 0 needs
        no correction).
    singularities : array_like
        Points (eV, complex allowed: poles eps - i w of G) where the factors
        of the steps are not analytic: band edges, resonance poles, bound
        states, and their copies shifted by -+ hbar omega where G(E +- hbar
        omega) enters.
    clearance : float
        Smallest distance in units of k_B T.

    Returns
    -------
    ndarray of bool
        One flag per step.
    """
    c = np.asarray(steps, dtype=float).reshape(-1)
    s = np.asarray(singularities, dtype=complex).reshape(-1)
    if not kt > 0:
        return np.zeros(c.size, dtype=bool)
    s = s[np.isfinite(s)]
    if s.size == 0:
        return np.ones(c.size, dtype=bool)
    dist = np.abs(c[:, None] - s[None, :]).min(axis=1)
    return np.asarray(dist >= clearance * kt)


def _group_errors(err: NDArray, groups: Sequence[int] | None) -> NDArray:
    """Largest error of each consecutive block of components."""
    if groups is None:
        return np.array([float(err.max()) if err.size else 0.0])
    bounds = np.cumsum([0, *[int(g) for g in groups]])
    if bounds[-1] != err.size:
        raise InputError(f"groups {list(groups)!r} do not add up to the {err.size} components")
    return np.array([float(err[a:b].max()) if b > a else 0.0 for a, b in zip(bounds[:-1], bounds[1:])])


def _two_rules(
    func: Callable[[NDArray], ArrayLike],
    energies: Sequence[NDArray],
    weights: Sequence[NDArray],
    groups: Sequence[int] | None,
) -> Integral:
    """sum_k w_k func(E_k) for two rules, evaluated in one call: the value of
    the second, the difference of the two plus a rounding floor as the error."""
    sizes = [e.size for e in energies]
    vals = np.asarray(func(np.concatenate(energies)))
    vals = vals.reshape(vals.shape[0], -1)
    small, large = vals[: sizes[0]], vals[sizes[0] :]
    value = weights[1] @ large
    err = np.abs(value - weights[0] @ small) + _ROUND * _EPS * (np.abs(weights[1]) @ np.abs(large))
    errors = _group_errors(err, groups)
    return Integral(value, float(errors.max()), vals.shape[0], errors)


def step_correction(
    func: Callable[[NDArray], ArrayLike], step: float, kt: float, groups: Sequence[int] | None = None
) -> Integral:
    r"""Thermal correction of a Fermi step: :math:`\int dE\,[n_F((E-c)/k_BT) - \theta(c - E)]\,Y(E)`.

    .. math::

        = k_BT \sum_j w_j\,[Y(c + k_BT t_j) - Y(c - k_BT t_j)]

    with the m-point Fermi-weight rule (t_j, w_j) of
    :func:`~currentforces.integrate.fermi_weight_rule`, m = 6; the
    difference from m = 4 plus a rounding floor is the error estimate.
    Accurate where Y has no singularity within :data:`STEP_CLEARANCE`
    k_B T of c (:func:`smooth_steps`).

    Parameters
    ----------
    func : callable
        ``func(E)`` for a 1-d array of energies (eV) returns Y, shape
        ``(len(E), ...)`` (real; the caller splits complex values).
    step : float
        c in eV.
    kt : float
        k_B T in eV (> 0).
    groups : sequence of int, optional
        Sizes of consecutive blocks of the flattened components, each with
        its own error (as in :func:`~currentforces.integrate.integrate_adaptive`).

    Returns
    -------
    Integral
        Value (flattened components), error estimate, evaluations (20) and
        ``errors`` per group.
    """
    if not kt > 0:
        raise InputError(f"kt must be positive (eV), got {kt!r}")
    energies, weights = [], []
    for m in STEP_RULES:
        t, w = fermi_weight_rule(m)
        energies.append(np.concatenate([step + kt * t, step - kt * t]))
        weights.append(kt * np.concatenate([w, -w]))
    return _two_rules(func, energies, weights, groups)


def derivative_integral(
    func: Callable[[NDArray], ArrayLike], mu: float, kt: float, groups: Sequence[int] | None = None
) -> Integral:
    r"""Fermi-surface integral :math:`\int dE\,(-\partial n_F/\partial E)\,Z(E) = \sum_k w_k Z(\mu + k_BT x_k)`.

    With the n-point Gauss rule (x_k, w_k) of the Fermi-derivative weight
    (:func:`~currentforces.integrate.fermi_derivative_rule`), n = 8; the
    difference from n = 6 plus a rounding floor is the error estimate.
    Accurate where Z has no singularity within :data:`STEP_CLEARANCE`
    k_B T of mu (:func:`smooth_steps`).

    Parameters
    ----------
    func : callable
        ``func(E)`` returns Z, shape ``(len(E), ...)`` (real).
    mu : float
        Chemical potential (eV).
    kt : float
        k_B T in eV (> 0).
    groups : sequence of int, optional
        As in :func:`step_correction`.

    Returns
    -------
    Integral
        Value, error estimate, evaluations (14) and ``errors`` per group.
    """
    if not kt > 0:
        raise InputError(f"kt must be positive (eV), got {kt!r}")
    energies, weights = [], []
    for n in DERIVATIVE_RULES:
        x, w = fermi_derivative_rule(n)
        energies.append(mu + kt * x)
        weights.append(w)
    return _two_rules(func, energies, weights, groups)


def drop_step_grading(
    pts: ArrayLike, ruled: ArrayLike, kt: float, thermal: Sequence[float], ends: Sequence[float]
) -> NDArray:
    """Breakpoints for a window whose steps ``ruled`` are taken at T = 0.

    From the breakpoints ``pts`` of the thermal window (graded a few k_B T
    around every step, :meth:`~currentforces.Junction.window_breakpoints`):
    the window becomes [min(ends), max(ends)], the ruled steps become
    breakpoints (their T = 0 jumps), and the points within 13 k_B T of a
    ruled step (its k_B T grading, at 4 and 12 k_B T) are dropped unless a
    step in ``thermal`` (which keeps its Fermi function) is as close.

    Parameters
    ----------
    pts : array_like
        Sorted breakpoints (eV).
    ruled : array_like
        The steps taken at T = 0 (eV).
    kt : float
        k_B T (eV).
    thermal : sequence of float
        The steps that keep their Fermi functions (eV).
    ends : sequence of float
        Energies (eV) whose span is the new window.

    Returns
    -------
    ndarray
        Sorted breakpoints.
    """
    p = np.asarray(pts, dtype=float)
    r = np.asarray(ruled, dtype=float).reshape(-1)
    lo, hi = min(ends), max(ends)
    keep = (p > lo) & (p < hi)
    for c in r:
        d = np.abs(p - c)
        near = (d > 0) & (d < 13 * kt)
        if len(thermal):
            near &= np.abs(p[:, None] - np.asarray(thermal, dtype=float)[None, :]).min(axis=1) > 13 * kt
        keep &= ~near
    return np.unique(np.concatenate([[lo, hi], r, p[keep]]))
