"""The Fermi-sea pole expansion (integrate.fermi_sea_sum) and its users:
exact Matsubara sums in closed form, brute-force real-axis integrals, the
cost at low temperature, the reuse of the Fermi-sea part across biases and
the Green's-function counter."""

import math

import numpy as np
import pytest
from scipy.special import psi, zeta

from currentforces import InputError, Junction, WideBandLead, force_coefficients
from currentforces.forces import fermi_sea_part
from currentforces.integrate import fermi, fermi_sea_sum, fermi_weight_rule, integrate_adaptive, matsubara_sum
from currentforces.units import KB

from forcehelpers import disordered_chain_model

TEMPERATURES = [0.0, 0.3, 1.0, 300.0, 1000.0]


# ----------------------------------------------------------------------------
# closed forms of the infinite Matsubara sum
# ----------------------------------------------------------------------------
def trigamma(z):
    """psi'(z) for complex z (Re z > 0): recurrence psi'(z) = psi'(z+1) + 1/z^2
    up to |z| > 20, then the asymptotic series 1/z + 1/2z^2 + sum B_2k/z^(2k+1)."""
    z = np.asarray(z, dtype=complex)
    out = np.zeros_like(z)
    while np.any(np.abs(z) < 20):
        small = np.abs(z) < 20
        out = out + np.where(small, 1.0 / z**2, 0.0)
        z = np.where(small, z + 1, z)
    w = 1.0 / z
    bern = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6]
    return out + w + w**2 / 2 + sum(b * w ** (2 * k + 3) for k, b in enumerate(bern))


def s_simple(a, mu, temperature):
    """Regularised S[1/(z - a)]: the n-sum of 2kT/(mu + i w_n - a) =
    (1/i pi) sum 1/(n + x), x = 1/2 + (mu - a)/(2 pi i kT), is -psi(x)/(i pi) up to
    a divergent constant common to every a; at T = 0 -log(-i(mu - a))/(i pi)."""
    a = np.asarray(a, dtype=complex)
    if temperature == 0:
        return -np.log(-1j * (mu - a)) / (1j * math.pi)
    x = 0.5 + (mu - a) / (2j * math.pi * KB * temperature)
    return -psi(x) / (1j * math.pi)


def s_double(a, mu, temperature):
    """S[1/(z - a)^2] = d/da S[1/(z - a)]: -psi'(x)/(2 pi^2 kT) (sum 1/(n+x)^2 =
    psi'(x)); at T = 0 (1/pi) int_0^inf dy/(mu + iy - a)^2 = 1/(i pi (mu - a))."""
    a = np.asarray(a, dtype=complex)
    if temperature == 0:
        return 1.0 / (1j * math.pi * (mu - a))
    kt = KB * temperature
    x = 0.5 + (mu - a) / (2j * math.pi * kt)
    return -trigamma(x) / (2 * math.pi**2 * kt)


def s_pair(a, b, mu, temperature):
    """S[1/((z-a)(z-b))] = (s(a) - s(b))/(a - b).  When |a - b| << 2 pi kT the
    difference of digammas cancels (s varies on the scale kT); then it is
    int_0^1 S[1/(z - c(t))^2] dt along c(t) = b + t (a - b), where the
    integrand is smooth on that scale (30-point Gauss-Legendre)."""
    if temperature == 0 or abs(a - b) > 0.2 * math.pi * KB * temperature:
        return (s_simple(a, mu, temperature) - s_simple(b, mu, temperature)) / (a - b)
    x, w = np.polynomial.legendre.leggauss(30)
    return 0.5 * np.sum(w * s_double(b + 0.5 * (x + 1) * (a - b), mu, temperature))


def wide_band_device(n=24, seed=3):
    """A disordered chain between wide-band leads: G(z) = (z - H_eff)^-1 with a
    constant H_eff = h - i(Gamma_L + Gamma_R)/2, so every Fermi-sea sum has the
    closed form above through the eigen-decomposition of H_eff."""
    rng = np.random.default_rng(seed)
    h = -np.eye(n, k=1) - np.eye(n, k=-1) + np.diag(0.3 * rng.standard_normal(n))
    gl = np.zeros((n, n))
    gr = np.zeros((n, n))
    gl[0, 0] = 0.8
    gr[-1, -1] = 0.5
    junction = Junction(h, [WideBandLead(gl), WideBandLead(gr)])
    heff = h - 0.5j * (gl + gr)
    return junction, heff


