"""Square jellium wire: seed eqs (37)-(39), (50)-(51), Figs 5-6 (docs/theory.rst
theory-jellium)."""

import numpy as np
import pytest

from currentforces.errors import InputError
from currentforces.models import electron_gas, jellium
from currentforces.units import HBAR, KB, M_ELECTRON

EF = 5.0  # eV, a free-electron metal; every check below is in ratios independent of it
KF = jellium.fermi_wavevector(EF)
LAM = 2.0 * np.pi / KF  # lambda_F in Angstrom
C = 1.3  # eV Angstrom^3, delta-scatterer strength (drops out of ratios)

# Off-paper side where no subband edge sits at E_F: (2S/lambda_F)^2 = 420.25; the
# nearest edges are n^2 + m^2 = 416 (open) and 421 (closed), i.e. 0.0018 eps_F away.
S_CLEAN = 10.25
PTS_X = np.array([0.3, 1.7, 4.1, 5.125])
PTS_Y = np.array([0.9, 2.2, 5.125, 3.3])


# ---------------------------------------------------------------------------
# subbands and the edge rule
# ---------------------------------------------------------------------------
def test_open_subbands_exclude_edges_exactly_at_fermi_energy():
    # S = 10 lambda_F: eps_F/eps_t = (2S/lambda_F)^2 = 400 (seed IV.C), so (12, 16) and
    # (16, 12) sit exactly at E_F and are excluded (strict inequality, docs/theory.rst
    # theory-jellium, "Subbands at the Fermi energy").
    n, m, k = jellium.open_subbands(10.0 * LAM, EF)
    pairs = set(zip(n.tolist(), m.tolist()))
    assert (12, 16) not in pairs and (16, 12) not in pairs
    assert (13, 15) in pairs  # 394 < 400
    # brute-force count of n, m >= 1 with n^2 + m^2 < 400
    expected = sum(1 for a in range(1, 21) for b in range(1, 21) if a * a + b * b < 400)
    assert len(pairs) == expected
    # k_nm = sqrt(k_F^2 - pi^2 (n^2 + m^2)/S^2) (seed eq. 39 energies)
    assert np.allclose(k, np.sqrt(KF**2 - np.pi**2 * (n**2 + m**2) / (10.0 * LAM) ** 2), rtol=1e-12)


def test_ldos_and_current_approach_bulk_deep_inside_wide_wire():
    # Bulk consistency (eq-nu-j): (2 pi m C^2/hbar) nu j -> sigma_tr p_F j (seed eq. 1)
    # because nu -> nu_b = m k_F/(2 pi^2 hbar^2).  Averaged over the central 30% of a
    # S = 160.3 lambda_F wire; the residual is the mesoscopic fluctuation of the local DOS
    # from the 1D van Hove peaks of subbands just below E_F (observed 1.4 %; 3.5 %, 4 %
    # at S = 20, 40 lambda_F), hence the 3 % tolerance.  The current density has no 1/k
    # weights and converges much faster (observed 4e-4).
    side = 160.3 * LAM
    u = np.linspace(0.35, 0.65, 31) * side
    x, y = u[:, None], u[None, :]
    bias = 1e-3
    nu = jellium.local_dos(side, x, y, EF)
    j = jellium.current_density(side, x, y, EF, bias)
    lhs = 2.0 * np.pi * M_ELECTRON * C**2 / HBAR * nu * j
    rhs = electron_gas.wind_force(C, KF, j)
    assert abs(np.mean(lhs / rhs) - 1.0) < 0.03
    assert abs(np.mean(j) / jellium.bulk_current_density(EF, bias) - 1.0) < 2e-3
    # and the same identity with bulk quantities holds exactly
    assert np.isclose(
        2.0 * np.pi * M_ELECTRON * C**2 / HBAR * jellium.bulk_local_dos(EF) * 0.7,
        electron_gas.wind_force(C, KF, 0.7),
        rtol=1e-13,
    )


# ---------------------------------------------------------------------------
# eq. (38) direct versus L = nu j
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("temperature_over_ef", [0.0, 1e-6])
def test_direct_eq38_small_bias_equals_nu_j(temperature_over_ef):
    # eq-nu-j: at T = 0, small eV and hbar omega_0, eq. (38) reduces to
    # L = nu(R, E_F) j(R) e_z.  Deviations are second order in eV, hbar omega_0, k_B T
    # over the distance (0.0018 eps_F) to the nearest subband edge.
    side = S_CLEAN * LAM
    x, y = PTS_X * LAM, PTS_Y * LAM
    small = 1e-6 * EF
    direct = jellium.nonconservative_field_direct(side, x, y, EF, small, small, temperature_over_ef * EF / KB)
    closed = jellium.nonconservative_field(side, x, y, EF, small)
    assert np.all(closed > 0)
    assert np.allclose(direct, closed, rtol=1e-5, atol=0)


