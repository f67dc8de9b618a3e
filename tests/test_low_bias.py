"""The low-bias fast path: Fermi-surface slopes against finite differences in
bias of the full force coefficients, closed forms, a second route by the
formulas of the table of small-bias forms, the linearised coefficients, the
noise, narrow resonances at room temperature and bad input, on both
Green's-function backends (the ``solver`` fixture)."""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.integrate import quad
from scipy.special import expit

from currentforces import (
    InputError,
    IntegrationWarning,
    Junction,
    WideBandLead,
    force_coefficients,
    low_bias_coefficients,
    noise_spectrum,
)
from currentforces.models.chain import chain_force_operators, chain_junction
from currentforces.models.molecule import single_level
from currentforces.units import HBAR, KB

from forcehelpers import disordered_chain_model, polygamma, trace_loop
from junctionhelpers import on_solver

EF = 0.3


def random_device(n=10, seed=4, solver="dense"):
    """A random complex Hermitian device (no time-reversal symmetry) between
    wide-band leads on its first and last two orbitals, three random
    Hermitian force operators on the inner orbitals.  (RGF: two layers, the
    first lead's orbitals and the rest.)"""
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    h = 0.3 * (h + h.conj().T)
    g0 = np.zeros((n, n))
    g1 = np.zeros((n, n))
    g0[:2, :2] = [[0.6, 0.1], [0.1, 0.4]]
    g1[-2:, -2:] = [[0.5, -0.2], [-0.2, 0.5]]
    forces = []
    for _ in range(3):
        f = np.zeros((n, n), dtype=complex)
        b = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
        f[3:7, 3:7] = b + b.conj().T
        forces.append(f)
    return Junction(h, [WideBandLead(g0), WideBandLead(g1)], solver=solver), forces


MODELS = {"random device, wide-band leads": random_device, "disordered chain, chain leads": disordered_chain_model}


