"""currentforces.coupling builds dynamics from a junction; the old names in
currentforces.dynamics are deprecated aliases that still work."""

from __future__ import annotations

import types

import numpy as np
import pytest

import currentforces.coupling
from currentforces import dynamics
from currentforces.dynamics import LangevinDynamics, MeanForceDynamics
from currentforces.dynamics.modes import coefficients_from_junction as modes_alias
from currentforces.dynamics.noise_generation import spectrum_from_junction as noise_alias
from currentforces.errors import InputError


@pytest.fixture
def engine(monkeypatch):
    """A stand-in for the electronic engine with known numbers (F0 = 0.1 eV/A,
    K = 2 eV/A^2, L = -0.5 eV fs/A^2, S(w) = 1 + w), recording its calls."""
    calls = {"coef": [], "noise": []}

    def force_coefficients(junction, forces, **kw):
        calls["coef"].append(kw)
        return types.SimpleNamespace(mean_force=np.array([0.1]), K=np.array([[2.0]]), L=np.array([[-0.5]]))

    def noise_spectrum(junction, forces, omega, **kw):
        calls["noise"].append(omega)
        return np.array([[1.0 + omega]])

    monkeypatch.setattr(currentforces.coupling, "force_coefficients", force_coefficients)
    monkeypatch.setattr(currentforces.coupling, "fermi_sea_part", lambda junction, forces, **kw: None)
    monkeypatch.setattr(currentforces.coupling, "noise_spectrum", noise_spectrum)
    return calls


def test_deprecated_aliases_warn_and_forward(engine):
    for alias in (dynamics.coefficients_from_junction, modes_alias):
        with pytest.warns(DeprecationWarning, match="currentforces.coupling.coefficients_from_junction"):
            k, l = alias("J", "F", temperature=10.0)(0.25)
        assert k[0, 0] == 2.0 and l[0, 0] == -0.5
    for alias in (dynamics.spectrum_from_junction, noise_alias):
        with pytest.warns(DeprecationWarning, match="currentforces.coupling.spectrum_from_junction"):
            spec = alias("J", "F", 0.2, n_omega=3)
        assert np.allclose(spec([0.1])[:, 0, 0], 1.1)  # interpolated between 0.1 and 0.2 nodes
    with pytest.warns(DeprecationWarning, match="LangevinDynamics.from_junction"):
        dyn = LangevinDynamics.from_junction(
            "J", "F", [1.0], [[1.0]], 1.0, hbar_omega_max=0.2, n_omega=3, seed=0, noise_block=64
        )
    assert type(dyn) is LangevinDynamics
    assert dyn.force_constants[0, 0] == 3.0 and dyn.noise is not None


def test_mean_force_dynamics_from_junction(engine):
    """Regression: MeanForceDynamics.from_junction passed spectrum=None to a
    constructor without that argument (TypeError).  Without noise no spectrum
    is evaluated or passed."""
    with pytest.warns(DeprecationWarning):
        dyn = MeanForceDynamics.from_junction("J", "F", [1.0], [[1.0]], 1.0, noise=False)
    assert type(dyn) is MeanForceDynamics and dyn.noise is None
    assert dyn.L[0, 0] == -0.5 and dyn.mean_force[0] == 0.1
    assert engine["noise"] == []
    dyn = currentforces.coupling.from_junction("J", "F", [1.0], [[1.0]], 1.0, noise=False, dynamics=MeanForceDynamics)
    assert type(dyn) is MeanForceDynamics


def test_bad_arguments_fail_before_the_engine_runs(engine):
    with pytest.raises(InputError, match="timestep"):
        currentforces.coupling.from_junction("J", "F", [1.0], [[1.0]], -1.0)
    with pytest.raises(InputError, match="hbar_omega_max"):
        currentforces.coupling.from_junction("J", "F", [1.0], [[1.0]], 1.0, hbar_omega_max=0.0)
    with pytest.raises(InputError, match="temperature"):
        currentforces.coupling.coefficients_from_junction("J", "F", temperature=-1.0)
    assert engine == {"coef": [], "noise": []}
