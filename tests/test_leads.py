"""Lead self-energies against closed forms (docs/theory.rst theory-leads)."""

import numpy as np
import pytest

from currentforces import ChainLead, InputError, Lead, WideBandLead
from currentforces.leads import chain_surface_green

ENERGIES = np.array([-3.1, -2.4, -1.7, -1.0, -0.3, 0.0, 0.45, 1.2, 1.9, 2.6, 4.0])


def closed_form_chain(e, t):
    """eq-chain-surface: g = (E - i sqrt(4t^2 - E^2))/2t^2 in the band,
    (E - sgn(E) sqrt(E^2 - 4t^2))/2t^2 outside."""
    inside = np.abs(e) < 2 * abs(t)
    root = np.sqrt(np.abs(4 * t * t - e * e))
    return np.where(inside, (e - 1j * root) / (2 * t * t), (e - np.sign(e) * root) / (2 * t * t))


@pytest.mark.parametrize("t", [-1.0, 0.7])
def test_chain_closed_form_and_decimation(t, tol):
    e = ENERGIES * abs(t)
    ref = closed_form_chain(e, t)
    assert np.allclose(chain_surface_green(e, t), ref, atol=tol["exact"], rtol=0)
    # decimation of the same chain, coupling tau: Sigma = tau^2 g
    tau = 0.8
    lead = Lead([[0.0]], [[t]], [[tau]])
    sigma = lead.self_energy(e)[:, 0, 0]
    assert np.allclose(sigma, tau**2 * ref, atol=tol["lead"], rtol=0)


def test_retarded_branch_everywhere():
    # Retarded: -Im Sigma >= 0 (Gamma PSD), and Sigma -> tau^2/E -> 0 as |E| -> inf.
    lead = Lead([[0.0]], [[1.0]], [[1.0]])
    s = lead.self_energy(np.array([-50.0, -2.5, 0.3, 2.5, 50.0]))[:, 0, 0]
    assert np.all(s.imag <= 1e-15)
    assert abs(s[0] - 1 / -50.0) < 1e-3 and abs(s[-1] - 1 / 50.0) < 1e-3
    # outside the band the self-energy is real (no states to decay into)
    assert abs(s[1].imag) < 1e-12 and abs(s[3].imag) < 1e-12


def test_complex_energies_match_closed_form(tol):
    z = np.array([0.3 + 0.01j, -1 + 2j, 5j, 2.0 + 1e-3j])
    lead = Lead([[0.0]], [[1.0]], [[1.0]])
    assert np.allclose(lead.self_energy(z)[:, 0, 0], chain_surface_green(z, 1.0), atol=tol["lead"], rtol=0)


@pytest.mark.parametrize("t", [-1.0, 0.7])
def test_chain_surface_green_keeps_its_digits_far_from_the_band(t):
    # expected value: for |z| >> |t| the surface Green's function is the
    # generating function of the Catalan numbers C_n (paths that return to
    # the surface site), g = sum_n C_n t^(2n) / z^(2n+1); truncated after
    # C_5 = 42 it is exact to 132 (t/z)^12 < 1e-30 relative for
    # |z| >= 1e3 |t|.  The form (z - sqrt(z - 2t) sqrt(z + 2t))/2t^2 cancels
    # and has no correct digit at |z| = 1e8 |t|.
    y = np.array([1e3, 1e5, 1e8, 1e12]) * abs(t)
    z = np.concatenate([0.3 * abs(t) + 1j * y, -2.5 * y + 1j * abs(t), 4.0 * y])
    x = (t / z) ** 2
    series = (1 + x * (1 + x * (2 + x * (5 + x * (14 + 42 * x))))) / z
    np.testing.assert_allclose(chain_surface_green(z, t), series, rtol=1e-14, atol=0)


def ladder(t=1.0, tp=0.6):
    onsite = np.array([[0.0, tp], [tp, 0.0]])
    hop = t * np.eye(2)
    return onsite, hop


def test_ladder_lead_decouples_into_two_chains(tol):
    # A two-leg ladder with rung tp splits into bonding/antibonding chains with
    # on-site -+tp (rotate by U = [[1,1],[1,-1]]/sqrt2): g = U diag(g(E-tp'), ...) U^T.
    onsite, hop = ladder()
    lead = Lead(onsite, hop, np.eye(2))
    e = np.array([-2.9, -1.5, -0.2, 0.0, 0.9, 2.2, 3.3])
    u = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
    g_b = chain_surface_green(e, 1.0, onsite=0.6)  # eigenvalue +tp of the rung
    g_a = chain_surface_green(e, 1.0, onsite=-0.6)  # eigenvalue -tp
    ref = np.einsum("ij,ej,kj->eik", u, np.stack([g_b, g_a], axis=1), u)
    assert np.allclose(lead.self_energy(e), ref, atol=tol["lead"], rtol=0)


def test_doubled_cell_gives_same_self_energy(tol):
    # The same ladder described with a two-rung cell: onsite [[H00, H01],[H10, H00]],
    # hopping [[0, 0],[H01, 0]]; the device couples to the first rung only.
    onsite, hop = ladder()
    one = Lead(onsite, hop, np.eye(2))
    big_onsite = np.block([[onsite, hop], [hop.T, onsite]])
    big_hop = np.block([[np.zeros((2, 2)), np.zeros((2, 2))], [hop, np.zeros((2, 2))]])
    coupling = np.hstack([np.eye(2), np.zeros((2, 2))])
    two = Lead(big_onsite, big_hop, coupling)
    # energies away from the folded-band crossings (E = 0, +-0.6) and band edges
    # (+-1.4, +-2.6), where the doubled description is singular (next test)
    e = np.array([-3.0, -2.1, -1.3, -0.4, 0.37, 0.77, 1.6, 2.5])
    assert np.allclose(one.self_energy(e), two.self_energy(e), atol=tol["lead"], rtol=0)