def exact_density(heff, mu, temperature):
    """rho = 1/2 + ReH sum_k |R_k><L_k| S[1/(z - lambda_k)] (the divergent constant is
    i x identity: anti-Hermitian, dropped by ReH)."""
    lam, v = np.linalg.eig(heff)
    s = (v * s_simple(lam, mu, temperature)) @ np.linalg.inv(v)
    return 0.5 * np.eye(len(lam)) + 0.5 * (s + s.conj().T)


def exact_kernel(heff, forces, mu, temperature):
    """S[Tr f_a G f_b G] from S[1/((z-l_k)(z-l_l))] (s_pair) and S[1/(z - l_k)^2] on
    the diagonal."""
    lam, v = np.linalg.eig(heff)
    vi = np.linalg.inv(v)
    n = len(lam)
    pair = np.array(
        [[s_pair(lam[k], lam[q], mu, temperature) if k != q else 0.0 for q in range(n)] for k in range(n)],
        dtype=complex,
    )
    np.fill_diagonal(pair, s_double(lam, mu, temperature))
    fe = [vi @ f @ v for f in forces]  # f in the eigenbasis
    m = len(forces)
    out = np.empty((m, m), dtype=complex)
    for a in range(m):
        for b in range(m):
            # Tr[f_a G f_b G] = sum_kl (fa)_lk (fb)_kl / ((z - l_k)(z - l_l))
            out[a, b] = np.sum(fe[a].T * fe[b] * pair)
    return out


# ----------------------------------------------------------------------------
# the pieces
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("m", [4, 6])
def test_fermi_weight_rule_is_gauss(m):
    # Exact for int_0^inf t^(2k+1)/(e^t + 1) dt = (1 - 2^-(2k+1)) (2k+1)! zeta(2k+2),
    # k < 2m (Gauss: degree 2m - 1 in v = t^2); the next moment is not exact.
    t, w = fermi_weight_rule(m)
    assert np.all(t > 0) and np.all(w > 0)
    for k in range(2 * m + 1):
        exact = (1 - 2.0 ** (-(2 * k + 1))) * math.factorial(2 * k + 1) * zeta(2 * k + 2)
        rel = abs(w @ t ** (2 * k + 1) - exact) / exact
        if k < 2 * m:
            assert rel < 1e-12, (k, rel)
        else:
            assert rel > 1e-6
    with pytest.raises(InputError, match="m"):
        fermi_weight_rule(0)


@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize(
    "a, b",
    [
        (0.003 - 1e-9j, -1.7 - 0.4j),  # a level of width 1e-9 eV within 3 meV of mu
        (0.0555 + 0j, 2.0 - 1.0j),  # a real pole (bound state) 55.5 meV above mu
        (-0.2 - 0.05j, 0.4 - 0.3j),
        (-1e-5 - 1e-6j, 1e-5 - 2e-6j),  # two narrow levels astride mu
        (1e-9 - 1e-11j, -1.0 - 0.5j),  # a resonance closer to mu than s_min = 3e-8 eV
    ],
)
def test_pole_expansion_against_exact_matsubara_sum(temperature, a, b):
    # F = 1/((z-a)(z-b)) = (1/(z-a) - 1/(z-b))/(a-b): the infinite Matsubara sum
    # is (s(a) - s(b))/(a - b) with the digamma closed form s (T = 0: logarithms),
    # see s_pair.
    mu = 0.0

    def f(z):
        return 1.0 / ((z - a) * (z - b))

    exact = s_pair(a, b, mu, temperature)
    r = fermi_sea_sum(f, mu, temperature, rtol=1e-12, atol=0.0, energy_scale=3.0)
    true = abs(r.value - exact)
    assert true < 1e-12 * abs(exact), (true / abs(exact), r.evaluations)
    # the error estimate bounds the true error (up to rounding, 1e-14 |S|)
    assert true <= r.error + 1e-14 * abs(exact)
    assert r.error <= 1e-12 * abs(exact)


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_single_level_occupation_is_fermi_function(temperature):
    # rho = 1/2 + Re S[1/(z - eps) - 1/(z - mu + iW)] = n_F(eps - mu) for a real level
    # (sum_n 1/(x^2 + w_n^2) = tanh(x/2kT)/(4 x kT)); the subtracted term only
    # removes the 1/z tail (its sum is imaginary).
    mu, w = 0.1, 2.0
    for eps in (-1.5, 0.1 - 3e-4, 0.1 + 1e-6, 0.13, 0.9):
        r = fermi_sea_sum(
            lambda z: 1.0 / (z - eps) - 1.0 / (z - mu + 1j * w), mu, temperature, rtol=1e-12, energy_scale=w
        )
        assert abs(0.5 + r.value.real - fermi(eps, mu, temperature)) < 1e-12


