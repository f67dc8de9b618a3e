"""The principal-layer partition (greens/layers.py), apart from the recursions."""

import numpy as np
import pytest
import scipy.sparse as sp

from currentforces import ChainLead, InputError
from currentforces.greens import layers_from_sparsity
from currentforces.greens.layers import Layering


def _shuffled_ladder(length=6, seed=1):
    """A 2-leg ladder of ``length`` rungs with random Hermitian entries, its
    orbitals numbered in a shuffled order (a block-tridiagonal h in disguise)."""
    rng = np.random.default_rng(seed)
    n = 2 * length
    h = np.zeros((n, n), dtype=complex)
    for x in range(length):
        a, b = 2 * x, 2 * x + 1
        h[a, b] = rng.normal() + 1j * rng.normal()
        if x + 1 < length:
            h[a, a + 2], h[b, b + 2] = rng.normal(), rng.normal() + 0.5j
    h = h + h.conj().T + np.diag(rng.normal(size=n))
    p = rng.permutation(n)
    hp = np.empty_like(h)
    hp[np.ix_(p, p)] = h
    return sp.csr_matrix(hp), p


def test_blocks_reassemble_the_hamiltonian():
    # The layer blocks H_kk, H_{k,k+1} placed back on the layers' orbitals give h
    # exactly (a permutation and a slicing: no arithmetic), and every other block is 0.
    h, p = _shuffled_ladder()
    first = p[[0, 1]]
    lay = Layering(h, leads=[ChainLead(-1.0, np.isin(np.arange(h.shape[0]), first) * 0.5)])
    assert lay.n_layers == 6 and lay.lead_layer == [0]
    dense = np.zeros(h.shape, dtype=complex)
    for k, idx in enumerate(lay.layers):
        dense[np.ix_(idx, idx)] = lay.diag[k]
        if k + 1 < lay.n_layers:
            nxt = lay.layers[k + 1]
            dense[np.ix_(idx, nxt)] = lay.up[k]
            dense[np.ix_(nxt, idx)] = lay.up[k].conj().T
    assert np.array_equal(dense, h.toarray())
    for k, idx in enumerate(lay.layers):  # the maps orbital -> (layer, position) invert the layers
        assert np.all(lay.layer_of[idx] == k) and np.array_equal(lay.local_of[idx], np.arange(idx.size))


def test_window_and_its_dense_basis():
    h, p = _shuffled_ladder()
    lay = Layering(h, layers=[p[2 * x : 2 * x + 2] for x in range(6)])  # the rungs, given explicitly
    rows = np.concatenate([lay.layers[2], lay.layers[3]])
    # columns in the window or in an end layer: streaming window 2..3; an interior
    # column outside it (layer 4) rules the window out
    assert lay.window(rows, np.concatenate([lay.layers[0], rows]), 1024) == (2, 3)
    assert lay.window(rows, lay.layers[4], 1024) is None
    assert lay.window(rows, rows, 3) is None  # 4 orbitals > 3
    hc = lay.window_hamiltonian(2, 3)
    idx = lay.window_index(2, rows)
    assert np.array_equal(hc[np.ix_(idx, idx)], h.toarray()[np.ix_(rows, rows)])


def test_partition_errors_name_the_argument():
    h, _ = _shuffled_ladder(3)
    with pytest.raises(InputError, match="layers: give layer sizes"):
        Layering(h)
    with pytest.raises(InputError, match="add up to the 6 device orbitals"):
        Layering(h, layers=[2, 2])
    with pytest.raises(InputError, match="exactly once"):
        Layering(h, layers=[[0, 1, 2], [2, 3, 4, 5]])


def test_old_import_path():
    from currentforces.greens import layers, rgf

    assert rgf.layers_from_sparsity is layers.layers_from_sparsity is layers_from_sparsity
