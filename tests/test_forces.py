"""The five forces: two independent routes per coefficient, closed forms,
symmetries (docs/theory.rst theory-kernel to theory-small-bias and
theory-models; seed eqs 14-47), on both Green's-function backends (the
``solver`` fixture: dense inverse and block-tridiagonal recursions)."""

import math

import numpy as np
import pytest

from currentforces import (
    ChainLead,
    InputError,
    Junction,
    WideBandLead,
    electron_hole_spectrum,
    force_coefficients,
)
from currentforces.models.chain import chain_force_operators, chain_junction
from currentforces.models.molecule import single_level, two_site_molecule
from currentforces.units import HBAR

from forcehelpers import disordered_chain_model, pi_real_axis, principal_values
from junctionhelpers import on_solver

EF = 0.3


# --------------------------------------------------------------------------
# route 1 vs finite differences: K = -dF0/dX (docs/theory.rst eq-k-static)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("bias,temperature", [(0.0, 0.0), (0.4, 300.0)])
def test_adiabatic_K_is_minus_gradient_of_mean_force(bias, temperature, solver, tol):
    # h(X) = h0 - sum_a f_a X_a; central differences with step d have error
    # d^2 F''' / 6 ~ 1e-9 relative for d = 1e-4 A here, and the F0 integration
    # error (rtol 1e-10 of |F0| ~ 0.5 eV/A) divided by 2d adds ~ 1e-6 * |K| at most.
    fd_tol = 1e-6
    j0, f = disordered_chain_model()  # the dense h0 is shifted below
    j = on_solver(j0, solver)
    c = force_coefficients(j, f, bias=bias, temperature=temperature, fermi_level=EF, rtol=1e-11)
    d = 1e-4
    kfd = np.empty_like(c.K)
    for b in range(len(f)):
        fp = force_coefficients(
            Junction(j0.hamiltonian - d * f[b], j0.leads, solver=solver),
            f,
            bias=bias,
            temperature=temperature,
            fermi_level=EF,
            rtol=1e-10,
        ).mean_force
        fm = force_coefficients(
            Junction(j0.hamiltonian + d * f[b], j0.leads, solver=solver),
            f,
            bias=bias,
            temperature=temperature,
            fermi_level=EF,
            rtol=1e-10,
        ).mean_force
        kfd[:, b] = -(fp - fm) / (2 * d)
    assert np.abs(kfd - c.K).max() < fd_tol * np.abs(c.K).max()
    if bias:
        assert np.abs(c.nonconservative).max() > tol["visible"] * np.abs(c.K).max()  # the check sees the curl


# --------------------------------------------------------------------------
# route 2: seed eqs (20)-(21) integrated over the whole band on the real axis
# --------------------------------------------------------------------------
@pytest.mark.parametrize("bias,temperature", [(0.0, 300.0), (0.4, 0.0), (0.4, 300.0)])
def test_finite_frequency_against_real_axis_fermi_sea_integral(bias, temperature, solver, tol):
    j, f = disordered_chain_model(solver=solver)
    w = 0.05
    c = force_coefficients(j, f, bias=bias, temperature=temperature, fermi_level=EF, hbar_omega=w, spin=1, rtol=1e-10)
    mus = j.chemical_potentials(bias, EF)
    # the reference integrates the backend's own full G and A_l on the real
    # axis at rtol 1e-10, through the 1/sqrt band edges of the chain leads
    k_ref, l_ref = pi_real_axis(j, f, w, mus, temperature)
    assert np.abs(c.K - k_ref).max() < tol["quad"] * np.abs(k_ref).max()
    # L = Im Pi / omega carries the 1/omega amplification of the real-axis route
    assert np.abs(c.L - l_ref).max() < 10 * tol["quad"] * np.abs(l_ref).max()


