"""Bad arguments raise InputError naming the argument (one validator per kind
of argument, in currentforces._checks); the limits where an argument is
legitimate but singular (band edges, dispersionless leads, closed devices)
give the physical answer or a named warning."""

import math
import warnings

import numpy as np
import pytest

import currentforces as cf
from currentforces import ChainLead, InputError, Junction, Lead
from currentforces._checks import check_rtol, check_spin
from currentforces.coupling import coefficients_from_junction, from_junction, spectrum_from_junction
from currentforces.dynamics.langevin import LangevinDynamics, stationary_covariance
from currentforces.dynamics.modes import runaway_threshold
from currentforces.dynamics.noise_generation import NoiseGenerator, wide_band_spectrum
from currentforces.errors import BandEdgeWarning
from currentforces.models import electron_gas
from currentforces.models.chain import chain_force_operators, chain_junction
from currentforces.parallel import bias_sweep
from currentforces.units import KB

J = chain_junction(4)
F = chain_force_operators(4, 0.2, atoms=[1, 2])
T_MATRICES = np.ones((2, 2, 1, 1))


def flat_spectrum(hw):
    return np.ones((np.size(hw), 1, 1))


# (call taking the bad value, the argument name the message must contain)
CALLS = {
    "spin": [
        lambda v: J.current(0.1, spin=v),
        lambda v: J.density_matrix(0.1, spin=v),
        lambda v: cf.force_coefficients(J, F, spin=v),
        lambda v: cf.low_bias_coefficients(J, F, spin=v),
        lambda v: cf.electron_hole_spectrum(J, F, 0.01, spin=v),
        lambda v: cf.noise_spectrum(J, F, 0.01, spin=v),
        lambda v: cf.dissipation_spectrum(J, F, 0.01, spin=v),
        lambda v: cf.joule_heating(J, F[0], 0.01, spin=v),
        lambda v: wide_band_spectrum(T_MATRICES, spin=v),
        lambda v: coefficients_from_junction(J, F, spin=v),
        lambda v: bias_sweep(J, F, [0.1], spin=v),
        lambda v: electron_gas.electron_density(1.0, spin=v),
    ],
    "rtol": [
        lambda v: J.current(0.1, rtol=v),
        lambda v: J.density_matrix(0.1, rtol=v),
        lambda v: J.equilibrium_density_matrix(0.0, rtol=v),
        lambda v: cf.force_coefficients(J, F, rtol=v),
        lambda v: cf.low_bias_coefficients(J, F, temperature=300.0, rtol=v),
        lambda v: cf.noise_spectrum(J, F, 0.01, rtol=v),
        lambda v: bias_sweep(J, F, [0.1], rtol=v),
    ],
    "temperature": [
        lambda v: J.current(0.1, temperature=v),
        lambda v: cf.low_bias_coefficients(J, F, temperature=v),
        lambda v: wide_band_spectrum(T_MATRICES, temperature=v),
        lambda v: coefficients_from_junction(J, F, temperature=v),
        lambda v: bias_sweep(J, F, [0.1], temperature=v),
    ],
    "timestep": [
        lambda v: NoiseGenerator(flat_spectrum, 1, v, block_length=8),
        lambda v: LangevinDynamics([1.0], [[1.0]], v),
        lambda v: from_junction(J, F, [1.0, 1.0], np.eye(2), v),
    ],
    "hbar_omega_max": [
        lambda v: stationary_covariance([1.0], [[1.0]], [[-0.01]], flat_spectrum, v),
        lambda v: spectrum_from_junction(J, F, v),
        lambda v: from_junction(J, F, [1.0, 1.0], np.eye(2), 0.1, hbar_omega_max=v),
    ],
    "epsrel": [lambda v: stationary_covariance([1.0], [[1.0]], [[-0.01]], flat_spectrum, 0.1, epsrel=v)],
    "tol": [lambda v: Lead([[0.0]], [[1.0]], [[1.0]], tol=v)],
    "eta": [lambda v: Lead([[0.0]], [[1.0]], [[1.0]], eta=v)],
    "onsite": [lambda v: ChainLead(1.0, [1.0], onsite=v)],
    "hopping": [lambda v: ChainLead(v, [1.0])],
    "cutoff": [lambda v: wide_band_spectrum(T_MATRICES, cutoff=v)],
    "hbar_omega": [
        lambda v: cf.joule_heating(J, F[0], v),
        lambda v: coefficients_from_junction(J, F, hbar_omega=v),
        lambda v: cf.force_coefficients(J, F, hbar_omega=v),
    ],
    "tolerance": [
        lambda v: runaway_threshold(lambda b: (np.eye(1), np.zeros((1, 1))), [1.0], [[1.0]], 1.0, tolerance=v)
    ],
}

