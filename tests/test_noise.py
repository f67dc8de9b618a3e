"""Force noise: positivity, symmetry, fluctuation-dissipation in equilibrium
and per channel under bias, Joule heating (docs/theory.rst theory-noise,
theory-pair-kernel, theory-joule; seed eqs 58, 64-69), on both
Green's-function backends (the ``solver`` fixture)."""

import math

import numpy as np
import pytest

from currentforces import (
    InputError,
    dissipation_spectrum,
    electron_hole_spectrum,
    force_coefficients,
    joule_heating,
    noise_spectrum,
)
from currentforces.integrate import bose
from currentforces.models.molecule import single_level
from currentforces.units import HBAR, KB

from forcehelpers import disordered_chain_model
from junctionhelpers import on_solver

EF = 0.3


def test_noise_is_hermitian_psd_and_reflection_symmetric(solver, tol):
    j, f = disordered_chain_model(solver=solver)
    w = 0.06
    s = noise_spectrum(j, f, [w, -w], bias=0.4, temperature=300.0, fermi_level=EF)
    # S is assembled as a sum of a term and its adjoint
    assert np.allclose(s[0], s[0].conj().T, atol=tol["roundoff"], rtol=0)
    assert np.linalg.eigvalsh(s[0]).min() > -tol["exact"] * np.abs(s[0]).max()
    # S(-w) = S(w)^T (the symmetry stated after eq-noise): the same integrand with the roles of
    # the two Green's functions exchanged, exact up to round-off
    assert np.allclose(s[1], s[0].T, atol=tol["exact"] * np.abs(s[0]).max(), rtol=0)
    # under bias the antisymmetric (imaginary off-diagonal) part is non-zero
    assert np.abs(s[0].imag).max() > tol["visible"] * np.abs(s[0]).max()


@pytest.mark.parametrize("temperature", [30.0, 300.0, 3000.0])
def test_equilibrium_fluctuation_dissipation(temperature, solver, tol):
    # S(w) = hbar coth(hbar w / 2 k_B T) D(w) for the full matrix (eq-fdt)
    j, f = disordered_chain_model(solver=solver)
    for w in (0.01, 0.1):
        s = noise_spectrum(j, f, w, temperature=temperature, fermi_level=EF, rtol=1e-10)
        d = dissipation_spectrum(j, f, w, temperature=temperature, fermi_level=EF, rtol=1e-10)
        coth = 1 / math.tanh(w / (2 * KB * temperature))
        # S and D are read off the same lead-pair integrals at rtol 1e-10
        # (in equilibrium the identity holds at every energy)
        assert np.allclose(s, HBAR * coth * d, atol=tol["tight_quad"] * np.abs(s).max(), rtol=0)
        # with TRS at equilibrium S = -hbar w coth L^sym(w)  (L from the Pi
        # route, a Fermi-sea contour integral plus a window integral at rtol
        # 1e-10: an independent route, whose errors add: 10 x tight_quad)
        c = force_coefficients(j, f, temperature=temperature, fermi_level=EF, hbar_omega=w, rtol=1e-10)
        assert np.allclose(s, -w * coth * c.friction, atol=10 * tol["tight_quad"] * np.abs(s).max(), rtol=0)


def test_channel_fluctuation_dissipation_under_bias(solver, tol):
    # Under bias the equilibrium FDT fails (the shifts mu_l - mu_m = +-0.4 eV
    # of the cross channels are far larger than hbar w = 0.05 eV and k_B T,
    # so coth(hbar w / 2 k_B T) is the wrong weight for them),
    # but every lead-pair channel obeys its own, with the frequency shifted by
    # mu_l - mu_m:  S = hbar sum_lm coth((hbar w - mu_l + mu_m)/2 k_B T) D_lm.
    j, f = disordered_chain_model(solver=solver)
    w, v, temp = 0.05, 0.4, 300.0
    s = noise_spectrum(j, f, w, bias=v, temperature=temp, fermi_level=EF, rtol=1e-10)
    d = dissipation_spectrum(j, f, w, bias=v, temperature=temp, fermi_level=EF, rtol=1e-10)
    naive = HBAR / math.tanh(w / (2 * KB * temp)) * d
    # "fails": by more than 10 % of |S|, far above every tolerance below
    fails_by = 0.1
    assert np.abs(s - naive).max() > fails_by * np.abs(s).max()
    from currentforces.noise import channel_spectra

    d_lm, s_lm = channel_spectra(j, f, w, bias=v, temperature=temp, fermi_level=EF, rtol=1e-10)
    mus = j.chemical_potentials(v, EF)
    total = np.zeros_like(s)
    for l in range(2):
        for m in range(2):
            x = w - mus[l] + mus[m]
            total += HBAR / math.tanh(x / (2 * KB * temp)) * d_lm[l, m]
    # the channel sums are the same lead-pair integrands, integrated apart
    assert np.allclose(
        sum(d_lm[l, m] for l in range(2) for m in range(2)), d, atol=tol["same_integrand"] * np.abs(d).max(), rtol=0
    )
    # the channel FDT: D_lm and S_lm differ by occupations (integrated apart)
    assert np.allclose(total, s, atol=tol["tight_quad"] * np.abs(s).max(), rtol=0)
    assert np.allclose(
        sum(s_lm[l, m] for l in range(2) for m in range(2)), s, atol=tol["same_integrand"] * np.abs(s).max(), rtol=0
    )