def test_parts_have_their_own_scale_and_bad_parts_raise():
    # two functions of very different size in one sum: each part meets rtol
    # relative to itself (exact values from the closed form).
    a, b = -0.1 - 0.2j, 0.3 - 0.1j
    exact = s_pair(a, b, 0.0, 300.0)

    def f(z):
        g = 1.0 / ((z - a) * (z - b))
        return np.stack([g, 1e-9 * g], axis=1)

    big, small = fermi_sea_sum(f, 0.0, 300.0, rtol=1e-10, atol=0.0, parts=[1, 1])
    assert abs(big.value[0] - exact) < 1e-10 * abs(exact)
    assert abs(small.value[0] - 1e-9 * exact) < 1e-10 * 1e-9 * abs(exact)
    assert big.evaluations == small.evaluations
    with pytest.raises(InputError, match="parts"):
        fermi_sea_sum(f, 0.0, 300.0, parts=[1, 2])
    with pytest.raises(InputError, match="energy_scale"):
        fermi_sea_sum(f, 0.0, 300.0, energy_scale=0.0)


# ----------------------------------------------------------------------------
# the density matrix
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_device_density_matrix_against_exact_matsubara_sum(temperature):
    # Wide-band device: the closed-form infinite Matsubara sum through the
    # eigen-decomposition of H_eff (exact_density).  Before the pole expansion
    # the Matsubara route could not reach 1e-12 (tail by the midpoint rule) and
    # failed outright below a few K.
    junction, heff = wide_band_device()
    ref = exact_density(heff, 0.05, temperature)
    r = junction.equilibrium_density_matrix(0.05, temperature, rtol=1e-12)
    assert np.max(np.abs(r.value - ref)) < 1e-12
    sub = [3, 7, 8]
    block = junction.equilibrium_density_matrix(0.05, temperature, rtol=1e-12, orbitals=sub).value
    assert np.max(np.abs(block - ref[np.ix_(sub, sub)])) < 1e-12


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_density_matrix_against_real_axis_integral(temperature):
    # Brute force: rho = int n_F(E - mu) sum_l A_l(E)/2pi dE over the band [-2, 2]
    # of the chain leads (no bound states: A_l = 0 outside), adaptive on the
    # real axis with the Fermi step resolved by breakpoints mu +- k kT.
    junction, _ = disordered_chain_model()
    mu = 0.3
    kt = KB * temperature
    pts = [-2.0, 2.0, mu] + [mu + s * k * kt for s in (-1, 1) for k in (1, 4, 12, 40) if kt > 0]

    def integrand(e):
        return sum(junction.spectral_functions(e)) * (fermi(e, mu, temperature) / (2 * math.pi))[:, None, None]

    ref = integrate_adaptive(integrand, np.clip(pts, -2, 2), rtol=1e-12, atol=1e-15).value
    rho = junction.equilibrium_density_matrix(mu, temperature, rtol=1e-11).value
    assert np.max(np.abs(rho - ref)) < 1e-9


@pytest.mark.parametrize("temperature", [300.0, 1000.0])
def test_density_matrix_agrees_with_direct_matsubara_sum(temperature):
    # the old route (Matsubara poles doubled until two results agree, on the
    # Hermitian part of G) where it converges: room temperature and above.
    junction, _ = disordered_chain_model()
    direct = matsubara_sum(
        lambda z: 0.5 * (junction.green(z) + np.conj(np.swapaxes(junction.green(z), -1, -2))),
        0.3,
        temperature,
        rtol=1e-10,
        energy_scale=junction.energy_scale,
    )
    rho = junction.equilibrium_density_matrix(0.3, temperature, rtol=1e-11).value
    assert np.max(np.abs(rho - (0.5 * np.eye(junction.size) + direct.value))) < 1e-8


