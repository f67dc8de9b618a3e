"""Tuning of the window quadrature of force_coefficients (issue 11): each
change keeps the answer, and the number of Green's-function energies it
needs stays bounded (counted with Junction.count_energies, never timed)."""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import expit

from currentforces import Junction, WideBandLead, force_coefficients
from currentforces import forces as forces_module
from currentforces.errors import InputError
from currentforces.integrate import THERMAL_CUTOFF, thermal_cutoff
from currentforces.units import HBAR, KB

SPIN = 2


def test_thermal_cutoff_follows_the_tolerance():
    # c = ln(1/rtol) + 12, capped at the fixed 40 k_B T used before: the
    # occupation factors beyond c k_B T are below rtol e^-12
    assert thermal_cutoff(1e-6) == pytest.approx(math.log(1e6) + 12.0, rel=1e-15)
    assert math.exp(-thermal_cutoff(1e-6)) == pytest.approx(1e-6 * math.exp(-12.0), rel=1e-12)
    assert thermal_cutoff(1e-13) == THERMAL_CUTOFF
    for bad in (0.0, 1.0, -1e-3):
        with pytest.raises(InputError, match="rtol"):
            thermal_cutoff(bad)


def _level_and_far_state(far):
    """Site 0: a level at 0 eV between wide-band leads (Gamma_l = 0.2 eV);
    site 1: a state at ``far`` eV decoupled from everything, with force
    operators f_0 on site 0 and f_1 on site 1 (no G_01, so the two never mix)."""
    gam = np.diag([0.2, 0.0])
    j = Junction(np.diag([0.0, far]), [WideBandLead(gam), WideBandLead(gam)])
    f = [np.diag([1.0, 0.0]), np.diag([0.0, 1.0])]
    j1 = Junction(np.array([[0.0]]), [WideBandLead(np.array([[0.2]])), WideBandLead(np.array([[0.2]]))])
    return j, f, j1, [np.array([[1.0]])]


def test_decoupled_state_beyond_the_tolerance_window_is_no_error(monkeypatch):
    # At 1000 K a decoupled state 30 k_B T above the bias window lay inside
    # the fixed 40 k_B T window, and force_coefficients raised
    # BoundStateError (its real pole on the window path) although its
    # occupation differences there are e^-30 = 1e-13.  At rtol 1e-6 the
    # window ends 25.8 k_B T out (thermal_cutoff), the state is outside it.
    t = 1000.0
    far = 0.05 + 30.0 * KB * t
    j, f, j1, f1 = _level_and_far_state(far)
    with j.count_energies() as c:
        r = force_coefficients(j, f, bias=0.1, temperature=t, rtol=1e-6)
    # the one-site junction by the same (numerical) route: with the bound state
    # the closed forms of currentforces.spectral do not apply to j
    monkeypatch.setattr(forces_module, "_SPECTRAL", False)
    with j1.count_energies() as c1:
        r1 = force_coefficients(j1, f1, bias=0.1, temperature=t, rtol=1e-6)
    monkeypatch.undo()
    # oracle: the state is decoupled (no G_01), so every site-0 quantity is the
    # one-site junction's, and the site-1 state, occupied with
    # n_F(E_b - mu_0) = e^-31, contributes below 1e-12 to F0 and K, nothing to L
    assert r.mean_force[0] == pytest.approx(r1.mean_force[0], rel=1e-6)
    assert r.K[0, 0] == pytest.approx(r1.K[0, 0], rel=1e-6)
    assert r.L[0, 0] == pytest.approx(r1.L[0, 0], rel=1e-6)
    assert abs(r.mean_force[1]) < 1e-12 and np.abs(r.K[1]).max() < 1e-11 and np.abs(r.K[:, 1]).max() < 1e-11
    assert np.abs(r.L[1]).max() < 1e-12 * np.abs(r.L).max() + 1e-15
    # count: nothing is graded around the state (it lies outside the window,
    # and the window integral takes as many energies as without it); the
    # extra energies are the state's own (the regular part of G at E_b + i d,
    # d/2, d/4: 3) and a few more Fermi-sea poles, whose number grows like
    # log(E_scale / k_B T) with the wider spectrum (21 more measured): at most 30
    assert c.energies <= c1.energies + 30


def _im_pi_reference(eps0, gamma_l, temperature, w, mus):
    """Im Pi(w) of one level between identical wide-band leads by scipy's quad:
    Im Pi = (1/2pi) sum_l int n_l A_l Im[G(E + w) + G*(E - w)]
          = -(1/4pi) sum_l int n_l A_l [A(E + w) - A(E - w)],
    A = Gamma / ((E - eps0)^2 + Gamma^2/4), A_l = A / 2, with breakpoints at
    the three Lorentzian centres and decades of Gamma around them."""
    gam = 2 * gamma_l
    kt = KB * temperature

    def a(e):
        return gam / ((e - eps0) ** 2 + gam**2 / 4)

    def integrand(e):
        n = sum(expit(-(e - mu) / kt) for mu in mus)
        return -n * 0.5 * a(e) * (a(e + w) - a(e - w)) / (4 * math.pi)

    centres = (eps0, eps0 - w, eps0 + w)
    pts = sorted({c + s * gam * 10.0**k for c in centres for k in range(-1, 11) for s in (-1, 1)} | set(centres))
    edges = [-np.inf, *pts, np.inf]
    return sum(quad(integrand, a_, b_, epsabs=0.0, epsrel=1e-11, limit=500)[0] for a_, b_ in zip(edges[:-1], edges[1:]))


def test_finite_frequency_friction_of_a_narrow_level_meets_its_own_tolerance():
    # L = hbar Im Pi / w is ~1e-6 of Re Pi here; the window integral judged
    # each complex piece by |value|, so Im was integrated to rtol of Re and
    # L's estimate missed rtol of L: IntegrationError at the default
    # on_fail (issue 11 benchmark, case iii, 300 K).  Re and Im are now
    # separate groups, each to rtol of its own size.
    eps0, gl, t, w = 0.0123, 5e-9, 300.0, 0.01
    j = Junction(np.array([[eps0]]), [WideBandLead(np.array([[gl]])), WideBandLead(np.array([[gl]]))])
    with j.count_energies() as c:
        r = force_coefficients(j, [np.array([[1.0]])], bias=0.1, temperature=t, hbar_omega=w, rtol=1e-6)
    # oracle: the real-axis integral of the closed-form integrand (quad)
    ref = SPIN * HBAR * _im_pi_reference(eps0, gl, t, w, (0.05, -0.05)) / w
    true = abs(r.L[0, 0] - ref)
    assert true <= 1e-6 * abs(ref)
    assert r.error["L"] >= true
    # count: each point of the window integral evaluates G at E, E + w and
    # E - w; at most two passes (the retry at a tighter tolerance that
    # force_coefficients allows) of at most ~4,700 points each (57 graded
    # breakpoints around the level at eps0 and eps0 -+ w, refined): 30,000
    assert c.energies <= 30_000
