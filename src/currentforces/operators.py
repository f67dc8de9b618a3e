r"""Force operators and the batched traces Tr[f_a X f_b Y] for all mode pairs.

Every force coefficient is an energy integral of traces

.. math:: T_{ab}(X, Y) = \mathrm{Tr}[f_a X f_b Y]

with X, Y Green's or spectral functions.  :class:`ForceOperators` validates
the f_a once, finds their common support S (the device orbitals any f_a
touches: only G restricted to S is ever needed) and evaluates T for all
(a, b) and a batch of energies without a Python loop over mode pairs:

* **sparse route** (few orbitals per f_a, the usual case of atomic
  displacements): only the rows R_a where f_a is non-zero matter,
  T_ab = sum_{i in R_a, j in R_b} (f_a X)_{ij} (f_b Y)_{ji}; stacking the
  Q = ``sum_a |R_a|`` rows of all f_a X and f_b Y, the Q x Q products are
  gathered at once and summed within mode blocks: cost Q s + Q^2 per
  energy, proportional to the orbitals each f_a touches.  When the modes
  touch about as many rows each, every block is padded with zero rows to
  the same r, and the block sums become sums over whole axes of the
  gathered P x P arrays seen as (M, r, M, r) (P = M r);
* **dense route**: T = U V^T with U_a = vec(f_a X), V_b = vec((f_b Y)^T),
  cost M s^3 + M^2 s^2 per energy.

The cheaper route is chosen automatically.  Units: f in eV/Angstrom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ._checks import HERMITIAN_RTOL, as_operator
from .errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from ._checks import ComplexArray, OperatorsLike

__all__ = ["ForceOperators", "combine", "stacked_operators"]

_SHARED_GATHER_MAX = 2**14
"""Largest gathered (Q x Q) array, in complex numbers, that traces_many keeps
for reuse across the traces of one energy batch (Q = 72: sharing is ~15 %
faster; Q = 210: ~3x slower, measured with OPENBLAS_NUM_THREADS=1)."""


_PAD_MAX = 1.25
"""Largest padded stack of the sparse route, relative to the unpadded Q
(:meth:`ForceOperators._pad_layout`): the padded sums cost ~P^2 per
energy, the segment sums 2-3 Q^2."""


_PAD_ADDS = 16
"""Up to this many rows per mode the padded traces sum over j by adds of
slices; beyond, by one reduction over the innermost axis."""


_FACTORED_RANK_MAX = 4
"""Most columns R of the factor V of Y = V C V^dagger for which
:meth:`ForceOperators.factored_traces` is used by the force-coefficient
integrand, or P/16 where that is more (P rows in the stack): its weight
costs P^2 R per energy.  Measured on the window integrand of a chain with
wide-band leads on R/2 orbitals each, 150 energies, adiabatic: P = 54,
R = 2 / 4 / 8: 9.1 / 10.4 / 12.1 ms factored against 13.0 / 12.9 / 8.6 ms
with A_l formed; P = 174, R = 8 / 16: 78 / 138 ms against 104 / 100 ms."""


_CSR_SLOWDOWN = 4
"""Cost of one multiply-add of the sparse route's CSR product relative to
one of BLAS (measured ~7 for dense operators; 4 keeps every operator with
few non-zero rows, the atomic-displacement case, on the sparse route)."""


class ForceOperators:
    """Validated force operators f_a = -dh/dX_a on an N-orbital device.

    Parameters
    ----------
    forces : sequence of (N, N) arrays or scipy.sparse matrices
        Hermitian force operators in eV/Angstrom, one per mode.  An operator
        may be identically zero (e.g. the transverse force on an s orbital
        of a straight chain): its row and column of every trace and its
        expectation value are then exactly zero.  At least one must be
        non-zero.
    size : int
        Number of device orbitals N.

    Attributes
    ----------
    support : ndarray of int
        Sorted device orbitals touched by any f_a.
    dense : ndarray, shape (M, s, s)
        The operators restricted to the support.
    """

    def __init__(self, forces: OperatorsLike, size: int) -> None:
        if isinstance(forces, np.ndarray) and forces.ndim == 2:
            raise InputError("forces must be a sequence of (N, N) matrices, got one matrix: wrap it in a list")
        try:
            ops = list(forces)
        except TypeError:
            raise InputError("forces must be a sequence of (N, N) force operators") from None
        if not ops:
            raise InputError("forces is empty: give at least one force operator")
        triplets = [_nonzero_entries(f"forces[{a}]", f, size) for a, f in enumerate(ops)]
        self.size = size
        self.n_modes = len(triplets)
        # support and row sets from the non-zero values only: a sparse input
        # may hold explicit zeros, and a zero operator (e.g. the x force on an
        # s orbital of a straight chain) touches no orbital at all
        self.support = np.unique(np.concatenate([np.concatenate([r, c]) for r, c, _ in triplets]).astype(int))
        if self.support.size == 0:
            raise InputError(
                f"forces: all {self.n_modes} force operators are identically zero, so every "
                "force coefficient would vanish; give at least one displacement that couples "
                "to the electrons (e.g. check the movable atoms and axes)"
            )
        s = self.support.size
        index = -np.ones(size, dtype=int)
        index[self.support] = np.arange(s)
        self.dense = np.zeros((self.n_modes, s, s), dtype=complex)
        row_sets = []
        for a, (r, c, v) in enumerate(triplets):
            r, c = index[r], index[c]
            self.dense[a, r, c] = v
            row_sets.append(np.unique(r))
        # stacked non-zero rows: row k of the stack is row _orb[k] of f_{_owner[k]}
        self._orb = np.concatenate(row_sets)
        self._owner = np.concatenate([np.full(rs.size, a) for a, rs in enumerate(row_sets)])
        # modes with at least one non-zero row and where their block starts in
        # the stack (strictly increasing: np.add.reduceat would copy a
        # neighbour's block for a repeated start, not give the empty sum 0)
        self._active = np.flatnonzero([rs.size for rs in row_sets])
        self._starts = np.searchsorted(self._owner, self._active)
        self._rows_of_f = sp.csr_matrix(self.dense[self._owner, self._orb, :])  # (Q, s), sparse
        self._pad_layout()
        self.real = bool(np.all(np.abs(self.dense.imag) == 0))
        q = self._orb.size
        # per energy: the sparse route multiplies the Q stacked rows (nnz
        # non-zero entries) into an s x s matrix (nnz * s multiply-adds in
        # scipy's CSR kernel, ~7x slower per operation than BLAS: M = 4 dense
        # 118 x 118 operators, 0.40 s against 0.057 s for 8 energies) and
        # gathers Q x Q; the dense one makes M BLAS products of s x s matrices
        # and an M x s^2 one.  Operators dense on their support (a
        # Löwdin-orthogonalised basis) belong on the dense route
        sparse_cost = _CSR_SLOWDOWN * self._rows_of_f.nnz * s + q * q
        self.route = "sparse" if sparse_cost < self.n_modes * s**3 + self.n_modes**2 * s**2 else "dense"
        # energies per batch: the route's work array (Q x Q or P x P, or
        # M x s^2) stays near 512 kB (2^15 complex numbers), in cache; measured
        # faster than large batches (N = 400, M = 120: 0.66 s at 1 energy per
        # batch against 0.93 s at 5 and 1.18 s at 16, benchmarks/
        # bench_coefficients.py).  traces_many keeps one gathered array per
        # distinct matrix alive (four or five): at 1 MB each (2^16) they were
        # fresh pages from the system every batch, and the adiabatic window
        # integrand of a 20-site chain (Q = 54) spent 177 us per energy in
        # traces_many against 69 us at half the batch
        if self.route == "dense":
            work = self.n_modes * s * s
        else:
            work = self._stack**2
        self._batch = max(1, int(2**15 // max(1, work)))

    def _pad_layout(self) -> None:
        """The padded stack of the sparse route: every active mode's rows
        padded with zero rows to r, the most rows of any mode, so that the
        sums over the rows of a and b become sums over whole axes of length
        r (:meth:`_reduce`) instead of two segment sums
        (``np.add.reduceat`` over short segments of the last axis, 2-3x
        slower, measured on a 20-site chain).
        Used when the padded stack P = M_active r is at most
        :data:`_PAD_MAX` times Q (the contraction costs P^2 per energy)."""
        counts = np.bincount(self._owner, minlength=self.n_modes)[self._active]
        r = int(counts.max(initial=0))
        p = self._active.size * r
        self._pad_rows = r
        self.padded = bool(p <= _PAD_MAX * self._orb.size)
        # position of stacked row k in the padded stack: its mode's slot
        # times r plus its rank within the mode
        slot = np.repeat(np.arange(self._active.size), counts)
        rank = np.arange(self._orb.size) - np.repeat(self._starts, counts)
        pos = slot * r + rank
        rows = sp.coo_matrix(self._rows_of_f)
        self._pad_f = sp.csr_matrix((rows.data, (pos[rows.row], rows.col)), shape=(p, self.support.size))
        # padded rows gather any column (0): they multiply a zero row
        self._pad_orb = np.zeros(p, dtype=int)
        self._pad_orb[pos] = self._orb

    def on_support(self, matrix: NDArray[Any]) -> NDArray[Any]:
        """Restrict (..., N, N) to (..., s, s) on the support."""
        idx = self.support
        return matrix[..., idx[:, None], idx[None, :]]

    def expectation(self, rho: NDArray[Any]) -> ComplexArray:
        """Tr[f_a rho] for all a, rho (..., s, s) on the support -> (..., M)."""
        rho = np.asarray(rho)
        flat = np.swapaxes(rho, -1, -2).reshape(rho.shape[:-2] + (-1,))
        return flat @ self.dense.reshape(self.n_modes, -1).T

    def sandwiches(self, left: NDArray[Any], right: NDArray[Any]) -> ComplexArray:
        """left f_a right for every a: ``left`` (p, s) and ``right`` (s, q) on
        the support give (M, p, q), through the non-zero rows of each f_a
        (cost p q times their number, not p q s per operator)."""
        fr = np.asarray(self._rows_of_f @ right)  # (f_a right)[R_a, :] stacked, (Q, q)
        out = np.zeros((self.n_modes, left.shape[0], right.shape[1]), dtype=complex)
        stops = np.append(self._starts[1:], self._orb.size)
        for a, start, stop in zip(self._active, self._starts, stops):
            out[a] = left[:, self._orb[start:stop]] @ fr[start:stop]
        return out

    def traces(self, x: NDArray[Any], y: NDArray[Any]) -> ComplexArray:
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

    def traces_many(self, pairs: Sequence[tuple[NDArray[Any], NDArray[Any]]]) -> list[ComplexArray]:
        """[T(X, Y) for (X, Y) in pairs] for batches of shape (e, s, s),
        computing the gathered rows of each distinct X and Y once (the
        force-coefficient integrand reuses G and A in several traces)."""
        if self.route != "sparse" or self._stack**2 > _SHARED_GATHER_MAX:
            # large gathers: recomputing them is faster than keeping several
            # alive (Q = 210 rows, N = 200: 1.2 ms against 3.4 ms for six
            # traces sharing four gathers, benchmarks/bench_low_bias.py case)
            return [self.traces(x, y) for x, y in pairs]
        n = pairs[0][0].shape[0]
        outs = [np.empty((n, self.n_modes, self.n_modes), dtype=complex) for _ in pairs]
        # the gathered arrays of a batch, all alive at once, stay within the
        # budget of one trace's two (see _batch)
        kept = len({id(x) for x, _ in pairs}) + len({id(y) for _, y in pairs})
        batch = max(1, 2 * self._batch // kept)
        for i in range(0, n, batch):
            left, right = {}, {}
            for k, (x, y) in enumerate(pairs):
                if id(x) not in left:
                    left[id(x)] = self._left(x[i : i + batch])
                if id(y) not in right:
                    right[id(y)] = self._right(y[i : i + batch])
                outs[k][i : i + batch] = self._reduce(left[id(x)], right[id(y)])
        return outs

    @property
    def _stack(self) -> int:
        """Rows of the stack in use: P (padded) or Q."""
        return int(self._layout()[1].size)

    def _layout(self):
        """(stacked rows of f as CSR, orbital of each stacked row): the padded
        stack or the plain one."""
        return (self._pad_f, self._pad_orb) if self.padded else (self._rows_of_f, self._orb)

    def _left(self, x):
        """(f_a X)[i, j] at (row (a, i), column (b, j)) of the stacked rows, (e, Q, Q)."""
        rows, orb = self._layout()
        return np.take(self._stacked_rows(x, rows), orb, axis=2)

    def _right(self, y):
        """(f_b Y)[j, i] at (row (a, i), column (b, j)), (e, Q, Q); gathered from a
        contiguous transposed copy (~2x faster than multiplying a transposed view)."""
        rows, orb = self._layout()
        fy = self._stacked_rows(y, rows)
        return np.take(np.ascontiguousarray(np.swapaxes(fy, 1, 2)), orb, axis=1)

    def _reduce(self, left, right, work=None):
        """T_ab = sum over the rows (a, i) and columns (b, j) of left * right, (e, M, M)
        (the product in ``work``, of the same shape, where given)."""
        product = left * right if work is None else np.multiply(left, right, out=work)
        if not self.padded:
            return self._block_sum(product)
        # padded: the sum over i runs over an outer axis, the one over j as r
        # adds of (e, M, M) slices (np.add.reduceat over the last axis, a
        # reduction over an innermost axis of length r, or np.einsum over
        # both are 2-3x slower, measured on a 20-site chain); a padding row
        # or column contributes exact zeros
        e, ma, r = left.shape[0], self._active.size, self._pad_rows
        w = np.add.reduce(product.reshape(e, ma, r, ma, r), axis=2)  # (e, a, b, j)
        if r > _PAD_ADDS:
            return self._scatter(w.sum(axis=-1))
        t = w[..., 0].copy()
        for j in range(1, r):
            t += w[..., j]
        return self._scatter(t)

    def _block_sum(self, w):
        """Sum W[(a,i), (b,j)] over the rows i of a and j of b: (e, M, M).

        A mode whose operator is zero has no rows, so its row and column
        of the result are exactly zero (the empty sum)."""
        w = np.add.reduceat(w, self._starts, axis=2)
        return self._scatter(np.add.reduceat(w, self._starts, axis=1))

    def _scatter(self, w):
        """(e, M, M) from the (e, M_active, M_active) traces of the active
        modes: a zero operator's row and column are exactly zero."""
        if self._active.size == self.n_modes:
            return w
        out = np.zeros(w.shape[:1] + (self.n_modes, self.n_modes), dtype=w.dtype)
        out[:, self._active[:, None], self._active[None, :]] = w
        return out

    def _traces_sparse(self, x, y):
        out = np.empty((x.shape[0], self.n_modes, self.n_modes), dtype=complex)
        for i in range(0, x.shape[0], self._batch):
            xb, yb = x[i : i + self._batch], y[i : i + self._batch]
            out[i : i + self._batch] = self._reduce(self._left(xb), self._right(yb))
        return out

    def _stacked_rows(self, x, rows=None):
        """(f_a X)[R_a, :] for all a stacked (or the padded stack ``rows``):
        one sparse (Q x s) product with the energies laid side by side, cost
        proportional to nnz(f) times the columns of X."""
        e, n, k = x.shape
        rows = self._rows_of_f if rows is None else rows
        prod = rows @ x.transpose(1, 0, 2).reshape(n, e * k)  # (Q, e*k)
        return prod.reshape(-1, e, k).transpose(1, 0, 2)

    # ------------------------------------------------------------ a factored Y
    def factored_rank_pays(self, rank: int) -> bool:
        """Whether traces with a second matrix Y = V C V^dagger of ``rank``
        columns (:meth:`factored_traces`) are cheaper than with Y itself: on
        the sparse route, for at most :data:`_FACTORED_RANK_MAX` columns or
        P/16, P the rows of the stack."""
        return self.route == "sparse" and 0 < rank <= max(_FACTORED_RANK_MAX, self._stack // 16)

    def factor_rows(self, v: NDArray[Any]) -> ComplexArray:
        r"""The stacked rows (f_a V)[R_a, :] of the traces' layout, for the
        factor V of :meth:`factored_traces`.

        Parameters
        ----------
        v : ndarray, shape (e, s, R)
            Columns on the support (e.g. G[S, s_l], the Green's function
            from the support to the orbitals s_l a lead couples to).

        Returns
        -------
        ndarray, shape (e, P, R), complex
            Row (a, i) is row i of f_a V, i in R_a (zero on a padding row).
        """
        rows, _ = self._layout()
        return self._stacked_rows(np.asarray(v), rows)

    def factored_traces(
        self, pairs: Sequence[tuple[NDArray[Any], NDArray[Any]]], factor_rows: NDArray[Any]
    ) -> list[ComplexArray]:
        r"""T_ab(X, Y) = Tr[f_a X f_b Y] for a second matrix given factored,
        :math:`Y = V C V^\dagger`, without forming Y.

        With :math:`p_a = f_a V` (rows :math:`R_a`; f_a Hermitian),

        .. math::

            T_{ab} = \sum_{i \in R_a,\, j \in R_b} X_{ij}\,
                     \big(p_a^* C^T p_b^T\big)_{ij},

        the gathered X[R_a, R_b] against a weight of rank R: cost P^2 (R + 2)
        per energy against two sparse products, a transposed copy and two
        gathers with Y itself.  A lead's spectral function
        :math:`A_l = G_{S s_l} \Gamma_l G_{S s_l}^\dagger` is of this form
        with R = len(s_l), the orbitals it couples to (one on a chain lead).

        Parameters
        ----------
        pairs : sequence of (X, C)
            X of shape (e, s, s) on the support, C of shape (e, R, R).
        factor_rows : ndarray, shape (e, P, R)
            :meth:`factor_rows` of V.

        Returns
        -------
        list of ndarray, shape (e, M, M), complex
        """
        p = np.asarray(factor_rows)
        n, size, rank = p.shape
        _, orb = self._layout()
        outs = [np.empty((n, self.n_modes, self.n_modes), dtype=complex) for _ in pairs]
        xs = {id(x): x for x, _ in pairs}
        cs = {id(c): c for _, c in pairs}
        batch = max(1, min(n, 2 * self._batch // (len(xs) + len(cs))))
        # work arrays allocated once and reused batch after batch: arrays of a
        # few hundred kB allocated afresh every batch can come as new pages
        # from the system each time (the allocator returns them in between):
        # up to 4x slower per energy on a 20-site chain, depending on the
        # state of the allocator (91 against 20 us in one process, equal in
        # another)
        gathered = {key: np.empty((batch, size, size), dtype=complex) for key in xs}
        rows = np.empty((batch, size, max(x.shape[2] for x in xs.values())), dtype=complex)
        weights = {key: np.empty((batch, size, size), dtype=complex) for key in cs}
        pc = np.empty((batch, size, rank), dtype=complex)
        pcc = np.empty((batch, size, rank), dtype=complex)
        work = np.empty((batch, size, size), dtype=complex)
        for i in range(0, n, batch):
            k = min(batch, n - i)
            part = slice(i, i + k)
            np.conjugate(p[part], out=pc[:k])
            for key, x in xs.items():
                np.take(x[part], orb, axis=1, out=rows[:k, :, : x.shape[2]])
                np.take(rows[:k, :, : x.shape[2]], orb, axis=2, out=gathered[key][:k])
            for key, c in cs.items():
                np.matmul(pc[:k], np.swapaxes(c[part], 1, 2), out=pcc[:k])
                np.matmul(pcc[:k], np.swapaxes(p[part], 1, 2), out=weights[key][:k])
            for out, (x, c) in zip(outs, pairs):
                out[part] = self._reduce(gathered[id(x)][:k], weights[id(c)][:k], work[:k])
        return outs

    def factor_products(self, v: NDArray[Any], factor_rows: NDArray[Any]) -> ComplexArray:
        r"""B_a = V^\dagger f_a V for every mode, (e, M, R, R).

        From them, with Y = V C V^dagger: Tr[f_a Y] = Tr[B_a C] and
        Tr[f_a Y f_b Y] = Tr[B_a C B_b C] (cost M^2 R^3, no s x s matrix).
        A zero operator gives B_a = 0.

        Parameters
        ----------
        v : ndarray, shape (e, s, R)
        factor_rows : ndarray, shape (e, P, R)
            :meth:`factor_rows` of ``v``.
        """
        v, p = np.asarray(v), np.asarray(factor_rows)
        e, _, r = p.shape
        _, orb = self._layout()
        terms = np.conj(np.take(v, orb, axis=1))[:, :, :, None] * p[:, :, None, :]  # (e, P, R, R)
        if self.padded:
            b = terms.reshape(e, self._active.size, self._pad_rows, r, r).sum(axis=2)
        else:
            b = np.add.reduceat(terms, self._starts, axis=1)
        if self._active.size == self.n_modes:
            return b
        out = np.zeros((e, self.n_modes, r, r), dtype=complex)
        out[:, self._active] = b
        return out

    def _traces_dense(self, x, y):
        m = self.n_modes
        out = np.empty((x.shape[0], m, m), dtype=complex)
        for i in range(0, x.shape[0], self._batch):
            xb, yb = x[i : i + self._batch], y[i : i + self._batch]
            u = (self.dense[None] @ xb[:, None]).reshape(xb.shape[0], m, -1)
            v = np.swapaxes(self.dense[None] @ yb[:, None], -1, -2).reshape(yb.shape[0], m, -1)
            out[i : i + self._batch] = u @ np.swapaxes(v, -1, -2)
        return out


def stacked_operators(forces: OperatorsLike, overlap_derivatives: OperatorsLike, size: int) -> ForceOperators:
    """F_1..F_M, D_1..D_M (forces and dS/dX, a moving overlap) as one set of
    2M operators on the union of their supports, whose traces :func:`combine`
    turns into those of the energy-dependent couplings f_a(e) = F_a + e D_a
    (:ref:`theory-overlap-forces`)."""
    return ForceOperators(list(forces) + list(overlap_derivatives), size)


def combine(traces: NDArray[Any], energy: NDArray[Any], modes: int) -> NDArray[Any]:
    r"""Traces with the coupling f_a(e) = F_a + e D_a from those of the stacked (F, D).

    Parameters
    ----------
    traces : ndarray, shape (n, ..., 2M, 2M)
        Tr[P X Q Y] for the stacked operators P, Q in (F_1..F_M, D_1..D_M).
    energy : ndarray, shape (n,)
        The pair energy e of each row (eV).
    modes : int
        M.

    Returns
    -------
    ndarray, shape (n, ..., M, M)
        T_FF + e (T_FD + T_DF) + e^2 T_DD.
    """
    m = modes
    e = np.asarray(energy).reshape((-1,) + (1,) * (traces.ndim - 1))
    return traces[..., :m, :m] + e * (traces[..., :m, m:] + traces[..., m:, :m]) + e**2 * traces[..., m:, m:]


def _nonzero_entries(name, f, size):
    """Rows, columns and values of the non-zero entries of one validated
    Hermitian force operator (dense or sparse).

    Dense arrays are checked on their non-zero entries only (finite;
    max |f - f^dagger| against the largest entry, the test of
    :func:`~currentforces._checks.check_hermitian`), which costs a pass over
    the matrix instead of several full copies; any failure is re-raised with
    the message of :func:`~currentforces._checks.as_operator`.
    """
    if not sp.issparse(f):
        a = np.asarray(f)
        if a.dtype.kind in "biufc" and a.shape == (size, size):
            # a 1-d search of a boolean mask: 20-50x faster than np.nonzero(a)
            flat = np.flatnonzero(a.ravel() != 0)
            r, c = np.divmod(flat, size)
            v = a[r, c]
            if np.all(np.isfinite(v)):
                scale = np.abs(v).max(initial=0.0)
                dev = np.abs(v - np.conj(a[c, r])).max(initial=0.0)
                if dev <= HERMITIAN_RTOL * max(scale, 1e-300):
                    return r, c, v.astype(complex)
        f = a
    m = sp.coo_matrix(as_operator(name, f, size=size, hermitian=True))
    keep = m.data != 0
    return m.row[keep], m.col[keep], m.data[keep]
