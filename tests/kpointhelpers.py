"""Transversely periodic tight-binding junctions for the k-point tests.

A junction periodic across the transport direction is given by its
real-space blocks {R: M_R} (R = transverse cell offset, a 1-tuple), for the
device Hamiltonian, each lead's onsite and hopping blocks and its coupling,
and the force operators; :class:`BlochModel` turns them into the junction at
k (``make(k)`` of :class:`currentforces.kpoints.KPointJunction`) through
:func:`currentforces.kpoints.bloch_sum`.  :func:`supercell` repeats the
transverse cell n times (the same crystal, n times larger cell).
"""

from __future__ import annotations

import numpy as np

from currentforces import Junction, Lead
from currentforces.kpoints import bloch_forces, bloch_sum


class BlochModel:
    """``make(k)`` from real-space blocks (picklable)."""

    def __init__(self, device, leads, forces=None, solver="dense"):
        self.device = device
        self.leads = leads  # list of (onsite, hopping, coupling) block dicts
        self.forces = forces  # {R: (M, N, N)}
        self.solver = solver

    def __call__(self, k):
        h = bloch_sum(self.device, k)
        leads = [Lead(bloch_sum(o, k), bloch_sum(t, k), bloch_sum(c, k)) for o, t, c in self.leads]
        return Junction(h, leads, solver=self.solver)

    def force_operators(self):
        return bloch_forces(self.forces)


def strip(n_columns, width, t=-1.0, diagonal=0.0, transverse_diagonal=0.0, onsite=None, beta=0.7, solver="dense"):
    """A square-lattice strip: columns along x (transport), ``width`` sites per transverse cell.

    Site (c, j) of column c, transverse cell offset R.  Hoppings t to the
    nearest neighbours along x and y (the y bond from site width-1 of cell 0
    to site 0 of cell 1 crosses the cell boundary).  ``diagonal`` adds a
    hopping (c, width-1, R=0) -> (c+1, 0, R=+1) that breaks the y -> -y
    mirror; ``transverse_diagonal`` adds to the (c, 0) -> (c, 1) hopping.  Forces: f_1 stretches the x bond of site 0
    between columns 1 and 2; f_2 the y bond crossing the cell boundary in
    column 2 (f = -dH/dX, hopping t(X) = t + beta X).
    """
    n = n_columns * width
    idx = np.arange(n).reshape(n_columns, width)
    d0 = np.zeros((n, n))
    d1 = np.zeros((n, n))
    for c in range(n_columns):
        for j in range(width - 1):
            d0[idx[c, j], idx[c, j + 1]] += t
        d1[idx[c, width - 1], idx[c, 0]] += t  # to the next transverse cell
        if c + 1 < n_columns:
            d0[idx[c, :], idx[c + 1, :]] += t
            if diagonal:
                d1[idx[c, width - 1], idx[c + 1, 0]] += diagonal
        if transverse_diagonal and width > 1:
            d0[idx[c, 0], idx[c, 1]] += transverse_diagonal
    d0 = d0 + d0.T
    if onsite is not None:
        d0 += np.diag(np.asarray(onsite, dtype=float).reshape(-1))
    device = {(0,): d0, (1,): d1, (-1,): d1.T}
    # one column: onsite blocks of a lead cell
    c0 = np.zeros((width, width))
    for j in range(width - 1):
        c0[j, j + 1] += t
    if transverse_diagonal and width > 1:
        c0[0, 1] += transverse_diagonal
    c0 = c0 + c0.T
    c1 = np.zeros((width, width))
    c1[width - 1, 0] += t
    onsite_lead = {(0,): c0, (1,): c1, (-1,): c1.T}
    # x hopping from a column to the next one (+x): t, plus the diagonal to R = +1
    tx0 = t * np.eye(width)
    tx1 = np.zeros((width, width))
    if diagonal:
        tx1[width - 1, 0] += diagonal
    right_hop = {(0,): tx0, (1,): tx1}
    # the left lead goes towards -x: its hopping is H_{c, c-1}(k) = [H_{c-1, c}(k)]^dagger,
    # i.e. blocks M_R = (T_{-R})^T
    left_hop = {(0,): tx0.T, (-1,): tx1.T}
    first, last = idx[0], idx[-1]
    left_c = {r: _place(n, first, m) for r, m in left_hop.items()}
    right_c = {r: _place(n, last, m) for r, m in right_hop.items()}
    leads = [(onsite_lead, left_hop, left_c), (onsite_lead, right_hop, right_c)]
    f1 = np.zeros((n, n))
    f1[idx[1, 0], idx[2, 0]] = f1[idx[2, 0], idx[1, 0]] = -beta
    f2p = np.zeros((n, n))
    f2p[idx[2, width - 1], idx[2, 0]] = -beta
    forces = {(0,): np.stack([f1, np.zeros((n, n))]), (1,): np.stack([np.zeros((n, n)), f2p])}
    forces[(-1,)] = np.stack([np.zeros((n, n)), f2p.T])
    return BlochModel(device, leads, forces, solver=solver)


def _place(n, rows, block):
    out = np.zeros((n, block.shape[1]))
    out[rows, :] = block
    return out


def supercell(model, n):
    """The same crystal with an n times larger transverse cell.

    Supercell orbital (c, i) is orbital i of primitive copy c; its block
    between copies c and c' of supercell offset R' is the primitive block
    at R = n R' + c' - c.
    """

    def grow(blocks):
        shape = next(iter(blocks.values())).shape
        lead_dims = shape[:-2]
        rows, cols = shape[-2:]
        out = {}
        span = max(abs(r[0]) for r in blocks) // n + 2
        for rp in range(-span, span + 1):
            m = np.zeros((*lead_dims, n * rows, n * cols), dtype=np.result_type(*blocks.values()))
            hit = False
            for c in range(n):
                for cp in range(n):
                    b = blocks.get((n * rp + cp - c,))
                    if b is not None:
                        m[..., c * rows : (c + 1) * rows, cp * cols : (cp + 1) * cols] = b
                        hit = True
            if hit:
                out[(rp,)] = m
        return out

    leads = [(grow(o), grow(t), grow(c)) for o, t, c in model.leads]
    # the supercell's orbitals are ordered (copy, orbital); the primitive's
    # device orbitals are the rows of every block: keep that order per copy
    forces = grow(model.forces)
    # a collective displacement of every image: sum over the n copies is what
    # the blocks already are (each copy carries the primitive operator)
    return BlochModel(grow(model.device), leads, forces, solver=model.solver)
