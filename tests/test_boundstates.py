"""Bound states: detection, their occupation in the density matrix and the
mean force, no friction from them, and the named error when one sits on the
chemical potential at T = 0 (issue 10 item 2, issue 11 item 3).

Model: a chain with an impurity, h[2, 2] = eps = 3 eV in a chain of
hopping -1 eV between chain leads.  The device is a piece of the infinite
impurity chain, whose bound state is known in closed form: E_b = sqrt(eps^2
+ 4 t^2) = sqrt(13) eV above the band [-2, 2] eV, with amplitudes
psi_j ~ (-x)^|j - 2|, x = (E_b - sqrt(E_b^2 - 4t^2)) / 2t (above the band of a
chain with hopping -t the state alternates in sign).
"""

import math

import numpy as np
import pytest
import scipy.linalg as la
from overlaphelpers import chain_leads, chain_matrices

from currentforces import BoundStateError, ChainLead, Junction, WideBandLead, force_coefficients
from currentforces.boundstates import find_bound_states
from currentforces.models.chain import chain_force_operators

N = 6
EB = math.sqrt(13.0)


def impurity_chain(n=N, eps=3.0):
    h = -1.0 * (np.eye(n, k=1) + np.eye(n, k=-1))
    h[2, 2] = eps
    cl, cr = np.zeros(n), np.zeros(n)
    cl[0] = cr[-1] = -1.0
    return Junction(h, [ChainLead(-1.0, cl), ChainLead(-1.0, cr)])


def test_gap_state_energy_and_residue():
    # closed form above: E_b and the device weight sum_{j in device} psi_j^2
    j = impurity_chain()
    bs = j.bound_states()
    assert len(bs) == 1 and not bs.decoupled[0]
    assert abs(bs.energies[0] - EB) < 1e-13
    x = (EB - math.sqrt(EB * EB - 4)) / 2
    psi = np.array([(-x) ** abs(k - 2) for k in range(N)])
    norm = 1 + 2 * x * x / (1 - x * x)  # sum over the infinite chain
    r = bs.residues()[0]
    assert np.allclose(r, np.outer(psi, psi) / norm, atol=1e-12)


def test_decoupled_states():
    # an orbital without hopping between wide-band leads, and the
    # antisymmetric combination of two orbitals that couple to one lead and
    # to a third site identically (interference): both are eigenstates that
    # no lead sees, at their eigenvalues (0.3 eV and 0 eV)
    h = np.diag([0.0, 0.3, -0.2])
    h[0, 2] = h[2, 0] = 0.5
    j = Junction(h, [WideBandLead(np.diag([0.2, 0, 0])), WideBandLead(np.diag([0, 0, 0.1]))])
    bs = find_bound_states(j)
    assert bs.decoupled.tolist() == [True] and abs(bs.energies[0] - 0.3) < 1e-14
    assert np.allclose(bs.residues()[0], np.diag([0, 1.0, 0]), atol=1e-14)
    h = np.array([[0.0, 0, 0.4], [0, 0, 0.4], [0.4, 0.4, 0.1]])
    g = np.zeros((3, 3))
    g[:2, :2] = 0.1
    j = Junction(h, [WideBandLead(g), WideBandLead(np.diag([0, 0, 0.1]))])
    bs = find_bound_states(j)
    v = np.array([1, -1, 0]) / math.sqrt(2)
    assert len(bs) == 1 and abs(bs.energies[0]) < 1e-14
    assert np.allclose(bs.residues()[0], np.outer(v, v), atol=1e-14)
    # a perfect chain has none
    from currentforces.models.chain import chain_junction

    assert len(chain_junction(8).bound_states()) == 0


def test_density_matrix_holds_the_bound_state():
    # completeness: above the band every scattering state is filled, so the
    # device holds 1 electron per orbital and spin once the bound state is
    # filled too, and 1 - R_b without it (T = 0); at mu = E_b and T > 0 it is
    # half filled.  rho(E_b + 1e-6) - rho(E_b - 1e-6) = R_b exactly.
    j = impurity_chain()
    r = j.bound_states().residues()[0]
    eye = np.eye(N)
    below = j.density_matrix(temperature=0.0, fermi_level=EB - 1e-6, spin=1)
    above = j.density_matrix(temperature=0.0, fermi_level=EB + 1e-6, spin=1)
    half = j.density_matrix(temperature=300.0, fermi_level=EB, spin=1)
    assert np.abs(above - eye).max() < 1e-8
    assert np.abs(below - (eye - r)).max() < 1e-8
    # at 300 K the band top (2 eV) is 1.6 eV = 62 kT below: fully occupied
    assert np.abs(half - (eye - 0.5 * r)).max() < 1e-8


