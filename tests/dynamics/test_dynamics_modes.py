"""Mode analysis and runaway thresholds against the two-mode closed forms of
docs/theory.rst theory-two-modes."""

from __future__ import annotations

import numpy as np
import pytest

import currentforces.coupling
from currentforces.coupling import coefficients_from_junction
from currentforces.dynamics import analyze_modes, runaway_threshold
from currentforces.errors import InputError
from currentforces.units import AMU, HBAR

W0 = 0.05 / HBAR  # a typical vibrational angular frequency, rad/fs


def two_mode(m1, m2, w1sq, w2sq, kappa, eta1, eta2, b):
    """Unweighted K, L whose mass-weighted forms are those of eq-two-mode-matrices.

    frak K = [[w1^2, kappa], [-kappa, w2^2]], frak D = -L~ = [[eta1, -b], [b, eta2]],
    K = M^1/2 frak K M^1/2, L = -M^1/2 frak D M^1/2 (masses in amu -> internal).
    """
    s = np.sqrt(np.array([m1, m2]) * AMU)
    kk = np.array([[w1sq, kappa], [-kappa, w2sq]])
    dd = np.array([[eta1, -b], [b, eta2]])
    return np.outer(s, s) * kk, -np.outer(s, s) * dd


def test_characteristic_polynomial_and_routh_hurwitz():
    """Eigenvalues reproduce the quartic eq-quartic; stability agrees with Routh-Hurwitz.

    a3 = eta1+eta2, a2 = w1^2+w2^2+eta1 eta2+b^2, a1 = eta1 w2^2+eta2 w1^2-2b kappa,
    a0 = w1^2 w2^2+kappa^2; stable <=> a3, a1, a0 > 0, a3 a2 - a1 > 0,
    H3 = a3 a2 a1 - a1^2 - a3^2 a0 > 0.  Random parameters, unequal masses
    (checks the mass weighting); cases within 1e-6 W0 of the boundary skipped.
    """
    rng = np.random.default_rng(5)
    checked = 0
    for _ in range(1500):
        m1, m2 = rng.uniform(1, 60, 2)
        w1sq, w2sq = (W0 * rng.uniform(0.6, 1.4, 2)) ** 2
        kappa = W0**2 * rng.uniform(-0.3, 0.3)
        eta1, eta2 = W0 * rng.uniform(-0.05, 0.3, 2)
        b = W0 * rng.uniform(-0.3, 0.3)
        k, l = two_mode(m1, m2, w1sq, w2sq, kappa, eta1, eta2, b)
        res = analyze_modes([m1, m2], k, None, l)
        a3 = eta1 + eta2
        a2 = w1sq + w2sq + eta1 * eta2 + b * b
        a1 = eta1 * w2sq + eta2 * w1sq - 2 * b * kappa
        a0 = w1sq * w2sq + kappa**2
        coeffs = np.real(np.poly(res.eigenvalues))
        assert np.allclose(coeffs, [1, a3, a2, a1, a0], rtol=1e-8, atol=1e-10 * np.array([1, W0, W0**2, W0**3, W0**4]))
        if abs(res.max_growth_rate) < 1e-6 * W0:
            continue
        h3 = a3 * a2 * a1 - a1**2 - a3**2 * a0
        rh = a3 > 0 and a1 > 0 and a0 > 0 and a3 * a2 - a1 > 0 and h3 > 0
        assert rh == res.is_stable
        checked += 1
    assert checked > 1400


