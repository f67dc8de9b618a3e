"""ASE adaptor: CurrentInducedLangevin."""

from __future__ import annotations

import numpy as np
import pytest

ase = pytest.importorskip("ase")
from ase import Atoms, units  # noqa: E402
from ase.calculators.calculator import Calculator, all_changes  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from ase.io import read  # noqa: E402
from ase.md.verlet import VelocityVerlet  # noqa: E402

from currentforces.dynamics import LangevinDynamics, wide_band_spectrum  # noqa: E402
from currentforces.dynamics.ase_md import CurrentInducedLangevin  # noqa: E402
from currentforces.errors import InputError  # noqa: E402
from currentforces.units import AMU, HBAR  # noqa: E402


class Harmonic(Calculator):
    """F = -k (r - r0) on every atom (isotropic springs to fixed sites)."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, k, r0):
        super().__init__()
        self.k, self.r0 = k, np.asarray(r0, dtype=float)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        d = self.atoms.get_positions() - self.r0
        self.results = {"energy": 0.5 * self.k * np.sum(d * d), "forces": -self.k * d}


def cu_trimer():
    atoms = Atoms("Cu3", positions=[[0, 0, 0], [2.6, 0, 0], [1.2, 2.1, 0.3]])
    atoms.calc = EMT()
    atoms.set_velocities(np.array([[0.01, 0, 0], [0, -0.01, 0], [0, 0, 0.005]]))
    return atoms


def test_without_current_it_is_velocity_verlet():
    """K = L = 0, no noise: identical (to round-off) to ASE's VelocityVerlet on EMT."""
    a, b = cu_trimer(), cu_trimer()
    VelocityVerlet(a, timestep=1.0 * units.fs).run(200)
    CurrentInducedLangevin(b, 1.0 * units.fs).run(200)
    assert np.allclose(a.get_positions(), b.get_positions(), atol=1e-10, rtol=0)
    assert np.allclose(a.get_velocities(), b.get_velocities(), atol=1e-10, rtol=0)


def test_matches_core_integrator_with_friction_berry_nc_and_noise():
    """One atom in a harmonic trap (the 'bare' calculator) with matrix K, L and 3-mode noise
    follows the trajectory of LangevinDynamics with the same seed.

    The adaptor steps in ASE units (ASE's CODATA 2014 amu/time unit) and the
    core in currentforces.units (CODATA 2018): the two unit systems differ at
    ~4e-9 relative (1.5e-7 accumulated after 500 steps), hence the 1e-6
    relative tolerance (an error in any term,
    e.g. a transposed L, would show at order 1).
    """
    m = float(Atoms("Cu").get_masses()[0])
    mm = m * AMU
    w0 = 0.02 / HBAR
    kb = mm * w0**2
    k = mm * w0**2 * np.array([[0.1, 0.05, 0], [-0.05, 0.1, 0], [0, 0, 0]])
    l = -mm * 0.02 * w0 * np.array([[1.0, 0.4, 0], [-0.4, 1.0, 0], [0, 0, 0.5]])
    t = np.zeros((2, 2, 3, 3))
    t[:, :] = np.diag([0.5, 0.4, 0.2])
    spec = wide_band_spectrum(t, bias=0.1, temperature=300.0, cutoff=0.3)
    dt = 1.0
    atoms = Atoms("Cu", positions=[[0.0, 0.0, 0.0]])
    atoms.calc = Harmonic(kb, atoms.get_positions())
    x0 = np.array([0.05, -0.02, 0.01])
    atoms.set_positions([x0])
    md = CurrentInducedLangevin(
        atoms, dt * units.fs, K=k, L=l, spectrum=spec, seed=9, noise_block=1024, reference_positions=[[0.0, 0.0, 0.0]]
    )
    md.run(500)
    core = LangevinDynamics([m] * 3, kb * np.eye(3), dt, K=k, L=l, spectrum=spec, seed=9, noise_block=1024)
    core.set_state(positions=x0)
    core.run(500, record_every=500)
    scale_x, scale_v = np.abs(core.positions).max(), np.abs(core.velocities).max()
    assert np.allclose(atoms.get_positions()[0], core.positions[0], rtol=0, atol=1e-6 * scale_x)
    assert np.allclose(atoms.get_velocities()[0] * units.fs, core.velocities[0], rtol=0, atol=1e-6 * scale_v)
    assert np.abs(core.positions[0] - x0).max() > 0.1 * scale_x  # it actually moved


