"""Fermi steps at low temperature (issue 11: "the cost must not grow as T
falls"): a window integral whose factor is smooth on the scale k_B T around a
chemical potential is its T = 0 step plus a thermal correction by a Gauss rule
of the Fermi weight (currentforces.fermi_steps), and the window integrals end
where the leads' continua end."""

import math

import numpy as np
import pytest

import currentforces.forces as forces_module
import currentforces.junction as junction_module
from currentforces import force_coefficients
from currentforces.errors import InputError
from currentforces.fermi_steps import derivative_integral, smooth_steps, step_correction
from currentforces.models.chain import chain_force_operators
from currentforces.units import HBAR

from forcehelpers import polygamma
from junctionhelpers import chain_junction, single_level

# closed forms below are evaluated through the Stirling series of polygamma
# (error < 1e-15 relative) and arctan: an absolute floor for comparing with them
CLOSED_FORM_FLOOR = 1e-14


def _lorentzian(eps, gamma):
    return lambda e: ((gamma / math.pi) / ((e - eps) ** 2 + gamma**2))[:, None]


@pytest.mark.parametrize("eps, gamma", [(0.4, 0.05), (0.3, 0.25), (-0.35, 0.2), (0.1, 0.4)])
def test_step_and_surface_rules_against_digamma_closed_forms(eps, gamma):
    # A Lorentzian L(E) = (gamma/pi)/((E - eps)^2 + gamma^2), its pole 39 - 41 k_B T
    # from the step at c = 0 (k_B T = 0.01 eV): the rules' worst case.  Closed forms
    # (close the contour over the poles of n_F, as in the Matsubara sum):
    #   int n_F((E - c)/kT) L dE = 1/2 + (1/pi) Im psi(1/2 + (gamma - i(eps - c))/(2 pi kT)),
    #   int_{-inf}^c L dE = 1/2 + (1/pi) arctan((c - eps)/gamma),
    #   int (-dn_F/dE) L dE = Re psi'(1/2 + (gamma - i(eps - c))/(2 pi kT)) / (2 pi^2 kT).
    kt, c = 0.01, 0.0
    w = 0.5 + (gamma - 1j * (eps - c)) / (2 * math.pi * kt)
    full = 0.5 + polygamma(0, w).imag / math.pi
    step = 0.5 + math.atan((c - eps) / gamma) / math.pi
    corr = step_correction(_lorentzian(eps, gamma), c, kt)
    assert corr.evaluations == 20
    true = abs(corr.value[0] - (full - step))
    # the correction is 1e-4 - 3e-4 here; the rule reaches the closed form's own precision
    assert true <= CLOSED_FORM_FLOOR
    assert corr.error <= CLOSED_FORM_FLOOR
    surface = derivative_integral(_lorentzian(eps, gamma), c, kt)
    exact = polygamma(1, w).real / (2 * math.pi**2 * kt)
    true = abs(surface.value[0] - exact)
    assert surface.evaluations == 14
    # the 8-point rule: ~1e-13 of the integral at a pole 40 kT away, and the
    # difference from the 6-point rule bounds it
    assert true <= 1e-12 * exact
    assert surface.error >= true


def test_smooth_steps_and_input_checks():
    # distances |c - s| in units of kT = 1 meV: 50 (edge), 30 (pole), and none at T = 0
    kt = 1e-3
    flags = smooth_steps([0.0, 0.1], kt, [0.05, 0.1 + 0.03 - 0.002j])
    assert list(flags) == [True, False]
    assert not smooth_steps([0.0], 0.0, []).any()
    assert smooth_steps([0.0], kt, []).all()
    with pytest.raises(InputError, match="kt"):
        step_correction(_lorentzian(0.0, 1.0), 0.0, 0.0)
    with pytest.raises(InputError, match="kt"):
        derivative_integral(_lorentzian(0.0, 1.0), 0.0, -1.0)