# --------------------------------------------------------------------------
# route 3: electron-hole spectrum (seed eqs 29-36, 40-44)
# --------------------------------------------------------------------------
@pytest.mark.slow  # nested integrals: every point of the omega principal values is an energy integral
def test_electron_hole_route_all_four_forces(solver, tol):
    j, f = disordered_chain_model(solver=solver)
    w0, bias, temp = 0.08, 0.4, 300.0
    c = force_coefficients(j, f, bias=bias, temperature=temp, fermi_level=EF, hbar_omega=w0, spin=1, rtol=1e-10)
    xi0 = electron_hole_spectrum(j, f, w0, bias=bias, temperature=temp, fermi_level=EF, spin=1, rtol=1e-10)
    # seed eq 42: L^sym(w0) = (2 pi / w0) Re Xi(w0); seed eqs 34-36: K^asym = 2 pi Im Xi(w0)
    # (two routes, each integrated at rtol 1e-10)
    assert np.allclose(
        c.friction, 2 * math.pi * HBAR * xi0.real / w0, atol=tol["tight_quad"] * np.abs(c.friction).max(), rtol=0
    )
    assert np.allclose(c.nonconservative, 2 * math.pi * xi0.imag, atol=tol["tight_quad"] * np.abs(c.K).max(), rtol=0)
    # seed eq 29: K^sym = P int Re Xi(w)[1/(w+w0) + 1/(w-w0)] dw, and
    # seed eq 44/47: L^asym = (1/w0) P int Im Xi(w)[1/(w+w0) - 1/(w-w0)] dw.
    # Xi vanishes for |w| > 4 eV (both A's live in the chain band [-2, 2]).
    mus = j.chemical_potentials(bias, EF)
    kinks = [-4.0, 4.0, 0.0] + [s * (2 - m) for m in mus for s in (1, -1)] + [s * (2 + m) for m in mus for s in (1, -1)]
    # inner (energy) integrals to 1e-8, outer (omega) to 1e-6 relative: the
    # comparison below allows 1e-5 (K^sym) and 1e-4 (L^asym, divided by w0)
    k_sym_tol, l_asym_tol = 1e-5, 1e-4
    xi = lambda w: electron_hole_spectrum(j, f, w, bias=bias, temperature=temp, fermi_level=EF, spin=1, rtol=1e-8)
    p_plus, p_minus = principal_values(xi, [-w0, w0], -4.2, 4.2, kinks, rtol=1e-6)
    k_sym = (p_plus + p_minus).real
    l_asym = HBAR * (p_plus - p_minus).imag / w0
    assert np.abs(k_sym - c.renormalization).max() < k_sym_tol * np.abs(c.K).max()
    assert np.abs(l_asym - c.berry).max() < l_asym_tol * np.abs(c.berry).max()
    assert np.abs(c.berry).max() > tol["visible"] * np.abs(c.L).max()  # non-trivial under bias


# --------------------------------------------------------------------------
# symmetries
# --------------------------------------------------------------------------
@pytest.mark.parametrize("frequency", [0.0, 0.05])
@pytest.mark.parametrize("temperature", [0.0, 300.0])
def test_zero_bias_time_reversal(frequency, temperature, solver, tol):
    # real h and f at equilibrium: no NC and no Berry force (seed text below eq 32,
    # docs/theory.rst theory-kernel-split), friction negative semi-definite.  The antisymmetric
    # parts cancel in the integrand itself, so only round-off remains.
    j, f = disordered_chain_model(solver=solver)
    c = force_coefficients(j, f, temperature=temperature, fermi_level=EF, hbar_omega=frequency)
    assert np.abs(c.nonconservative).max() < tol["exact"] * np.abs(c.K).max()
    assert np.abs(c.berry).max() < tol["exact"] * np.abs(c.L).max()
    assert np.linalg.eigvalsh(c.friction).max() < tol["exact"] * np.abs(c.L).max()
    assert np.abs(c.K_current).max() == 0 and np.abs(c.L_current).max() == 0