def relative(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


# --------------------------------------------------------------------------
# route 1: central differences in bias of force_coefficients
# --------------------------------------------------------------------------
@pytest.mark.parametrize("temperature", [0.0, 300.0])
@pytest.mark.parametrize("model", list(MODELS))
def test_slopes_are_bias_derivatives_of_force_coefficients(model, temperature, solver, tol):
    junction, forces = MODELS[model](solver=solver)
    lb = low_bias_coefficients(junction, forces, fermi_level=EF, temperature=temperature, spin=2)
    h = 1e-4
    kw = dict(temperature=temperature, fermi_level=EF, spin=2, rtol=1e-11)
    plus = force_coefficients(junction, forces, bias=h, **kw)
    minus = force_coefficients(junction, forces, bias=-h, **kw)
    zero = force_coefficients(junction, forces, bias=0.0, **kw)
    # central differences: error h^2/6 times the third bias derivative, about
    # (h / 0.1 eV)^2 ~ 1e-6 relative for spectral features >= 0.1 eV wide
    # (both models: resonance widths 0.02-0.6 eV, smallest ones away from E_F),
    # plus the window integrals' 1e-11 of an O(h) value divided by h
    fd_tol = 1e-6
    slopes = {
        "K_per_volt": (plus.K_current - minus.K_current) / (2 * h),
        "L_per_volt": (plus.L_current - minus.L_current) / (2 * h),
        "mean_force_per_volt": (plus.mean_force_current - minus.mean_force_current) / (2 * h),
    }
    for name, fd in slopes.items():
        assert relative(getattr(lb, name), fd) < fd_tol, name
    # the full L moves only through its current-induced part (mu_0 = E_F fixed)
    assert relative(lb.friction_per_volt, (plus.friction - minus.friction) / (2 * h)) < fd_tol
    assert relative(lb.berry_per_volt, (plus.berry - minus.berry) / (2 * h)) < fd_tol
    # equilibrium friction: the Fermi-surface form against the pole sum plus
    # surface term of force_coefficients (independent evaluations)
    assert relative(lb.friction, zero.friction) < tol["tight_quad"]
    # negative semi-definite (seed eqs 40-43), up to round-off
    assert np.all(np.linalg.eigvalsh(lb.friction) <= tol["exact"] * np.abs(lb.friction).max())
    if temperature == 0:
        assert lb.evaluations == 1


def test_error_estimates_bound_the_true_error_at_room_temperature(solver):
    # Gauss rules for -dn/dE at rtol 1e-6 against the same at 1e-12 (reference):
    # the true error is below the estimate and below the requested rtol
    loose_rtol = 1e-6
    junction, forces = disordered_chain_model(solver=solver)
    loose = low_bias_coefficients(junction, forces, fermi_level=EF, temperature=300.0, rtol=loose_rtol)
    ref = low_bias_coefficients(junction, forces, fermi_level=EF, temperature=300.0, rtol=1e-12)
    for name in ("K_per_volt", "L_per_volt", "mean_force_per_volt", "friction"):
        true = np.abs(getattr(loose, name) - getattr(ref, name)).max()
        assert true <= loose.error[name], name
        assert true <= loose_rtol * np.abs(getattr(ref, name)).max(), name
    assert loose.evaluations < ref.evaluations


def test_hot_electrons_with_band_edges_in_the_thermal_window(solver):
    # at 1000 K the window (+-40 k_B T = 3.4 eV) holds the chain leads' band
    # edges (+-2 eV): the adaptive route, checked against finite differences
    # (step h = 1e-4 V: error budget as in the slopes test above)
    fd_tol = 1e-6
    junction, forces = disordered_chain_model(solver=solver)
    lb = low_bias_coefficients(junction, forces, fermi_level=EF, temperature=1000.0, rtol=1e-9)
    h = 1e-4
    kw = dict(temperature=1000.0, fermi_level=EF, spin=2, rtol=1e-10)
    plus = force_coefficients(junction, forces, bias=h, **kw)
    minus = force_coefficients(junction, forces, bias=-h, **kw)
    assert relative(lb.K_per_volt, (plus.K_current - minus.K_current) / (2 * h)) < fd_tol
    assert relative(lb.L_per_volt, (plus.L_current - minus.L_current) / (2 * h)) < fd_tol
    assert lb.evaluations > 60  # not the Gauss rules


# --------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fermi_level", [-1.1, 0.3, 0.0])
def test_perfect_chain_closed_forms(fermi_level, solver, tol):
    # perfect chain (formulas in the module docstring): friction
    # 2 hbar beta^2/(pi t^2) on every atom at any filling; NC force per volt
    # (2 beta^2/(pi t^2)) sin(2 k_F d) between atoms d apart (zero at half
    # filling), spinless; exact at V -> 0, so to roundoff
    t, beta, n = 1.0, 0.5, 12
    junction = on_solver(chain_junction(n, t), solver)
    forces = chain_force_operators(n, beta, atoms=[4, 5, 6, 7])
    c = low_bias_coefficients(junction, forces, fermi_level=fermi_level, spin=1)
    kf = math.acos(-fermi_level / (2 * t))
    assert np.allclose(np.diag(c.friction), -2 * HBAR * beta**2 / (math.pi * t**2), rtol=tol["exact"], atol=0)
    ref = [2 * beta**2 / (math.pi * t**2) * math.sin(2 * kf * d) for d in (1, 2, 3)]
    assert np.allclose(c.nonconservative_per_volt[0, 1:], ref, rtol=0, atol=tol["exact"])
    # no wind force in a perfect chain (nothing scatters)
    assert np.abs(c.mean_force_per_volt).max() < tol["exact"]
    # spin multiplies everything: a factor 2 on the same numbers, last bits only
    # (the entries that vanish may differ by an underflow, nothing more)
    underflow = 1e-300
    c2 = low_bias_coefficients(junction, forces, fermi_level=fermi_level, spin=2)
    assert np.allclose(c2.friction, 2 * c.friction, rtol=tol["roundoff"], atol=0)
    assert np.allclose(c2.K_per_volt, 2 * c.K_per_volt, rtol=tol["roundoff"], atol=underflow)


def test_perfect_chain_at_room_temperature(solver, tol):
    # The thermal average of the T = 0 closed forms above: the friction
    # 2 hbar beta^2/(pi t^2) is the same at every energy of the band, so its
    # average over -dn_F/dE is the same constant (the band edges, +-2 eV, lie
    # beyond the window 0.3 +- 40 k_B T); nothing scatters, so the wind force
    # per volt vanishes at every energy.  Each lead's Tr[f A_l] vanishes too
    # (A_l is translation invariant), so the slope's roundoff floor is
    # measured against sqrt(Tr[f A_l f A_l]): before, it was measured against
    # the roundoff itself, the Gauss rules never agreed, and the adaptive
    # route raised IntegrationError after ~32,000 energies.
    t, beta, n = 1.0, 0.5, 20
    junction = on_solver(chain_junction(n, t), solver)
    forces = chain_force_operators(n, beta, atoms=[6, 7])
    c = low_bias_coefficients(junction, forces, fermi_level=EF, temperature=300.0, spin=1, rtol=1e-8)
    exact = -2 * HBAR * beta**2 / (math.pi * t**2)
    assert np.allclose(np.diag(c.friction), exact, rtol=tol["default_quad"], atol=0)
    assert np.abs(c.mean_force_per_volt).max() < tol["exact"]
    assert c.evaluations <= sum((4, 8, 16, 32))  # the Gauss rules of -dn_F/dE


def test_single_level_closed_forms_at_zero_temperature(solver, tol):
    # one level, wide band (A_l = Gamma_l / ((E - eps)^2 + Gamma^2/4)):
    # K(V) = -(lambda^2/2pi) sum_l A_l(mu_l) at T = 0 gives
    # dK/dV = -(lambda^2/2pi) sum_l alpha_l A_l'(E_F); friction
    # -(hbar lambda^2/4pi) A(E_F)^2; dF0/dV = (lambda/4pi)(A_0 - A_1)(E_F)
    eps, gl, gr, lam = 0.1, 0.2, 0.1, 0.3
    junction, forces = single_level(eps, gl, gr, lam)
    junction = on_solver(junction, solver)
    c = low_bias_coefficients(junction, forces, fermi_level=0.0, spin=1)
    g = gl + gr
    den = eps**2 + g * g / 4
    a = [gam / den for gam in (gl, gr)]
    da = [gam * 2 * eps / den**2 for gam in (gl, gr)]  # dA_l/dE at E = 0
    # T = 0: no quadrature, traces of a 1 x 1 G at E_F of size ~ 1: kept at
    # the tighter 1e-13 (below tol["exact"])
    closed_tol = 0.1 * tol["exact"]
    assert abs(c.K_per_volt[0, 0] + lam**2 / (2 * math.pi) * 0.5 * (da[0] - da[1])) < closed_tol
    assert abs(c.friction[0, 0] + HBAR * lam**2 / (4 * math.pi) * sum(a) ** 2) < closed_tol
    assert abs(c.mean_force_per_volt[0] - lam / (4 * math.pi) * (a[0] - a[1])) < closed_tol


# --------------------------------------------------------------------------
# route 2: the small-bias trace formulas with energy derivatives by differences
# --------------------------------------------------------------------------
@pytest.mark.parametrize("model", list(MODELS))
def test_trace_formulas_with_numerical_energy_derivatives(model, solver, tol):
    # NC = -(1/2pi) Im Tr[f A_0 f A_1], renormalisation
    # (1/2pi) Re Tr[f G_H f (A_0 - A_1)], friction slope
    # -(hbar/4pi) Re Tr[f dA/dE f (A_0 - A_1)], Berry
    # (hbar/2pi) Im Tr[f dG_H/dE f (A_0 - A_1)], friction
    # -(hbar/4pi) Re Tr[f A f A], all at E_F, T = 0, per spin; dA/dE and
    # dG_H/dE by central differences (error h^2 G'''/6 ~ 1e-10 relative), the
    # traces by a plain double loop; 1e-7 leaves room above the difference
    # error and its round-off eps |G| / h ~ 1e-11 for the cancellations in the
    # (anti)symmetric parts
    fd_tol = 1e-7
    junction, forces = MODELS[model](solver=solver)
    c = low_bias_coefficients(junction, forces, fermi_level=EF, spin=1)
    e = np.array([EF])
    h = 1e-5
    g = junction.green(e)[0]
    a0, a1 = [x[0] for x in junction.spectral_functions(e)]
    dg = (junction.green(e + h)[0] - junction.green(e - h)[0]) / (2 * h)
    da = (junction.spectral_function(e + h)[0] - junction.spectral_function(e - h)[0]) / (2 * h)
    gh, dgh = 0.5 * (g + g.conj().T), 0.5 * (dg + dg.conj().T)
    f = [np.asarray(x, dtype=complex) for x in forces]
    expected = {
        "nonconservative_per_volt": -trace_loop(f, a0, a1).imag / (2 * math.pi),
        "renormalization_per_volt": trace_loop(f, gh, a0 - a1).real / (2 * math.pi),
        "friction_per_volt": -HBAR * trace_loop(f, da, a0 - a1).real / (4 * math.pi),
        "berry_per_volt": HBAR * trace_loop(f, dgh, a0 - a1).imag / (2 * math.pi),
        "friction": -HBAR * trace_loop(f, a0 + a1, a0 + a1).real / (4 * math.pi),
    }
    for name, ref in expected.items():
        ref_part = (
            0.5 * (ref + ref.T)
            if name in ("renormalization_per_volt", "friction_per_volt", "friction")
            else 0.5 * (ref - ref.T)
        )
        assert relative(getattr(c, name), ref_part) < fd_tol, name
        # and the formula's own symmetry (trace lemma)
        assert relative(ref, ref_part) < fd_tol, name
    # no energy derivative in the emission noise: the same traces, round-off only
    assert relative(c.noise_emission, HBAR * trace_loop(f, a0, a1).real / (2 * math.pi)) < tol["exact"]


def test_block_tridiagonal_backend_gives_the_same_numbers(tol):
    # the two backends side by side (sparse input kept sparse): the same
    # Fermi-surface traces from two exact solvers
    junction, forces = disordered_chain_model()
    rgf = Junction(sp.csr_matrix(junction.hamiltonian), junction.leads, solver="rgf")
    for temperature in (0.0, 300.0):
        a = low_bias_coefficients(junction, forces, fermi_level=EF, temperature=temperature)
        b = low_bias_coefficients(rgf, forces, fermi_level=EF, temperature=temperature)
        for name in ("friction", "K_per_volt", "L_per_volt", "mean_force_per_volt"):
            assert relative(getattr(b, name), getattr(a, name)) < tol["solver"], name


# --------------------------------------------------------------------------
# the linearised coefficients and the noise
# --------------------------------------------------------------------------
@pytest.mark.parametrize("temperature", [0.0, 300.0])
def test_linearised_coefficients_are_first_order(temperature, solver, tol):
    # force_coefficients(V) - at(V) = O(V^2): halving V quarters the gap
    # (up to O(V^3); 0.3 instead of 0.25 leaves room for it); the slopes are
    # exact, so nothing of O(V) remains.  And the gap in L is a small part
    # (2 %) of L itself at V = 0.02 eV
    quartering, small_gap = 0.3, 0.02
    junction, forces = random_device(solver=solver)
    lb = low_bias_coefficients(junction, forces, fermi_level=EF, temperature=temperature)
    kw = dict(temperature=temperature, fermi_level=EF, rtol=1e-11)
    eq = force_coefficients(junction, forces, bias=0.0, **kw)
    gap = lambda a, b: np.abs(a - b).max()
    gaps = []
    for v in (0.02, 0.01):
        full = force_coefficients(junction, forces, bias=v, **kw)
        lin = lb.at(v)
        with_eq = lb.at(v, equilibrium=eq)
        assert not lin.includes_equilibrium and with_eq.includes_equilibrium
        assert lin.bias == pytest.approx(v, rel=tol["roundoff"]) and lin.mean_force is None
        # K without the equilibrium part is the current-induced change
        assert np.array_equal(lin.K, lin.K_current)
        assert np.array_equal(lin.nonconservative, lin.nonconservative_current)
        gaps.append(
            [
                gap(lin.K_current, full.K_current),
                gap(lin.L_current, full.L_current),
                gap(lin.mean_force_current, full.mean_force_current),
                gap(lin.friction, full.friction),
                gap(lin.berry, full.berry - eq.berry),
                gap(with_eq.K, full.K),
                gap(with_eq.L, full.L),
                gap(with_eq.mean_force, full.mean_force),
            ]
        )
        # and the gap is small against the coefficients themselves
        assert gap(with_eq.L, full.L) < small_gap * np.abs(full.L).max()
    big, small = np.array(gaps)
    assert np.all(small < quartering * big), small / big


def test_noise_emission_and_low_frequency_noise(solver, tol):
    junction, forces = random_device(solver=solver)
    # T = 0: S(0, V) = int_{-V/2}^{V/2} sum_{l != m} (hbar g_s/4pi) Tr[f A_l f A_m] dE
    # = |V| * noise_emission + O(V^3) (symmetric window): relative O(V^2),
    # (1 mV / W)^2 ~ 1e-5 for spectral features W >= 0.3 eV wide (the wide-band
    # leads broaden every level by ~0.5 eV)
    expansion_tol = 1e-5
    lb = low_bias_coefficients(junction, forces, fermi_level=EF, temperature=0.0)
    v = 1e-3
    s = noise_spectrum(junction, forces, 0.0, bias=v, temperature=0.0, fermi_level=EF, rtol=1e-11)
    assert relative(lb.noise_emission, s.real / v) < expansion_tol
    assert np.abs(s.imag).max() < expansion_tol * np.abs(s.real).max()
    assert relative(lb.noise(0.0, v), s) < expansion_tol
    # T = 300 K: the channel fluctuation-dissipation form with the spectral
    # functions frozen at the Fermi surface is first order in hbar w and eV:
    # halving both halves the gap (0.6: room for the second order), and the
    # gap stays below 1 % of S at these meV scales
    halving, first_order_gap = 0.6, 1e-2
    warm = low_bias_coefficients(junction, forces, fermi_level=EF, temperature=300.0)
    for w, v in ((4e-3, 1e-2), (-8e-3, 6e-3)):
        gaps = []
        for scale in (1.0, 0.5):
            s = noise_spectrum(
                junction, forces, scale * w, bias=scale * v, temperature=300.0, fermi_level=EF, rtol=1e-11
            )
            gaps.append(np.abs(warm.noise(scale * w, scale * v) - s).max())
            assert gaps[-1] < first_order_gap * np.abs(s).max()
        assert gaps[1] < halving * gaps[0], (w, v, gaps)
    # equilibrium, omega -> 0: S = 2 k_B T (-friction), exactly (n (1 - n) = -k_B T dn/dE)
    s = noise_spectrum(junction, forces, 0.0, bias=0.0, temperature=300.0, fermi_level=EF, rtol=1e-11)
    # (the low-bias Gauss rules at their default rtol 1e-8 against rtol 1e-11)
    assert relative(warm.noise(0.0, 0.0), s) < tol["default_quad"]
    # both from the same Fermi-surface integral: round-off only
    assert relative(warm.noise(0.0, 0.0).real, -2 * KB * 300.0 * warm.friction) < tol["exact"]


# --------------------------------------------------------------------------
# narrow resonances at room temperature
# --------------------------------------------------------------------------
@pytest.mark.parametrize("width", [1e-6, 1e-10])
def test_narrow_level_next_to_a_broad_one(width, solver, tol):
    # A broad level (Gamma = 0.2 eV at 0.05 eV) and a decoupled narrow one
    # (Gamma at 0.01 eV), f = lambda on both: friction
    # -(hbar lambda^2/4pi) int (-n')(A_1^2 + A_2^2) with int (-n') A_2^2 =
    # 4 pi (-n'(eps_2)) / Gamma (1 + O(Gamma^2/kT^2)).  Gauss rules with
    # nodes ~k_B T apart never see a 1e-10 eV peak and agree on the broad
    # part alone (relative error -1 before the resonance breakpoints).
    temperature = 300.0
    kt = KB * temperature
    e1, g1, e2, lam = 0.05, 0.2, 0.01, 0.3
    gam = np.diag([0.5 * g1, 0.5 * width])
    junction = Junction(np.diag([e1, e2]), [WideBandLead(gam), WideBandLead(gam)], solver=solver)
    c = low_bias_coefficients(junction, [lam * np.eye(2)], temperature=temperature, spin=1)
    dn = lambda e: expit(-e / kt) * expit(e / kt) / kt
    a1 = lambda e: g1 / ((e - e1) ** 2 + g1**2 / 4)
    broad = quad(lambda e: dn(e) * a1(e) ** 2, -1.5, 1.5, points=[0, e1], epsabs=0, epsrel=1e-12, limit=500)[0]
    ref = -HBAR * lam**2 / (4 * math.pi) * (broad + dn(e2) * 4 * math.pi / width)
    # the default rtol 1e-8; the O(Gamma^2/kT^2) <= 1.5e-9 correction lies below it
    assert abs(c.friction[0, 0] / ref - 1) < tol["default_quad"]
    assert abs(c.friction[0, 0] - ref) <= c.error["friction"] + tol["default_quad"] * abs(ref)


def test_narrow_level_slope_that_cancels(solver, tol):
    # one level of width 1e-8 eV at 300 K: dK/dV is the small difference of two
    # lobes ~1/Gamma larger than itself.  Exact oracle (the Lorentzian
    # convolved with n_F'', by the trigamma' of complex argument):
    # dK/dV = -(lambda^2/4pi) (Gamma_0 - Gamma_1) (2pi/Gamma) Im psi''(w) / (pi (2pi kT)^2),
    # w = 1/2 + (Gamma/2 + i eps)/(2 pi kT); its narrow limit
    # -lambda^2 n''(eps) (Gamma_0 - Gamma_1)/(2 Gamma) is off by O(Gamma/kT) = 4e-7.
    # The window is graded around the resonance and its rounded nodes carry
    # their own weights, so the slope is now computed to ~1e-10 (it was out of
    # reach of rtol 1e-8 and raised); whatever the accuracy, the estimate
    # bounds the true error.  The friction is unaffected.
    temperature, eps, lam, width = 300.0, 0.01, 0.3, 1e-8
    kt = KB * temperature
    junction, forces = single_level(eps, 0.7 * width, 0.3 * width, lam)
    junction = on_solver(junction, solver)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IntegrationWarning)
        c = low_bias_coefficients(junction, forces, temperature=temperature, spin=1, on_fail="warn")
    w = 0.5 + (width / 2 + 1j * eps) / (2 * math.pi * kt)
    k_ref = (
        -(lam**2)
        / (4 * math.pi)
        * 0.4
        * width
        * (2 * math.pi / width)
        * polygamma(2, w).imag
        / (math.pi * (2 * math.pi * kt) ** 2)
    )
    true = abs(c.K_per_volt[0, 0] - k_ref)
    assert true <= c.error["K_per_volt"]
    assert true <= tol["default_quad"] * abs(k_ref) and not caught  # the default rtol 1e-8
    n = expit(-eps / kt)
    eta = -HBAR * lam**2 * n * (1 - n) / kt / width  # -(hbar lambda^2/4pi) 4pi (-n')/Gamma
    assert abs(c.friction[0, 0] / eta - 1) < tol["default_quad"]  # the default rtol


