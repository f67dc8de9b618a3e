"""Deterministic properties of the Langevin / mean-force integrator."""

from __future__ import annotations

import numpy as np
import pytest

from currentforces.dynamics import LangevinDynamics, MeanForceDynamics, Trajectory, stability_limit, wide_band_spectrum
from currentforces.errors import InputError
from currentforces.units import AMU, HBAR

W0 = 0.05 / HBAR


def test_verlet_shadow_energy_is_conserved():
    """No friction, no current: the splitting is velocity Verlet.

    For x'' = -w^2 x it conserves exactly H~ = v^2/2 + w^2 x^2 (1 - h^2)/2,
    h = w dt/2, and the true energy E stays in [H~, H~/(1 - h^2)]: no drift.
    """
    m, dt = 12.0, 1.0
    mm = m * AMU
    dyn = MeanForceDynamics([m], [[mm * W0**2]], dt)
    dyn.set_state(positions=[0.1], velocities=[0.0])
    tr = dyn.run(100000, record_every=7)
    x, v = tr.positions[:, 0, 0], tr.velocities[:, 0, 0]
    h2 = (W0 * dt / 2) ** 2
    shadow = 0.5 * v**2 + 0.5 * W0**2 * x**2 * (1 - h2)
    assert np.ptp(shadow) < 1e-11 * shadow[0]
    e = tr.energy()[:, 0] / mm
    assert np.all(e >= shadow * (1 - 1e-12)) and np.all(e <= shadow / (1 - h2) * (1 + 1e-12))


def test_multimode_energy_has_no_drift():
    """Symmetric springs, no L, no noise: relative energy error bounded by (w_max dt)^2/4, no drift."""
    rng = np.random.default_rng(2)
    masses = rng.uniform(1, 30, 4)
    s = np.sqrt(masses * AMU)
    a = rng.normal(size=(4, 4))
    k = np.outer(s, s) * (a @ a.T / 4 + np.eye(4)) * W0**2
    dt = 0.3 * stability_limit(masses, k)
    dyn = MeanForceDynamics(masses, k, dt)
    dyn.set_state(positions=rng.normal(size=4) * 0.05, velocities=np.zeros(4))
    tr = dyn.run(50000, record_every=10)
    e = tr.energy()[:, 0]
    wmax_dt = 2 * 0.3
    assert np.max(np.abs(e / e[0] - 1)) < wmax_dt**2 / 4 / (1 - wmax_dt**2 / 4)
    assert abs(e[:500].mean() / e[-500:].mean() - 1) < 1e-3


def test_berry_only_rotation_is_exact_for_large_steps():
    """Pure L^asym (Berry force) does no work: O-step exp(dt M^-1 L) keeps |V| exactly."""
    m = 5.0
    mm = m * AMU
    b = 0.5 * mm * W0
    dyn = MeanForceDynamics([m, m], np.zeros((2, 2)), 50.0, L=[[0, b], [-b, 0]])
    dyn.set_state(velocities=[0.01, 0.0])
    tr = dyn.run(200)
    speed = np.hypot(tr.velocities[:, 0, 0], tr.velocities[:, 0, 1])
    assert np.allclose(speed, 0.01, rtol=1e-12)
    # Lorentz-like circular motion: V rotates at rate b/M
    assert np.allclose(
        tr.velocities[-1, 0], 0.01 * np.array([np.cos(200 * 50 * b / mm), -np.sin(200 * 50 * b / mm)]), atol=1e-10
    )


def small_noisy_system(**kw):
    m, mm = 12.0, 12.0 * AMU
    t = np.full((2, 2, 2, 2), 0.0)
    t[:, :, 0, 0] = t[:, :, 1, 1] = 0.3
    spec = wide_band_spectrum(t, bias=0.2, temperature=100.0, spin=2, cutoff=0.5)
    k = mm * W0**2 * np.array([[1.0, 0.02], [-0.02, 1.1]])
    l = -mm * 0.02 * W0 * np.array([[1.0, 0.3], [-0.3, 1.0]])
    args = dict(K=k, L=l, spectrum=spec, n_realizations=3, seed=42, noise_block=512)
    args.update(kw)
    return LangevinDynamics([m, m], np.zeros((2, 2)), 0.5, **args)


