"""The junction engine against closed forms, sum rules and symmetries, on
both Green's-function backends (the ``solver`` fixture: dense inverse and
block-tridiagonal recursions)."""

import math

import numpy as np
import pytest

from currentforces import ChainLead, InputError, Junction, Lead, WideBandLead
from currentforces.integrate import fermi, integrate_adaptive
from currentforces.units import CONDUCTANCE_QUANTUM_SPINLESS

from junctionhelpers import chain_junction, single_level


def breit_wigner(e, eps0, gl, gr):
    """T(E) = Gamma_L Gamma_R / ((E - eps0)^2 + Gamma^2/4) for one level."""
    g = gl + gr
    return gl * gr / ((e - eps0) ** 2 + g * g / 4)


def disordered_chain(seed=1, n=7, solver="dense"):
    """A chain with weak random on-site energies and hoppings between chain
    leads: no bound states (checked by the sum rule below), no symmetry."""
    rng = np.random.default_rng(seed)
    # hoppings weaker than the leads' and small on-site energies: no state
    # is pushed out of the lead band [-2, 2]
    h = np.diag(0.1 * rng.standard_normal(n)) + np.diag(-0.8 - 0.15 * rng.random(n - 1), 1)
    h = h + np.triu(h, 1).T
    cl = np.zeros(n)
    cr = np.zeros(n)
    cl[0] = -0.9
    cr[-1] = -0.8
    return Junction(h, [ChainLead(-1.0, cl), ChainLead(-1.0, cr)], solver=solver)


def test_perfect_chain_transmission_is_one_in_band_zero_outside(solver, tol):
    j = chain_junction(n_sites=6, hopping=-1.0, solver=solver)
    inside = np.linspace(-1.99, 1.99, 41)
    outside = np.array([-3.0, -2.2, 2.2, 3.0])
    # closed-form chain self-energy, no quadrature; near the band edges
    # (|G| ~ (4 - E^2)^(-1/2) = 5 at E = 1.99) round-off grows: exact x 100
    assert np.allclose(j.transmission(inside), 1.0, atol=tol["exact"] * 100, rtol=0)
    assert np.allclose(j.transmission(outside), 0.0, atol=tol["exact"], rtol=0)
    # the same with decimation leads of one orbital per cell
    h = j.hamiltonian
    jl = Junction(
        h,
        [Lead([[0.0]], [[-1.0]], j.leads[0].coupling[:, None]), Lead([[0.0]], [[-1.0]], j.leads[1].coupling[:, None])],
        solver=solver,
    )
    assert np.allclose(jl.transmission(inside), 1.0, atol=tol["lead"], rtol=0)


def test_single_level_breit_wigner(solver, tol):
    j = single_level(0.2, 0.1, 0.05, solver=solver)
    e = np.linspace(-1, 1, 31)
    assert np.allclose(j.transmission(e), breit_wigner(e, 0.2, 0.1, 0.05), atol=tol["exact"], rtol=0)


@pytest.mark.parametrize("bias", [0.0, 0.3, -0.5])
def test_single_level_occupation_closed_form(bias, solver, tol):
    # docs/theory.rst eq-single-level at T = 0, per spin:
    # n = sum_l (Gamma_l/Gamma) [1/2 + arctan(2 (mu_l - eps0)/Gamma)/pi]
    eps0, gl, gr, ef = 0.2, 0.1, 0.05, 0.1
    j = single_level(eps0, gl, gr, solver=solver)
    mus = [ef + bias / 2, ef - bias / 2]
    g = gl + gr
    ref = sum(gam / g * (0.5 + math.atan(2 * (mu - eps0) / g) / math.pi) for gam, mu in zip((gl, gr), mus))
    rho = j.density_matrix(bias, temperature=0.0, fermi_level=ef, spin=1)
    assert abs(rho[0, 0] - ref) < tol["quad"]
    # spin = 2 doubles it
    assert abs(j.density_matrix(bias, 0.0, ef, spin=2)[0, 0] - 2 * ref) < 2 * tol["quad"]


def test_single_level_landauer_current_closed_form(solver, tol):
    # I = g_s e^2/h * integral_{mu_R}^{mu_L} T dE (E in eV), and for a Lorentzian
    # integral T dE = (2 Gamma_L Gamma_R / Gamma) [arctan(2(mu - eps0)/Gamma)]_{mu_R}^{mu_L}.
    eps0, gl, gr, ef, v = 0.2, 0.1, 0.05, 0.1, 0.4
    j = single_level(eps0, gl, gr, solver=solver)
    g = gl + gr
    window = 2 * gl * gr / g * (math.atan(2 * (ef + v / 2 - eps0) / g) - math.atan(2 * (ef - v / 2 - eps0) / g))
    ref = 2 * CONDUCTANCE_QUANTUM_SPINLESS * window
    assert abs(j.current(v, 0.0, ef, spin=2) - ref) < tol["quad"] * abs(ref)


def test_transmission_reciprocity_two_leads(solver, tol):
    # T_LR = T_RL for two leads (unitarity of the S matrix), exact in the
    # linear algebra: no quadrature, T = O(1)
    j = disordered_chain(solver=solver)
    e = np.linspace(-1.9, 1.9, 23)
    assert np.allclose(j.transmission(e, 0, 1), j.transmission(e, 1, 0), atol=tol["exact"], rtol=0)