def test_equal_friction_threshold_nondegenerate():
    """eq-threshold-equal-friction (exact):
    runaway <=> 4 kappa^2 > (w1^2-w2^2)^2 + 2 eta^2 (w1^2+w2^2).

    kappa = kappa0 * bias, so the threshold bias is kappa*/kappa0.
    """
    m1, m2, eta = 12.0, 16.0, 0.02 * W0
    w1sq, w2sq = (1.02 * W0) ** 2, (0.98 * W0) ** 2
    kappa_star = 0.5 * np.sqrt((w1sq - w2sq) ** 2 + 2 * eta**2 * (w1sq + w2sq))
    kappa0 = W0**2 * 0.1  # per volt

    def coefficients(bias):
        k, l = two_mode(m1, m2, w1sq, w2sq, kappa0 * bias, eta, eta, 0.0)
        k0, _ = two_mode(m1, m2, w1sq, w2sq, 0.0, eta, eta, 0.0)
        return k - k0, l  # current-induced part only

    bare, _ = two_mode(m1, m2, w1sq, w2sq, 0.0, eta, eta, 0.0)
    res = runaway_threshold(coefficients, [m1, m2], bare, 3.0, n_scan=31, tolerance=1e-7)
    assert res.found
    assert res.bias == pytest.approx(kappa_star / kappa0, rel=1e-5)
    assert res.character == "waterwheel"


@pytest.mark.parametrize("berry_sign", [+1.0, -1.0])
def test_degenerate_threshold_with_berry_term(berry_sign):
    """eq-threshold-degenerate (exact): w1 = w2 = w, equal eta:
    runaway <=> kappa^2 + eta b kappa > eta^2 w^2.

    With kappa = kappa0 V and b = b0 V the condition reads
    V^2 (kappa0^2 + eta b0 kappa0) > eta^2 w^2, so V* = eta w / sqrt(kappa0^2 + eta b0 kappa0).
    """
    m, eta = 20.0, 0.03 * W0
    kappa0, b0 = 0.05 * W0**2, berry_sign * 0.5 * W0
    v_star = eta * W0 / np.sqrt(kappa0**2 + eta * b0 * kappa0)
    bare, _ = two_mode(m, m, W0**2, W0**2, 0.0, eta, eta, 0.0)

    def coefficients(bias):
        k, l = two_mode(m, m, W0**2, W0**2, kappa0 * bias, eta, eta, b0 * bias)
        return k - bare, l

    res = runaway_threshold(coefficients, [m, m], bare, 5.0, n_scan=51, tolerance=1e-8)
    assert res.bias == pytest.approx(v_star, rel=1e-5)
    assert res.character == "waterwheel"
    # without the Berry term the threshold is |kappa| = eta w
    if berry_sign > 0:
        assert res.bias < eta * W0 / kappa0
    else:
        assert res.bias > eta * W0 / kappa0


def test_negative_friction_and_static_softening_characters():
    m = 10.0
    mm = m * AMU
    k0 = mm * W0**2
    eta = 0.01 * W0 * mm
    # friction eta - c V turns negative at V = eta/c: a single mode with eta <= 0
    # is unstable (docs/theory.rst, theory-joule)
    c = eta / 0.37
    res = runaway_threshold(lambda v: (np.zeros((1, 1)), np.array([[-eta + c * v]])), [m], [[k0]], 1.0, tolerance=1e-9)
    assert res.bias == pytest.approx(0.37, rel=1e-6)
    assert res.character == "negative friction"
    # softening K = -c V makes omega^2 < 0 at V = k0/c
    c = k0 / 0.61
    res = runaway_threshold(lambda v: (np.array([[-c * v]]), np.array([[-eta]])), [m], [[k0]], 1.0, tolerance=1e-9)
    assert res.bias == pytest.approx(0.61, rel=1e-6)
    assert res.character == "static softening"
    # stable throughout
    res = runaway_threshold(lambda v: (np.zeros((1, 1)), np.array([[-eta]])), [m], [[k0]], 1.0)
    assert not res.found and res.character == "stable"