def test_unitary_basis_change_and_mode_relabelling(solver, tol):
    # Tr[f X f Y] is invariant under h -> U h U^dagger, f -> U f U^dagger,
    # couplings -> U couplings.  (On RGF the rotated h couples every orbital
    # to every other and both leads touch all of them: one layer.)
    j0, f = disordered_chain_model()  # the dense h is rotated below
    j = on_solver(j0, solver)
    n = j.size
    rng = np.random.default_rng(7)
    u, _ = np.linalg.qr(rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))
    leads = [ChainLead(lead.hopping, u @ lead.coupling, lead.onsite) for lead in j.leads]
    j2 = Junction(u @ j0.hamiltonian @ u.conj().T, leads, solver=solver)
    f2 = [u @ x @ u.conj().T for x in f]
    for w in (0.0, 0.05):
        c1 = force_coefficients(j, f, bias=0.3, temperature=300.0, fermi_level=EF, hbar_omega=w)
        c2 = force_coefficients(j2, f2, bias=0.3, temperature=300.0, fermi_level=EF, hbar_omega=w)
        # the same integrands up to round-off, each at the default rtol
        for a, b in [(c1.K, c2.K), (c1.L, c2.L), (c1.mean_force, c2.mean_force)]:
            assert np.abs(a - b).max() < tol["default_quad"] * np.abs(a).max()
    # relabelling the modes permutes every coefficient (c1 is the w = 0.05 eV
    # result): the same integrands, the same quadrature nodes, round-off only
    perm = [2, 0, 1]
    c3 = force_coefficients(j, [f[p] for p in perm], bias=0.3, temperature=300.0, fermi_level=EF, hbar_omega=0.05)
    for a, b in [(c3.K, c1.K), (c3.L, c1.L)]:
        assert np.allclose(a, b[np.ix_(perm, perm)], atol=tol["exact"] * np.abs(b).max(), rtol=0)
    assert np.allclose(c3.mean_force, c1.mean_force[perm], atol=tol["exact"], rtol=0)


# --------------------------------------------------------------------------
# closed forms (docs/theory.rst theory-single-level, theory-two-site, theory-chain), spinless; the library at rtol 1e-11
# against the closed form: tol["tight_quad"]
# --------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [0.0, 0.3])
def test_resonant_level_closed_forms(bias, solver, tol):
    eps0, gl, gr, lam = 0.1, 0.2, 0.1, 0.3
    j, f = single_level(eps0, gl, gr, lam)
    j = on_solver(j, solver)
    c = force_coefficients(j, f, bias=bias, temperature=0.0, fermi_level=0.0, spin=1, rtol=1e-11)
    g = gl + gr
    mus = [bias / 2, -bias / 2]
    a_l = [gam / ((mu - eps0) ** 2 + g * g / 4) for gam, mu in zip((gl, gr), mus)]
    # K(0) = -(lambda^2 / 2pi) sum_l A_l(mu_l), at any bias (docs/theory.rst eq-single-level)
    assert abs(c.K[0, 0] + lam**2 / (2 * math.pi) * sum(a_l)) < tol["tight_quad"]
    # F0 = lambda sum_l (Gamma_l/Gamma)[1/2 + arctan(2(mu_l - eps0)/Gamma)/pi]
    f0 = lam * sum(gam / g * (0.5 + math.atan(2 * (mu - eps0) / g) / math.pi) for gam, mu in zip((gl, gr), mus))
    assert abs(c.mean_force[0] - f0) < tol["tight_quad"]
    if bias == 0:
        # equilibrium friction eta = (hbar lambda^2 / 4pi) A(mu)^2
        a = g / (eps0**2 + g * g / 4)
        assert abs(c.friction[0, 0] + HBAR * lam**2 / (4 * math.pi) * a * a) < tol["tight_quad"]


def test_resonant_level_finite_frequency_friction(solver, tol):
    # L^sym(w) = -(hbar lambda^2 / (4 pi w)) int_mu^{mu+w} A(E-w) A(E) dE at T = 0, equilibrium
    from scipy.integrate import quad

    eps0, gl, gr, lam, w = 0.1, 0.2, 0.1, 0.3, 0.07
    j, f = single_level(eps0, gl, gr, lam)
    j = on_solver(j, solver)
    c = force_coefficients(j, f, temperature=0.0, fermi_level=0.0, hbar_omega=w, spin=1, rtol=1e-11)
    g = gl + gr
    a = lambda e: g / ((e - eps0) ** 2 + g * g / 4)
    ref = -HBAR * lam**2 / (4 * math.pi * w) * quad(lambda e: a(e - w) * a(e), 0.0, w, epsabs=1e-13)[0]
    assert abs(c.L[0, 0] - ref) < tol["tight_quad"] * abs(ref)