def test_density_matrix_against_a_long_closed_chain():
    # second route: the same impurity in a closed chain of 801 sites, its
    # eigenstates filled up to mu = 3 eV (in the gap between band and bound
    # state: no Fermi-level subtlety, finite-size error ~ e^-(distance)),
    # device block = sites 398..403 around the impurity at 400.
    mu = 3.0
    j = impurity_chain()
    rho = j.density_matrix(temperature=0.0, fermi_level=mu, spin=1)
    big = 801
    h = -1.0 * (np.eye(big, k=1) + np.eye(big, k=-1))
    h[400, 400] = 3.0
    w, v = np.linalg.eigh(h)
    occ = v[:, w < mu]
    block = (occ @ occ.T)[398:404, 398:404]
    assert np.abs(rho - block).max() < 1e-8
    mu = 4.0  # above the bound state as well
    rho = j.density_matrix(temperature=0.0, fermi_level=mu, spin=1)
    occ = v[:, w < mu]
    assert np.abs(rho - (occ @ occ.T)[398:404, 398:404]).max() < 1e-8


def test_bound_state_at_chemical_potential_is_a_named_error():
    # E_F = sqrt(13) eV typed in by a user (the closed form), at T = 0
    j = impurity_chain()
    f = chain_force_operators(N, 0.5, atoms=[2, 3])
    eb = EB
    with pytest.raises(BoundStateError, match="fermi_level.*bound state"):
        force_coefficients(j, f, temperature=0.0, fermi_level=eb)
    with pytest.raises(BoundStateError):
        j.density_matrix(temperature=0.0, fermi_level=eb)
    # defined at any T > 0: half occupied (test above)
    force_coefficients(j, f, temperature=1.0, fermi_level=eb)


@pytest.mark.parametrize("temperature", [0.0, 300.0])
def test_friction_near_a_bound_state(temperature):
    # issue 10 item 2: at E_b - 1e-6 the friction was +0.23 eV fs/A^2 (and
    # 5e9 at E_b).  Above the band there is no continuum of electron-hole
    # pairs, so the equilibrium friction -(hbar/4pi) int (-n') Re Tr[f A f A]
    # vanishes (up to exp(-1.6 eV / kT) at 300 K), on both sides of E_b.
    j = impurity_chain()
    f = chain_force_operators(N, 0.5, atoms=[2, 3])
    eb = EB
    for d in (-1e-3, -1e-6, 1e-6, 1e-3):
        c = force_coefficients(j, f, temperature=temperature, fermi_level=eb + d)
        assert np.abs(c.L).max() < 1e-12
        assert np.linalg.eigvalsh(c.friction).max() <= 0


def test_mean_force_and_K_near_a_bound_state():
    # K = -dF0/dX by central differences of the mean force (h(X) = h - sum f X),
    # with the Fermi level 1e-6 eV below / above the bound state at T = 0 (the
    # bound state empty / filled, its energy moving with X by ~ 0.1 * 1e-5)
    j = impurity_chain()
    f = chain_force_operators(N, 0.5, atoms=[2, 3])
    eb = float(j.bound_states().energies[0])
    for d in (-1e-6, 1e-6):
        c = force_coefficients(j, f, temperature=0.0, fermi_level=eb + d, spin=1)
        x = 1e-7
        fd = []
        for b in range(2):
            fp = force_coefficients(
                Junction(j.hamiltonian - x * f[b], j.leads), f, temperature=0.0, fermi_level=eb + d, spin=1
            ).mean_force
            fm = force_coefficients(
                Junction(j.hamiltonian + x * f[b], j.leads), f, temperature=0.0, fermi_level=eb + d, spin=1
            ).mean_force
            fd.append(-(fp - fm) / (2 * x))
        fd = np.array(fd).T
        assert np.abs(c.K - fd).max() < 1e-6 * max(1.0, np.abs(c.K).max())
    # the jump of F0 across E_b is the bound state's force Tr[f R_b]
    r = j.bound_states().residues()[0]
    lo = force_coefficients(j, f, temperature=0.0, fermi_level=eb - 1e-6, spin=1).mean_force
    hi = force_coefficients(j, f, temperature=0.0, fermi_level=eb + 1e-6, spin=1).mean_force
    assert np.allclose(hi - lo, [np.trace(fb @ r) for fb in f], atol=1e-9)