def test_dissipation_equals_minus_2pi_conj_xi(solver, tol):
    # D(w) = -2 pi Xi(w)^* (eq-d-xi): the same lead-pair integrand
    j, f = disordered_chain_model(solver=solver)
    w = 0.07
    d = dissipation_spectrum(j, f, w, bias=0.3, temperature=100.0, fermi_level=EF, rtol=1e-10)
    xi = electron_hole_spectrum(j, f, w, bias=0.3, temperature=100.0, fermi_level=EF, rtol=1e-10)
    assert np.allclose(d, -2 * math.pi * np.conj(xi), atol=tol["same_integrand"] * np.abs(d).max(), rtol=0)


def lorentzian_pair_integral(a, b, w, g):
    """int_a^b du / (((u + w)^2 + g^2)(u^2 + g^2)), in closed form.

    w != 0: partial fractions 1 = (A u + B)((u + w)^2 + g^2) + (C u + D)(u^2 + g^2)
    (the 4 x 4 system below matches the powers u^3 ... u^0), each term a
    logarithm plus an arctangent.  w = 0: int du/(u^2 + g^2)^2 =
    u / (2 g^2 (u^2 + g^2)) + atan(u/g) / (2 g^3)."""
    if w == 0:

        def prim(u):
            return u / (2 * g**2 * (u * u + g * g)) + math.atan(u / g) / (2 * g**3)

        return prim(b) - prim(a)
    rows = [[1, 0, 1, 0], [2 * w, 1, 0, 1], [w * w + g * g, 2 * w, g * g, 0], [0, w * w + g * g, 0, g * g]]
    ca, cb, cc, cd = np.linalg.solve(np.array(rows, dtype=float), [0.0, 0.0, 0.0, 1.0])

    def prim(u):
        v = u + w
        return (
            0.5 * ca * math.log(u * u + g * g)
            + cb / g * math.atan(u / g)
            + 0.5 * cc * math.log(v * v + g * g)
            + (cd - cc * w) / g * math.atan(v / g)
        )

    return prim(b) - prim(a)


