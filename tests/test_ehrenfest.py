"""Open-boundary Ehrenfest dynamics (currentforces.ehrenfest), each result
against an independent route: the Landauer steady state of the junction, the
frequency-dependent force coefficients, energy conservation."""

import numpy as np
import pytest

from currentforces import Junction, WideBandLead, force_coefficients
from currentforces.dynamics import NoiseGenerator, analyze_modes
from currentforces.ehrenfest import (
    EhrenfestDynamics,
    EhrenfestTrajectory,
    WideBandElectrons,
    compare_dynamics,
    plot_mode_energies,
)
from currentforces.errors import InputError, LorentzianFitWarning
from currentforces.integrate import fermi
from currentforces.leads import ChainLead
from currentforces.models.chain import chain_force_operators
from currentforces.units import AMU, HBAR, KB

N = 4
BIAS = dict(bias=0.4, temperature=300.0, fermi_level=0.1)


def wide_band_chain(n=N, gamma=(1.0, 1.0), onsite=None):
    """n-site chain (hopping -1 eV) between wide-band leads on its end sites."""
    h = -1.0 * (np.eye(n, k=1) + np.eye(n, k=-1))
    if onsite is not None:
        h = h + np.diag(onsite)
    gl = np.zeros((n, n))
    gr = np.zeros((n, n))
    gl[0, 0], gr[-1, -1] = gamma
    return Junction(h, [WideBandLead(gl), WideBandLead(gr)])


@pytest.mark.parametrize("temperature", [300.0, 0.0])
def test_fixed_geometry_stays_landauer(temperature):
    # Expected: the Landauer density matrix and current of seed eq 13 from the junction's
    # own energy integrals (Junction.density_matrix, Junction.current at rtol 1e-11): the
    # stationary point of the equations of motion reproduces them to the pole-list
    # tolerance (1e-10), and 40 fs of evolution at fixed h leave sigma there to the
    # DOP853 tolerance (rtol 1e-10, a few hundred steps: 1e-11 is ample).
    j = wide_band_chain(onsite=[0.1, -0.2, 0.3, 0.0], gamma=(1.0, 0.7))
    kw = dict(BIAS, temperature=temperature)
    el = WideBandElectrons(j, **kw)
    state = el.stationary_state()
    rho = j.density_matrix(rtol=1e-11, **kw)
    assert np.abs(el.density_matrix(state) - rho).max() < 1e-9
    current = j.current(rtol=1e-11, **kw)
    assert el.currents(state, j.hamiltonian) == pytest.approx([current, -current], rel=1e-8)
    start = state.copy()
    el.propagate(state, j.hamiltonian, j.hamiltonian, 40.0)
    assert np.abs(state.sigma - start.sigma).max() < 1e-11
    assert el.currents(state, j.hamiltonian) == pytest.approx([current, -current], rel=1e-8)


def _forced_response(j, f, a, coordinate, hbar_omega, periods=1.5):
    """cos and sin Fourier components and the mean of g_s Tr[f sigma(t)] over the last
    period of X_b(t) = a cos(omega t), sampled 64 times per period."""
    w = hbar_omega / HBAR
    period = 2 * np.pi / w
    el = WideBandElectrons(j, rtol=1e-9, atol=1e-11, **BIAS)
    h0 = j.hamiltonian

    def h(t):
        return h0 - a * np.cos(w * t) * f[coordinate]

    state = el.stationary_state(h(0.0))
    times = np.arange(1, int(64 * periods) + 1) * period / 64
    forces = []
    for t in times:
        el.propagate_driven(state, h, t)
        forces.append(el.forces(state, f))
    forces, times = np.array(forces[-64:]), times[-64:]
    cos = 2 * np.mean(forces * np.cos(w * times)[:, None], axis=0)
    sin = 2 * np.mean(forces * np.sin(w * times)[:, None], axis=0)
    return cos, sin, forces.mean(axis=0)