def test_direct_eq38_vanishes_at_equilibrium():
    # Seed II.D: with mu_1 = mu_2 the odd-in-(alpha, beta) electron-hole function, and so
    # L of eq. (38), vanishes at any hbar omega_0 and T; it is odd in the bias.
    side = S_CLEAN * LAM
    x, y = PTS_X * LAM, PTS_Y * LAM
    hw, temp = 2e-5 * EF, 0.5
    ref = jellium.nonconservative_field_direct(side, x, y, EF, 1e-5 * EF, hw, temp)
    eq = jellium.nonconservative_field_direct(side, x, y, EF, 0.0, hw, temp)
    assert np.all(np.abs(eq) < 1e-12 * np.abs(ref))
    rev = jellium.nonconservative_field_direct(side, x, y, EF, -1e-5 * EF, hw, temp)
    assert np.allclose(rev, -ref, rtol=1e-10, atol=0)


def test_direct_eq38_departs_from_nu_j_quadratically():
    # The closed form is a limit: the relative deviation grows like (eV)^2 (same
    # eV = hbar omega_0), so a factor 10 in bias gives a factor ~100.
    side = S_CLEAN * LAM
    x, y = PTS_X * LAM, PTS_Y * LAM
    dev = []
    for b in (3e-5, 3e-4):
        d = jellium.nonconservative_field_direct(side, x, y, EF, b * EF, b * EF)
        c = jellium.nonconservative_field(side, x, y, EF, b * EF)
        dev.append(np.max(np.abs(d / c - 1.0)))
    assert dev[1] > 1e-5
    assert 50.0 < dev[1] / dev[0] < 200.0


def test_direct_eq38_reports_subband_edge_in_window():
    # S = 10 lambda_F has edges exactly at E_F: any bias window contains them.
    with pytest.raises(jellium.SubbandEdgeError) as err:
        jellium.nonconservative_field_direct(10.0 * LAM, 3.0, 4.0, EF, 1e-4, 1e-4)
    assert (12, 16) in err.value.subbands and (16, 12) in err.value.subbands
    assert isinstance(err.value, InputError)


# ---------------------------------------------------------------------------
# curl of the non-conservative force (eq. 37, Figs 5-6)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("side", [10.0, 20.0])
def test_curl_is_c4v_symmetric(side):
    # l(R) = nu j/(nu_b j_b) is invariant under x -> S - x, y -> S - y and x <-> y
    # (sin^2 mode profiles, weights symmetric in n <-> m), so for c = (d_y l, -d_x l):
    #   c(S-x, y) = (c_x, -c_y),  c(x, S-y) = (-c_x, c_y),  c(y, x) = (-c_y, -c_x).
    # These three mirrors generate C4v.
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, side, 300), rng.uniform(0, side, 300)
    c = jellium.curl_nonconservative(side, x, y)
    scale = np.max(np.abs(c))
    tol = 1e-11 * scale
    cm = jellium.curl_nonconservative(side, side - x, y)
    assert np.allclose(cm, np.stack([c[:, 0], -c[:, 1]], -1), atol=tol, rtol=0)
    cm = jellium.curl_nonconservative(side, x, side - y)
    assert np.allclose(cm, np.stack([-c[:, 0], c[:, 1]], -1), atol=tol, rtol=0)
    cm = jellium.curl_nonconservative(side, y, x)
    assert np.allclose(cm, np.stack([-c[:, 1], -c[:, 0]], -1), atol=tol, rtol=0)


def test_curl_vanishes_where_symmetry_requires_and_peaks_at_surface():
    side = 10.0
    t = np.linspace(0, side, 101)
    c_centre = jellium.curl_nonconservative(side, side / 2, side / 2)
    peak = np.max(np.abs(jellium.curl_nonconservative(side, t[:, None], t[None, :])))
    assert peak > 0.5  # order one in units of k_F F_w^bulk (Fig. 6 peak ~1.05)
    assert np.all(np.abs(c_centre) < 1e-12 * peak)  # centre: both mirrors
    # mirror line x = S/2: c_y = -d_x l = 0; mirror line y = S/2: c_x = d_y l = 0
    assert np.all(np.abs(jellium.curl_nonconservative(side, side / 2, t)[:, 1]) < 1e-12 * peak)
    assert np.all(np.abs(jellium.curl_nonconservative(side, t, side / 2)[:, 0]) < 1e-12 * peak)
    # hard wall: every chi^2 ~ x^2, so l ~ x^4 and the curl vanishes at the surface
    assert np.all(np.abs(jellium.curl_nonconservative(side, 0.0, t)) < 1e-12 * peak)
    # "largest in a thin region of width lambda_F close to the surface" (seed III.B)
    inner = (t[:, None] > 1.0) & (t[:, None] < side - 1.0) & (t[None, :] > 1.0) & (t[None, :] < side - 1.0)
    mag = np.linalg.norm(jellium.curl_nonconservative(side, t[:, None], t[None, :]), axis=-1)
    assert mag[inner].max() < 0.5 * mag.max()


