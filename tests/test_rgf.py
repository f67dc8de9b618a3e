"""Block-tridiagonal (RGF) solver against the dense inverse: two routes to
the same Green's function, spectral functions and transmission."""

import numpy as np
import pytest
import scipy.sparse as sp

from currentforces import ChainLead, InputError, Junction, Lead, WideBandLead
from currentforces.greens import BlockTridiagonal, layers_from_sparsity

from junctionhelpers import chain_junction

ENERGIES = np.array([-1.3, -0.2, 0.35, 1.1, 0.4 + 0.3j, -2.0 + 1e-3j])


def random_device(sizes, seed=0, trs=False, permute=False):
    """Random Hermitian block-tridiagonal h with two 2-orbital periodic leads
    on the first/last layer and a wide-band lead on the last layer.

    Returns (h, leads, layers) with ``layers`` the orbital indices of each
    layer (shuffled orbital numbering when ``permute``).
    """
    rng = np.random.default_rng(seed)
    n = int(sum(sizes))
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    h = np.zeros((n, n), dtype=complex)
    for k, m in enumerate(sizes):
        a, b = bounds[k], bounds[k + 1]
        blk = rng.standard_normal((m, m)) + (0 if trs else 0.3j) * rng.standard_normal((m, m))
        h[a:b, a:b] = 0.5 * (blk + blk.conj().T)
        if k + 1 < len(sizes):
            c = bounds[k + 2]
            h[a:b, b:c] = -0.8 * rng.random((m, c - b)) + (0 if trs else 0.2j) * rng.standard_normal((m, c - b))
    h = np.triu(h, 1)
    h = h + h.conj().T + np.diag(0.3 * rng.standard_normal(n))
    onsite = np.array([[0.2, 0.4], [0.4, -0.3]])
    hop = np.array([[-1.0, 0.3], [0.2, -0.9]])
    c0 = np.zeros((n, 2), dtype=complex)
    c0[: min(2, sizes[0])] = rng.standard_normal((min(2, sizes[0]), 2))
    c1 = np.zeros((n, 2), dtype=complex)
    c1[n - min(2, sizes[-1]) :] = rng.standard_normal((min(2, sizes[-1]), 2))
    gam = np.zeros((n, n))
    gam[n - 1, n - 1] = 0.15
    layers = [np.arange(bounds[k], bounds[k + 1]) for k in range(len(sizes))]
    if permute:
        p = rng.permutation(n)  # new index of old orbital i is p[i]
        h2 = np.empty_like(h)
        h2[np.ix_(p, p)] = h
        c0[p], c1[p] = c0.copy(), c1.copy()
        gam2 = np.zeros_like(gam)
        gam2[np.ix_(p, p)] = gam
        h, gam = h2, gam2
        layers = [p[idx] for idx in layers]
    leads = [Lead(onsite, hop, c0), Lead(onsite, hop, c1), WideBandLead(gam)]
    return h, leads, layers


CASES = [
    dict(sizes=[3, 2, 4, 3, 2], seed=1),
    dict(sizes=[2, 5, 1, 3, 3, 2, 4], seed=2, trs=True),
    dict(sizes=[4, 3, 3], seed=3, permute=True),
    dict(sizes=[3], seed=4),
    dict(sizes=[2, 3], seed=5),
]


@pytest.fixture(
    params=[(i, s) for i in range(len(CASES)) for s in (True, False)],
    ids=lambda p: f"case{p[0]}-{'streaming' if p[1] else 'general'}",
)
def pair(request):
    """(dense junction, rgf junction, layers) for each device of CASES, with
    the streaming and the general RGF path."""
    case, streaming = request.param
    h, leads, layers = random_device(**CASES[case])
    dense = Junction(h, leads)
    hs = sp.csr_matrix(h)
    rgf = Junction(hs, leads, solver=BlockTridiagonal(hs, leads, layers=layers, streaming=streaming))
    return dense, rgf, layers


def close(a, b, tol):
    scale = max(1.0, float(np.max(np.abs(b))))
    return np.max(np.abs(np.asarray(a) - np.asarray(b))) <= tol["solver"] * scale


def test_green_submatrix_and_full_green_equal_dense(pair, tol):
    dense, rgf, layers = pair
    g = dense.green(ENERGIES)
    assert close(rgf.green(ENERGIES), g, tol)
    rng = np.random.default_rng(7)
    n = dense.size
    for _ in range(4):
        rows = rng.choice(n, size=rng.integers(1, n + 1), replace=False)
        cols = rng.choice(n, size=rng.integers(1, n + 1), replace=False)
        assert close(rgf.green_submatrix(ENERGIES, rows, cols), g[:, rows][:, :, cols], tol)
    # rows in one interior window, columns in it and in the lead layers (the
    # request of the force coefficients)
    for k in range(len(layers)):
        rows = layers[k]
        cols = np.concatenate([layers[0], layers[k], layers[-1]])
        assert close(rgf.green_submatrix(ENERGIES, rows, cols), g[:, rows][:, :, cols], tol)
        if k + 1 < len(layers):
            rows = np.concatenate([layers[k], layers[k + 1]])
            assert close(rgf.green_submatrix(ENERGIES, rows, cols), g[:, rows][:, :, cols], tol)
    # scalar energy and repeated indices
    assert close(
        rgf.green_submatrix(0.3, [0, 0, n - 1], [n - 1, 1 % n]), dense.green(0.3)[[0, 0, n - 1]][:, [n - 1, 1 % n]], tol
    )


