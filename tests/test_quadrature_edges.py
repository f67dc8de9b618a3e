"""Window integrals across a lead band edge (issue 11, benchmark case v):
the panels that end at a band edge are integrated in u, E = E_edge -+ u^2,
where dG/dE ~ 1/sqrt|E - E_edge| becomes smooth."""

import math

import numpy as np
import pytest
from scipy.special import expit

from currentforces import force_coefficients
from currentforces.errors import InputError
from currentforces.integrate import integrate_adaptive
from currentforces.models.chain import chain_force_operators, chain_junction
from currentforces.units import HBAR, KB

SPIN = 2


def _edge_integrand(e):
    # 1/sqrt|2 - E| on both sides of E = 2, a sqrt kink below it, a smooth part,
    # and 1/sqrt|E - 0.5| + 1/sqrt|1 - E| between two edges at 0.5 and 1
    d = np.abs(2.0 - e)
    below = np.where(e < 2.0, np.sqrt(np.maximum(2.0 - e, 0.0)), 0.0)
    pair = 1.0 / np.sqrt(np.abs(e - 0.5)) + 1.0 / np.sqrt(np.abs(1.0 - e))
    return np.stack([1.0 / np.sqrt(d) + np.cos(e), below, pair], axis=1)


def test_square_root_edges_converge_with_few_points():
    # oracle, by hand: int_{-1}^{3} |2 - E|^-1/2 dE = 2 sqrt(3) + 2, int cos = sin 3 + sin 1,
    # int_{-1}^{2} sqrt(2 - E) dE = (2/3) 3^1.5, and
    # int_{-1}^{3} (|E - 0.5|^-1/2 + |1 - E|^-1/2) dE = 2 (sqrt 1.5 + sqrt 2.5) + 2 (sqrt 2 + sqrt 2)
    exact = np.array(
        [
            2 * math.sqrt(3) + 2 + math.sin(3) + math.sin(1),
            2 / 3 * 3**1.5,
            2 * (math.sqrt(1.5) + math.sqrt(2.5)) + 4 * math.sqrt(2),
        ]
    )
    r = integrate_adaptive(_edge_integrand, [-1.0, 3.0], rtol=1e-12, atol=0.0, edges=[2.0, 0.5, 1.0, 7.0])
    true = np.abs(r.value - exact)
    assert np.all(true <= 1e-11 * np.abs(exact))
    assert r.error >= true.max()
    # count: in u every panel's integrand is a polynomial of low degree plus
    # cos(2 -+ u^2): the five initial panels (two between the edges at 0.5 and 1)
    # converge after at most two bisections each: 5 * 7 panels of 15 points
    assert r.evaluations <= 5 * 7 * 15
    with pytest.raises(InputError, match="edges"):
        integrate_adaptive(_edge_integrand, [-1.0, 3.0], edges=[np.nan])


# --------------------------------------------------------------------------
# the perfect chain with chain leads across its band edge (benchmark case v)
# --------------------------------------------------------------------------
N_SITES, FERMI, BIAS = 20, 1.9, 0.1


def _inverse_extended(m):
    """Gauss-Jordan inverse of a batch (P, n, n) in extended precision (no
    pivoting needed: E - H - Sigma of the chain is tridiagonal and diagonally
    dominant)."""
    p, n, _ = m.shape
    a = np.concatenate([m, np.broadcast_to(np.eye(n, dtype=np.clongdouble), (p, n, n))], axis=2)
    for k in range(n):
        a[:, k] = a[:, k] / a[:, k, k][:, None]
        col = a[:, :, k].copy()
        col[:, k] = 0
        a -= col[:, :, None] * a[:, k][:, None, :]
    return a[:, :, n:]


def _window_friction_in_u(u, forces, mus, temperature, extended):
    """The bias-window friction integrand of the perfect chain (hopping -1 eV,
    band -2..2 eV, chain leads on sites 0 and n-1), written out here:
    (spin hbar/pi) sum_l Im Tr[f_a G' f_b A_l] (n_l - n_0) at E = 2 - u^2,
    times dE/du = 2u, with G = (E - H - Sigma)^-1, G' = -G (1 - Sigma') G,
    A_l = G Gamma_l G^dagger, Sigma = g(E) on the end sites,
    g = (E - sqrt(E - 2) sqrt(E + 2))/2, g' = (1 - E/sqrt(E^2 - 4))/2.
    Near the edge G ~ 1/u and the trace cancels terms ~ 1/u^4 to a result
    ~ u: the few nodes with u < 0.05 are done in extended precision."""
    n = N_SITES
    real, cplx = (np.longdouble, np.clongdouble) if extended else (float, complex)
    u = np.asarray(u, dtype=real)
    e = real(2) - u * u
    s = np.sqrt((e - 2).astype(cplx)) * np.sqrt((e + 2).astype(cplx))
    g, dg = (e - s) / 2, (1 - e / s) / 2
    h = -(np.eye(n, k=1) + np.eye(n, k=-1))
    m = e[:, None, None] * np.eye(n, dtype=cplx) - h.astype(cplx)
    m[:, 0, 0] -= g
    m[:, -1, -1] -= g
    gr = _inverse_extended(m) if extended else np.linalg.inv(m)
    ds = np.zeros_like(m)
    ds[:, 0, 0] = ds[:, -1, -1] = dg
    dgr = -gr @ (np.eye(n, dtype=cplx) - ds) @ gr
    f = np.asarray(forces, dtype=real)
    x = np.einsum("aij,pjk->paik", f, dgr)
    kt = KB * temperature
    e64 = e.astype(float)
    n0 = expit(-(e64 - FERMI) / kt)
    out = 0.0
    for site, mu in zip((0, n - 1), mus):
        col = gr[:, :, site]
        a_l = (-2 * g.imag)[:, None, None] * col[:, :, None] * np.conj(col)[:, None, :]
        y = np.einsum("bij,pjk->pbik", f, a_l)
        tr = np.einsum("paij,pbji->pab", x, y).imag.astype(float)
        out = out + (expit(-(e64 - mu) / kt) - n0)[:, None, None] * tr
    return (SPIN * HBAR / math.pi) * out * (2 * u.astype(float))[:, None, None]


