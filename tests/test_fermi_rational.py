"""Closed-form Fermi-weighted integrals of rational functions (currentforces.fermi_rational).

Oracles: scipy.special.polygamma on the real axis and scipy.special.psi
(complex digamma); the recurrence and reflection identities of psi (exact
identities, Abramowitz and Stegun 6.3.5, 6.3.7); scipy.integrate.quad of the
Fermi-weighted rational functions on the real axis (an independent
algorithm); the T -> 0 limit psi(x) ~ log x.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, special

from currentforces.fermi_rational import (
    TAYLOR_RATIO,
    difference_matrix,
    divided_difference,
    fermi_primitive,
    polygamma,
    second_divided_difference,
)
from currentforces.units import KB

ROUNDING = 1e-13
"""Relative agreement expected of closed forms summed in double precision
(a few hundred ulp: recurrence of up to 24 steps and cancellation in
differences of O(10) numbers)."""

QUAD = 1e-11
"""Relative agreement with scipy.integrate.quad at epsrel 1e-13 (its
achieved accuracy on these smooth, piecewise integrands)."""


def test_polygamma_matches_scipy_on_the_real_axis():
    # scipy.special.polygamma is exact to rounding for real arguments
    x = np.linspace(0.5, 60.0, 97)
    for n in range(5):
        ref = special.polygamma(n, x)
        np.testing.assert_allclose(polygamma(n, x + 0j).real, ref, rtol=ROUNDING)
        assert np.max(np.abs(polygamma(n, x + 0j).imag)) == 0.0


def test_digamma_matches_scipy_off_the_axis():
    # scipy.special.psi takes complex arguments (n = 0 only)
    rng = np.random.default_rng(1)
    z = 0.5 + 30 * rng.random(200) + 1j * rng.normal(scale=40, size=200)
    np.testing.assert_allclose(polygamma(0, z), special.psi(z), rtol=ROUNDING)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_polygamma_recurrence_and_reflection(n):
    # psi^(n)(z + 1) = psi^(n)(z) + (-1)^n n!/z^(n+1) (A&S 6.4.6), and on the
    # line Re z = 1/2 the reflection psi(1 - z) - psi(z) = pi cot(pi z)
    # (A&S 6.3.7) differentiated n times: (-1)^n psi^(n)(1 - z) - psi^(n)(z) = pi d^n/dz^n cot(pi z)
    y = np.linspace(-15.0, 15.0, 31)
    z = 0.5 + 1j * y + 0.3
    lhs = polygamma(n, z + 1) - polygamma(n, z)
    np.testing.assert_allclose(lhs, (-1) ** n * math.factorial(n) / z ** (n + 1), rtol=ROUNDING, atol=0)
    z = 0.5 + 1j * y
    w = np.pi * z
    cot = np.cos(w) / np.sin(w)
    derivs = {1: -(np.pi**2) * (1 + cot**2), 2: 2 * np.pi**3 * cot * (1 + cot**2)}
    derivs[3] = -2 * np.pi**4 * (1 + cot**2) * (1 + 3 * cot**2)
    got = (-1) ** n * polygamma(n, 1 - z) - polygamma(n, z)
    np.testing.assert_allclose(got, np.pi**0 * derivs[n], rtol=ROUNDING, atol=ROUNDING * np.abs(derivs[n]).max())


def _fermi(e, mu, t):
    return np.where(e < mu, 1.0, 0.0) if t == 0 else special.expit(-(e - mu) / (KB * t))


def _quad(fun, points):
    """int_{-inf}^{inf} fun by scipy quad, split at ``points`` (complex fun)."""
    edges = sorted(points)
    total = 0j
    pieces = [(-np.inf, edges[0]), *zip(edges[:-1], edges[1:]), (edges[-1], np.inf)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)  # quad's roundoff notice; agreement is asserted
        for lo, hi in pieces:
            for part, unit in ((np.real, 1.0), (np.imag, 1j)):
                val = integrate.quad(lambda e: part(fun(e)), lo, hi, epsabs=0, epsrel=1e-13, limit=500)[0]
                total += unit * val
    return total


@pytest.mark.parametrize("temperature", [0.0, 1.0, 300.0, 3000.0])
def test_closed_forms_against_quad(temperature):
    # int n/((E-a)(E-b)) = Q[a, b] (both half planes), int n/((E-a)^2 (E-b)) =
    # Q[a, a, b], int (-n') /((E-a)(E-b)) = -Q'[a, b]: quad on the real axis
    mu = 0.05
    a, b, c = 0.1 - 0.03j, -0.2 + 0.05j, 0.3 - 0.2j
    pts = [mu - 1.0, mu, mu + 1.0, a.real, b.real, c.real]
    n = lambda e: _fermi(e, mu, temperature)  # noqa: E731
    for p, q in ((a, b), (a, c), (b, c)):
        ref = _quad(lambda e, p=p, q=q: n(e) / ((e - p) * (e - q)), pts)
        got, err = divided_difference(p, q, mu, temperature)
        assert abs(got - ref) <= QUAD * abs(ref)
        assert err <= ROUNDING * abs(ref)
    ref = _quad(lambda e: n(e) / ((e - a) ** 2 * (e - c)), pts)
    assert abs(second_divided_difference(a, c, mu, temperature)[0] - ref) <= QUAD * abs(ref)
    if temperature > 0:
        kt = KB * temperature
        ref = _quad(lambda e: n(e) * (1 - n(e)) / kt / ((e - a) * (e - b)), pts)
        assert abs(-divided_difference(a, b, mu, temperature, order=1)[0] - ref) <= QUAD * abs(ref)


def test_single_poles_with_zero_residue_sum():
    # int n(E - mu) [1/(E - a) - 1/(E - a*)] = 2 i int n Im 1/(E - a): for
    # a = eps - i g, Im 1/(E - a) = -g/((E - eps)^2 + g^2), so this is -2 pi i
    # times the occupation of a Lorentzian level, (1/2 + atan((mu - eps)/g)/pi) at T = 0 (closed form of the
    # Lorentzian's integral), and quad at T > 0
    eps, g, mu = 0.2, 0.01, 0.15
    a = eps - 1j * g
    got = fermi_primitive(a, mu, 0.0) - fermi_primitive(np.conj(a), mu, 0.0)
    want = -2j * np.pi * (0.5 + math.atan((mu - eps) / g) / np.pi)
    assert abs(got - want) <= ROUNDING * abs(want)
    t = 300.0
    got = fermi_primitive(a, mu, t) - fermi_primitive(np.conj(a), mu, t)
    ref = _quad(lambda e: _fermi(e, mu, t) * (1 / (e - a) - 1 / (e - np.conj(a))), [mu, eps])
    assert abs(got - ref) <= QUAD * abs(ref)


def test_zero_temperature_limit_of_the_digamma_form():
    # psi(x) ~ log x for large x: Q_T -> Q_0 + a real constant -log(2 pi k_B T)
    # plus O((k_B T / |a - mu|)^2); the constant cancels in every difference
    a = np.array([0.1 - 0.03j, -0.2 + 0.05j, 0.4 + 0.001j])
    t = 1e-3
    d_t = fermi_primitive(a, 0.0, t) - fermi_primitive(a[::-1], 0.0, t)
    d_0 = fermi_primitive(a, 0.0, 0.0) - fermi_primitive(a[::-1], 0.0, 0.0)
    scale = (KB * t / 0.03) ** 2  # the first correction of the asymptotic series
    np.testing.assert_allclose(d_t, d_0, rtol=0, atol=10 * scale + ROUNDING)


@pytest.mark.parametrize("temperature", [0.0, 300.0])
def test_near_degenerate_divided_differences_are_accurate(temperature):
    # the Taylor branch (|b - a| < TAYLOR_RATIO rho) against the quotient
    # evaluated in extended reasoning: for h just above the switch-over, the
    # quotient is accurate to eps |Q| / h; below it the series is used; the
    # two agree at the switch (continuity), and at h -> 0 the series gives
    # the derivative Q'(a) (confluent limit, exact definition)
    mu, a = 0.0, 0.05 - 0.02j
    rho = abs(a - mu - 1j * math.pi * KB * temperature)
    for h in (1e-9, 1e-4 * rho, 0.99 * TAYLOR_RATIO * rho):
        b = a + h * np.exp(0.7j)
        s, err = divided_difference(a, b, mu, temperature)
        ref = _quad(lambda e, b=b: _fermi(e, mu, temperature) / ((e - a) * (e - b)), [mu, a.real, b.real])
        assert abs(s - ref) <= QUAD * abs(ref)
        assert err <= ROUNDING * abs(ref)
        s2, _ = second_divided_difference(a, b, mu, temperature)
        ref2 = _quad(lambda e, b=b: _fermi(e, mu, temperature) / ((e - a) ** 2 * (e - b)), [mu, a.real, b.real])
        assert abs(s2 - ref2) <= QUAD * abs(ref2)
    # exact degeneracy: the derivative
    s, _ = divided_difference(a, a, mu, temperature)
    assert abs(s - fermi_primitive(a, mu, temperature, 1)) <= ROUNDING * abs(s)


def test_bound_pole_jumps_cancel_in_a_window_whichever_branch_a_pair_takes():
    # A Fermi window n(E - mu1) - n(E - mu2) against 1/((E - x)(E - y)), with
    # y a bound pole (real to working precision, here just above the axis:
    # the conjugate of an eigenvalue of h + Sigma, as in the mixed window of
    # the force coefficients) 6.3 eV below both chemical potentials, where the
    # window vanishes.  Expected value: the same combination with y mirrored
    # into x's half plane (no pair crosses the real axis, so no jump term
    # anywhere), equal to it up to |Im y| / |x - y|^2 ~ 1e-13 because the
    # window vanishes at y.  The pair is placed so that TAYLOR_RATIO rho(x)
    # puts it in the Taylor branch for mu1 and the direct quotient for mu2
    # (rho depends on mu): before, the Taylor branch left the bound pole's
    # jump (2 pi i here: n_F = 1) out and the quotient kept it, an error
    # 2 pi / |x - y| ~ 21 (the random dense device of benchmarks/
    # bench_quadrature.py at 1000 K, hbar w = 0.01 eV, had L off by 3e-3).
    temperature, mu1, mu2 = 1000.0, 0.0, -0.01
    x = -6.0 - 0.003j
    kt_pi = math.pi * KB * temperature
    thresholds = [TAYLOR_RATIO * abs(x - mu - 1j * kt_pi) for mu in (mu1, mu2)]
    assert thresholds[0] > thresholds[1]
    h = 0.5 * (thresholds[0] + thresholds[1])
    y = complex(x.real - math.sqrt(h * h - (1e-14 - x.imag) ** 2), 1e-14)
    assert thresholds[1] < abs(y - x) < thresholds[0]
    bound = np.array([True])

    def window(pole, flags):
        d1, e1 = difference_matrix([x], [pole], mu1, temperature, bound=flags)
        d2, e2 = difference_matrix([x], [pole], mu2, temperature, bound=flags)
        return complex((d1 - d2)[0, 0]), float((e1 + e2)[0, 0])

    got, err = window(y, bound)
    ref, _ = window(np.conj(y), None)
    # each chemical potential's value is ~ 2 pi / |x - y| ~ 21 (the jump) and
    # the window is their difference, 2.7e-4: rounding of a few eps * 21,
    # ~ 1e-14, i.e. ~ 4e-11 of the result (3e-12 measured); the estimate
    # covers it (1.2e-10 of the result)
    assert abs(got - ref) <= 1e-10 * abs(ref)
    assert abs(got - ref) <= err < 1e-9 * abs(ref)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="Re z"):
        polygamma(1, 0.2 + 1j)
    with pytest.raises(ValueError, match="non-negative"):
        polygamma(-1, 1.0)
    with pytest.raises(ValueError, match="temperature"):
        fermi_primitive(0.1 - 1j, 0.0, -1.0)
