"""Closed-form energy integrals for energy-independent self-energies (currentforces.spectral).

Oracles: the numerical routes of force_coefficients (pole sums of the
Fermi sea, adaptive real-axis windows: an independent algorithm, forced by
the private switch forces._SPECTRAL = False) at rtol 1e-10; the closed forms
of the single resonant level (docs/theory.rst theory-single-level); direct
scipy quad of Tr[f A]; block-diagonal copies of one device (coefficients of
independent subsystems add).
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate

from currentforces import Junction, WideBandLead, fermi_sea_part, force_coefficients, spectral
from currentforces import forces as forces_module
from currentforces.errors import BoundStateError, IntegrationWarning
from currentforces.operators import ForceOperators
from currentforces.units import HBAR

RTOL = 1e-10
"""rtol of both routes in the comparisons."""

AGREE = 10 * RTOL
"""Agreement of the closed forms (exact to rounding) with the numerical route
at RTOL: its requested tolerance with a factor 10 for accumulation over the
pieces (as conftest TOL["tight_quad"]), relative to each quantity's size, or
to 1 % of its natural size where it vanishes (forces.FLOOR is 10 %)."""

TAIL = 1e-6
"""The numerical route's mean force with an overlap and wide-band leads takes
the asymptotic weight C = lim z G(z) from z G(z) at z = iY, Y = 1e7 x the
energy scale (Junction.asymptotic_weight); its 1/z term S^-1 (h + Sigma) S^-1
is not Hermitian with Sigma = -i Gamma/2, so ReH(z G) errs by ~Gamma/(2Y)
relative to C: ~1e-8 of the mean force for Gamma ~ 1, well inside TAIL.  The
closed form is checked against scipy quad separately
(test_mean_force_with_overlap_against_quad)."""

CLOSED = 1e-12
"""Closed forms of one level evaluated in double precision (no quadrature)."""


def _device(n, seed, ranks=(1, 1), overlap=False, real=True, n_modes=3):
    rng = np.random.default_rng(seed)
    h = 0.3 * rng.standard_normal((n, n))
    if not real:
        h = h + 0.1j * rng.standard_normal((n, n))
    h = h + np.conj(h.T)
    leads = []
    for r in ranks:
        x = 0.3 * rng.standard_normal((n, min(r, n)))
        leads.append(WideBandLead(x @ x.T))
    kwargs = {}
    if overlap:
        a = 0.05 * rng.standard_normal((n, n))
        kwargs["overlap"] = np.eye(n) + a @ a.T
    fs = []
    for _ in range(n_modes):
        f = rng.standard_normal((n, n))
        fs.append(f + f.T)
    return Junction(h, leads, **kwargs), fs


def _numeric(junction, fs, **kw):
    """force_coefficients by the numerical route (the private switch off); a
    pole sum that misses RTOL (low T, tiny devices) warns and says by how much
    in ``error``, which the comparisons allow for."""
    saved = forces_module._SPECTRAL
    forces_module._SPECTRAL = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IntegrationWarning)
            return force_coefficients(junction, fs, on_fail="warn", **kw)
    finally:
        forces_module._SPECTRAL = saved


def _both(junction, fs, **kw):
    """(closed forms, numerical route) of force_coefficients at RTOL, spinless."""
    kw = {"rtol": RTOL, "spin": 1, **kw}
    return force_coefficients(junction, fs, **kw), _numeric(junction, fs, **kw)


def _assert_agree(closed, numeric, junction, fs, skip_mean_force=False):
    natural = forces_module._natural_scales(ForceOperators(fs, junction.size), junction, 1.0)
    for name, x in forces_module._quantities(closed).items():
        if skip_mean_force and name == "mean_force":
            continue
        y = getattr(numeric, name)
        scale = max(float(np.abs(y).max()), 0.01 * natural[name])
        assert np.abs(x - y).max() <= max(AGREE * scale, 2 * numeric.error[name]), name
        # the closed forms' own estimates (rounding) meet the library's own criterion
        assert closed.error[name] <= forces_module._tolerance(name, x, RTOL, natural)[0], name


@settings(max_examples=10, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 8),
    ranks=st.tuples(st.integers(1, 8), st.integers(1, 8)),
    temperature=st.sampled_from([0.0, 1.0, 300.0]),
    w=st.sampled_from([0.0, 0.01]),
    bias=st.sampled_from([0.0, 0.1]),
    overlap=st.booleans(),
    real=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_closed_forms_agree_with_the_numerical_route(n, ranks, temperature, w, bias, overlap, real, seed):
    # every piece (Fermi sea incl. Berry without time-reversal symmetry,
    # density, Fermi surface, mixed) against the pole sums and real-axis windows
    j, fs = _device(n, seed, ranks, overlap, real)
    assert spectral.applies(j, ForceOperators(fs, n), RTOL)
    closed, numeric = _both(j, fs, bias=bias, temperature=temperature, hbar_omega=w)
    _assert_agree(closed, numeric, j, fs, skip_mean_force=overlap)
    if overlap:
        y = numeric.mean_force
        assert np.abs(closed.mean_force - y).max() <= TAIL * np.abs(y).max()


def test_mean_force_with_overlap_against_quad():
    # F0_a = (1/2pi) int n_0 Tr[f_a A] = -(1/pi) int_{-inf}^{mu} Im Tr[f_a G] dE at T = 0
    j, fs = _device(5, 2, (2, 3), overlap=True)
    c = force_coefficients(j, fs, temperature=0.0, spin=1, rtol=RTOL)
    h, s = np.asarray(j.hamiltonian), np.asarray(j.overlap)
    sigma = j.self_energy(np.array([0.0]))[0]

    def im_trace(e, a):
        return -np.trace(fs[a] @ np.linalg.inv(e * s - h - sigma)).imag / math.pi

    for a in range(len(fs)):
        ref = sum(
            integrate.quad(im_trace, lo, hi, args=(a,), epsabs=0, epsrel=1e-13, limit=400)[0]
            for lo, hi in ((-np.inf, -5.0), (-5.0, 0.0))
        )
        assert abs(c.mean_force[a] - ref) <= CLOSED * np.abs(c.mean_force).max()


@pytest.mark.parametrize("bias", [0.0, 0.1])
def test_narrow_level_closed_forms(bias):
    # one level eps0 with Gamma_L = Gamma_R = 5e-9 eV, f = lambda, T = 0 (docs/theory.rst
    # theory-single-level): F0 = lambda sum_l (Gamma_l/Gamma)[1/2 + arctan(2(mu_l - eps0)/Gamma)/pi],
    # K = -(lambda^2/2pi) sum_l A_l(mu_l) with A_l(E) = Gamma_l/((E - eps0)^2 + Gamma^2/4),
    # and at equilibrium the friction -(hbar lambda^2/4pi) A(mu)^2; the Fermi sea in
    # closed form, no energy of the Fermi sea or the density window evaluated
    eps0, gl, gr, lam = 0.0123, 5e-9, 5e-9, 0.7
    j = Junction([[eps0]], [WideBandLead([[gl]]), WideBandLead([[gr]])])
    with j.count_energies() as counter:
        c = force_coefficients(j, [np.array([[lam]])], bias=bias, temperature=0.0, spin=1, rtol=1e-6)
    g = gl + gr
    mus = [bias / 2, -bias / 2]
    a_l = [gam / ((mu - eps0) ** 2 + g * g / 4) for gam, mu in zip((gl, gr), mus)]
    f0 = lam * sum(gam / g * (0.5 + math.atan(2 * (mu - eps0) / g) / math.pi) for gam, mu in zip((gl, gr), mus))
    assert abs(c.mean_force[0] - f0) <= CLOSED * abs(lam)
    k = -(lam**2) / (2 * math.pi) * sum(a_l)
    assert abs(c.K[0, 0] - k) <= 1e-6 * abs(k)  # K_bias on its own route at rtol 1e-6
    if bias == 0:
        a = g / (eps0**2 + g * g / 4)
        eta = HBAR * lam**2 / (4 * math.pi) * a * a
        assert abs(c.friction[0, 0] + eta) <= CLOSED * eta
        assert abs(c.K[0, 0] - k) <= CLOSED * abs(k)
        assert counter.energies <= 1  # the T = 0 Fermi-surface term at mu_0 only


def test_narrow_level_finite_frequency_at_300K_in_closed_form():
    # at zero bias every piece is closed-form: no Green's function evaluated,
    # and K, L agree with the numerical route (which needs thousands of energies)
    j = Junction([[0.0123]], [WideBandLead([[5e-9]]), WideBandLead([[5e-9]])])
    fs = [np.array([[1.0]])]
    with j.count_energies() as counter:
        closed = force_coefficients(j, fs, temperature=300.0, hbar_omega=0.01, spin=1, rtol=1e-8)
    assert counter.energies == 0
    numeric = _numeric(j, fs, temperature=300.0, hbar_omega=0.01, spin=1, rtol=1e-8)
    for name in ("mean_force", "K", "L"):
        x, y = getattr(closed, name), getattr(numeric, name)
        assert np.abs(x - y).max() <= 10 * 1e-8 * np.abs(y).max(), name


def _doubled(h1, gammas, fs1, shift=0.0):
    """Two decoupled copies of one device (the second's first level shifted by
    ``shift``): block-diagonal h and Gamma_l, the forces of copy 1 then of copy 2."""
    n = h1.shape[0]
    z = np.zeros((n, n))
    h2 = h1.copy()
    h2[0, 0] += shift
    h = np.block([[h1, z], [z, h2]])
    leads = [WideBandLead(np.block([[gam, z], [z, gam]])) for gam in gammas]
    fs = [np.block([[f, z], [z, z]]) for f in fs1] + [np.block([[z, z], [z, f]]) for f in fs1]
    return Junction(h, leads), fs


@pytest.mark.parametrize("temperature", [0.0, 300.0])
@pytest.mark.parametrize("w", [0.0, 0.01])
def test_exactly_degenerate_eigenvalues(temperature, w):
    # two identical decoupled copies: every eigenvalue twice (the confluent
    # divided differences); independent subsystems: the coefficients are
    # block-diagonal, each block that of one copy by the numerical route
    j1, fs1 = _device(3, 7, (1, 2))
    gammas = [np.asarray(lead.gamma) for lead in j1.leads]
    j, fs = _doubled(np.asarray(j1.hamiltonian), gammas, fs1)
    lam = np.sort_complex(spectral.eigenbasis(j, ForceOperators(fs, 6), RTOL).lam)
    assert np.abs(lam[::2] - lam[1::2]).max() <= 1e-14  # degenerate to rounding
    c = force_coefficients(j, fs, temperature=temperature, hbar_omega=w, spin=1, rtol=RTOL)
    one = _numeric(j1, fs1, temperature=temperature, hbar_omega=w, spin=1, rtol=RTOL)
    m = len(fs1)
    for name in ("K", "L"):
        x, y = getattr(c, name), getattr(one, name)
        scale = np.abs(y).max()
        for blk in (slice(0, m), slice(m, 2 * m)):
            assert np.abs(x[blk, blk] - y).max() <= AGREE * scale, name
        assert np.abs(x[:m, m:]).max() <= AGREE * scale, name
    assert np.abs(c.mean_force - np.tile(one.mean_force, 2)).max() <= AGREE * np.abs(one.mean_force).max()


@pytest.mark.parametrize("shift", [1e-9, 1e-6, 1e-3])
def test_near_degenerate_eigenvalues(shift):
    # the copies split by a small shift: close eigenvalue pairs, on both sides of
    # the Taylor switch-over; against the numerical route on the whole device
    j1, fs1 = _device(3, 7, (1, 2))
    gammas = [np.asarray(lead.gamma) for lead in j1.leads]
    j, fs = _doubled(np.asarray(j1.hamiltonian), gammas, fs1, shift)
    closed, numeric = _both(j, fs, temperature=300.0, bias=0.1)
    _assert_agree(closed, numeric, j, fs)


def test_bound_state_falls_back_to_the_pole_sums():
    # an orbital coupled to nothing is a bound state (a real eigenvalue of h +
    # Sigma): the closed forms do not apply and the numerical route, which
    # occupies it with n_F(E_b - mu_0), is taken bit for bit
    h = np.array([[0.1, 0.3, 0.0], [0.3, -0.2, 0.0], [0.0, 0.0, 0.4]])
    gam = np.diag([0.2, 0.1, 0.0])
    j = Junction(h, [WideBandLead(gam), WideBandLead(np.diag([0.0, 0.3, 0.0]))])
    fs = [np.diag([1.0, 0.5, 0.7])]
    assert not spectral.applies(j, ForceOperators(fs, 3), RTOL)
    closed, numeric = _both(j, fs, temperature=300.0)  # zero bias: a decoupled state in a band is supported
    for name in ("mean_force", "K", "L"):
        assert np.array_equal(getattr(closed, name), getattr(numeric, name))
    # at T = 0 on the Fermi level: the named error, as before
    with pytest.raises(BoundStateError):
        force_coefficients(j, fs, temperature=0.0, fermi_level=0.4)


def test_fermi_sea_part_reuse():
    # the bias-independent part in closed form serves a bias sweep as before
    j, fs = _device(4, 11, (2, 2))
    part = fermi_sea_part(j, fs, fermi_level=0.0, temperature=300.0, rtol=RTOL)
    assert part.evaluations == 0
    for v in (0.05, 0.2):
        a = force_coefficients(j, fs, bias=v, temperature=300.0, rtol=RTOL, fermi_sea=part)
        b = force_coefficients(j, fs, bias=v, temperature=300.0, rtol=RTOL)
        for name in ("mean_force", "K", "L"):
            assert np.array_equal(getattr(a, name), getattr(b, name))


def test_sandwiches_are_the_dense_products():
    # ForceOperators.sandwiches(L, R)[a] = L f_a R by definition (f_a on the support)
    rng = np.random.default_rng(3)
    n = 7
    fs = [np.zeros((n, n)) for _ in range(3)]
    fs[0][1, 2] = fs[0][2, 1] = 1.5
    fs[1][4, 4] = -0.3
    f = rng.standard_normal((n, n))
    fs[2] = f + f.T
    ops = ForceOperators(fs, n)
    s = ops.support.size
    left = rng.standard_normal((5, s)) + 1j * rng.standard_normal((5, s))
    right = rng.standard_normal((s, 4))
    got = ops.sandwiches(left, right)
    for a in range(3):
        assert np.abs(got[a] - left @ ops.dense[a] @ right).max() <= CLOSED * np.abs(got[a]).max()


def _weakly_coupled_site(energy):
    """Two sites between wide-band leads and a third at ``energy`` (eV) hanging
    on site 1 by a hopping of 1e-7 eV: a resonance of width ~1e-15 eV, real to
    working precision (spectral.NEAR_REAL) but no bound state of
    Junction.bound_states (its amplitude on the lead orbitals is ~1e-7)."""
    h = np.array([[0.1, 0.3, 0.0], [0.3, -0.2, 1e-7], [0.0, 1e-7, energy]])
    leads = [WideBandLead(np.diag([0.2, 0.0, 0.0])), WideBandLead(np.diag([0.0, 0.1, 0.0]))]
    fs = [np.diag([1.0, 0.5, 0.7]), np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.3], [0.0, 0.3, 0.0]])]
    return Junction(h, leads), fs


def test_bound_level_below_the_window_at_the_taylor_switch():
    # A level real to working precision 3.3 eV below E_F (site 2, hanging on
    # site 1 by 1e-7 eV) and a broad one (site 3, its own lead, width 0.1 eV)
    # that the force operators couple to it.  At 1000 K and hbar w = 0.01 eV
    # the mixed window weighs the pair (lambda_3 - w, conj lambda_2) with
    # Q_mu0 - Q_(mu0 - w); lambda_3 is placed so that the pair is a Taylor
    # pair for mu0 and a direct quotient for mu0 - w (the switch
    # TAYLOR_RATIO rho depends on mu).  The bound level's jumps (2 pi i each:
    # it is occupied) cancel only if both branches leave them out: before,
    # K missed the numerical route (the check that found it: benchmark case
    # i at 1000 K, L off by 3e-3).  Expected values: the numerical route at
    # rtol 1e-10 (pole sums and real-axis windows, no divided differences).
    from scipy.optimize import brentq

    from currentforces.fermi_rational import TAYLOR_RATIO
    from currentforces.units import KB

    temperature, w, e_bound, gamma = 1000.0, 0.01, -3.3, 0.1
    matsubara = math.pi * KB * temperature

    def gap(e):
        # distance of the pair minus the mean of the two switches
        x = e - w - 0.5j * gamma
        switch = [TAYLOR_RATIO * abs(x - mu - 1j * matsubara) for mu in (0.0, -w)]
        return abs(x - e_bound) - 0.5 * sum(switch)

    e_broad = brentq(gap, e_bound + w + 0.01, e_bound + w + 1.0)
    h = np.diag([0.1, -0.2, e_bound, e_broad])
    h[0, 1] = h[1, 0] = 0.3
    h[1, 2] = h[2, 1] = 1e-7
    leads = [WideBandLead(np.diag([0.2, 0.0, 0.0, gamma])), WideBandLead(np.diag([0.0, 0.1, 0.0, 0.0]))]
    f1 = np.diag([1.0, 0.0, 0.0, 0.0])
    f1[2, 3] = f1[3, 2] = 1.0
    f2 = np.zeros((4, 4))
    f2[0, 1] = f2[1, 0] = 1.0
    f2[2, 3] = f2[3, 2] = 0.5
    j, fs = Junction(h, leads), [f1, f2]
    basis = spectral.eigenbasis(j, ForceOperators(fs, 4), RTOL)
    assert basis is not None and basis.bound.sum() == 1 and not len(j.bound_states())
    assert abs(basis.lam[basis.bound][0] - e_bound) < 1e-12
    closed, numeric = _both(j, fs, temperature=temperature, hbar_omega=w)
    _assert_agree(closed, numeric, j, fs)


def test_resonance_real_to_working_precision():
    # a state 3.3 eV from E_F, width ~5e-17 eV known to no digit, at 1000 K just
    # outside the thermal window (35 k_B T = 3.0 eV at rtol 1e-10): its jump terms
    # (n_F' there ~3e-16/eV over that width: ~1 of L) are left out, a bound
    # state as the numerical route sees it (its windows never reach the peak):
    # the numerical route's numbers.  Without the NEAR_REAL rule L[0, 0] is off
    # by ~1 (-3.38 against -2.35: checked by setting NEAR_REAL = 0).
    j, fs = _weakly_coupled_site(3.3)
    basis = spectral.eigenbasis(j, ForceOperators(fs, 3), RTOL)
    assert basis is not None and basis.bound.sum() == 1 and not len(j.bound_states())
    assert basis.clear_of(-3.1, 3.1)
    closed, numeric = _both(j, fs, temperature=1000.0, bias=0.1)
    _assert_agree(closed, numeric, j, fs)
    # inside a window (0.02 eV) the window pieces are not taken in closed form
    j, fs = _weakly_coupled_site(0.02)
    assert not spectral.eigenbasis(j, ForceOperators(fs, 3), RTOL).clear_of(-1.0, 1.0)
