r"""Bound states of a junction: real poles of the device Green's function.

A bound state is an eigenstate of the whole system (device and leads) that
no lead carries away: a pole of G(E) = [E - h - Sigma(E)]^{-1} on the real
axis.  Two kinds occur:

* **gap states**, at energies outside every lead's continuum (an impurity
  level above a chain's band, a localised state in a common gap).  There
  Sigma(E) is Hermitian and the pole is a root of det[E - h - Sigma(E)];
* **decoupled states**, eigenvectors of h with no amplitude that any lead
  couples to (Sigma(z) v = 0 for all z): bound states that can sit inside a
  band ("bound states in the continuum"), e.g. an orbital without any hopping
  between wide-band leads.

Near a bound state at E_b (:ref:`theory-bound-states`, :eq:`eq-bound-residue`)

.. math:: G(z) \simeq \frac{R_b}{z - E_b} + \text{regular}, \qquad
          R_b = \sum_{k} u_k u_k^\dagger ,

with u = v (1 - v^\dagger \Sigma'(E_b) v)^{-1/2} for a normalised null
vector v of E_b - h - Sigma(E_b) (a degenerate level takes the matrix
version): the residue is the device part of the normalised eigenstate of
the whole system (for a decoupled state R = v v^dagger).  In a
non-orthogonal basis (overlap S, :ref:`theory-overlap`) the same holds for
the pencil E S - h - Sigma(E): the eigenvectors are S-normalised,
v^dagger S v = 1, and u = v (v^dagger (S - Sigma'(E_b)) v)^{-1/2}.  Its weight
Tr R_b <= 1 is the probability to find the electron in the device.

How the rest of the package uses them: a bound state holds n_F(E_b - mu_0)
electrons per spin, mu_0 the reference (mean) chemical potential; its pole
is subtracted from G before the Fermi-sea sums and added back exactly; it
has no continuum of electron-hole pairs at its energy, so it gives no
adiabatic friction (see :func:`~currentforces.forces.force_coefficients`).

**Which occupation under bias.**  No lead feeds a bound state, so the
non-interacting steady state leaves its occupation undetermined: it keeps
what it had, and in a real junction weak processes outside this model
(inelastic scattering, interactions, tunnelling to a substrate) set it.  We
give it the equilibrium occupation n_F(E_b - mu_0) at the mean chemical
potential mu_0 of the leads and the common temperature: the value reached
from equilibrium when the bias is switched on symmetrically, continuous with
zero bias.  A different occupation n can be imposed by adding
spin (n - n_F) R_b to the density matrix and
spin (n - n_F) Tr[f_a R_b] to the mean force.

Units: energies eV; residues are dimensionless (electrons per spin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as la
from scipy.optimize import brentq

from .errors import InputError
from .leads import EDGE_RTOL, broadening_from_self_energy

if TYPE_CHECKING:
    from ._checks import ArrayLike, ComplexArray, IndexArray, Indices, RealArray
    from .junction import Junction

__all__ = ["BoundStates", "find_bound_states", "BOUND_STATE_COINCIDENCE", "RESOLUTION"]

MAX_DENSE = 3000
"""Largest device (orbitals) searched with dense eigensolvers; larger
devices are not searched (:func:`find_bound_states`)."""

MAX_SPARSE_DENSE = 200
"""Largest device on a sparse (block-tridiagonal) backend that is searched:
the dense search costs more than its whole force calculation beyond."""

RESOLUTION = 1e-13
"""Width (relative to the energy scale, eV) below which a level counts as
bound: its coupling to the leads is treated as zero.  Broader levels are
resonances, resolved by the graded window breakpoints."""

BOUND_STATE_COINCIDENCE = 1e-12
"""A bound state closer than this (relative to the junction's energy scale,
eV) to a chemical potential at T = 0 counts as sitting exactly on it."""


@dataclass
class BoundStates:
    """The bound states of a junction.

    Attributes
    ----------
    energies : ndarray (n,)
        E_b in eV, ascending; a degenerate level appears once per state.
    amplitudes : ndarray (N, n)
        Device amplitudes u_b: the residue of G at a level is the sum of
        u_b u_b^dagger over its states.
    decoupled : ndarray of bool (n,)
        True for states that no lead couples to (they may lie inside a band).
    searched : bool
        False when the device was too large to be searched
        (more than :data:`MAX_DENSE` orbitals): then nothing is known.
    """

    energies: np.ndarray
    amplitudes: np.ndarray
    decoupled: np.ndarray
    searched: bool = True

    def __len__(self):
        return int(self.energies.size)

    @property
    def weights(self) -> RealArray:
        """Tr R_b of each state: its probability to be in the device (<= 1)."""
        return np.sum(np.abs(self.amplitudes) ** 2, axis=0)

    def residues(self, orbitals: Indices | None = None) -> ComplexArray:
        """R_b restricted to ``orbitals`` (default all), shape (n, s, s)."""
        u = self.amplitudes if orbitals is None else self.amplitudes[np.asarray(orbitals, dtype=int)]
        return np.einsum("ib,jb->bij", u, np.conj(u))

    def pole_part(self, z: ArrayLike, orbitals: Indices | None = None) -> ComplexArray:
        """sum_b R_b / (z - E_b) on ``orbitals`` for a 1-d array z, (len(z), s, s)."""
        z = np.asarray(z).reshape(-1)
        r = self.residues(orbitals)
        return np.einsum("zb,bij->zij", 1.0 / (z[:, None] - self.energies[None, :]), r)

    def near(self, energy: float, tolerance: float) -> IndexArray:
        """Indices of the states within ``tolerance`` (eV) of ``energy``."""
        return np.flatnonzero(np.abs(self.energies - energy) <= tolerance)


def _empty(n, searched=True):
    return BoundStates(np.zeros(0), np.zeros((n, 0), dtype=complex), np.zeros(0, dtype=bool), searched)


def _dense_hamiltonian(junction):
    h = junction.hamiltonian
    return np.asarray(h.toarray() if hasattr(h, "toarray") else h, dtype=complex)


def _dense_overlap(junction):
    """The device overlap S, dense (the identity in an orthogonal basis)."""
    s = getattr(junction, "overlap", None)
    if s is None:
        return None
    return np.asarray(s.toarray() if hasattr(s, "toarray") else s, dtype=complex)


def _eigh(a, b=None):
    """Eigenpairs of a (Hermitian) or of the pencil (a, b), b-orthonormal eigenvectors."""
    if b is None:
        return np.linalg.eigh(a)
    return la.eigh(a, b)


def _eigvalsh(a, b=None):
    if b is None:
        return np.linalg.eigvalsh(a)
    return la.eigh(a, b, eigvals_only=True)


def _total_self_energy(junction, energy):
    """Sum of the lead self-energies at one energy, dense (N, N)."""
    return junction.self_energy(np.array([energy]))[0]


def _null_space(matrix, tol):
    """Orthonormal basis (columns) of the vectors x with |matrix x| <= tol |x|."""
    if matrix.shape[1] == 0:
        return matrix[:0].T.copy()
    _, s, vh = np.linalg.svd(matrix, full_matrices=True)
    rank = int(np.sum(s > tol))
    return np.conj(vh[rank:]).T


def _decoupled_subspace(junction, h, scale, s=None):
    """Largest h-invariant subspace on which every lead's self-energy vanishes.

    An h-invariant subspace is spanned by eigenvectors of h, so it is the sum
    over the eigenspaces E_lambda of h of their parts annihilated by
    Sigma(z) at one z in the upper half plane, measured by |Sigma(z) v| (eV,
    the square root of the positive semi-definite form v^dagger Sigma^dagger
    Sigma v), which is of the order of the width a weakly coupled level would
    have (Gamma/2 for a wide-band lead): one diagonalisation of h and one small
    eigenproblem per eigenspace.  (Not Gamma(z) = i(Sigma - Sigma^dagger): off the real axis it
    is positive semi-definite only when the leads couple through h alone; with
    an overlap, Sigma(z) = (z S_dl - h_dl) g(z) (z S_ld - h_ld) is not of the
    form A g A^dagger and Gamma(z) has negative directions, which read as
    "decoupled".)
    """
    z = 0.1 * scale + 1j * scale
    sigma = _total_self_energy(junction, z)
    sigma_sq = np.conj(sigma.T) @ sigma
    sigma_sq = 0.5 * (sigma_sq + sigma_sq.conj().T)
    # the same resolution as the resonance grading of the windows
    # (junction.window_breakpoints): a level narrower than this is a bound state
    tol = RESOLUTION * max(1.0, scale)
    w, v = _eigh(h, s)
    weights = np.sqrt(np.maximum(np.einsum("ik,ij,jk->k", np.conj(v), sigma_sq, v).real, 0.0))
    out = []
    i, n = 0, w.size
    degenerate = 1e-10 * max(1.0, float(np.abs(w).max()) if n else 1.0)
    while i < n:
        j = i + 1
        while j < n and w[j] - w[j - 1] <= degenerate:
            j += 1
        if j - i == 1:
            if weights[i] <= tol:
                out.append(v[:, i : i + 1])
        else:
            block = v[:, i:j]
            c, y = np.linalg.eigh(np.conj(block.T) @ sigma_sq @ block)
            keep = np.sqrt(np.maximum(c, 0.0)) <= tol
            if np.any(keep):
                out.append(block @ y[:, keep])
        i = j
    return np.concatenate(out, axis=1) if out else np.zeros((h.shape[0], 0), dtype=complex)


def _gap_intervals(junction, scale):
    """Energy intervals (a, b) outside every lead's continuum (a, b may be infinite)."""
    edges = sorted({float(e) for e in junction.band_edges})
    if not edges:
        return []
    bounds = [-np.inf, *edges, np.inf]
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if np.isinf(a):
            test = b - max(1.0, 0.1 * scale)
        elif np.isinf(b):
            test = a + max(1.0, 0.1 * scale)
        else:
            test = 0.5 * (a + b)
        sigma = _total_self_energy(junction, test)
        gamma = broadening_from_self_energy(sigma)
        if np.abs(gamma).max() <= 1e-8 * max(np.abs(sigma).max(), 1e-8 * scale):
            out.append((a, b))
    return out


