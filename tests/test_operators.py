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
    # the trace lemma (formulas.md §1): Tr[f_b X f_a Y] = conj Tr[f_a X^dagger... ] for Hermitian X, Y
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
    assert ops._orb.size ** 2 > _SHARED_GATHER_MAX
    s = ops.support.size
    x = rng.standard_normal((2, s, s)) + 1j * rng.standard_normal((2, s, s))
    y = rng.standard_normal((2, s, s)) + 1j * rng.standard_normal((2, s, s))
    for got, (a, b) in zip(ops.traces_many([(x, y), (y, x)]), [(x, y), (y, x)]):
        assert np.allclose(got, ops._traces_sparse(a, b), atol=1e-12, rtol=0)