def test_self_energy_derivative_matches_finite_difference():
    # Central differences with step h have error h^2 Sigma'''/6 ~ 1e-10 here.
    onsite, hop = ladder()
    lead = Lead(onsite, hop, np.eye(2))
    e = np.array([-1.3, 0.2, 0.9, 3.1])
    h = 1e-5
    fd = (lead.self_energy(e + h) - lead.self_energy(e - h)) / (2 * h)
    assert np.allclose(lead.self_energy_derivative(e), fd, atol=1e-8, rtol=0)
    chain = ChainLead(1.0, [1.0])
    fd = (chain.self_energy(e + h) - chain.self_energy(e - h)) / (2 * h)
    assert np.allclose(chain.self_energy_derivative(e), fd, atol=1e-8, rtol=0)


def test_wide_band_lead():
    gam = np.array([[0.2, 0.05], [0.05, 0.1]])
    lead = WideBandLead(gam)
    assert np.allclose(lead.self_energy(np.array([0.0, 3.0])), -0.5j * gam)
    assert np.allclose(lead.broadening(1.0), gam)
    assert np.all(lead.self_energy_derivative([1.0, 2.0]) == 0)


def test_bad_lead_input():
    with pytest.raises(InputError, match="gamma.*Hermitian"):
        WideBandLead([[0.1, 0.2], [0.0, 0.1]])
    with pytest.raises(InputError, match="positive semi-definite"):
        WideBandLead([[0.1, 0.0], [0.0, -0.1]])
    with pytest.raises(InputError, match="gamma.*NaN"):
        WideBandLead([[np.nan]])
    with pytest.raises(InputError, match="onsite.*Hermitian"):
        Lead([[0.0, 1.0], [0.0, 0.0]], np.eye(2), np.eye(2))
    with pytest.raises(InputError, match="hopping must have the shape"):
        Lead(np.eye(2), np.eye(3), np.eye(2))
    with pytest.raises(InputError, match="coupling must have shape"):
        Lead(np.eye(2), np.eye(2), np.ones((4, 3)))
    with pytest.raises(InputError, match="upper half plane"):
        Lead([[0.0]], [[1.0]], [[1.0]]).self_energy(0.1 - 0.2j)


def test_singular_energy_is_reported_not_silent():
    # In the doubled ladder cell a right- and a left-moving folded band cross at
    # E = 0.6 (bonding chain 0.6 + 2cos k at k = pi/2 maps to Bloch factor -1 for
    # both directions): the surface Dyson equation is singular as eta -> 0, so the
    # lead must warn about the broadening it reached, and still be close.
    from currentforces.leads import SelfEnergyAccuracyWarning

    onsite, hop = ladder()
    one = Lead(onsite, hop, np.eye(2))
    big_onsite = np.block([[onsite, hop], [hop.T, onsite]])
    big_hop = np.block([[np.zeros((2, 2)), np.zeros((2, 2))], [hop, np.zeros((2, 2))]])
    two = Lead(big_onsite, big_hop, np.hstack([np.eye(2), np.zeros((2, 2))]))
    with pytest.warns(SelfEnergyAccuracyWarning, match="broadening"):
        s2 = two.self_energy(0.6)
    assert np.allclose(s2, one.self_energy(0.6), atol=1e-4, rtol=0)


def test_self_energy_block_is_the_support_block_of_self_energy():
    # Two routes: the direct support evaluation versus slicing the N x N matrix.
    import currentforces.leads as leads_mod

    rng = np.random.default_rng(3)
    e = np.array([-0.7, 0.1, 0.4 + 0.05j])
    c = np.zeros((6, 2), dtype=complex)
    c[[1, 4]] = rng.standard_normal((2, 2))
    onsite = np.array([[0.1, 0.3], [0.3, -0.2]])
    gamma = np.zeros((6, 6))
    gamma[2, 2], gamma[2, 5], gamma[5, 2], gamma[5, 5] = 0.3, 0.1, 0.1, 0.2
    cc = np.zeros(6)
    cc[[0, 3]] = [-0.8, 0.5]
    for lead in (leads_mod.Lead(onsite, -np.eye(2), c), leads_mod.WideBandLead(gamma), leads_mod.ChainLead(-1.0, cc)):
        idx = lead.support
        full = lead.self_energy(e)[:, idx[:, None], idx[None, :]]
        assert np.allclose(lead.self_energy_block(e), full, atol=1e-13, rtol=0)
        assert np.allclose(leads_mod.LeadBase.self_energy_block(lead, e), full, atol=1e-13, rtol=0)
        dfull = lead.self_energy_derivative(e)[:, idx[:, None], idx[None, :]]
        assert np.allclose(lead.self_energy_derivative_block(e), dfull, atol=1e-12, rtol=0)
        assert np.allclose(leads_mod.LeadBase.self_energy_derivative_block(lead, e), dfull, atol=1e-12, rtol=0)
