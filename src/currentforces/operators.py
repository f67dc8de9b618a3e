r"""Force operators and the batched traces Tr[f_a X f_b Y] for all mode pairs.

Every force coefficient is an energy integral of traces

.. math:: T_{ab}(X, Y) = \mathrm{Tr}[f_a X f_b Y]

with X, Y Green's or spectral functions.  :class:`ForceOperators` validates
the f_a once, finds their common support S (the device orbitals any f_a
touches: only G restricted to S is ever needed) and evaluates T for all
(a, b) and a batch of energies without a Python loop over mode pairs:

* **sparse route** (few orbitals per f_a, the usual case of atomic
  displacements): with the P non-zeros (i_p, j_p, v_p) of all f_a,
  T_ab = sum_{p in a, q in b} v_p v_q X[j_p, i_q] Y[j_q, i_p]; the P x P
  products are gathered at once and summed within mode blocks, cost P^2 per
  energy;
* **dense route**: T = U V^T with U_a = vec(f_a X), V_b = vec((f_b Y)^T),
  cost M s^3 + M^2 s^2 per energy.

The cheaper route is chosen automatically.  Units: f in eV/Angstrom.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._checks import as_operator
from .errors import InputError

__all__ = ["ForceOperators"]


class ForceOperators:
    """Validated force operators f_a = -dh/dX_a on an N-orbital device.

    Parameters
    ----------
    forces : sequence of (N, N) arrays or scipy.sparse matrices
        Hermitian force operators in eV/Angstrom, one per mode.
    size : int
        Number of device orbitals N.

    Attributes
    ----------
    support : ndarray of int
        Sorted device orbitals touched by any f_a.
    dense : ndarray, shape (M, s, s)
        The operators restricted to the support.
    """

    def __init__(self, forces, size):
        if isinstance(forces, np.ndarray) and forces.ndim == 2:
            raise InputError("forces must be a sequence of (N, N) matrices, got one matrix: wrap it in a list")
        try:
            ops = list(forces)
        except TypeError:
            raise InputError("forces must be a sequence of (N, N) force operators") from None
        if not ops:
            raise InputError("forces is empty: give at least one force operator")
        mats = []
        for a, f in enumerate(ops):
            m = as_operator(f"forces[{a}]", f if sp.issparse(f) else np.asarray(f), size=size, hermitian=True)
            mats.append(sp.csr_matrix(m))
        self.size = size
        self.n_modes = len(mats)
        support = set()
        for m in mats:
            coo = m.tocoo()
            support.update(coo.row.tolist())
            support.update(coo.col.tolist())
        self.support = np.array(sorted(support), dtype=int)
        if self.support.size == 0:
            raise InputError("forces: every force operator is zero")
        s = self.support.size
        index = -np.ones(size, dtype=int)
        index[self.support] = np.arange(s)
        self.dense = np.zeros((self.n_modes, s, s), dtype=complex)
        rows, cols, vals, owner = [], [], [], []
        for a, m in enumerate(mats):
            coo = m.tocoo()
            keep = coo.data != 0
            r, c, v = index[coo.row[keep]], index[coo.col[keep]], coo.data[keep]
            self.dense[a, r, c] = v
            rows.append(r)
            cols.append(c)
            vals.append(v)
            owner.append(np.full(r.size, a))
        self._rows = np.concatenate(rows)
        self._cols = np.concatenate(cols)
        self._vals = np.concatenate(vals)
        self._owner = np.concatenate(owner)
        self._starts = np.searchsorted(self._owner, np.arange(self.n_modes))
        self.real = bool(np.all(np.abs(self.dense.imag) == 0))
        nnz = self._vals.size
        self.route = "sparse" if nnz * nnz <= self.n_modes * s**3 + self.n_modes**2 * s**2 else "dense"

    def on_support(self, matrix):
        """Restrict (..., N, N) to (..., s, s) on the support."""
        idx = self.support
        return matrix[..., idx[:, None], idx[None, :]]

    def expectation(self, rho):
        """Tr[f_a rho] for all a, rho (..., s, s) on the support -> (..., M)."""
        return np.einsum("aij,...ji->...a", self.dense, rho)

    def traces(self, x, y):
        r"""T_ab = Tr[f_a X f_b Y] for all a, b.

        Parameters
        ----------
        x, y : ndarray, shape (..., s, s)
            Matrices on the support (batched over leading axes).

        Returns
        -------
        ndarray, shape (..., M, M), complex
        """
        x = np.asarray(x)
        y = np.asarray(y)
        lead = np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
        x = np.broadcast_to(x, lead + x.shape[-2:]).reshape((-1,) + x.shape[-2:])
        y = np.broadcast_to(y, lead + y.shape[-2:]).reshape((-1,) + y.shape[-2:])
        if self.route == "sparse":
            out = self._traces_sparse(x, y)
        else:
            out = self._traces_dense(x, y)
        return out.reshape(lead + (self.n_modes, self.n_modes))

    def _traces_sparse(self, x, y):
        r, c, v = self._rows, self._cols, self._vals
        # W[p, q] = v_p v_q X[c_p, r_q] Y[c_q, r_p]
        xg = x[:, c[:, None], r[None, :]]
        yg = y[:, c[:, None], r[None, :]]
        w = (v[:, None] * v[None, :]) * xg * np.swapaxes(yg, -1, -2)
        w = np.add.reduceat(w, self._starts, axis=1)
        return np.add.reduceat(w, self._starts, axis=2)

    def _traces_dense(self, x, y):
        m = self.n_modes
        u = np.einsum("aij,ejk->eaik", self.dense, x).reshape(x.shape[0], m, -1)
        v = np.einsum("aij,ejk->eaki", self.dense, y).reshape(y.shape[0], m, -1)
        return u @ np.swapaxes(v, -1, -2)
