"""Shared model builders and statistics helpers for the dynamics tests."""

from __future__ import annotations

import numpy as np

from currentforces.dynamics import LangevinDynamics, stationary_covariance, wide_band_spectrum
from currentforces.units import AMU, HBAR, KB

N_SIGMA = 4.0
"""Statistical tests pass within N_SIGMA standard errors (two-sided false
alarm probability 6e-5 for a Gaussian estimator; seeds are fixed, so the
outcome is deterministic)."""


def single_level_mode(hbar_omega0, mass_amu=12.0, damping_ratio=0.05):
    """One oscillator coupled to a symmetric single level between wide-band leads.

    Wide band, symmetric coupling: T_LL = T_RR = T_LR = T_RL = tau
    (A_l = Gamma_l |G|^2 with Gamma_L = Gamma_R), so Tr[fAfA] = 4 tau and
    T_LR/Tr[fAfA] = Gamma_L Gamma_R/Gamma^2 = 1/4 (docs/theory.rst
    theory-single-level).  tau is chosen so that the friction
    eta = (hbar/4 pi) Tr[fAfA] (spinless, eq-wide-band-noise) equals
    damping_ratio * M * omega0.

    Returns (mass_amu, K [eV/A^2], eta [eV fs/A^2], t_matrices (2,2,1,1)).
    """
    m = mass_amu * AMU
    w0 = hbar_omega0 / HBAR
    eta = damping_ratio * m * w0
    tau = eta * np.pi / HBAR
    return mass_amu, m * w0 * w0, eta, np.full((2, 2, 1, 1), tau)


def stationary_energy_run(
    hbar_omega0,
    temperature,
    bias,
    timestep,
    n_steps,
    *,
    n_realizations=512,
    seed=1,
    cutoff_ratio=10.0,
    damping_ratio=0.05,
):
    """Simulated and exact stationary <E> of a wide-band-coupled oscillator.

    The noise is the wide-band S(omega) of docs/theory.rst eq-wide-band-noise
    times the bandwidth factor exp(-(hbar omega/(cutoff_ratio hbar omega0))^2),
    which keeps <V^2> finite (the bandwidth cutoff of theory-langevin);
    friction is Markov.

    Returns dict with the ensemble mean energy, its standard error (from the
    spread of the R independent per-realisation time averages), the exact
    stationary value from the covariance integral eq-stationary-covariance for
    the same cut-off spectrum, and the closed form S(omega0)/(2 eta) of eq-joule.
    """
    mass, k, eta, t = single_level_mode(hbar_omega0, damping_ratio=damping_ratio)
    cutoff = cutoff_ratio * hbar_omega0
    spec = wide_band_spectrum(t, bias=bias, temperature=temperature, spin=1, cutoff=cutoff)
    xx, vv, _ = stationary_covariance([mass], [[k]], [[-eta]], spec, 6.0 * cutoff)
    m = mass * AMU
    e_exact = 0.5 * k * xx[0, 0] + 0.5 * m * vv[0, 0]
    dyn = LangevinDynamics([mass], [[k]], timestep, L=[[-eta]], spectrum=spec, n_realizations=n_realizations, seed=seed)
    rng = np.random.default_rng(seed + 1000)
    # start from a Gaussian state with the exact stationary variances
    dyn.set_state(
        positions=rng.normal(size=(n_realizations, 1)) * np.sqrt(xx[0, 0]),
        velocities=rng.normal(size=(n_realizations, 1)) * np.sqrt(vv[0, 0]),
    )
    w0 = hbar_omega0 / HBAR
    relax = int(3.0 / (damping_ratio * w0) / timestep)  # 3 energy relaxation times
    dyn.run(relax, record_every=relax)
    tr = dyn.run(n_steps, record_every=5)
    per_real = tr.energy().mean(axis=0)
    xsq = (tr.positions[..., 0] ** 2).mean(axis=0)
    vsq = (tr.velocities[..., 0] ** 2).mean(axis=0)
    r = n_realizations
    return {
        "mean": per_real.mean(),
        "se": per_real.std(ddof=1) / np.sqrt(r),
        "x2": xsq.mean(),
        "x2_se": xsq.std(ddof=1) / np.sqrt(r),
        "v2": vsq.mean(),
        "v2_se": vsq.std(ddof=1) / np.sqrt(r),
        "exact": e_exact,
        "closed": spec([hbar_omega0])[0, 0, 0].real / (2 * eta),
        "eta": eta,
        "t": t,
    }


def bose(x, kt):
    """n_B(x) = 1/(exp(x/kT) - 1)."""
    return 1.0 / np.expm1(x / kt)


def x_nbose(x, kt):
    """x n_B(x), with x n_B(x) -> -x for x < 0 as T -> 0 (n_B(x) -> -1 there)."""
    if kt == 0:
        return max(-x, 0.0)
    return x / np.expm1(x / kt)


def joule_occupation(hbar_omega0, bias, temperature, ratio):
    """Wide-band two-terminal n_ph, ratio = T_LR/Tr[fAfA] (T_LR = T_RL real).

    docs/theory.rst eq-joule, n = S(w0)/(2 eta hbar w0) - 1/2, with S and
    D = eta w0 of eq-wide-band-noise and x coth(x/2kT) = x + 2 x n_B(x):
    n = sum_lm T_lm x_lm n_B(x_lm)/(hbar w0 Tr[fAfA]), x_lm = hbar w0 - mu_l + mu_m,
    which is the expression below; eq-joule-wide-band at T = 0.
    """
    kt = KB * temperature
    s = sum(x_nbose(hbar_omega0 + sgn * bias, kt) - hbar_omega0 * bose(hbar_omega0, kt) for sgn in (+1, -1))
    return bose(hbar_omega0, kt) + ratio / hbar_omega0 * s


def two_mode_t_matrices(seed=1, scale=1e-2):
    """T_lm[a, b] = Tr[f_a A_l f_b A_m] for random Hermitian f and PSD A_l (wide band).

    T_LR is complex, so S has an antisymmetric imaginary off-diagonal part
    under bias (docs/theory.rst, eq-noise and the remark after it).
    """
    rng = np.random.default_rng(seed)
    n = 3

    def herm():
        a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        return (a + a.conj().T) / 2

    f = [herm(), herm()]
    vl = rng.normal(size=(n, 1)) + 1j * rng.normal(size=(n, 1))
    vr = rng.normal(size=(n, 2)) + 1j * rng.normal(size=(n, 2))
    a = [vl @ vl.conj().T, vr @ vr.conj().T]
    t = np.array(
        [
            [[[np.trace(f[al] @ a[l] @ f[be] @ a[m]) for be in range(2)] for al in range(2)] for m in range(2)]
            for l in range(2)
        ]
    )
    return scale * t