def test_two_site_molecule_nonconservative_closed_form(solver, tol):
    # K^asym_12 = -(1/2pi) int_{mu_R}^{mu_L} Im Tr[f1 A_L f2 A_R] dE with
    # Im Tr[...] = l1 l2 T(E)[(E-e1) Gamma_R + (E-e2) Gamma_L] / (2 |Det|^2)  (docs/theory.rst eq-two-site)
    from scipy.integrate import quad

    e1, e2, t, gl, gr, l1, l2 = 0.1, -0.15, 0.4, 0.3, 0.2, 0.05, 0.07
    j, f = two_site_molecule(e1, e2, t, gl, gr, l1, l2)
    j = on_solver(j, solver)
    v = 0.5
    c = force_coefficients(j, f, bias=v, temperature=0.0, fermi_level=0.05, spin=1, rtol=1e-11)

    def im_trace(e):
        det = (e - e1 + 0.5j * gl) * (e - e2 + 0.5j * gr) - t * t
        tr = gl * gr * t * t / abs(det) ** 2
        return l1 * l2 * tr * ((e - e1) * gr + (e - e2) * gl) / (2 * abs(det) ** 2)

    ref = -quad(im_trace, 0.05 - v / 2, 0.05 + v / 2, epsabs=1e-14)[0] / (2 * math.pi)
    assert abs(c.nonconservative[0, 1] - ref) < tol["tight_quad"] * abs(ref)
    assert abs(c.nonconservative[1, 0] + ref) < tol["tight_quad"] * abs(ref)


@pytest.mark.parametrize("fermi_level", [-1.1, 0.3, 0.0])
def test_perfect_chain_friction_and_nonconservative(fermi_level, solver, tol):
    # docs/theory.rst eq-chain-friction: eta_jj = 2 hbar beta^2/(pi t^2) at any filling (this is
    # the case the Fermi-sea dG/dE form gets wrong); K^asym_{j,j+d} =
    # (2 eV beta^2/(pi t^2)) sin(2 k_F d) at T = 0, small bias, zero at half filling.
    t, beta, n = 1.0, 0.5, 12
    j = on_solver(chain_junction(n, t), solver)
    f = chain_force_operators(n, beta, atoms=[4, 5, 6, 7])
    v = 1e-3
    c = force_coefficients(j, f, bias=v, temperature=0.0, fermi_level=fermi_level, spin=1, rtol=1e-11)
    kf = math.acos(-fermi_level / (2 * t))
    eta = -2 * HBAR * beta**2 / (math.pi * t**2)
    assert np.allclose(np.diag(c.friction), eta, atol=tol["tight_quad"] * abs(eta), rtol=0)
    ref = np.array([2 * v * beta**2 / (math.pi * t**2) * math.sin(2 * kf * d) for d in (1, 2, 3)])
    # O(V^2) corrections: relative 1e-3 at V = 1 mV is generous by a factor ~ 10
    expansion_tol = 1e-3
    assert np.allclose(c.nonconservative[0, 1:], ref, atol=expansion_tol * 2 * v * beta**2 / math.pi, rtol=0)


