r"""Resonances of a junction: the poles of G near an energy window.

The window integrals (current, density-matrix and force windows,
Fermi-surface and omega-window terms) have integrands built from
G(E) = [E - h - Sigma(E)]^{-1}, whose poles z_k = eps_k - i w_k below the
real axis make a Lorentzian peak of half-width w_k at eps_k.  A peak much
narrower than a quadrature panel falls between the nodes and goes unseen,
by the integral and by its error estimate alike.  The poles are the
eigenvalues of the effective Hamiltonian h + Sigma(E) at E ~ eps_k (of the
pencil (h + Sigma(E), S) in a non-orthogonal basis with overlap S), found
here so that the windows can put graded breakpoints around them
(:func:`~currentforces.integrate.graded_breakpoints`).

With energy-independent self-energies (wide-band leads) one eigenvalue
problem gives the poles exactly.  Otherwise eigenvalues of h + Sigma(E_j)
at a few reference energies E_j across the window locate them, and each
narrow one is refined by first-order updates with the change of the
self-energy, z <- z_0 + l^dagger [Sigma(Re z) - Sigma(E_j)] r / l^dagger r
(r, l the right and left eigenvectors at E_j), all at once.

Units: eV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from ._checks import RealArray
    from .junction import Junction

__all__ = ["device_poles", "overlapping", "MAX_DENSE"]

MAX_DENSE = 1500
"""Largest device (orbitals) handled with dense eigensolvers; larger ones,
and those on a sparse (block-tridiagonal) backend beyond :data:`MAX_SPARSE_DENSE`,
use sparse shift-invert eigensolvers around a few reference energies."""

MAX_SPARSE_DENSE = 200
"""A junction on a sparse backend is diagonalised densely only up to this size."""

NARROW = 0.005
"""A pole is narrow, and is refined and graded, when its half-width is below
this fraction of the window."""


OVERLAP = 1.0
"""A pole overlaps its neighbours (:func:`overlapping`) when a distinct pole
of comparable width lies within this many half-widths on each side."""


def overlapping(centers: ArrayLike, widths: ArrayLike, ratio: float = OVERLAP) -> NDArray[np.bool_]:
    r"""Which poles lie inside a comb of overlapping resonances.

    A pole z_k = c_k - i w_k overlaps when, on each side of c_k, another
    pole with a distinct centre (farther than 1e-6 w_k) and a comparable
    half-width (between w_k / 2 and 2 w_k) lies within ``ratio`` w_k.  Such a pole makes no peak
    of its own: a row of poles of half-width w spaced by s <= w sums, by
    Poisson's formula, to a background smooth on the scale w plus a ripple
    of period s and relative size :math:`e^{-2\pi w/s} \le e^{-2\pi}`,
    which covers the whole row, so every Gauss-Kronrod node samples it and
    the adaptive rule sees what is there.  A narrow peak standing alone
    (or a degenerate group of them at one energy, or a pair split by less
    than its width) falls between the nodes of a wide panel instead, and is
    what :func:`~currentforces.integrate.graded_breakpoints` is for; so is a
    narrow peak on the shoulder of much broader neighbours.  The
    rows of overlapping poles are the Fabry-Perot levels of a long device
    whose ends reflect little, e.g. a wire between leads of the same wire,
    where the eigenvalues of h + Sigma(E_j) near a reference energy E_j
    lie some hundred times closer together than their widths, none of
    which show in G on the real axis.

    Parameters
    ----------
    centers, widths : array_like
        c_k and w_k >= 0 (eV), as from :func:`device_poles`.
    ratio : float
        Largest gap to a neighbour on either side, in units of w_k.

    Returns
    -------
    ndarray of bool
        True for the poles that overlap (need no grading of their own).
    """
    c = np.asarray(centers, dtype=float).reshape(-1)
    w = np.asarray(widths, dtype=float).reshape(-1)
    out = np.zeros(c.size, dtype=bool)
    step = max(1, 2**22 // max(1, c.size))
    for i in range(0, c.size, step):
        d = c[None, :] - c[i : i + step, None]  # neighbour minus pole
        wk = w[i : i + step, None]
        near = (np.abs(d) > 1e-6 * wk) & (np.abs(d) <= ratio * wk) & (w[None, :] >= 0.5 * wk) & (w[None, :] <= 2 * wk)
        out[i : i + step] = np.any(near & (d < 0), axis=1) & np.any(near & (d > 0), axis=1)
    return out


def _self_energy_matrix(junction, energy, sparse):
    """sum_l Sigma_l(E) as an (N, N) dense array or sparse matrix."""
    n = junction.size
    e = np.array([energy])
    if not sparse:
        return junction.self_energy(e)[0]
    rows, cols, vals = [], [], []
    for lead in junction.leads:
        sup = np.asarray(lead.support, dtype=int)
        block = np.asarray(lead.self_energy_block(e))[0]
        r, c = np.meshgrid(sup, sup, indexing="ij")
        rows.append(r.ravel())
        cols.append(c.ravel())
        vals.append(block.ravel())
    if not rows:
        return sp.csr_matrix((n, n), dtype=complex)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def _energy_independent(junction, lo, hi):
    for lead in junction.leads:
        if lead.band_edges:
            return False
        s = np.asarray(lead.self_energy_block(np.array([lo, hi])))
        if not np.allclose(s[0], s[1], rtol=1e-14, atol=0):
            return False
    return True


def _refine(junction, pending, steps=3):
    """Poles of G from eigenvalues z_0 of h + Sigma(E_ref): first-order
    updates z = z_0 + l^dagger [Sigma(Re z) - Sigma(E_ref)] r / l^dagger r with
    the eigenvectors r, l at E_ref, all poles at once (one batch of
    self-energies per step); the error is second order in the change of Sigma.
    """
    z0 = np.array([p[0] for p in pending])
    r = np.stack([p[1] for p in pending], axis=1)
    l = np.stack([p[2] for p in pending], axis=1)
    norm = np.einsum("ik,ik->k", np.conj(l), r)
    ok = np.abs(norm) > 1e-12 * np.linalg.norm(l, axis=0) * np.linalg.norm(r, axis=0)
    s = getattr(junction, "overlap", None)
    if s is not None:  # the pencil: l^dagger S r
        norm = np.einsum("ik,ij,jk->k", np.conj(l), np.asarray(s.toarray() if sp.issparse(s) else s), r)
        ok = np.abs(norm) > 1e-12 * np.linalg.norm(l, axis=0) * np.linalg.norm(r, axis=0)
    z = z0.copy()
    for _ in range(steps):
        sig = junction.self_energy(z.real)  # (k, N, N)
        ref = np.stack([p[3] for p in pending])
        delta = np.einsum("ik,kij,jk->k", np.conj(l), sig - ref, r)
        z = np.where(ok, z0 + delta / np.where(ok, norm, 1.0), z0)
    return z


def device_poles(
    junction: Junction, lo: float, hi: float, max_dense: int = MAX_DENSE, references: int = 5, sparse_k: int = 24
) -> tuple[RealArray, RealArray]:
    """Poles z = eps - i w of the device Green's function with eps near [lo, hi].

    Parameters
    ----------
    junction : Junction
        Reads ``hamiltonian``, ``leads`` (``self_energy``/``self_energy_block``),
        ``size`` and whether its backend is dense (``solver.dense``).
    lo, hi : float
        The window (eV).
    max_dense : int
        Devices up to this size are diagonalised densely; larger ones by a
        sparse shift-invert eigensolver that returns the ``sparse_k`` poles
        nearest to each reference energy.
    references : int
        Number of reference energies E_j for energy-dependent self-energies.

    Returns
    -------
    centers, halfwidths : ndarray
        eps_k and w_k >= 0 (eV) of the poles with eps_k within 5% of the
        window's width of [lo, hi].  Real poles (bound states) have w = 0.
    """
    n = junction.size
    if n == 0 or not hi > lo:
        return np.zeros(0), np.zeros(0)
    width = hi - lo
    margin = 0.05 * width
    constant = _energy_independent(junction, lo, hi)
    refs = np.array([0.5 * (lo + hi)]) if constant else np.linspace(lo, hi, references)
    # keep clear of band edges, where dSigma/dE is singular
    edges = np.asarray(getattr(junction, "band_edges", ()), dtype=float)
    if edges.size:
        close = np.abs(refs[:, None] - edges[None, :]).min(axis=1) < 1e-9 * max(1.0, width)
        refs = np.where(close, refs + 1e-6 * width, refs)
    h = junction.hamiltonian
    s = getattr(junction, "overlap", None)
    dense = n <= (max_dense if junction.solver.dense else min(max_dense, MAX_SPARSE_DENSE))
    if dense:
        hd = np.asarray(h.toarray() if sp.issparse(h) else h, dtype=complex)
        sd = None if s is None else np.asarray(s.toarray() if sp.issparse(s) else s, dtype=complex)
    poles, pending = [], []
    for i, e in enumerate(refs):
        # the poles this reference energy is responsible for (nearest reference)
        a = -np.inf if i == 0 else 0.5 * (refs[i - 1] + e)
        b = np.inf if i == refs.size - 1 else 0.5 * (refs[i + 1] + e)
        if dense:
            sig = _self_energy_matrix(junction, e, False)
            w, vl, vr = la.eig(hd + sig, sd, left=True, right=True, check_finite=False)
        else:
            from scipy.sparse.linalg import eigs

            m = sp.csr_matrix(h, dtype=complex) + _self_energy_matrix(junction, e, True)
            k = min(sparse_k, n - 2)
            w, vr = eigs(m.tocsc(), k=k, M=None if s is None else sp.csc_matrix(s), sigma=e, which="LM")
            vl = None
        sel = np.flatnonzero((w.real >= max(a, lo - margin)) & (w.real < min(b, hi + margin)))
        for j in sel:
            narrow = -w[j].imag < NARROW * width
            if dense and not constant and narrow:
                pending.append((w[j], vr[:, j], vl[:, j], sig))
            else:
                poles.append(w[j])
    if pending:
        poles += list(_refine(junction, pending))
    if not poles:
        return np.zeros(0), np.zeros(0)
    z = np.asarray(poles)
    z = z[(z.real >= lo - margin) & (z.real <= hi + margin)]
    return z.real.copy(), np.maximum(-z.imag, 0.0)
