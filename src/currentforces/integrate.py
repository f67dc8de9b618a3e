"""Occupation functions and energy quadrature with error estimates.

Two kinds of energy integral appear in every observable of a junction:

* **window integrals** over the real axis, whose integrand is non-zero only
  where the lead occupations differ (the bias window, widened by the thermal
  tails), or which carry a Fermi-surface factor.  They are done by a
  vectorised adaptive Gauss-Kronrod (7-15) rule, :func:`integrate_adaptive`,
  which refines the worst panels (first by the 31-point Kronrod-Patterson
  extension, reusing their values, then by halving) until a stated
  tolerance is met;
* **Fermi-sea integrals** of functions analytic in the upper half plane (the
  equilibrium density matrix and force constants).  They are done by
  :func:`fermi_sea_sum`: a few exact Matsubara poles, a fixed Gauss rule for
  the thermal correction and a nested trapezoidal rule on the imaginary axis
  above them, a pole expansion whose size does not grow as T falls.
  :func:`matsubara_sum` is the direct Matsubara sum (a reference route, far
  more poles at low temperature).

An integral that cannot meet its tolerance raises
:class:`~currentforces.errors.IntegrationError` (or warns with the achieved
error when ``on_fail="warn"``): never a silent wrong number.

All energies are in eV and temperatures in K.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, overload

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.special import expit

from ._checks import check_temperature
from .errors import BandEdgeWarning, InputError, IntegrationError, IntegrationWarning
from .units import KB

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from ._checks import ComplexArray, RealArray

    Integrand = Callable[[RealArray], ArrayLike]
    """An integrand of :func:`integrate_adaptive`: a batch of real energies to values."""
    SeaIntegrand = Callable[[ComplexArray], ArrayLike]
    """An integrand of the Fermi-sea sums: a batch of complex energies to values."""

__all__ = [
    "fermi",
    "fermi_derivative",
    "fermi_derivative_rule",
    "bose",
    "window_bounds",
    "Integral",
    "integrate_adaptive",
    "graded_breakpoints",
    "matsubara_sum",
    "fermi_sea_sum",
    "fermi_weight_rule",
    "THERMAL_CUTOFF",
    "thermal_cutoff",
    "FERMI_SEA_POLES",
]

_EPS = float(np.finfo(float).eps)
_ROUND = 4.0
"""Rounding floor of a panel's error, in units of eps times its integral of |f|."""

EDGE_SHRINK = 0.75
EDGE_HALVINGS = 8
""":func:`integrate_adaptive` gives up at a band edge when the integral over
the panel [0, h] next to it (in u, E = E_edge -+ u^2) has stayed above
EDGE_SHRINK times its value on [0, 2h] for EDGE_HALVINGS halvings in a row:
an integrable edge (half-integer powers (E_edge - E)^{k/2}, k >= -1, a
polynomial in u) gives a ratio of 1/2 or less, 1/``|E - E_edge|`` (2/u) a
ratio of 1, 1/``|E - E_edge|``^{3/2} a ratio of 2."""

THERMAL_CUTOFF = 40.0
"""Half-width, in units of k_B T, beyond which a Fermi-window integrand is
dropped: the occupation differences there are below e^-40 = 4e-18."""

TAIL_MARGIN = 12.0
"""Safety margin, in units of k_B T, of :func:`thermal_cutoff` beyond ln(1/rtol)."""


def thermal_cutoff(rtol: float) -> float:
    r"""Half-width c (units of k_B T) of a Fermi-window integral at relative
    tolerance ``rtol``: :math:`c = \min(\ln(1/\mathrm{rtol}) + 12,\ 40)`.

    Beyond c k_B T from every chemical potential the occupation factors
    (n_l - n_m, -dn/dE, n(E) - n(E + hbar w)) are below
    :math:`e^{-c} = \mathrm{rtol}\, e^{-12}`, so the dropped tails of
    :math:`\int dE\, (n_l - n_m)\, X(E)` are below
    :math:`\mathrm{rtol}\, e^{-12} k_B T \max|X| \approx 6\times 10^{-6}\,
    \mathrm{rtol}\, k_B T \max|X|`: far below rtol times the integral
    unless X is more than ~10^5 times larger somewhere in the tails than it
    is on average over the window.  At rtol = 1e-6 the window is 25.8 k_B T
    on each side instead of 40, so fewer resonances are graded in it.

    Parameters
    ----------
    rtol : float
        Relative tolerance, 0 < rtol < 1.

    Returns
    -------
    float
        c, between 12 and :data:`THERMAL_CUTOFF` = 40.
    """
    rtol = float(rtol)
    if not 0.0 < rtol < 1.0:
        raise InputError(f"rtol must lie in (0, 1), got {rtol!r}")
    return min(THERMAL_CUTOFF, math.log(1.0 / rtol) + TAIL_MARGIN)


# ----------------------------------------------------------------------------
# occupation functions
# ----------------------------------------------------------------------------
def fermi(energy: ArrayLike, mu: float = 0.0, temperature: float = 0.0) -> RealArray:
    """Fermi-Dirac occupation n_F(E - mu) = 1 / (exp((E - mu)/k_B T) + 1).

    Parameters
    ----------
    energy : array_like
        Energy E in eV (real).
    mu : float
        Chemical potential in eV.
    temperature : float
        Temperature in K; 0 gives the step function with n = 1/2 at E = mu.

    Notes
    -----
    Evaluated as ``expit(-(E - mu)/k_B T)``, which never overflows.
    """
    temperature = check_temperature(temperature)
    x = np.asarray(energy, dtype=float) - mu
    if temperature == 0.0:
        return np.where(x < 0, 1.0, np.where(x > 0, 0.0, 0.5))
    return expit(-x / (KB * temperature))


def fermi_derivative(energy: ArrayLike, mu: float = 0.0, temperature: float = 0.0) -> RealArray:
    """Minus the energy derivative of the Fermi function, -dn_F/dE, in 1/eV.

    Equals n(1 - n)/k_B T; a positive peak of unit area at E = mu.  At T = 0
    it is a delta function, which callers must treat analytically.
    """
    temperature = check_temperature(temperature)
    if temperature == 0.0:
        raise InputError("temperature: -dn/dE at T = 0 is a delta function; treat it analytically")
    kt = KB * temperature
    n = expit(-(np.asarray(energy, dtype=float) - mu) / kt)
    return n * (1.0 - n) / kt


@functools.lru_cache(maxsize=16)
def _fermi_derivative_rule(n):
    k = np.arange(1, n)
    off = math.pi * k**2 / np.sqrt(4.0 * k**2 - 1.0)
    x, vec = eigh_tridiagonal(np.zeros(n), off)
    w = vec[0] ** 2
    return x, w / w.sum()


