"""Batched traces Tr[f_a X f_b Y] against a plain double loop."""

import numpy as np
import pytest
import scipy.sparse as sp

from currentforces import InputError
from currentforces.operators import ForceOperators

from forcehelpers import trace_loop


def random_hermitian(rng, n, density=1.0):
    m = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    if density < 1:
        m = m * (rng.random((n, n)) < density)
    return m + m.conj().T


@pytest.mark.parametrize("density", [0.05, 1.0])
def test_traces_equal_double_loop_both_routes(density):
    rng = np.random.default_rng(3)
    n, m = 9, 5
    forces = [random_hermitian(rng, n, density) for _ in range(m)]
    ops = ForceOperators(forces, n)
    x = rng.standard_normal((2, n, n)) + 1j * rng.standard_normal((2, n, n))
    y = rng.standard_normal((2, n, n)) + 1j * rng.standard_normal((2, n, n))
    ref = np.array([trace_loop(forces, x[k], y[k]) for k in range(2)])
    xs, ys = ops.on_support(x), ops.on_support(y)
    for route in ("sparse", "dense"):
        ops.route = route
        assert np.allclose(ops.traces(xs, ys), ref, atol=1e-11, rtol=0)
    # the trace lemma (docs/theory.rst eq-trace-lemma):
    # Tr[f_b X f_a Y] = conj Tr[f_a X^dagger... ] for Hermitian X, Y
    xh = xs + np.conj(np.swapaxes(xs, -1, -2))
    yh = ys + np.conj(np.swapaxes(ys, -1, -2))
    t = ops.traces(xh, yh)
    assert np.allclose(np.swapaxes(t, -1, -2), np.conj(t), atol=1e-10, rtol=0)


def test_sparse_input_and_bad_operators():
    f = sp.csr_matrix(np.diag([1.0, 0, 0]))
    ops = ForceOperators([f], 3)
    assert ops.support.tolist() == [0]
    with pytest.raises(InputError, match=r"forces\[1\] is not Hermitian"):
        ForceOperators([np.eye(2), [[0, 1], [0, 0]]], 2)
    with pytest.raises(InputError, match=r"forces\[0\] has shape \(3, 3\)"):
        ForceOperators([np.eye(3)], 2)
    with pytest.raises(InputError, match=r"forces\[0\] contains NaN"):
        ForceOperators([np.diag([np.nan, 1.0])], 2)
    with pytest.raises(InputError, match="forces is empty"):
        ForceOperators([], 2)
    with pytest.raises(InputError, match="wrap it in a list"):
        ForceOperators(np.eye(2), 2)


def test_traces_many_equals_single_traces():
    rng = np.random.default_rng(5)
    n = 8
    forces = [random_hermitian(rng, n, 0.1) for _ in range(4)]
    ops = ForceOperators(forces, n)
    s = ops.support.size
    x = rng.standard_normal((3, s, s)) + 1j * rng.standard_normal((3, s, s))
    y = rng.standard_normal((3, s, s)) + 1j * rng.standard_normal((3, s, s))
    many = ops.traces_many([(x, y), (y, y), (x, x)])
    for got, (a, b) in zip(many, [(x, y), (y, y), (x, x)]):
        assert np.allclose(got, ops.traces(a, b), atol=1e-12, rtol=0)


def test_dense_and_sparse_inputs_give_the_same_operators():
    # the dense fast path (validation on the non-zero entries only) and the
    # scipy.sparse path must agree entry by entry, explicit zeros included
    rng = np.random.default_rng(7)
    n = 12
    forces = [random_hermitian(rng, n, 0.1) for _ in range(4)]
    forces.append(np.zeros((n, n)))
    dense = ForceOperators(forces, n)
    sparse = ForceOperators([sp.csr_matrix(f) for f in forces], n)
    assert dense.support.tolist() == sparse.support.tolist()
    assert np.array_equal(dense.dense, sparse.dense)
    # Hermiticity is judged against the largest entry, as check_hermitian does
    f = forces[0].copy()
    i, j = np.argwhere(f != 0)[0]
    f[i, j] += 1e-8 * np.abs(f).max() if i != j else 1e-8j * np.abs(f).max()
    with pytest.raises(InputError, match=r"forces\[0\] is not Hermitian"):
        ForceOperators([f], n)
    with pytest.raises(InputError, match=r"forces\[0\] contains NaN"):
        ForceOperators([np.diag([np.inf, 0.0])], 2)