def test_transmission_spectral_functions_and_diagonal_blocks_equal_dense(pair, tol):
    dense, rgf, layers = pair
    e = ENERGIES.real
    g, gam = dense.green(e), dense.broadening(e)
    for s in range(3):
        for d in range(3):
            if s != d:
                assert close(rgf.transmission(e, s, d), dense.transmission(e, s, d), tol)
            else:  # Tr[Gamma_s G Gamma_s G^dagger] is no transmission: the solver level only
                ref = np.einsum("eij,ejk,ekl,eli->e", gam[s], g, gam[s], np.conj(np.swapaxes(g, -1, -2))).real
                assert close(rgf.solver.transmission(e, s, s), ref, tol)
    for a_r, a_d in zip(rgf.spectral_functions(e), dense.spectral_functions(e)):
        assert close(a_r, a_d, tol)
    rows, cols = [0, dense.size - 1], np.arange(dense.size)[::2]
    for a_r, a_d in zip(rgf.solver.spectral_functions(e, rows, cols), dense.spectral_functions(e)):
        assert close(a_r, a_d[:, rows][:, :, cols], tol)
    g = dense.green(ENERGIES)
    blocks = rgf.solver.green_diagonal_blocks(ENERGIES)
    for blk, idx in zip(blocks, layers):
        assert close(blk, g[:, idx][:, :, idx], tol)


def test_rgf_junction_keeps_sparse_hamiltonian_and_integrals_agree(tol):
    h, leads, layers = random_device([3, 2, 4, 3], seed=11)
    leads = leads[:2]
    dense = Junction(h, leads)
    rgf = Junction(sp.csr_matrix(h), leads, solver="rgf")
    assert sp.issparse(rgf.hamiltonian)
    kw = dict(bias=0.4, temperature=300.0, fermi_level=0.1)
    assert abs(rgf.current(**kw) - dense.current(**kw)) <= 1e-10 * abs(dense.current(**kw))
    assert close(rgf.density_matrix(**kw), dense.density_matrix(**kw), {"solver": 1e-9})


def test_long_perfect_chain_has_unit_transmission(tol):
    # analytic fact: a perfect chain between identical chain leads transmits 1 in the band
    n = 3000
    h = sp.diags([np.ones(n - 1), np.ones(n - 1)], [1, -1], format="csr") * -1.0
    cl, cr = np.zeros(n), np.zeros(n)
    cl[0], cr[-1] = -1.0, -1.0
    j = Junction(h, [ChainLead(-1.0, cl), ChainLead(-1.0, cr)], solver="rgf")
    assert j.solver.n_layers == n
    e = np.linspace(-1.9, 1.9, 9)
    assert np.allclose(j.transmission(e), 1.0, atol=1e-9, rtol=0)
    small = chain_junction(n_sites=8, hopping=-1.0)
    small_rgf = Junction(small.hamiltonian, small.leads, solver="rgf")
    assert close(small_rgf.green_submatrix(e, [0, 3, 7], [7, 2]), small.green_submatrix(e, [0, 3, 7], [7, 2]), tol)


def test_layers_from_sparsity_on_a_strip():
    # a 3-wide square-lattice strip, 10 long, numbered column by column
    # but with a shuffled numbering: BFS must recover tridiagonal layers
    width, length = 3, 10
    n = width * length
    rng = np.random.default_rng(0)
    p = rng.permutation(n)
    rows, cols = [], []
    for x in range(length):
        for y in range(width):
            i = x * width + y
            if y + 1 < width:
                rows.append(i), cols.append(i + 1)
            if x + 1 < length:
                rows.append(i), cols.append(i + width)
    h = sp.coo_matrix((-np.ones(len(rows)), (p[rows], p[cols])), shape=(n, n))
    h = (h + h.T).tocsr()
    first, last = p[:width], p[n - width :]
    layers = layers_from_sparsity(h, first, last)
    assert sorted(np.concatenate(layers).tolist()) == list(range(n))
    assert set(layers[0].tolist()) == set(first.tolist())
    assert set(last.tolist()) <= set(layers[-1].tolist())
    assert len(layers) == length
    solver = BlockTridiagonal(h, [], layers=layers)  # validates tridiagonality
    assert solver.n_layers == length