def test_docstring_example():
    import doctest

    import currentforces.low_bias

    result = doctest.testmod(currentforces.low_bias)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------
def test_bad_input(solver):
    junction, forces = disordered_chain_model(solver=solver)
    with pytest.raises(InputError, match="temperature"):
        low_bias_coefficients(junction, forces, temperature=-1.0)
    with pytest.raises(InputError, match="fermi_level"):
        low_bias_coefficients(junction, forces, fermi_level=float("nan"))
    with pytest.raises(InputError, match="spin"):
        low_bias_coefficients(junction, forces, spin=0)
    with pytest.raises(InputError, match="rtol"):
        low_bias_coefficients(junction, forces, rtol=2.0)
    with pytest.raises(InputError, match="on_fail"):
        low_bias_coefficients(junction, forces, on_fail="ignore")
    with pytest.raises(InputError, match=r"forces\[0\] has shape"):
        low_bias_coefficients(junction, [np.eye(3)])
    three = Junction(junction.hamiltonian, list(junction.leads) + [junction.leads[0]], solver=solver)
    with pytest.raises(InputError, match="exactly two leads"):
        low_bias_coefficients(three, forces)
    # T = 0 on a band edge of the chain leads (band [-2, 2] eV): dSigma/dE diverges
    with pytest.raises(InputError, match="band edge"):
        low_bias_coefficients(junction, forces, fermi_level=2.0)
    # a level with no broadening (bound state) at the Fermi level
    bound = Junction(
        np.diag([0.0, 1.0]), [WideBandLead(np.diag([0.0, 0.2])), WideBandLead(np.diag([0.0, 0.1]))], solver=solver
    )
    with pytest.raises(InputError, match="singular"):
        low_bias_coefficients(bound, [np.eye(2)], fermi_level=0.0)
    c = low_bias_coefficients(junction, forces, fermi_level=EF)
    with pytest.raises(InputError, match="bias"):
        c.at(float("inf"))
    with pytest.raises(InputError, match="omega"):
        c.noise([0.0, float("nan")], 0.1)
    with pytest.raises(InputError, match="equilibrium must be a ForceCoefficients"):
        c.at(0.1, equilibrium={"K": 0})
    biased = force_coefficients(junction, forces, bias=0.1, temperature=0.0, fermi_level=EF)
    with pytest.raises(InputError, match="biased"):
        c.at(0.1, equilibrium=biased)
    warm = force_coefficients(junction, forces, temperature=300.0, fermi_level=EF)
    with pytest.raises(InputError, match="temperature"):
        c.at(0.1, equilibrium=warm)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c.at(0.1)


