r"""Transverse k-points: a device periodic across the transport direction.

A device and leads periodic along d = 1 or 2 directions across the transport
direction are a family of Bloch problems, one per transverse wave vector k
(reduced coordinates, k in (-1/2, 1/2]^d):

.. math::

    H(k) = \sum_R e^{2\pi i k\cdot R} H_R, \qquad
    S(k) = \sum_R e^{2\pi i k\cdot R} S_R ,

with H_R the coupling of the home cell to cell R (the same for the leads'
blocks).  Results per transverse cell are averages over a grid,
Q = sum_k w_k Q(k) with sum_k w_k = 1 (:ref:`theory-kpoints`).  A
displacement moves every periodic image together (q = 0, as TBtrans and
Inelastica do), so its force operator is the Bloch sum of the real-space
ones, f(k) = sum_R e^{2 pi i k.R} f_R (:func:`bloch_sum`).

Time reversal (real H_R): H(-k) = H(k)^*, so G^r(-k) = G^r(k)^T.  Then
(:eq:`eq-kpoint-reversal`)

* T_sd(-k) = T_ds(k): the transmission and the two-terminal current of -k
  equal those of k;
* at zero bias rho(-k) = rho(k)^*, F0(-k) = F0(k), K(-k) = K(k)^T,
  L(-k) = L(k)^T and S(-k) = S(k)^T, so a pair (k, -k) gives the
  symmetric parts twice and no non-conservative or Berry part;
* under bias the partial spectral functions map onto the *outgoing* ones,
  A_l(-k) = [G^dagger Gamma_l G]^T(k), not onto A_l(k): the density matrix,
  mean force, K, L and noise of -k do not follow from k, and the junction
  at -k is evaluated (the full grid for these quantities).

Grids: Gamma-centred (k_j = j/N, wrapped into (-1/2, 1/2]) or Monkhorst-Pack
(k_j = (2j - N - 1)/2N, j = 1..N, shifted off Gamma for even N); both are
symmetric under k -> -k.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError
from .junction import Junction
from .junctionset import JunctionSet

if TYPE_CHECKING:
    from ._checks import ArrayLike

__all__ = ["KPointJunction", "kpoint_grid", "time_reversal_reduction", "bloch_sum", "bloch_forces", "CENTRES"]

CENTRES = ("gamma", "monkhorst-pack")
"""Grid kinds of :func:`kpoint_grid`."""

MATCH = 1e-10
"""Two reduced k-points closer than this (mod 1) are the same point."""

REVERSAL_RTOL = 1e-10
"""H(-k) counts as H(k)^* when they differ by less than this times max |H|."""


def _wrap(k):
    """Reduced coordinates into (-1/2, 1/2]."""
    k = np.asarray(k, dtype=float)
    w = k - np.round(k)
    w[np.isclose(w, -0.5, rtol=0, atol=MATCH)] = 0.5
    return w


def kpoint_grid(kgrid: Sequence[int], centre: str = "gamma") -> tuple[np.ndarray, np.ndarray]:
    """A transverse k-grid: reduced points (n_k, d) and weights summing to 1.

    Parameters
    ----------
    kgrid : sequence of int
        Number of points along each periodic direction (d = 1 or 2 entries,
        each >= 1), in lattice-vector order.
    centre : {"gamma", "monkhorst-pack"}
        ``"gamma"``: k_j = j/N (Gamma included); ``"monkhorst-pack"``:
        k_j = (2j - N - 1)/2N, j = 1..N (Monkhorst and Pack, Phys. Rev. B
        13, 5188 (1976); Gamma excluded for even N).

    Returns
    -------
    kpoints : ndarray (n_k, d)
        In (-1/2, 1/2].
    weights : ndarray (n_k,)
        1/n_k each.
    """
    if centre not in CENTRES:
        raise InputError(f"centre must be one of {CENTRES}, got {centre!r}")
    try:
        n = np.asarray(kgrid)
    except (TypeError, ValueError):
        n = np.asarray([])
    if n.ndim != 1 or n.size not in (1, 2) or not all(isinstance(x, (int, np.integer)) and x >= 1 for x in n.tolist()):
        raise InputError(f"kgrid must be 1 or 2 positive integers (points per periodic direction), got {kgrid!r}")
    axes = []
    for m in n.tolist():
        j = np.arange(m)
        axes.append(j / m if centre == "gamma" else (2 * (j + 1) - m - 1) / (2 * m))
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, n.size)
    return _wrap(mesh), np.full(len(mesh), 1.0 / len(mesh))


def _index_of(points, k):
    d = np.abs(_wrap(points - k)).max(axis=1)
    hit = np.flatnonzero(d < MATCH)
    return int(hit[0]) if hit.size else -1


def time_reversal_reduction(kpoints: ArrayLike, weights: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fold a grid symmetric under k -> -k onto its irreducible points.

    Parameters
    ----------
    kpoints : (n_k, d) array_like
        Reduced coordinates.
    weights : (n_k,) array_like
        Positive, summing to 1.

    Returns
    -------
    kpoints, weights, folded
        The irreducible points, their weights (a pair k, -k gives twice the
        weight of k) and whether each stands for a distinct partner -k.

    Raises
    ------
    InputError
        ``kpoints``: a point whose -k is not in the grid, or has another
        weight (the grid breaks the symmetry it claims).
    """
    k = _wrap(kpoints)
    w = np.asarray(weights, dtype=float)
    done = np.zeros(len(k), bool)
    out_k, out_w, folded = [], [], []
    for i in range(len(k)):
        if done[i]:
            continue
        j = _index_of(k, -k[i])
        if j < 0 or abs(w[j] - w[i]) > MATCH * max(1.0, abs(w[i])):
            what = "is not in the grid" if j < 0 else f"has weight {w[j]!r}, not {w[i]!r}"
            raise InputError(
                f"kpoints: the grid is not symmetric under k -> -k (time reversal): the partner of "
                f"k = {k[i].tolist()} {what}; give a symmetric grid or time_reversal=False"
            )
        done[i] = done[j] = True
        out_k.append(k[i])
        out_w.append(w[i] if j == i else 2 * w[i])
        folded.append(j != i)
    return np.array(out_k), np.array(out_w), np.array(folded)