def test_curl_near_surface_is_size_independent():
    # Seed Fig. 6: the curl is a surface effect, independent of the wire size.  Along
    # y = S/2, within 2 lambda_F of the surface, S = 10 and 20 lambda_F differ by at most
    # 15 % of the peak (observed 11 %: mesoscopic differences from the subbands nearest
    # to E_F), the peak sits at the same depth (0.24 lambda_F, to 0.01), and the
    # difference shrinks for the next doubling (S = 20 vs 40: observed 7 %).
    d = np.linspace(0.0, 2.0, 801)
    prof = {s: jellium.curl_nonconservative(s, s - d, s / 2)[..., 1] for s in (10.0, 20.0, 40.0)}
    peak = np.max(np.abs(prof[20.0]))
    diff_10_20 = np.max(np.abs(prof[10.0] - prof[20.0]))
    diff_20_40 = np.max(np.abs(prof[20.0] - prof[40.0]))
    assert diff_10_20 < 0.15 * peak
    assert diff_20_40 < diff_10_20
    assert abs(d[np.argmax(prof[10.0])] - d[np.argmax(prof[20.0])]) < 0.01
    assert 0.2 < d[np.argmax(prof[20.0])] < 0.3


def test_physical_curl_in_units_of_kf_bulk_wind_force():
    # eq-curl-dimensionless: curl F / (k_F F_w^bulk) = (d_y l, -d_x l)/k_F, with
    # F_w^bulk = sigma_tr p_F j_b (seed eq. 1) and curl F = (2 pi m C^2/hbar) curl(nu j e_z).
    side = S_CLEAN * LAM
    bias = 2e-3
    phys = jellium.curl_nonconservative_force(side, PTS_X * LAM, PTS_Y * LAM, EF, bias, C)
    unit = KF * jellium.bulk_wind_force(EF, bias, C)
    dimless = jellium.curl_nonconservative(S_CLEAN, PTS_X, PTS_Y)
    # points on the mirror line y = S/2 have c_x = 0 up to rounding: absolute floor
    assert np.allclose(phys / unit, dimless, rtol=1e-10, atol=1e-12 * np.max(np.abs(dimless)))
    # the bulk wind force is the electron-gas one at the Sharvin current
    j_b = jellium.bulk_current_density(EF, bias)
    assert np.isclose(jellium.bulk_wind_force(EF, bias, C), electron_gas.wind_force(C, KF, j_b), rtol=1e-14)


def test_dimensionless_field_is_nu_j_over_bulk():
    # eq-curl-dimensionless: ell = nu j/(nu_b j_b), nu_b = m k_F/(2 pi^2 hbar^2),
    # j_b = eV k_F^2/(8 pi^2 hbar)
    side = S_CLEAN * LAM
    bias = 1e-3
    ell = jellium.nonconservative_field_dimensionless(S_CLEAN, PTS_X, PTS_Y)
    nu_b = M_ELECTRON * KF / (2 * np.pi**2 * HBAR**2)
    j_b = bias * KF**2 / (8 * np.pi**2 * HBAR)
    phys = jellium.nonconservative_field(side, PTS_X * LAM, PTS_Y * LAM, EF, bias)
    assert np.allclose(ell, phys / (nu_b * j_b), rtol=1e-10, atol=0)
    assert np.isclose(jellium.bulk_local_dos(EF), nu_b, rtol=1e-14)
    assert np.isclose(jellium.bulk_current_density(EF, bias), j_b, rtol=1e-14)


def test_curl_matches_finite_difference_of_nu_j():
    # Independent of the analytic mode derivatives: central differences of L = nu j.
    side = S_CLEAN * LAM
    bias = 1e-3
    h = 1e-5 * LAM
    x, y = PTS_X * LAM, PTS_Y * LAM
    curl = jellium.curl_nonconservative_force(side, x, y, EF, bias, C)
    pref = 2.0 * np.pi * M_ELECTRON * C**2 / HBAR

    def field(a, b):
        return jellium.nonconservative_field(side, a, b, EF, bias)

    dldy = (field(x, y + h) - field(x, y - h)) / (2 * h)
    dldx = (field(x + h, y) - field(x - h, y)) / (2 * h)
    scale = np.max(np.abs(curl))
    assert np.allclose(curl[:, 0], pref * dldy, rtol=0, atol=1e-6 * scale)
    assert np.allclose(curl[:, 1], -pref * dldx, rtol=0, atol=1e-6 * scale)


