"""The off-axis bias window (`currentforces.contour`) at low temperature: the
top side of its rectangle lifted above the first Matsubara poles of the
Fermi functions, whose residues are added.

Oracles: the closed-form single-level integrand integrated on the real axis
by scipy's quad_vec (an independent route), the unlifted contour (top side
below the first Matsubara pole, the route before the lift), and the number
of complex energies at T = 0 (count bound)."""

import numpy as np
import scipy.linalg
from scipy.integrate import quad_vec
from scipy.special import expit

from currentforces import Junction, WideBandLead, contour
from currentforces.operators import ForceOperators
from currentforces.units import KB

BIAS = 0.1


def _level(eps0, gamma):
    """One level at eps0 (eV), symmetric wide-band leads Gamma_L = Gamma_R = gamma, f = 1 eV/Angstrom."""
    j = Junction(np.array([[eps0]]), [WideBandLead(np.array([[gamma]])), WideBandLead(np.array([[gamma]]))])
    return j, ForceOperators([np.array([[1.0]])], 1)


def _window(junction, ops, temperature, rtol):
    mus = [0.5 * BIAS, -0.5 * BIAS]
    return contour.adiabatic_bias_window(junction, ops, mus, temperature, rtol, on_fail="raise")


def _count(monkeypatch):
    """Counts the complex energies at which the contour evaluates its integrand."""
    seen = [0]
    traces = contour._Device.traces

    def counting(self, z, weights, coef=1.0):
        seen[0] += np.size(z)
        return traces(self, z, weights, coef)

    monkeypatch.setattr(contour._Device, "traces", counting)
    return seen


def test_lifted_contour_equals_the_real_axis_single_level_at_1K(monkeypatch):
    # eps0 = 0.0123 eV, Gamma_L = Gamma_R = 2 meV: broad enough for a real-axis
    # quadrature, narrow against the 0.1 eV window; at 1 K the lifted top side
    # (height ~0.017 eV) encloses 32 Matsubara poles of each n_l and the
    # level's conjugate pole at 0.0123 + 2i meV.
    eps0, gamma, temperature = 0.0123, 2e-3, 1.0
    j, ops = _level(eps0, gamma)
    called = []
    residues = contour._matsubara_residues
    monkeypatch.setattr(contour, "_matsubara_residues", lambda *a: called.append(a[-1]) or residues(*a))
    re_pg, im_pgp, err_g, err_gp = _window(j, ops, temperature, 1e-10)
    assert called and called[0] > 1  # the lifted route ran, above more than one pole of each n_l

    # reference: P_G = int sum_l (n_l - n_0) G Gamma_l |G|^2 dE and P_G' the same with G' = -G^2
    # (one level, f = 1: Tr[f X f A_l] = X A_l, A_l = Gamma_l |G|^2), real axis, epsrel 1e-12
    kt = KB * temperature
    mu_l, mu_r = 0.5 * BIAS, -0.5 * BIAS

    def integrand(e):
        g = 1.0 / (e - eps0 + 2j * gamma / 2)
        n0 = expit(-e / kt)
        w = (expit(-(e - mu_l) / kt) - n0) + (expit(-(e - mu_r) / kt) - n0)
        a = gamma * abs(g) ** 2
        return np.array([(w * g * a).real, (-w * g * g * a).imag])

    lo, hi = mu_r - 40 * kt, mu_l + 40 * kt
    points = [mu_r, 0.0, mu_l, eps0 - 10 * gamma, eps0, eps0 + 10 * gamma]
    ref, _ = quad_vec(integrand, lo, hi, points=points, epsrel=1e-12, epsabs=0.0, limit=2000)
    # the contour's own tolerance 1e-10 with a factor 10 for the sum of its sides
    np.testing.assert_allclose([re_pg[0, 0], im_pgp[0, 0]], ref, rtol=1e-9)
    assert err_g < 1e-9 * abs(ref[0]) and err_gp < 1e-9 * abs(ref[1])


def test_lifted_contour_equals_the_unlifted_one(monkeypatch):
    # a 4-orbital random device with wide-band leads: the lifted path
    # (MAX_MATSUBARA = 32) against the unlifted one (MAX_MATSUBARA = 0, the
    # top side below pi k_B T), both at rtol 1e-10, at 1 K and 300 K
    rng = np.random.default_rng(7)
    n = 4
    h = rng.normal(scale=0.05, size=(n, n))
    h = 0.5 * (h + h.T)
    gl = np.zeros((n, n))
    gl[0, 0] = 0.02
    gr = np.zeros((n, n))
    gr[-1, -1] = 0.03
    j = Junction(h, [WideBandLead(gl), WideBandLead(gr)])
    f = rng.normal(size=(2, n, n))
    ops = ForceOperators([0.5 * (x + x.T) for x in f], n)
    for temperature in (1.0, 300.0):
        lifted = _window(j, ops, temperature, 1e-10)
        monkeypatch.setattr(contour, "MAX_MATSUBARA", 0)
        flat = _window(j, ops, temperature, 1e-10)
        monkeypatch.undo()
        for a, b in zip(lifted[:2], flat[:2]):
            # two routes at rtol 1e-10 each, a factor 10 for the sum over their sides
            np.testing.assert_allclose(a, b, atol=1e-9 * np.abs(b).max())


