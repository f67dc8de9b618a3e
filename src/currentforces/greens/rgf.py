r"""Block-tridiagonal (recursive Green's function) solver for long devices.

The device orbitals are split into principal layers 0, 1, ..., L-1 such that
the Hamiltonian couples only neighbouring layers; the leads attach to the
first and the last layer (the partition: :mod:`currentforces.greens.layers`)::

    lead(s) | layer 0 | layer 1 | ... | layer L-1 | lead(s)
              Sigma_0  <-H_01->                    Sigma_{L-1}

With M = E - h - Sigma (Sigma = sum of the lead self-energies, non-zero only
in layers 0 and L-1) the left- and right-connected Green's functions are
(the recursive Green's function method, e.g. Lake, Klimeck, Bowen,
Jovanovic, J. Appl. Phys. 81, 7845 (1997))

.. math::

    g^L_0 = M_{00}^{-1}, \quad
    g^L_k = [M_{kk} - H_{k,k-1} g^L_{k-1} H_{k-1,k}]^{-1},

    g^R_{L-1} = M_{L-1,L-1}^{-1}, \quad
    g^R_k = [M_{kk} - H_{k,k+1} g^R_{k+1} H_{k+1,k}]^{-1},

the diagonal blocks of the full G are

.. math::

    G_{kk} = [M_{kk} - H_{k,k-1} g^L_{k-1} H_{k-1,k}
              - H_{k,k+1} g^R_{k+1} H_{k+1,k}]^{-1},

and, cutting the bond between two layers (Dyson's equation G = g + g V G),
the off-diagonal blocks follow by products, for i < j:

.. math::

    G_{ij} = G_{i,j-1} H_{j-1,j} g^R_j = g^L_i H_{i,i+1} G_{i+1,j},
    \qquad
    G_{ji} = G_{j,i+1} H_{i+1,i} g^L_i = g^R_j H_{j,j-1} G_{j-1,i}.

**Streaming path** (the one the force coefficients take).  When the rows
of a request lie in a window of layers a..b (the force support) and its
columns in that window or in the lead layers, the window is solved densely
with the rest of the device folded into effective self-energies,

.. math::

    \Sigma^{\rm eff}_a = H_{a,a-1} g^L_{a-1} H_{a-1,a}, \qquad
    \Sigma^{\rm eff}_b = H_{b,b+1} g^R_{b+1} H_{b+1,b},

and the lead columns follow from the end blocks of the connected Green's
functions, G_{c,0} = G_{c,a} H_{a,a-1} g^L_{a-1,0} (and likewise on the
right), all carried along the forward and backward recursions
g^L_{k,0} = g^L_k H_{k,k-1} g^L_{k-1,0}.  The energy derivative follows by
differentiating the same recursions,
dg^L_k/dE = -g^L_k [1 - d\Sigma_k/dE - H_{k,k-1} (dg^L_{k-1}/dE) H_{k-1,k}] g^L_k,
so dG/dE on the window costs the same O(L) sweeps.  Only the current layer
is held: memory does not grow with the length, and all energies of a chunk
go through each layer together.

**General path** (any rows and columns).  Only the blocks that a request
touches are formed: the rows and columns of the lead layers by one sweep
each (cost linear in L), and the blocks among interior layers by products
over the span they cover.

Either way the cost of a request is O(L n^3) per energy for layers of n
orbitals, against O(N^3) for the dense inverse, and the N x N matrices of
all energies are never held: the general path processes energies in chunks
whose connected blocks fit a memory budget.

Methods that return N x N arrays (``green``, ``spectral_functions`` without
``rows``; the junction's ``self_energies``/``broadening``) are for small
devices; large ones are read through ``green_submatrix``,
``green_derivative_submatrix`` and ``spectral_functions(E, rows, cols)``.

Units: energies eV, Hamiltonian eV, Green's functions 1/eV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .._checks import as_operator, as_orbital_indices, as_overlap
from ..errors import InputError
from .base import GreensBackend
from .layers import Layering, layers_from_sparsity  # layers_from_sparsity: re-exported, its old home

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._checks import ArrayLike, ComplexArray, Indices, MatrixLike


__all__ = ["BlockTridiagonal", "layers_from_sparsity", "DEFAULT_MEMORY_BYTES", "CENTRAL_MAX"]

DEFAULT_MEMORY_BYTES = 256 * 2**20
"""Default budget (bytes) for the left- and right-connected blocks of one
chunk of energies."""

CENTRAL_MAX = 1024
"""Largest central region (orbitals) solved densely by the streaming path."""


class BlockTridiagonal(GreensBackend):
    r"""Recursive Green's function backend on a block-tridiagonal device.

    Parameters
    ----------
    hamiltonian : (N, N) scipy.sparse matrix or array_like
        Device Hamiltonian h in eV (Hermitian, finite); kept sparse.
    leads : sequence of LeadBase
        The leads (:class:`~currentforces.leads.LeadBase`; checked by
        :func:`~currentforces.leads.as_lead`), read only through their
        ``support`` and support blocks.  Every lead's support must lie inside
        the first or the last layer.
    layers : None, sequence of int, or sequence of index arrays
        ``None``: :func:`~currentforces.greens.layers.layers_from_sparsity`
        from ``leads[0].support`` to ``leads[1].support``.  A sequence of
        ints: sizes of consecutive layers of orbitals in index order.  A
        sequence of index arrays: the orbitals of each layer
        (:class:`~currentforces.greens.layers.Layering` checks them).
    memory_bytes : int
        Budget for the left- and right-connected blocks of one chunk of
        energies; sets how many energies are processed together.
    streaming : bool
        Use the streaming path (module docstring) for requests whose rows lie
        in a window of at most ``CENTRAL_MAX`` orbitals; ``False`` forces the
        general path (for tests: the two paths must agree).

    Notes
    -----
    See the module docstring for the recursions; the partition, the maps
    between orbitals and layers and the blocks of h are the ``layering``
    attribute.  It implements the two methods of
    :class:`~currentforces.greens.base.GreensBackend`; the transmission,
    spectral functions and current integrand are the base's, read from the
    blocks of G on the lead supports.
    """

    def __init__(
        self,
        hamiltonian: MatrixLike,
        leads: Sequence[Any],
        layers: Sequence[Any] | None = None,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        streaming: bool = True,
        overlap: MatrixLike | None = None,
    ) -> None:
        h = hamiltonian if sp.issparse(hamiltonian) else sp.csr_matrix(np.asarray(hamiltonian))
        h = as_operator("hamiltonian", h, hermitian=True)
        super().__init__(h.shape[0], leads)
        self.memory_bytes = int(memory_bytes)
        self.streaming = bool(streaming)
        if overlap is not None:
            overlap, _ = as_overlap("overlap", overlap, self.size, sparse=True)
            self.overlap = overlap
        lay = self.layering = Layering(h, layers, self.leads, overlap=overlap)
        """The partition into principal layers (:class:`~currentforces.greens.layers.Layering`)."""
        self.layers, self.n_layers = lay.layers, lay.n_layers
        self.layer_of, self.local_of = lay.layer_of, lay.local_of
        # the recursions read these blocks and maps on every layer
        self._diag, self._up, self._sizes, self._offsets = lay.diag, lay.up, lay.sizes, lay.offsets
        self._sdiag, self._sup = lay.sdiag, lay.sup
        self._lead_layer = lay.lead_layer

    # ------------------------------------------------------------ blocks of E S - h
    def _onsite(self, z, k):
        """z S_kk - H_kk for a 1-d batch z, (nz, n_k, n_k) in eV."""
        s = np.eye(self._sizes[k]) if self._sdiag is None else self._sdiag[k]
        return z[:, None, None] * s - self._diag[k]

    def _donsite(self, k, nz):
        """d(z S_kk - H_kk)/dz = S_kk, broadcast to (nz, n_k, n_k)."""
        s = np.eye(self._sizes[k], dtype=complex) if self._sdiag is None else self._sdiag[k]
        return np.broadcast_to(s, (nz,) + s.shape)

    def _hops(self, z):
        """Bond k between layers k and k+1: (U_k, D_k) = (H_{k,k+1} - z S_{k,k+1},
        H_{k+1,k} - z S_{k+1,k}), minus the off-diagonal blocks of z S - h (eV);
        the plain blocks of h, U_k^dagger = D_k, in an orthogonal basis."""
        if self._sup is None:
            return [(u, u.conj().T) for u in self._up]
        zz = z[:, None, None]
        return [(u - zz * su, u.conj().T - zz * su.conj().T) for u, su in zip(self._up, self._sup)]

    def _sandwich(self, r, k, c):
        """r S_kk c (r c in an orthogonal basis)."""
        return r @ c if self._sdiag is None else r @ self._sdiag[k] @ c

    # ------------------------------------------------------------ lead blocks
    def _on_end_layers(self, z, blocks):
        """Sum of per-lead support blocks on the first and the last layer,
        {0: (nz, n_0, n_0), L-1: (nz, n_L, n_L)} (one array if L = 1)."""
        nl = self.n_layers
        out = {0: np.zeros((z.size, self._sizes[0], self._sizes[0]), dtype=complex)}
        out[nl - 1] = out[0] if nl == 1 else np.zeros((z.size, self._sizes[-1], self._sizes[-1]), dtype=complex)
        for lead, k, block in zip(self.leads, self._lead_layer, blocks):
            loc = self.local_of[np.asarray(lead.support, dtype=int)]
            out[k][:, loc[:, None], loc[None, :]] += block
        return out

    def _layer_sigma(self, z):
        """Total self-energy on the first and the last layer (eV)."""
        return self._on_end_layers(z, self.lead_self_energy_blocks(z))

    def _layer_dsigma(self, z):
        """dSigma/dE on the first and the last layer (dimensionless)."""
        return self._on_end_layers(z, self.lead_self_energy_derivative_blocks(z))

    # ------------------------------------------------------------ recursions
    def _chunk(self, extra_per_energy=0):
        per = 16 * (2 * int(np.sum(self._sizes.astype(np.int64) ** 2)) + extra_per_energy)
        return max(1, int(self.memory_bytes // max(per, 1)))

    def _connected(self, z, sigma):
        """Left- and right-connected blocks g^L_k, g^R_k (lists over layers)."""
        nl = self.n_layers

        hops = self._hops(z)

        def mkk(k):
            a = self._onsite(z, k)
            if k in sigma:
                a = a - sigma[k]
            return a

        gl = [None] * nl
        gl[0] = np.linalg.inv(mkk(0))
        for k in range(1, nl):
            u, d = hops[k - 1]  # H_{k-1,k}, H_{k,k-1}
            gl[k] = np.linalg.inv(mkk(k) - d @ gl[k - 1] @ u)
        gr = [None] * nl
        gr[nl - 1] = np.linalg.inv(mkk(nl - 1))
        for k in range(nl - 2, -1, -1):
            u, d = hops[k]  # H_{k,k+1}, H_{k+1,k}
            gr[k] = np.linalg.inv(mkk(k) - u @ gr[k + 1] @ d)
        return gl, gr, mkk, hops

    def _diagonal(self, k, gl, gr, mkk, hops):
        nl = self.n_layers
        if k == 0:
            return gr[0]
        if k == nl - 1:
            return gl[nl - 1]
        (ul, dl), (ur, dr) = hops[k - 1], hops[k]
        return np.linalg.inv(mkk(k) - dl @ gl[k - 1] @ ul - ur @ gr[k + 1] @ dr)

    def _central(self, z, a, b, derivative=False):
        """Streaming solve of the window of layers a..b (module docstring).

        Returns a dict with ``G`` (nz, nc, nc) on the window (orbitals in
        layer order), ``dG`` if ``derivative``, and the lead-layer blocks
        ``G_c0``, ``G_0c`` (window x layer 0) when a > 0 and ``G_cL``,
        ``G_Lc`` (window x last layer) when b < L-1.
        """
        nl = self.n_layers
        sigma = self._layer_sigma(z)
        dsig = self._layer_dsigma(z) if derivative else None
        nz = z.size
        hops = self._hops(z)
        ov = self._sup is not None

        def mkk(k):
            m = self._onsite(z, k)
            return m - sigma[k] if k in sigma else m

        def dmkk(k):
            d = self._donsite(k, nz)
            return d - dsig[k] if k in dsig else d

        def dfold(u, d, g, dg, k):
            """d/dE of d g u across bond k (u, d the hops of the bond, g the folded block)."""
            out = d @ dg @ u
            if ov:  # dU/dE = -S_{k,k+1}, dD/dE = -S_{k+1,k}
                su = self._sup[k]
                out = out - su.conj().T @ g @ u - d @ g @ su
            return out

        def dfold_right(u, d, g, dg, k):
            """d/dE of u g d across bond k."""
            out = u @ dg @ d
            if ov:
                su = self._sup[k]
                out = out - su @ g @ d - u @ g @ su.conj().T
            return out

        out = {}
        # forward from layer 0 to a-1: g^L, dg^L/dE, g^L_{k,0}, g^L_{0,k}
        gl = dgl = pl = plt = None
        for k in range(a):
            m = mkk(k)
            if k:
                u, d = hops[k - 1]
                m = m - d @ gl @ u
            g = np.linalg.inv(m)
            if derivative:
                dm = dmkk(k) if not k else dmkk(k) - dfold(u, d, gl, dgl, k - 1)
                dgl = -g @ dm @ g
            pl, plt = (g, g) if not k else (g @ d @ pl, plt @ u @ g)
            gl = g
        # backward from layer L-1 to b+1
        gr = dgr = pr = prt = None
        for k in range(nl - 1, b, -1):
            m = mkk(k)
            if k < nl - 1:
                u, d = hops[k]
                m = m - u @ gr @ d
            g = np.linalg.inv(m)
            if derivative:
                dm = dmkk(k) if k == nl - 1 else dmkk(k) - dfold_right(u, d, gr, dgr, k)
                dgr = -g @ dm @ g
            pr, prt = (g, g) if k == nl - 1 else (g @ u @ pr, prt @ d @ g)
            gr = g
        # the window, dense
        hc = self.layering.window_hamiltonian(a, b)
        nc = hc.shape[0]
        sc = np.eye(nc) if not ov else self.layering.window_overlap(a, b)
        m = z[:, None, None] * sc - hc
        dm = np.broadcast_to(sc.astype(complex), (nz, nc, nc)).copy() if derivative else None
        la = slice(0, self._sizes[a])
        lb = slice(nc - self._sizes[b], nc)
        for k in {a, b} & set(sigma):
            sl = la if k == a else lb
            m[:, sl, sl] -= sigma[k]
            if derivative:
                dm[:, sl, sl] -= dsig[k]
        if a > 0:
            u, d = hops[a - 1]
            m[:, la, la] -= d @ gl @ u
            if derivative:
                dm[:, la, la] -= dfold(u, d, gl, dgl, a - 1)
        if b < nl - 1:
            u, d = hops[b]
            m[:, lb, lb] -= u @ gr @ d
            if derivative:
                dm[:, lb, lb] -= dfold_right(u, d, gr, dgr, b)
        g = np.linalg.inv(m)
        out["G"] = g
        if derivative:
            out["dG"] = -g @ dm @ g
        if a > 0:
            u, d = hops[a - 1]
            out["G_c0"] = g[:, :, la] @ d @ pl
            out["G_0c"] = plt @ u @ g[:, la, :]
        if b < nl - 1:
            u, d = hops[b]
            out["G_cL"] = g[:, :, lb] @ u @ pr
            out["G_Lc"] = prt @ d @ g[:, lb, :]
        return out

    def _column_plan(self, cols, a, b):
        """Where the columns ``cols`` of a streaming request are read from the
        result of :meth:`_central`: (positions, key, indices) for the columns
        inside the window, in the first layer and in the last layer."""
        cl = self.layer_of[cols]
        inside = np.flatnonzero((cl >= a) & (cl <= b))
        first = np.flatnonzero((cl < a) & (cl == 0))
        last = np.flatnonzero((cl > b) & (cl == self.n_layers - 1))
        return [
            (inside, "G", self.layering.window_index(a, cols[inside])),
            (first, "G_c0", self.local_of[cols[first]]),
            (last, "G_cL", self.local_of[cols[last]]),
        ]

    @staticmethod
    def _take_columns(central, ri, plan, out):
        """out[:, :, positions] = the blocks of ``central`` on the window rows ``ri``."""
        for pos, key, idx in plan:
            if pos.size:
                out[:, :, pos] = central[key][:, ri[:, None], idx[None, :]]

    def _green_streaming(self, flat, rows, cols, a, b):
        plan = self._column_plan(cols, a, b)
        ri = self.layering.window_index(a, rows)
        out = np.empty((flat.size, rows.size, cols.size), dtype=complex)
        nc = self._offsets[b + 1] - self._offsets[a]
        step = self._chunk_streaming(nc, rows.size * cols.size)
        for s in range(0, flat.size, step):
            c = self._central(np.asarray(flat[s : s + step], dtype=complex), a, b)
            self._take_columns(c, ri, plan, out[s : s + step])
        return out

    def _chunk_streaming(self, nc, extra):
        n0, nmax = int(self._sizes[0] + self._sizes[-1]), int(self._sizes.max())
        per = 16 * (6 * nc * nc + 4 * nc * n0 + 12 * nmax * nmax + extra)
        return max(1, int(self.memory_bytes // max(per, 1)))

    def _blocks(self, pairs, gl, gr, mkk, hops):
        """G_ij for the set of layer pairs (i, j), given the connected blocks."""
        nl = self.n_layers
        diag = {}
        out = {}

        def d(k):
            if k not in diag:
                diag[k] = self._diagonal(k, gl, gr, mkk, hops)
            return diag[k]

        ends = {0, nl - 1}
        for i, j in pairs:
            if i == j:
                out[(i, j)] = d(i)
        # sweeps along the rows and columns of the end layers
        for e in sorted(ends):
            row_targets = {j for i, j in pairs if i == e and j != e}
            if row_targets:
                self._sweep_row(e, row_targets, d(e), gl, gr, hops, out)
            col_targets = {i for i, j in pairs if j == e and i != e and (i, j) not in out}
            if col_targets:
                self._sweep_col(e, col_targets, d(e), gl, gr, hops, out)
        # interior pairs: products from the diagonal block of the row
        rest = [(i, j) for i, j in pairs if (i, j) not in out]
        rows = {}
        for i, j in rest:
            rows.setdefault(i, set()).add(j)
        for i, targets in rows.items():
            self._sweep_row(i, targets, d(i), gl, gr, hops, out)
        return out

    def _sweep_row(self, i, targets, gii, gl, gr, hops, out):
        """G_{i,j} for j in targets: rightwards G_{i,j} = G_{i,j-1} H_{j-1,j} g^R_j,
        leftwards G_{i,j} = G_{i,j+1} H_{j+1,j} g^L_j."""
        self._sweep(
            i,
            targets,
            gii,
            lambda g, j: g @ hops[j - 1][0] @ gr[j],
            lambda g, j: g @ hops[j][1] @ gl[j],
            lambda j: (i, j),
            out,
        )

    def _sweep_col(self, j, targets, gjj, gl, gr, hops, out):
        """G_{i,j} for i in targets: downwards G_{i,j} = g^R_i H_{i,i-1} G_{i-1,j},
        upwards G_{i,j} = g^L_i H_{i,i+1} G_{i+1,j}."""
        self._sweep(
            j,
            targets,
            gjj,
            lambda g, i: gr[i] @ hops[i - 1][1] @ g,
            lambda g, i: gl[i] @ hops[i][0] @ g,
            lambda i: (i, j),
            out,
        )

    @staticmethod
    def _sweep(start, targets, g0, forward, backward, key, out):
        """From the block g0 at layer ``start``, step to higher layers with
        ``forward(g, k)`` and to lower ones with ``backward(g, k)``, storing the
        block reached at each target k as ``out[key(k)]``."""
        for step, direction in ((forward, 1), (backward, -1)):
            ahead = [k for k in targets if (k - start) * direction > 0]
            if not ahead:
                continue
            g = g0
            stop = max(ahead) if direction > 0 else min(ahead)
            for k in range(start + direction, stop + direction, direction):
                g = step(g, k)
                if k in targets:
                    out[key(k)] = g

    # ------------------------------------------------------------ the backend interface
    def green_submatrix(self, energy: ArrayLike, rows: Indices, cols: Indices) -> ComplexArray:
        r"""Block G(E)[rows, cols] of the retarded Green's function (1/eV).

        Only the layer blocks G_ij with i a layer of ``rows`` and j a layer of
        ``cols`` are formed (module docstring).

        Parameters
        ----------
        energy : float, complex or array_like
            Energies in eV (real: E + i0 through the leads; complex: upper
            half plane).
        rows, cols : array_like of int
            Device orbital indices.

        Returns
        -------
        ndarray, energy.shape + (len(rows), len(cols))
        """
        e = self._energies(energy)
        rows = as_orbital_indices("rows", rows, self.size)
        cols = as_orbital_indices("cols", cols, self.size)
        flat = e.reshape(-1)
        if rows.size == 0 or cols.size == 0:
            return np.zeros(e.shape + (rows.size, cols.size), dtype=complex)
        window = self.layering.window(rows, cols, CENTRAL_MAX) if self.streaming else None
        if window is not None:
            return self._green_streaming(flat, rows, cols, *window).reshape(e.shape + (rows.size, cols.size))
        out = np.empty((flat.size, rows.size, cols.size), dtype=complex)
        rl, cl = self.layer_of[rows], self.layer_of[cols]
        pairs = sorted({(int(i), int(j)) for i in np.unique(rl) for j in np.unique(cl)})
        step = self._chunk(rows.size * cols.size + len(pairs) * int(self._sizes.max()) ** 2)
        rsel = {int(k): np.flatnonzero(rl == k) for k in np.unique(rl)}
        csel = {int(k): np.flatnonzero(cl == k) for k in np.unique(cl)}
        for s in range(0, flat.size, step):
            z = np.asarray(flat[s : s + step], dtype=complex)
            blocks = self._blocks(pairs, *self._connected(z, self._layer_sigma(z)))
            for (i, j), g in blocks.items():
                ri, cj = rsel[i], csel[j]
                out[s : s + step, ri[:, None], cj[None, :]] = g[
                    :, self.local_of[rows[ri]][:, None], self.local_of[cols[cj]][None, :]
                ]
        return out.reshape(e.shape + (rows.size, cols.size))

    def green_diagonal_blocks(self, energy: ArrayLike, layers: Sequence[int] | None = None) -> list[ComplexArray]:
        """Diagonal blocks G_kk(E) of the given layers (default all).

        Returns
        -------
        list of ndarray, each energy.shape + (n_k, n_k), in 1/eV, in the
        order of ``layers``; the orbitals of block k are ``self.layers[k]``.
        """
        e = self._energies(energy)
        ks = list(range(self.n_layers)) if layers is None else [int(k) for k in layers]
        for k in ks:
            if not 0 <= k < self.n_layers:
                raise InputError(f"layers: layer index {k} outside [0, {self.n_layers})")
        flat = e.reshape(-1)
        out = [np.empty((flat.size, self._sizes[k], self._sizes[k]), dtype=complex) for k in ks]
        step = self._chunk(int(np.sum(self._sizes[ks] ** 2)))
        for s in range(0, flat.size, step):
            z = np.asarray(flat[s : s + step], dtype=complex)
            gl, gr, mkk, hops = self._connected(z, self._layer_sigma(z))
            for o, k in zip(out, ks):
                o[s : s + step] = self._diagonal(k, gl, gr, mkk, hops)
        return [o.reshape(e.shape + o.shape[1:]) for o in out]

    def green_derivative_submatrix(
        self, energy: ArrayLike, orbitals: Indices, cols: Indices | None = None
    ) -> tuple[ComplexArray, ComplexArray]:
        r"""G[S, S] and its energy derivative dG/dE[S, S] on a set S of orbitals.

        .. math::

            \frac{dG}{dE} = -G\Big(1 - \frac{d\Sigma}{dE}\Big)G, \qquad
            \Big[\frac{dG}{dE}\Big]_{SS} = -\sum_k G_{Sk} G_{kS}
              + \sum_l G_{S s_l} \frac{d\Sigma_l}{dE} G_{s_l S}

        (k runs over all layers, s_l over the lead supports).  On the
        streaming path dG/dE comes from the differentiated recursions and the
        window solve (module docstring), and G[S, cols] for ``cols`` in the
        window of S or in the lead layers (the request of the force
        coefficients) from the same sweeps; on the general path the sum over
        layers is accumulated while the row G_{S,k} and the column G_{k,S}
        are propagated outwards from the layers of S.  Either way the cost is
        linear in the number of layers and no N-long block is stored.
        Arguments and result: :meth:`GreensBackend.green_derivative_submatrix
        <currentforces.greens.base.GreensBackend.green_derivative_submatrix>`.
        """
        e = self._energies(energy)
        orb = as_orbital_indices("orbitals", orbitals, self.size)
        want = orb if cols is None else as_orbital_indices("cols", cols, self.size)
        window = self.layering.window(orb, want, CENTRAL_MAX) if self.streaming else None
        flat = e.reshape(-1)
        if window is not None:
            g, dg = self._derivative_streaming(flat, orb, want, *window)
        else:
            g, dg = self._derivative_general(flat, orb)
            if cols is not None:
                g = self.green_submatrix(flat, orb, want)
        return g.reshape(e.shape + g.shape[1:]), dg.reshape(e.shape + dg.shape[1:])

    def _derivative_streaming(self, flat, orb, cols, a, b):
        """G[S, cols] and dG/dE[S, S] for a 1-d batch from the window solve of layers a..b."""
        ns = orb.size
        g_out = np.empty((flat.size, ns, cols.size), dtype=complex)
        d_out = np.empty((flat.size, ns, ns), dtype=complex)
        idx = self.layering.window_index(a, orb)
        plan = self._column_plan(cols, a, b)
        nc = self._offsets[b + 1] - self._offsets[a]
        step = self._chunk_streaming(nc, ns * (ns + cols.size))
        for s in range(0, flat.size, step):
            c = self._central(np.asarray(flat[s : s + step], dtype=complex), a, b, derivative=True)
            self._take_columns(c, idx, plan, g_out[s : s + step])
            d_out[s : s + step] = c["dG"][:, idx[:, None], idx[None, :]]
        return g_out, d_out

    def _derivative_general(self, flat, orb):
        """G[S, S] and dG/dE[S, S] for a 1-d batch by sweeps over the layers (any S)."""
        nl = self.n_layers
        lay = self.layer_of[orb]
        a, b = int(lay.min()), int(lay.max())
        span = range(a, b + 1)
        ks = sorted({int(k) for k in np.unique(lay)})
        pairs = sorted({(i, k) for i in ks for k in span} | {(k, j) for k in span for j in ks})
        sel = {k: np.flatnonzero(lay == k) for k in ks}
        ns = orb.size
        g_out = np.empty((flat.size, ns, ns), dtype=complex)
        d_out = np.empty((flat.size, ns, ns), dtype=complex)
        nmax = int(self._sizes.max())
        step = self._chunk(4 * ns * nmax * (b - a + 3) + len(pairs) * nmax**2)
        for s in range(0, flat.size, step):
            z = np.asarray(flat[s : s + step], dtype=complex)
            gl, gr, mkk, hops = self._connected(z, self._layer_sigma(z))
            blocks = self._blocks(pairs, gl, gr, mkk, hops)
            nz = z.size
            row, col = {}, {}  # G[S, layer k] (nz, ns, n_k) and G[layer k, S] (nz, n_k, ns)
            for k in span:
                r = np.empty((nz, ns, self._sizes[k]), dtype=complex)
                c = np.empty((nz, self._sizes[k], ns), dtype=complex)
                for i in ks:
                    loc = self.local_of[orb[sel[i]]]
                    r[:, sel[i], :] = blocks[(i, k)][:, loc, :]
                    c[:, :, sel[i]] = blocks[(k, i)][:, :, loc]
                row[k], col[k] = r, c
            # sum over layers of G[S, k] (dM/dE)_{kk'} G[k', S], dM/dE = S (block tridiagonal) - dSigma/dE
            ov = self._sup is not None
            acc = sum(self._sandwich(row[k], k, col[k]) for k in span)
            if ov:
                for k in range(a, b):
                    acc = acc + row[k] @ self._sup[k] @ col[k + 1] + row[k + 1] @ self._sup[k].conj().T @ col[k]
            ends = {k: (row[k], col[k]) for k in (0, nl - 1) if k in row}
            r, c = row[b], col[b]
            for k in range(b + 1, nl):
                rp, cp = r, c
                r = r @ hops[k - 1][0] @ gr[k]
                c = gr[k] @ hops[k - 1][1] @ c
                acc = acc + self._sandwich(r, k, c)
                if ov:
                    acc = acc + rp @ self._sup[k - 1] @ c + r @ self._sup[k - 1].conj().T @ cp
            if b < nl - 1:
                ends[nl - 1] = (r, c)
            r, c = row[a], col[a]
            for k in range(a - 1, -1, -1):
                rp, cp = r, c
                r = r @ hops[k][1] @ gl[k]
                c = gl[k] @ hops[k][0] @ c
                acc = acc + self._sandwich(r, k, c)
                if ov:
                    acc = acc + r @ self._sup[k] @ cp + rp @ self._sup[k].conj().T @ c
            if a > 0:
                ends[0] = (r, c)
            dg = -acc
            for lead, k, dsig in zip(self.leads, self._lead_layer, self.lead_self_energy_derivative_blocks(z)):
                loc = self.local_of[np.asarray(lead.support, dtype=int)]
                r, c = ends[k]
                dg = dg + r[:, :, loc] @ dsig @ c[:, loc, :]
            d_out[s : s + step] = dg
            for k in ks:
                g_out[s : s + step, :, sel[k]] = row[k][:, :, self.local_of[orb[sel[k]]]]
        return g_out, d_out

    def __repr__(self):
        sizes = self._sizes
        return (
            f"BlockTridiagonal(size={self.size}, n_layers={self.n_layers}, "
            f"layer sizes {int(sizes.min())}..{int(sizes.max())})"
        )
