"""Bound states at finite frequency (issue 11 item 3): the delta function of
a bound state in A(E) and the real pole of G(E +- hbar w) on the window
paths, taken exactly (docs/theory.rst, theory-bound-frequency).  Before,
force_coefficients raised BoundStateError whenever a bound state lay within
hbar w (plus the thermal window) of mu_0.

Oracles: (1) a level decoupled from a perfect chain, coupled to it by the
force operator only, whose Pi(w) is a Lehmann sum over (level, band state)
pairs with the chain's closed-form local spectral function; (2) the
eta -> 0 limit of the same junction with the bound state broadened by a
third, wide-band lead of width eta at mu_0 (an ordinary narrow resonance,
integrated by the graded window breakpoints), extrapolated in eta.
"""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from currentforces import BoundStateError, ChainLead, Junction, WideBandLead, force_coefficients
from currentforces.models.chain import chain_force_operators
from currentforces.units import HBAR, KB

LAM = 0.3  # eV/A, the force operator's element between the level and the chain


def side_level(eps_d):
    """Sites 0-2: a piece of the perfect chain (hopping -1 eV, chain leads on
    0 and 2); orbital 3: a level at ``eps_d`` without hopping (a decoupled
    bound state inside the band [-2, 2] eV); f = LAM (|1><3| + |3><1|)."""
    h = np.zeros((4, 4))
    h[0, 1] = h[1, 0] = h[1, 2] = h[2, 1] = -1.0
    h[3, 3] = eps_d
    cl, cr = np.zeros(4), np.zeros(4)
    cl[0] = cr[2] = -1.0
    f = np.zeros((4, 4))
    f[1, 3] = f[3, 1] = LAM
    return Junction(h, [ChainLead(-1.0, cl), ChainLead(-1.0, cr)]), [f]


def _fermi(e, mu, t):
    if t == 0:
        return 1.0 if e < mu else (0.0 if e > mu else 0.5)
    return 0.5 * (1.0 - math.tanh((e - mu) / (2 * KB * t)))