# --------------------------------------------------------------------------
# force_coefficients at low temperature
# --------------------------------------------------------------------------
# energies the two Gauss rules add at most: 20 per step (4- and 6-point rules
# of the Fermi weight, both signs) for the three steps mu_L, mu_0, mu_R, 14 for
# the Fermi-surface friction; at finite frequency the four steps mu_L, mu_R,
# mu_0, mu_0 - hbar w with G at E and E -+ hbar w (3 energies a point)
RULE_ENERGIES = {0.0: 3 * 20 + 14, 0.01: 3 * 4 * 20}


@pytest.mark.parametrize("hbar_omega", [0.0, 0.01])
def test_cost_at_low_temperature_is_that_at_zero_plus_the_step_rules(solver, hbar_omega):
    # A perfect chain, E_F = 1.9 eV, V = 0.1 V, band edge at 2 eV (0.05 eV above
    # mu_R, i.e. 580 k_B T at 1 K): cost at 1 K and 0.1 K <= cost at T = 0 plus the
    # step rules.  Before the steps were split (adaptive bisection discovering
    # the Fermi tails), 1 K cost 626 energies against 139 at T = 0 (adiabatic)
    # and 1567 against 441 (hbar w = 0.01 eV), and it grows as ln(window/kT).
    j = chain_junction(12, -1.0, solver=solver)
    f = chain_force_operators(12, 0.5, atoms=[4, 5, 6, 7])
    counts = {}
    for temperature in (0.0, 1.0, 0.1):
        with j.count_energies() as counter:
            force_coefficients(
                j, f, bias=0.1, temperature=temperature, fermi_level=1.9, hbar_omega=hbar_omega, rtol=1e-6
            )
        counts[temperature] = counter.energies
    assert counts[1.0] <= counts[0.0] + RULE_ENERGIES[hbar_omega], counts
    assert counts[0.1] <= counts[0.0] + RULE_ENERGIES[hbar_omega], counts


def test_perfect_chain_closed_forms_at_one_kelvin(solver):
    # The closed forms of the perfect chain (docs/theory.rst eq-chain-friction):
    # friction eta_jj = 2 hbar beta^2/(pi t^2) at any filling inside the band, and
    # K^asym_{j,j+d} = (2 eV beta^2/(pi t^2)) sin(2 k_F d) at small bias.  At 1 K the
    # thermal corrections are O((k_B T / t)^2) ~ 1e-8 relative (Sommerfeld), below
    # the tolerances used; the surface friction and the bias-window K come from
    # the T = 0 steps plus the Gauss-rule corrections here.
    t, beta, n, ef = 1.0, 0.5, 12, 0.3
    j = chain_junction(n, -t, solver=solver)
    f = chain_force_operators(n, beta, atoms=[4, 5, 6, 7])
    v = 1e-3
    c = force_coefficients(j, f, bias=v, temperature=1.0, fermi_level=ef, spin=1, rtol=1e-10)
    kf = math.acos(-ef / (2 * t))
    eta = -2 * HBAR * beta**2 / (math.pi * t**2)
    # (kT/t)^2 = 7e-9 at 1 K: the closed form holds to ~1e-8 relative
    thermal_tol = 1e-7
    assert np.allclose(np.diag(c.friction), eta, atol=thermal_tol * abs(eta), rtol=0)
    ref = np.array([2 * v * beta**2 / (math.pi * t**2) * math.sin(2 * kf * d) for d in (1, 2, 3)])
    # O(V^2) corrections: relative 1e-3 at V = 1 mV is generous by a factor ~ 10
    expansion_tol = 1e-3
    assert np.allclose(c.nonconservative[0, 1:], ref, atol=expansion_tol * 2 * v * beta**2 / math.pi, rtol=0)