BAD = {
    # spin degeneracy: 1 or 2 only (see check_spin)
    "spin": [math.nan, 0, -2, 3.5, True, "two"],
    "rtol": [-1.0, 0.0, math.nan, 1.0, 1e-16],
    "temperature": [math.nan, -300.0, math.inf],
    "timestep": [0.0, -1.0, math.nan],
    "hbar_omega_max": [-0.1, 0.0, math.nan],
    "epsrel": [0.0, -1e-8, math.nan],
    "tol": [-1.0, 0.0, math.nan, 1.0],
    "eta": [-1e-3, 0.0, math.inf],
    "onsite": [math.inf, math.nan],
    # 1e-300 eV: a band 1e-300 eV wide next to a 1 eV coupling (no propagating states)
    "hopping": [0.0, math.nan, 1e-300, 1e-9],
    "cutoff": [0.0, -1.0, math.nan],
    "hbar_omega": [-0.1, math.nan],
    "tolerance": [0.0, math.nan],
}

CASES = [(name, i, bad) for name, calls in CALLS.items() for i in range(len(calls)) for bad in BAD[name]]


@pytest.mark.parametrize("name,i,bad", CASES, ids=[f"{n}-{i}-{b!r}" for n, i, b in CASES])
def test_bad_argument_raises_input_error_naming_it(name, i, bad):
    with pytest.raises(InputError, match=name):
        CALLS[name][i](bad)


def test_spin_and_rtol_accept_their_physical_values():
    # g_s = 1 or 2 as int, float or numpy integer; returned as an int
    assert [check_spin(s) for s in (1, 2, 2.0, np.int64(1))] == [1, 2, 2, 1]
    assert check_rtol(1e-8) == 1e-8 and check_rtol(0.5) == 0.5
    # spin multiplies every electronic quantity (formulas: g_s times the
    # per-spin Landauer current and density matrix)
    i1, i2 = J.current(0.2, spin=1), J.current(0.2, spin=2)
    assert i1 > 0 and abs(i2 - 2 * i1) <= 1e-12 * abs(i2)
    r1, r2 = J.density_matrix(0.2, spin=1), J.density_matrix(0.2, spin=2)
    assert np.allclose(r2, 2 * r1, atol=1e-14, rtol=0)


def test_noise_generator_counts():
    for kw, name in (({"n_modes": 0}, "n_modes"), ({"n_realizations": 0}, "n_realizations")):
        args = {"n_modes": 1, "n_realizations": 1} | kw
        with pytest.raises(InputError, match=name):
            NoiseGenerator(flat_spectrum, args["n_modes"], 0.5, n_realizations=args["n_realizations"], block_length=8)


# ----------------------------------------------------------------------------
# leads
# ----------------------------------------------------------------------------
def test_chain_lead_blames_the_right_argument():
    with pytest.raises(InputError, match="onsite") as err:
        ChainLead(1.0, [1.0], onsite=math.inf)
    assert "hopping" not in str(err.value)
    # a narrow but resolvable band is accepted, and its self-energy is the
    # closed form: inside the band |E| < 2|t|, Sigma = c^2 (E - i sqrt(4t^2 - E^2))/2t^2
    t, c, e = 1e-6, 1.0, 0.5e-6
    sigma = ChainLead(t, [c]).self_energy(e)[0, 0]
    ref = c**2 * (e - 1j * math.sqrt(4 * t * t - e * e)) / (2 * t * t)
    assert abs(sigma - ref) <= 1e-12 * abs(ref)


def test_transmission_between_a_lead_and_itself_is_refused():
    with pytest.raises(InputError, match="source and drain"):
        J.transmission(0.3, source=0, drain=0)
    with pytest.raises(InputError, match="source and drain"):
        J.transmission(0.3, source=1, drain=-1)  # the same lead, counted from the end


def test_lead_without_propagating_states_is_refused():
    # cells of two orbitals whose only inter-cell bond joins b of one cell to a
    # of the next: isolated dimers, bands +-1 at every k (dispersionless)
    with pytest.raises(InputError, match="no propagating states"):
        Lead(np.zeros((2, 2)), [[0.0, 0.0], [1.0, 0.0]], [[1.0, 0.0]])
    # a hopping far below the coupling: a band 4e-12 eV wide
    with pytest.raises(InputError, match="no propagating states"):
        Lead([[0.0]], [[1e-12]], [[1.0]])


def test_dispersionless_band_is_a_pole_of_sigma_with_a_named_warning():
    # orbital a forms a chain (t = -1 eV), orbital b (0.5 eV) is isolated:
    # Sigma = |v_a|^2 g_chain(E) + |v_b|^2 / (E - 0.5), a pole at the flat band.
    lead = Lead([[0.0, 0.0], [0.0, 0.5]], [[-1.0, 0.0], [0.0, 0.0]], [[1.0, 0.7]])
    assert lead.flat_bands == (0.5,)
    e = np.array([-2.5, 0.3, 0.5 + 1e-3, 1.1, 2.4])
    from currentforces.leads import chain_surface_green

    # the device orbital couples to a and b with 1.0 and 0.7 eV
    ref = chain_surface_green(e, -1.0) + 0.49 / (e - 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BandEdgeWarning)
        sigma = lead.self_energy(e)[:, 0, 0]
    assert np.allclose(sigma, ref, atol=1e-9, rtol=1e-9)
    with pytest.warns(BandEdgeWarning, match="dispersionless"):
        lead.self_energy(0.5)