def side_level_kernel(eps_d, w, mus, t):
    r"""Pi(w) per spin of :func:`side_level`, from the Lehmann sum
    Pi = sum_ij (n_i - n_j) |f_ij|^2 / (w + e_i - e_j + i0) over single-particle
    states (no static term: f does not depend on X).  Only (level, band
    state) pairs have f_ij != 0; a band state of lead l at E has weight
    A_l(E)/2pi = 1/(2 pi sqrt(4 - E^2)) on every chain site, occupation n_l(E);
    the level has n_d = n_F(eps_d - mu_0).  So

    Pi = LAM^2 sum_l int dE A_l/2pi (n_d - n_l) [1/(w + eps_d - E + i0) - 1/(w + E - eps_d + i0)],
    Im Pi = -(LAM^2/2) sum_l [A_l(eps_d + w)(n_d - n_l) + A_l(eps_d - w)(n_l - n_d)],

    the real part a principal value, integrated in E = 2 sin(theta)
    (A_l dE = d theta) with quad's Cauchy weight around the pole."""
    mu0 = float(np.mean(mus))
    nd = _fermi(eps_d, mu0, t)

    def a_l(e):
        return 1.0 / math.sqrt(4.0 - e * e) if abs(e) < 2 else 0.0

    e1, e2 = eps_d + w, eps_d - w
    im = -0.5 * LAM**2 * sum(a_l(e1) * (nd - _fermi(e1, mu, t)) + a_l(e2) * (_fermi(e2, mu, t) - nd) for mu in mus)
    steps = sorted({-math.pi / 2, math.pi / 2} | {math.asin(m / 2) for m in mus if abs(m) < 2})
    re = 0.0
    for mu in mus:
        for ep in (e1, e2):  # both terms are -PV int dE A_l (n_d - n_l) / (E - ep) / 2pi
            if abs(ep) >= 2:  # outside the band: no pole on the path
                for a, b in zip(steps[:-1], steps[1:]):
                    re -= (
                        LAM**2
                        * quad(
                            lambda th, mu=mu, ep=ep: (
                                (nd - _fermi(2 * math.sin(th), mu, t)) / (2 * math.pi) / (2 * math.sin(th) - ep)
                            ),
                            a,
                            b,
                            epsabs=1e-15,
                            epsrel=1e-13,
                            limit=200,
                        )[0]
                    )
                continue
            c = math.asin(ep / 2)

            def g(th, c=c, mu=mu):
                # (n_d - n_l)/2pi times (th - c)/(2 sin th - 2 sin c), smooth at th = c
                x = 2 * math.cos((th + c) / 2) * np.sinc((th - c) / (2 * math.pi))
                return (nd - _fermi(2 * math.sin(th), mu, t)) / (2 * math.pi) / x

            d = 0.5 * min(abs(c - p) for p in steps)
            val = quad(g, c - d, c + d, weight="cauchy", wvar=c, epsabs=1e-15, epsrel=1e-13)[0]
            pts = sorted(set(steps) | {c - d, c + d})
            for a, b in zip(pts[:-1], pts[1:]):
                if a < c < b:
                    continue
                val += quad(lambda th, c=c: g(th) / (th - c), a, b, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
            re -= LAM**2 * val
    return re, im


@pytest.mark.parametrize(
    "eps_d, w, temperature, mus",
    [
        # 300 K: the level 0.15 eV above mu_0, within hbar w + the thermal window
        (0.3, 0.1, 300.0, (0.25, 0.05)),
        # T = 0: E_b - w = 0.2 eV inside the bias window [0.05, 0.25] eV and the band
        (0.3, 0.1, 0.0, (0.25, 0.05)),
        # T = 0: E_b within hbar w of mu_0 = 0.15 eV (the mixed term's pole and delta)
        (0.2, 0.1, 0.0, (0.25, 0.05)),
        # 1000 K, near the band top: E_b + w = 2.05 eV outside the band (no emission into it)
        (1.95, 0.1, 1000.0, (1.9, 1.8)),
    ],
)
def test_decoupled_level_against_the_lehmann_sum(eps_d, w, temperature, mus):
    j, f = side_level(eps_d)
    assert j.bound_states().decoupled.tolist() == [True]
    c = force_coefficients(j, f, temperature=temperature, hbar_omega=w, chemical_potentials=mus, spin=1, rtol=1e-9)
    re, im = side_level_kernel(eps_d, w, mus, temperature)
    # oracle: the closed form above (its quadrature to 1e-13)
    assert abs(c.K[0, 0] - re) < 1e-9 * abs(re)
    assert abs(c.L[0, 0] - HBAR * im / w) < 1e-9 * abs(HBAR * im / w)
    # friction: absorption by the lower, fuller state outweighs emission
    assert c.L[0, 0] < 0
    assert c.error["K"] < 1e-9 * abs(re) and c.error["L"] < 1e-9 * abs(HBAR * im / w)


def impurity_chain(eps, eta=0.0, n=6):
    """Chain of hopping -1 eV between chain leads, impurity h[2, 2] = eps (a
    gap state at sqrt(eps^2 + 4) eV above the band); with ``eta`` > 0 a third,
    wide-band lead of width eta on the impurity (broadens the bound state)."""
    h = -1.0 * (np.eye(n, k=1) + np.eye(n, k=-1))
    h[2, 2] = eps
    cl, cr = np.zeros(n), np.zeros(n)
    cl[0] = cr[-1] = -1.0
    leads = [ChainLead(-1.0, cl), ChainLead(-1.0, cr)]
    if eta:
        g = np.zeros((n, n))
        g[2, 2] = eta
        leads.append(WideBandLead(g))
    return Junction(h, leads)


def _eta_limit(eps, f, temperature, w, mus):
    """Quadratic Richardson extrapolation eta -> 0 of the broadened model
    (eta = 4, 2, 1 x 1e-5 eV; the third lead sits at mu_0, so mu_0 and the
    bound state's limiting occupation n_F(E_b - mu_0) are the exact model's)."""
    mu0 = float(np.mean(mus))
    got = [
        force_coefficients(
            impurity_chain(eps, eta),
            f,
            temperature=temperature,
            hbar_omega=w,
            chemical_potentials=[*mus, mu0],
            spin=1,
            rtol=1e-10,
        )
        for eta in (4e-5, 2e-5, 1e-5)
    ]

    def limit(q):
        x = [np.asarray(getattr(r, q)) for r in got]
        r1 = [2 * x[1] - x[0], 2 * x[2] - x[1]]
        return (4 * r1[1] - r1[0]) / 3, x[0]

    return limit


@pytest.mark.parametrize("temperature, mus", [(300.0, (1.97, 1.93)), (0.0, (1.99, 1.95))])
def test_gap_state_above_the_band_edge_against_the_broadened_limit(temperature, mus):
    # E_b = 2.03 eV, 0.03 eV above the band: at hbar w = 0.05 eV the pole of
    # G(E + w) at E_b - w = 1.98 eV lies in the band and (T = 0) in the bias
    # window [1.95, 1.99] eV; the delta of A at E_b pairs with G(E_b + w) in the gap
    eb, w = 2.03, 0.05
    eps = math.sqrt(eb * eb - 4)
    j = impurity_chain(eps)
    assert abs(j.bound_states().energies[0] - eb) < 1e-12
    f = chain_force_operators(6, 0.5, atoms=[2, 3])
    c = force_coefficients(j, f, temperature=temperature, hbar_omega=w, chemical_potentials=mus, spin=1, rtol=1e-10)
    limit = _eta_limit(eps, f, temperature, w, mus)
    for q in ("K", "L", "K_current", "L_current"):
        ref, raw = limit(q)
        x = np.asarray(getattr(c, q))
        # oracle: eta -> 0 (measured agreement 2e-13 - 2e-11 relative; the
        # eta = 4e-5 eV model itself is off by 6e-6 - 1e-4)
        assert np.abs(x - ref).max() < 1e-9 * np.abs(ref).max()
        assert np.abs(raw - ref).max() > 1e3 * np.abs(x - ref).max()
    assert np.linalg.eigvalsh(0.5 * (c.L + c.L.T)).max() < 0  # damping: absorption into the empty level


def test_bound_state_near_the_fermi_level_at_300_k():
    # benchmark case iv: 5-site chain, impurity 3 eV, bound state at sqrt(13)
    # = 3.6055 eV, 4 k_B T above E_F = 3.5 eV at 300 K, hbar w = 0.01 eV (a
    # BoundStateError before).  E_b +- w lie in the gap: no absorption, so
    # L = 0 (to rounding); K holds the occupation change of the bound state,
    # [n_0(E_b) - n_0(E_b + w)] Tr[f G(E_b + w) f R_b]
    eps, w, mus = 3.0, 0.01, (3.55, 3.45)
    j = impurity_chain(eps, n=5)
    f = chain_force_operators(5, 1.0)
    c = force_coefficients(j, f, temperature=300.0, hbar_omega=w, chemical_potentials=mus, spin=1, rtol=1e-10)
    ref, raw = _eta_limit_n5(eps, f, w, mus)
    # oracle: eta -> 0 (measured 4e-12 relative)
    assert np.abs(c.K - ref).max() < 1e-9 * np.abs(ref).max()
    assert np.abs(c.K - raw).max() > 1e-5 * np.abs(ref).max()
    assert np.abs(c.L).max() < 1e-13


def test_bound_state_near_the_fermi_level_against_a_long_closed_chain():
    # second route for the same case at zero bias: the Lehmann sum
    # Pi_ab(w) = sum_ij (n_i - n_j) (f_a)_ij (f_b)_ji / (w + e_i - e_j) over the
    # eigenstates of a closed chain of 401 sites with the impurity in the
    # middle.  At 300 K the band ([-2, 2] eV, 58 k_B T below E_F) is full,
    # so only (band, bound state) pairs count, 1.6 eV apart: no resonance,
    # and the sum converges exponentially with the length (401 and 1601
    # sites agree to 1e-14)
    eps, w, ef, t = 3.0, 0.01, 3.5, 300.0
    f = chain_force_operators(5, 1.0)
    c = force_coefficients(impurity_chain(eps, n=5), f, temperature=t, hbar_omega=w, fermi_level=ef, spin=1, rtol=1e-10)
    big = 401
    h = -1.0 * (np.eye(big, k=1) + np.eye(big, k=-1))
    h[200, 200] = eps
    e, v = np.linalg.eigh(h)
    fe = [v[198:203].T @ fa @ v[198:203] for fa in f]
    n = 0.5 * (1.0 - np.tanh((e - ef) / (2 * KB * t)))
    wgt = (n[:, None] - n[None, :]) / (w + e[:, None] - e[None, :])
    pi = np.array([[np.sum(wgt * fa * fb.T) for fb in fe] for fa in fe])
    assert np.abs(c.K - pi.real).max() < 1e-10 * np.abs(pi.real).max()
    assert np.abs(c.L).max() < 1e-13  # no pair at hbar w


def _eta_limit_n5(eps, f, w, mus):
    mu0 = float(np.mean(mus))
    got = [
        force_coefficients(
            impurity_chain(eps, eta, n=5),
            f,
            temperature=300.0,
            hbar_omega=w,
            chemical_potentials=[*mus, mu0],
            spin=1,
            rtol=1e-10,
        ).K
        for eta in (4e-5, 2e-5, 1e-5)
    ]
    r1 = [2 * got[1] - got[0], 2 * got[2] - got[1]]
    return (4 * r1[1] - r1[0]) / 3, got[0]


def test_named_errors_at_finite_frequency():
    # two decoupled levels exactly hbar w apart, both seen by f: a discrete
    # absorption line, Pi(w) infinite at that frequency
    h = np.zeros((4, 4))
    h[0, 1] = h[1, 0] = -1.0
    h[2, 2], h[3, 3] = 0.1, 0.15
    cl, cr = np.zeros(4), np.zeros(4)
    cl[0] = cr[1] = -1.0
    j = Junction(h, [ChainLead(-1.0, cl), ChainLead(-1.0, cr)])
    f = np.zeros((4, 4))
    f[2, 3] = f[3, 2] = 0.2
    with pytest.raises(BoundStateError, match="apart"):
        force_coefficients(j, [f], temperature=300.0, fermi_level=0.12, hbar_omega=0.05)
    # off the line it is exact: only the pair of levels has f_ij != 0, so
    # Pi = (n_1 - n_2) beta^2 [1/(w + e_1 - e_2) - 1/(w + e_2 - e_1)] (Lehmann sum)
    # and no friction (no pair at hbar w)
    for w in (0.04, 0.05 + 1e-6):
        c = force_coefficients(j, [f], temperature=300.0, fermi_level=0.12, hbar_omega=w, spin=1, rtol=1e-10)
        dn = 0.5 * (math.tanh(0.03 / (2 * KB * 300.0)) - math.tanh(-0.02 / (2 * KB * 300.0)))
        ref = dn * 0.04 * (1 / (w - 0.05) - 1 / (w + 0.05))
        assert abs(c.K[0, 0] - ref) < 1e-9 * abs(ref) and abs(c.L[0, 0]) < 1e-12 * abs(ref)
    # T = 0: E_b - w on a chemical potential inside the band (log-divergent principal value)
    js, fs = side_level(0.3)
    with pytest.raises(BoundStateError, match="Fermi step"):
        force_coefficients(js, fs, temperature=0.0, chemical_potentials=(0.2, 0.0), hbar_omega=0.1)
    # E_b -+ w on the band edge 2 eV (the chain's density of states diverges there)
    for eps_d in (2.1, 1.9):
        je, fe = side_level(eps_d)
        with pytest.raises(BoundStateError, match="band edge"):
            force_coefficients(je, fe, temperature=300.0, chemical_potentials=(2.05, 1.95), hbar_omega=0.1)
    # T = 0: E_b + w on mu_0 (the absorption threshold)
    with pytest.raises(BoundStateError, match="coincides with mu_0"):
        force_coefficients(js, fs, temperature=0.0, fermi_level=0.4, hbar_omega=0.1)