@pytest.mark.parametrize("hbar_omega", [0.0, 0.01])
def test_step_rules_agree_with_the_thermal_window(solver, hbar_omega, monkeypatch):
    # Second route: the same call with every Fermi step left to the adaptive
    # rule over the full thermal window (smooth_steps says no), which the code
    # did before.  At 1 K and rtol 1e-9 the two agree within the sum of their
    # error estimates, for every quantity; the estimate of each bounds the difference.
    j = chain_junction(12, -1.0, solver=solver)
    f = chain_force_operators(12, 0.5, atoms=[4, 5, 6, 7])
    kw = dict(bias=0.1, temperature=1.0, fermi_level=1.9, hbar_omega=hbar_omega, rtol=1e-9)
    fast = force_coefficients(j, f, **kw)
    for module in (forces_module, junction_module):
        monkeypatch.setattr(module, "smooth_steps", lambda steps, kt, sing: np.zeros(len(steps), dtype=bool))
    slow = force_coefficients(j, f, **kw)
    for name in ("mean_force", "K", "L", "mean_force_current", "K_current", "L_current"):
        diff = np.abs(getattr(fast, name) - getattr(slow, name)).max()
        assert diff <= fast.error[name] + slow.error[name], name
    # (the mean force of the perfect chain vanishes by symmetry: 1e-17 of noise)
    for name in ("K", "L", "K_current", "L_current"):
        diff = np.abs(getattr(fast, name) - getattr(slow, name)).max()
        assert diff <= 1e-9 * np.abs(getattr(slow, name)).max(), name


@pytest.mark.parametrize("hbar_omega", [0.0, 0.01])
def test_mixed_steps_agree_with_the_thermal_window(solver, hbar_omega, monkeypatch):
    # One level (eps = 0.15 eV, Gamma = 0.01 + 0.008 eV) at 30 K, V = 0.2 V: mu_R = 0.1 eV
    # is 19 k_B T from the pole (keeps its Fermi function and k_B T grading), mu_0,
    # mu_L (and mu_0 - hbar w) are over 40 k_B T away (T = 0 steps plus the rule).
    # Second route as above: every step thermal.  Agreement within the sum of
    # the estimates for every quantity.
    j = single_level(0.15, 0.01, 0.008, solver=solver)
    f = [np.array([[0.7]])]
    kw = dict(bias=0.2, temperature=30.0, hbar_omega=hbar_omega, rtol=1e-9)
    # the real-axis windows under test: on the dense backend the closed forms
    # (modules spectral, spectral_window) would leave no window to integrate
    monkeypatch.setattr(forces_module, "_SPECTRAL", False)
    seen = []
    original = junction_module.smooth_steps

    def spy(steps, kt, sing):
        flags = original(steps, kt, sing)
        seen.append(flags)
        return flags

    monkeypatch.setattr(junction_module, "smooth_steps", spy)
    mixed = force_coefficients(j, f, **kw)
    assert seen[0].any() and not seen[0].all()
    for module in (forces_module, junction_module):
        monkeypatch.setattr(module, "smooth_steps", lambda steps, kt, sing: np.zeros(len(steps), dtype=bool))
    thermal = force_coefficients(j, f, **kw)
    for name in ("mean_force", "K", "L", "mean_force_current", "K_current", "L_current"):
        diff = np.abs(getattr(mixed, name) - getattr(thermal, name)).max()
        assert diff <= mixed.error[name] + thermal.error[name], name


def test_window_ends_at_the_band_edge(monkeypatch):
    # Every window integrand carries A_l(E) (or A(E)), zero outside the lead
    # continua: at 1000 K the thermal window of the chain (E_F = 1.9 eV) reaches
    # 4.2 eV, but nothing lies above the band edge at 2 eV.  Before, 10 of the 25
    # breakpoints (and their panels) lay above it.
    seen = []
    original = junction_module.integrate_adaptive

    def spy(func, pts, **kw):
        seen.append(np.asarray(pts))
        return original(func, pts, **kw)

    monkeypatch.setattr(junction_module, "integrate_adaptive", spy)
    j = chain_junction(12, -1.0)
    f = chain_force_operators(12, 0.5, atoms=[4, 5, 6, 7])
    c = force_coefficients(j, f, bias=0.1, temperature=1000.0, fermi_level=1.9, rtol=1e-6)
    assert seen and all(p[-1] == 2.0 for p in seen)
    # the cut changes nothing: against the window integral up to 2 + 40 kT at rtol 1e-9
    monkeypatch.setattr(j, "_continuum_window", lambda pts: pts)
    ref = force_coefficients(j, f, bias=0.1, temperature=1000.0, fermi_level=1.9, rtol=1e-9)
    for name in ("K", "L", "K_current", "L_current"):
        diff = np.abs(getattr(c, name) - getattr(ref, name)).max()
        assert diff <= c.error[name] + ref.error[name], name


