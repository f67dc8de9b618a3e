"""Occupations and quadrature: exactness, overflow safety, error reporting."""

import math
import warnings

import numpy as np
import pytest

from currentforces.errors import InputError, IntegrationError, IntegrationWarning
from currentforces.integrate import (
    G_WEIGHTS,
    GK_NODES,
    GK_WEIGHTS,
    P_NEW_NODES,
    P_NEW_WEIGHTS,
    P_OLD_WEIGHTS,
    bose,
    fermi,
    fermi_derivative,
    integrate_adaptive,
    matsubara_sum,
)
from currentforces.units import KB


def test_gauss_kronrod_exactness_degrees():
    # A 15-point Kronrod rule integrates x^k exactly on [-1, 1] up to k = 22,
    # the embedded 7-point Gauss rule up to k = 13; exact value 2/(k+1) for even k.
    for k in range(23):
        exact = 2.0 / (k + 1) if k % 2 == 0 else 0.0
        assert abs(GK_WEIGHTS @ GK_NODES**k - exact) < 1e-14
        if k <= 13:
            assert abs(G_WEIGHTS @ GK_NODES**k - exact) < 1e-14
    # degree 14 is beyond Gauss-7: the rule must be inexact there (sanity of the tables)
    assert abs(G_WEIGHTS @ GK_NODES**14 - 2.0 / 15) > 1e-6


def test_patterson_extension_exactness_degree():
    # The 31-point Kronrod-Patterson rule (the 15 Kronrod nodes and 16 new
    # ones) integrates x^k exactly on [-1, 1] up to k = 47 (31 + 16 free
    # parameters, 47 by symmetry) and not k = 48; its 16 new nodes lie inside
    # (-1, 1), one between each two neighbours of the old ones and beyond the
    # outermost, and all 31 weights are positive (a stable rule).  Checked with
    # Legendre polynomials (their integrals are 2 for P_0 and 0 else; powers
    # x^47 lose digits to cancellation in the weights' sum).
    from numpy.polynomial import legendre

    x = np.concatenate([GK_NODES, P_NEW_NODES])
    w = np.concatenate([P_OLD_WEIGHTS, P_NEW_WEIGHTS])
    for k in range(49):
        c = np.zeros(k + 1)
        c[k] = 1.0
        got = w @ legendre.legval(x, c)
        if k <= 47:
            assert abs(got - (2.0 if k == 0 else 0.0)) < 1e-14, k
        else:
            assert abs(got) > 1e-6  # beyond the degree: the tables are not a higher rule by accident
    assert np.all(w > 0)
    merged = np.sort(x)
    assert np.all(np.diff(merged) > 0) and abs(merged).max() < 1
    assert np.all(np.isin(merged[1::2], GK_NODES)) and np.all(np.isin(merged[::2], P_NEW_NODES))


def test_an_integral_that_is_not_finite_is_an_error():
    # An integrand infinite at a node (or one that overflows) gave an infinite
    # running total, a tolerance rtol * inf = inf, and a "converged" result
    # with error inf, silently.  Now an IntegrationError that says so, or
    # with on_fail="warn" a warning and an infinite error.
    def spike(x):
        return np.where(np.abs(x - 0.5) < 0.05, np.inf, 1.0)

    with np.errstate(invalid="ignore"):  # inf - inf in the rules' difference
        with pytest.raises(IntegrationError, match="not finite"):
            integrate_adaptive(spike, [0.0, 1.0])
        with pytest.warns(IntegrationWarning, match="not finite"):
            r = integrate_adaptive(spike, [0.0, 1.0], on_fail="warn")
        assert r.error == math.inf
        with pytest.raises(IntegrationError, match="not finite"):
            integrate_adaptive(lambda x: np.full_like(x, np.nan), [0.0, 1.0])