@pytest.mark.slow
def test_forced_oscillation_gives_the_force_coefficients():
    # X_b(t) = a cos(omega t) of one of two atoms of a biased chain.  Expected (seed eq 14,
    # linear response at omega): the cos component of F is -K(omega)[:, b] a, the sin
    # component -L(omega)[:, b] a omega, the mean F0, with K, L, F0 from
    # force_coefficients(hbar_omega=hbar omega) (an energy integral of Green's functions,
    # no time stepping).  The first non-linear correction to the fundamental is O(a^3),
    # to the mean O(a^2): the error of K and of the mean shrinks by 4 when a halves.
    # Accuracy stated: K and L to 1e-4 relative to their largest entry at a = 0.01
    # Angstrom (measured 9e-6 and 2e-5; the a-independent floor of L is the adiabatic
    # treatment of the far poles at the default far = 4, 2e-5, 9e-5 at far = 3).  The bias makes K non-symmetric (the
    # non-conservative force) and L non-symmetric (the Berry force): both are resolved.
    j = wide_band_chain()
    f = np.array(chain_force_operators(N, 0.5, atoms=[1, 2]))
    hw = 0.05
    c = force_coefficients(j, list(f), hbar_omega=hw, rtol=1e-10, **BIAS)
    k_meas = np.zeros((2, 2, 2))
    l_meas = np.zeros((2, 2, 2))
    mean_err = np.zeros((2, 2))
    for i, a in enumerate([0.02, 0.01]):
        for b in (0, 1):
            cos, sin, mean = _forced_response(j, f, a, b, hw)
            k_meas[i, :, b] = -cos / a
            l_meas[i, :, b] = -sin / (a * hw / HBAR)
            mean_err[i, b] = np.abs(mean - c.mean_force).max()
    k_err = np.abs(k_meas - c.K).max(axis=(1, 2)) / np.abs(c.K).max()
    l_err = np.abs(l_meas - c.L).max(axis=(1, 2)) / np.abs(c.L).max()
    assert k_err[1] < 1e-4 and l_err[1] < 1e-4
    assert 3.0 < k_err[0] / k_err[1] < 5.0  # a^2 (the floor is 1e-6 of K)
    assert 3.5 < mean_err[0].max() / mean_err[1].max() < 4.5  # a^2
    # the non-conservative and Berry parts are seen, not just the symmetric ones
    nc, berry = 0.5 * (c.K - c.K.T)[0, 1], 0.5 * (c.L - c.L.T)[0, 1]
    assert abs(nc) > 1e-3 * np.abs(c.K).max() and abs(berry) > 1e-3 * np.abs(c.L).max()
    assert 0.5 * (k_meas[1] - k_meas[1].T)[0, 1] == pytest.approx(nc, rel=2e-2)
    assert 0.5 * (l_meas[1] - l_meas[1].T)[0, 1] == pytest.approx(berry, rel=2e-2)


