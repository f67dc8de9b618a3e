r"""Resonances of a junction: the poles of G near an energy window.

The window integrals (current, density-matrix and force windows,
Fermi-surface and omega-window terms) have integrands built from
G(E) = [E - h - Sigma(E)]^{-1}, whose poles z_k = eps_k - i w_k below the
real axis make a Lorentzian peak of half-width w_k at eps_k.  A peak much
narrower than a quadrature panel falls between the nodes and goes unseen,
by the integral and by its error estimate alike.  The poles are the
eigenvalues of the effective Hamiltonian h + Sigma(E) at E ~ eps_k, found
here so that the windows can put graded breakpoints around them
(:func:`~currentforces.integrate.graded_breakpoints`).

With energy-independent self-energies (wide-band leads) one eigenvalue
problem gives the poles exactly.  Otherwise eigenvalues of h + Sigma(E_j)
at a few reference energies E_j across the window locate them, and each
narrow one is refined by Rayleigh-quotient steps on h + Sigma(Re z)
(z <- l^dagger [h + Sigma(Re z)] r / l^dagger r with inverse-iteration
updates of the right and left vectors r, l), which converge to the pole to
first order in its width.

Units: eV.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

__all__ = ["device_poles", "MAX_DENSE"]

MAX_DENSE = 3000
"""Largest device (orbitals) handled with dense eigensolvers; larger ones
use sparse shift-invert eigensolvers around a few reference energies."""

NARROW = 0.005
"""A pole is narrow, and is refined and graded, when its half-width is below
this fraction of the window."""


def _self_energy_matrix(junction, energy, sparse):
    """sum_l Sigma_l(E) as an (N, N) dense array or sparse matrix."""
    n = junction.size
    e = np.array([energy])
    if not sparse:
        return junction.self_energy(e)[0]
    rows, cols, vals = [], [], []
    for lead in junction.leads:
        sup = np.asarray(getattr(lead, "support", np.arange(n)), dtype=int)
        block = np.asarray(lead.self_energy_block(e))[0] if hasattr(lead, "self_energy_block") else \
            np.asarray(lead.self_energy(e))[0][np.ix_(sup, sup)]
        r, c = np.meshgrid(sup, sup, indexing="ij")
        rows.append(r.ravel())
        cols.append(c.ravel())
        vals.append(block.ravel())
    if not rows:
        return sp.csr_matrix((n, n), dtype=complex)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def _energy_independent(junction, lo, hi):
    for lead in junction.leads:
        if getattr(lead, "band_edges", ()):
            return False
        try:
            s = np.asarray(lead.self_energy_block(np.array([lo, hi]))) if hasattr(lead, "self_energy_block") \
                else np.asarray(lead.self_energy(np.array([lo, hi])))
        except Exception:  # pragma: no cover - exotic leads: assume dependence
            return False
        if not np.allclose(s[0], s[1], rtol=1e-14, atol=0):
            return False
    return True


def _refine(h, junction, z, r, l, steps=3):
    """Rayleigh-quotient refinement of one pole on h + Sigma(Re z) (dense)."""
    n = h.shape[0]
    for _ in range(steps):
        m = h + _self_energy_matrix(junction, z.real, False)
        shift = m - z * np.eye(n)
        try:
            lu = la.lu_factor(shift, check_finite=False)
            r = la.lu_solve(lu, r, check_finite=False)
            l = la.lu_solve(lu, l, trans=2, check_finite=False)
        except (la.LinAlgError, ValueError):  # z is an eigenvalue to machine precision
            pass
        r = r / np.linalg.norm(r)
        l = l / np.linalg.norm(l)
        denom = np.vdot(l, r)
        if abs(denom) < 1e-14:
            break
        z_new = np.vdot(l, m @ r) / denom
        if abs(z_new - z) <= 1e-14 * max(1.0, abs(z)):
            z = z_new
            break
        z = z_new
    return z


def device_poles(junction, lo, hi, max_dense=MAX_DENSE, references=5, sparse_k=24):
    """Poles z = eps - i w of the device Green's function with eps near [lo, hi].

    Parameters
    ----------
    junction : Junction
        Reads ``hamiltonian``, ``leads`` (``self_energy``/``self_energy_block``)
        and ``size``.
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
    dense = n <= max_dense
    if dense:
        hd = np.asarray(h.toarray() if sp.issparse(h) else h, dtype=complex)
    poles = []
    for i, e in enumerate(refs):
        # the poles this reference energy is responsible for (nearest reference)
        a = -np.inf if i == 0 else 0.5 * (refs[i - 1] + e)
        b = np.inf if i == refs.size - 1 else 0.5 * (refs[i + 1] + e)
        if dense:
            m = hd + _self_energy_matrix(junction, e, False)
            w, vl, vr = la.eig(m, left=True, right=True, check_finite=False)
        else:
            from scipy.sparse.linalg import eigs

            m = sp.csr_matrix(h, dtype=complex) + _self_energy_matrix(junction, e, True)
            k = min(sparse_k, n - 2)
            w, vr = eigs(m.tocsc(), k=k, sigma=e, which="LM")
            vl = None
        sel = np.flatnonzero((w.real >= max(a, lo - margin)) & (w.real < min(b, hi + margin)))
        for j in sel:
            z = w[j]
            narrow = -z.imag < NARROW * width
            if dense and not constant and narrow and vl is not None:
                z = _refine(hd, junction, z, vr[:, j].copy(), vl[:, j].copy())
            poles.append(z)
    if not poles:
        return np.zeros(0), np.zeros(0)
    z = np.asarray(poles)
    z = z[(z.real >= lo - margin) & (z.real <= hi + margin)]
    return z.real.copy(), np.maximum(-z.imag, 0.0)