def test_green_energies_do_not_grow_as_temperature_falls():
    # The pole expansion's size is N + 20 + (line nodes); the line starts at
    # y0 = 8 pi kT but never below the T = 0 scale, so no temperature costs more
    # than T = 0 plus the 24 thermal poles.  (The Matsubara route needed
    # thousands of poles at 1 K: this test failed before.)
    junction, _ = disordered_chain_model()
    counts = {}
    for t in [1000.0, 300.0, 30.0, 1.0, 0.3, 1e-3, 0.0]:
        with junction.count_energies() as c:
            junction.equilibrium_density_matrix(0.3, t, rtol=1e-9)
        counts[t] = c.energies
    assert max(counts.values()) <= counts[0.0] + 24, counts
    assert counts[0.0] <= 160, counts


# ----------------------------------------------------------------------------
# force constants and the reuse across biases
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("temperature", [0.0, 0.3, 300.0])
def test_equilibrium_force_constants_against_exact_sum(temperature):
    # At zero bias K = Re S[Tr f_a G f_b G] (docs/theory.rst eq-k-static, pole-sum form), in
    # closed form for a wide-band device (exact_kernel); spin 2.
    junction, heff = wide_band_device()
    n = junction.size
    forces = []
    for i in (8, 12):
        f = np.zeros((n, n))
        f[i, i + 1] = f[i + 1, i] = 1.0
        f[i, i - 1] = f[i - 1, i] = -1.0
        forces.append(f)
    c = force_coefficients(junction, forces, bias=0.0, temperature=temperature, fermi_level=0.05, rtol=1e-11)
    ref = 2 * exact_kernel(heff, forces, 0.05, temperature).real
    assert np.max(np.abs(c.K - ref)) < 1e-10 * np.max(np.abs(ref))


@pytest.mark.parametrize("frequency", [0.0, 0.02])
def test_fermi_sea_part_is_reused_across_biases(frequency):
    # A sweep at fixed E_F and T reuses the bias-independent part: the same
    # numbers as computing it in every call, at fewer Green's-function energies.
    junction, forces = disordered_chain_model()
    opts = dict(temperature=300.0, fermi_level=0.3, hbar_omega=frequency, rtol=1e-7)
    part = fermi_sea_part(junction, forces, fermi_level=0.3, temperature=300.0, hbar_omega=frequency, rtol=1e-7)
    for v in (0.1, -0.2):
        with junction.count_energies() as fresh:
            a = force_coefficients(junction, forces, bias=v, **opts)
        with junction.count_energies() as reused:
            b = force_coefficients(junction, forces, bias=v, fermi_sea=part, **opts)
        for q in ("mean_force", "K", "L", "K_current", "L_current"):
            assert np.array_equal(getattr(a, q), getattr(b, q)), q
        assert fresh.energies - reused.energies == part.evaluations


def test_fermi_sea_part_that_does_not_match_raises():
    junction, forces = disordered_chain_model()
    part = fermi_sea_part(junction, forces, fermi_level=0.3, temperature=300.0, rtol=1e-7)
    with pytest.raises(InputError, match="temperature"):
        force_coefficients(junction, forces, bias=0.1, temperature=310.0, fermi_level=0.3, fermi_sea=part)
    with pytest.raises(InputError, match="chemical_potential"):
        force_coefficients(junction, forces, bias=0.1, temperature=300.0, fermi_level=0.2, fermi_sea=part)
    with pytest.raises(InputError, match="frequency"):
        force_coefficients(
            junction, forces, bias=0.1, temperature=300.0, fermi_level=0.3, hbar_omega=0.01, fermi_sea=part
        )
    with pytest.raises(InputError, match="rtol"):
        force_coefficients(junction, forces, bias=0.1, temperature=300.0, fermi_level=0.3, rtol=1e-9, fermi_sea=part)
    with pytest.raises(InputError, match="another junction or other force"):
        force_coefficients(
            junction, [2 * f for f in forces], bias=0.1, temperature=300.0, fermi_level=0.3, rtol=1e-7, fermi_sea=part
        )
    with pytest.raises(InputError, match="FermiSeaPart"):
        force_coefficients(junction, forces, bias=0.1, fermi_sea={"K": 0})