# --------------------------------------------------------------------------
# small-bias T = 0 closed forms (docs/theory.rst eq-small-bias), approached linearly in V
# --------------------------------------------------------------------------
def test_small_bias_limit_is_linear(solver):
    j, f = disordered_chain_model(solver=solver)
    mu = EF
    e = np.array([mu])
    g = j.green(e)[0]
    a_l, a_r = [x[0] for x in j.spectral_functions(e)]
    a = a_l + a_r
    h = 1e-5  # energy derivative by central differences of G (error h^2 G''' / 6)
    dg = (j.green(e + h)[0] - j.green(e - h)[0]) / (2 * h)
    da = (j.spectral_function(e + h)[0] - j.spectral_function(e - h)[0]) / (2 * h)
    gh = 0.5 * (g + g.conj().T)
    dgh = 0.5 * (dg + dg.conj().T)
    tr = lambda x, y: np.array([[np.trace(fa @ x @ fb @ y) for fb in f] for fa in f])
    slope = {
        "nc": -tr(a_l, a_r).imag / (2 * math.pi),
        "ren": tr(gh, a_l - a_r).real / (2 * math.pi),
        "fric": -HBAR * tr(da, a_l - a_r).real / (4 * math.pi),
        "berry": HBAR * tr(dgh, a_l - a_r).imag / (2 * math.pi),
    }
    fric0 = -HBAR * tr(a, a).real / (4 * math.pi)
    q = []
    for v in (0.02, 0.01):
        c = force_coefficients(j, f, bias=v, temperature=0.0, fermi_level=mu, spin=1, rtol=1e-11)
        q.append(
            {
                "nc": c.nonconservative / v,
                "ren": c.renormalization_current / v,
                "fric": (c.friction - fric0) / v,
                "berry": c.berry / v,
            }
        )
    # q(V) = slope + O(V): halving V halves the error up to the O(V^2) term
    # (0.6 instead of 0.5 leaves room for it), and the Richardson
    # extrapolation 2 q(V/2) - q(V) removes the O(V) term, leaving O(V^2):
    # 2 % of the slope at V = 0.02 eV
    halving, richardson_tol = 0.6, 0.02
    for k in slope:
        scale = np.abs(slope[k]).max()
        err_big = np.abs(q[0][k] - slope[k]).max()
        err_small = np.abs(q[1][k] - slope[k]).max()
        assert err_small < halving * err_big, k  # error linear in V ...
        assert np.abs(2 * q[1][k] - q[0][k] - slope[k]).max() < richardson_tol * scale, k


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------
def test_bad_input(solver, tol):
    j, f = disordered_chain_model(solver=solver)
    with pytest.raises(InputError, match="hbar_omega"):
        force_coefficients(j, f, hbar_omega=-0.1)
    with pytest.raises(InputError, match=r"forces\[0\] is not Hermitian"):
        force_coefficients(j, [np.triu(np.ones((j.size, j.size)))])
    with pytest.raises(InputError, match=r"forces\[0\] has shape"):
        force_coefficients(j, [np.eye(3)])
    with pytest.raises(InputError, match="NaN"):
        force_coefficients(j, [np.full((j.size, j.size), np.nan)])
    with pytest.raises(InputError, match="rtol"):
        force_coefficients(j, f, rtol=1e-20)
    with pytest.raises(InputError, match="temperature"):
        force_coefficients(j, f, temperature=-3)
    with pytest.raises(InputError, match="spin"):
        force_coefficients(j, f, spin=0)
    # the error estimates are reported: the default rtol of |K| ~ 0.6 eV/A^2
    # (a factor 100 of room for the estimate's being an upper bound)
    c = force_coefficients(j, f, bias=0.2)
    assert set(c.error) >= {"K", "L"} and c.error["K"] < 100 * tol["default_quad"]


def test_unrankable_error_estimate_keeps_the_first_attempt(solver, monkeypatch):
    # Regression: force_coefficients keeps the best of its two attempts by
    # their error ratios; when a ratio is NaN (a quantity whose estimate and
    # size are both zero) no attempt compared "better" than the initial
    # inf, nothing was kept, and the call died with an AttributeError on
    # None.  Oracle: the first attempt is then returned, and it is the very
    # computation an unpatched call makes (same tolerances, same numbers).
    import currentforces.forces as forces_module

    j, f = disordered_chain_model(solver=solver)
    expected = force_coefficients(j, f, bias=0.2, temperature=300.0, fermi_level=EF)
    monkeypatch.setattr(forces_module, "_error_ratios", lambda c, rtol, natural: {"K": math.nan})
    c = force_coefficients(j, f, bias=0.2, temperature=300.0, fermi_level=EF)
    np.testing.assert_array_equal(c.K, expected.K)
    np.testing.assert_array_equal(c.L, expected.L)
    np.testing.assert_array_equal(c.mean_force, expected.mean_force)