def fermi_derivative_rule(n: int) -> tuple[RealArray, RealArray]:
    r"""Gauss rule of ``n`` points for the Fermi-derivative weight.

    Nodes x_k and weights w_k with

    .. math::

        \int_{-\infty}^{\infty} \Big(-\frac{dn_F}{dx}\Big) g(x)\,dx
          = \sum_k w_k\, g(x_k), \qquad -\frac{dn_F}{dx} = \frac{1}{4\cosh^2(x/2)},

    exact for polynomials g of degree 2n - 1; x = (E - mu)/k_B T, so
    int (-dn_F/dE) g(E) dE = sum_k w_k g(mu + k_B T x_k).

    The weight is the logistic density, whose monic orthogonal polynomials
    obey p_{k+1} = x p_k - beta_k p_{k-1} with
    beta_k = pi^2 k^4 / (4 k^2 - 1) (beta_1 = pi^2/3 is the variance of the
    logistic density, beta_1 (beta_1 + beta_2) = 7 pi^4/15 its fourth
    moment; the formula was checked against a discretised Stieltjes
    procedure to 1e-15 for k <= 20); nodes and weights by Golub-Welsch.
    The largest node grows like pi n: the rule samples the thermal tails
    far out, so it converges fast when g varies slowly on the scale k_B T
    and slowly when g has features narrower than k_B T.

    Parameters
    ----------
    n : int
        Number of nodes, 1 <= n <= 256.

    Returns
    -------
    x, w : ndarray (n,)
        Nodes (ascending, in units of k_B T) and weights (summing to 1).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 256:
        raise InputError(f"n must be an integer number of nodes in [1, 256], got {n!r}")
    x, w = _fermi_derivative_rule(int(n))
    return x.copy(), w.copy()


def bose(energy: ArrayLike, temperature: float) -> RealArray:
    """Bose-Einstein occupation n_B(E) = 1 / (exp(E/k_B T) - 1) for E in eV.

    At T = 0 returns 0 for E > 0 and -1 for E < 0 (the limit of the
    formula).  E = 0 returns inf.
    """
    temperature = check_temperature(temperature)
    e = np.asarray(energy, dtype=float)
    with np.errstate(divide="ignore", over="ignore"):
        if temperature == 0.0:
            return np.where(e > 0, 0.0, np.where(e < 0, -1.0, np.inf))
        return 1.0 / np.expm1(e / (KB * temperature))


def window_bounds(
    chemical_potentials: ArrayLike, temperature: float, extra: ArrayLike = (), cutoff: float = THERMAL_CUTOFF
) -> tuple[float, float]:
    """Energy interval (eV) outside which occupation differences vanish.

    [min(mu) - cutoff k_B T, max(mu) + cutoff k_B T], widened to contain the
    energies in ``extra``.
    """
    mus = np.asarray(chemical_potentials, dtype=float)
    kt = KB * check_temperature(temperature)
    lo = float(np.min(mus)) - cutoff * kt
    hi = float(np.max(mus)) + cutoff * kt
    if np.size(extra):
        lo = min(lo, float(np.min(extra)))
        hi = max(hi, float(np.max(extra)))
    return lo, hi


# ----------------------------------------------------------------------------
# adaptive Gauss-Kronrod on the real axis
# ----------------------------------------------------------------------------
# Gauss-Kronrod 7-15 abscissae and weights on [-1, 1] (QUADPACK qk15 tables;
# tests/test_integrate.py checks the exactness degrees 13 and 22).
_XGK = np.array(
    [
        0.991455371120812639206854697526329,
        0.949107912342758524526189684047851,
        0.864864423359769072789712788640926,
        0.741531185599394439863864773280788,
        0.586087235467691130294144845693013,
        0.405845151377397166906606412076961,
        0.207784955007898467600689403773245,
        0.000000000000000000000000000000000,
    ]
)
_WGK = np.array(
    [
        0.022935322010529224963732008058970,
        0.063092092629978553290700663189204,
        0.104790010322250183839876322541518,
        0.140653259715525918745189590510238,
        0.169004726639267902826583426598550,
        0.190350578064785409913256402421014,
        0.204432940075298892414161999234649,
        0.209482141084727828012999174891714,
    ]
)
_WG = np.array(
    [
        0.129484966168869693270611432679082,
        0.279705391489276667901467771423780,
        0.381830050505118944950369775488975,
        0.417959183673469387755102040816327,
    ]
)
GK_NODES = np.concatenate([-_XGK[:-1], _XGK[::-1]])
"""The 15 Kronrod nodes on [-1, 1], ascending."""
GK_WEIGHTS = np.concatenate([_WGK[:-1], _WGK[::-1]])
"""Kronrod weights matching :data:`GK_NODES`."""
_G_WEIGHTS15 = np.zeros(15)
# Gauss nodes are the odd-indexed Kronrod abscissae _XGK[1], _XGK[3], _XGK[5], _XGK[7].
for _i, _w in zip((1, 3, 5), _WG[:3]):
    _G_WEIGHTS15[_i] = _w
    _G_WEIGHTS15[14 - _i] = _w
_G_WEIGHTS15[7] = _WG[3]
G_WEIGHTS = _G_WEIGHTS15
"""7-point Gauss weights embedded in the 15-point Kronrod node set (0 elsewhere)."""

# Kronrod-Patterson extension of the 15 Kronrod nodes to 31 (T. N. L. Patterson,
# Math. Comp. 22, 847 (1968)): the 16 new nodes are the zeros of the degree-16
# polynomial orthogonal on [-1, 1], with weight prod_k (x - x_k) over the 15
# Kronrod nodes, to every polynomial of lower degree; all 16 are real, inside
# (-1, 1) and interlace with the old ones, and the 31 weights (all positive)
# make the rule exact to degree 47.  Computed in 60-digit arithmetic (mpmath:
# the moments by a Golub-Welsch Gauss-Legendre rule, the weights from the
# Legendre moment equations; tools/patterson_rule.py), 34 digits kept;
# tests/test_integrate.py checks the degree.  Positive nodes and their
# weights, descending.
_XP16 = np.array(
    [
        0.9986871096784667297906606605694634,
        0.975383588208893369675287074951628,
        0.9122048827832628783505846111715383,
        0.8076889391724375090880755759120302,
        0.6673480981043001754313821166124251,
        0.4986367865528320042934292600846328,
        0.3085792479105877788995875219870717,
        0.1045282738107807134006250682795748,
    ]
)
_WP_OLD = np.array(
    [
        0.01131946844468343510748433767757437,
        0.03157770621704585727376976516573099,
        0.05238437082098269247246803776158497,
        0.07033204641040065093500042363112648,
        0.08449876530124302119512198735456388,
        0.09517802993183068012111500086667453,
        0.1022141800057027439159149389696447,
        0.1047432135648058447275919627713863,
    ]
)
_WP_NEW = np.array(
    [
        0.003634931195049883856073927323479184,
        0.02103944625872679560709261693419041,
        0.04219350058454659448484991847109724,
        0.06182198564544985643145901994598535,
        0.07787534711524599642117950412503912,
        0.09026180214655860231012135415603532,
        0.09919685766743291248984897838931044,
        0.1040999554726973550147042078422699,
    ]
)
P_NEW_NODES = np.concatenate([-_XP16, _XP16[::-1]])
"""The 16 nodes that extend :data:`GK_NODES` to the 31-point Patterson rule, ascending."""
P_OLD_WEIGHTS = np.concatenate([_WP_OLD[:-1], _WP_OLD[::-1]])
"""Weights of the 31-point rule at the 15 Kronrod nodes (order of :data:`GK_NODES`)."""
P_NEW_WEIGHTS = np.concatenate([_WP_NEW, _WP_NEW[::-1]])
"""Weights of the 31-point rule at :data:`P_NEW_NODES`."""


@dataclass
class Integral:
    """Value of an integral with its estimated absolute error.

    Attributes
    ----------
    value : ndarray
        The integral.
    error : float
        Estimated absolute error (max over components).
    evaluations : int
        Number of integrand points evaluated.
    errors : ndarray or None
        With component ``groups`` (:func:`integrate_adaptive`): the estimated
        absolute error of each group, in the group's own units.
    """

    value: np.ndarray
    error: float
    evaluations: int = 0
    errors: np.ndarray | None = None


def _fail(message, error, tol, on_fail, edge=None):
    if on_fail == "raise":
        raise IntegrationError(message, error=error, tolerance=tol, edge=edge)
    warnings.warn(IntegrationWarning(message, edge=edge), stacklevel=3)


def _group_index(groups, ncomp):
    """Component index arrays of ``groups`` (sizes of consecutive blocks, or index arrays)."""
    if groups is None:
        return [np.arange(ncomp)]
    out, start = [], 0
    for g in groups:
        if np.ndim(g) == 0:
            idx = np.arange(start, start + int(g))
            start += int(g)
        else:
            idx = np.asarray(g, dtype=int).reshape(-1)
        out.append(idx)
    covered = np.concatenate(out) if out else np.arange(0)
    if covered.size and (covered.min() < 0 or covered.max() >= ncomp):
        raise InputError(f"groups: component indices must lie in [0, {ncomp}), got {groups!r}")
    return out


def as_slice(idx: NDArray[np.intp]) -> NDArray[np.intp] | slice:
    """A run of consecutive indices as a slice (indexing with it gives a view,
    not a copy), else the array unchanged (also empty)."""
    if idx.size and np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size)):
        return slice(int(idx[0]), int(idx[0]) + idx.size)
    return idx


def _nonempty(idx):
    """Whether a group (index array or slice from :func:`as_slice`) has components."""
    return idx.stop > idx.start if isinstance(idx, slice) else idx.size > 0


def integrate_adaptive(
    func: Integrand,
    breakpoints: ArrayLike,
    rtol: float = 1e-8,
    atol: float = 1e-12,
    max_panels: int = 4000,
    chunk: int = 256,
    on_fail: str = "raise",
    what: str = "integral",
    groups: Sequence[int | ArrayLike] | None = None,
    edges: ArrayLike = (),
) -> Integral:
    r"""Adaptive vectorised Gauss-Kronrod (7-15) quadrature of an array-valued
    function over [breakpoints[0], breakpoints[-1]].

    Parameters
    ----------
    func : callable
        ``func(x)`` with ``x`` a 1-d float array of abscissae returns an array
        of shape ``(len(x), ...)``.  It is called with batches of points, so
        matrix work can be batched over energies.
    breakpoints : sequence of float
        Sorted interval end points plus interior points where the integrand
        has kinks or steps (chemical potentials at T = 0, band edges) or
        sharp peaks (the graded points of :func:`graded_breakpoints` around
        narrow resonances).
    rtol, atol : float
        Requested accuracy: the summed error estimate must be below
        ``max(atol, rtol * max|value|)``, for every group of components
        separately when ``groups`` is given.
    max_panels : int
        Refinement budget: total number of panels evaluated (a panel's
        extension from 15 to 31 nodes counts as one more); beyond it the
        integral fails.
    chunk : int
        Maximum number of abscissae per call of ``func`` (memory bound).
    on_fail : {"raise", "warn"}
        What to do when the tolerance is not met.
    what : str
        Name used in the error message.
    groups : sequence, optional
        Components (of the flattened trailing shape) that form one quantity
        with its own scale: sizes of consecutive blocks, or index arrays.
        Each group must meet ``max(atol, rtol * max|value of the group|)``,
        so a small quantity integrated together with a large one is not
        judged against the large one's scale.  Default: one group.
    edges : sequence of float, optional
        Square-root branch points of the integrand (eV): lead band edges,
        where the self-energy, and with it G, goes as ``sqrt|E - E_edge|``
        and dG/dE as ``1/sqrt|E - E_edge|``.  Those inside the interval are
        added to the breakpoints, and the panels next to them are integrated
        in the variable u of :math:`E = E_{edge} \mp u^2` (see Notes).

    Returns
    -------
    Integral
        Value, error estimate, number of evaluations and, per group, the
        error estimates (``errors``).

    Notes
    -----
    The error of a panel is ``|K15 - G7|``, the difference between the
    Kronrod and the embedded Gauss result (maximum over the components of a
    group), plus a rounding floor of a few eps times the panel's integral of
    ``|f|`` (these add in quadrature over panels).  The weights are
    recomputed for the nodes actually used where rounding moves them (panels
    a few ulps wide, :func:`_panel_weights`).  Every pass retires the panels
    with the smallest errors while those retired so far stay within half of
    every group's tolerance, and refines the others: a panel evaluated at the
    15 Kronrod nodes is first extended to the 31-point Kronrod-Patterson rule
    (T. N. L. Patterson, Math. Comp. 22, 847 (1968); degree 47, its 16 new
    nodes interlacing the old ones, :data:`P_NEW_NODES`), which reuses the 15
    values and takes ``|P31 - K15|``, the error of the lower rule, as its
    error; a panel that fails at 31 nodes is bisected.  On a smooth
    integrand that a panel does not yet resolve (an oscillating trace, a
    Fermi tail) the extension settles it for 16 energies where two halves
    cost 30 and may need halving again (cos 15x on [0, 1] to 1e-10: 31
    energies against 165).  Panels a few thousand ulps wide, and a panel
    at a band edge whose integral has failed to shrink under halving, are
    bisected at once.  Memory stays bounded by
    the unconverged panels.  A peak much narrower than a panel can fall
    between the nodes of both rules and go unseen: give breakpoints there.
    When the refinement budget or the panel width runs out before the
    tolerance is met, the panels still being refined count with their whole
    integral (``|K15|`` where it exceeds ``|K15 - G7|``): bisection has not
    shown that the difference of the two rules bounds their error, and an
    integrand whose own rounding is smooth on a panel (a trace that cancels
    large terms, next to a band edge) has K15 ~ G7 on wrong values.

    Band edges (``edges``): an integrand with a term
    :math:`g(E)/\sqrt{E_{edge} - E}` (dG/dE next to a band edge of a lead,
    or the 1D van Hove peak) converges only algebraically under bisection.
    On a panel [a, E_edge] the substitution :math:`E = E_{edge} - u^2`,
    :math:`dE = 2u\,du`, :math:`u \in [0, \sqrt{E_{edge} - a}]`, turns
    every half-integer power :math:`(E_{edge} - E)^{k/2}` with k >= -1
    into the polynomial :math:`2u^{k+1}`, so the integrand in u is smooth
    and Gauss-Kronrod converges exponentially (likewise
    :math:`E = E_{edge} + u^2` on a panel [E_edge, b]); a panel between two
    edges is split at its midpoint; an edge may also be an end of the
    interval.  This is the Gauss-Jacobi treatment of
    an end-point singularity of weight :math:`(E_{edge} - E)^{-1/2}`
    (P. J. Davis and P. Rabinowitz, *Methods of Numerical Integration*,
    2nd ed., Academic Press 1984, section 2.12.5), done by a change of
    variables so that the same adaptive rule and error estimate apply.
    Panels are then bisected in u.  Where the integral over the panel next
    to an edge does not shrink as it is halved (:data:`EDGE_HALVINGS`), the
    integrand is not integrable there, or its rounding grows towards the
    edge: the integral stops at once and says so (``on_fail``) instead of
    bisecting towards the edge until the budget is spent.
    """
    pts = np.unique(np.asarray(breakpoints, dtype=float))
    if pts.size < 2:
        raise InputError(f"{what}: need an interval with two distinct end points, got {breakpoints!r}")
    if not np.all(np.isfinite(pts)):
        raise InputError(f"{what}: integration limits must be finite, got {breakpoints!r}")
    if on_fail not in ("raise", "warn"):
        raise InputError(f"on_fail must be 'raise' or 'warn', got {on_fail!r}")
    edge = np.unique(np.asarray(edges, dtype=float).reshape(-1))
    if not np.all(np.isfinite(edge)):
        raise InputError(f"{what}: edges must be finite energies, got {edges!r}")
    edge = edge[(edge >= pts[0]) & (edge <= pts[-1])]
    lo, hi, sign, anchor = _edge_panels(pts, edge)
    # panels at a band edge: the size of the parent's integral (NaN: none) and
    # for how many halvings in a row it has not shrunk
    parent = np.full((lo.size, 1), np.nan)  # (panels, groups), NaN where there is none; sized at the first pass
    streak = np.zeros(lo.size, dtype=int)
    # level 0: a panel evaluated at the 15 Kronrod nodes; level 1: extended to
    # the 31-point Patterson rule, its 15 Kronrod values kept in held[hold[i]]
    # (and their dE/du in held_jac, at a band edge)
    level = np.zeros(lo.size, dtype=int)
    hold = np.full(lo.size, -1)
    first_size = np.full((lo.size, 1), np.nan)
    held = held_jac = None
    retired = None
    nevals = 0
    npanels = 0
    index = None
    while True:
        centers = 0.5 * (lo + hi)
        halfw = 0.5 * (hi - lo)
        fresh = level == 0
        x0 = (centers[fresh, None] + halfw[fresh, None] * GK_NODES[None, :]).ravel()
        x1 = (centers[~fresh, None] + halfw[~fresh, None] * P_NEW_NODES[None, :]).ravel()
        energy, jac0 = _edge_map(x0, sign[fresh], anchor[fresh], 15)
        energy1, jac1 = _edge_map(x1, sign[~fresh], anchor[~fresh], 16)
        energy = np.concatenate([energy, energy1])
        if edge.size:
            # nodes refined next to an edge land within round-off of it, where a
            # junction warns BandEdgeWarning; their weight dE/du = 2u vanishes
            # there, so which one-sided value the integrand takes does not matter
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", BandEdgeWarning)
                vals = _evaluate_chunked(func, energy, chunk)
        else:
            vals = _evaluate_chunked(func, energy, chunk)
        nevals += energy.size
        npanels += lo.size
        out_shape = vals.shape[1:]
        vals = vals.reshape(energy.size, -1)
        n0 = int(np.count_nonzero(fresh))
        vals0 = vals[: 15 * n0].reshape(n0, 15, vals.shape[1])
        if index is None:
            # a group of consecutive components as a slice: its columns are a view
            index = [as_slice(idx) for idx in _group_index(groups, vals.shape[1])]
            ngroups = len(index)
            retired_trunc = np.zeros(ngroups)  # summed |K15 - G7| of retired panels
            retired_round = np.zeros(ngroups)  # summed squares of their rounding errors
            scale = np.zeros(ngroups)
            parent = np.full((lo.size, ngroups), np.nan)
            first_size = np.full((lo.size, ngroups), np.nan)
        ncomp = vals.shape[1]
        kron = np.empty((lo.size, ncomp), dtype=vals.dtype)  # each panel's value
        diff = np.empty((lo.size, ncomp))  # and the difference of its two rules
        absum = np.empty((lo.size, ncomp))
        # sums over the nodes in the same order for every component (einsum,
        # not a BLAS product, whose blocking may differ between columns):
        # components equal by construction stay exactly equal; dE/du of the
        # panels at a band edge goes into the weights (the values are not copied)
        if n0:
            wk, wg = _panel_weights(x0.reshape(n0, 15), lo[fresh], hi[fresh])
            wa = np.broadcast_to(GK_WEIGHTS, wk.shape)
            if jac0 is not None:
                wk, wg, wa = wk * jac0, wg * jac0, wa * jac0
            k15 = np.einsum("pkr,pk->pr", vals0, wk) * halfw[fresh, None]
            kron[fresh] = k15
            diff[fresh] = np.abs(k15 - np.einsum("pkr,pk->pr", vals0, wg) * halfw[fresh, None])
            # What is left of rounding: the integrand's own noise near a narrow
            # peak shows in |K15 - G7| (both rules weight it differently); a floor
            # of a few eps per panel keeps the estimate honest for exact values.
            absum[fresh] = np.einsum("pkr,pk->pr", np.abs(vals0), wa) * halfw[fresh, None]
        if n0 < lo.size:
            # the 31-point rule on the 15 kept and 16 new values; its error is
            # estimated by |P31 - K15|, the error of the lower rule
            assert held is not None
            old, new = held[hold[~fresh]], vals[15 * n0 :].reshape(lo.size - n0, 16, vals.shape[1])
            j_old, j_new = (None if held_jac is None else held_jac[hold[~fresh]]), jac1
            w_old = np.broadcast_to(P_OLD_WEIGHTS, (lo.size - n0, 15))
            w_new = np.broadcast_to(P_NEW_WEIGHTS, (lo.size - n0, 16))
            w_k15 = np.broadcast_to(GK_WEIGHTS, (lo.size - n0, 15))
            if j_old is not None:
                w_old, w_k15 = w_old * j_old, w_k15 * j_old
            if j_new is not None:
                w_new = w_new * j_new
            h = halfw[~fresh, None]
            p31 = (np.einsum("pkr,pk->pr", old, w_old) + np.einsum("pkr,pk->pr", new, w_new)) * h
            kron[~fresh] = p31
            diff[~fresh] = np.abs(p31 - np.einsum("pkr,pk->pr", old, w_k15) * h)
            absum[~fresh] = (
                np.einsum("pkr,pk->pr", np.abs(old), w_old) + np.einsum("pkr,pk->pr", np.abs(new), w_new)
            ) * h
        rnd = (_ROUND * _EPS) * absum

        def by_group(a, index=index):
            # (panels, groups): the largest of each group's components
            return np.stack([a[:, idx].max(axis=1) if _nonempty(idx) else np.zeros(len(a)) for idx in index], axis=1)

        # (panels, groups): errors of each panel for each quantity
        trunc, rerr = by_group(diff), by_group(rnd)
        current = kron.sum(axis=0) + (retired if retired is not None else 0.0)
        if not np.all(np.isfinite(current)):
            # an integrand that overflows (or is NaN) somewhere: a tolerance
            # relative to an infinite value would pass anything
            _fail(
                f"{what}: the integral is not finite after {npanels} panels (the integrand is infinite or NaN "
                "at some energies, or overflows)",
                math.inf,
                math.nan,
                on_fail,
            )
            return Integral(current.reshape(out_shape), math.inf, nevals, np.full(ngroups, math.inf))
        absval = np.abs(current)
        scale = np.maximum(scale, [absval[idx].max() if _nonempty(idx) else 0.0 for idx in index])
        tol = np.maximum(atol, rtol * scale)

        def total(mask, retired_trunc=retired_trunc, retired_round=retired_round, trunc=trunc, rerr=rerr):
            # this iteration's panel errors, bound explicitly
            return retired_trunc + trunc[mask].sum(axis=0) + np.sqrt(retired_round + (rerr[mask] ** 2).sum(axis=0))

        everything = np.ones(lo.size, dtype=bool)
        total_err = total(everything)
        # the integral over a panel at a band edge against its parent's before
        # the halving, group by group (raw sizes: a tolerance that moves with
        # the running total between the two would fake a change), among the
        # groups where it exceeds the tolerance; judged once per panel, when
        # it is first evaluated, with the 15-point rule on both sides
        size = by_group(np.abs(kron))
        at_edge = (sign != 0) & (lo == 0)
        with np.errstate(invalid="ignore"):
            grown = np.any((size > EDGE_SHRINK * parent) & (size > tol), axis=1)
        streak = np.where(fresh, np.where(at_edge & grown, streak + 1, 0), streak)
        first_size = np.where(fresh[:, None], size, first_size)
        diverging = bool(np.any(streak >= EDGE_HALVINGS))
        if np.all(total_err <= tol):
            return Integral(current.reshape(out_shape), float(total_err.max()), nevals, total_err)
        # Retire the panels with the smallest truncation errors while these,
        # with those retired before, stay within half of every group's
        # tolerance: a global criterion (a graded mesh has tiny panels that
        # carry most of the integral; a share proportional to the length
        # would refine them for nothing).  Panels whose error is rounding, not
        # truncation, are retired as well: refinement cannot help them.
        done = np.ones(lo.size, dtype=bool)
        for gi in range(ngroups):
            order = np.argsort(trunc[:, gi])
            room = 0.5 * tol[gi] - retired_trunc[gi]
            ok = np.zeros(lo.size, dtype=bool)
            ok[order] = np.cumsum(trunc[order, gi]) <= room
            done &= ok | (trunc[:, gi] <= rerr[:, gi])
        if np.any(done):
            part = kron[done].sum(axis=0)
            retired = part if retired is None else retired + part
            retired_trunc = retired_trunc + trunc[done].sum(axis=0)
            retired_round = retired_round + (rerr[done] ** 2).sum(axis=0)
        todo = ~done
        # a panel that failed at 15 nodes is extended to 31 (16 new nodes, its
        # 15 values reused) before it is halved: on a smooth integrand (an
        # oscillating trace, a Fermi tail) the rule of degree 47 usually
        # settles it for half the energies of two halves.  Not a panel only
        # a few thousand ulps wide (its nodes are rounded, the tabulated
        # weights do not apply) or one at a band edge that has already failed
        # to shrink (the halvings find a divergence there)
        ulp = _EPS * np.maximum(np.abs(lo), np.abs(hi))
        extend = todo & fresh & (ulp <= 1e-12 * halfw) & ~(at_edge & (streak > 0))
        halve = todo & ~extend
        if (
            not np.any(todo)
            or npanels + np.count_nonzero(extend) + 2 * np.count_nonzero(halve) > max_panels
            or np.all(halfw[todo] < 1e-15 * max(1.0, abs(centers[todo]).max()))
            or diverging
        ):
            if np.all(total_err <= tol):
                return Integral(current.reshape(out_shape), float(total_err.max()), nevals, total_err)
            if np.any(todo):
                # Refinement has not shown that the difference of the two rules
                # bounds the error of the panels still being refined: an
                # integrand whose own rounding is smooth on a panel (a trace
                # that cancels terms ~ 1/u^4 next to a band edge) gives K15 ~ G7
                # on wrong values.  Their whole integral counts as error: an
                # honest estimate, not a quiet wrong number.
                total_err = total_err + np.maximum(size[todo] - trunc[todo], 0.0).sum(axis=0)
            worst = int(np.argmax(total_err / tol))
            label = "" if ngroups == 1 else f" (component group {worst})"
            at = None
            if diverging:
                at = float(anchor[int(np.argmax(streak))])
                label += (
                    f"; its integral over the panel next to the band edge at {at!r} eV did not shrink in "
                    f"{EDGE_HALVINGS} halvings: a singularity stronger than 1/sqrt|E - E_edge| there (a "
                    "non-integrable integrand), or rounding that grows towards the edge"
                )
            _fail(
                f"{what}: adaptive quadrature stopped after {npanels} panels with estimated error "
                f"{total_err[worst]:.3g} above tolerance {tol[worst]:.3g}{label}",
                float(total_err[worst]),
                float(tol[worst]),
                on_fail,
                edge=at,
            )
            return Integral(current.reshape(out_shape), float(total_err.max()), nevals, total_err)
        # the extended panels keep their place and record; the halved ones
        # make two fresh panels each
        in_fresh = np.cumsum(fresh) - 1  # row of a fresh panel in vals0
        held = vals0[in_fresh[extend]]
        held_jac = None if jac0 is None else jac0[in_fresh[extend]]  # dE/du at their 15 nodes
        mid = centers[halve]
        lo = np.concatenate([lo[extend], lo[halve], mid])
        hi = np.concatenate([hi[extend], mid, hi[halve]])
        sign = np.concatenate([sign[extend], np.tile(sign[halve], 2)])
        anchor = np.concatenate([anchor[extend], np.tile(anchor[halve], 2)])
        # the first halves keep lo: the one at a band edge inherits the record
        none = np.full((mid.size, ngroups), np.nan)
        parent = np.concatenate([parent[extend], np.where(at_edge[halve, None], first_size[halve], np.nan), none])
        first_size = np.concatenate([first_size[extend], none, none])
        streak = np.concatenate([streak[extend], streak[halve], np.zeros(mid.size, dtype=int)])
        n_ext = int(np.count_nonzero(extend))
        level = np.concatenate([np.ones(n_ext, dtype=int), np.zeros(2 * mid.size, dtype=int)])
        hold = np.concatenate([np.arange(n_ext), np.full(2 * mid.size, -1)])
        # in the order of the panels' positions on the energy axis
        order = np.argsort(np.where(sign == 0, lo, anchor + sign * lo * lo), kind="stable")
        lo, hi, sign, anchor = lo[order], hi[order], sign[order], anchor[order]
        parent, streak, level, hold = parent[order], streak[order], level[order], hold[order]
        first_size = first_size[order]


def _edge_panels(pts, edges):
    """Initial panels of :func:`integrate_adaptive`: (lo, hi, sign, anchor).

    A panel with sign 0 is [lo, hi] in E (anchor 0).  A panel that ends at
    a band edge E_e (one of ``edges``, all inside [pts[0], pts[-1]]) is
    [0, sqrt(L)] in u, with E = E_e + sign u^2 (sign -1 below the edge, +1
    above; anchor E_e); one between two edges is split at its midpoint.
    """
    pts = np.unique(np.concatenate([pts, edges]))
    if edges.size == 0:
        return pts[:-1], pts[1:], np.zeros(pts.size - 1), np.zeros(pts.size - 1)
    lo, hi, sign, anchor = [], [], [], []
    for a, b in zip(pts[:-1], pts[1:]):
        at_a, at_b = bool(np.any(edges == a)), bool(np.any(edges == b))
        if at_a and at_b:
            m = 0.5 * (a + b)
            lo += [0.0, 0.0]
            hi += [math.sqrt(m - a), math.sqrt(b - m)]
            sign += [1.0, -1.0]
            anchor += [a, b]
        elif at_a or at_b:
            lo.append(0.0)
            hi.append(math.sqrt(b - a))
            sign.append(1.0 if at_a else -1.0)
            anchor.append(a if at_a else b)
        else:
            lo.append(a)
            hi.append(b)
            sign.append(0.0)
            anchor.append(0.0)
    return np.array(lo), np.array(hi), np.array(sign), np.array(anchor)


def _edge_map(x, sign, anchor, nodes=15):
    """Energies and Jacobians dE/du (shape (panels, nodes)) of the nodes ``x``
    ((panels * nodes,)) of panels with the given signs and anchors
    (:func:`_edge_panels`); the Jacobian is None where no panel is mapped."""
    if not np.any(sign):
        return x, None
    s = np.repeat(sign, nodes)
    a = np.repeat(anchor, nodes)
    mapped = s != 0
    energy = np.where(mapped, a + s * x * x, x)
    jac = np.where(mapped, 2.0 * x, 1.0).reshape(-1, nodes)
    return energy, jac


def _legendre_matrix(u, n):
    """P_j(u_k) for j < n: shape (..., n, len(u)) (Bonnet's recursion)."""
    p = [np.ones_like(u), u]
    for j in range(1, n - 1):
        p.append(((2 * j + 1) * u * p[j] - j * p[j - 1]) / (j + 1))
    return np.stack(p[:n], axis=-2)


def _panel_weights(x, lo, hi):
    """Kronrod and Gauss weights (on [-1, 1]) for the nodes actually used.

    A node c + h t_k is rounded to the grid of floats, an error ~eps |x|
    that is not small against h on a panel only a few ulps of |x| wide: the
    panels that grade a resonance of width 1e-10 eV at 1 eV.  For such panels
    the weights are recomputed as the interpolatory weights of the rounded
    nodes (15 for Kronrod, the 7 Gauss ones), so the rule integrates the
    integrand at the points where it was really evaluated; elsewhere the
    tabulated weights are used unchanged.
    """
    p = x.shape[0]
    wk = np.broadcast_to(GK_WEIGHTS, (p, 15)).copy()
    wg = np.broadcast_to(G_WEIGHTS, (p, 15)).copy()
    halfw = 0.5 * (hi - lo)
    ulp = _EPS * np.maximum(np.abs(lo), np.abs(hi))
    # panels narrower than ~1000 ulps have nodes too close to interpolate on:
    # there the tabulated weights stay (and the rounding floor of the error)
    bad = (ulp > 1e-12 * halfw) & (ulp < 1e-3 * halfw)
    if not np.any(bad):
        return wk, wg
    # offsets from the (exact) panel start are exact (Sterbenz) on such panels
    u = ((x[bad] - lo[bad, None]) - halfw[bad, None]) / halfw[bad, None]
    rhs = np.zeros(15)
    rhs[0] = 2.0
    wk[bad] = np.linalg.solve(_legendre_matrix(u, 15), np.broadcast_to(rhs[:, None], (u.shape[0], 15, 1)))[..., 0]
    gi = np.flatnonzero(G_WEIGHTS)
    w7 = np.linalg.solve(_legendre_matrix(u[:, gi], 7), np.broadcast_to(rhs[:7, None], (u.shape[0], 7, 1)))[..., 0]
    sub = np.zeros((u.shape[0], 15))
    sub[:, gi] = w7
    wg[bad] = sub
    return wk, wg


def graded_breakpoints(lo: float, hi: float, centers: ArrayLike, widths: ArrayLike, ratio: float = 4.0) -> RealArray:
    r"""Breakpoints in (lo, hi) graded geometrically around narrow peaks.

    For every peak (a pole of a Green's function at E = c - i w, so a
    Lorentzian of half-width w centred at c) the points
    :math:`c,\ c \pm w\,r^j` (j = 0, 1, ...) are laid down until they
    leave the interval, and each point is kept only where its own peak is
    the nearest one in the scaled distance ``w + |E - c|``.  A Gauss-Kronrod
    panel then never holds a peak much narrower than itself: the panel that
    contains c has width ~w and a panel at distance d from c has width ~d,
    on which a Lorentzian is a smooth, low-degree function.  This is the
    breakpoint form of the change of variables E = c + w tan(theta).

    Peaks whose centres agree to 1e-6 of their widths (degenerate poles)
    count as one, with the smaller width.

    Parameters
    ----------
    lo, hi : float
        Interval (eV).
    centers, widths : array_like
        Peak positions c_k and half-widths w_k > 0 (eV); peaks outside the
        interval still grade the part of it near them.
    ratio : float
        Growth factor r > 1 of consecutive panels.

    Returns
    -------
    ndarray
        Sorted points strictly inside (lo, hi).
    """
    c = np.asarray(centers, dtype=float).reshape(-1)
    w = np.asarray(widths, dtype=float).reshape(-1)
    keep = np.isfinite(c) & np.isfinite(w) & (w > 0)
    c, w = c[keep], w[keep]
    if c.size == 0 or not hi > lo:
        return np.zeros(0)
    # degenerate peaks (centres within 1e-6 of the narrower width, e.g. the
    # poles of two equivalent channels, equal up to round-off) are one peak:
    # otherwise each lays its own copy of every point, a few ulps from the
    # other's, and every such pair is a panel of zero width
    order = np.lexsort((w, c))
    c, w = c[order], w[order]
    new = np.ones(c.size, dtype=bool)
    new[1:] = np.diff(c) > 1e-6 * np.minimum(w[1:], w[:-1])
    w = np.minimum.reduceat(w, np.flatnonzero(new))
    c = c[new]
    length = hi - lo
    far = np.maximum(np.abs(c - lo), np.abs(c - hi)) + length
    levels = np.maximum(0, np.ceil(np.log(far / w) / math.log(ratio))).astype(int)
    pieces: list[RealArray] = []
    owners: list[NDArray[np.intp]] = []
    for k in range(c.size):
        steps = w[k] * ratio ** np.arange(levels[k] + 1)
        p = np.concatenate([[c[k]], c[k] - steps, c[k] + steps])
        p = p[(p > lo) & (p < hi)]
        pieces.append(p)
        owners.append(np.full(p.size, k))
    pts = np.concatenate(pieces)
    owner = np.concatenate(owners)
    if pts.size == 0:
        return pts
    own = w[owner] + np.abs(pts - c[owner])
    # nearest peak in the scaled distance, in blocks to bound memory
    best = np.empty(pts.size)
    step = max(1, 2**22 // max(1, c.size))
    for i in range(0, pts.size, step):
        best[i : i + step] = (w[None, :] + np.abs(pts[i : i + step, None] - c[None, :])).min(axis=1)
    return np.unique(pts[own <= best * (1 + 1e-12)])


def _evaluate_chunked(func, x, chunk):
    if x.size <= chunk:
        return np.asarray(func(x))
    parts = [np.asarray(func(x[i : i + chunk])) for i in range(0, x.size, chunk)]
    return np.concatenate(parts, axis=0)


# ----------------------------------------------------------------------------
# Fermi-sea integrals on the imaginary axis
# ----------------------------------------------------------------------------
def _imaginary_axis_integral(func, mu, y0, rtol, atol, on_fail, what, chunk, scale_hint, groups=None):
    """(1/pi) * integral_{y0}^{inf} func(mu + i y) dy, by the map
    y = y0 + s t/(1 - t), t in [0, 1), with s = max(y0, scale_hint)
    (adaptive Gauss-Kronrod in t; ``groups`` as in :func:`integrate_adaptive`)."""
    s = max(y0, scale_hint)

    def integrand(t):
        t = np.asarray(t)
        y = y0 + s * t / (1.0 - t)
        jac = s / (1.0 - t) ** 2
        vals = np.asarray(func(mu + 1j * y))
        return vals * (jac / math.pi).reshape((-1,) + (1,) * (vals.ndim - 1))

    # GK nodes never touch t = 1 exactly.
    return integrate_adaptive(
        integrand,
        [0.0, 0.5, 0.9, 0.99, 1.0],
        rtol=rtol,
        atol=atol,
        on_fail=on_fail,
        what=what,
        chunk=chunk,
        groups=groups,
    )


def matsubara_sum(
    func: SeaIntegrand,
    mu: float,
    temperature: float,
    rtol: float = 1e-9,
    atol: float = 1e-13,
    energy_scale: float = 1.0,
    max_poles: int = 8192,
    chunk: int = 128,
    on_fail: str = "raise",
    what: str = "Fermi-sea sum",
) -> Integral:
    r"""The Fermi-sea functional S[F] by the direct Matsubara sum (a reference
    route: :func:`fermi_sea_sum` computes the same with a few tens of poles
    at every temperature).

    Unlike :func:`fermi_sea_sum` it evaluates ``func`` on the imaginary axis
    z = mu + iy only, so ``func`` may be a non-analytic combination there
    (e.g. the Hermitian part of G).

    .. math::

        S[F] = 2 k_B T \sum_{n \ge 0} F(\mu + i\omega_n), \qquad
        \omega_n = \pi k_B T (2n + 1),

    which at T = 0 becomes :math:`(1/\pi)\int_0^\infty F(\mu + iy)\,dy`.

    Closing the real-axis contour in the upper half plane gives, for F that
    decays faster than ``1/|z|``,

    .. math::  \int_{-\infty}^{\infty} n_F(E-\mu) F(E)\, dE = -i\pi\, S[F],

    and for the Green's function G(z) ~ 1/z the equilibrium density matrix
    :math:`\rho = \tfrac12 + \mathrm{ReH}\, S[G]` (:eq:`eq-rho-eq`; the
    extra 1/2 is the arc at infinity).

    The first N poles are summed explicitly and the remaining tail
    :math:`2k_BT\sum_{n\ge N} F` is replaced by the integral
    :math:`(1/\pi)\int_{2\pi k_BTN}^\infty F(\mu+iy)dy` (the midpoint rule,
    exact up to O((2 pi k_B T)^2 F'')), done by adaptive quadrature.  N is
    doubled until two successive results agree within the tolerance; the
    difference is the reported error.

    Parameters
    ----------
    func : callable
        ``func(z)`` for a 1-d complex array z returns ``(len(z), ...)``.
    mu : float
        Chemical potential in eV.
    temperature : float
        Temperature in K.
    rtol, atol : float
        Requested accuracy relative to max|S| / absolute.
    energy_scale : float
        Typical energy scale of F in eV (bandwidth); sets the first pole
        cut-off and the tail mapping.
    max_poles : int
        Largest number of explicit poles before giving up.

    Returns
    -------
    Integral
    """
    temperature = check_temperature(temperature)
    if temperature == 0.0:
        return _imaginary_axis_integral(func, mu, 0.0, rtol, atol, on_fail, what, chunk, energy_scale)
    kt = KB * temperature
    spacing = 2.0 * math.pi * kt
    n = max(8, int(math.ceil(0.5 * energy_scale / spacing)))
    n = 1 << int(math.ceil(math.log2(n)))

    def partial(npoles, cached):
        # explicit poles; reuse the already computed first part
        start = cached[0]
        y = math.pi * kt * (2 * np.arange(start, npoles) + 1)
        if y.size:
            new = _evaluate_chunked(func, mu + 1j * y, chunk).sum(axis=0) * (2.0 * kt)
            poles = new if cached[1] is None else cached[1] + new
        else:
            poles = cached[1]
        tail = _imaginary_axis_integral(
            func, mu, spacing * npoles, 0.1 * rtol, 0.1 * atol, on_fail, what + " (tail)", chunk, energy_scale
        )
        return poles + tail.value, (npoles, poles), tail.evaluations + y.size

    value, cache, nevals = partial(n, (0, None))
    while True:
        n2 = 2 * n
        value2, cache, ev = partial(n2, cache)
        nevals += ev
        err = float(np.max(np.abs(value2 - value)))
        tol = max(atol, rtol * float(np.max(np.abs(value2))))
        if err <= tol:
            return Integral(value2, err, nevals)
        if n2 >= max_poles:
            _fail(
                f"{what}: Matsubara sum with {n2} poles has error {err:.3g} above tolerance {tol:.3g} "
                f"(temperature {temperature} K is low for the pole sum; use temperature=0 for the "
                f"ground state)",
                err,
                tol,
                on_fail,
            )
            return Integral(value2, err, nevals)
        n, value = n2, value2


# ----------------------------------------------------------------------------
# Fermi-sea sums by a pole expansion of fixed size
# ----------------------------------------------------------------------------
FERMI_SEA_POLES = 4
"""Exact Matsubara poles summed below the height y0 = 2 pi k_B T N of the
line integral in :func:`fermi_sea_sum` (N = 4: the thermal correction is
then exact to ~1e-14 relative with the 6-node rule, see its Notes)."""

_CORRECTION_RULES = (4, 6)
"""Sizes of the two Fermi-weight Gauss rules for the thermal correction: the
result uses the larger, their difference is its error estimate."""

_TAU_LOW = -3.8
_TAU_HIGH = 3.7
"""Ends of the trapezoidal grid in the mapped variable tau (see
:func:`fermi_sea_sum`): beyond them the mapped integrand is below ~1e-17 of
its scale (double-exponential decay at both ends)."""

_LOWEST_SCALE = 1e-8
"""The line integral of :func:`fermi_sea_sum` spaces its nodes evenly in
ln y down to s_min = 1e-8 W above the real axis (W the energy scale)."""

_FINEST_STEP = 1.0 / 32
"""Smallest trapezoidal step before :func:`fermi_sea_sum` gives up."""


@functools.cache
def fermi_weight_rule(m: int) -> tuple[RealArray, RealArray]:
    r"""Gauss rule for odd functions against the Fermi weight on [0, inf).

    Returns nodes t_j > 0 and weights w_j such that

    .. math:: \int_0^\infty \frac{D(t)}{e^t + 1}\,dt \approx \sum_j w_j D(t_j)

    for odd D(t) = t q(t^2), exactly when q is a polynomial of degree
    2m - 1.  It is the m-point Gauss rule of the weight n(sqrt v)/2 on
    v = t^2 in [0, inf), w_j = W_j / t_j; its moments are
    int_0^inf t^(2k+1) dt/(e^t + 1) = (1 - 2^-(2k+1)) (2k+1)! zeta(2k+2).

    The recurrence coefficients come from the Lanczos process on a
    discretisation of the weight (composite 20-point Gauss-Legendre on
    t in [0, 100], where the weight has fallen to e^-100), the nodes and
    weights from the eigen-decomposition of the Jacobi matrix (Golub and
    Welsch, Math. Comp. 23, 221 (1969)).
    """
    m = int(m)
    if not 1 <= m <= 12:
        raise InputError(f"m: the Fermi-weight rule is tabulated for 1..12 nodes, got {m!r}")
    x, w = np.polynomial.legendre.leggauss(20)
    edges = np.linspace(0.0, 100.0, 251)
    half = 0.5 * np.diff(edges)[:, None]
    t = (0.5 * (edges[:-1, None] + edges[1:, None]) + half * x).ravel()
    mass = (half * w).ravel() * expit(-t) * t  # int n(t) t q(t^2) dt
    v = t * t
    # Lanczos on diag(v) with start vector sqrt(mass), full reorthogonalisation
    mu0 = float(mass.sum())
    q = np.sqrt(mass / mu0)
    basis = [q]
    alpha, beta = [], []
    prev, b = np.zeros_like(q), 0.0
    for _ in range(m):
        r = v * basis[-1] - b * prev
        a = float(basis[-1] @ r)
        r -= a * basis[-1]
        for _twice in range(2):
            for qq in basis:
                r -= (qq @ r) * qq
        alpha.append(a)
        b = float(np.linalg.norm(r))
        beta.append(b)
        prev = basis[-1]
        basis.append(r / b)
    jac = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
    nodes, vecs = np.linalg.eigh(jac)
    weights = mu0 * vecs[0] ** 2
    tj = np.sqrt(nodes)
    return tj, weights / tj


def _tau_grid(step, offset, tau_high):
    """Points tau = (k + offset) * step inside [_TAU_LOW, tau_high]."""
    k0 = math.ceil(_TAU_LOW / step - offset)
    k1 = math.floor(tau_high / step - offset)
    return (np.arange(k0, k1 + 1) + offset) * step


def _nested_estimate(older, prev, d):
    r"""Error of the finest of four nested trapezoidal rules (steps 8h, 4h,
    2h, h), from the differences of successive ones: ``older`` (4h minus 8h),
    ``prev`` (2h minus 4h), ``d`` (h minus 2h), each per component group.

    For F analytic in a strip of half-width a the error of step h behaves as
    :math:`A\,e^{-2\pi a/h}`, so it squares (relative to A) when h halves,
    and the error of the finest rule would be :math:`d\,r^2` with
    :math:`r = d/d_{prev}`.  Before that regime (a singularity whose strip
    narrows in the double-exponential part of the map, power-law
    prefactors, two singularities at different distances) the convergence
    accelerates less (measured on a perfect wire at T = 0: the error falls
    by 10^-2.1, then by only 10^-3.1): the log-ratio grows by a factor
    :math:`\gamma = \ln r / \ln r_{prev}` (:math:`r_{prev} = d_{prev}/d_{older}`)
    per halving, between 1 and 2.  The estimate is
    :math:`\max(10\,d\,r^2,\ 3\,d\,r^\gamma)`, never more than d (the
    error of the coarser rule), and d itself where the differences do not
    decrease.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.where(prev > 0, d / prev, 1.0)
        r_prev = np.where(older > 0, prev / older, 1.0)
        accelerating = (r_prev < 1) & (r > 0) & (r < r_prev)
        gamma = np.where(
            accelerating, np.log(np.where(accelerating, r, 0.5)) / np.log(np.where(accelerating, r_prev, 0.25)), 1.0
        )
        gamma = np.clip(gamma, 1.0, 2.0)
        guess = np.maximum(10.0 * d * r**2, 3.0 * d * r**gamma)
    return np.where(d < prev, np.minimum(d, guess), d)


@overload
def fermi_sea_sum(
    func: SeaIntegrand,
    mu: float,
    temperature: float,
    rtol: float = ...,
    atol: float = ...,
    energy_scale: float = ...,
    chunk: int = ...,
    on_fail: str = ...,
    what: str = ...,
    parts: None = None,
    adaptive_at_zero: bool = ...,
) -> Integral: ...


@overload
def fermi_sea_sum(
    func: SeaIntegrand,
    mu: float,
    temperature: float,
    rtol: float = ...,
    atol: float = ...,
    energy_scale: float = ...,
    chunk: int = ...,
    on_fail: str = ...,
    what: str = ...,
    *,
    parts: Sequence[int],
    adaptive_at_zero: bool = ...,
) -> list[Integral]: ...


def fermi_sea_sum(
    func: SeaIntegrand,
    mu: float,
    temperature: float,
    rtol: float = 1e-9,
    atol: float = 1e-13,
    energy_scale: float = 1.0,
    chunk: int = 128,
    on_fail: str = "raise",
    what: str = "Fermi-sea sum",
    parts: Sequence[int] | None = None,
    adaptive_at_zero: bool = False,
) -> Integral | list[Integral]:
    r"""The Fermi-sea functional S[F] of F(z) analytic in the upper half
    plane, by a pole expansion whose size does not grow as T falls.

    .. math::

        S[F] = 2 k_B T \sum_{n \ge 0} F(\mu + i\omega_n), \qquad
        \omega_n = \pi k_B T (2n + 1),

    and :math:`S[F] = (1/\pi)\int_0^\infty F(\mu + iy)\,dy` at T = 0, so that
    :math:`\int n_F(E-\mu) F(E)\,dE = -i\pi S[F]` (close the real axis in the
    upper half plane).  F must decay at least as :math:`|z|^{-2}`
    (subtract the 1/z tail of a Green's function first, e.g.
    G(z) - 1/(z - mu + iW), whose subtracted sum is anti-Hermitian).

    **Derivation.**  Move the real-axis integral up to the line
    Im z = y_0 = 2 pi k_B T N, half way between the Matsubara poles
    omega_(N-1) and omega_N.  There n_F(z - mu) = n_F(x) with x = Re z - mu
    (n_F has period 2 pi i k_B T), and the N poles crossed give residues
    -k_B T F(z_n).  Splitting n_F(x) = theta(-x) + [n_F(x) - theta(-x)] and
    rotating the theta part onto the vertical line (the integrand is
    analytic in the quarter plane x < 0, y > y_0) gives, exactly,

    .. math::

        S[F] = 2k_BT\sum_{n<N} F(\mu + i\omega_n)
             + \frac{1}{\pi}\int_{y_0}^{\infty} F(\mu + iy)\,dy
             + \frac{i k_BT}{\pi}\int_0^\infty \frac{dt}{e^t + 1}\,
               \big[F(\mu + k_BTt + iy_0) - F(\mu - k_BTt + iy_0)\big],

    the Abel-Plana form of the Matsubara tail (its last term is the exact
    remainder of the Euler-Maclaurin series of the tail sum).  The three
    pieces are computed as follows.

    * the N = :data:`FERMI_SEA_POLES` exact poles;
    * the thermal correction: its bracket D(t) is odd in t and analytic for
      ``|t| < 2 pi N`` (F is analytic above the real axis), so the m-point
      Gauss rule of the Fermi weight (:func:`fermi_weight_rule`) converges
      geometrically, at a rate that depends on N alone, not on F or T.  For
      a pole of F at any distance from the real axis within 40 k_B T of mu
      the error is below 2e-12 (m = 4) and 1e-14 (m = 6) relative to S for
      N = 4; the 6-node value is used and its difference from the 4-node
      value is the error estimate (2 m evaluations per rule).
    * the line integral (T > 0), by the trapezoidal rule in tau under the map
      y = y_0 + s exp(tau - e^(-tau) + e^(tau - Lambda)), s = max(y_0, s_min),
      Lambda = ln((W + ``|mu|``)/s) + 1 (W the energy scale, so W + ``|mu|``
      the farthest distance of a feature of F from mu): linear in ln y between
      s and W + ``|mu|``, where F has features on every scale (resonances at
      every distance from mu), double-exponential decay at both ends (a
      singularity where that decay has begun would see a narrower strip).  F(mu + iy) is
      analytic for Re y > 0, a strip ``|Im ln y| < pi/2``, so the rule converges
      as exp(-pi^2/h) in the step h (Trefethen and Weideman, SIAM Rev. 56,
      385 (2014)).  Halving h reuses every earlier node (nested pole sets;
      the first rule's every other node gives the rule of twice its step
      for free); with differences d_k between successive steps the error of
      the last is estimated from the last three as
      :math:`\max(10\,d_k r^2,\ 3\,d_k r^\gamma)`, :math:`r = d_k/d_{k-1}`:
      the error squares (gamma = 2) when h halves only asymptotically, before
      that gamma is the measured acceleration
      :math:`\ln r / \ln(d_{k-1}/d_{k-2})`, between 1 and 2 (on a perfect
      gold-like wire at T = 0 the error falls by 10^-2.1, then by only
      10^-3.1), never more than d_k; to it is added
      the rounding floor, a few eps times the sum of ``|terms|``.  s_min = 1e-8 W bounds the cost as
      T -> 0: a feature of F closer than s_min to the real axis (a resonance
      within 1e-8 W of mu) lies in the double-exponential end, where it is
      still integrated, at smaller steps: the nested estimate sees it, and
      the cost grows instead of the error.
    * at T = 0 the same line from y_0 = 0 (s = s_min); or, with
      ``adaptive_at_zero``, by adaptive Gauss-Kronrod (7-15) under the
      rational map y = W t/(1 - t), t in [0, 1) (:func:`integrate_adaptive`,
      each part to its own tolerance), which refines only where F has
      structure: a caller that subtracted a real pole (a bound state) close
      to mu asks for it, because the subtraction leaves rounding of order
      ``eps W/|z - E_b|^3`` there, which a rule resolving every scale down
      to s_min would integrate, while the adaptive rule does not go near it
      when the remainder is smooth.

    The number of evaluations of F is about N + 20 + 4 (Lambda + 7.5) at
    the usual step h = 1/4: a few tens at room temperature, ~100 at 1 K,
    at most ~110 as T -> 0 and at T = 0 (without ``adaptive_at_zero``).  Ozaki's continued-fraction expansion
    (T. Ozaki, Phys. Rev. B 75, 035123 (2007)) needs a number of poles
    growing as T falls; the logarithmic cost is that of the pole expansion
    of L. Lin, J. Lu, L. Ying and W. E, Chin. Ann. Math. 30B, 729 (2009).

    Parameters
    ----------
    func : callable
        ``func(z)`` for a 1-d complex array z (upper half plane) returns
        ``(len(z), ...)``; analytic in z, decaying at least as ``1/|z|^2``.
    mu : float
        Chemical potential in eV.
    temperature : float
        Temperature in K (0 allowed).
    rtol, atol : float
        Requested accuracy relative to ``max|S|`` of each part / absolute.
    energy_scale : float
        Energy scale W of F in eV (spectral radius or bandwidth).
    chunk : int
        Largest number of energies per call of ``func``.
    on_fail : {"raise", "warn"}
        What to do when the tolerance is not met at the finest step.
    what : str
        Name used in error messages.
    parts : sequence of int, optional
        Sizes of consecutive groups of the flattened trailing axes of
        ``func``'s value, each with its own scale for ``rtol`` (e.g. a
        density matrix and force constants in one sum); then a list of
        :class:`Integral`, one per part, is returned.
    adaptive_at_zero : bool
        At T = 0, use the adaptive rule on the imaginary axis (see above).

    Returns
    -------
    Integral or list of Integral
        Value, estimated absolute error and number of evaluations of F.
    """
    temperature = check_temperature(temperature)
    if not (math.isfinite(energy_scale) and energy_scale > 0):
        raise InputError(f"energy_scale must be a positive number of eV, got {energy_scale!r}")
    mu = float(mu)
    counted = [0]
    shape = [None]

    def evaluate(z):
        counted[0] += z.size
        vals = _evaluate_chunked(func, z, chunk)
        shape[0] = vals.shape[1:]
        return vals.reshape(z.size, -1)

    kt = KB * temperature
    if kt == 0 and adaptive_at_zero:
        # T = 0: adaptive rule under a rational map, each part to its own tolerance
        res = _imaginary_axis_integral(
            func, mu, 0.0, rtol, atol, on_fail, what, chunk, energy_scale, groups=None if parts is None else list(parts)
        )
        if parts is None:
            return res
        flat = np.asarray(res.value).reshape(-1)
        bounds = np.cumsum([0] + list(parts))
        if bounds[-1] != flat.size:
            raise InputError(f"parts {parts!r} do not add up to the {flat.size} values of {what}")
        return [Integral(flat[a:b], float(e), res.evaluations) for a, b, e in zip(bounds[:-1], bounds[1:], res.errors)]
    fixed = 0.0
    fixed_err = 0.0
    fixed_abs = 0.0  # sum of |terms|: the rounding floor of the error is eps times it
    y0 = 0.0
    if kt > 0:
        n = FERMI_SEA_POLES
        y0 = 2.0 * math.pi * kt * n
        vals = evaluate(mu + 1j * math.pi * kt * (2 * np.arange(n) + 1))
        fixed = 2.0 * kt * vals.sum(axis=0)
        fixed_abs = 2.0 * kt * np.abs(vals).sum(axis=0)
        corrections = []
        for m in _CORRECTION_RULES:
            t, w = fermi_weight_rule(m)
            vals = evaluate(np.concatenate([mu + kt * t + 1j * y0, mu - kt * t + 1j * y0]))
            corrections.append((1j * kt / math.pi) * (w @ (vals[:m] - vals[m:])))
        fixed = fixed + corrections[-1]
        fixed_abs = fixed_abs + (kt / math.pi) * (w @ (np.abs(vals[:m]) + np.abs(vals[m:])))
        fixed_err = np.abs(corrections[-1] - corrections[0])

    s_min = energy_scale * _LOWEST_SCALE
    s = max(y0, s_min)
    # the double-exponential end starts beyond the farthest feature of F,
    # W + |mu| from mu (F's singularities lie on |E| <= W): a singularity
    # where it has started sees a narrower strip of analyticity in tau
    lam = max(math.log((energy_scale + abs(mu)) / s), 0.0) + 1.0
    tau_high = lam + _TAU_HIGH

    def line_sum(tau, step, coarse=False):
        u = s * np.exp(tau - np.exp(-tau) + np.exp(tau - lam))
        jac = u * (1.0 + np.exp(-tau) + np.exp(tau - lam))
        vals = evaluate(mu + 1j * (y0 + u))
        weights = step * jac / math.pi
        out = (weights @ vals, weights @ np.abs(vals))
        if coarse:
            # every other node is the rule of twice the step: its value for free
            even = np.round(tau / step).astype(int) % 2 == 0
            out += (2.0 * (weights[even] @ vals[even]),)
        return out

    step = 2.0
    line, line_abs, coarser = line_sum(_tau_grid(step, 0, tau_high), step, coarse=True)
    value = fixed + line
    size = value.size
    bounds = np.cumsum([0] + list(parts if parts is not None else [size]))
    if bounds[-1] != size:
        raise InputError(f"parts {parts!r} do not add up to the {size} values of {what}")
    groups = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]

    def by_group(arr):
        arr = np.broadcast_to(np.abs(arr), (size,))
        return np.array([float(arr[g].max()) if g.stop > g.start else 0.0 for g in groups])

    diffs = [by_group(line - coarser)]
    while True:
        more, more_abs = line_sum(_tau_grid(step, 0.5, tau_high), 0.5 * step)
        new = 0.5 * line + more
        line_abs = 0.5 * line_abs + more_abs
        step *= 0.5
        diffs.append(by_group(new - line))
        line = new
        value = fixed + line
        est = _nested_estimate(*diffs[-3:]) if len(diffs) > 2 else diffs[-1]
        scale = by_group(value)
        err = est + by_group(fixed_err) + _ROUND * _EPS * by_group(line_abs + fixed_abs)
        tol = np.maximum(atol, rtol * scale)
        if len(diffs) > 2 and np.all(err <= tol):
            break
        if step <= _FINEST_STEP:
            worst = int(np.argmax(err / tol))
            _fail(
                f"{what}: pole expansion with {counted[0]} poles has error {err[worst]:.3g} above "
                f"tolerance {tol[worst]:.3g}",
                float(err[worst]),
                float(tol[worst]),
                on_fail,
            )
            break
    value = value.reshape(shape[0])
    if parts is None:
        return Integral(value, float(err[0]), counted[0])
    flat = value.reshape(-1)
    return [Integral(flat[g], float(e), counted[0]) for g, e in zip(groups, err)]


# ----------------------------------------------------------------------------
# fixed-order Gauss-Legendre rules (closed-form model integrals)
# ----------------------------------------------------------------------------
__all__ += ["gauss_legendre"]


def gauss_legendre(nodes: int, breakpoints: ArrayLike = (-1.0, 1.0)) -> tuple[RealArray, RealArray]:
    r"""Composite Gauss-Legendre rule: ``nodes`` points on each interval.

    .. math::

        \int_{b_0}^{b_K} f(x)\,dx \approx \sum_i w_i f(x_i),

    with the ``nodes``-point Gauss-Legendre rule (exact for polynomials of
    degree ``2 nodes - 1``; Abramowitz and Stegun 25.4.29) mapped
    linearly onto every interval ``[b_k, b_{k+1}]`` of ``breakpoints``.
    Empty intervals (``b_{k+1} = b_k``) are skipped, so breakpoints that
    coincide (a kink that falls on an end point) are harmless.  No node
    lies on a breakpoint: put kinks, steps and integrable end-point
    singularities there.

    This is a fixed rule without an error estimate, for the smooth
    integrands of the closed-form models; energy integrals of a junction
    use :func:`integrate_adaptive`.

    Parameters
    ----------
    nodes : int
        Points per interval (>= 1).
    breakpoints : sequence of float
        Interval end points, non-decreasing; the default ``(-1, 1)`` gives the
        plain rule on [-1, 1].

    Returns
    -------
    x, w : ndarray
        Abscissae and weights (1-D, same length; ``sum(w)`` is the total
        length of the non-empty intervals).
    """
    try:
        n = int(nodes)
    except (TypeError, ValueError):
        n = 0
    if n < 1 or n != nodes:
        raise InputError(f"nodes must be a positive integer, got {nodes!r}")
    b = np.asarray(breakpoints, dtype=float).ravel()
    if b.size < 2 or not np.all(np.isfinite(b)):
        raise InputError(f"breakpoints must be two or more finite numbers, got {breakpoints!r}")
    if np.any(np.diff(b) < 0):
        raise InputError(f"breakpoints must be non-decreasing, got {breakpoints!r}")
    t, wt = np.polynomial.legendre.leggauss(n)
    lo, hi = b[:-1], b[1:]
    keep = hi > lo
    half = 0.5 * (hi[keep] - lo[keep])[:, None]
    mid = 0.5 * (hi[keep] + lo[keep])[:, None]
    return (half * t + mid).ravel(), (half * wt).ravel()
