r"""The dense backend: G(E) = [E S - h - Sigma(E)]^{-1} by dense linear algebra.

The default backend of :class:`~currentforces.Junction`.  A block
G[rows, cols] solves (E - h - Sigma) X = 1[:, cols], or the transposed
system for 1[:, rows] when there are fewer rows (the full inverse when every
row and column is asked for); dG/dE on a set S of orbitals takes the rows
G[S, :] and columns G[:, S] from one factorisation per energy (the rows are
the transposed columns when E - h - Sigma is complex symmetric: real h,
reciprocal leads),

.. math::

    \Big[\frac{dG}{dE}\Big]_{SS} = -G_{S:} G_{:S}
      + \sum_l G_{S s_l} \frac{d\Sigma_l}{dE} G_{s_l S}.

Cost O(N^3) per energy and N x N memory per energy in flight: energies are
processed in chunks of at most :data:`CHUNK_BYTES` of N x N matrices, and of
at most :data:`CACHE_ELEMENTS` matrix elements where that allows more than one
energy per chunk.  For long devices use
:class:`~currentforces.greens.rgf.BlockTridiagonal`.

Units: energies and h in eV, Green's functions 1/eV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import as_dense_matrix, as_orbital_indices, as_overlap
from .base import GreensBackend

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from .._checks import ArrayLike, ComplexArray, Indices, MatrixLike


__all__ = ["DenseInverse", "CHUNK_BYTES", "CACHE_ELEMENTS"]

CHUNK_BYTES = 256 * 2**20
"""Energies are processed in chunks holding at most this many bytes of
N x N complex matrices."""

CACHE_ELEMENTS = 2**14
"""Energies per chunk are also limited so that one (chunk, N, N) array holds
at most this many complex numbers (256 kB), when that leaves at least one
energy: larger temporaries come as fresh pages from the system on every call
(a 20-orbital chain, G and dG/dE with the spectral functions at 256
energies: 54 us per energy in one chunk, 33-37 us in chunks of 32-64,
measured with OPENBLAS_NUM_THREADS=1).  Each energy is computed alone by
LAPACK, so the chunking does not change any number."""


class DenseInverse(GreensBackend):
    r"""Green's functions by the dense inverse of E - h - Sigma(E).

    Parameters
    ----------
    hamiltonian : (N, N) array_like
        Device Hamiltonian h in eV; Hermitian, finite.
    leads : sequence of LeadBase
        The leads (:class:`~currentforces.leads.LeadBase`), read through their
        support blocks.
    overlap : (N, N) array_like, optional
        Overlap matrix S of a non-orthogonal basis (dimensionless, Hermitian
        positive definite; checked); None: S = 1.

    Examples
    --------
    >>> import numpy as np
    >>> from currentforces import WideBandLead
    >>> from currentforces.greens import DenseInverse
    >>> b = DenseInverse([[0.0]], [WideBandLead([[1.0]])])
    >>> complex(b.green_submatrix(0.0, [0], [0])[0, 0])   # 1/(0 - 0 + i/2)
    -2j
    """

    dense = True

    def __init__(self, hamiltonian: MatrixLike, leads: Sequence[Any], overlap: MatrixLike | None = None) -> None:
        h = as_dense_matrix("hamiltonian", hamiltonian, hermitian=True)
        # an exactly Hermitian array (the junction's, symmetrised already) is
        # shared, not copied: one h in memory, and the junction's is the one used
        self.hamiltonian = h if np.array_equal(h, h.conj().T) else 0.5 * (h + h.conj().T)
        """The device Hamiltonian h (eV), dense, Hermitian."""
        super().__init__(h.shape[0], leads)
        if overlap is not None:
            s, _ = as_overlap("overlap", overlap, self.size)
            self.overlap = s if np.array_equal(s, s.conj().T) else 0.5 * (s + s.conj().T)

    def __repr__(self):
        return f"DenseInverse(size={self.size})"

    def _chunk(self):
        n2 = max(1, self.size) ** 2
        return max(1, int(min(CHUNK_BYTES // (16 * n2), CACHE_ELEMENTS // n2)))

    def _inverse_matrix(self, z):
        """E S - h - Sigma(E) for a 1-d batch of energies, (n, N, N)."""
        if self.overlap is None:
            # -h with z added on the diagonal: no n x n identity times z
            m = np.empty((z.size, self.size, self.size), dtype=complex)
            m[...] = -self.hamiltonian
            i = np.arange(self.size)
            m[:, i, i] += z[:, None]
        else:
            m = z[:, None, None] * self.overlap - self.hamiltonian
        self._add_self_energy(m, z, sign=-1.0)
        return m

    def green_submatrix(self, energy: ArrayLike, rows: Indices, cols: Indices) -> ComplexArray:
        r"""Block G(E)[rows, cols] (1/eV): solves (E - h - Sigma) X = 1[:, cols].

        See :meth:`GreensBackend.green_submatrix
        <currentforces.greens.base.GreensBackend.green_submatrix>`.
        """
        e = self._energies(energy)
        rows = as_orbital_indices("rows", rows, self.size)
        cols = as_orbital_indices("cols", cols, self.size)
        flat = e.reshape(-1)
        out = np.empty((flat.size, rows.size, cols.size), dtype=complex)
        step = self._chunk()
        every = min(rows.size, cols.size) == self.size
        unit = np.eye(self.size)
        for i in range(0, flat.size, step):
            z = flat[i : i + step]
            m = self._inverse_matrix(z)
            if every:
                out[i : i + step] = np.linalg.inv(m)[:, rows[:, None], cols[None, :]]
            elif rows.size < cols.size:
                # G[rows, :] = ((E - h - Sigma)^T)^-1 [:, rows], transposed: |rows| right-hand sides
                rhs = unit[:, rows]
                x = np.linalg.solve(np.swapaxes(m, -1, -2), np.broadcast_to(rhs, (z.size,) + rhs.shape))
                out[i : i + step] = np.swapaxes(x, -1, -2)[:, :, cols]
            else:
                rhs = unit[:, cols]
                out[i : i + step] = np.linalg.solve(m, np.broadcast_to(rhs, (z.size,) + rhs.shape))[:, rows, :]
        return out.reshape(e.shape + (rows.size, cols.size))

    def rows_and_columns(self, energy: ArrayLike, orbitals: Indices) -> tuple[ComplexArray, ComplexArray]:
        r"""G[S, :] and G[:, S] (1/eV) for a 1-d batch of energies, from one
        factorisation of E - h - Sigma per energy: the columns solve with the
        ``|S|`` unit vectors, the rows the transposed system; when E - h - Sigma
        is complex symmetric (h symmetric and every Sigma_l symmetric on its
        support, to 1e-14) G^T = G and the rows are the transposed columns
        (returned as a transposed view of them).
        About the cost of one G[:, S], never the whole inverse."""
        from scipy.linalg import lu_factor, lu_solve

        z_all = np.asarray(energy).reshape(-1)
        s = np.asarray(orbitals, dtype=int).reshape(-1)
        rows = None  # G[S, :] as its own array only where some chunk is not symmetric
        cols = np.empty((z_all.size, self.size, s.size), dtype=complex)
        symmetric_chunks = []
        unit = np.eye(self.size)[:, s]
        symmetric_h = getattr(self, "_symmetric_h", None)
        if symmetric_h is None:
            symmetric_h = bool(np.array_equal(self.hamiltonian, self.hamiltonian.T))
            if self.overlap is not None:
                symmetric_h = symmetric_h and bool(np.array_equal(self.overlap, self.overlap.T))
            self._symmetric_h = symmetric_h
        step = self._chunk()
        for i in range(0, z_all.size, step):
            m = self._inverse_matrix(z_all[i : i + step])
            n = m.shape[0]
            if symmetric_h and self._sigma_symmetric(m):
                cols[i : i + n] = np.linalg.solve(m, np.broadcast_to(unit, (n,) + unit.shape))
                symmetric_chunks.append(slice(i, i + n))
                continue
            if rows is None:
                rows = np.empty((z_all.size, s.size, self.size), dtype=complex)
            for k in range(n):
                lu = lu_factor(m[k], check_finite=False)
                cols[i + k] = lu_solve(lu, unit, check_finite=False)
                rows[i + k] = lu_solve(lu, unit, trans=1, check_finite=False).T
        if rows is None:
            # every energy symmetric: the rows are the transposed columns (a view)
            return np.swapaxes(cols, -1, -2), cols
        for part in symmetric_chunks:
            rows[part] = np.swapaxes(cols[part], -1, -2)
        return rows, cols

    def _sigma_symmetric(self, m):
        """Whether the batch m = E - h - Sigma (h symmetric) is symmetric on
        every lead support, where Sigma lives, to 1e-14 of its largest entry."""
        for sup in self.lead_supports():
            block = m[:, sup[:, None], sup[None, :]]
            if block.size and np.max(np.abs(block - np.swapaxes(block, -1, -2))) > 1e-14 * np.max(np.abs(block)):
                return False
        return True

    def green_derivative_submatrix(
        self, energy: ArrayLike, orbitals: Indices, cols: Indices | None = None
    ) -> tuple[ComplexArray, ComplexArray]:
        r"""G[S, S] (or G[S, cols]) and dG/dE[S, S] from one factorisation per energy.

        See :meth:`GreensBackend.green_derivative_submatrix
        <currentforces.greens.base.GreensBackend.green_derivative_submatrix>`.
        """
        e = self._energies(energy)
        s = as_orbital_indices("orbitals", orbitals, self.size)
        c = s if cols is None else as_orbital_indices("cols", cols, self.size)
        flat = e.reshape(-1)
        g_out = np.empty((flat.size, s.size, c.size), dtype=complex)
        d_out = np.empty((flat.size, s.size, s.size), dtype=complex)
        step = self._chunk()
        for i in range(0, flat.size, step):
            z = flat[i : i + step]
            g_rows, g_cols = self.rows_and_columns(z, s)  # G[S, :], G[:, S]
            d_out[i : i + step] = self._derivative_from(z, g_rows, g_cols)
            g_out[i : i + step] = g_rows[:, :, c]
        return g_out.reshape(e.shape + g_out.shape[1:]), d_out.reshape(e.shape + d_out.shape[1:])

    def singular(self, energy: ArrayLike, tol: float) -> NDArray[np.bool_]:
        """Mask over a 1-d batch of real energies: the smallest singular value
        of E - h - Sigma(E) is below ``tol`` (eV)."""
        smallest = np.linalg.svd(self._inverse_matrix(np.asarray(energy)), compute_uv=False).min(axis=-1)
        return ~(smallest > tol)