def test_curl_broadcasts_and_checks_input():
    c = jellium.curl_nonconservative(10.0, np.linspace(0, 10, 7)[:, None], np.linspace(0, 10, 5)[None, :])
    assert c.shape == (7, 5, 2)
    assert jellium.curl_nonconservative(10.0, 3.0, 4.0).shape == (2,)
    with pytest.raises(InputError, match="side"):
        jellium.curl_nonconservative(-1.0, 0.5, 0.5)
    with pytest.raises(InputError, match="x"):
        jellium.curl_nonconservative(10.0, 10.5, 0.5)
    with pytest.raises(InputError, match="y"):
        jellium.curl_nonconservative(10.0, 1.0, -0.1)
    with pytest.raises(InputError, match="broadcast"):
        jellium.curl_nonconservative(10.0, np.ones(3), np.ones(4))
    with pytest.raises(InputError, match="hbar_omega"):
        jellium.nonconservative_field_direct(S_CLEAN * LAM, 1.0, 1.0, EF, 1e-4, -1e-4)


# ---------------------------------------------------------------------------
# Berry ("Lorentz") vector potential, eqs (50)-(51)
# ---------------------------------------------------------------------------
def test_numerical_principal_value_matches_identity():
    # eq-pv-quadratic: P int_0^inf dk/(a - k^2) = 0 for a > 0 and -pi/(2 sqrt|a|) for a < 0.
    a = np.array([1e-4, 0.37, 3.0, 250.0, -1e-4, -0.37, -3.0, -250.0])
    expected = np.where(a > 0, 0.0, -np.pi / (2.0 * np.sqrt(np.abs(a))))
    got = jellium.principal_value_inverse_quadratic(a)
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-12 * np.max(np.abs(expected)))


@pytest.mark.parametrize(
    "side_lf, w_over_et, bias_over_et",
    [(1.6, 0.37, 0.05), (2.3, 1.7, -0.08)],  # (2S/lambda_F)^2 = 10.24, 21.16
)
def test_eq50_numerical_equals_eq51_closed_form(side_lf, w_over_et, bias_over_et):
    # Eq. (51) follows from eq. (50) at T = 0 (eq-vector-potential); both keep the same
    # subbands (n', m') (closed_cutoff) and no continuum tail, so they must agree to
    # quadrature accuracy.
    side = side_lf * LAM
    et = jellium.transverse_energy(side)
    x, y = PTS_X / 8 * side_lf * LAM, PTS_Y / 8 * side_lf * LAM
    kw = dict(closed_cutoff=9.0)
    num = jellium.vector_potential_numerical(side, x, y, EF, bias_over_et * et, w_over_et * et, C, **kw)
    closed = jellium.vector_potential(side, x, y, EF, bias_over_et * et, w_over_et * et, C, tail_correction=False, **kw)
    assert np.all(np.abs(closed) > 0)
    assert np.allclose(num, closed, rtol=1e-8, atol=0)


def test_eq50_at_low_temperature_approaches_eq51():
    side = 1.6 * LAM
    et = jellium.transverse_energy(side)
    x, y = PTS_X / 5 * LAM, PTS_Y / 5 * LAM
    kt = 1e-4 * et  # eq. (51) is T = 0; thermal corrections are O((k_B T / window)^2)
    num = jellium.vector_potential_numerical(
        side, x, y, EF, 0.05 * et, 0.37 * et, C, temperature=kt / KB, closed_cutoff=9.0, nodes=96
    )
    closed = jellium.vector_potential(side, x, y, EF, 0.05 * et, 0.37 * et, C, closed_cutoff=9.0, tail_correction=False)
    assert np.allclose(num, closed, rtol=1e-5, atol=0)


def test_eq51_linear_response_is_small_bias_limit():
    # d A/d(eV) at eV -> 0: the finite-bias eq. (51) divided by eV approaches it with a
    # relative error O(eV^2) (observed 1.2e-4 at eV = 0.005 eps_t, 1.2e-6 at 0.0005).
    side = 1.6 * LAM
    et = jellium.transverse_energy(side)
    x, y = PTS_X / 5 * LAM, PTS_Y / 5 * LAM
    lin = jellium.vector_potential_linear_response(side, x, y, EF, 0.37 * et, C)
    err = []
    for b in (0.005, 0.0005):
        fin = jellium.vector_potential(side, x, y, EF, b * et, 0.37 * et, C) / (b * et)
        err.append(np.max(np.abs(fin / lin - 1.0)))
    assert err[0] < 3e-4 and err[1] < 3e-6
    assert 50.0 < err[0] / err[1] < 200.0


