"""Occupation functions and energy quadrature with error estimates.

Two kinds of energy integral appear in every observable of a junction:

* **window integrals** over the real axis, whose integrand is non-zero only
  where the lead occupations differ (the bias window, widened by the thermal
  tails), or which carry a Fermi-surface factor.  They are done by a
  vectorised adaptive Gauss-Kronrod (7-15) rule, :func:`integrate_adaptive`,
  which refines the worst panels until a stated tolerance is met;
* **Fermi-sea integrals** of functions analytic in the upper half plane (the
  equilibrium density matrix and force constants).  They are done on the
  imaginary axis by the Matsubara pole sum, :func:`matsubara_sum`, whose
  tail beyond the last explicit pole is integrated exactly (formulas.md §4.1;
  the pole-sum tail correction done by quadrature instead of its asymptote).

An integral that cannot meet its tolerance raises
:class:`~currentforces.errors.IntegrationError` (or warns with the achieved
error when ``on_fail="warn"``): never a silent wrong number.

All energies are in eV and temperatures in K.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.special import expit

from ._checks import check_temperature
from .errors import IntegrationError, IntegrationWarning, InputError
from .units import KB

__all__ = [
    "fermi",
    "fermi_derivative",
    "fermi_derivative_rule",
    "bose",
    "window_bounds",
    "Integral",
    "integrate_adaptive",
    "matsubara_sum",
    "THERMAL_CUTOFF",
]

THERMAL_CUTOFF = 40.0
"""Half-width, in units of k_B T, beyond which a Fermi-window integrand is
dropped: the occupation differences there are below e^-40 = 4e-18."""


# ----------------------------------------------------------------------------
# occupation functions
# ----------------------------------------------------------------------------
def fermi(energy, mu=0.0, temperature=0.0):
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


def fermi_derivative(energy, mu=0.0, temperature=0.0):
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


def fermi_derivative_rule(n):
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


def bose(energy, temperature):
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


def window_bounds(chemical_potentials, temperature, extra=(), cutoff=THERMAL_CUTOFF):
    """Energy interval (eV) outside which occupation differences vanish.

    [min(mu) - cutoff k_B T, max(mu) + cutoff k_B T], widened to contain the
    energies in ``extra``.
    """
    mus = np.asarray(chemical_potentials, dtype=float)
    kt = KB * check_temperature(temperature)
    lo = float(np.min(mus)) - cutoff * kt
    hi = float(np.max(mus)) + cutoff * kt
    if len(extra):
        lo = min(lo, float(np.min(extra)))
        hi = max(hi, float(np.max(extra)))
    return lo, hi


# ----------------------------------------------------------------------------
# adaptive Gauss-Kronrod on the real axis
# ----------------------------------------------------------------------------
# Gauss-Kronrod 7-15 abscissae and weights on [-1, 1] (QUADPACK qk15 tables;
# tests/test_integrate.py checks the exactness degrees 13 and 22).
_XGK = np.array([
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.000000000000000000000000000000000,
])
_WGK = np.array([
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
])
_WG = np.array([
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327,
])
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
    """

    value: np.ndarray
    error: float
    evaluations: int = 0


def _fail(message, error, tol, on_fail):
    if on_fail == "raise":
        raise IntegrationError(message, error=error, tolerance=tol)
    warnings.warn(message, IntegrationWarning, stacklevel=3)