def test_smooth_panel_is_extended_before_it_is_halved():
    # cos(15 x) on [0, 1] (2.4 periods) at rtol 1e-10: the 15-point rule and
    # its embedded 7-point Gauss rule disagree far above the tolerance, so the
    # panel is refined; the 31-point rule of degree 47 on the same panel
    # (16 new nodes, the 15 values reused) is exact to rounding.  Expected
    # count: 15 + 16 = 31 (bisection needed 165: 11 panels).  Exact value
    # sin(15)/15; the estimate |P31 - K15| bounds the true error.
    r = integrate_adaptive(lambda x: np.cos(15.0 * x), [0.0, 1.0], rtol=1e-10, atol=0)
    exact = math.sin(15.0) / 15.0
    assert r.evaluations == 31
    assert abs(r.value - exact) <= r.error <= 1e-10 * abs(exact)


def test_fermi_never_overflows_and_limits():
    e = np.array([-1e4, -1.0, 0.0, 1.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        n = fermi(e, 0.0, 1.0)
    assert np.array_equal(n, [1.0, 1.0, 0.5, 0.0, 0.0]) or np.allclose(n, [1, 1, 0.5, 0, 0], atol=1e-300)
    assert np.array_equal(fermi(e, 0.0, 0.0), [1.0, 1.0, 0.5, 0.0, 0.0])
    # -dn/dE integrates to 1 (it is n(1-n)/kT; antiderivative -n).
    kt = KB * 300
    r = integrate_adaptive(lambda x: fermi_derivative(x, 0.1, 300.0), [0.1 - 50 * kt, 0.1, 0.1 + 50 * kt])
    assert abs(r.value - 1.0) < 1e-10


def test_bose_limits():
    # n_B(E) -> kT/E - 1/2 for E << kT (Laurent expansion of 1/(e^x - 1)).
    kt = KB * 1000
    x = 1e-4 * kt
    assert abs(bose(x, 1000) - (kt / x - 0.5 + x / (12 * kt))) < 1e-9
    assert bose(0.1, 0.0) == 0.0 and bose(-0.1, 0.0) == -1.0


def test_adaptive_handles_kinks_and_reports_error():
    # integral_0^3 |x - 1| dx = 1/2 + 2 = 2.5 ; the kink is a breakpoint.
    r = integrate_adaptive(lambda x: np.abs(x - 1.0), [0.0, 1.0, 3.0], rtol=1e-12)
    assert abs(r.value - 2.5) < 1e-12
    # sqrt singularity at an end point: integral_0^1 sqrt(x) = 2/3
    r = integrate_adaptive(lambda x: np.sqrt(x), [0.0, 1.0], rtol=1e-10)
    assert abs(r.value - 2 / 3) < 1e-9


def test_adaptive_never_silent_on_failure():
    # A step not given as a breakpoint needs many bisections; a budget of 3
    # panels cannot reach the tolerance: must raise, or warn with the achieved
    # error when asked to.
    step = lambda x: (x > 0.3141).astype(float)
    with pytest.raises(IntegrationError):
        integrate_adaptive(step, [0.0, 1.0], rtol=1e-14, atol=0, max_panels=3)
    with pytest.warns(IntegrationWarning):
        integrate_adaptive(step, [0.0, 1.0], rtol=1e-14, atol=0, max_panels=3, on_fail="warn")
    with pytest.raises(InputError):
        integrate_adaptive(step, [1.0, 1.0])
    # a divergent integral (1/x^2 at an interior point) exhausts any budget
    with pytest.raises(IntegrationError, match="estimated error"):
        integrate_adaptive(lambda x: 1.0 / (x - 0.3141) ** 2, [0.0, 1.0])


@pytest.mark.parametrize("temperature", [0.0, 30.0, 300.0, 3000.0])
@pytest.mark.parametrize("eps", [-0.3, -0.01, 0.05, 0.7])
def test_matsubara_sum_reproduces_fermi_function(temperature, eps):
    # For one level, rho = 1/2 + S[Re 1/(z - eps)] must equal n_F(eps - mu)
    # exactly (the identity sum_n 1/(a^2 + w_n^2) = tanh(a/2kT)/(4 a kT)).
    r = matsubara_sum(lambda z: (1.0 / (z - eps)).real, 0.0, temperature)
    assert abs(0.5 + r.value - fermi(eps, 0.0, temperature)) < 1e-9
    assert r.error < 1e-8


def test_fermi_sea_integral_of_analytic_function():
    # integral n_F(E) F(E) dE = -i pi S[F] for F = 1/(E - c)^2, c in the lower
    # half plane; at T = 0 the left side is integral_{-inf}^0 dE/(E-c)^2 = -1/c... =
    # [ -1/(E - c) ]_{-inf}^{0} = 1/c.
    c = 0.2 - 0.05j
    r = matsubara_sum(lambda z: 1.0 / (z - c) ** 2, 0.0, 0.0)
    assert abs(-1j * math.pi * r.value - 1.0 / c) < 1e-9


@pytest.mark.parametrize("center", [0.0123, 1.0, 3.6])
@pytest.mark.parametrize("width", [1e-6, 1e-10])
def test_graded_breakpoints_resolve_a_narrow_peak(center, width):
    # integral of the unit Lorentzian (w/pi)/((x-c)^2 + w^2) over [c - 1, c + 1.3]
    # = (atan(1.3/w) + atan(1/w))/pi.
    from currentforces.integrate import graded_breakpoints

    lor = lambda x: width / math.pi / ((x - center) ** 2 + width**2)
    a, b = center - 1.0, center + 1.3
    exact = (math.atan(1.3 / width) + math.atan(1.0 / width)) / math.pi
    pts = [a, b, *graded_breakpoints(a, b, [center], [width])]
    r = integrate_adaptive(lor, pts, rtol=1e-10, atol=0)
    # the nodes of panels a few ulps wide are rounded (eps |x| ~ 1e-16 against
    # w = 1e-10 at x = 3.6): the weights of the rounded nodes keep it exact
    assert abs(r.value - exact) <= r.error <= 1e-10 * exact


def test_groups_have_their_own_tolerance():
    # two quantities of very different size in one integral: with one shared
    # scale the small one would be judged against the large one
    # (exact: int_0^1 1e6 dx = 1e6; int_0^1 1e-6 exp(30 x) dx = 1e-6 (e^30 - 1)/30 / e^30)
    f = lambda x: np.stack([np.full(x.shape, 1e6), 1e-6 * np.exp(30 * (x - 1))], axis=1)
    small = 1e-6 * (1 - math.exp(-30)) / 30
    shared = integrate_adaptive(f, [0.0, 1.0], rtol=1e-10, atol=0)
    per = integrate_adaptive(f, [0.0, 1.0], rtol=1e-10, atol=0, groups=[1, 1])
    assert abs(per.value[1] - small) <= per.errors[1] <= 1e-10 * small
    assert per.errors[0] <= 1e-10 * 1e6
    assert shared.errors.shape == (1,) and shared.error > 1e-10 * small


def test_error_estimates_bound_true_errors_of_narrow_peaks():
    # 200 random Lorentzians (widths 1e-11 ... 1e-5 eV, centres 0.01 ... 5 eV):
    # the estimate is never below the true error
    from currentforces.integrate import graded_breakpoints

    rng = np.random.default_rng(1)
    for _ in range(200):
        c = 10 ** rng.uniform(-2, 0.7) * rng.choice([-1, 1])
        w = 10 ** rng.uniform(-11, -5)
        a, b = c - 1 - rng.uniform(), c + 1 + rng.uniform()
        lor = lambda x: w / math.pi / ((x - c) ** 2 + w * w)
        r = integrate_adaptive(lor, [a, b, *graded_breakpoints(a, b, [c], [w])], rtol=1e-12, atol=0, on_fail="warn")
        exact = (math.atan((b - c) / w) + math.atan((c - a) / w)) / math.pi
        assert abs(r.value - exact) <= r.error


def test_fermi_derivative_rule_exactness_and_convergence():
    # The n-point rule for -dn_F/dx = 1/(4 cosh^2(x/2)) is exact for x^k,
    # k <= 2n - 1: even moments of the logistic density are
    # (2^{2j} - 2) pi^{2j} |B_{2j}| (1, pi^2/3, 7 pi^4/15, 31 pi^6/21, ...).
    from currentforces.integrate import fermi_derivative_rule

    # |B_0|, |B_2|, ..., |B_16| (exact fractions)
    b = {2 * j: v for j, v in enumerate([1, 1 / 6, 1 / 30, 1 / 42, 1 / 30, 5 / 66, 691 / 2730, 7 / 6, 3617 / 510])}
    for n in (1, 2, 4, 8):
        x, w = fermi_derivative_rule(n)
        assert np.all(np.diff(x) > 0) and abs(w.sum() - 1) < 1e-14
        for j in range(n):  # degree 2j <= 2n - 2; odd moments vanish by symmetry
            exact = 1.0 if j == 0 else (2 ** (2 * j) - 2) * math.pi ** (2 * j) * abs(b[2 * j])
            assert abs(w @ x ** (2 * j) - exact) < 1e-12 * exact
            assert abs(w @ x ** (2 * j + 1)) < 1e-12 * max(1.0, exact) * 10
        if n < 8:  # degree 2n is beyond the rule
            exact = (2 ** (2 * n) - 2) * math.pi ** (2 * n) * abs(b[2 * n])
            assert abs(w @ x ** (2 * n) - exact) > 1e-6 * exact
    # a smooth non-polynomial: int (-n') cos(a x) dx = pi a / sinh(pi a)
    # (Fourier transform of the logistic density), converging with n
    a = 0.7
    errors = [
        abs(
            fermi_derivative_rule(n)[1] @ np.cos(a * fermi_derivative_rule(n)[0]) - math.pi * a / math.sinh(math.pi * a)
        )
        for n in (4, 8, 16, 32)
    ]
    assert errors[-1] < 1e-14 and all(e2 < 0.1 * e1 for e1, e2 in zip(errors[:2], errors[1:3]))
    for bad in (0, 257, 2.5, True, "4"):
        with pytest.raises(InputError, match="n must be"):
            fermi_derivative_rule(bad)


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_non_integrable_band_edge_stops_at_once(power):
    # 1/|E - E_edge|^p, p >= 1, has no integral over an interval that ends at
    # the edge (in u, E = E_edge -+ u^2, it is 2 u^(1 - 2p)); the integral over
    # the panel next to the edge stays (p = 1) or grows (p = 2) as the panel is
    # halved, where an integrable edge gives 1/2 or less.  Before: bisection
    # to the panel budget (3,000 panels, nodes on the edge, error nan).
    from currentforces.integrate import EDGE_HALVINGS

    with np.errstate(divide="ignore"):
        with pytest.raises(IntegrationError, match="band edge at 1.0 eV did not shrink") as info:
            integrate_adaptive(lambda e: np.abs(e - 1.0) ** -power, [0.0, 2.0], rtol=1e-10, atol=0, edges=[1.0])
    # two edge panels, each evaluated and extended to 31 nodes once (2), then
    # halved EDGE_HALVINGS times, each halving evaluating the panel at the edge
    # and the other half, which may be extended once more (3): the panel count
    # of the message, which counts an extension as a panel evaluated
    assert "stopped after" in str(info.value) and np.isfinite(info.value.error)
    assert info.value.edge == 1.0  # the caller can tell a non-integrable edge from a slow integral
    assert int(str(info.value).split("stopped after ")[1].split()[0]) <= 2 * (2 + 3 * EDGE_HALVINGS)
    # an integrable edge in the same place is exact: int_0^2 |E - 1|^(-1/2) dE = 4
    r = integrate_adaptive(lambda e: np.abs(e - 1.0) ** -0.5, [0.0, 2.0], rtol=1e-12, atol=0, edges=[1.0])
    assert abs(r.value - 4.0) <= r.error <= 1e-12 * 4.0
