"""Narrow resonances: a single level of width Gamma = 1e-6 ... 1e-10 eV
against the closed forms of a resonant level (docs/theory.rst, eq-single-level), at T = 0
and 300 K, and the error estimate of every quantity against its true error.

Model (seed notation, per spin): h = eps0 - lambda X between wide-band leads,
A_l = Gamma_l / ((E - eps0)^2 + Gamma^2/4), f = lambda.  At T > 0 the
closed forms are Lorentzians convolved with Fermi functions, done exactly
with the polygamma functions of complex argument
w_l = 1/2 + (Gamma/2 + i(eps0 - mu_l)) / (2 pi k_B T):

* occupation seen from lead l:  int n_l L = 1/2 - Im psi(w_l) / pi
  (L the unit-area Lorentzian);
* int (-n_l') L = Re psi'(w_l) / (2 pi^2 k_B T);
* int (-n_l') / ((E - eps0)^2 + g^2)^2 = -(1/2g) d/dg [(pi/g) Re psi'(w_l)/(2 pi^2 k_B T)],
  g = Gamma/2, dw/dg = 1/(2 pi k_B T).
"""

import math
import warnings

import numpy as np
import pytest

from currentforces import Junction, force_coefficients
from currentforces.errors import IntegrationError, IntegrationWarning
from currentforces.forces import FLOOR
from currentforces.leads import ChainLead, chain_surface_green
from currentforces.models.molecule import single_level
from currentforces.units import CONDUCTANCE_QUANTUM_SPINLESS, HBAR, KB

from forcehelpers import polygamma

EPS0 = 0.0123  # level (eV), the case of the issue report
BIAS = 0.1  # V: mu = +-0.05 eV, the level inside the bias window
MUS = (0.05, -0.05)
SPIN = 2
LAM = 1.0  # eV/Angstrom


def test_polygamma_helper():
    # against scipy's digamma, and psi'(1) = pi^2/6, psi''(1) = -2 zeta(3)
    from scipy.special import psi

    for z in (0.5 + 0.3j, 0.5 - 2.0j, 3.7 + 11j):
        assert abs(polygamma(0, z) - psi(z)) < 1e-13 * abs(psi(z))
    assert abs(polygamma(1, 1.0) - math.pi**2 / 6) < 1e-14
    assert abs(polygamma(2, 1.0) + 2 * 1.2020569031595942) < 1e-14


def closed_forms(gamma_total, temperature):
    """Current (A), F0 (eV/A), K (eV/A^2) and friction (eV fs/A^2) of the
    symmetric level (Gamma_L = Gamma_R = Gamma/2), spin included."""
    gl = gamma_total / 2
    g = gamma_total / 2  # half-width of the Lorentzian
    a_l = [gl / ((mu - EPS0) ** 2 + g * g) for mu in MUS]
    if temperature == 0:
        # Breit-Wigner: int_{mu_R}^{mu_L} T dE, T = Gamma_L Gamma_R / ((E - eps0)^2 + g^2)
        occ = [0.5 + math.atan((mu - EPS0) / g) / math.pi for mu in MUS]
        current = SPIN * CONDUCTANCE_QUANTUM_SPINLESS * gl * gl / g * (occ[0] - occ[1]) * math.pi
        f0 = SPIN * LAM * sum(0.5 * o for o in occ)
        # K(0) = -(lambda^2 / 2 pi) sum_l A_l(mu_l)
        k = -SPIN * LAM**2 / (2 * math.pi) * sum(a_l)
        # -L^sym = (hbar/4pi) sum_{l,m} (-n_m') Re Tr[f A_m f A_l] (the window
        # term of docs/theory.rst eq-l-adiabatic cancels for one level): A(mu_m) A_m(mu_m)
        fric = -SPIN * HBAR * LAM**2 / (4 * math.pi) * sum(2 * a * a for a in a_l)
        return current, f0, k, fric
    kt = KB * temperature
    w = [0.5 + (g + 1j * (EPS0 - mu)) / (2 * math.pi * kt) for mu in MUS]
    occ = [0.5 - polygamma(0, x).imag / math.pi for x in w]
    current = SPIN * CONDUCTANCE_QUANTUM_SPINLESS * 2 * math.pi * gl * gl / gamma_total * (occ[0] - occ[1])
    f0 = SPIN * LAM * sum(0.5 * o for o in occ)
    # K = -(lambda^2/2pi) sum_l int (-n_l') A_l,  A_l = (Gamma_l / g) pi L
    d1 = [polygamma(1, x).real / (2 * math.pi**2 * kt) for x in w]
    k = -SPIN * LAM**2 / (2 * math.pi) * sum(gl / g * math.pi * d for d in d1)
    # friction: -(hbar lambda^2/4pi) sum_m int (-n_m') A A_m, A A_m = Gamma Gamma_m / (x^2 + g^2)^2
    inv4 = [
        -(1 / (2 * g))
        * (math.pi / (2 * math.pi**2 * kt))
        * (polygamma(2, x).real / (2 * math.pi * kt * g) - polygamma(1, x).real / g**2)
        for x in w
    ]
    fric = -SPIN * HBAR * LAM**2 / (4 * math.pi) * sum(gamma_total * gl * v for v in inv4)
    return current, f0, k, fric