def test_traces_many_with_large_gathers():
    # more than _SHARED_GATHER_MAX gathered entries: the pairs are traced
    # one by one; same numbers as single traces
    from currentforces.operators import _SHARED_GATHER_MAX

    rng = np.random.default_rng(8)
    n = 40
    forces = [random_hermitian(rng, n, 0.5) for _ in range(4)]
    ops = ForceOperators(forces, n)
    ops.route = "sparse"
    assert ops._orb.size**2 > _SHARED_GATHER_MAX
    s = ops.support.size
    x = rng.standard_normal((2, s, s)) + 1j * rng.standard_normal((2, s, s))
    y = rng.standard_normal((2, s, s)) + 1j * rng.standard_normal((2, s, s))
    for got, (a, b) in zip(ops.traces_many([(x, y), (y, x)]), [(x, y), (y, x)]):
        assert np.allclose(got, ops._traces_sparse(a, b), atol=1e-12, rtol=0)


# --- property-based: every trace route against a plain dense reference ------
#
# Random operator sets built from hypothesis-drawn structure (which modes are
# zero, single-orbital, on a random orbital subset, or copies of an earlier
# mode; which input format) and numpy-drawn values.  The reference is the
# definition itself, np.trace(f_a @ X @ f_b @ Y) on the full N-orbital space:
# restricting X, Y to the support S is exact because every index of the trace
# is summed against a row or column of some f, which vanishes outside S.  A
# zero operator must give an exactly zero row and column (the empty sum).
# database=None: no .hypothesis/ example store in the working tree.

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

KINDS = ("zero", "full", "subset", "single", "pair", "copy")
FORMATS = ("ndarray", "list", "csr", "csc", "coo", "coo_duplicates", "csr_explicit_zeros", "csr_array")


def _hermitian_on(rng, n, orbitals, real):
    """Hermitian (n, n) matrix with non-zero entries only on ``orbitals``."""
    m = np.zeros((n, n), dtype=float if real else complex)
    k = len(orbitals)
    block = rng.standard_normal((k, k)) + (0 if real else 1j * rng.standard_normal((k, k)))
    m[np.ix_(orbitals, orbitals)] = block + np.conj(block.T)  # exactly Hermitian
    return m


def _as_format(rng, m, fmt):
    """The same operator in another input format (every one represents m exactly)."""
    if fmt == "ndarray":
        return m
    if fmt == "list":
        return m.tolist()
    if fmt in ("csr", "csc", "coo"):
        return {"csr": sp.csr_matrix, "csc": sp.csc_matrix, "coo": sp.coo_matrix}[fmt](m)
    if fmt == "csr_array":
        return sp.csr_array(m)
    r, c = np.nonzero(m)
    v = m[r, c]
    if fmt == "coo_duplicates":  # every entry stored twice as v/2 + v/2 (exact)
        return sp.coo_matrix((np.r_[v / 2, v / 2], (np.r_[r, r], np.r_[c, c])), shape=m.shape)
    # csr_explicit_zeros: stored zeros at random positions (not part of the support)
    extra = rng.integers(0, m.shape[0], size=(2, 3))
    keep = m[extra[0], extra[1]] == 0
    rz, cz = extra[0][keep], extra[1][keep]
    return sp.csr_matrix((np.r_[v, np.zeros(rz.size)], (np.r_[r, rz], np.r_[c, cz])), shape=m.shape)


@st.composite
def operator_sets(draw, min_modes=1, max_modes=6):
    """(forces as given, the same as dense complex arrays, N, rng)."""
    n = draw(st.integers(1, 7))
    m = draw(st.integers(min_modes, max_modes))
    real = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dense = []
    for a in range(m):
        kind = draw(st.sampled_from(KINDS))
        if kind == "copy" and dense:  # identical operators
            f = dense[draw(st.integers(0, a - 1))].copy()
        elif kind == "zero":
            f = np.zeros((n, n))
        elif kind == "full":
            f = _hermitian_on(rng, n, list(range(n)), real)
        elif kind == "single":  # one orbital: c |i><i|
            f = np.zeros((n, n))
            f[(i := draw(st.integers(0, n - 1))), i] = rng.standard_normal()
        elif kind == "pair" and n > 1:  # one hopping i <-> j, zero diagonal
            i, j = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
            f = np.zeros((n, n), dtype=complex)
            f[i, j] = rng.standard_normal() + (0 if real else 1j * rng.standard_normal())
            f[j, i] = np.conj(f[i, j])
        else:  # random subset: overlapping or disjoint
            orbs = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
            f = _hermitian_on(rng, n, sorted(orbs), real)
        dense.append(np.asarray(f, dtype=complex))
    given_ = [_as_format(rng, f.real if real else f, draw(st.sampled_from(FORMATS))) for f in dense]
    return given_, dense, n, rng


def _random_matrices(rng, e, n):
    return rng.standard_normal((e, n, n)) + 1j * rng.standard_normal((e, n, n))


