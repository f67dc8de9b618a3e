"""A gold-like s-band nanowire for the scaling benchmarks.

A simple-cubic wire along x with a ``width`` x ``width`` cross-section,
lattice constant d0 = 2.88 Angstrom (the Au-Au nearest-neighbour distance),
one s orbital per atom, on-site energy 0 and nearest-neighbour hopping

    t(d) = -t0 exp(-q (d - d0) / d0),   t0 = 1.2 eV, q = 3,

(bands eps_perp + 2 t cos k with eps_perp in {-2.4, 0, 0, 2.4} eV for width 2:
no band edge within 1.2 eV of E = -1.2 eV, where the benchmarks put E_F)
between semi-infinite leads of the same wire (periodic ``Lead``, one slab
per cell).  The movable atoms are the slabs in the middle of the device;
their force operators f_a = -dh/dX_a are the analytic derivatives of the
hoppings (sparse: each touches an atom and its bonded neighbours).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from currentforces import Junction, Lead

D0 = 2.88
T0 = 1.2
Q = 3.0


def hopping(d):
    return -T0 * np.exp(-Q * (d - D0) / D0)


def dhopping(d):
    return -Q / D0 * hopping(d)


def wire(n_orbitals, width=2, n_modes=60, solver="rgf"):
    """Junction and force operators of an n_orbitals wire.

    Returns (junction, forces, info) with forces a list of n_modes sparse
    (N, N) matrices (3 Cartesian modes per movable atom, n_modes // 3 atoms
    from the middle slabs).
    """
    per = width * width
    n_slabs = max(3, n_orbitals // per)
    n = n_slabs * per
    yz = np.array([(y, z) for y in range(width) for z in range(width)], dtype=float)
    pos = np.zeros((n, 3))
    for s in range(n_slabs):
        pos[s * per : (s + 1) * per, 0] = s * D0
        pos[s * per : (s + 1) * per, 1:] = yz * D0
    # bonds: within a slab (y, z neighbours) and to the next slab (x)
    bonds = []
    for s in range(n_slabs):
        base = s * per
        for i in range(per):
            for j in range(i + 1, per):
                if abs(np.abs(yz[i] - yz[j]).sum() - 1) < 1e-9:
                    bonds.append((base + i, base + j))
            if s + 1 < n_slabs:
                bonds.append((base + i, base + per + i))
    bonds = np.array(bonds)
    d = np.linalg.norm(pos[bonds[:, 0]] - pos[bonds[:, 1]], axis=1)
    t = hopping(d)
    h = sp.coo_matrix(
        (
            np.concatenate([t, t]),
            (np.concatenate([bonds[:, 0], bonds[:, 1]]), np.concatenate([bonds[:, 1], bonds[:, 0]])),
        ),
        shape=(n, n),
    ).tocsr()
    cell = h[:per, :per].toarray()
    inter = h[:per, per : 2 * per].toarray()  # slab s -> s+1
    c0 = np.zeros((n, per))
    c1 = np.zeros((n, per))
    c0[:per] = inter.T  # device slab 0 <- lead cell 1 on its left
    c1[n - per :] = inter  # device last slab -> lead cell 1 on its right
    leads = [Lead(cell, inter.T, c0), Lead(cell, inter, c1)]
    # movable atoms: n_modes // 3 atoms around the middle
    n_atoms = n_modes // 3
    first = (n_slabs // 2 - (n_atoms // per) // 2) * per
    atoms = np.arange(first, first + n_atoms)
    forces = []
    nb_of = {}
    for (i, j), dd in zip(bonds, d):
        nb_of.setdefault(i, []).append((j, dd))
        nb_of.setdefault(j, []).append((i, dd))
    for a in atoms:
        for axis in range(3):
            rows, cols, vals = [], [], []
            for b, dd in nb_of[a]:
                # dt/dX_a = t'(d) (r_a - r_b)_axis / d;  f = -dh/dX_a
                v = -dhopping(dd) * (pos[a, axis] - pos[b, axis]) / dd
                if v != 0.0:
                    rows += [a, b]
                    cols += [b, a]
                    vals += [v, v]
            f = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
            if f.nnz == 0:  # a transverse mode with no bond along it (surface atom)
                f = sp.coo_matrix(([1e-3], ([a], [a])), shape=(n, n)).tocsr()
            forces.append(f)
    if solver == "dense":
        junction = Junction(h.toarray(), leads)
    else:
        junction = Junction(h, leads, solver="rgf", layers=[per] * n_slabs)
    info = dict(n=n, slabs=n_slabs, width=width, modes=len(forces))
    return junction, forces, info