def _two_orbital_leads_model(solver):
    """A 6-site chain whose wide-band leads each couple to two orbitals with a
    random positive semidefinite 2 x 2 Gamma (R = 4 columns of V), four
    movable atoms with complex forces on a random subset of orbitals."""
    rng = np.random.default_rng(7)
    n = 6
    h = -1.0 * (np.eye(n, k=1) + np.eye(n, k=-1)) + np.diag(0.3 * rng.standard_normal(n))
    leads = []
    for sites in ([0, 1], [4, 5]):
        b = rng.standard_normal((2, 2)) + 1j * rng.standard_normal((2, 2))
        gamma = np.zeros((n, n), dtype=complex)
        gamma[np.ix_(sites, sites)] = 0.4 * b @ b.conj().T
        leads.append(WideBandLead(gamma))
    forces = chain_force_operators(n, 0.5, atoms=[1, 2, 3, 4])
    return Junction(h, leads, solver=solver), forces


@pytest.mark.parametrize("frequency", [0.0, 0.01])
@pytest.mark.parametrize("model", ["chain_leads", "two_orbital_leads", "non_orthogonal", "k_point"])
def test_window_integrand_with_factored_spectral_functions(model, frequency, solver, tol, monkeypatch):
    """The window integrand of force_coefficients keeps the lead spectral
    functions factored (A_l = V_l Gamma_l V_l^dagger, V_l = G[S, s_l]) when
    the leads couple to few orbitals.  Oracle: the same integrand with every
    A_l formed as an s x s matrix (ForceOperators.factored_rank_pays patched
    to False), an exact rearrangement of the same sums, so equal to
    round-off (tol["exact"] of the largest entry); energies inside and
    outside the chain leads' band (A_l = 0 there), biased, 300 K, adiabatic
    (K, L windows, density, Fermi surface) and finite frequency (mixed and
    Pi windows, where A = i(G - G^dagger) is replaced by sum_l A_l).  The
    float columns that force_coefficients integrates (real_columns=True)
    are the real and imaginary parts of the complex pieces.  Input paths:
    chain leads, wide-band leads on two orbitals, a non-orthogonal chain
    (overlap, periodic leads with overlap: i(G - G^dagger) = G Gamma
    G^dagger still holds with E S - h real-symmetric) and a k-point of a
    transversely periodic strip (complex h and leads on two orbitals each,
    no mirror symmetry)."""
    import currentforces.forces as forces_module
    from currentforces.operators import ForceOperators

    if model == "chain_leads":
        j, f = disordered_chain_model(solver=solver)
        e = np.array([-2.6, -1.3, 0.05, 0.31, 1.99, 2.4])
    elif model == "two_orbital_leads":
        j, f = _two_orbital_leads_model(solver)
        e = np.array([-1.3, 0.05, 0.31, 1.9])
    elif model == "non_orthogonal":
        from overlaphelpers import chain_junction as overlap_chain

        j = overlap_chain(8, solver)
        f = chain_force_operators(8, 0.5, atoms=[2, 3, 5])
        e = np.array([-1.3, 0.05, 0.31, 0.9])
    else:
        from kpointhelpers import strip

        model_k = strip(3, 2, diagonal=0.3, onsite=[0.1, -0.2, 0.05, 0.3, -0.1, 0.2], solver=solver)
        j, f = model_k(0.3), model_k.force_operators()(0.3)
        e = np.array([-2.1, -0.7, 0.05, 0.31, 1.4])
    ops = ForceOperators(f, j.size)
    blocks = forces_module.SpectralBlocks(j, ops)
    assert ops.factored_rank_pays(blocks.rank)
    mus = [EF + 0.1, EF - 0.1]
    pieces, factored = forces_module.window_integrand(blocks, mus, 300.0, frequency)
    _, factored_real = forces_module.window_integrand(blocks, mus, 300.0, frequency, real_columns=True)
    got, got_real = factored(e), factored_real(e)
    monkeypatch.setattr(ForceOperators, "factored_rank_pays", lambda self, rank: False)
    _, explicit = forces_module.window_integrand(blocks, mus, 300.0, frequency)
    ref = explicit(e)
    names = {name for name, _ in pieces}
    assert names >= {"density"} | ({"K_bias", "L_bias", "surface"} if frequency == 0 else {"mixed", "pi_bias"})
    np.testing.assert_allclose(got, ref, rtol=0, atol=tol["exact"] * np.abs(ref).max())
    columns, _ = forces_module._window_columns(pieces)
    np.testing.assert_array_equal(got_real, np.ascontiguousarray(got).view(np.float64)[:, columns])