def _reference(dense, x, y):
    """np.trace(f_a @ X @ f_b @ Y) for every energy and mode pair: (e, M, M)."""
    return np.array([[[np.trace(fa @ xk @ fb @ yk) for fb in dense] for fa in dense] for xk, yk in zip(x, y)])


def _close(got, ref):
    # same sums in double precision, only the order of summation differs
    # (N <= 7, O(1) entries): round-off ~ 1e-15 of the largest term
    scale = max(1.0, float(np.max(np.abs(ref), initial=0.0)))
    return np.allclose(got, ref, rtol=0, atol=1e-12 * scale)


@settings(max_examples=80, deadline=None, database=None)
@given(operator_sets(), st.integers(1, 3), st.integers(1, 3))
def test_every_trace_route_equals_dense_reference(case, n_energies, batch):
    forces, dense, n, rng = case
    zero = [not np.any(f) for f in dense]
    if all(zero):
        # no mode couples to the electrons: a named error, not a zero matrix
        with pytest.raises(InputError, match="identically zero"):
            ForceOperators(forces, n)
        return
    ops = ForceOperators(forces, n)
    # the support is exactly the orbitals some f_a touches (stored zeros excluded)
    touched = np.flatnonzero(np.any([np.abs(f) + np.abs(f.T) for f in dense], axis=(0, 1)))
    assert ops.support.tolist() == touched.tolist()
    assert ops.route in ("sparse", "dense")
    x, y, rho = (_random_matrices(rng, n_energies, n) for _ in range(3))
    xs, ys, rhos = ops.on_support(x), ops.on_support(y), ops.on_support(rho)
    idx = ops.support
    assert np.array_equal(xs, x[:, idx][:, :, idx])  # on_support is plain fancy indexing
    ref_xy, ref_yx, ref_xx = _reference(dense, x, y), _reference(dense, y, x), _reference(dense, x, x)
    # Tr[f_a rho] by the definition, on the full space
    ref_exp = np.array([[np.trace(f @ r) for f in dense] for r in rho])
    assert _close(ops.expectation(rhos), ref_exp)
    assert np.all(ops.expectation(rhos)[:, zero] == 0)
    ops._batch = batch  # exercise the energy batching (batch boundaries inside the stack)
    for route, padded in (("sparse", False), ("sparse", True), ("dense", False)):
        ops.route, ops.padded = route, padded  # the sparse route with and without the padded stack
        t = ops.traces(xs, ys)
        assert _close(t, ref_xy), route
        assert np.all(t[:, zero, :] == 0) and np.all(t[:, :, zero] == 0), route
        assert _close(ops.traces(xs[0], ys[0]), ref_xy[0]), route  # unbatched (s, s) input
        many = ops.traces_many([(xs, ys), (ys, xs), (xs, xs)])
        for got, ref in zip(many, (ref_xy, ref_yx, ref_xx)):
            assert _close(got, ref), route
            assert np.all(got[:, zero, :] == 0) and np.all(got[:, :, zero] == 0), route


@settings(max_examples=50, deadline=None, database=None)
@given(operator_sets(min_modes=2), st.randoms(use_true_random=False))
def test_permuting_the_modes_permutes_every_trace(case, random):
    forces, dense, n, rng = case
    if not any(np.any(f) for f in dense):
        return
    perm = list(range(len(forces)))
    random.shuffle(perm)
    ops, ops_p = ForceOperators(forces, n), ForceOperators([forces[p] for p in perm], n)
    # the support is a property of the set of operators, not of their order
    assert ops.support.tolist() == ops_p.support.tolist()
    x, y = (ops.on_support(_random_matrices(rng, 2, n)) for _ in range(2))
    t = ops.traces(x, y)
    for route, padded in (("sparse", False), ("sparse", True), ("dense", False)):
        ops_p.route, ops_p.padded = route, padded
        assert _close(ops_p.traces(x, y), t[:, perm][:, :, perm]), route
        assert _close(ops_p.traces_many([(x, y)])[0], t[:, perm][:, :, perm]), route
    assert _close(ops_p.expectation(x), ops.expectation(x)[:, perm])


def test_operators_dense_on_their_support_take_the_dense_route():
    """Force operators with every entry non-zero (a Löwdin-orthogonalised
    basis spreads -dH/dX over all orbitals) cost the same multiply-adds on
    both routes, and the CSR product of the sparse one is several times
    slower than BLAS: the dense route must be chosen.  (The cost model
    once counted the sparse product as Q*s instead of nnz*s and sent them
    to the sparse route, ~7x slower for the xTB junctions.)  Operators that
    touch a few rows, the atomic-displacement case, stay sparse."""
    rng = np.random.default_rng(1)
    n = 40
    dense_ops = []
    for _ in range(4):
        a = rng.standard_normal((n, n))
        dense_ops.append(a + a.T)
    assert ForceOperators(dense_ops, n).route == "dense"
    local = []
    for k in range(4):
        f = np.zeros((n, n))
        f[k, :] = f[:, k] = rng.standard_normal(n)
        local.append(f)
    assert ForceOperators(local, n).route == "sparse"