def test_phonon_bath_matches_the_core_integrator():
    """The same phonon bath (friction on x and z, quantum noise) in the
    adaptor and in LangevinDynamics, on top of the electronic friction and
    noise: the same trajectory (1e-6 relative: the CODATA 2014/2018 unit
    systems, as above).  Without the bath the adaptor's path differs at
    order 1 (the check sees the bath)."""
    from currentforces.dynamics import PhononBath

    m = float(Atoms("Cu").get_masses()[0])
    w0 = 0.02 / HBAR
    kb = m * AMU * w0**2
    l = -m * AMU * 0.01 * w0 * np.eye(3)
    t = np.zeros((2, 2, 3, 3))
    t[:, :] = np.diag([0.5, 0.4, 0.2])
    spec = wide_band_spectrum(t, bias=0.1, temperature=300.0, cutoff=0.3)
    bath = PhononBath([0, 2], [0.02, 0.01], 100.0, cutoff=0.05)
    x0 = np.array([0.05, -0.02, 0.01])
    runs = []
    for b in (bath, None):
        atoms = Atoms("Cu", positions=[x0])
        atoms.calc = Harmonic(kb, [[0.0, 0.0, 0.0]])
        CurrentInducedLangevin(
            atoms,
            1.0 * units.fs,
            L=l,
            spectrum=spec,
            seed=9,
            noise_block=1024,
            reference_positions=[[0.0, 0.0, 0.0]],
            bath=b,
        ).run(500)
        runs.append(atoms)
    core = LangevinDynamics([m] * 3, kb * np.eye(3), 1.0, L=l, spectrum=spec, seed=9, noise_block=1024, bath=bath)
    core.set_state(positions=x0)
    core.run(500, record_every=500)
    scale_x, scale_v = np.abs(core.positions).max(), np.abs(core.velocities).max()
    assert np.allclose(runs[0].get_positions()[0], core.positions[0], rtol=0, atol=1e-6 * scale_x)
    assert np.allclose(runs[0].get_velocities()[0] * units.fs, core.velocities[0], rtol=0, atol=1e-6 * scale_v)
    assert np.abs(runs[1].get_positions()[0] - core.positions[0]).max() > 0.05 * scale_x
    with pytest.raises(InputError, match="reach beyond"):
        CurrentInducedLangevin(Atoms("Cu"), 1.0, bath=PhononBath([3], 0.01, 300.0, cutoff=0.1))


def test_trajectory_logfile_and_attach(tmp_path):
    atoms = cu_trimer()
    seen = []
    t = np.zeros((2, 2, 3, 3))
    t[:, :] = 0.3 * np.eye(3)
    md = CurrentInducedLangevin(
        atoms,
        2.0 * units.fs,
        L=-np.eye(3) * 0.5,
        indices=[1],
        spectrum=wide_band_spectrum(t, cutoff=0.5),
        seed=1,
        noise_block=256,
        trajectory=str(tmp_path / "md.traj"),
        logfile=str(tmp_path / "md.log"),
        loginterval=5,
    )
    md.attach(lambda: seen.append(atoms.get_potential_energy()), interval=10)
    md.run(30)
    assert len(read(tmp_path / "md.traj", ":")) == 7
    assert len((tmp_path / "md.log").read_text().splitlines()) == 8
    assert len(seen) == 4


def test_bad_input():
    atoms = cu_trimer()
    with pytest.raises(InputError, match="K must have shape"):
        CurrentInducedLangevin(atoms, 1.0, K=np.eye(4))
    with pytest.raises(InputError, match="indices"):
        CurrentInducedLangevin(atoms, 1.0, indices=[5])
    with pytest.raises(InputError, match="timestep"):
        CurrentInducedLangevin(atoms, -1.0)