# ----------------------------------------------------------------------------
# the Green's-function counter
# ----------------------------------------------------------------------------
def test_counter_counts_outermost_calls_once():
    junction, _ = wide_band_device(6)
    assert junction._green_counter is None
    with junction.count_energies() as c:
        junction.green(np.linspace(-1, 1, 5))  # 5
        junction.green_submatrix(np.array([0.1, 0.2]), [0], [1])  # 2
        junction.green_derivative_submatrix(np.array([0.3j]), [0, 1])  # 1 (calls green_submatrix inside)
        junction.spectral_functions(0.4)  # 1 (calls green inside)
        with junction.count_energies() as inner:
            junction.transmission(np.array([0.0, 0.5, 1.0]))  # 3
        assert inner.energies == 3
    assert (c.energies, c.calls) == (12, 5)
    assert junction._green_counter is None  # detached again
    junction.green(0.0)  # no counter: nothing to count
    assert c.energies == 12


def test_counter_sees_the_rgf_backend():
    # the block-tridiagonal backend is reached through the same Junction methods
    junction, _ = disordered_chain_model()
    rgf = Junction(junction.hamiltonian, junction.leads, solver="rgf")
    with rgf.count_energies() as c:
        rgf.green_submatrix(np.array([0.1, 0.2, 0.3]), [2, 3], [2, 3])
        rgf.green_derivative_submatrix(np.array([0.1j]), [2, 3])
    assert c.energies == 4


def test_bias_sweep_computes_the_fermi_sea_once():
    # serial sweep: Green's-function energies = one Fermi-sea part + the window
    # integrals of each bias (counted one call at a time with the same part).
    from currentforces.parallel import bias_sweep

    junction, forces = disordered_chain_model()
    opts = dict(temperature=300.0, fermi_level=0.3, rtol=1e-7)
    biases = [0.05, 0.1, 0.2]
    with junction.count_energies() as c:
        sweep = bias_sweep(junction, forces, biases, **opts)
    part = fermi_sea_part(junction, forces, fermi_level=0.3, temperature=300.0, rtol=1e-7)
    expected = part.evaluations
    for v, got in zip(biases, sweep):
        with junction.count_energies() as one:
            ref = force_coefficients(junction, forces, bias=v, fermi_sea=part, **opts)
        expected += one.energies
        assert np.array_equal(got.K, ref.K) and np.array_equal(got.L, ref.L)
    assert c.energies == expected


def test_job_computes_the_fermi_sea_once(tmp_path, monkeypatch):
    # a job with three biases and a runaway scan asks for the Fermi-sea part once
    pytest.importorskip("xarray")
    import currentforces.forces as forces_module
    from currentforces.config import validate_config
    from currentforces.job import run_job

    calls = []
    original = forces_module.fermi_sea_part

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(forces_module, "fermi_sea_part", counting)
    cfg = validate_config(
        {
            "junction": {"preset": "gold_chain", "n_atoms": 3, "movable": [1, 2, 3]},
            "electrons": {"temperature": 300.0, "fermi_level": 1.0},
            "bias": {"values": [0.0, 0.3, 0.6]},
            "transmission": {"num": 5},
            "modes": {"n_scan": 3, "tolerance": 0.1},
            "dynamics": {"enabled": False},
        }
    )
    run_job(cfg, tmp_path / "out.nc", log=None)
    assert len(calls) == 1