def _gap_states(junction, h, basis, scale, s=None):
    """Roots of det[E - h - Sigma(E)] in every gap, restricted to ``basis``.

    In a gap Sigma(E) is Hermitian with dSigma/dE <= 0 (it is a sum of
    |c><c| / (E - e) over the lead's states), so each sorted eigenvalue
    lambda_k(E) of h + Sigma(E) decreases and lambda_k(E) - E has at most one
    root per gap: a sign change brackets it (Brent's method).
    """
    m = basis.shape[1]
    if m == 0:
        return []
    hb = basis.conj().T @ h @ basis
    sb = None if s is None else basis.conj().T @ s @ basis

    def lam(e):
        sig = _total_self_energy(junction, e)
        sig = 0.5 * (sig + sig.conj().T)
        return _eigvalsh(hb + basis.conj().T @ sig @ basis, sb)

    found = []
    eps = 4 * EDGE_RTOL * scale  # clear of the band-edge tolerance of junction energies
    for a, b in _gap_intervals(junction, scale):
        if np.isinf(a):
            top = lam(b - eps)
            a = min(b, float(top.min())) - max(1.0, scale)
        if np.isinf(b):
            top = lam(a + eps)
            b = max(a, float(top.max())) + max(1.0, scale)
        lo, hi = a + eps, b - eps
        if not hi > lo:
            continue
        phi_lo = lam(lo) - lo
        phi_hi = lam(hi) - hi
        for k in np.flatnonzero(np.sign(phi_lo) * np.sign(phi_hi) < 0):
            root = brentq(
                lambda e, k=k: lam(e)[k] - e,
                lo,
                hi,
                xtol=1e-15 * max(1.0, scale),
                rtol=4 * np.finfo(float).eps,
                maxiter=200,
            )
            found.append(float(root))
    return sorted(found)


