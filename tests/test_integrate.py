"""Occupations and quadrature: exactness, overflow safety, error reporting."""

import math
import warnings

import numpy as np
import pytest

from currentforces.errors import InputError, IntegrationError, IntegrationWarning
from currentforces.integrate import (
    GK_NODES,
    GK_WEIGHTS,
    G_WEIGHTS,
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
        for j in range(n):   # degree 2j <= 2n - 2; odd moments vanish by symmetry
            exact = 1.0 if j == 0 else (2 ** (2 * j) - 2) * math.pi ** (2 * j) * abs(b[2 * j])
            assert abs(w @ x ** (2 * j) - exact) < 1e-12 * exact
            assert abs(w @ x ** (2 * j + 1)) < 1e-12 * max(1.0, exact) * 10
        if n < 8:   # degree 2n is beyond the rule
            exact = (2 ** (2 * n) - 2) * math.pi ** (2 * n) * abs(b[2 * n])
            assert abs(w @ x ** (2 * n) - exact) > 1e-6 * exact
    # a smooth non-polynomial: int (-n') cos(a x) dx = pi a / sinh(pi a)
    # (Fourier transform of the logistic density), converging with n
    a = 0.7
    errors = [abs(fermi_derivative_rule(n)[1] @ np.cos(a * fermi_derivative_rule(n)[0])
                  - math.pi * a / math.sinh(math.pi * a)) for n in (4, 8, 16, 32)]
    assert errors[-1] < 1e-14 and all(e2 < 0.1 * e1 for e1, e2 in zip(errors[:2], errors[1:3]))
    for bad in (0, 257, 2.5, True, "4"):
        with pytest.raises(InputError, match="n must be"):
            fermi_derivative_rule(bad)