def test_density_matrix_and_current_at_one_kelvin(solver):
    # Junction.density_matrix and current take the same steps.  Perfect chain
    # (hopping -1 eV, band [-2, 2] eV), E_F = 1.9 eV, V = 0.1 V.  Independent
    # route (as in test_quadrature_edges): right movers (0 < k < pi) are filled
    # from the left lead, left movers from the right, so per spin and site
    # n = (1/2pi) sum_l int_0^pi dk n_F(-2 cos k - mu_l), by scipy quad on
    # [0, pi] cut at k_F -+ 0.01 and k_F (the Fermi step is 1e-4 wide in k at
    # 1 K; quad's own `points` misses it by 1e-4); the Landauer current is 2 e^2/h V exactly
    # while both thermal windows lie inside the band (e^-580 at 1 K).
    # Before, the density matrix took 791 energies at 1 K against 153 at T = 0.
    from scipy.integrate import quad

    from currentforces.integrate import fermi
    from currentforces.units import CONDUCTANCE_QUANTUM_SPINLESS

    j = chain_junction(20, -1.0, solver=solver)
    mus = j.chemical_potentials(0.1, 1.9)
    counts = {}
    for temperature in (0.0, 1.0):
        with j.count_energies() as counter:
            rho = j.density_matrix(0.1, temperature=temperature, fermi_level=1.9, rtol=1e-10)
        counts[temperature] = counter.energies
    # three steps (mu_L, mu_R and the reference mu_0), 20 energies each
    assert counts[1.0] <= counts[0.0] + 3 * 20, counts
    n = 0.0
    for mu in mus:
        kf = math.acos(-mu / 2)
        cuts = [0.0, kf - 0.01, kf, kf + 0.01, math.pi]
        for a, b in zip(cuts[:-1], cuts[1:]):
            n += quad(lambda k, mu=mu: float(fermi(-2 * np.cos(k), mu, 1.0)), a, b, epsabs=1e-15, epsrel=1e-13)[0]
    n /= 2 * np.pi
    # rtol 1e-10 on the pole sum and the window, summed over 20 sites
    assert abs(rho.trace().real - 2 * 20 * n) < 1e-9 * 2 * 20 * n
    expected = 2 * CONDUCTANCE_QUANTUM_SPINLESS * 0.1
    assert abs(j.current(0.1, temperature=1.0, fermi_level=1.9, rtol=1e-10) - expected) < 1e-9 * expected


@pytest.mark.parametrize("hbar_omega", [0.0, 0.01])
def test_steps_in_a_gap_count_the_cutoff_from_the_band(solver, hbar_omega):
    # A perfect chain (band [-2, 2] eV) with E_F = 3.2 eV, in the gap, at 1000 K:
    # every window integral is the thermal tail of the occupations inside the
    # band, e^-(1.2 eV / k_B T) = e^-14 at its largest.  The window must reach
    # thermal_cutoff(rtol) k_B T beyond the band edge, not beyond the steps:
    # cut 25.8 k_B T below the steps (11.8 k_B T into the band) the tail left out
    # was 1e-4 of the result while the estimate said 1e-12.  Second route: the
    # same call at rtol 1e-10; the rtol-1e-6 estimate bounds the difference.
    j = chain_junction(12, -1.0, solver=solver)
    f = chain_force_operators(12, 0.5, atoms=[4, 5, 6, 7])
    kw = dict(bias=0.1, temperature=1000.0, fermi_level=3.2, hbar_omega=hbar_omega)
    c = force_coefficients(j, f, rtol=1e-6, **kw)
    ref = force_coefficients(j, f, rtol=1e-10, **kw)
    for name in ("mean_force", "K", "L", "mean_force_current", "K_current", "L_current"):
        diff = np.abs(getattr(c, name) - getattr(ref, name)).max()
        assert diff <= c.error[name] + ref.error[name], name
