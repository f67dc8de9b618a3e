r"""Principal layers: the block-tridiagonal partition of a device.

The recursive Green's function method (:mod:`currentforces.greens.rgf`)
needs the device orbitals split into layers 0, 1, ..., L-1 such that the
Hamiltonian couples only neighbouring layers, with every lead attached to
the first or the last layer::

    lead(s) | layer 0 | layer 1 | ... | layer L-1 | lead(s)

:func:`layers_from_sparsity` finds such a partition from the sparsity
pattern of h; :class:`Layering` checks a partition (found or given), holds
the maps between device orbitals and (layer, position in layer) and the
dense blocks H_kk and H_{k,k+1} that the recursions use.  Nothing here
depends on the energy.

Units: Hamiltonian eV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .._checks import as_orbital_indices
from ..errors import InputError, OverlapError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._checks import ComplexArray, IndexArray, Indices, MatrixLike


__all__ = ["Layering", "layers_from_sparsity"]


def layers_from_sparsity(hamiltonian: MatrixLike, first: Indices, last: Indices | None = None) -> list[IndexArray]:
    """Principal layers of a device from the sparsity pattern of h.

    Breadth-first search on the graph of the non-zero off-diagonal elements
    of h, starting from ``first``: layer 0 is ``first``, layer k+1 holds the
    not yet visited neighbours of layer k.  If ``last`` is given, every layer
    from the first one that contains an orbital of ``last`` to the end is
    merged into the last layer, so that ``last`` lies inside it.  Orbitals
    not connected to ``first`` go into the last layer (they couple to
    nothing, so any layer would do).

    Parameters
    ----------
    hamiltonian : (N, N) array_like or scipy.sparse matrix
        Device Hamiltonian (only its sparsity pattern is used).
    first : array_like of int
        Orbitals of the first layer, usually ``leads[0].support``.
    last : array_like of int, optional
        Orbitals that must lie in the last layer, usually ``leads[1].support``.

    Returns
    -------
    list of ndarray
        Orbital indices of each layer, in order; together a partition of
        range(N) in which h couples only neighbouring layers.
    """
    h = sp.csr_matrix(hamiltonian)
    n = h.shape[0]
    first = np.unique(as_orbital_indices("first", first, n))
    if first.size == 0:
        raise InputError("first: the first layer needs at least one orbital (a lead with empty support?)")
    adj = (h != 0).astype(bool).tocsr()
    visited = np.zeros(n, dtype=bool)
    visited[first] = True
    layers = [first]
    frontier = first
    while True:
        nb = np.unique(adj[frontier].indices)
        nb = nb[~visited[nb]]
        if nb.size == 0:
            break
        visited[nb] = True
        layers.append(nb)
        frontier = nb
    rest = np.flatnonzero(~visited)
    if last is not None:
        last = np.unique(as_orbital_indices("last", last, n))
        where = np.zeros(n, dtype=int)
        for k, idx in enumerate(layers):
            where[idx] = k
        reached = where[last[visited[last]]]
        if reached.size and reached.min() == 0 and reached.max() > 0:
            # `last` straddles the first layer and others: one single layer
            layers = [np.concatenate(layers)]
        elif reached.size and reached.min() > 0:
            kmin = int(reached.min())
            layers = layers[:kmin] + [np.concatenate(layers[kmin:])]
    if rest.size:
        layers[-1] = np.concatenate([layers[-1], rest])
    return [np.sort(idx) for idx in layers]


def _partition(h, layers, leads):
    """The layers as index arrays: found from the leads, or checked as given."""
    n = h.shape[0]
    if layers is None:
        if not leads:
            raise InputError("layers: give layer sizes, or at least one lead to start the partition from")
        last = leads[1].support if len(leads) > 1 else None
        return layers_from_sparsity(h, leads[0].support, last)
    layers = list(layers)
    if not layers:
        raise InputError("layers must not be empty")
    if all(np.ndim(x) == 0 for x in layers):
        try:
            sizes = np.array([int(x) for x in layers])
        except (TypeError, ValueError):
            raise InputError("layers: sizes must be integers") from None
        if np.any(sizes <= 0) or sizes.sum() != n:
            raise InputError(
                f"layers: sizes must be positive and add up to the {n} device orbitals, got sum {sizes.sum()}"
            )
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        return [np.arange(bounds[k], bounds[k + 1]) for k in range(sizes.size)]
    out = [as_orbital_indices(f"layers[{k}]", idx, n) for k, idx in enumerate(layers)]
    allidx = np.concatenate(out)
    if allidx.size != n or np.unique(allidx).size != n or any(idx.size == 0 for idx in out):
        raise InputError(f"layers must be non-empty and hold each of the {n} device orbitals exactly once")
    return out


class Layering:
    r"""A block-tridiagonal partition of a device and the blocks of h on it.

    Parameters
    ----------
    hamiltonian : (N, N) scipy.sparse matrix
        Device Hamiltonian h in eV (checked by the caller).
    layers : None, sequence of int, or sequence of index arrays
        ``None``: :func:`layers_from_sparsity` from ``leads[0].support`` to
        ``leads[1].support``.  A sequence of ints: sizes of consecutive
        layers of orbitals in index order.  A sequence of index arrays: the
        orbitals of each layer.
    leads : sequence of LeadBase
        Every lead's support must lie inside the first or the last layer.
    overlap : (N, N) scipy.sparse matrix, optional
        Overlap matrix S of a non-orthogonal basis (checked by the caller
        except for positive definiteness, checked here by a block Cholesky
        factorisation along the layers); the partition is found from, and
        must be block tridiagonal for, the union of the sparsity patterns of
        h and S.

    Attributes
    ----------
    layers : list of ndarray
        Orbitals of each layer.
    n_layers : int
        L.
    layer_of, local_of : (N,) ndarray of int
        Layer of each orbital, and its position inside that layer.
    sizes, offsets : ndarray of int
        Orbitals per layer, and where each layer starts in layer order.
    diag, up : list of ndarray
        Dense blocks H_kk and H_{k,k+1} (eV).
    sdiag, sup : list of ndarray or None
        Dense blocks S_kk and S_{k,k+1} of the overlap (None: orthogonal).
    overlap_lowest : float or None
        Smallest eigenvalue of the Schur complements of the block Cholesky
        factorisation of S (an upper bound of its smallest eigenvalue).
    lead_layer : list of int
        The layer (0 or L-1) each lead couples to.
    """

    permuted_overlap: Any  # CSR matrix, or None without an overlap

    def __init__(
        self,
        hamiltonian: MatrixLike,
        layers: Sequence[Any] | None = None,
        leads: Sequence[Any] = (),
        overlap: MatrixLike | None = None,
    ) -> None:
        h = sp.csr_matrix(hamiltonian)
        self.size = n = h.shape[0]
        pattern = h if overlap is None else (abs(h) + abs(sp.csr_matrix(overlap))).tocsr()
        self.layers = _partition(pattern, layers, list(leads))
        self.n_layers = len(self.layers)
        self.layer_of = np.empty(n, dtype=int)
        self.local_of = np.empty(n, dtype=int)
        for k, idx in enumerate(self.layers):
            self.layer_of[idx] = k
            self.local_of[idx] = np.arange(idx.size)
        self._check_tridiagonal(h)
        if overlap is not None:
            self._check_tridiagonal(sp.csr_matrix(overlap), "overlap")
        self.sizes = np.array([idx.size for idx in self.layers])
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        order = np.concatenate(self.layers)
        self.permuted = h[order][:, order].tocsr()
        """h with its orbitals in layer order (eV)."""
        self.diag, self.up = self._blocks(self.permuted)
        self.permuted_overlap = self.sdiag = self.sup = self.overlap_lowest = None
        if overlap is not None:
            self.permuted_overlap = sp.csr_matrix(overlap)[order][:, order].tocsr()
            self.sdiag, self.sup = self._blocks(self.permuted_overlap)
            self.overlap_lowest = self._block_cholesky()
        self.lead_layer = [self._lead_layer(i, lead) for i, lead in enumerate(leads)]
        self._windows: dict[tuple[Any, ...], Any] = {}

    def _blocks(self, permuted):
        """Dense diagonal blocks and blocks above the diagonal of a matrix in layer order."""
        diag, up = [], []
        for k in range(self.n_layers):
            a, b = self.offsets[k], self.offsets[k + 1]
            c = self.offsets[k + 2] if k + 1 < self.n_layers else b
            block = permuted[a:b, a:c].toarray()
            diag.append(block[:, : b - a])
            if k + 1 < self.n_layers:
                up.append(block[:, b - a :])
        return diag, up

    def _block_cholesky(self):
        """Check S positive definite by the block Cholesky factorisation along the
        layers: every Schur complement S_kk - S_{k,k-1} C_{k-1}^{-1} S_{k-1,k}
        must be positive definite (linear in the length).  Returns the smallest
        eigenvalue met."""
        lowest = np.inf
        schur = None
        for k in range(self.n_layers):
            c = self.sdiag[k]
            if k:
                u = self.sup[k - 1]
                c = c - u.conj().T @ np.linalg.solve(schur, u)
            c = 0.5 * (c + c.conj().T)
            w = np.linalg.eigvalsh(c)
            scale = max(float(np.abs(w).max()), 1e-300)
            if not w.min() > 1e-12 * scale:
                raise OverlapError(
                    f"overlap is not positive definite: the block Cholesky factorisation along the layers "
                    f"fails at layer {k} (Schur complement eigenvalue {w.min():.3g}); an overlap matrix <i|j> "
                    "of linearly independent orbitals has only positive eigenvalues"
                )
            lowest = min(lowest, float(w.min()))
            schur = c
        return lowest

    def window_overlap(self, a: int, b: int) -> ComplexArray:
        """S on the layers a..b, dense in layer order; kept per window."""
        key = ("S", a, b)
        sc = self._windows.get(key)
        if sc is None:
            o0, o1 = self.offsets[a], self.offsets[b + 1]
            sc = self._windows[key] = self.permuted_overlap[o0:o1, o0:o1].toarray()
        return sc

    def _check_tridiagonal(self, h, name="hamiltonian"):
        coo = h.tocoo()
        gap = np.abs(self.layer_of[coo.row] - self.layer_of[coo.col])
        bad = np.flatnonzero(gap > 1)
        if bad.size:
            i, j = coo.row[bad[0]], coo.col[bad[0]]
            error = OverlapError if name == "overlap" else InputError
            raise error(
                f"layers: the {name} couples orbital {i} (layer {self.layer_of[i]}) to orbital {j} "
                f"(layer {self.layer_of[j]}); only neighbouring layers may be coupled "
                "(the partition is not block tridiagonal)"
            )

    def _lead_layer(self, i, lead):
        last = self.n_layers - 1
        supp = np.asarray(lead.support, dtype=int)
        if supp.size == 0:
            return 0
        where = np.unique(self.layer_of[supp])
        if where.size == 1 and where[0] in (0, last):
            return int(where[0])
        raise InputError(
            f"leads[{i}]: its support (device orbitals {supp.tolist()[:8]}...) lies in layers "
            f"{where.tolist()}, but a lead must couple to the first (0) or the last ({last}) layer "
            "only; choose other layers or enlarge the end layers"
        )

    def window(self, rows: IndexArray, cols: IndexArray, max_orbitals: int) -> tuple[int, int] | None:
        """The layer window a..b of a request (rows, cols) for the streaming path, or None.

        a..b are the layers of ``rows``; the window qualifies when it holds at
        most ``max_orbitals`` orbitals and every column outside it lies in the
        first or the last layer."""
        rl = np.unique(self.layer_of[rows])
        cl = np.unique(self.layer_of[cols])
        a, b = int(rl.min()), int(rl.max())
        if self.offsets[b + 1] - self.offsets[a] > max_orbitals:
            return None
        outside = cl[(cl < a) | (cl > b)]
        if np.all((outside == 0) | (outside == self.n_layers - 1)):
            return a, b
        return None

    def window_index(self, a: int, orbitals: IndexArray) -> IndexArray:
        """Positions of ``orbitals`` (in layers a..b) in the dense basis of a window from layer a."""
        return self.offsets[self.layer_of[orbitals]] - self.offsets[a] + self.local_of[orbitals]

    def window_hamiltonian(self, a: int, b: int) -> ComplexArray:
        """h on the layers a..b, dense in layer order (eV); kept per window."""
        hc = self._windows.get((a, b))
        if hc is None:  # a dict, not one slot: safe when threads share the layering
            o0, o1 = self.offsets[a], self.offsets[b + 1]
            hc = self._windows[(a, b)] = self.permuted[o0:o1, o0:o1].toarray()
        return hc