# ----------------------------------------------------------------------------
# the dense rows and columns behind dG/dE on the force support
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("symmetric", [True, False])
def test_rows_and_columns_equal_the_inverse(symmetric):
    # G[S, :] and G[:, S] from one factorisation (or from G^T = G when
    # E - h - Sigma is complex symmetric) against the explicit inverse of
    # E - h + i(Gamma_L + Gamma_R)/2 (wide band); a complex Hermitian h (a
    # magnetic flux) breaks the symmetry.
    junction, heff = wide_band_device(12)
    h = np.array(junction.hamiltonian, dtype=complex)
    if not symmetric:
        h[3, 4] *= np.exp(0.3j)
        h[4, 3] = np.conj(h[3, 4])
    heff = heff + (h - junction.hamiltonian)
    j = Junction(h, junction.leads)
    z = np.array([0.2 + 1e-3j, -1.1 + 0.4j, 0.7 + 2.0j])
    s = [2, 5, 6]
    full = np.linalg.inv(z[:, None, None] * np.eye(12) - heff)
    rows, cols = j.solver.rows_and_columns(z, s)
    assert np.allclose(rows, full[:, s, :], atol=1e-13, rtol=0)
    assert np.allclose(cols, full[:, :, s], atol=1e-13, rtol=0)
    # green_submatrix with fewer rows than columns solves the transposed system
    assert np.allclose(j.green_submatrix(z, s, np.arange(12)), full[:, s, :], atol=1e-13, rtol=0)
    assert np.allclose(j.green_submatrix(z, s, [1, 2, 3, 4, 9]), full[:, s][:, :, [1, 2, 3, 4, 9]], atol=1e-13, rtol=0)
    gss, dg = j.green_derivative_submatrix(z, s)
    # wide-band leads: dG/dE = -G^2
    assert np.allclose(gss, full[:, s][:, :, s], atol=1e-13, rtol=0)
    assert np.allclose(dg, -(full @ full)[:, s][:, :, s], atol=1e-12, rtol=0)


def _square_wire(n_slabs, t=1.2):
    """A perfect 2 x 2 square wire (one orbital per atom, hopping -t between
    nearest neighbours, in a slab and between slabs), device and leads alike:
    four bands eps_perp - 2t cos k with eps_perp = -2t, 0, 0, 2t, spectrum
    [-4t, 4t].  The force operator is the transverse bond f = |a><b| + |b><a|
    between two atoms of the middle slab (the y-force of a gold-like wire,
    benchmark case ii)."""
    from currentforces import Lead

    cell = -t * np.array([[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 0]], dtype=float)
    n = 4 * n_slabs
    h = np.kron(np.eye(n_slabs), cell) - t * np.kron(np.eye(n_slabs, k=1) + np.eye(n_slabs, k=-1), np.eye(4))
    inter = -t * np.eye(4)
    c0 = np.zeros((n, 4))
    c1 = np.zeros((n, 4))
    c0[:4] = inter
    c1[n - 4 :] = inter
    j = Junction(h, [Lead(cell, inter, c0), Lead(cell, inter, c1)])
    a = 4 * (n_slabs // 2)
    f = np.zeros((n, n))
    f[a, a + 1] = f[a + 1, a] = 1.0
    return j, [f]


def test_zero_temperature_mean_force_error_estimate_bounds_its_error():
    # Benchmark case ii at T = 0 (gold-like wire, E_F = -1.2 eV, rtol 1e-6): the
    # pole expansion's line integral stopped at step 1/2 with an estimate of
    # 1.08e-7 for a true error of 1.32e-7 in the mean force.  Its estimate
    # assumed the error squares when the step halves; on the wire it falls by
    # 10^-2.1, then only by 10^-3.1 (pre-asymptotic, and the double-exponential
    # end of the map started at W = 4.8 eV, inside the band edge 6 eV from mu,
    # narrowing its strip of analyticity).  The same perfect wire, 6 slabs
    # (its local G does not depend on the device length): before, 55 energies,
    # true error 1.05e-7, estimate 8.6e-8.
    j, f = _square_wire(6)
    r = force_coefficients(j, f, bias=0.0, temperature=0.0, fermi_level=-1.2, rtol=1e-6)
    # oracle, by hand: the transverse modes of the 2 x 2 ring, eps_perp = -2.4
    # (v = (1, 1, 1, 1)/2), 0, 0 (v_a v_b = +-1/4, cancelling) and 2.4 eV, are
    # filled for |k| < 2 pi/3, pi/3 and never at mu = -1.2 eV, so
    # rho_ab = (2/3)(1/4) = 1/6 per spin and Tr[f rho] = 2 rho_ab g_s = 2/3
    true = np.abs(r.mean_force - 2.0 / 3.0).max()
    assert true <= 1e-6 * 2.0 / 3.0
    assert r.error["mean_force"] >= true