# ----------------------------------------------------------------------------
# band edges
# ----------------------------------------------------------------------------
def _lead_junction(n, coupling=1.0):
    """chain_junction(n, coupling=...) with general Leads instead of ChainLeads."""
    h = chain_junction(n, coupling=coupling).hamiltonian
    cl, cr = np.zeros((n, 1)), np.zeros((n, 1))
    cl[0, 0] = cr[-1, 0] = -coupling
    return Junction(h, [Lead([[0.0]], [[-1.0]], cl), Lead([[0.0]], [[-1.0]], cr)])


@pytest.mark.parametrize("n", [1, 6])
def test_band_edge_of_a_perfect_chain(n):
    # A perfect chain has T = 1 for |E| < 2 eV and 0 outside; at E = +-2 eV the
    # device has a zero-velocity state, G diverges and T jumps.  The retarded
    # limit taken vertically, T(E_b + i eta) as eta -> 0, is 1/2: for one site,
    # G = 1/s and Gamma = Im s - eta with s = sqrt(z^2 - 4) ~ 2 sqrt(eta) e^{i pi/4},
    # so T = (Im s)^2/|s|^2 -> 1/2.  Both lead kinds and both backends give it,
    # with the same warning.
    chain = chain_junction(n)
    for j in (chain, _lead_junction(n), Junction(chain.hamiltonian, chain.leads, solver="rgf")):
        with pytest.warns(BandEdgeWarning, match="band edge"):
            t = j.transmission(np.array([2.0, -2.0]))
        assert np.all(np.abs(t - 0.5) < 1e-3)
        # the one-sided limits, away from the edge by far more than the round-off
        assert abs(j.transmission(2.0 - 1e-9) - 1.0) < 1e-6 and abs(j.transmission(2.0 + 1e-9)) < 1e-6


def test_band_edge_of_a_device_without_edge_state_is_the_common_limit():
    # weak device-lead bonds: no state at the edge, G finite, Gamma_l = 0 at the
    # edge exactly (the chain's velocity vanishes), so T(E_b) = 0 from both sides.
    with warnings.catch_warnings():
        warnings.simplefilter("error", BandEdgeWarning)
        t_chain = chain_junction(6, coupling=0.5).transmission(2.0)
        t_lead = _lead_junction(6, coupling=0.5).transmission(2.0)
    assert t_chain == 0.0
    assert abs(t_lead) < 1e-6  # the decimation's eta bias, O(sqrt(eta)) at an edge


def test_chain_lead_sigma_at_the_edge_is_the_limit():
    # g(E) = (x -+ sqrt(x^2 - 4t^2))/2t^2 -> x/2t^2 = +-1/|t| at x = +-2|t|,
    # continuous from both sides; Gamma = 0 there.
    lead = ChainLead(-1.5, [0.8], onsite=0.2)
    sigma = lead.self_energy(np.array([0.2 + 3.0, 0.2 - 3.0]))[:, 0, 0]
    assert np.allclose(sigma, [0.64 / 1.5, -0.64 / 1.5], atol=1e-15, rtol=0)
    near = lead.self_energy(np.array([3.2 - 1e-12, 3.2 + 1e-12]))[:, 0, 0]
    assert np.allclose(near, 0.64 / 1.5, atol=1e-6, rtol=0)


# ----------------------------------------------------------------------------
# a device without leads
# ----------------------------------------------------------------------------
CLOSED = Junction(-1.0 * (np.eye(4, k=1) + np.eye(4, k=-1)), [])
CLOSED_F = chain_force_operators(4, 0.2, atoms=[1, 2])


@pytest.mark.parametrize(
    "call",
    [
        lambda: CLOSED.current(0.1),
        lambda: CLOSED.transmission(0.3),
        lambda: CLOSED.density_matrix(bias=0.1),
        lambda: cf.force_coefficients(CLOSED, CLOSED_F),
        lambda: cf.force_coefficients(CLOSED, CLOSED_F, temperature=0.0),
        lambda: cf.electron_hole_spectrum(CLOSED, CLOSED_F, 0.01),
        lambda: cf.noise_spectrum(CLOSED, CLOSED_F, 0.01),
        lambda: cf.low_bias_coefficients(CLOSED, CLOSED_F),
    ],
)
def test_closed_device_refuses_what_needs_leads(call):
    with pytest.raises(InputError, match="lead"):
        call()


@pytest.mark.parametrize("temperature", [0.0, 300.0])
def test_closed_device_equilibrium_density_matrix(temperature):
    # A closed system in equilibrium at mu: rho = g_s sum_k n_F(eps_k - mu) |k><k|
    # (eigenvalues of the 4-site chain: 2 cos(k pi/5), none at mu = 0.1).
    mu = 0.1
    w, v = np.linalg.eigh(CLOSED.hamiltonian)
    if temperature == 0.0:
        occ = (w < mu).astype(float)
    else:
        occ = 1.0 / (np.exp((w - mu) / (KB * temperature)) + 1.0)
    ref = 2 * (v * occ) @ v.conj().T
    rho = CLOSED.density_matrix(temperature=temperature, fermi_level=mu)
    assert np.allclose(rho, ref, atol=1e-8, rtol=0)