def decoupled_model(coupling_d=0.0):
    """Sites 0, 1 between wide-band leads (hopping 0.5 eV); site 2 at 0.1 eV
    without hopping, weakly broadened by ``coupling_d`` (a third lead) or
    decoupled; the force operator couples it to site 1 (beta = 0.2 eV/A)."""
    h = np.array([[0.0, -0.5, 0.0], [-0.5, 0.05, 0.0], [0.0, 0.0, 0.1]])
    leads = [WideBandLead(np.diag([0.4, 0, 0])), WideBandLead(np.diag([0, 0.3, 0]))]
    if coupling_d:
        leads.append(WideBandLead(np.diag([0, 0, coupling_d])))
    f = np.zeros((3, 3))
    f[1, 2] = f[2, 1] = 0.2
    f2 = np.diag([0.0, 0.1, 0.0])
    return Junction(h, leads), [f, f2]


@pytest.mark.parametrize("temperature", [0.0, 300.0])
def test_bound_state_in_the_continuum_friction(temperature):
    # A decoupled state inside the band: at T = 0 and mu off E_b it adds no
    # friction (no pair at zero energy); at T > 0 it adds the pairs it forms
    # with the continuum, hbar (-n')(E_b) Re Tr[f R f A(E_b)].  Second route:
    # the same orbital weakly coupled (Gamma_d = 1e-11 eV) to a third lead, an
    # ordinary narrow resonance through the window integrals; f has no
    # diagonal element on it, so its own width does not enter and the
    # friction converges as Gamma_d -> 0 (corrections O(Gamma_d / kT) and,
    # from the Lorentzian tail at T = 0, O(Gamma_d / (mu - E_b)^2) = 1e-7).
    mu = 0.11
    j, f = decoupled_model()
    assert j.bound_states().decoupled.tolist() == [True]
    c = force_coefficients(j, f, temperature=temperature, fermi_level=mu, spin=1)
    jr, fr = decoupled_model(1e-11)
    ref = force_coefficients(jr, fr, temperature=temperature, fermi_level=mu, spin=1)
    assert np.abs(c.friction - ref.friction).max() < 1e-5 * np.abs(ref.friction).max()
    assert np.linalg.eigvalsh(c.friction).max() <= 0
    with pytest.raises(BoundStateError):
        force_coefficients(j, f, temperature=0.0, fermi_level=0.1)


def test_decoupled_state_in_the_adiabatic_bias_window_is_a_named_error():
    # hbar w = 0 with a bias: a decoupled state inside the bias window and a
    # band puts the pole of G and the double pole of dG/dE on the window
    # path (not implemented; at finite frequency the poles of G(E +- w) are
    # exact, tests/test_bound_frequency.py)
    jd, fd = decoupled_model()
    with pytest.raises(BoundStateError, match="bias window"):
        force_coefficients(jd, fd, temperature=0.0, fermi_level=0.1 + 3e-4, bias=0.1)


def test_non_orthogonal_gap_state_against_a_long_closed_chain():
    # Regression: with leads coupled through an overlap, Gamma(z) = i(Sigma - Sigma^dagger)
    # off the real axis has negative directions, and every device eigenvector was
    # reported as a "decoupled" bound state (7 of 7).  A non-orthogonal chain
    # (e = 0.1, t = -1, s = 0.2: band [(e + 2t)/(1 + 2s), (e - 2t)/(1 - 2s)] =
    # [-1.357, 3.5] eV) with one impurity level at -2.5 eV has exactly one state
    # below the band.  Independent route: the lowest generalised eigenvalue of
    # a long closed chain of the same kind converges to it exponentially in the
    # length (localisation length ~ 1 site here), so 401 sites give it to
    # round-off.
    n = 7
    h, s = chain_matrices(n)
    h[3, 3] = -2.5
    bs = find_bound_states(Junction(h, chain_leads(n), overlap=s))
    assert len(bs) == 1 and not bs.decoupled.any()

    big_h, big_s = chain_matrices(401)
    big_h[200, 200] = -2.5
    expected = la.eigh(big_h, big_s, eigvals_only=True)[0]
    assert expected < -1.4  # below the band: a gap state
    assert bs.energies[0] == pytest.approx(expected, abs=1e-9)