def test_fixed_seed_reproduces_bit_for_bit():
    a, b, c = small_noisy_system(), small_noisy_system(), small_noisy_system(seed=43)
    ta, tb, tc = a.run(1500), b.run(1500), c.run(1500)
    assert np.array_equal(ta.positions, tb.positions)
    assert np.array_equal(ta.velocities, tb.velocities)
    assert not np.array_equal(ta.positions, tc.positions)


def test_checkpoint_resume_is_identical(tmp_path):
    ckpt = tmp_path / "run.npz"
    full = small_noisy_system().run(1300, record_every=10)
    first = small_noisy_system()
    p1 = first.run(700, record_every=10, checkpoint=ckpt, checkpoint_every=100)
    resumed = small_noisy_system().load_checkpoint(ckpt)
    assert resumed.step == 700
    p2 = resumed.run(600, record_every=10)
    assert np.array_equal(np.concatenate([p1.positions, p2.positions]), full.positions)
    assert np.array_equal(np.concatenate([p1.velocities, p2.velocities]), full.velocities)
    assert np.array_equal(np.concatenate([p1.time, p2.time]), full.time)
    with pytest.raises(InputError, match="different parameters"):
        small_noisy_system(seed=1).load_checkpoint(ckpt)


def test_progress_bar_runs(capsys):
    pytest.importorskip("tqdm")  # optional (the cli extra)
    dyn = small_noisy_system()
    tr = dyn.run(50, progress=True)
    assert tr.positions.shape == (50, 3, 2)


def test_netcdf_round_trip(tmp_path):
    pytest.importorskip("xarray")  # optional (the io extra)
    tr = small_noisy_system().run(100, record_every=5)
    path = tmp_path / "traj.nc"
    tr.write_netcdf(path)
    back = Trajectory.read_netcdf(path)
    assert np.array_equal(back.positions, tr.positions)
    assert np.array_equal(back.time, tr.time)
    assert np.array_equal(back.L, tr.L)
    assert [p.name for p in tmp_path.iterdir()] == ["traj.nc"]  # atomic write left no temp file


def test_bad_input():
    mm = AMU
    with pytest.raises(InputError, match="masses"):
        LangevinDynamics([0.0], [[1.0]], 1.0)
    with pytest.raises(InputError, match="masses"):
        LangevinDynamics([-1.0, 1.0], np.eye(2), 1.0)
    with pytest.raises(InputError, match="timestep .* stability limit"):
        LangevinDynamics([1.0], [[mm * W0**2]], 2.0 / W0 * 1.01)
    with pytest.raises(InputError, match="timestep"):
        LangevinDynamics([1.0], [[mm * W0**2]], -1.0)
    with pytest.raises(InputError, match="bare_force_constants"):
        LangevinDynamics([1.0, 1.0], np.eye(3), 1.0)
    with pytest.raises(InputError, match="K must have shape"):
        LangevinDynamics([1.0, 1.0], np.eye(2), 1.0, K=np.eye(3))
    with pytest.raises(InputError, match="mean_force"):
        LangevinDynamics([1.0, 1.0], np.eye(2), 1.0, mean_force=[1.0])
    with pytest.raises(InputError, match="not positive semidefinite"):
        LangevinDynamics([1.0], [[1.0]], 1.0, spectrum=lambda hw: -np.ones((len(hw), 1, 1)), noise_block=64)
    with pytest.raises(InputError, match="not Hermitian"):
        LangevinDynamics(
            [1.0, 1.0],
            np.eye(2),
            1.0,
            spectrum=lambda hw: np.tile([[1.0, 0.2], [0.0, 1.0]], (len(hw), 1, 1)),
            noise_block=64,
        )
    dyn = LangevinDynamics([1.0, 1.0], np.eye(2), 1.0)
    with pytest.raises(InputError, match="positions"):
        dyn.set_state(positions=np.zeros(3))