def test_narrow_level_at_1K_costs_about_what_it_costs_at_T0(monkeypatch):
    # the narrow level of benchmarks/bench_quadrature.py (case iii): the
    # unlifted top side had to stay below pi k_B T = 0.27 meV across the
    # 0.1 eV window (4,830 complex energies at 1 K against 300 at T = 0).
    # Lifted, its height is set by the window as at T = 0; the three Fermi
    # steps of width k_B T on the top side cost ~ a graded panel set each,
    # and the residues at most 3 MAX_MATSUBARA = 96 energies: the bound is
    # three times the T = 0 count plus the residues.
    j, ops = _level(0.0123, 5e-9)
    seen = _count(monkeypatch)
    _window(j, ops, 0.0, 1e-6)
    at_zero = seen[0]
    seen[0] = 0
    _window(j, ops, 1.0, 1e-6)
    assert seen[0] <= 3 * at_zero + 3 * contour.MAX_MATSUBARA, (seen[0], at_zero)
    assert at_zero > 0


def _pieces_both_routes(junction, ops, z):
    """contour._Device pieces at z by the inverse route and the eigenvector route."""
    dev = contour._Device(junction, ops)
    by_inverse = dev.pieces(z)
    lam, vr = scipy.linalg.eig(dev.heff, dev.overlap)
    used = dev.use_eigenvectors(lam, vr, 1e-8)
    return used, by_inverse, dev.pieces(z)


def test_eigenvector_route_equals_the_inverse_route():
    # G = V diag(1/(z - lambda)) W against inv(z S - h - Sigma), with and
    # without an overlap, at points on the top side, near a pole and far off:
    # both exact up to rounding (cond(V) eps ~ 1e-14 here), so to 1e-10 of
    # the largest entry
    rng = np.random.default_rng(3)
    n = 30
    h = rng.normal(scale=0.3, size=(n, n))
    h = 0.5 * (h + h.T)
    gl = np.zeros((n, n))
    gl[:3, :3] = 0.2 * np.eye(3)
    gr = np.zeros((n, n))
    gr[-3:, -3:] = 0.4 * np.eye(3)
    f = rng.normal(size=(3, n, n))
    f[:, :5] = 0.0
    f[:, :, :5] = 0.0  # a force support smaller than the device
    ops = ForceOperators([0.5 * (x + x.T) for x in f], n)
    a = rng.normal(scale=0.05, size=(n, n))
    overlap = np.eye(n) + 0.5 * (a + a.T)
    for s in (None, overlap):
        j = Junction(h, [WideBandLead(gl), WideBandLead(gr)], overlap=s)
        lam = np.linalg.eigvals(np.linalg.solve(np.eye(n) if s is None else s, j.hamiltonian - 0.5j * (gl + gr)))
        z = np.array([0.013 + 0.02j, -0.4 + 1e-3j, 2.0 + 0.5j, lam[0].real - 0.1j * lam[0].imag])
        used, inv, eig = _pieces_both_routes(j, ops, z)
        assert used
        for x, y in zip([inv[0], inv[1], *inv[2]], [eig[0], eig[1], *eig[2]]):
            np.testing.assert_allclose(y, x, atol=1e-10 * np.abs(x).max())


def test_exceptional_point_falls_back_to_inverses(monkeypatch):
    # h = [[0, t], [t, 0]] with Gamma_L = Gamma_R = 2t on site 0: h + Sigma = [[-2it, t], [t, 0]]
    # has the double eigenvalue -it with one eigenvector (an exceptional point),
    # so V is singular to rounding (cond(V) ~ 1e8); the contour must keep the
    # inverses (forced through V there, its top side stops at an estimated
    # error 1e-5 above the tolerance 3e-7: IntegrationError) and give what the
    # route that never uses V (EIG_COND_RTOL = 0) gives
    t = 0.01
    gl = gr = np.diag([2 * t, 0.0])
    j = Junction(np.array([[0.0, t], [t, 0.0]]), [WideBandLead(gl), WideBandLead(gr)])
    ops = ForceOperators([np.array([[1.0, 0.3], [0.3, -0.5]])], 2)
    used, _, _ = _pieces_both_routes(j, ops, np.array([0.01 + 0.02j]))
    assert not used
    mus = [0.5 * BIAS, -0.5 * BIAS]
    for temperature in (0.0, 10.0):
        default = contour.adiabatic_bias_window(j, ops, mus, temperature, 1e-10, on_fail="raise")
        monkeypatch.setattr(contour, "EIG_COND_RTOL", 0.0)
        inverses = contour.adiabatic_bias_window(j, ops, mus, temperature, 1e-10, on_fail="raise")
        monkeypatch.undo()
        for a, b in zip(default[:2], inverses[:2]):
            # the same route twice: identical
            np.testing.assert_array_equal(a, b)
