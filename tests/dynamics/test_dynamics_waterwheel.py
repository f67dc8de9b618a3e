"""Waterwheel runaway: growth rate from the eigenvalues, circulation sense, energy balance."""

from __future__ import annotations

import numpy as np
import pytest

from currentforces.dynamics import (
    LangevinDynamics,
    MeanForceDynamics,
    analyze_modes,
    line_integral_work,
    nonconservative_work,
    signed_area,
    wide_band_spectrum,
)
from currentforces.units import AMU, HBAR

W0 = 0.05 / HBAR
M_AMU = 12.0
MM = M_AMU * AMU
ETA = 0.02 * W0  # damping rate eta/M
# mass-weighted K^asym_12: twice the threshold eta*w (docs/theory.rst theory-waterwheel)
KAPPA = 2.0 * ETA * W0


def waterwheel(sign=+1.0):
    k = MM * np.array([[W0**2, sign * KAPPA], [-sign * KAPPA, W0**2]])
    l = -MM * ETA * np.eye(2)
    return k, l


def fit_rate(t, e):
    return np.polyfit(t, np.log(e), 1)[0]


@pytest.mark.parametrize("sign", [+1.0, -1.0])
def test_mean_force_energy_grows_at_eigenvalue_rate_and_circulates(sign):
    """Degenerate pair with kappa = 2 eta w > eta w: runaway (docs/theory.rst
    eq-threshold-degenerate).

    Expected energy growth rate 2 max Re(lambda) from analyze_modes (here
    lambda^2 + eta lambda + w^2 +- i kappa = 0); measured as the slope of
    log E over the last 4 energy e-folds, agreement within 2%.  The orbit
    circulates counter-clockwise in (X1, X2) for K^asym_12 > 0 and clockwise
    for K^asym_12 < 0 (eq-nc-work: K^asym_ab > 0 makes a->b orbits gain energy).
    """
    k, l = waterwheel(sign)
    modes = analyze_modes([M_AMU, M_AMU], k, None, l)
    rate = 2 * modes.max_growth_rate
    assert rate > 0 and modes.leading_character == "waterwheel"
    dt = 0.5
    dyn = MeanForceDynamics([M_AMU, M_AMU], np.zeros((2, 2)), dt, K=k, L=l)
    dyn.set_state(positions=[0.01, 0.0], velocities=[0.0, 0.0])
    n = int(6.0 / rate / dt)
    tr = dyn.run(n, record_every=2)
    e = tr.energy()[:, 0]
    late = tr.time > tr.time[-1] - 4.0 / rate
    assert fit_rate(tr.time[late], e[late]) == pytest.approx(rate, rel=0.02)
    period = int(round(2 * np.pi / W0 / (2 * dt)))
    x = tr.positions[-period:, 0, :]
    assert np.sign(signed_area(x[:, 0], x[:, 1])) == sign


def test_energy_balance_per_cycle():
    """Over one cycle, Delta E = W_NC + W_friction, with W_NC = 2 K^asym_12 x area
    (docs/theory.rst eq-nc-work).

    W_NC from the shoelace area agrees with the trapezoid line integral of
    F_NC = -K^asym X within 1% (the growing spiral is cut at two crossings of
    the positive X1 axis, so closing it adds only a radial segment).
    """
    k, l = waterwheel()
    dt = 0.1
    dyn = MeanForceDynamics([M_AMU, M_AMU], np.zeros((2, 2)), dt, K=k, L=l)
    dyn.set_state(positions=[0.01, 0.0])
    tr = dyn.run(int(20 * 2 * np.pi / W0 / dt))
    x, v = tr.positions[:, 0, :], tr.velocities[:, 0, :]
    up = np.nonzero((x[:-1, 1] < 0) & (x[1:, 1] >= 0) & (x[1:, 0] > 0))[0] + 1
    i0, i1 = up[-2], up[-1]
    path = x[i0 : i1 + 1]
    kasym = 0.5 * (k - k.T)
    w_line = line_integral_work(-path @ kasym.T, path)
    w_area = nonconservative_work(k, path, 0, 1)
    assert w_area == pytest.approx(w_line, rel=0.01)
    lsym = 0.5 * (l + l.T)
    vv = v[i0 : i1 + 1]
    p_fric = np.einsum("ta,ab,tb->t", vv, lsym, vv)
    w_fric = np.sum(0.5 * (p_fric[1:] + p_fric[:-1])) * dt
    e = tr.energy()[:, 0]
    assert e[i1] - e[i0] == pytest.approx(w_line + w_fric, rel=0.01)
    # the same work as the time integral of the instantaneous NC power
    p_nc = tr.nonconservative_power()[i0 : i1 + 1, 0]
    assert np.sum(0.5 * (p_nc[1:] + p_nc[:-1])) * dt == pytest.approx(w_line, rel=0.01)
    assert w_line > -w_fric > 0  # NC pumping beats friction above threshold


def test_langevin_ensemble_energy_grows_at_eigenvalue_rate():
    """With the force noise on, <E>(t) still grows at 2 max Re(lambda) (within 3%).

    Noise: wide-band equilibrium spectrum at 300 K (its effect is additive and
    becomes negligible after a few e-folds); 64 realisations.
    """
    k, l = waterwheel()
    rate = 2 * analyze_modes([M_AMU, M_AMU], k, None, l).max_growth_rate
    t = np.zeros((2, 2, 2, 2))
    t[:, :, 0, 0] = t[:, :, 1, 1] = ETA * MM * np.pi / HBAR / 2  # eta = (hbar/4pi) 4 tau, g_s = 2
    spec = wide_band_spectrum(t, temperature=300.0, spin=2, cutoff=0.5)
    dt = 0.5
    dyn = LangevinDynamics(
        [M_AMU, M_AMU], np.zeros((2, 2)), dt, K=k, L=l, spectrum=spec, n_realizations=64, seed=3, noise_block=8192
    )
    n = int(8.0 / rate / dt)
    tr = dyn.run(n, record_every=4)
    e = tr.energy().mean(axis=1)
    late = tr.time > tr.time[-1] - 4.0 / rate
    assert fit_rate(tr.time[late], e[late]) == pytest.approx(rate, rel=0.03)