def test_thermal_rules_accept_a_slope_that_is_rounding_noise():
    # Two groups: a smooth one, cos(E), and one that vanishes by symmetry but
    # whose computed integrand is rounding noise of ~1e-12 of its lead term
    # (a Green's function from an RGF sweep over thousands of layers; the
    # 10^4-orbital wire of benchmarks/bench_quadrature.py case ii at 300 K:
    # its mean force per volt), modelled by 3e-11 sin(1e6 E).  Expected
    # values: int (-dn_F/dE) cos(E) dE = (pi k_B T) / sinh(pi k_B T) cos(mu)
    # (the Fourier transform of the Fermi derivative), and ~0 for the noise
    # (its Fourier component at 1e6/eV is e^-(pi 1e6 k_B T)).  Before, the
    # noise group never met 1e-14 of its lead term, so the average went
    # adaptive (the wire: 2,055 energies instead of 60).
    from currentforces.low_bias import _GAUSS_NODES, _NOISE, _thermal_average

    mu, temperature = 0.3, 300.0
    kt = KB * temperature

    def integrand(e):
        values = np.stack([np.cos(e), 3e-11 * np.sin(1e6 * e)], axis=1)
        lead_terms = np.ones((e.size, 2))
        return np.concatenate([values, lead_terms], axis=1)

    rtol = 1e-10  # requested of the smooth group (the noise group's floor is _NOISE = 1e-10 of 1)
    window = [mu - 40 * kt, mu, mu + 40 * kt]
    value, errors, tols, evaluations = _thermal_average(integrand, [1, 1], mu, temperature, rtol, window, True)
    assert evaluations == sum(_GAUSS_NODES)  # the Gauss rules, no adaptive route
    x = math.pi * kt
    assert abs(value[0] - x / math.sinh(x) * math.cos(mu)) <= errors[0] <= rtol
    assert abs(value[1]) <= errors[1] <= tols[1] <= _NOISE  # the noise, within its own estimate
