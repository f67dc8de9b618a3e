"""Non-orthogonal bases: Junction(..., overlap=S) and Lead(..., *_overlap=...).

The physics checked here, each against a closed form or a second route:

* S = 1 given explicitly reproduces the orthogonal junction (the same
  arithmetic: the pencil E S - h with S = 1 is E - h);
* the non-orthogonal chain (on-site e, hopping t, nearest-neighbour overlap
  s) has the band e(k) = (e + 2t cos k)/(1 + 2s cos k): as device and leads
  it transmits T = 1 inside the band and 0 outside;
* its density matrix: a closed finite chain has the eigenpairs of the
  generalised problem in closed form (sine modes), so rho, Tr[rho S] and the
  energy-weighted rho_E are exact; the open chain's site density and
  Mulliken charge (rho S)_jj are k-integrals over the occupied Bloch states;
* the two backends agree with overlap;
* the lead self-energy derivative (product rule through the coupling
  factors E S_dl - H_dl) against finite differences.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from overlaphelpers import S0, band, chain_junction, chain_leads, chain_matrices, fermi_wavevector
from scipy.integrate import quad

from currentforces import Junction, Lead, WideBandLead
from currentforces.errors import InputError, OverlapError
from currentforces.greens import BlockTridiagonal, DenseInverse
from currentforces.integrate import fermi


def test_chain_transmits_one_in_its_band_and_zero_outside(solver, tol):
    # closed form: a perfect chain has one open channel inside its band
    # [(e + 2t)/(1 + 2s), (e - 2t)/(1 - 2s)] (t < 0) and none outside
    j = chain_junction(6, solver)
    lo, hi = band(0.0), band(np.pi)
    assert j.band_edges == pytest.approx((lo, hi), abs=tol["exact"])
    inside = np.linspace(lo, hi, 9)[1:-1]
    outside = np.array([lo - 1.0, lo - 0.05, hi + 0.05, hi + 2.0])
    np.testing.assert_allclose(j.transmission(inside), 1.0, atol=tol["lead"])
    np.testing.assert_allclose(j.transmission(outside), 0.0, atol=tol["lead"])


def test_closed_chain_density_matrices_are_the_generalised_eigenproblem(solver, tol):
    # closed form: H and S of the finite chain are tridiagonal Toeplitz, so they
    # share the sine modes u_m(j) = sqrt(2/(n+1)) sin(k_m j), k_m = m pi/(n+1),
    # with eigenvalues e + 2t cos k_m and 1 + 2s cos k_m: E_m = e(k_m), and
    # v_m = u_m / sqrt(1 + 2s cos k_m) is S-normalised.  Then rho = sum f v v^T,
    # rho_E = sum E f v v^T, and Tr[rho S] = sum_m f(E_m) counts the electrons.
    n, mu, temperature = 7, 0.9, 3000.0
    h, o = chain_matrices(n)
    layers = [1] * n if solver == "rgf" else None  # a closed device gives no lead to start the layering from
    j = Junction(h, [], overlap=o, solver=solver, layers=layers)
    k = np.arange(1, n + 1) * np.pi / (n + 1)
    sites = np.arange(1, n + 1)
    v = np.sqrt(2 / (n + 1)) * np.sin(np.outer(sites, k)) / np.sqrt(1 + 2 * S0 * np.cos(k))
    occ = fermi(band(k), mu, temperature)
    rho = j.density_matrix(fermi_level=mu, temperature=temperature, spin=1)
    np.testing.assert_allclose(rho, (v * occ) @ v.T, atol=tol["exact"])
    assert np.trace(rho @ o).real == pytest.approx(occ.sum(), abs=tol["exact"])
    rho_e = j.energy_density_matrix(fermi_level=mu, temperature=temperature, spin=1)
    np.testing.assert_allclose(rho_e, (v * (occ * band(k))) @ v.T, atol=tol["exact"])


def test_open_chain_density_is_the_integral_over_its_bloch_states(solver, tol):
    # closed form: the Bloch states of the infinite chain, S-normalised per
    # site, are e^{ikj} / sqrt(1 + 2s cos k); at T = 0 every site holds
    # rho_jj = (1/pi) int_0^{k_F} dk / (1 + 2s cos k), its Mulliken charge
    # (rho S)_jj = k_F / pi (one state per k per site), and
    # (rho_E)_jj = (1/pi) int_0^{k_F} e(k) dk / (1 + 2s cos k).  Under a bias the
    # right-movers fill to k_F(mu_0), the left-movers to k_F(mu_1) (ballistic).
    n, mu = 6, 0.3
    j = chain_junction(n, solver)
    _, o = chain_matrices(n)
    kf = fermi_wavevector(mu)
    weight = quad(lambda k: 1 / (1 + 2 * S0 * np.cos(k)), 0, kf, epsabs=1e-13, epsrel=1e-13)[0] / np.pi
    energy = quad(lambda k: band(k) / (1 + 2 * S0 * np.cos(k)), 0, kf, epsabs=1e-13, epsrel=1e-13)[0] / np.pi
    rho = j.density_matrix(fermi_level=mu, temperature=0.0, spin=1)
    np.testing.assert_allclose(np.diag(rho).real, weight, atol=tol["tight_quad"])
    # (rho S)_jj on the interior sites (at the ends S reaches into the leads, outside the device block)
    np.testing.assert_allclose(np.diag(rho @ o).real[1:-1], kf / np.pi, atol=tol["tight_quad"])
    rho_e = j.energy_density_matrix(fermi_level=mu, temperature=0.0, spin=1)
    np.testing.assert_allclose(np.diag(rho_e).real, energy, atol=tol["tight_quad"])
    biased = j.density_matrix(bias=0.4, fermi_level=mu, temperature=0.0, spin=1, rtol=1e-10)
    mulliken = (fermi_wavevector(mu + 0.2) + fermi_wavevector(mu - 0.2)) / (2 * np.pi)
    np.testing.assert_allclose(np.diag(biased @ o).real[1:-1], mulliken, atol=tol["tight_quad"])


def _random_device(rng, n, overlap_scale):
    """A banded device (bandwidth 2), its overlap, and two periodic non-orthogonal leads."""
    a = rng.standard_normal((n, n)) * (np.abs(np.subtract.outer(range(n), range(n))) <= 2)
    h = 0.5 * (a + a.T)
    b = rng.standard_normal((n, n)) * (np.abs(np.subtract.outer(range(n), range(n))) <= 2)
    o = np.eye(n) + overlap_scale * 0.5 * (b + b.T) / n
    leads = []
    for sites in ((0, 1), (n - 2, n - 1)):
        c = np.zeros((n, 2))
        sc = np.zeros((n, 2))
        c[sites[0], 0], c[sites[1], 1] = -0.8, -0.5
        sc[sites[0], 0] = 0.1 * overlap_scale
        leads.append(
            Lead(
                [[0.2, 0.3], [0.3, -0.1]],
                [[-1.0, 0.2], [0.1, -0.9]],
                c,
                onsite_overlap=[[1.0, 0.05 * overlap_scale], [0.05 * overlap_scale, 1.0]],
                hopping_overlap=[[0.15 * overlap_scale, 0.0], [0.02 * overlap_scale, 0.1 * overlap_scale]],
                coupling_overlap=sc,
            )
        )
    return h, o, leads


def test_dense_and_rgf_agree_with_overlap(solver, tol):
    # second route: the block-tridiagonal recursions (streaming and general
    # paths) against the dense inverse of E S - h - Sigma, same pencil
    rng = np.random.default_rng(7)
    h, o, leads = _random_device(rng, 9, 1.0)
    dense = Junction(h, leads, overlap=o)
    other = Junction(h, leads, overlap=o, solver=solver)
    e = np.array([-1.3, 0.1, 0.8, 0.4 + 0.3j])
    scale = np.abs(dense.green(e)).max()
    np.testing.assert_allclose(other.green(e), dense.green(e), atol=tol["solver"] * scale)
    for orbitals, cols in (([3, 4, 5], [0, 8]), ([0, 1, 8], None)):
        g1, d1 = dense.green_derivative_submatrix(e, orbitals, cols)
        g2, d2 = other.green_derivative_submatrix(e, orbitals, cols)
        np.testing.assert_allclose(g2, g1, atol=tol["solver"] * scale)
        np.testing.assert_allclose(d2, d1, atol=tol["solver"] * np.abs(d1).max())
    general = BlockTridiagonal(h, leads, overlap=o, streaming=False)
    _, d3 = general.green_derivative_submatrix(e, [3, 4, 5])
    np.testing.assert_allclose(d3, dense.green_derivative_submatrix(e, [3, 4, 5])[1], atol=tol["solver"] * scale**2)
    np.testing.assert_allclose(other.transmission(e[:3]), dense.transmission(e[:3]), atol=tol["solver"])
    # dG/dE = -G (S - dSigma/dE) G against a central difference (step 1e-5 eV:
    # error ~ 1e-10 |G'''| relative; rounding ~ 1e-16/1e-5)
    step = 1e-5
    fd = (dense.green_submatrix(e[:3] + step, [3, 4], [3, 4]) - dense.green_submatrix(e[:3] - step, [3, 4], [3, 4])) / (
        2 * step
    )
    _, d = dense.green_derivative_submatrix(e[:3], [3, 4])
    np.testing.assert_allclose(d, fd, atol=1e3 * tol["lead"] * np.abs(d).max())


def test_density_matrix_with_overlap_agrees_between_backends_under_bias(solver, tol):
    # second route: the same steady state (pole sum + bias window) on the
    # other backend; both at rtol 1e-10
    rng = np.random.default_rng(3)
    h, o, leads = _random_device(rng, 8, 1.0)
    ref = Junction(h, leads, overlap=o).density_matrix(bias=0.3, temperature=100.0, rtol=1e-10)
    got = Junction(h, leads, overlap=o, solver=solver).density_matrix(bias=0.3, temperature=100.0, rtol=1e-10)
    np.testing.assert_allclose(got, ref, atol=tol["tight_quad"])


def test_lead_self_energy_derivative_has_the_coupling_terms(solver, tol):
    # dSigma/dE = V' dg/dE V'^dagger - S_dl g V'_ld - V'_dl g S_ld with
    # V' = H - E S: against a central difference (step 1e-6 eV: truncation
    # ~1e-12 |Sigma'''|, rounding 1e-16/1e-6 = 1e-10 relative)
    rng = np.random.default_rng(5)
    _, _, leads = _random_device(rng, 6, 1.0)
    lead = leads[0]
    e = np.array([-0.7, 0.25, 0.3 + 0.2j])
    step = 1e-6
    fd = (lead.self_energy_block(e + step) - lead.self_energy_block(e - step)) / (2 * step)
    np.testing.assert_allclose(lead.self_energy_derivative_block(e), fd, atol=tol["solver"] * 10)
    # the large-|z| remainder Sigma - z Sigma_1 equals the plain difference where
    # the latter has not lost its digits yet (|z| = 10 eV: rounding 1e-15)
    z = np.array([0.3 + 10j])
    plain = lead.self_energy_block(z) - z[:, None, None] * lead.self_energy_slope_block()
    np.testing.assert_allclose(lead.self_energy_remainder_block(z), plain, atol=tol["exact"])


@settings(max_examples=4, deadline=None, database=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(4, 9), backend=st.sampled_from(["dense", "rgf"]))
def test_identity_overlap_reproduces_the_orthogonal_junction(seed, n, backend):
    # exact: S = 1 makes the pencil E S - h equal to E - h (the same operations
    # on the same numbers up to the order of a few sums), leads without overlap
    # blocks and leads with S_00 = 1, S_01 = 0, S_dl = 0 alike
    rng = np.random.default_rng(seed)
    h, _, _ = _random_device(rng, n, 0.0)
    plain, unit = [], []
    for sites in ((0, 1), (n - 2, n - 1)):
        c = np.zeros((n, 2))
        c[sites[0], 0], c[sites[1], 1] = -0.8, -0.5
        cell = ([[0.2, 0.3], [0.3, -0.1]], [[-1.0, 0.2], [0.1, -0.9]], c)
        plain.append(Lead(*cell))
        unit.append(Lead(*cell, onsite_overlap=np.eye(2), hopping_overlap=np.zeros((2, 2))))
    unit[1] = plain[1]
    ref = Junction(h, plain, solver=backend)
    got = Junction(h, unit, overlap=np.eye(n), solver=backend)
    e = np.array([-1.1, 0.05, 0.7, 0.2 + 0.4j])
    exact = 1e-12  # conftest TOL["exact"]: identical arithmetic up to summation order
    scale = np.abs(ref.green(e)).max()
    np.testing.assert_allclose(got.green(e), ref.green(e), atol=exact * scale)
    g1, d1 = ref.green_derivative_submatrix(e, [1, 2], [0, n - 1])
    g2, d2 = got.green_derivative_submatrix(e, [1, 2], [0, n - 1])
    np.testing.assert_allclose(g2, g1, atol=exact * scale)
    np.testing.assert_allclose(d2, d1, atol=exact * np.abs(d1).max())
    np.testing.assert_allclose(got.transmission(e[:3]), ref.transmission(e[:3]), atol=exact)
    np.testing.assert_allclose(
        got.density_matrix(bias=0.2, temperature=300.0), ref.density_matrix(bias=0.2, temperature=300.0), atol=exact
    )
    assert got.current(bias=0.2) == pytest.approx(ref.current(bias=0.2), rel=exact)


def test_bad_overlap_input_is_a_named_error(solver):
    # each invalid S raises OverlapError (an InputError) naming the argument
    h, o = chain_matrices(4)
    leads = chain_leads(4)
    bad = {
        "Hermitian": o + 0.1 * np.eye(4, k=1),
        "positive definite": np.eye(4) + 0.7 * (np.eye(4, k=1) + np.eye(4, k=-1)),
        "shape": np.eye(3),
        "NaN": np.where(np.eye(4) > 0, np.nan, o),
    }
    for what, s in bad.items():
        with pytest.raises(OverlapError, match="overlap") as info:
            Junction(h, leads, overlap=s, solver=solver)
        assert isinstance(info.value, InputError), what
    # lead blocks that do not fit, and a lead overlap that is not positive at some k
    c = np.zeros((4, 1))
    c[0] = -1.0
    with pytest.raises(OverlapError, match="hopping_overlap"):
        Lead([[0.0]], [[-1.0]], c, hopping_overlap=np.zeros((2, 2)))
    with pytest.raises(OverlapError, match="coupling_overlap"):
        Lead([[0.0]], [[-1.0]], c, coupling_overlap=np.zeros((3, 1)))
    with pytest.raises(OverlapError, match="onsite_overlap"):
        Lead([[0.0]], [[-1.0]], c, onsite_overlap=[[-1.0]])
    with pytest.raises(OverlapError, match="hopping_overlap"):
        Lead([[0.0]], [[-1.0]], c, hopping_overlap=[[0.6]])  # 1 + 1.2 cos k < 0 at k = pi
    # a backend instance built without the junction's overlap
    with pytest.raises(OverlapError, match="overlap"):
        Junction(h, leads, overlap=o, solver=DenseInverse(h, leads))


def test_rgf_overlap_must_be_block_tridiagonal_on_the_layers(solver, tol):
    # S coupling layers 0 and 2 of a layering fixed by the caller: refused,
    # naming the overlap; the default layering takes the union pattern of h and S
    h, o = chain_matrices(6)
    o2 = o.copy()
    o2[0, 2] = o2[2, 0] = 0.05
    leads = chain_leads(6)
    with pytest.raises(OverlapError, match="overlap"):
        Junction(h, leads, overlap=sp.csr_matrix(o2), solver="rgf", layers=[1, 1, 1, 1, 1, 1])
    j = Junction(h, leads, overlap=o2, solver=solver)
    ref = Junction(h, leads, overlap=sp.csr_matrix(o2))  # regression: a sparse S on the dense backend
    np.testing.assert_allclose(j.transmission([0.3]), ref.transmission([0.3]), atol=tol["solver"])


def test_energy_density_matrix_refuses_wide_band_leads(solver):
    # int E A(E) dE diverges logarithmically when A ~ Gamma / E^2 (wide-band leads)
    h, o = chain_matrices(3)
    leads = [WideBandLead(np.diag([0.5, 0, 0])), WideBandLead(np.diag([0, 0, 0.5]))]
    j = Junction(h, leads, overlap=o, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError, match="diverges"):
            j.energy_density_matrix()


def test_bound_state_search_stays_off_the_band_edges(solver):
    # regression: the gap search probed E = edge +- 1e-12 * scale, exactly the
    # band-edge tolerance of junction energies, and with this chain's scale it
    # landed on the edge (BandEdgeWarning from inside bound_states()).  The
    # perfect chain has no bound state (its states at the edges are the band's).
    j = chain_junction(6, solver)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(j.bound_states()) == 0


def test_overlap_is_the_third_positional_argument():
    # The documented signature Junction(hamiltonian, leads, overlap=None, solver=...):
    # a positional S is the overlap (same G as by keyword, exactly); the order
    # before overlap matrices, Junction(h, leads, solver, layers), still works
    # with a DeprecationWarning (same G as the keyword call, exactly).
    n = 6
    h, o = chain_matrices(n)
    leads = chain_leads(n)
    e = np.array([0.3, 1.1])
    by_keyword = Junction(h, leads, overlap=o).green(e)
    np.testing.assert_array_equal(Junction(h, leads, o).green(e), by_keyword)
    h0, _ = chain_matrices(n, s=0.0)
    leads0 = chain_leads(n, s=0.0)
    ref = Junction(h0, leads0, solver="rgf", layers=[2, 2, 2]).green(e)
    with pytest.warns(DeprecationWarning, match="third positional"):
        old = Junction(h0, leads0, "rgf", [2, 2, 2])
    assert old.overlap is None
    np.testing.assert_array_equal(old.green(e), ref)
    with pytest.warns(DeprecationWarning, match="third positional"):
        assert Junction(h0, leads0, "rgf").overlap is None