@pytest.mark.parametrize("temperature", [0.0, 300.0])
@pytest.mark.parametrize("gamma_total", [1e-6, 1e-8, 1e-10])
def test_narrow_level_current(gamma_total, temperature):
    # Breit-Wigner: the integral of T(E) is 2 pi Gamma_L Gamma_R / Gamma
    # (issue report: 3.1e-18 A instead of 8.87e-13 A at Gamma = 1e-8, 300 K)
    j, _ = single_level(EPS0, gamma_total / 2, gamma_total / 2, LAM)
    current = j.current(BIAS, temperature=temperature, spin=SPIN)
    ref = closed_forms(gamma_total, temperature)[0]
    assert abs(current - ref) < 1e-8 * abs(ref)


@pytest.mark.parametrize("temperature", [0.0, 300.0])
@pytest.mark.parametrize("gamma_total", [1e-6, 1e-8, 1e-10])
def test_narrow_level_force_coefficients(gamma_total, temperature):
    # closed forms of docs/theory.rst eq-single-level (module docstring); each quantity's
    # error estimate must bound its true error (issue 11, item 4)
    j, f = single_level(EPS0, gamma_total / 2, gamma_total / 2, LAM)
    c = force_coefficients(j, f, bias=BIAS, temperature=temperature, spin=SPIN)
    _, f0, k, fric = closed_forms(gamma_total, temperature)
    # natural scales of the tolerance floor (forces.FLOOR): spin lambda, spin lambda^2/E,
    # hbar spin lambda^2/E^2 with E = 1 eV here
    natural = {"mean_force": SPIN * LAM, "K": SPIN * LAM**2, "L": HBAR * SPIN * LAM**2}
    for name, value, ref in (("mean_force", c.mean_force[0], f0), ("K", c.K[0, 0], k), ("L", c.friction[0, 0], fric)):
        true = abs(value - ref)
        # the estimate bounds the true error...
        assert true <= c.error[name], (name, true, c.error[name])
        # ...and meets the requested tolerance (rtol of the quantity, not below
        # rtol * FLOOR of its natural scale: K = 1.5e-8 and L = 3e-16 at
        # Gamma = 1e-10 eV, 0 K are below that floor)
        assert c.error[name] <= max(1e-8 * abs(ref), 1e-8 * FLOOR * natural[name]), name
        # and the value is right to 1e-5 even there (1e-8 above the floor)
        assert true <= (1e-8 if abs(ref) > FLOOR * natural[name] else 1e-5) * abs(ref), (name, value, ref)
    # the sign the issue report found wrong at Gamma = 1e-10 eV, 300 K:
    # softening and damping
    assert c.K[0, 0] < 0 and c.friction[0, 0] < 0


def test_narrow_level_zero_bias_friction():
    # equilibrium friction of a level 3e-9 eV from the Fermi level, T = 0:
    # eta = (hbar lambda^2 / 4 pi) A(mu)^2 (docs/theory.rst theory-single-level:
    # eq-friction-fermi-surface for one level)
    gamma = 1e-8
    j, f = single_level(0.0, gamma / 2, gamma / 2, LAM)
    c = force_coefficients(j, f, temperature=0.0, fermi_level=3e-9, spin=1)
    a = gamma / (3e-9**2 + gamma**2 / 4)
    ref = -HBAR * LAM**2 / (4 * math.pi) * a * a
    assert abs(c.friction[0, 0] - ref) < 1e-8 * abs(ref)