@pytest.mark.parametrize("hbar_omega", [0.0, 0.05, -0.13, 0.6])
def test_every_pair_spectrum_of_a_resonant_level_against_its_closed_form(hbar_omega, solver, tol):
    # One level eps0 between wide-band leads, f = lambda: A_l(E) = Gamma_l /
    # ((E - eps0)^2 + g^2) with g = (Gamma_L + Gamma_R)/2.  At T = 0,
    # n_m(E) - n_l(E + w) is +1 on (mu_l - w, mu_m) (-1 on the reversed
    # interval, 0 when it is empty), so (docs/theory.rst eq-dissipation)
    #   D_lm = g_s lambda^2 Gamma_l Gamma_m / 4pi * J(mu_l - w - eps0, mu_m - eps0)
    # with J the closed form above, and the noise weight is 1 on the same
    # interval, so S_lm = hbar |D_lm| (eq-noise); D, S are their sums and
    # Xi = -D^*/2pi (eq-d-xi).  hbar w = 0 takes the one-energy-set path of
    # the kernel, 0.6 eV > eV reverses the intervals of both cross channels.
    eps0, gl, gr, lam, bias, spin = 0.1, 0.3, 0.2, 0.7, 0.4, 2
    j, f = single_level(eps0, gl, gr, lam)
    j = on_solver(j, solver)
    mus = j.chemical_potentials(bias, 0.0)
    gammas, g, w = (gl, gr), 0.5 * (gl + gr), hbar_omega
    d_ref = np.zeros((2, 2, 1, 1))
    for l in range(2):
        for m in range(2):
            weight = spin * lam**2 * gammas[l] * gammas[m] / (4 * math.pi)
            d_ref[l, m] = weight * lorentzian_pair_integral(mus[l] - w - eps0, mus[m] - eps0, w, g)
    s_ref = HBAR * np.abs(d_ref)
    kw = dict(bias=bias, temperature=0.0, fermi_level=0.0, spin=spin, rtol=1e-11)
    from currentforces.noise import channel_spectra

    d_lm, s_lm = channel_spectra(j, f, w, **kw)
    # each judged against the largest channel: at w = 0 the two cross
    # channels of D cancel exactly (D(0) = 0 at T = 0)
    scale_d, scale_s = np.abs(d_ref).max(), np.abs(s_ref).max()
    got = {
        "D_lm": (d_lm, d_ref, scale_d),
        "S_lm": (s_lm, s_ref, scale_s),
        "D": (dissipation_spectrum(j, f, w, **kw), d_ref.sum(axis=(0, 1)), scale_d),
        "S": (noise_spectrum(j, f, w, **kw), s_ref.sum(axis=(0, 1)), scale_s),
        "Xi": (electron_hole_spectrum(j, f, w, **kw), -d_ref.sum(axis=(0, 1)) / (2 * math.pi), scale_d / (2 * math.pi)),
    }
    for name, (value, ref, scale) in got.items():
        assert np.abs(value - ref).max() < tol["tight_quad"] * scale, name


@pytest.mark.parametrize("temperature", [100.0, 300.0])
def test_joule_heating_equilibrium_is_bose_einstein(temperature, solver, tol):
    # seed eq 69: <E> = hbar w (1/2 + n_B(hbar w)), T_eff = T.  (For hbar w >> k_B T
    # the inversion E -> T_eff is ill-conditioned, n_B ~ e^-35 at 10 K, so the
    # temperatures stay at hbar w / k_B T = 3.5 and 1.2.)
    j, f = disordered_chain_model(solver=solver)
    w = 0.03
    jh = joule_heating(j, f[1], w, temperature=temperature, fermi_level=EF)
    # E = S(w) / (2 eta) with S and eta from the same lead-pair integrals: the
    # equilibrium ratio is exact at every energy, so tight_quad is generous
    assert abs(jh.energy - w * (0.5 + bose(w, temperature))) < tol["tight_quad"] * w
    # T_eff inverts E(T), amplifying the relative error of E by
    # (1/2 + n_B) / (n_B (1 + n_B) x), x = hbar w / k_B T: 4.7 at 100 K and
    # 1.2 at 300 K; 1e-6 leaves a factor 100 above default_quad for it
    teff_tol = 100 * tol["default_quad"]
    assert abs(jh.effective_temperature - temperature) < teff_tol * temperature
    assert not jh.unstable


def test_joule_heating_wide_band_closed_form(solver):
    # eq-joule-wide-band at T = 0 for a single level with symmetric coupling:
    # n = (eV - hbar w)/(4 hbar w) above threshold, 0 below. A level of width
    # Gamma = 40 eV has A(E) constant to (E/20 eV)^2 < 1e-3 over the window.
    wide_band_tol = 1e-3  # the (E/20 eV)^2 variation of A over the window
    j, f = single_level(0.0, 20.0, 20.0, 1.0)
    j = on_solver(j, solver)
    w = 0.05
    above = joule_heating(j, f[0], w, bias=0.3, temperature=0.0, spin=1)
    assert abs(above.occupation - (0.3 - w) / (4 * w)) < 2 * wide_band_tol * (0.3 - w) / (4 * w)
    below = joule_heating(j, f[0], w, bias=0.03, temperature=0.0, spin=1)
    assert abs(below.occupation) < wide_band_tol


def test_bad_input(solver):
    j, f = disordered_chain_model(solver=solver)
    with pytest.raises(InputError, match="hbar_omega"):
        joule_heating(j, f[0], -0.1)
    with pytest.raises(InputError, match="omega"):
        noise_spectrum(j, f, np.nan)