def test_eq51_tail_correction_converges():
    # The (n', m') sum of eq. (51) decays like E'^(-3/2): truncation error O(cutoff^-1/2)
    # without, much smaller with the continuum tail.  At S = 10 lambda_F in the interior.
    x, y = np.array([5.0, 1.0, 2.5]), np.array([5.0, 5.0, 0.7])
    ref = jellium.vector_potential_dimensionless(10.0, x, y, 0.004, closed_cutoff=1024.0)
    with_tail = jellium.vector_potential_dimensionless(10.0, x, y, 0.004, closed_cutoff=64.0)
    without = jellium.vector_potential_dimensionless(10.0, x, y, 0.004, closed_cutoff=64.0, tail_correction=False)
    assert np.allclose(with_tail, ref, rtol=1e-4, atol=0)
    assert np.max(np.abs(without / ref - 1.0)) > 1e-3


def test_vector_potential_is_c4v_symmetric_and_zero_at_wall():
    side = 10.0
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, side, 50), rng.uniform(0, side, 50)
    a = jellium.vector_potential_dimensionless(side, x, y, 0.004)
    for xx, yy in ((side - x, y), (x, side - y), (y, x)):
        assert np.allclose(
            jellium.vector_potential_dimensionless(side, xx, yy, 0.004), a, rtol=1e-10, atol=1e-12 * np.max(np.abs(a))
        )
    assert np.all(jellium.vector_potential_dimensionless(side, 0.0, y, 0.004) == 0.0)


def test_vector_potential_reports_subband_edges():
    # S = 10 lambda_F: edges at E_F lie inside any bias window around E_F (seed eq. 51
    # assumes none does).
    with pytest.raises(jellium.SubbandEdgeError):
        jellium.vector_potential(10.0 * LAM, 3.0, 3.0, EF, 1e-4, 0.01, C)
    with pytest.raises(jellium.SubbandEdgeError):
        jellium.vector_potential_numerical(10.0 * LAM, 3.0, 3.0, EF, 1e-4, 0.01, C)
    # linear response: an edge exactly at E_F + hbar omega_0 (n'^2 + m'^2 = 401 = 20^2 + 1^2
    # at S = 10 lambda_F, eps_t = eps_F / 400) makes the bracket diverge.
    with pytest.raises(jellium.SubbandEdgeError) as err:
        jellium.vector_potential_dimensionless(10.0, 3.0, 3.0, 1.0 / 400.0)
    assert (20, 1) in err.value.subbands


def test_principal_value_refuses_an_odd_rule():
    # Regression: an odd Gauss-Legendre rule has its middle node on the pole
    # k = sqrt(b), where the subtracted integrand is 0/0; the function returned NaN.
    with pytest.raises(InputError, match="nodes"):
        jellium.principal_value_inverse_quadratic(np.array([0.37, -0.37]), nodes=5)
    # an even rule still gives the identity eq-pv-quadratic (P int = 0 for b > 0)
    assert abs(jellium.principal_value_inverse_quadratic(np.array([0.37]), nodes=6)[0]) < 1e-3


def test_split_package_keeps_every_public_name():
    # The flat module jellium.py was split by idea into subbands, nonconservative
    # and berry; these are the names its __all__ listed, all still importable here.
    names = {
        "EDGE_RTOL",
        "FERMI_TAIL_KT",
        "SubbandEdgeError",
        "fermi_wavevector",
        "transverse_energy",
        "open_subbands",
        "local_dos",
        "current_density",
        "bulk_local_dos",
        "bulk_current_density",
        "nonconservative_field",
        "nonconservative_field_direct",
        "curl_nonconservative_force",
        "curl_nonconservative",
        "nonconservative_field_dimensionless",
        "bulk_wind_force",
        "principal_value_inverse_quadratic",
        "vector_potential",
        "vector_potential_numerical",
        "vector_potential_linear_response",
        "vector_potential_dimensionless",
    }
    assert set(jellium.__all__) == names
    from currentforces.models.jellium import berry, nonconservative, subbands

    for name in names:
        home = next(m for m in (subbands, nonconservative, berry) if name in m.__all__)
        assert getattr(jellium, name) is getattr(home, name)