def test_narrow_level_with_energy_dependent_leads():
    # one site coupled by t' = 2e-5 eV to two chain leads (t = 1 eV): a level of
    # width Gamma(E) = 4 t'^2 sqrt(1 - E^2/4) ~ 1.6e-9 eV, found by the pole
    # search with self-consistent refinement.  Oracle: scipy's quad of
    # T(E) = Gamma_L Gamma_R / |E - eps - Sigma_L - Sigma_R|^2 around the pole
    # located independently (root of E - eps - Re Sigma(E)).
    from scipy.integrate import quad
    from scipy.optimize import brentq

    eps, tc = 0.0123, 2e-5
    j = Junction([[eps]], [ChainLead(-1.0, [-tc]), ChainLead(-1.0, [-tc])])
    sigma = lambda e: 2 * tc * tc * complex(chain_surface_green(e, 1.0))
    pole = brentq(lambda e: e - eps - sigma(e).real, eps - 1e-6, eps + 1e-6, xtol=1e-18)
    width = -2 * sigma(pole).imag

    def trans(e):
        s = sigma(e)
        gl = -s.imag  # Gamma_L = Gamma_R = -2 Im Sigma_L = -Im(Sigma_L + Sigma_R)
        return gl * gl / abs(e - eps - s) ** 2

    pts = sorted([-0.05, 0.05] + [pole + k * width for k in (-100, -10, -1, 0, 1, 10, 100)])
    ref = sum(quad(trans, a, b, epsabs=0, epsrel=1e-12, limit=200)[0] for a, b in zip(pts[:-1], pts[1:]))
    current = j.current(BIAS, temperature=0.0, spin=1)
    assert abs(current - CONDUCTANCE_QUANTUM_SPINLESS * ref) < 1e-8 * CONDUCTANCE_QUANTUM_SPINLESS * ref


def test_unreachable_tolerance_raises_or_warns():
    # never a quiet miss (issue 11 item 4): a level of width 1e-10 eV between
    # energy-dependent leads has no off-axis treatment of its bias window, and
    # the real-axis K window cancels to far below its rounding (eps/Gamma);
    # its estimate says so
    tc = 5e-6
    j = Junction([[0.0123]], [ChainLead(-1.0, [-tc]), ChainLead(-1.0, [-tc])])
    f = [np.array([[LAM]])]
    with pytest.raises(IntegrationError, match="estimated error"):
        force_coefficients(j, f, bias=BIAS, temperature=0.0)
    with pytest.warns(IntegrationWarning, match="estimated error"):
        c = force_coefficients(j, f, bias=BIAS, temperature=0.0, on_fail="warn")
    assert c.error["K"] > 1e-8 * np.abs(c.K).max()


def test_error_is_per_quantity():
    # one number shared by all components was dominated by L (issue 11 item 4):
    # now each quantity's estimate is below rtol times its own size, and the
    # current-induced parts have their own
    j, f = single_level(0.2, 0.05, 0.03, 0.1)
    c = force_coefficients(j, f, bias=0.3, temperature=300.0, rtol=1e-9)
    for name, v in (
        ("mean_force", c.mean_force),
        ("K", c.K),
        ("L", c.L),
        ("K_current", c.K_current),
        ("L_current", c.L_current),
        ("mean_force_current", c.mean_force_current),
    ):
        assert 0 < c.error[name] <= 1e-9 * np.abs(v).max(), name
    # and bound the true error against a reference at rtol 1e-13
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)  # 1e-13 is not reached everywhere
        ref = force_coefficients(j, f, bias=0.3, temperature=300.0, rtol=1e-13, on_fail="warn")
    for name in ("mean_force", "K", "L", "K_current", "L_current"):
        true = np.abs(getattr(c, name) - getattr(ref, name)).max()
        assert true <= c.error[name] + ref.error[name], name