def _closed_run(dt, n_steps):
    h = -1.0 * (np.eye(N, k=1) + np.eye(N, k=-1))
    j = Junction(h, [])
    f = chain_force_operators(N, 0.8, atoms=[1, 2])
    e, v = np.linalg.eigh(h)
    sigma = (v * fermi(e, 0.1, 3000.0)) @ v.T  # a thermal state at 3000 K
    dyn = EhrenfestDynamics(
        j,
        f,
        [1.0, 1.0],
        dt,
        bare_force_constants=[[20.0, -5.0], [-5.0, 20.0]],
        sigma=sigma,
        positions=[0.05, -0.02],
        velocities=[0.01, 0.0],
        rtol=1e-11,
        atol=1e-13,
    )
    return dyn.run(n_steps, record_every=n_steps // 20)


def test_closed_system_conserves_total_energy():
    # Without leads the total energy g_s Tr[h sigma] + M V^2/2 + U_b is a constant of
    # the exact motion (d/dt Tr[h sigma] = Tr[dh/dt sigma] = -V.F_el).  Velocity Verlet
    # with the electrons integrated to 1e-11 conserves it to O(dt^2): the largest drift
    # over 40 fs falls by 4 (3.5-4.5) when dt halves, and is far below the energy
    # exchanged between atoms and electrons.
    errs, swings = [], []
    for dt in (0.2, 0.1):
        tr = _closed_run(dt, int(round(40.0 / dt)))
        total = tr.total_energy()
        errs.append(np.abs(total - total[0]).max())
        swings.append(np.ptp(tr.electronic))
        assert tr.electrons == pytest.approx(tr.electrons[0], abs=1e-10)  # particle number
    assert 3.5 < errs[0] / errs[1] < 4.5
    assert errs[1] < 1e-3 * swings[1]


def test_checkpoint_resume_is_bit_for_bit(tmp_path):
    # Expected: the unsplit run itself (the checkpoint holds the whole state, including
    # the electron integrator's step size).
    j = wide_band_chain()
    f = chain_force_operators(N, 0.5, atoms=[1, 2])

    def make():
        return EhrenfestDynamics(
            j,
            f,
            [2.0, 2.0],
            1.0,
            bare_force_constants=10 * np.eye(2),
            bare_mean_force="balance",
            velocities=[0.01, -0.005],
            rtol=1e-8,
            atol=1e-10,
            **BIAS,
        )

    full = make().run(12, record_every=3)
    first = make()
    first.run(6, record_every=3, checkpoint=tmp_path / "c.npz")
    resumed = make().load_checkpoint(tmp_path / "c.npz").run(6, record_every=3)
    assert np.array_equal(resumed.positions, full.positions[2:])
    assert np.array_equal(resumed.currents, full.currents[2:])
    full.write_netcdf(tmp_path / "t.nc")
    back = EhrenfestTrajectory.read_netcdf(tmp_path / "t.nc")
    assert np.array_equal(back.positions, full.positions) and np.array_equal(back.currents, full.currents)
    other = EhrenfestDynamics(j, f, [2.0, 2.0], 0.5, rtol=1e-8, atol=1e-10, **BIAS)
    with pytest.raises(InputError, match="different parameters"):
        other.load_checkpoint(tmp_path / "c.npz")


def test_energy_dependent_leads_need_the_lorentzian_fit():
    # Bad input: chain leads without lorentzians= raise InputError naming the way out.
    h = np.zeros((2, 2))
    j = Junction(h, [ChainLead(-1.0, [-1.0, 0.0]), ChainLead(-1.0, [0.0, -1.0])])
    with pytest.raises(InputError, match="lorentzians"):
        WideBandElectrons(j)


def test_non_orthogonal_basis_is_refused():
    # Bad input: the equations of motion assume an orthogonal basis; a junction with an
    # overlap matrix raises InputError instead of evolving with the wrong metric.
    j = wide_band_chain()
    s = np.eye(N) + 0.1 * (np.eye(N, k=1) + np.eye(N, k=-1))
    with pytest.raises(InputError, match="overlap"):
        WideBandElectrons(Junction(j.hamiltonian, j.leads, overlap=s))


def test_lorentzian_fit_of_chain_leads_approaches_landauer():
    # Chain leads (t = 1 eV, device coupling 0.6 eV) fitted by K Lorentzians = K
    # auxiliary levels with wide-band leads.  Expected: the Landauer current and density
    # matrix of the junction with the exact chain self-energies (Junction.current,
    # Junction.density_matrix).  The fit's largest error sits at the square-root band
    # edges and is reported (0.29 and 0.22 relative: warned about); the integrated
    # quantities converge faster: the current error falls from 1.6e-2 (K = 10) to
    # 4.2e-3 (K = 20), about K^-2, and the device density matrix is within 1e-3.
    from currentforces.models.chain import chain_junction

    j = chain_junction(4, 1.0, coupling=0.6)
    current = j.current(**BIAS)
    rho = j.density_matrix(**BIAS)
    errors = []
    for k in (10, 20):
        with pytest.warns(LorentzianFitWarning, match="relative error"):
            el = WideBandElectrons(j, lorentzians=k, **BIAS)
        assert el.size == 4 + 2 * k and 0.1 < el.fits[0].error < 0.5
        state = el.stationary_state()
        errors.append(abs(el.currents(state, j.hamiltonian)[0] / current - 1))
        assert np.abs(el.density_matrix(state) - rho).max() < 1e-3
    assert errors[1] < 1e-2 and 3.0 < errors[0] / errors[1] < 5.0


@pytest.mark.slow
def test_hot_electrons_damp_the_vibration_at_the_friction_rate():
    # Seed section V: with hot electrons (2000 K) and no bias, mean-force (Ehrenfest)
    # dynamics only loses energy.  Expected decay rate of the mechanical energy of one
    # atom: -L/M with L = L(omega) from force_coefficients at the oscillation's own
    # frequency (the Markov limit of seed eq 14 for a weakly damped oscillator:
    # E(t) ~ exp(L t/M)), measured over 3 periods from the slope of log E at the
    # turning points, within 3% (the log-slope of a damped oscillator sampled at its
    # extrema is exact up to O((gamma/omega)^2) ~ 1e-3 here).
    j = wide_band_chain()
    f = chain_force_operators(N, 1.0, atoms=[1])
    t = 2000.0
    mass, hw = 1.0, 0.1
    k_el = force_coefficients(j, f, hbar_omega=hw, temperature=t, rtol=1e-10)
    v0 = 0.02 * hw / HBAR  # amplitude 0.02 Angstrom
    kb = mass * AMU * (hw / HBAR) ** 2 - k_el.K
    dyn = EhrenfestDynamics(
        j,
        f,
        [mass],
        0.5,
        bare_force_constants=kb,
        bare_mean_force="balance",
        velocities=[v0],
        temperature=t,
        rtol=1e-8,
        atol=1e-10,
    )
    period = 2 * np.pi * HBAR / hw
    tr = dyn.run(int(round(3 * period / 0.5)))
    energy = tr.kinetic + 0.5 * (kb[0, 0] + k_el.K[0, 0]) * tr.positions[:, 0] ** 2
    turning = np.flatnonzero(np.diff(np.sign(tr.velocities[:, 0])) != 0)
    rate = np.polyfit(tr.time[turning], np.log(energy[turning]), 1)[0]
    assert rate == pytest.approx(k_el.L[0, 0] / (mass * AMU), rel=0.03)


@pytest.mark.slow
def test_waterwheel_grows_at_the_mode_analysis_rate():
    # Two neighbouring atoms of a biased chain with bare springs that make their modes
    # degenerate (K_b = M w^2 - K^sym): above the waterwheel threshold (docs/theory.rst
    # eq-threshold-degenerate; here |K^asym| = 0.15 > eta w = 0.1 eV/Angstrom^2).
    # Expected: the energy growth rate 2 max Re(lambda) of analyze_modes with K(omega),
    # L(omega) from force_coefficients (the linear, frequency-domain route).  Measured:
    # slope of log E over the last 1.5 e-folds of a run from X ~ 1e-3 Angstrom (E grows
    # 12-fold, the motion stays linear); within 3% (the coefficients are taken at the
    # real frequency w, the motion has the complex one w + i rate/2: a shift of
    # O(rate hbar/Gamma) ~ 1% of K and L).
    j = wide_band_chain()
    f = chain_force_operators(N, 1.0, atoms=[1, 2])
    kw = dict(BIAS, bias=1.5)
    mass, hw = 1.0, 0.05
    c = force_coefficients(j, f, hbar_omega=hw, rtol=1e-10, **kw)
    kb = mass * AMU * (hw / HBAR) ** 2 * np.eye(2) - 0.5 * (c.K + c.K.T)
    modes = analyze_modes([mass, mass], kb, c.K, c.L)
    rate = 2 * modes.max_growth_rate
    assert modes.leading_character == "waterwheel" and rate > 0
    dyn = EhrenfestDynamics(
        j,
        f,
        [mass, mass],
        1.0,
        bare_force_constants=kb,
        bare_mean_force="balance",
        velocities=[1e-4, 0.0],
        rtol=1e-7,
        atol=1e-9,
        **kw,
    )
    tr = dyn.run(int(2.5 / rate), record_every=2)
    stiffness = kb + 0.5 * (c.K + c.K.T)
    energy = tr.kinetic + 0.5 * np.einsum("ta,ab,tb->t", tr.positions, stiffness, tr.positions)
    late = tr.time > tr.time[-1] - 1.5 / rate
    assert np.polyfit(tr.time[late], np.log(energy[late]), 1)[0] == pytest.approx(rate, rel=0.03)


def test_noise_variant_adds_the_generated_force():
    # Ehrenfest plus noise: the force is the mean force plus the noise of
    # NoiseGenerator(spectrum, seed) at the same step (white spectrum S = s0, any s0 > 0).
    j = wide_band_chain()
    f = chain_force_operators(N, 0.5, atoms=[1, 2])

    def white(hbar_omega):
        return np.broadcast_to(1e-3 * np.eye(2), np.shape(hbar_omega) + (2, 2))

    common = dict(bare_force_constants=10 * np.eye(2), rtol=1e-8, atol=1e-10, **BIAS)
    plain = EhrenfestDynamics(j, f, [2.0, 2.0], 1.0, **common)
    noisy = EhrenfestDynamics(j, f, [2.0, 2.0], 1.0, noise=white, seed=5, noise_block=64, **common)
    gen = NoiseGenerator(white, 2, 1.0, seed=5, block_length=64)
    assert np.allclose(noisy._force - plain._force, gen.at(0)[0], rtol=0, atol=1e-15)
    noisy.run(1)
    expected = noisy.bare_force(noisy.positions)[0] + noisy._electronic_force + gen.at(1)[0]
    assert np.allclose(noisy._force, expected, rtol=0, atol=1e-15)


@pytest.mark.slow
def test_side_by_side_hot_electrons(tmp_path):
    # Seed section V, three pictures of one atom with hot electrons (2000 K, no bias):
    # Ehrenfest and mean-force Langevin (K, L frozen) lose energy alike (the same
    # friction; they agree to 2%, the O((hbar omega/Gamma)^2) memory and the discrete
    # sampling of both), while full Langevin heats the mode towards its equilibrium
    # energy (hbar w/2) coth(hbar w/2 k_B T) = 0.178 eV: after 1.3 friction times the
    # ensemble (32 realisations, statistical error ~20%) is above half of it.
    j = wide_band_chain()
    f = chain_force_operators(N, 1.0, atoms=[1])
    t, hw, mass = 2000.0, 0.1, 1.0
    c = force_coefficients(j, f, hbar_omega=hw, temperature=t)
    kb = mass * AMU * (hw / HBAR) ** 2 - c.K
    comp = compare_dynamics(
        j,
        f,
        [mass],
        kb,
        0.5,
        300,
        hbar_omega=hw,
        velocities=[0.003],
        temperature=t,
        record_every=2,
        n_realizations=32,
        rtol=1e-8,
        atol=1e-10,
    )
    e = comp.mode_energies()
    decay = np.exp(c.L[0, 0] / (mass * AMU) * comp.ehrenfest.time[-1])
    assert e["ehrenfest"][-1, 0] == pytest.approx(e["mean_force"][-1, 0], rel=0.02)
    assert e["ehrenfest"][-1, 0] == pytest.approx(e["ehrenfest"][0, 0] * decay, rel=0.05)
    equilibrium = 0.5 * hw / np.tanh(hw / (2 * KB * t))
    assert e["langevin"][-1, 0] > 0.5 * equilibrium > 20 * e["ehrenfest"][-1, 0]
    fig = plot_mode_energies([comp], tmp_path / "modes.png", labels=["2000 K, no bias"])
    assert (tmp_path / "modes.png").stat().st_size > 0 and len(fig.axes) == 1


def test_atomistic_model_gold_chain():
    # The atomistic model at finite displacement: f_k(X) = -dh/dX_k against a central
    # difference of h(X) (step 1e-5 Angstrom: error ~1e-10 of its 1 eV/Angstrom scale).
    # The gold-chain preset's periodic s-band leads enter through the Lorentzian fit
    # (K = 10, relative fit error 0.29 at the band edges): the initial electronic force
    # is the Landauer mean force F0 of force_coefficients to 1% (0.4% measured).
    import warnings

    from currentforces.ehrenfest import AtomisticModel
    from currentforces.models.presets import gold_chain

    preset = gold_chain(n_atoms=2)
    system = preset.system
    model = AtomisticModel(system)
    x, step = np.array([0.05, -0.03]), 1e-5
    for k in range(2):
        dx = np.zeros(2)
        dx[k] = step
        numeric = -(model.hamiltonian(x + dx) - model.hamiltonian(x - dx)) / (2 * step)
        assert np.abs(numeric - model.force_operators(x)[k]).max() < 1e-9
    kw = dict(bias=0.5, fermi_level=preset.fermi_level)
    c = force_coefficients(system.junction, system.forces, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LorentzianFitWarning)
        dyn = EhrenfestDynamics(
            system.junction,
            model,
            system.masses,
            2.0,
            lorentzians=10,
            velocities=[0.002, 0.0],
            rtol=1e-8,
            atol=1e-10,
            **kw,
        )
    assert dyn._electronic_force == pytest.approx(c.mean_force, rel=1e-2)
    tr = dyn.run(1)
    assert tr.positions[-1] == pytest.approx([0.004, 0.0], abs=1e-3)