def test_sparse_route_pads_the_stack_only_when_modes_touch_alike_many_rows():
    """The sparse route contracts a padded stack (every mode's rows padded
    to the most rows of any mode, P = M r) when P is at most _PAD_MAX Q, the
    unpadded stack: the contraction costs P^2 per energy against ~2 Q^2 for
    the segment sums.  Expected values by counting rows: the chain's bond
    forces touch 2 rows at the ends and 3 inside (Q = 54, P = 18 * 3 = 54);
    one operator touching all 30 rows and three touching one (Q = 33,
    P = 4 * 30 = 120) must not be padded.  Both give the double-loop traces."""
    from currentforces.models.chain import chain_force_operators
    from currentforces.operators import _PAD_MAX

    chain = ForceOperators(chain_force_operators(20, 1.0), 20)
    assert (chain._orb.size, chain.n_modes * chain._pad_rows) == (54, 54)
    assert chain.route == "sparse" and chain.padded
    rng = np.random.default_rng(2)
    n = 30
    wide = np.zeros((n, n))
    wide[0, :] = wide[:, 0] = rng.standard_normal(n)
    forces = [wide] + [np.diag(np.eye(n)[k]) for k in (3, 7, 11)]
    ops = ForceOperators(forces, n)
    assert ops._orb.size == 33 and ops._pad_rows == 30 and 4 * 30 > _PAD_MAX * 33
    assert ops.route == "sparse" and not ops.padded
    x = rng.standard_normal((2, n, n)) + 1j * rng.standard_normal((2, n, n))
    y = rng.standard_normal((2, n, n)) + 1j * rng.standard_normal((2, n, n))
    ref = np.array([trace_loop(forces, x[k], y[k]) for k in range(2)])
    xs, ys = ops.on_support(x), ops.on_support(y)
    for padded in (False, True):
        ops.padded = padded
        assert _close(ops.traces(xs, ys), ref)
        assert _close(ops.traces_many([(xs, ys)])[0], ref)


@settings(max_examples=80, deadline=None, database=None)
@given(operator_sets(), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4))
def test_factored_traces_equal_dense_reference(case, n_energies, batch, rank):
    """A second matrix given factored, Y = V C V^dagger (V: (N, R), C: (R, R)
    arbitrary complex; a lead's spectral function G Gamma G^dagger is one):
    factored_traces and the products B_a = V^dagger f_a V against the
    definitions on the full space, np.trace(f_a X f_b Y) with Y formed and
    V^dagger f_a V, on both layouts of the sparse stack (padded or not)
    and across energy-batch boundaries.  A zero operator gives exactly zero
    rows and columns.  Also Tr[f_a Y] = Tr[B_a C] and Tr[f_a Y f_b Y] =
    Tr[B_a C B_b C] (cyclic trace), as FactoredSpectra uses them."""
    from currentforces.forces import FactoredSpectra

    forces, dense, n, rng = case
    zero = [not np.any(f) for f in dense]
    if all(zero):
        return
    ops = ForceOperators(forces, n)
    x = _random_matrices(rng, n_energies, n)
    v = rng.standard_normal((n_energies, n, rank)) + 1j * rng.standard_normal((n_energies, n, rank))
    c = rng.standard_normal((n_energies, rank, rank)) + 1j * rng.standard_normal((n_energies, rank, rank))
    y = v @ c @ np.conj(np.swapaxes(v, 1, 2))
    ref_xy, ref_yy = _reference(dense, x, y), _reference(dense, y, y)
    ref_b = np.array([[np.conj(vk.T) @ f @ vk for f in dense] for vk in v])
    ref_exp = np.array([[np.trace(f @ yk) for f in dense] for yk in y])
    xs, vs = ops.on_support(x), v[:, ops.support, :]
    ops._batch = batch
    for padded in (False, True):
        ops.padded = padded
        rows = ops.factor_rows(vs)
        (t,) = ops.factored_traces([(xs, c)], rows)
        assert _close(t, ref_xy), padded
        assert np.all(t[:, zero, :] == 0) and np.all(t[:, :, zero] == 0), padded
        b = ops.factor_products(vs, rows)
        assert _close(b, ref_b), padded
        assert np.all(b[:, zero] == 0), padded
        spectra = FactoredSpectra(ops, vs, [c])  # one "lead" whose Gamma is C
        assert _close(spectra.expectation(c), ref_exp), padded
        assert _close(spectra.surface(), ref_yy), padded