def _gap_amplitudes(junction, h, basis, energy, multiplicity, scale, s=None):
    """Device amplitudes u (N, multiplicity) of the gap level at ``energy``."""
    sig = _total_self_energy(junction, energy)
    sig = 0.5 * (sig + sig.conj().T)
    hb = basis.conj().T @ (h + sig) @ basis
    w, v = _eigh(hb, None if s is None else basis.conj().T @ s @ basis)
    order = np.argsort(np.abs(w - energy))[:multiplicity]
    vec = basis @ v[:, order]
    dsig = sum(np.asarray(lead.self_energy_derivative(np.array([energy])))[0] for lead in junction.leads)
    dsig = 0.5 * (dsig + dsig.conj().T)
    c = np.eye(multiplicity) - vec.conj().T @ dsig @ vec
    c = 0.5 * (c + c.conj().T)
    d, q = np.linalg.eigh(c)
    if np.any(d <= 0):
        raise InputError(
            f"bound state at {energy:.12g} eV: dSigma/dE is not negative there; is the lead's self-energy retarded?"
        )
    return vec @ q / np.sqrt(d)[None, :]


def find_bound_states(junction: Junction, max_dense: int = MAX_DENSE) -> BoundStates:
    """Bound states of a junction: decoupled states and the real poles of G
    in the gaps of the leads.

    Parameters
    ----------
    junction : Junction
        Reads ``hamiltonian``, ``leads``, ``band_edges`` and
        ``self_energy``; the gaps are the intervals between the leads'
        band edges where every Gamma_l vanishes (a lead without band edges,
        e.g. a wide-band lead, has a continuum everywhere).
    max_dense : int
        Devices with more orbitals are not searched (``searched=False``);
        on a sparse backend the limit is :data:`MAX_SPARSE_DENSE`.  The
        Fermi-sea sums still contain such a device's bound states (they are
        poles of G like any other); what is lost is their exact treatment
        near a chemical potential at T = 0.

    Returns
    -------
    BoundStates

    Notes
    -----
    Decoupled states: in every eigenspace of h, the vectors that
    Gamma(z) = i(Sigma(z) - Sigma(z)^dagger) at one z in the upper half plane
    annihilates (it is positive definite on every direction a lead couples
    to).  Gap states: on the complement, each branch of
    lambda_k(E) - E changes sign at most once per gap (see
    :func:`_gap_states`); roots are found to ~1e-15 relative accuracy.  A
    state exactly at a band edge (a threshold resonance) is not counted.
    """
    n = junction.size
    if not junction.solver.dense:
        max_dense = min(max_dense, MAX_SPARSE_DENSE)
    if n > max_dense:
        return _empty(n, searched=False)
    if n == 0 or not junction.leads:
        return _empty(n)
    h = _dense_hamiltonian(junction)
    h = 0.5 * (h + h.conj().T)
    s = _dense_overlap(junction)
    scale = float(junction.energy_scale)
    u = _decoupled_subspace(junction, h, scale, s)
    energies, amps, dec = [], [], []
    if u.shape[1]:
        w, v = np.linalg.eigh(u.conj().T @ h @ u)
        energies += list(w)
        amps.append(u @ v)
        dec += [True] * w.size
    # complement of the decoupled subspace (its S-orthogonal complement, which
    # the pencil E S - h - Sigma leaves invariant: x^dagger S u = 0 gives x^dagger (E S - h) u = 0)
    q, _ = np.linalg.qr(np.concatenate([u if s is None else s @ u, np.eye(n)], axis=1))
    basis = q[:, u.shape[1] : n]
    roots = _gap_states(junction, h, basis, scale, s)
    i = 0
    while i < len(roots):
        j = i + 1
        while j < len(roots) and roots[j] - roots[i] <= 1e-10 * max(1.0, scale):
            j += 1
        e = float(np.mean(roots[i:j]))
        amps.append(_gap_amplitudes(junction, h, basis, e, j - i, scale, s))
        energies += [e] * (j - i)
        dec += [False] * (j - i)
        i = j
    if not energies:
        return _empty(n)
    e_all = np.asarray(energies)
    a_all = np.concatenate(amps, axis=1)
    order = np.argsort(e_all, kind="stable")
    return BoundStates(e_all[order], a_all[:, order], np.asarray(dec)[order])
