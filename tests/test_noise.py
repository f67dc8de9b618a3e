"""Force noise: positivity, symmetry, fluctuation-dissipation in equilibrium
and per channel under bias, Joule heating (formulas.md §5; seed eqs 58, 64-69)."""

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

EF = 0.3


def test_noise_is_hermitian_psd_and_reflection_symmetric():
    j, f = disordered_chain_model()
    w = 0.06
    s = noise_spectrum(j, f, [w, -w], bias=0.4, temperature=300.0, fermi_level=EF)
    assert np.allclose(s[0], s[0].conj().T, atol=1e-14, rtol=0)
    assert np.linalg.eigvalsh(s[0]).min() > -1e-12 * np.abs(s[0]).max()
    # S(-w) = S(w)^T (formulas.md §5.1)
    assert np.allclose(s[1], s[0].T, atol=1e-12 * np.abs(s[0]).max(), rtol=0)
    # under bias the antisymmetric (imaginary off-diagonal) part is non-zero
    assert np.abs(s[0].imag).max() > 1e-3 * np.abs(s[0]).max()


@pytest.mark.parametrize("temperature", [30.0, 300.0, 3000.0])
def test_equilibrium_fluctuation_dissipation(temperature):
    # S(w) = hbar coth(hbar w / 2 k_B T) D(w) for the full matrix (formulas.md §5.2)
    j, f = disordered_chain_model()
    for w in (0.01, 0.1):
        s = noise_spectrum(j, f, w, temperature=temperature, fermi_level=EF, rtol=1e-10)
        d = dissipation_spectrum(j, f, w, temperature=temperature, fermi_level=EF, rtol=1e-10)
        coth = 1 / math.tanh(w / (2 * KB * temperature))
        assert np.allclose(s, HBAR * coth * d, atol=1e-9 * np.abs(s).max(), rtol=0)
        # with TRS at equilibrium S = -hbar w coth L^sym(w)  (L from the Pi route)
        c = force_coefficients(j, f, temperature=temperature, fermi_level=EF, hbar_omega=w, rtol=1e-10)
        assert np.allclose(s, -w * coth * c.friction, atol=1e-8 * np.abs(s).max(), rtol=0)


def test_channel_fluctuation_dissipation_under_bias():
    # Under bias the equilibrium FDT fails (formulas.md §5.2 reports ~100 % errors),
    # but every lead-pair channel obeys its own, with the frequency shifted by
    # mu_l - mu_m:  S = hbar sum_lm coth((hbar w - mu_l + mu_m)/2 k_B T) D_lm.
    j, f = disordered_chain_model()
    w, v, temp = 0.05, 0.4, 300.0
    s = noise_spectrum(j, f, w, bias=v, temperature=temp, fermi_level=EF, rtol=1e-10)
    d = dissipation_spectrum(j, f, w, bias=v, temperature=temp, fermi_level=EF, rtol=1e-10)
    naive = HBAR / math.tanh(w / (2 * KB * temp)) * d
    assert np.abs(s - naive).max() > 0.1 * np.abs(s).max()
    from currentforces.noise import channel_spectra

    d_lm, s_lm = channel_spectra(j, f, w, bias=v, temperature=temp, fermi_level=EF, rtol=1e-10)
    mus = j.chemical_potentials(v, EF)
    total = np.zeros_like(s)
    for l in range(2):
        for m in range(2):
            x = w - mus[l] + mus[m]
            total += HBAR / math.tanh(x / (2 * KB * temp)) * d_lm[l, m]
    assert np.allclose(sum(d_lm[l, m] for l in range(2) for m in range(2)), d, atol=1e-10 * np.abs(d).max(), rtol=0)
    assert np.allclose(total, s, atol=1e-9 * np.abs(s).max(), rtol=0)
    assert np.allclose(sum(s_lm[l, m] for l in range(2) for m in range(2)), s, atol=1e-10 * np.abs(s).max(), rtol=0)


def test_dissipation_equals_minus_2pi_conj_xi():
    # D(w) = -2 pi Xi(w)^* (formulas.md §3.3)
    j, f = disordered_chain_model()
    w = 0.07
    d = dissipation_spectrum(j, f, w, bias=0.3, temperature=100.0, fermi_level=EF, rtol=1e-10)
    xi = electron_hole_spectrum(j, f, w, bias=0.3, temperature=100.0, fermi_level=EF, rtol=1e-10)
    assert np.allclose(d, -2 * math.pi * np.conj(xi), atol=1e-10 * np.abs(d).max(), rtol=0)


@pytest.mark.parametrize("temperature", [100.0, 300.0])
def test_joule_heating_equilibrium_is_bose_einstein(temperature):
    # seed eq 69: <E> = hbar w (1/2 + n_B(hbar w)), T_eff = T.  (For hbar w >> k_B T
    # the inversion E -> T_eff is ill-conditioned, n_B ~ e^-35 at 10 K, so the
    # temperatures stay at hbar w / k_B T = 3.5 and 1.2.)
    j, f = disordered_chain_model()
    w = 0.03
    jh = joule_heating(j, f[1], w, temperature=temperature, fermi_level=EF)
    assert abs(jh.energy - w * (0.5 + bose(w, temperature))) < 1e-9 * w
    assert abs(jh.effective_temperature - temperature) < 1e-6 * temperature
    assert not jh.unstable


def test_joule_heating_wide_band_closed_form():
    # formulas.md §5.5 at T = 0 for a single level with symmetric coupling:
    # n = (eV - hbar w)/(4 hbar w) above threshold, 0 below. A level of width
    # Gamma = 40 eV has A(E) constant to (E/20 eV)^2 < 1e-3 over the window.
    j, f = single_level(0.0, 20.0, 20.0, 1.0)
    w = 0.05
    above = joule_heating(j, f[0], w, bias=0.3, temperature=0.0, spin=1)
    assert abs(above.occupation - (0.3 - w) / (4 * w)) < 2e-3 * (0.3 - w) / (4 * w)
    below = joule_heating(j, f[0], w, bias=0.03, temperature=0.0, spin=1)
    assert abs(below.occupation) < 1e-3


def test_bad_input():
    j, f = disordered_chain_model()
    with pytest.raises(InputError, match="hbar_omega"):
        joule_heating(j, f[0], -0.1)
    with pytest.raises(InputError, match="omega"):
        noise_spectrum(j, f, np.nan)