def test_bad_partitions_and_solvers_raise_named_errors():
    h, leads, layers = random_device([3, 2, 4], seed=3)
    hs = sp.csr_matrix(h)
    with pytest.raises(InputError, match="layers"):
        Junction(hs, leads, solver="rgf", layers=[3, 2, 3])  # sizes do not add up
    with pytest.raises(InputError, match="layers"):
        Junction(hs, leads, solver="rgf", layers=[4, 1, 4])  # orbital 3 couples layers 0 and 2
    with pytest.raises(InputError, match="layers"):
        Junction(hs, leads, solver="rgf", layers=[np.arange(5), np.arange(4, 9)])  # orbital 4 twice
    mid = np.zeros((9, 9))
    mid[4, 4] = mid[5, 5] = 0.1
    with pytest.raises(InputError, match=r"leads\[2\]"):
        Junction(hs, leads[:2] + [WideBandLead(mid)], solver="rgf", layers=[3, 2, 4])  # straddles 1, 2
    mid[5, 5] = 0.0
    with pytest.raises(InputError, match=r"leads\[2\].*first \(0\) or the last"):
        Junction(hs, leads[:2] + [WideBandLead(mid)], solver="rgf", layers=[3, 2, 4])
    with pytest.raises(InputError, match="solver"):
        Junction(h, leads, solver="sparse")
    with pytest.raises(InputError, match="layers"):
        Junction(h, leads, layers=[3, 2, 4])  # layers only with rgf
    with pytest.raises(InputError, match="hamiltonian"):
        Junction(sp.csr_matrix(np.triu(h)), leads, solver="rgf")  # not Hermitian


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("case", [0, 1, 2])
def test_green_derivative_submatrix_equals_dense(case, streaming, tol):
    h, leads, layers = random_device(**CASES[case])
    dense = Junction(h, leads)
    hs = sp.csr_matrix(h)
    rgf = Junction(hs, leads, solver=BlockTridiagonal(hs, leads, layers=layers, streaming=streaming))
    n = dense.size
    e = np.array([-0.4, 0.9, 0.2 + 0.5j])
    for orbitals in ([0], [n - 1, 1], list(range(3, n - 2)), [n // 2], list(range(n))[::-3], *layers):
        g_d, dg_d = dense.green_derivative_submatrix(e, orbitals)
        g_r, dg_r = rgf.green_derivative_submatrix(e, orbitals)
        assert close(g_r, g_d, tol) and close(dg_r, dg_d, tol)
    # and the dense route against a central finite difference of G
    step = 1e-5
    fd = (dense.green_submatrix(e + step, [2, 4], [2, 4]) - dense.green_submatrix(e - step, [2, 4], [2, 4])) / (
        2 * step
    )
    assert np.allclose(dense.green_derivative_submatrix(e, [2, 4])[1], fd, atol=1e-6 * np.abs(fd).max(), rtol=0)


def wire_with_forces(n_cells=6, width=2, beta=0.6):
    """A width x n_cells square-lattice strip with hopping -1 eV, periodic
    leads of the same cross-section, and force operators for the
    longitudinal displacement of the middle cell's atoms (sparse)."""
    n = width * n_cells
    h = sp.lil_matrix((n, n))
    for x in range(n_cells):
        for y in range(width):
            i = x * width + y
            if y + 1 < width:
                h[i, i + 1] = h[i + 1, i] = -1.0
            if x + 1 < n_cells:
                h[i, i + width] = h[i + width, i] = -1.0
    onsite = -np.eye(width, k=1) - np.eye(width, k=-1)
    c0 = np.zeros((n, width))
    c1 = np.zeros((n, width))
    c0[:width] = -np.eye(width)
    c1[n - width :] = -np.eye(width)
    leads = [Lead(onsite, -np.eye(width), c0), Lead(onsite, -np.eye(width), c1)]
    forces = []
    mid = (n_cells // 2) * width
    for y in range(width):
        i = mid + y
        f = sp.lil_matrix((n, n))
        f[i, i - width] = f[i - width, i] = -beta  # bond to the left stretches
        f[i, i + width] = f[i + width, i] = beta  # bond to the right shrinks
        forces.append(f.tocsr())
    return h.tocsr(), leads, forces


@pytest.mark.parametrize("frequency", [pytest.param(0.0, marks=pytest.mark.slow), 0.05])
def test_force_coefficients_dense_equal_rgf(frequency):
    # the same physics through two Green's-function backends
    from currentforces import force_coefficients

    h, leads, forces = wire_with_forces()
    dense = Junction(h.toarray(), leads)
    rgf = Junction(h, leads, solver="rgf")
    kw = dict(bias=0.3, temperature=300.0, fermi_level=0.4, hbar_omega=frequency, rtol=1e-7)
    cd = force_coefficients(dense, forces, **kw)
    cr = force_coefficients(rgf, forces, **kw)
    for name in ("mean_force", "K", "L", "K_current", "L_current"):
        a, b = getattr(cr, name), getattr(cd, name)
        assert np.allclose(a, b, atol=1e-8 * max(1.0, np.abs(b).max()), rtol=0), name
