"""Mode-resolved results against independent routes: the effective
temperature of one mode from the ratio of its emission and absorption
rates, the runaway threshold from the eigenvalues of the dynamical matrix,
the per-mode friction and frequency shift from the exact eigenvalues of one
damped mode, and the NetCDF form."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from currentforces import Junction, WideBandLead, force_coefficients
from currentforces.mode_results import mode_resolved
from currentforces.models.chain import chain_force_operators, chain_junction
from currentforces.units import AMU, HBAR, KB

EPS0, GAMMA_L, GAMMA_R = 0.2, 0.1, 0.05  # eV: one level between wide-band leads
F1 = 0.5  # eV/A, its force operator
MASS = 2.0  # amu
HW = 0.05  # eV, bare mode energy


def _one_mode(mass=MASS):
    junction = Junction([[EPS0]], [WideBandLead([[GAMMA_L]]), WideBandLead([[GAMMA_R]])])
    kb = mass * AMU * (HW / HBAR) ** 2
    return junction, [np.array([[F1]])], [mass], [[kb]]


def _spectral(e, gamma_l):
    """A_l(E) = Gamma_l |G|^2 of the level (wide band: Sigma = -i Gamma/2)."""
    g = GAMMA_L + GAMMA_R
    return gamma_l / ((e - EPS0) ** 2 + (g / 2) ** 2)


def _rates(mus, w):
    """Emission and absorption rates of quanta w by the electrons at T = 0,
    up to the common factor |f|^2/(2 pi hbar) (Fermi's golden rule):
    emission: an electron of lead l at E (occupied) goes to lead l' at E - w
    (empty); absorption: to E + w."""
    gammas = (GAMMA_L, GAMMA_R)
    em = ab = 0.0
    for mu_l, g_l in zip(mus, gammas):
        for mu_m, g_m in zip(mus, gammas):
            if mu_l > mu_m + w:
                em += quad(lambda e: _spectral(e, g_l) * _spectral(e - w, g_m), mu_m + w, mu_l, epsabs=0, epsrel=1e-12)[
                    0
                ]
            if mu_l > mu_m - w:
                ab += quad(lambda e: _spectral(e, g_l) * _spectral(e + w, g_m), mu_m - w, mu_l, epsabs=0, epsrel=1e-12)[
                    0
                ]
    return em, ab


def test_effective_temperature_of_one_mode_from_emission_and_absorption():
    junction, forces, masses, kb = _one_mode()
    ef, biases = 0.15, [0.0, 0.12, 0.3]
    res = mode_resolved(junction, forces, masses, kb, biases, temperature=0.0, fermi_level=ef, runaway=False)
    assert res.hbar_omega == pytest.approx([HW], rel=1e-12)
    # at equilibrium and T = 0 no quantum is emitted: T_eff = 0, occupation 0
    assert res.effective_temperature[0, 0] == 0.0
    assert abs(res.occupation[0, 0]) < 1e-8
    for i, v in enumerate(biases[1:], start=1):
        em, ab = _rates([ef + v / 2, ef - v / 2], HW)
        # detailed balance of the two rates: (n + 1)/n = ab/em, so
        # exp(hbar w/k T_eff) = ab/em and n = em/(ab - em)
        t_closed = HW / (KB * math.log(ab / em))
        # both routes integrate to rtol 1e-8 (library) and 1e-12 (here)
        assert res.effective_temperature[i, 0] == pytest.approx(t_closed, rel=1e-6)
        assert res.occupation[i, 0] == pytest.approx(em / (ab - em), rel=1e-6)
        assert res.joule_power[i, 0] > 0  # the current heats the mode above T = 0


def test_friction_and_frequency_shift_of_one_mode_against_its_exact_eigenvalue():
    """One mode: M x'' = -(k + K) x + L x' has lambda = L/2M +- i sqrt((k + K)/M - (L/2M)^2),
    so -2 Re lambda is the energy damping rate gamma exactly and
    hbar Im lambda - hbar w = first-order shift + O(K^2, L^2) (a heavy
    atom, 400 amu, keeps K/k^b and gamma/omega small)."""
    mass = 400.0
    junction, forces, masses, kb = _one_mode(mass)
    res = mode_resolved(
        junction, forces, masses, kb, [0.1], temperature=300.0, fermi_level=0.15, heating=False, runaway=False
    )
    c = force_coefficients(junction, forces, bias=0.1, temperature=300.0, fermi_level=0.15)
    m = mass * AMU
    k, lm = kb[0][0] + c.K_current[0, 0], c.L[0, 0]
    lam = lm / (2 * m) + 1j * math.sqrt(k / m - (lm / (2 * m)) ** 2)
    assert res.friction[0, 0] == pytest.approx(-2 * lam.real, rel=1e-12)
    exact_shift = HBAR * lam.imag - HW
    second_order = HW * ((c.K_current[0, 0] / kb[0][0]) ** 2 + (lm / (2 * m * HW / HBAR)) ** 2)
    assert abs(exact_shift) > 10 * second_order  # the shift is first order here
    assert abs(res.frequency_shift[0, 0] - exact_shift) < second_order


def test_runaway_threshold_is_where_an_eigenvalue_crosses():
    # the two-atom waterwheel of tests/dynamics/test_dynamics_negf.py: both
    # modes at hbar w = 10 meV at zero bias (k_part="current": K^b = M w^2 is
    # the zero-bias dynamical matrix), threshold near hbar w/|sin 2k_F| = 10 mV
    t, beta, n, mass, w = 1.0, 0.2, 10, 10.0, 0.01
    ef = -math.sqrt(2) * t
    j = chain_junction(n, t)
    f = chain_force_operators(n, beta, atoms=[4, 5])
    kb = mass * AMU * (w / HBAR) ** 2 * np.eye(2)
    tol = 1e-5
    res = mode_resolved(
        j, f, [mass, mass], kb, [0.0, 0.05], temperature=0.0, fermi_level=ef, heating=False, tolerance=tol, n_scan=11
    )
    vr = res.runaway_bias
    assert res.runaway.character == "waterwheel"
    assert abs(vr - w) < 0.02 * w

    def max_growth(v):
        # independent: the companion matrix of M x'' = -(K^b + K) x + L x' at bias v, eigenvalues by numpy
        c = force_coefficients(j, f, bias=v, temperature=0.0, fermi_level=ef)
        minv = 1.0 / (mass * AMU)
        a = np.block([[np.zeros((2, 2)), np.eye(2)], [-(kb + c.K_current) * minv, c.L * minv]])
        return np.linalg.eigvals(a).real.max()

    assert max_growth(vr - tol) < 0 < max_growth(vr + tol)
    # the eigenvector of the growing mode solves (M lambda^2 - L lambda + K^b + K) x = 0
    lam = res.runaway.modes.eigenvalues[0]
    c = force_coefficients(j, f, bias=res.runaway.bracket[1], temperature=0.0, fermi_level=ef)
    x = res.runaway_vector
    residual = (mass * AMU * lam**2 * np.eye(2) - c.L * lam + kb + c.K_current) @ x
    assert np.linalg.norm(residual) < 1e-9 * np.linalg.norm(kb) * np.linalg.norm(x)


def test_netcdf_form_round_trips(tmp_path):
    xr = pytest.importorskip("xarray")
    junction, forces, masses, kb = _one_mode()
    res = mode_resolved(junction, forces, masses, kb, [0.0, 0.2], temperature=10.0, fermi_level=0.15, labels=["X1 z"])
    path = tmp_path / "modes.nc"
    res.write_netcdf(path)
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    # expected: the arrays of the result object, bit for bit (NetCDF stores doubles)
    assert np.array_equal(ds["effective_temperature"].values, res.effective_temperature)
    assert np.array_equal(ds["mode_vectors"].values, res.vectors)
    assert np.array_equal(ds["masses"].values, res.masses)
    assert ds["friction"].attrs["units"] == "1/fs"
    assert list(ds["coordinate_label"].values) == ["X1 z"]
    assert np.isnan(float(ds["runaway_bias"]))  # a single damped level never runs away


def test_bad_input_is_named():
    from currentforces import InputError

    junction, forces, masses, kb = _one_mode()
    with pytest.raises(InputError, match="bare_force_constants"):
        mode_resolved(junction, forces, masses, np.eye(2), [0.0])
    with pytest.raises(InputError, match="k_part"):
        mode_resolved(junction, forces, masses, kb, [0.0], k_part="half")
    with pytest.raises(InputError, match="biases"):
        mode_resolved(junction, forces, masses, kb, [])
    with pytest.raises(InputError, match="forces"):
        mode_resolved(junction, forces * 2, masses, kb, [0.0])
    with pytest.raises(InputError, match="labels"):
        mode_resolved(junction, forces, masses, kb, [0.0], labels=["a", "b"])
