"""The phonon bath (currentforces.dynamics.bath): its spectrum is the
equilibrium fluctuation-dissipation theorem of its friction; alone it
brings every normal mode to Bose-Einstein (quantum noise) or equipartition
(classical noise) at the bath temperature; the Langevin integrator and the
ASE adaptor carry it identically.

Statistics as in test_dynamics_langevin_statistics: N_SIGMA = 4 standard
errors of the ensemble mean, measured from the spread of R independent
realisations (each a time average); fixed seeds.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from currentforces.dynamics import (
    LangevinDynamics,
    PhononBath,
    combined_spectrum,
    stationary_covariance,
    wide_band_spectrum,
)
from currentforces.dynamics.observables import normal_modes
from currentforces.errors import InputError
from currentforces.units import AMU, HBAR, KB

from _dyn_models import N_SIGMA, bose

MASS = 12.0
"""amu, every atom of the test chain."""


def chain3(hbar_omega_mid=0.030):
    """Three atoms between two walls, nearest-neighbour springs k along one
    axis: modes sin(j pi n/4), hbar omega_j = hbar sqrt(2 (k/M)(1 - cos(j pi/4))),
    so hbar omega_2 = ``hbar_omega_mid`` (eV) and omega_1 : omega_2 : omega_3
    = 0.765 : 1 : 1.307.  The bath acts on the end atoms 0 and 2, where every
    mode has weight: gamma_k = gamma (e_k0^2 + e_k2^2) = gamma/2, gamma, gamma/2."""
    k = (hbar_omega_mid / HBAR) ** 2 * MASS * AMU / 2
    return np.full(3, MASS), k * np.array([[2.0, -1, 0], [-1, 2, -1], [0, -1, 2]])


def mode_energy(masses, force_constants, xx, vv):
    """Exact per-mode energy from the covariances <XX^T>, <VV^T>."""
    hw, e = normal_modes(masses, force_constants)
    sm = np.sqrt(np.asarray(masses) * AMU)
    qq = np.einsum("ak,ab,bk->k", e, xx * np.outer(sm, sm), e)
    pp = np.einsum("ak,ab,bk->k", e, vv * np.outer(sm, sm), e)
    return 0.5 * pp + 0.5 * (hw / HBAR) ** 2 * qq


@cache
def bath_run(quantum, temperature=150.0, gamma=0.002, n_realizations=64, timestep=1.5, n_steps=100_000):
    """The chain with the bath alone: simulated and exact per-mode energies.

    gamma = 0.002/fs gives gamma_k/omega_k = 0.04, 0.044, 0.017 (weak
    coupling) and energy relaxation times 1/gamma_k of 0.5-1 ps; the run
    lasts 150 ps after 4.5 ps of equilibration from the exact stationary
    Gaussian state.  Quantum noise is cut off at 1.5 hbar omega_max.
    """
    masses, k = chain3()
    hw = normal_modes(masses, k)[0]
    cutoff = 1.5 * hw.max() if quantum else None
    bath = PhononBath([0, 2], gamma, temperature, cutoff=cutoff, quantum=quantum)
    lm = bath.velocity_matrix(masses)
    # exact stationary covariances of the same (cut-off, Markov) model; the
    # classical white noise is integrated to 200 hbar omega_max (the <V^2>
    # tail beyond, ~ gamma_k/(pi omega_c), is below 1e-4 relative)
    xx, vv, _ = stationary_covariance(masses, k, lm, bath.spectrum(masses), cutoff or 200 * hw.max())
    dyn = LangevinDynamics(masses, k, timestep, bath=bath, n_realizations=n_realizations, seed=3, noise_block=8192)
    rng = np.random.default_rng(1)
    dyn.set_state(
        positions=rng.multivariate_normal(np.zeros(3), xx, n_realizations),
        velocities=rng.multivariate_normal(np.zeros(3), vv, n_realizations),
    )
    dyn.run(3000, record_every=10**9)
    tr = dyn.run(n_steps, record_every=10)
    per_real = tr.mode_energies().mean(axis=0)  # (R, 3) time averages
    return {
        "hw": hw,
        "mean": per_real.mean(axis=0),
        "se": per_real.std(axis=0, ddof=1) / np.sqrt(n_realizations),
        "exact": mode_energy(masses, k, xx, vv),
        "kt": KB * temperature,
    }


@pytest.mark.slow
def test_quantum_bath_alone_gives_bose_einstein_per_mode():
    """<E_k> = hbar w_k (n_B(hbar w_k) + 1/2) at the bath temperature (150 K,
    k_B T = 12.9 meV against hbar w_k = 16-39 meV, where Bose-Einstein and
    k_B T differ by 12-67 %)."""
    r = bath_run(True)
    be = r["hw"] * (0.5 + bose(r["hw"], r["kt"]))
    # the simulated model (Markov friction, cut-off quantum noise) against
    # its exact stationary value, docs/theory.rst eq-stationary-covariance
    # (stationary_covariance)
    assert np.all(np.abs(r["mean"] - r["exact"]) < N_SIGMA * r["se"])
    # that exact value against Bose-Einstein: they differ at order
    # gamma_k/omega_k (weak coupling, 0.8 % here); allowance 1 %
    assert np.all(np.abs(r["exact"] / be - 1) < 0.01)
    assert np.all(np.abs(r["mean"] - be) < N_SIGMA * r["se"] + 0.01 * be)
    assert np.all(r["se"] < 0.02 * be)  # the statistics resolve a 2 % effect
    # not equipartition: the highest mode sits 20 standard errors above k_B T
    assert r["mean"][2] - r["kt"] > 20 * r["se"][2]


@pytest.mark.slow
def test_classical_bath_alone_gives_equipartition():
    """Classical noise 2 k_B T eta: <E_k> = k_B T for every mode (Boltzmann),
    exactly for the continuous dynamics; the exact (truncated) integral
    agrees to 0.05 %."""
    r = bath_run(False)
    assert np.all(np.abs(r["exact"] / r["kt"] - 1) < 5e-4)
    assert np.all(np.abs(r["mean"] - r["exact"]) < N_SIGMA * r["se"])
    assert np.all(np.abs(r["mean"] - r["kt"]) < N_SIGMA * r["se"] + 5e-4 * r["kt"])


def test_spectrum_is_the_equilibrium_fluctuation_dissipation_theorem():
    """S = eta hbar w coth(hbar w/2kT): the zero-bias wide-band electron
    noise of the same friction (docs/theory.rst eq-wide-band-noise, an
    independent route:
    -L_sym = (g_s hbar/4 pi) sum_lm T_lm, S = (g_s hbar/4 pi) sum_lm T_lm x coth(x/2kT))
    below the cutoff, zero above; 2 k_B T eta classically; eta hbar|w| at T = 0."""
    masses = np.array([12.0, 197.0, 1.0])
    gamma = np.array([0.003, 0.01])
    bath = PhononBath([2, 0], gamma, 80.0, cutoff=0.2)
    eta = np.array([1.0, 12.0]) * AMU * gamma  # dofs 2 and 0
    lm = bath.velocity_matrix(masses)
    assert np.allclose(np.diag(lm), [-eta[1], 0.0, -eta[0]], rtol=1e-15, atol=0)
    assert np.count_nonzero(lm) == 2
    hw = np.array([0.0, 1e-4, 0.01, 0.05, 0.1999])
    t = np.zeros((2, 2, 3, 3))
    t[:, :] = np.diag([eta[1], 0.0, eta[0]]) * np.pi / HBAR  # spin 1: eta = (hbar/4 pi) 4 t
    electrons = wide_band_spectrum(t, bias=0.0, temperature=80.0, spin=1)
    assert np.allclose(bath.spectrum(masses)(hw), electrons(hw), rtol=1e-12, atol=0)
    assert np.all(bath.spectrum(masses)([0.2001, 1.0]) == 0)
    classical = PhononBath([2, 0], gamma, 80.0, quantum=False).spectrum(masses)([0.0, 0.3, 5.0])
    assert np.allclose(classical[:, 2, 2], 2 * KB * 80.0 * eta[0], rtol=1e-15)
    cold = PhononBath([0], 0.01, 0.0, cutoff=1.0).spectrum(masses)([0.0, 0.02])
    assert np.allclose(cold[:, 0, 0].real, [0.0, 0.02 * 12.0 * AMU * 0.01], rtol=1e-15, atol=0)


def test_integrator_with_bath_is_the_integrator_with_its_friction_and_noise():
    """bath=PhononBath(...) is L + bath.velocity_matrix and the summed noise
    spectrum, bit for bit (same seed), also on top of electronic noise."""
    masses, k = chain3()
    bath = PhononBath([0, 2], 0.01, 300.0, cutoff=0.1)
    t = np.zeros((2, 2, 3, 3))
    t[:, :] = 0.02 * np.eye(3)
    elec = wide_band_spectrum(t, bias=0.2, temperature=300.0, cutoff=0.1)
    lm = -0.05 * np.eye(3)
    a = LangevinDynamics(masses, k, 1.0, L=lm, spectrum=elec, bath=bath, n_realizations=2, seed=4, noise_block=512)
    b = LangevinDynamics(
        masses,
        k,
        1.0,
        L=lm + bath.velocity_matrix(masses),
        spectrum=combined_spectrum(elec, bath.spectrum(masses)),
        n_realizations=2,
        seed=4,
        noise_block=512,
    )
    ta, tb = a.run(1500, record_every=50), b.run(1500, record_every=50)
    assert np.array_equal(ta.positions, tb.positions)
    assert np.array_equal(a.L, b.L) and a.bath is bath
    assert np.abs(ta.positions).max() > 0
    c = LangevinDynamics(masses, k, 1.0, bath=bath, seed=4, noise_block=512)  # the bath as the only noise
    assert c.noise is not None and np.allclose(c.L, bath.velocity_matrix(masses))


def test_checkpoint_knows_the_bath(tmp_path):
    """A checkpoint written with one bath temperature is refused by an
    integrator with another (the noise differs, L does not)."""
    masses, k = chain3()
    a = LangevinDynamics(masses, k, 1.0, bath=PhononBath([0], 0.01, 300.0, cutoff=0.1), seed=1, noise_block=256)
    a.run(10, checkpoint=tmp_path / "c.npz")
    b = LangevinDynamics(masses, k, 1.0, bath=PhononBath([0], 0.01, 200.0, cutoff=0.1), seed=1, noise_block=256)
    with pytest.raises(InputError, match="different parameters"):
        b.load_checkpoint(tmp_path / "c.npz")
    LangevinDynamics(
        masses, k, 1.0, bath=PhononBath([0], 0.01, 300.0, cutoff=0.1), seed=1, noise_block=256
    ).load_checkpoint(tmp_path / "c.npz")


def test_bad_input():
    masses, k = chain3()
    cases = [
        (lambda: PhononBath([], 0.01, 300.0, cutoff=0.1), "dofs must be a non-empty"),
        (lambda: PhononBath([0, 0], 0.01, 300.0, cutoff=0.1), "distinct"),
        (lambda: PhononBath([-1], 0.01, 300.0, cutoff=0.1), "distinct indices >= 0"),
        (lambda: PhononBath([0.5], 0.01, 300.0, cutoff=0.1), "integer"),
        (lambda: PhononBath([0], 0.0, 300.0, cutoff=0.1), "friction must be finite and > 0"),
        (lambda: PhononBath([0, 1], [0.1, 0.2, 0.3], 300.0, cutoff=0.1), "one per dof"),
        (lambda: PhononBath([0], 0.01, -1.0, cutoff=0.1), "temperature"),
        (lambda: PhononBath([0], 0.01, 300.0), "cutoff .* is required with quantum noise"),
        (lambda: PhononBath([0], 0.01, 300.0, cutoff=-1.0), "cutoff must be > 0"),
        (
            lambda: LangevinDynamics(masses, k, 1.0, bath=PhononBath([3], 0.01, 300.0, cutoff=0.1)),
            "reach beyond the 3 degrees of freedom",
        ),
        (lambda: LangevinDynamics(masses, k, 1.0, bath="phonons"), "bath must be a"),
    ]
    for call, message in cases:
        with pytest.raises(InputError, match=message):
            call()


def test_from_junction_passes_the_bath():
    """currentforces.coupling.from_junction builds the integrator with the
    bath: its L is the junction's L plus the bath friction."""
    from currentforces import Junction, WideBandLead, force_coefficients
    from currentforces.coupling import from_junction

    junction = Junction([[0.2]], [WideBandLead([[0.1]]), WideBandLead([[0.05]])])
    forces = [np.array([[0.5]])]
    bath = PhononBath([0], 0.01, 300.0, cutoff=0.1)
    md = from_junction(junction, forces, [12.0], [[5.0]], 1.0, bias=0.1, noise=False, bath=bath, seed=1)
    c = force_coefficients(junction, forces, bias=0.1, temperature=300.0)
    assert np.allclose(md.L, np.asarray(c.L) - 12.0 * AMU * 0.01, rtol=1e-12, atol=0)
    assert md.noise is not None  # the bath's noise, although the electrons' is off