def _chain_window_friction_reference(forces, mus, temperature, nodes=30):
    """int (...) dE over [min mu - 40 k_B T, 2 eV] (above the edge Gamma = 0 and
    the integrand vanishes) as int_0^U (...) 2u du, U = sqrt(2 - E_low), by a
    composite Gauss-Legendre rule in u with the Fermi steps sqrt(2 - mu_l) as
    panel ends."""
    kt = KB * temperature
    top = math.sqrt(2.0 - (min(mus) - 40 * kt))
    steps = sorted(math.sqrt(2.0 - mu) for mu in mus)
    ends = np.array([0.0, *steps, *np.linspace(steps[-1], top, 9)[1:]])
    x, w = np.polynomial.legendre.leggauss(nodes)
    a, b = ends[:-1], ends[1:]
    u = (0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None] * x).ravel()
    wt = (0.5 * (b - a)[:, None] * w).ravel()
    near = u < 0.05
    vals = np.empty((u.size, len(forces), len(forces)))
    vals[near] = _window_friction_in_u(u[near], forces, mus, temperature, extended=True)
    vals[~near] = _window_friction_in_u(u[~near], forces, mus, temperature, extended=False)
    return np.einsum("p,pab->ab", wt, vals)


def test_band_edge_chain_friction_at_300_k_converges():
    # Benchmark case v: E_F = 1.9 eV, bias 0.1 V, the band edge at 2 eV lies
    # 0.05 eV above mu_0, inside the thermal window at 300 K; the bias-window
    # friction integrand carries dG/dE ~ 1/sqrt(2 - E).  Bisection in E
    # spent 52,725 points and raised IntegrationError ("L has estimated
    # error 5.05e-06 above its tolerance 8.07e-07").
    t = 300.0
    j = chain_junction(N_SITES, 1.0)
    f = chain_force_operators(N_SITES, 1.0)
    mus = [float(mu) for mu in j.chemical_potentials(BIAS, FERMI)]
    with j.count_energies() as c:
        r = force_coefficients(j, f, bias=BIAS, temperature=t, fermi_level=FERMI, rtol=1e-6, spin=SPIN)
    # oracle: the window integral written out above (the test's own G, G' and
    # A_l from the closed-form chain self-energy) in u by Gauss-Legendre with
    # 30 nodes a panel; with 40 and 50 nodes it changes by < 1.2e-12 eV s/A^2
    # (offline), against max|L_current| = 0.5
    ref = _chain_window_friction_reference(f, mus, t)
    scale = np.abs(ref).max()
    true = np.abs(r.L_current - ref).max()
    assert true <= 1e-6 * scale
    assert r.error["L_current"] >= true
    assert r.error["L"] <= 1e-6 * np.abs(r.L).max()
    # count: the Fermi sea (~140 energies at 300 K) and one window integral
    # whose panels next to the edge converge in u, ending at the edge (258 measured): 600
    assert c.energies <= 600


@pytest.mark.parametrize("temperature", [300.0, 1000.0])
def test_density_matrix_and_current_near_a_band_edge(temperature):
    # A perfect chain (hopping -1 eV, band [-2, 2] eV) with E_F = 1.9 eV and
    # V = 0.1 V: the bias window touches the band edge at 2 eV, where the
    # spectral function has its inverse square root.  Independent route: in a
    # perfect chain the right movers (0 < k < pi) are filled from the left lead
    # and the left movers from the right lead, so per spin and site
    # n = (1/2pi) sum_l int_0^pi dk n_F(-2 cos k - mu_l), and the Landauer
    # current is (e/h) g_s int T(E) (n_L - n_R) dE with T = 1 in the band;
    # both by scipy quad to 1e-13.  Before the window integrals took the band
    # edges as square-root branch points (integrate_adaptive(edges=)), the
    # density matrix needed 1263 energies at rtol 1e-8 and was 5e-9 off.
    from scipy.integrate import quad

    from currentforces.integrate import fermi
    from currentforces.models.chain import chain_junction
    from currentforces.units import CONDUCTANCE_QUANTUM_SPINLESS

    j = chain_junction(20, hopping=1.0)
    mus = j.chemical_potentials(0.1, 1.9)
    n = sum(
        quad(lambda k, mu=mu: float(fermi(-2 * np.cos(k), mu, temperature)), 0, np.pi, epsabs=1e-15, epsrel=1e-13)[0]
        for mu in mus
    ) / (2 * np.pi)
    with j.count_energies() as counter:
        rho = j.density_matrix(0.1, temperature=temperature, fermi_level=1.9, rtol=1e-8)
    assert counter.energies <= 600  # 363 / 433 measured at 300 / 1000 K
    assert abs(rho.trace().real - 2 * 20 * n) < 1e-10 * 2 * 20 * n
    window = quad(
        lambda e: float(fermi(e, mus[0], temperature) - fermi(e, mus[1], temperature)),
        -2.0,
        2.0,
        points=[1.85, 1.95],
        epsabs=1e-16,
        epsrel=1e-13,
    )[0]
    expected = 2 * CONDUCTANCE_QUANTUM_SPINLESS * window
    assert abs(j.current(0.1, temperature=temperature, fermi_level=1.9, rtol=1e-9) - expected) < 1e-8 * expected
