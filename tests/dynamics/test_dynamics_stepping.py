"""The shared B A O A B step, ASE-style observers and the irun generator."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from currentforces.dynamics import LangevinDynamics, MeanForceDynamics, wide_band_spectrum
from currentforces.dynamics.splitting import baoab_step, velocity_propagator
from currentforces.errors import InputError
from currentforces.units import AMU, HBAR

W0 = 0.05 / HBAR


def noisy_system(**kw):
    """Two coupled modes with friction, Berry force, NC force and coloured noise."""
    m, mm = 12.0, 12.0 * AMU
    t = np.zeros((2, 2, 2, 2))
    t[:, :, 0, 0] = t[:, :, 1, 1] = 0.3
    spec = wide_band_spectrum(t, bias=0.2, temperature=100.0, spin=2, cutoff=0.5)
    k = mm * W0**2 * np.array([[1.0, 0.02], [-0.02, 1.1]])
    l = -mm * 0.02 * W0 * np.array([[1.0, 0.3], [-0.3, 1.0]])
    args = dict(K=k, L=l, spectrum=spec, n_realizations=3, seed=42, noise_block=512)
    args.update(kw)
    return LangevinDynamics([m, m], np.zeros((2, 2)), 0.5, **args)


# ---------------------------------------------------------------------------
# the step itself
# ---------------------------------------------------------------------------
def test_o_step_is_the_exact_velocity_flow():
    """No position-dependent force (a = 0): v' = M^-1 L v has the exact solution
    v(t) = exp(t M^-1 L) v(0), which N steps must reproduce (the O-step is exact),
    and x must advance by the trapezoid rule of that velocity."""
    rng = np.random.default_rng(0)
    masses = np.array([1.5, 4.0, 2.5])
    lm = rng.normal(size=(3, 3))  # any real matrix: friction + Berry force
    dt, n = 0.1, 50
    p = velocity_propagator(masses, lm, dt)
    x, v = np.zeros(3), rng.normal(size=3)
    zero = np.zeros(3)
    xs, vs = [x], [v]
    for _ in range(n):
        x, v, _ = baoab_step(x, v, zero, lambda y: zero, dt, p)
        xs.append(x)
        vs.append(v)
    exact = scipy.linalg.expm(n * dt * lm / masses[:, None]) @ vs[0]
    assert np.allclose(v, exact, rtol=1e-12, atol=1e-14)
    trapezoid = sum(0.5 * dt * (a + b) for a, b in zip(vs[:-1], vs[1:]))
    assert np.allclose(x, trapezoid, rtol=1e-12, atol=1e-14)


def test_o_step_acts_on_the_given_dofs_only():
    """With ``dofs`` the propagator acts on v[..., dofs]; the other velocities only
    feel the kicks (here none), as for atoms outside ``indices`` in the ASE adaptor."""
    p = velocity_propagator([2.0], [[-1.0]], 0.5)  # exp(-0.25)
    x, v = np.zeros((2, 3)), np.ones((2, 3))
    zero = np.zeros((2, 3))
    _, v1, _ = baoab_step(x, v, zero, lambda y: zero, 0.5, p, dofs=np.array([1]))
    assert np.allclose(v1[:, 1], np.exp(-0.25), rtol=1e-14)
    assert np.all(v1[:, [0, 2]] == 1.0)
    assert np.all(v == 1.0)  # the inputs are not modified


def test_langevin_and_ase_adaptor_share_the_step():
    pytest.importorskip("ase")
    from currentforces.dynamics import ase_md, langevin, splitting

    assert langevin.baoab_step is splitting.baoab_step is ase_md.baoab_step


# ---------------------------------------------------------------------------
# irun and attach (ASE's MolecularDynamics pattern)
# ---------------------------------------------------------------------------
def test_irun_steps_exactly_as_run():
    """run() is irun() with a frame recorder attached: the same trajectory, bit for bit."""
    ref = noisy_system().run(300)
    dyn = noisy_system()
    xs, steps = [], []
    for step in dyn.irun(300):
        steps.append(step)
        xs.append(dyn.positions.copy())
    assert steps == list(range(1, 301)) and dyn.step == 300
    assert np.array_equal(np.array(xs), ref.positions)
    assert np.array_equal(dyn.velocities, ref.velocities[-1])


def test_attached_observers_follow_the_global_step():
    """interval > 0: every multiple of interval of the global step, across runs;
    interval <= 0: once, at step |interval| (ASE's convention); an object with a
    ``write`` method is called through it (as ASE does for trajectories)."""
    dyn = noisy_system()
    every3, once, written = [], [], []

    class Writer:
        def write(self, tag):
            written.append((tag, dyn.step))

    dyn.attach(lambda: every3.append(dyn.step), interval=3)
    dyn.attach(once.append, -4, "at 4")
    dyn.attach(Writer(), 5, "w")
    dyn.run(5)
    for _ in dyn.irun(5):
        pass
    assert every3 == [3, 6, 9]
    assert once == ["at 4"]
    assert written == [("w", 5), ("w", 10)]
    with pytest.raises(InputError, match="interval"):
        dyn.attach(print, interval=1.5)


def test_run_keywords_observe_before_attached_observers(tmp_path):
    """The run() keywords attach their observers for that run only: a checkpoint
    written at a step is visible to an attached observer at the same step."""
    ckpt = tmp_path / "c.npz"
    dyn = noisy_system()
    seen = []
    dyn.attach(lambda: seen.append(ckpt.exists()), interval=10)
    dyn.run(20, record_every=10, checkpoint=ckpt, checkpoint_every=10)
    assert seen == [True, True]
    tr = dyn.run(20, record_every=10)  # no checkpoint observer any more
    assert list(tr.time) == [15.0, 20.0]  # steps 30, 40 at dt = 0.5 fs
    assert len(dyn.observers) == 1


def test_state_set_between_steps_is_used():
    """set_state between two yields restarts from the new state: X = V = 0 is a
    fixed point of M X'' = -K X + L X' without F0 and noise, so the system stays there."""
    dyn = MeanForceDynamics([12.0, 12.0], 12.0 * AMU * W0**2 * np.eye(2), 0.5, L=-0.01 * 12.0 * AMU * W0 * np.eye(2))
    dyn.set_state(positions=[0.1, -0.05])
    for step in dyn.irun(10):
        if step == 4:
            dyn.set_state(positions=[0.0, 0.0], velocities=[0.0, 0.0])
    assert dyn.step == 10
    assert np.all(dyn.positions == 0.0) and np.all(dyn.velocities == 0.0)


def test_bad_step_counts_are_named(tmp_path):
    with pytest.raises(InputError, match="n_steps"):
        noisy_system().irun(-1)
    with pytest.raises(InputError, match="n_steps"):
        noisy_system().irun("many")
    with pytest.raises(InputError, match="checkpoint_every"):
        noisy_system().run(5, checkpoint=tmp_path / "c.npz", checkpoint_every=-2)