def bloch_sum(blocks: Mapping[tuple[int, ...], Any], k: ArrayLike) -> np.ndarray:
    r"""sum_R e^{2 pi i k.R} M_R of real-space blocks.

    Parameters
    ----------
    blocks : dict
        ``{R: M_R}``, R a tuple of d integers (cell offsets across the
        transport direction), M_R arrays of one shape (a matrix, or a stack
        of force operators (M, N, N)).
    k : sequence of float
        Reduced wave vector, d entries.

    Returns
    -------
    ndarray (complex)
    """
    k = np.asarray(k, dtype=float).reshape(-1)
    out = None
    for offset, m in blocks.items():
        r = np.asarray(offset, dtype=float).reshape(-1)
        if r.shape != k.shape:
            raise InputError(f"blocks: cell offset {tuple(r.tolist())} has {r.size} entries, k has {k.size}")
        term = np.exp(2j * np.pi * float(k @ r)) * np.asarray(m)
        out = term if out is None else out + term
    if out is None:
        raise InputError("blocks: give at least one cell offset R")
    return out


def bloch_forces(blocks: Mapping[tuple[int, ...], Any]) -> Callable[[Any], list[np.ndarray]]:
    """``forces(k)`` -> the q = 0 force operators f(k) = sum_R e^{2 pi i k.R} f_R (eV/Angstrom).

    ``blocks`` maps cell offsets R to stacks (M, N, N) of f_R = -dH_R/dX,
    the derivative with respect to a displacement of every periodic image
    together; the result is what a :class:`KPointJunction` takes as
    ``forces``.
    """
    stacks = {r: np.asarray(m) for r, m in blocks.items()}
    shapes = {m.shape for m in stacks.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 3:
        raise InputError(f"blocks: need stacks (M, N, N) of one shape for every R, got shapes {sorted(shapes)}")

    def forces(k):
        return list(bloch_sum(stacks, k))

    return forces


class KPointJunction(JunctionSet):
    r"""A transversely periodic junction averaged over a k-grid (:ref:`theory-kpoints`).

    Parameters
    ----------
    make : callable
        ``make(k)`` -> the :class:`~currentforces.Junction` at reduced
        transverse wave vector k (ndarray (d,)): Bloch device H(k) and leads
        built from their Bloch blocks.  Must be picklable for
        ``backend="processes"``.
    kgrid : sequence of int, optional
        Points per periodic direction (:func:`kpoint_grid`).
    centre : {"gamma", "monkhorst-pack"}
        Grid kind for ``kgrid``.
    kpoints, weights : array_like, optional
        An explicit grid instead of ``kgrid``: (n_k, d) reduced points and
        positive weights summing to 1 (default equal).
    time_reversal : bool
        Fold k with -k (real-space Hamiltonian real, no magnetic field).
        Checked: the grid must be symmetric and H(-k) = H(k)^* at every
        folded point, else InputError naming ``kpoints`` or
        ``time_reversal``.
    spin : {None, 1}
        As for :class:`~currentforces.junctionset.JunctionSet` (1 when H(k)
        has spin in its basis).
    backend, workers
        Parallel evaluation over k (:func:`currentforces.parallel.parallel_map`).

    Notes
    -----
    Results are per transverse cell: the transmission is the number of
    channels per cell, the density matrix the home-cell block rho_{R=0},
    forces are on the atoms of one cell when every image moves together.
    Under time reversal the transmission, the current of a two-terminal
    junction, and every quantity at zero bias take one k of each pair
    (:eq:`eq-kpoint-reversal`); under bias the density matrix, force
    coefficients and noise also evaluate -k.
    """

    def __init__(
        self,
        make: Callable[[np.ndarray], Junction],
        kgrid: Sequence[int] | None = None,
        centre: str = "gamma",
        kpoints: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        time_reversal: bool = True,
        spin: int | None = None,
        backend: Any = "serial",
        workers: int | None = None,
    ) -> None:
        if not callable(make):
            raise InputError(f"make must be a callable k -> Junction, got {type(make).__name__}")
        if (kgrid is None) == (kpoints is None):
            raise InputError("give either kgrid or kpoints")
        if kgrid is not None:
            if weights is not None:
                raise InputError("weights go with explicit kpoints, not with kgrid")
            k, w = kpoint_grid(kgrid, centre)
        else:
            k = np.asarray(kpoints, dtype=float)
            if k.ndim == 1:
                k = k[:, None]
            if k.ndim != 2 or k.shape[1] not in (1, 2) or len(k) == 0 or not np.all(np.isfinite(k)):
                raise InputError(f"kpoints must be (n_k, d) finite reduced coordinates, d = 1 or 2, got {kpoints!r}")
            w = np.full(len(k), 1.0 / len(k)) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
            if w.shape != (len(k),) or not np.all(np.isfinite(w)) or np.any(w <= 0):
                raise InputError(f"weights: need {len(k)} finite positive weights, got {weights!r}")
            if abs(w.sum() - 1.0) > MATCH:
                raise InputError(f"weights must sum to 1 (an average per transverse cell), got sum {w.sum()!r}")
        self.make = make
        self.full_kpoints, self.full_weights = _wrap(k), w
        if time_reversal:
            k, w, folded = time_reversal_reduction(k, w)
        else:
            folded = np.zeros(len(k), bool)
        self.kpoints = np.asarray(k)
        """Irreducible reduced k-points (n_k, d)."""
        self.time_reversal = bool(time_reversal)
        members = [self._build(x) for x in self.kpoints]
        labels = [f"k={tuple(round(float(c), 12) for c in x)}" for x in self.kpoints]
        super().__init__(
            members, w, labels, [tuple(x) for x in self.kpoints], spin, folded, backend=backend, workers=workers
        )
        self._partners: dict[int, Junction] = {}
        for i in np.flatnonzero(folded):
            self._check_reversal(i)

    def _build(self, k):
        j = self.make(np.array(k, dtype=float))
        if not isinstance(j, (Junction, JunctionSet)):
            raise InputError(f"make(k) must return a Junction, got {type(j).__name__} at k = {list(k)}")
        return j

    def _check_reversal(self, i):
        j, _ = self.partner(i)
        h, hp = self.members[i].hamiltonian, j.hamiltonian
        diff = abs(hp - h.conj()).max()  # dense or sparse (rgf)
        scale = max(1.0, float(abs(h).max()))
        s, sp = getattr(self.members[i], "overlap", None), getattr(j, "overlap", None)
        if s is not None and sp is not None:
            diff = max(diff, abs(sp - s.conj()).max())  # S(-k) = S(k)^* as well
        if diff > REVERSAL_RTOL * scale:
            raise InputError(
                f"time_reversal: H(-k) (or S(-k)) differs from H(k)^* by {float(diff):.3g} at k = "
                f"{self.kpoints[i].tolist()} (a complex real-space Hamiltonian or a magnetic field breaks time "
                "reversal); pass time_reversal=False for the full grid"
            )

    def partner(self, index: int) -> tuple[Junction | JunctionSet, Any]:
        """The junction at -k of irreducible point ``index`` (built once) and its key -k."""
        k = _wrap(-self.kpoints[index])
        if index not in self._partners:
            self._partners[index] = self._build(k)
        return self._partners[index], tuple(k)