def test_current_odd_in_bias_for_mirror_symmetric_junction(solver, tol):
    # A device symmetric under site reversal i -> n-1-i with mirror-image leads:
    # I(-V) = -I(V) at any temperature (T(E) is the same seen from either side).
    n = 5
    h = np.diag([0.1, -0.2, 0.3, -0.2, 0.1]) + np.diag([-1.0, -0.8, -0.8, -1.0], 1)
    h = h + np.triu(h, 1).T
    cl = np.zeros(n)
    cl[0] = -0.7
    j = Junction(h, [ChainLead(-1.0, cl), ChainLead(-1.0, cl[::-1])], solver=solver)
    for v in (0.2, 0.6):
        ip, im = j.current(v, 300.0, 0.15), j.current(-v, 300.0, 0.15)
        assert ip > 0
        # two quadratures at the default rtol of integrands that are exact
        # negatives of each other (the leads' roles swap)
        assert abs(ip + im) < tol["default_quad"] * abs(ip)


def test_spectral_sum_rule_and_total_spectral_function(solver, tol):
    # integral Tr A / 2pi dE = N when there are no bound states
    # (docs/theory.rst theory-negf, the sum rule after eq-spectral);
    # chain leads have the finite band [-2, 2] so the integral is finite.
    j = disordered_chain(solver=solver)
    r = integrate_adaptive(
        lambda e: np.trace(j.spectral_function(e), axis1=-2, axis2=-1).real / (2 * math.pi),
        [-2.0, 0.0, 2.0],
        rtol=1e-10,
    )
    # rtol 1e-10 on an integrand with 1/sqrt singularities at the band edges
    # (A ~ 1/sqrt(4 - E^2)), where the error estimate is least reliable
    assert abs(r.value - j.size) < tol["quad"]
    # A = i (G - G^dagger) without bound states
    e = np.array([-1.3, 0.2, 1.7])
    g = j.green(e)
    assert np.allclose(j.spectral_function(e), 1j * (g - np.conj(np.swapaxes(g, -1, -2))), atol=tol["exact"], rtol=0)


@pytest.mark.parametrize("temperature", [0.0, 300.0])
@pytest.mark.parametrize("bias", [0.0, 0.4])
def test_density_matrix_contour_equals_real_axis(temperature, bias, solver, tol):
    # Route 1 (library): Matsubara pole sum for the Fermi sea + bias-window integral.
    # Route 2 (here): the real-axis integral of seed eq 13 over the whole band,
    # rho = integral sum_l n_l A_l / 2pi dE, with the chain-lead band [-2, 2].
    j = disordered_chain(solver=solver)
    ef = 0.3
    rho = j.density_matrix(bias, temperature, ef, spin=1, rtol=1e-10)
    assert np.allclose(rho, rho.conj().T, atol=tol["roundoff"], rtol=0)
    mus = j.chemical_potentials(bias, ef)

    def integrand(e):
        a = j.spectral_functions(e)
        return sum(fermi(e, mu, temperature)[:, None, None] * al for al, mu in zip(a, mus)) / (2 * math.pi)

    ref = integrate_adaptive(integrand, [-2.0, *mus, 2.0], rtol=1e-11).value
    # rtol 1e-10 (contour) and 1e-11 (real axis) of entries |rho| <= 1, the
    # real-axis integrand with 1/sqrt band-edge singularities: 10 x tight_quad
    assert np.allclose(rho, ref, atol=10 * tol["tight_quad"], rtol=0)


def test_bad_input_raises_named_errors(solver):
    ok_lead = WideBandLead(np.diag([0.1, 0.0]))
    with pytest.raises(InputError, match="hamiltonian is not Hermitian"):
        Junction([[0.0, 1.0], [0.5, 0.0]], [ok_lead], solver=solver)
    with pytest.raises(InputError, match="hamiltonian contains NaN"):
        Junction([[np.nan, 0], [0, 0]], [ok_lead], solver=solver)
    with pytest.raises(InputError, match="hamiltonian must be a square"):
        Junction(np.zeros((2, 3)), [ok_lead], solver=solver)
    with pytest.raises(InputError, match=r"leads\[0\] couples to 3 device orbitals .* does not fit"):
        Junction(np.zeros((2, 2)), [WideBandLead(np.eye(3))], solver=solver)
    with pytest.raises(InputError, match="self_energy"):
        Junction(np.zeros((2, 2)), [object()], solver=solver)
    j = Junction(np.zeros((2, 2)), [ok_lead], solver=solver)
    with pytest.raises(InputError, match="bias needs at least two leads"):
        j.density_matrix(bias=0.1)
    with pytest.raises(InputError, match="current needs at least two leads"):
        j.current(0.1)
    j2 = single_level(solver=solver)
    with pytest.raises(InputError, match="temperature"):
        j2.current(0.1, temperature=-1.0)
    with pytest.raises(InputError, match="chemical_potentials needs one value per lead"):
        j2.density_matrix(chemical_potentials=[0.0])
    with pytest.raises(InputError, match="energy contains NaN"):
        j2.green(np.nan)
    with pytest.raises(InputError, match="source"):
        j2.transmission(0.0, source=5)


def test_green_submatrix_equals_block_of_full_inverse(solver, tol):
    # Two routes: a linear solve for selected columns versus slicing the full
    # inverse (RGF: the streaming window or the general block products versus
    # all blocks of G), exact linear algebra on |G| = O(1)
    j = disordered_chain(solver=solver)
    e = np.array([0.3, -1.2 + 0.1j, 1.95])
    rows, cols = [1, 2, 5], [0, 6]
    full = j.green(e)[:, rows][:, :, cols]
    assert np.allclose(j.green_submatrix(e, rows, cols), full, atol=tol["exact"], rtol=0)
