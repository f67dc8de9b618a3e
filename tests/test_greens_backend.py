"""The Green's-function backend interface (currentforces.greens.base).

A backend implements two methods (G blocks and dG/dE); the transmission,
spectral functions and current integrand are written once on the base.
Checked here: a third, independent backend built on the interface (an
eigen-decomposition of h + Sigma for energy-independent leads) reproduces
the dense one through every derived quantity and the force coefficients;
the derived quantities read G only where they need it; what the junction
accepts as a backend; and that the backend layer imports nothing above it.
"""

import ast
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from currentforces import ChainLead, InputError, Junction, WideBandLead, force_coefficients
from currentforces.forces import SpectralBlocks
from currentforces.greens import BlockTridiagonal, DenseInverse, GreensBackend
from currentforces.operators import ForceOperators

SRC = Path(__file__).resolve().parents[1] / "src" / "currentforces"


def wide_band_device(n=6, seed=0):
    """Random Hermitian h (complex: no time-reversal symmetry) between three
    wide-band leads with supports {0, 1}, {n-1} and {n-2, n-1}."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    h = 0.5 * (a + a.conj().T) / np.sqrt(n)
    gammas = []
    for sup in ([0, 1], [n - 1], [n - 2, n - 1]):
        g = np.zeros((n, n))
        b = rng.standard_normal((len(sup), len(sup)))
        g[np.ix_(sup, sup)] = 0.3 * (b @ b.T) + 0.1 * np.eye(len(sup))
        gammas.append(g)
    return h, [WideBandLead(g) for g in gammas]


def layered_device(sizes=(2, 3, 2, 3), seed=1):
    """Random block-tridiagonal h with a chain lead on the first and on the
    last orbital and a wide-band lead on the last layer; the layers."""
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    h = np.zeros((n, n), dtype=complex)
    for k in range(len(sizes)):
        a, b = bounds[k], bounds[k + 1]
        blk = rng.standard_normal((b - a, b - a)) + 0.3j * rng.standard_normal((b - a, b - a))
        h[a:b, a:b] = 0.5 * (blk + blk.conj().T)
        if k + 1 < len(sizes):
            c = bounds[k + 2]
            h[a:b, b:c] = -0.7 * rng.random((b - a, c - b)) + 0.2j * rng.standard_normal((b - a, c - b))
            h[b:c, a:b] = h[a:b, b:c].conj().T
    cl, cr = np.zeros(n), np.zeros(n)
    cl[0], cr[-1] = -0.9, -0.8
    gam = np.zeros((n, n))
    gam[n - 2 :, n - 2 :] = [[0.2, 0.05], [0.05, 0.1]]
    leads = [ChainLead(-1.0, cl), ChainLead(-1.0, cr), WideBandLead(gam)]
    layers = [np.arange(bounds[k], bounds[k + 1]) for k in range(len(sizes))]
    return h, leads, layers


class EigenBackend(GreensBackend):
    r"""A backend for energy-independent self-energies (wide-band leads):
    with h + Sigma = V diag(lambda) V^{-1} (not Hermitian),

    G(E) = V diag(1/(E - lambda)) V^{-1},   dG/dE = -V diag(1/(E - lambda)^2) V^{-1}

    (dSigma/dE = 0).  A route to G independent of the dense inverse, built
    on the two methods of the interface only."""

    def __init__(self, hamiltonian, leads):
        super().__init__(np.shape(hamiltonian)[0], leads)
        m = np.asarray(hamiltonian, dtype=complex) + self.self_energy(0.0)
        self.eigenvalues, self.v = np.linalg.eig(m)
        self.vinv = np.linalg.inv(self.v)

    def _resolvent(self, energy, rows, cols, power):
        e = np.asarray(energy)
        d = 1.0 / (e[..., None] - self.eigenvalues) ** power
        return np.einsum("ik,...k,kj->...ij", self.v[rows], d, self.vinv[:, cols])

    def green_submatrix(self, energy, rows, cols):
        return self._resolvent(energy, np.asarray(rows, dtype=int), np.asarray(cols, dtype=int), 1)

    def green_derivative_submatrix(self, energy, orbitals, cols=None):
        s = np.asarray(orbitals, dtype=int)
        c = s if cols is None else np.asarray(cols, dtype=int)
        return self._resolvent(energy, s, c, 1), -self._resolvent(energy, s, s, 2)


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(1e-300, float(np.max(np.abs(b)))))


def test_a_backend_on_the_interface_reproduces_the_dense_one(tol):
    # Expected: the dense inverse.  The eigen-decomposition is a second route
    # to the same G (agreement to round-off, TOL["solver"]); everything else
    # (T, A_l, the current, F0, K, L) comes from the base and the force
    # engine, so it agrees to round-off too, or to the quadrature's own
    # noise (rtol 1e-9 requested, both integrands equal to 1e-13) for the
    # integrals.
    h, leads = wide_band_device()
    dense = Junction(h, leads)
    eig = Junction(h, leads, solver=EigenBackend(h, leads))
    e = np.array([-1.1, -0.3, 0.2, 0.9])
    assert _rel(eig.green(e), dense.green(e)) < tol["solver"]
    for s, d in ((0, 1), (1, 0), (0, 2), (2, 1)):
        assert _rel(eig.transmission(e, s, d), dense.transmission(e, s, d)) < tol["solver"]
    for a_e, a_d in zip(eig.spectral_functions(e), dense.spectral_functions(e)):
        assert _rel(a_e, a_d) < tol["solver"]
    mus = [0.2, -0.1, 0.05]
    assert (
        _rel(eig.current(chemical_potentials=mus, rtol=1e-9), dense.current(chemical_potentials=mus, rtol=1e-9)) < 1e-8
    )
    forces = np.zeros((2, h.shape[0], h.shape[0]))
    forces[0, 2, 3] = forces[0, 3, 2] = 0.4
    forces[1, 3, 3], forces[1, 2, 4] = -0.3, 0.2
    forces[1, 4, 2] = 0.2
    kw = dict(chemical_potentials=mus, temperature=200.0, rtol=1e-9)
    ce, cd = force_coefficients(eig, forces, **kw), force_coefficients(dense, forces, **kw)
    for name in ("mean_force", "K", "L"):
        assert _rel(getattr(ce, name), getattr(cd, name)) < 1e-8, name


def test_transmission_and_current_integrand_against_the_full_trace(tol):
    # Expected: the defining formula T_sd = Tr[Gamma_s G Gamma_d G^dagger] on
    # full N x N matrices (an independent evaluation of the same trace), and
    # the Landauer integrand sum_m T_lm (n_l - n_m) built from it.
    h, leads, layers = layered_device()
    dense = Junction(h, leads)
    e = np.array([-1.7, -0.4, 0.3, 1.2])
    g, gam = dense.green(e), dense.broadening(e)
    gd = np.conj(np.swapaxes(g, -1, -2))
    full = {
        (s, d): np.einsum("eij,ejk,ekl,eli->e", gam[s], g, gam[d], gd, optimize=True).real
        for s in range(3)
        for d in range(3)
    }
    occ = [np.array([1.0, 0.7, 0.2, 0.0]), np.array([0.9, 0.5, 0.4, 0.1]), np.array([0.3, 0.3, 0.8, 0.6])]
    hs = sp.csr_matrix(h)
    for backend in (
        DenseInverse(h, leads),
        BlockTridiagonal(hs, leads, layers=layers),
        BlockTridiagonal(hs, leads, layers=layers, streaming=False),
    ):
        for (s, d), t in full.items():
            assert _rel(backend.transmission(e, s, d), t) < tol["solver"]
        for lead in range(3):
            ref = sum(full[(lead, m)] * (occ[lead] - occ[m]) for m in range(3) if m != lead)
            assert _rel(backend.current_integrand(e, lead, occ), ref) < tol["solver"]


@pytest.mark.parametrize("streaming", [True, False])
def test_green_derivative_with_columns_equals_dense_and_finite_differences(streaming, tol):
    # Expected: dense G[S, cols] (the same linear algebra, TOL["solver"]),
    # and dG/dE against central differences of G at steps d = 1e-3 eV and
    # d/2 with their Richardson extrapolation: truncation O(d^4 |G^(5)|) ~
    # 1e-12 and round-off ~ eps / d ~ 1e-13 relative for features 0.1 eV
    # wide or wider (the chain leads' band edges are 0.3 eV away or more).
    h, leads, layers = layered_device()
    dense = DenseInverse(h, leads)
    rgf = BlockTridiagonal(sp.csr_matrix(h), leads, layers=layers, streaming=streaming)
    n = h.shape[0]
    s = np.concatenate([layers[1], layers[2][:1]])
    cols = np.concatenate([s, [0], [n - 2, n - 1]])  # the request of SpectralBlocks: S and the supports
    e = np.array([-1.3, 0.35, 0.9 + 0.2j])
    gs, dgs = dense.green_derivative_submatrix(e, s)
    for backend in (dense, rgf):
        g, dg = backend.green_derivative_submatrix(e, s, cols)
        assert _rel(g, dense.green_submatrix(e, s, cols)) < tol["solver"]
        assert _rel(dg, dgs) < tol["solver"]
        g2, dg2 = backend.green_derivative_submatrix(e, s)
        assert _rel(g2, gs) < tol["solver"] and _rel(dg2, dgs) < tol["solver"]

    def central(d):
        return (dense.green_submatrix(e + d, s, s) - dense.green_submatrix(e - d, s, s)) / (2 * d)

    fd = (4 * central(5e-4) - central(1e-3)) / 3
    assert _rel(dgs, fd) < 1e-9


class _Recording:
    """Records the (rows, cols) sizes of every green_submatrix call of a backend."""

    def __init__(self, backend, monkeypatch):
        self.calls = []
        inner = backend.green_submatrix

        def spy(energy, rows, cols):
            self.calls.append((len(rows), len(cols)))
            return inner(energy, rows, cols)

        monkeypatch.setattr(backend, "green_submatrix", spy)


def test_transmission_and_current_read_g_only_on_the_lead_supports(monkeypatch, tol):
    # The regression: Junction.transmission used to form the full G and a
    # four-matrix einsum, N^4 per energy (2001 energies of a 40-site chain:
    # ~40 s).  Now one block G[sup_s, sup_d] per call.  Expected value: the
    # full-matrix trace, as above.
    h, leads = wide_band_device(n=8)
    j = Junction(h, leads)
    e = np.linspace(-1.0, 1.0, 5)
    g, gam = j.green(e), j.broadening(e)
    ref = np.einsum("eij,ejk,ekl,eli->e", gam[0], g, gam[2], np.conj(np.swapaxes(g, -1, -2)), optimize=True).real
    rec = _Recording(j.solver, monkeypatch)
    monkeypatch.setattr(j, "green", lambda *a: pytest.fail("transmission formed the full G"))
    t = j.transmission(e, 0, 2)
    assert rec.calls == [(2, 2)]  # supports {0, 1} and {n-2, n-1}
    assert _rel(t, ref) < tol["solver"]
    rec.calls.clear()
    j.current(chemical_potentials=[0.1, 0.0, -0.1], lead=1, rtol=1e-6)
    assert rec.calls and set(rec.calls) == {(1, 4)}  # lead 1's support x the other two supports


def test_spectral_blocks_take_g_and_dg_from_one_backend_call(solver, monkeypatch, tol):
    # SpectralBlocks.green_derivative(spectral=True) needs G[S, S], dG/dE and
    # A_l[S, S]: one backend call (the RGF path used to make two: the
    # derivative, then G[S, supports] again).  Expected values: G from
    # green_submatrix and A_l = G[S, s_l] Gamma_l G[S, s_l]^dagger from the
    # backend's spectral functions.
    h, leads, layers = layered_device()
    j = Junction(
        h if solver == "dense" else sp.csr_matrix(h), leads, solver=solver, layers=None if solver == "dense" else layers
    )
    ops = ForceOperators(_force(h.shape[0]), h.shape[0])
    blocks = SpectralBlocks(j, ops)
    e = np.array([-0.6, 0.45])
    count = []
    inner = j.solver.green_derivative_submatrix
    monkeypatch.setattr(j.solver, "green_derivative_submatrix", lambda *a: count.append(1) or inner(*a))
    rec = _Recording(j.solver, monkeypatch)
    g, dg, a_l = blocks.green_derivative(e, spectral=True)
    assert len(count) == 1 and rec.calls == []
    s = ops.support
    assert _rel(g, j.solver.green_submatrix(e, s, s)) < tol["solver"]
    for a, ref in zip(a_l, j.solver.spectral_functions(e, s, s)):
        assert _rel(a, ref) < tol["solver"]


def _force(n):
    f = np.zeros((1, n, n))
    f[0, 3, 4] = f[0, 4, 3] = 0.5
    f[0, 4, 4] = -0.2
    return f


def test_junction_accepts_only_backends_of_the_interface():
    # A solver object with the earlier informal interface (green_submatrix,
    # green, spectral_functions, transmission) used to be accepted and then
    # failed inside force_coefficients with an AttributeError (no
    # green_derivative_submatrix): it is refused at once, naming the base.
    h, leads = wide_band_device()
    dense = DenseInverse(h, leads)

    class Informal:
        green_submatrix = staticmethod(dense.green_submatrix)
        green = staticmethod(dense.green)
        spectral_functions = staticmethod(dense.spectral_functions)
        transmission = staticmethod(dense.transmission)

    with pytest.raises(InputError, match="GreensBackend"):
        Junction(h, leads, solver=Informal())
    with pytest.raises(InputError, match="solver"):
        Junction(h, leads, solver="sparse")

    class NoDerivative(GreensBackend):
        def green_submatrix(self, energy, rows, cols):
            return dense.green_submatrix(energy, rows, cols)

    with pytest.raises(TypeError, match="green_derivative_submatrix"):
        NoDerivative(h.shape[0], leads)
    # a backend built for another device
    with pytest.raises(InputError, match="7 orbitals"):
        Junction(h, leads, solver=DenseInverse(np.zeros((7, 7)), []))
    with pytest.raises(InputError, match="layers"):
        Junction(h, leads, solver=dense, layers=[3, 3])


def test_junction_always_delegates_to_its_backend():
    # No branch on the backend in Junction: the dense default is a backend
    # like any other, and the contour and low-bias guards ask it whether it
    # holds h densely.
    h, leads = wide_band_device()
    j = Junction(h, leads)
    assert isinstance(j.solver, DenseInverse) and j.solver.dense
    assert j.solver.hamiltonian is j.hamiltonian  # one h, as when the junction inverted it itself
    assert not Junction(sp.csr_matrix(h), leads[:2], solver="rgf").solver.dense
    assert not Junction(h, leads, solver=EigenBackend(h, leads)).solver.dense
    for path in SRC.rglob("*.py"):  # nobody tells the dense backend by a None solver any more
        text = path.read_text(encoding="utf-8")
        for old in ("solver is None", "solver is not None", '"solver", None'):
            assert old not in text, f"{path.relative_to(SRC)}: {old}"
    # a dense backend given as an instance keeps h dense, as solver="dense" does
    j = Junction(h, leads, solver=DenseInverse(h, leads))
    assert isinstance(j.hamiltonian, np.ndarray) and j.solver.dense


def test_dense_backend_keeps_the_dense_searches_beyond_the_sparse_limit():
    # The dense eigen-searches stop at 200 orbitals on a sparse backend only
    # (boundstates/resonances.MAX_SPARSE_DENSE); the junction's dense backend
    # is an object now, no longer None, and must still count as dense.
    # Expected: with wide-band leads Sigma is constant, and the poles of G are
    # the eigenvalues of h + Sigma, all of them (not the 24 nearest a
    # reference energy that the sparse path returns).
    n = 201
    rng = np.random.default_rng(3)
    h = np.diag(0.3 * rng.standard_normal(n)) - (np.eye(n, k=1) + np.eye(n, k=-1))
    g0, g1 = np.zeros((n, n)), np.zeros((n, n))
    g0[0, 0] = g1[-1, -1] = 0.5
    j = Junction(h, [WideBandLead(g0), WideBandLead(g1)])
    assert j.bound_states().searched
    lo, hi = -0.5, 0.5
    centers, _ = j.resonances(lo, hi)
    ev = np.linalg.eigvals(h + j.self_energy(0.0)).real
    margin = 0.05 * (hi - lo)
    expected = np.sort(ev[(ev > lo - margin) & (ev < hi + margin)])
    assert expected.size > 24
    assert centers.size == expected.size and np.allclose(np.sort(centers), expected, atol=1e-9)


ALLOWED = {"_checks", "errors", "leads", "greens"}


@pytest.mark.parametrize("path", sorted((SRC / "greens").glob("*.py")), ids=lambda p: p.name)
def test_the_backend_layer_imports_nothing_above_it(path):
    # greens/ sits below junction, forces and noise: it reads the leads and
    # the argument checks only.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            target = (node.module or "").split(".")[0] if node.level == 2 else "greens"
            assert target in ALLOWED, f"{path.name}:{node.lineno} imports currentforces.{target}"


def test_dense_backend_chunks_energies_to_cache_size_with_the_same_numbers():
    """The dense backend splits an energy batch into chunks whose (chunk, N, N)
    arrays hold at most CACHE_ELEMENTS numbers (larger temporaries came as
    fresh system pages on every call: 54 -> 33-37 us per energy for a
    20-orbital chain).  Expected chunk sizes by that rule: 2^14 // 20^2 = 40
    for N = 20, 1 for N = 200.  Each energy is a separate LAPACK problem, so
    G[S, :] and G, dG/dE on S must equal, bit for bit, those
    computed energy by energy (the reference: one call per energy)."""
    from currentforces.greens.dense import CACHE_ELEMENTS
    from currentforces.models.chain import chain_junction

    chain = chain_junction(20, 1.0)
    # an impurity ladder on the perfect chain: no symmetry makes G simple
    j = Junction(np.array(chain.hamiltonian) + np.diag(np.linspace(-1, 1, 20)), chain.leads)
    assert CACHE_ELEMENTS == 2**14 and j.solver._chunk() == 40
    assert DenseInverse(np.zeros((200, 200)), [WideBandLead(np.eye(200))])._chunk() == 1
    e = np.linspace(-2.5, 2.5, 97)  # three chunks, the last one partial
    s = np.arange(3, 15)
    g = j.green_submatrix(e, s, np.arange(20))
    g_d, dg_d = j.green_derivative_submatrix(e, s)
    for k in (0, 39, 40, 96):
        assert np.array_equal(g[k], j.green_submatrix(e[k : k + 1], s, np.arange(20))[0])
        one = j.green_derivative_submatrix(e[k : k + 1], s)
        assert np.array_equal(g_d[k], one[0][0]) and np.array_equal(dg_d[k], one[1][0])