def integrate_adaptive(func, breakpoints, rtol=1e-8, atol=1e-12, max_panels=4000,
                       chunk=256, on_fail="raise", what="integral"):
    """Adaptive vectorised Gauss-Kronrod (7-15) quadrature of an array-valued
    function over [breakpoints[0], breakpoints[-1]].

    Parameters
    ----------
    func : callable
        ``func(x)`` with ``x`` a 1-d float array of abscissae returns an array
        of shape ``(len(x), ...)``.  It is called with batches of points, so
        matrix work can be batched over energies.
    breakpoints : sequence of float
        Sorted interval end points plus interior points where the integrand
        has kinks or steps (chemical potentials at T = 0, band edges).
    rtol, atol : float
        Requested accuracy: the summed error estimate must be below
        ``max(atol, rtol * max|value|)``.
    max_panels : int
        Refinement budget: total number of panels evaluated; beyond it the
        integral fails.
    chunk : int
        Maximum number of abscissae per call of ``func`` (memory bound).
    on_fail : {"raise", "warn"}
        What to do when the tolerance is not met.
    what : str
        Name used in the error message.

    Returns
    -------
    Integral
        Value, error estimate and number of evaluations.

    Notes
    -----
    Panels whose error estimate ``|K15 - G7|`` is below their length's share of
    the tolerance are retired into a running sum, so memory stays bounded by
    the unconverged panels.
    """
    pts = np.unique(np.asarray(breakpoints, dtype=float))
    if pts.size < 2:
        raise InputError(f"{what}: need an interval with two distinct end points, got {breakpoints!r}")
    if not np.all(np.isfinite(pts)):
        raise InputError(f"{what}: integration limits must be finite, got {breakpoints!r}")
    total_length = pts[-1] - pts[0]
    lo = pts[:-1]
    hi = pts[1:]
    retired = None
    retired_err = 0.0
    nevals = 0
    npanels = 0
    scale = 0.0
    while True:
        centers = 0.5 * (lo + hi)
        halfw = 0.5 * (hi - lo)
        x = (centers[:, None] + halfw[:, None] * GK_NODES[None, :]).ravel()
        vals = _evaluate_chunked(func, x, chunk)
        nevals += x.size
        npanels += lo.size
        out_shape = vals.shape[1:]
        vals = vals.reshape(lo.size, 15, -1)
        kron = np.einsum("pkr,k->pr", vals, GK_WEIGHTS) * halfw[:, None]
        gauss = np.einsum("pkr,k->pr", vals, G_WEIGHTS) * halfw[:, None]
        err = np.abs(kron - gauss).max(axis=1)
        current = kron.sum(axis=0) + (retired if retired is not None else 0.0)
        scale = max(scale, float(np.max(np.abs(current))) if np.size(current) else 0.0)
        tol = max(atol, rtol * scale)
        total_err = retired_err + err.sum()
        if total_err <= tol:
            return Integral(current.reshape(out_shape), float(total_err), nevals)
        share = tol * (hi - lo) / total_length
        done = err <= 0.5 * share
        if np.any(done):
            part = kron[done].sum(axis=0)
            retired = part if retired is None else retired + part
            retired_err += float(err[done].sum())
        todo = ~done
        if npanels + 2 * np.count_nonzero(todo) > max_panels or np.all(halfw[todo] < 1e-15 * max(1.0, abs(centers[todo]).max())):
            _fail(
                f"{what}: adaptive quadrature stopped after {npanels} panels with estimated error "
                f"{total_err:.3g} above tolerance {tol:.3g}",
                total_err, tol, on_fail,
            )
            return Integral(current.reshape(out_shape), float(total_err), nevals)
        mid = centers[todo]
        lo, hi = np.concatenate([lo[todo], mid]), np.concatenate([mid, hi[todo]])
        order = np.argsort(lo)
        lo, hi = lo[order], hi[order]


def _evaluate_chunked(func, x, chunk):
    if x.size <= chunk:
        return np.asarray(func(x))
    parts = [np.asarray(func(x[i:i + chunk])) for i in range(0, x.size, chunk)]
    return np.concatenate(parts, axis=0)


# ----------------------------------------------------------------------------
# Fermi-sea integrals on the imaginary axis
# ----------------------------------------------------------------------------
def _imaginary_axis_integral(func, mu, y0, rtol, atol, on_fail, what, chunk, scale_hint):
    """(1/pi) * integral_{y0}^{inf} func(mu + i y) dy, by the map
    y = y0 + s t/(1 - t), t in [0, 1), with s = max(y0, scale_hint)."""
    s = max(y0, scale_hint)

    def integrand(t):
        t = np.asarray(t)
        y = y0 + s * t / (1.0 - t)
        jac = s / (1.0 - t) ** 2
        vals = np.asarray(func(mu + 1j * y))
        return vals * (jac / math.pi).reshape((-1,) + (1,) * (vals.ndim - 1))

    # GK nodes never touch t = 1 exactly.
    return integrate_adaptive(integrand, [0.0, 0.5, 0.9, 0.99, 1.0], rtol=rtol, atol=atol,
                              on_fail=on_fail, what=what, chunk=chunk)


def matsubara_sum(func, mu, temperature, rtol=1e-9, atol=1e-13, energy_scale=1.0,
                  max_poles=8192, chunk=128, on_fail="raise", what="Fermi-sea sum"):
    r"""The Fermi-sea functional S[F] of a function F(z) analytic in the upper
    half plane.

    .. math::

        S[F] = 2 k_B T \sum_{n \ge 0} F(\mu + i\omega_n), \qquad
        \omega_n = \pi k_B T (2n + 1),

    which at T = 0 becomes :math:`(1/\pi)\int_0^\infty F(\mu + iy)\,dy`.

    Closing the real-axis contour in the upper half plane gives, for F that
    decays faster than ``1/|z|``,

    .. math::  \int_{-\infty}^{\infty} n_F(E-\mu) F(E)\, dE = -i\pi\, S[F],

    and for the Green's function G(z) ~ 1/z the equilibrium density matrix
    :math:`\rho = \tfrac12 + \mathrm{ReH}\, S[G]` (formulas.md §4.1; the
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
        tail = _imaginary_axis_integral(func, mu, spacing * npoles, 0.1 * rtol, 0.1 * atol, on_fail,
                                        what + " (tail)", chunk, energy_scale)
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
            _fail(f"{what}: Matsubara sum with {n2} poles has error {err:.3g} above tolerance {tol:.3g} "
                  f"(temperature {temperature} K is low for the pole sum; use temperature=0 for the "
                  f"ground state)", err, tol, on_fail)
            return Integral(value2, err, nevals)
        n, value = n2, value2


# ----------------------------------------------------------------------------
# fixed-order Gauss-Legendre rules (closed-form model integrals)
# ----------------------------------------------------------------------------
__all__ += ["gauss_legendre"]


def gauss_legendre(nodes, breakpoints=(-1.0, 1.0)):
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