def test_mode_report_frequencies_and_growth():
    """Single damped mode: lambda = -eta/2M +- i sqrt(w0^2 - (eta/2M)^2)."""
    m = 7.0
    mm = m * AMU
    gamma = 0.1 * W0
    res = analyze_modes([m], [[mm * W0**2]], None, [[-gamma * mm]])
    wd = np.sqrt(W0**2 - gamma**2 / 4)
    assert np.allclose(res.growth_rates, -gamma / 2)
    assert np.allclose(np.sort(res.frequencies), [-HBAR * wd, HBAR * wd])
    assert res.is_stable and res.characters == ("stable", "stable")
    assert np.all(res.friction_power < 0) and np.allclose(res.nonconservative_power, 0)


def test_bad_input():
    with pytest.raises(InputError, match="masses"):
        analyze_modes([1.0, -2.0], np.eye(2))
    with pytest.raises(InputError, match="masses"):
        analyze_modes([1.0, 0.0], np.eye(2))
    with pytest.raises(InputError, match="bare_force_constants"):
        analyze_modes([1.0, 2.0], np.eye(3))
    with pytest.raises(InputError, match="L"):
        analyze_modes([1.0, 2.0], np.eye(2), None, np.ones((2, 3)))
    with pytest.raises(InputError, match="n_scan"):
        runaway_threshold(lambda v: (None, None), [1.0], [[1.0]], 1.0, n_scan=1)


def test_coefficients_from_junction_calls_engine(monkeypatch):
    """The wrapper forwards its arguments to currentforces.force_coefficients."""
    calls = []

    class Result:
        K = np.eye(2)
        L = -np.eye(2)

    def fake(junction, forces, **kw):
        calls.append((junction, forces, kw))
        return Result()

    seas = []

    def fake_sea(junction, forces, **kw):
        seas.append((junction, forces, kw))
        return "SEA"

    monkeypatch.setattr(currentforces.coupling, "force_coefficients", fake)
    monkeypatch.setattr(currentforces.coupling, "fermi_sea_part", fake_sea)
    coef = coefficients_from_junction("J", "F", temperature=10.0, fermi_level=0.1, spin=1)
    k, l = coef(0.25)
    assert np.array_equal(k, np.eye(2)) and np.array_equal(l, -np.eye(2))
    assert calls == [
        ("J", "F", dict(bias=0.25, temperature=10.0, fermi_level=0.1, hbar_omega=0.0, spin=1, fermi_sea="SEA"))
    ]
    # the bias-independent Fermi-sea part is computed once for every bias of a scan
    coef(0.5)
    assert seas == [("J", "F", dict(fermi_level=0.1, temperature=10.0, hbar_omega=0.0))]
    assert calls[1][2]["fermi_sea"] == "SEA"


def test_rotating_wave_growth_rate():
    """eq-rotating-wave: gamma = -(eta1+eta2)/4 + Re sqrt(d^2 - c^2),
    d = [i Delta + (eta1-eta2)/2]/2, c = b/2 - i kappa/(2 w_bar).

    Valid to leading order in eps = max(|Delta|, eta, |b|, |kappa|/w_bar)/w_bar;
    here eps <= 0.05 and the test allows |gamma_RWA - max Re lambda| < 0.5 eps^2 w_bar
    (the observed maximum is 1.3e-4 w_bar for eps = 0.05, 200 random cases).
    """
    rng = np.random.default_rng(3)
    eps = 0.05
    for _ in range(200):
        delta = W0 * rng.uniform(-0.6, 0.6) * eps
        e1, e2 = W0 * rng.uniform(0, eps, 2)
        b = W0 * rng.uniform(-eps, eps)
        kappa = W0**2 * rng.uniform(-eps, eps)
        w1, w2 = W0 + delta / 2, W0 - delta / 2
        k, l = two_mode(5.0, 9.0, w1**2, w2**2, kappa, e1, e2, b)
        g = analyze_modes([5.0, 9.0], k, None, l).max_growth_rate
        d = (1j * delta + (e1 - e2) / 2) / 2
        c = b / 2 - 1j * kappa / (2 * W0)
        g_rwa = -(e1 + e2) / 4 + np.sqrt(d * d - c * c + 0j).real
        assert abs(g_rwa - g) < 0.5 * eps**2 * W0
