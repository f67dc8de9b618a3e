"""Mean-force (Ehrenfest-like) dynamics with hot electrons only loses energy (seed section V)."""

from __future__ import annotations

import numpy as np

from currentforces.dynamics import LangevinDynamics, MeanForceDynamics, wide_band_spectrum
from currentforces.units import AMU, HBAR, KB

from _dyn_models import N_SIGMA, single_level_mode


def test_hot_electrons_cool_the_oscillator_without_noise_and_heat_it_with_noise():
    """Equilibrium electrons at T_e = 3000 K, no bias: K^asym = L^asym = 0.

    Mean-force dynamics keeps only the conservative force and the friction, so
    dE/dt = -eta V^2 <= 0: the ensemble-mean energy (64 random phases, sampled
    every half period) decreases monotonically and follows E0 exp(-eta t/M)
    within 2% (weak damping eta/(M w0) = 0.05).  With the matching noise the
    same oscillator instead heats up towards hbar w0 (1/2 + n_B(T_e)) (seed
    eq. 69): after 2 relaxation times the mean energy of 512 noisy realisations
    exceeds E0 by > 10 standard errors and matches the relaxation
    E_hot + (E0 - E_hot) exp(-eta t/M) within 4 standard errors + 2%.
    """
    hw0, t_e = 0.05, 3000.0
    mass, k, eta, t = single_level_mode(hw0)
    mm = mass * AMU
    w0 = hw0 / HBAR
    gamma = eta / mm
    r = 64
    rng = np.random.default_rng(4)
    phase = rng.uniform(0, 2 * np.pi, r)
    e0 = hw0 * (0.5 + 1 / np.expm1(hw0 / (KB * 300.0)))  # start at room temperature
    amp = np.sqrt(2 * e0 / k)
    x0, v0 = amp * np.cos(phase), -amp * w0 * np.sin(phase)
    dt = 0.5
    half_period = int(round(np.pi / w0 / dt))
    n = int(2.0 / gamma / dt)

    mf = MeanForceDynamics([mass], [[k]], dt, L=[[-eta]], n_realizations=r)
    mf.set_state(positions=x0[:, None], velocities=v0[:, None])
    tr = mf.run(n, record_every=half_period)
    e_mf = tr.energy().mean(axis=1)
    assert np.all(np.diff(e_mf) < 0)
    assert np.allclose(e_mf, e0 * np.exp(-gamma * tr.time), rtol=0.02)

    spec = wide_band_spectrum(t, temperature=t_e, spin=1, cutoff=10 * hw0)
    rl = 512
    lv = LangevinDynamics([mass], [[k]], dt, L=[[-eta]], spectrum=spec, n_realizations=rl, seed=8, noise_block=8192)
    lv.set_state(positions=np.resize(x0, rl)[:, None], velocities=np.resize(v0, rl)[:, None])
    tr = lv.run(n, record_every=half_period)
    e_end = tr.energy()[-1]
    e_hot = hw0 * (0.5 + 1 / np.expm1(hw0 / (KB * t_e)))
    expected = e_hot + (e0 - e_hot) * np.exp(-gamma * tr.time[-1])  # relaxation of the mean
    se = e_end.std(ddof=1) / np.sqrt(rl)
    assert e_end.mean() > e0 + 10 * se
    assert abs(e_end.mean() - expected) < N_SIGMA * se + 0.02 * expected
