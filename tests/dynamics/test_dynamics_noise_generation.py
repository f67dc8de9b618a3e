"""Coloured multivariate noise (docs/theory.rst eq-noise-recipe) and the
wide-band S(omega) (eq-wide-band-noise)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad_vec

from currentforces.dynamics import NoiseGenerator, tabulated_spectrum, wide_band_spectrum
from currentforces.errors import InputError
from currentforces.units import HBAR, KB

from _dyn_models import N_SIGMA, joule_occupation, two_mode_t_matrices

SPEC_KW = dict(bias=0.3, temperature=30.0, spin=2, cutoff=0.2)


def test_wide_band_spectrum_is_hermitian_psd_with_antisymmetric_part():
    t = two_mode_t_matrices()
    s = wide_band_spectrum(t, **SPEC_KW)(np.linspace(0, 1, 101))
    assert np.allclose(s, np.conj(np.swapaxes(s, 1, 2)), atol=1e-14)
    assert np.linalg.eigvalsh(s).min() > -1e-12 * np.abs(s).max()
    assert np.abs(s[:, 0, 1].imag).max() > 1e-3 * np.abs(s).max()  # bias-induced antisymmetric part
    # S(-w) = S(w)^T: the imaginary part of S_01 is odd in w, so it vanishes at w = 0
    assert abs(s[0, 0, 1].imag) < 1e-12 * np.abs(s).max()


def test_wide_band_spectrum_equilibrium_fdt():
    """docs/theory.rst eq-fdt with eq-wide-band-noise: at zero bias
    S = hbar coth(hw/2kT) D, D = (g_s/4pi) sum_lm T_lm hw."""
    t = two_mode_t_matrices()
    temp = 300.0
    hw = np.linspace(1e-3, 0.5, 50)
    s = wide_band_spectrum(t, bias=0.0, temperature=temp, spin=2)(hw)
    d = 2 / (4 * np.pi) * t.sum(axis=(0, 1))[None] * hw[:, None, None]
    expected = HBAR / np.tanh(hw / (2 * KB * temp))[:, None, None] * d
    assert np.allclose(s, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("temperature", [0.0, 30.0, 600.0])
@pytest.mark.parametrize("bias", [0.02, 0.3, -0.3])
def test_wide_band_spectrum_gives_joule_formula(temperature, bias):
    """S(w0)/(2 eta) from eq-wide-band-noise equals hbar w0 (n_ph + 1/2) with the
    wide-band n_ph of docs/theory.rst eq-joule (eq-joule-wide-band at T = 0).

    Single level, symmetric coupling: T_lm = tau for all l, m, eta = (hbar/4pi) 4 tau.
    """
    hw0, tau = 0.05, 0.7
    t = np.full((2, 2, 1, 1), tau)
    eta = HBAR / (4 * np.pi) * 4 * tau
    s = wide_band_spectrum(t, bias=bias, temperature=temperature, spin=1)([hw0])[0, 0, 0].real
    if temperature == 0.0:
        n_ph = max(abs(bias) - hw0, 0.0) / (4 * hw0)  # eq-joule-wide-band, T = 0
    else:
        n_ph = joule_occupation(hw0, bias, temperature, 0.25)
    assert s / (2 * eta) == pytest.approx(hw0 * (n_ph + 0.5), rel=1e-10)


def test_lag_covariance_matches_target_including_antisymmetric_part():
    """Empirical <xi(t+s) xi(t)^T> of the FFT recipe against the exact block covariance.

    200 realisations x 4096 steps; per-realisation estimates give the standard
    error; pass within 4 standard errors at every lag and element.  The exact
    block covariance (a Riemann sum) is itself compared with the continuous
    integral  int dw/2pi e^{-iws} S(w)  to 1e-3 of the zero-lag value.
    """
    t = two_mode_t_matrices()
    spec = wide_band_spectrum(t, **SPEC_KW)
    dt = 2.0
    gen = NoiseGenerator(spec, 2, dt, n_realizations=200, seed=7, block_length=4096)
    xi = gen.block(0)  # (N, R, M)
    lags = np.arange(0, 13, 2)
    per = np.array(
        [np.einsum("nra,nrb->rab", np.roll(xi, -lag, axis=0), xi) / xi.shape[0] for lag in lags]
    )  # (lags, R, M, M)
    mean = per.mean(axis=1)
    se = per.std(axis=1, ddof=1) / np.sqrt(per.shape[1])
    exact = gen.lag_covariance(lags)
    assert np.all(np.abs(mean - exact) < N_SIGMA * se)
    # the antisymmetric (lagged, bias-induced) part is resolved, not just noise
    anti = exact[:, 0, 1] - exact[:, 1, 0]
    assert np.max(np.abs(anti)) > 10 * np.max(np.hypot(se[:, 0, 1], se[:, 1, 0]))
    anti_emp = mean[:, 0, 1] - mean[:, 1, 0]
    assert np.sign(anti_emp[np.argmax(np.abs(anti))]) == np.sign(anti[np.argmax(np.abs(anti))])

    def integrand(w):
        s = spec([HBAR * w])[0]
        return np.real(np.exp(-1j * w * lags * dt)[:, None, None] * s[None]) / np.pi

    cont, _ = quad_vec(integrand, 0.0, 6 * 0.2 / HBAR, epsrel=1e-10)
    assert np.allclose(exact, cont, atol=1e-3 * np.abs(cont[0]).max())


def test_noise_is_reproducible_bit_for_bit():
    spec = wide_band_spectrum(two_mode_t_matrices(), **SPEC_KW)
    a = NoiseGenerator(spec, 2, 1.0, n_realizations=3, seed=11, block_length=256)
    b = NoiseGenerator(spec, 2, 1.0, n_realizations=3, seed=11, block_length=256)
    c = NoiseGenerator(spec, 2, 1.0, n_realizations=3, seed=12, block_length=256)
    assert np.array_equal(a.block(5), b.block(5))
    assert np.array_equal(a.at(300), b.block(1)[44])
    assert not np.array_equal(a.block(0), c.block(0))
    assert not np.array_equal(a.block(0), a.block(1))
    # realisation j does not depend on how many are generated together
    d = NoiseGenerator(spec, 2, 1.0, n_realizations=5, seed=11, block_length=256)
    assert np.array_equal(d.block(2)[:, :3], a.block(2))


def test_bad_spectra_are_rejected():
    def nonherm(hw):
        s = np.zeros((len(hw), 2, 2), complex)
        s[:, 0, 0] = s[:, 1, 1] = 1.0
        s[:, 0, 1] = 0.5
        return s

    def notpsd(hw):
        s = np.zeros((len(hw), 2, 2), complex)
        s[:, 0, 0] = 1.0
        s[:, 1, 1] = -0.5
        return s

    with pytest.raises(InputError, match="spectrum is not Hermitian"):
        NoiseGenerator(nonherm, 2, 1.0, block_length=16)
    with pytest.raises(InputError, match="positive semidefinite"):
        NoiseGenerator(notpsd, 2, 1.0, block_length=16)
    with pytest.raises(InputError, match="shape"):
        NoiseGenerator(lambda hw: np.ones((len(hw), 3, 3)), 2, 1.0, block_length=16)
    with pytest.raises(InputError, match="block_length"):
        NoiseGenerator(notpsd, 2, 1.0, block_length=15)
    with pytest.raises(InputError, match="seed"):
        NoiseGenerator(notpsd, 2, 1.0, seed=-1, block_length=16)
    with pytest.raises(InputError, match="t_matrices"):
        wide_band_spectrum(np.ones((2, 2)))


def test_tabulated_spectrum_interpolates_and_cuts_off():
    grid = np.array([0.0, 0.1, 0.2])
    vals = np.array([[[1.0]], [[3.0]], [[5.0]]])
    s = tabulated_spectrum(grid, vals)
    assert np.allclose(s([0.05, 0.15, 0.3])[:, 0, 0], [2.0, 4.0, 0.0])
    with pytest.raises(InputError, match="hbar_omega"):
        tabulated_spectrum(grid, vals, outside="error")([0.3])
    with pytest.raises(InputError, match="positive semidefinite"):
        tabulated_spectrum(grid, -vals)
