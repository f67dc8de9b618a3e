"""Observables: orbit area and NC work, occupations, effective temperature, mode energies;
junction wrappers with a stand-in engine."""

from __future__ import annotations

import types

import numpy as np
import pytest

import currentforces.coupling
from currentforces.coupling import from_junction, spectrum_from_junction
from currentforces.dynamics import (
    effective_temperature,
    line_integral_work,
    mode_energies,
    nonconservative_work,
    normal_modes,
    occupation,
    signed_area,
    total_energy,
)
from currentforces.units import AMU, HBAR, KB


def test_signed_area_and_nc_work_on_an_ellipse():
    """x = (a cos t, b sin t): area = +pi a b (counter-clockwise); W = 2 K^asym_12 pi a b
    (docs/theory.rst eq-nc-work)."""
    a, b = 0.3, 0.1
    t = np.linspace(0, 2 * np.pi, 4001)[:-1]
    x = np.stack([a * np.cos(t), b * np.sin(t)], axis=-1)
    assert signed_area(x[:, 0], x[:, 1]) == pytest.approx(np.pi * a * b, rel=1e-6)
    assert signed_area(x[::-1, 0], x[::-1, 1]) == pytest.approx(-np.pi * a * b, rel=1e-6)
    k = np.array([[1.0, 0.7], [0.1, 2.0]])  # K^asym_12 = 0.3
    w = nonconservative_work(k, x, 0, 1)
    assert w == pytest.approx(2 * 0.3 * np.pi * a * b, rel=1e-6)
    closed = np.concatenate([x, x[:1]])
    kasym = 0.5 * (k - k.T)
    assert line_integral_work(-closed @ kasym.T, closed) == pytest.approx(w, rel=1e-6)
    # the symmetric part is conservative: no work around a closed orbit
    ksym = 0.5 * (k + k.T)
    assert abs(line_integral_work(-closed @ ksym.T, closed)) < 1e-12


@pytest.mark.parametrize("temperature", [30.0, 300.0, 3000.0])
def test_effective_temperature_inverts_bose_energy(temperature):
    """T_eff solves (hw/2) coth(hw/2kT) = E (docs/theory.rst eq-joule);
    n = E/hw - 1/2 = n_B."""
    hw = 0.04
    n_b = 1 / np.expm1(hw / (KB * temperature))
    e = hw * (0.5 + n_b)
    assert effective_temperature(e, hw) == pytest.approx(temperature, rel=1e-9)
    assert occupation(e, hw) == pytest.approx(n_b, rel=1e-9, abs=1e-300)
    assert effective_temperature(0.4 * hw, hw) == 0.0


def test_mode_energies_sum_to_total_and_separate_modes():
    rng = np.random.default_rng(0)
    masses = np.array([1.0, 12.0, 16.0])
    s = np.sqrt(masses * AMU)
    a = rng.normal(size=(3, 3))
    k = np.outer(s, s) * (a @ a.T + np.eye(3)) * 1e-3
    hw, e = normal_modes(masses, k)
    x, v = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)) * 1e-3
    em = mode_energies(x, v, masses, k)
    assert np.allclose(em.sum(axis=-1), total_energy(x, v, masses, k), rtol=1e-12)
    # displacement along one normal mode excites only that mode
    x1 = e[:, 1] / s
    em1 = mode_energies(x1, np.zeros(3), masses, k)
    assert np.allclose(em1, [0, 0.5 * (hw[1] / HBAR) ** 2, 0], atol=1e-12 * em1.max())


def fake_engine(monkeypatch):
    calls = {"coef": [], "noise": []}

    def force_coefficients(junction, forces, **kw):
        calls["coef"].append(kw)
        return types.SimpleNamespace(mean_force=np.array([0.1]), K=np.array([[2.0]]), L=np.array([[-0.5]]))

    def noise_spectrum(junction, forces, omega, **kw):
        calls["noise"].append((omega, kw))
        return np.array([[1.0 + omega]])

    monkeypatch.setattr(currentforces.coupling, "force_coefficients", force_coefficients)
    monkeypatch.setattr(currentforces.coupling, "noise_spectrum", noise_spectrum)
    return calls


def test_junction_wrappers_call_the_engine(monkeypatch):
    calls = fake_engine(monkeypatch)
    spec = spectrum_from_junction("J", "F", 0.2, n_omega=5, bias=0.1, temperature=50.0, spin=1)
    assert np.allclose(spec([0.05, 0.3])[:, 0, 0], [1.05, 0.0])  # interpolated; zero above cutoff
    assert [c[0] for c in calls["noise"]] == pytest.approx(np.linspace(0, 0.2, 5))
    assert calls["noise"][0][1] == dict(bias=0.1, temperature=50.0, fermi_level=0.0, spin=1)
    dyn = from_junction("J", "F", [1.0], [[1.0]], 1.0, bias=0.1, hbar_omega_max=0.2, n_omega=5, seed=0, noise_block=64)
    assert dyn.force_constants[0, 0] == 3.0 and dyn.L[0, 0] == -0.5
    assert dyn.mean_force[0] == 0.1 and dyn.noise is not None
    assert calls["coef"][-1]["bias"] == 0.1 and calls["coef"][-1]["hbar_omega"] == 0.0
