r"""Vibrations from the structure's own potential: bare force constants of an
ASE calculator by finite differences, and their normal modes.

The bare (non-electronic, zero-bias) force constants K^b of the equation of
motion M X'' = F0 - (K^b + K) X + L X' + xi (seed eq. 14) are the second
derivatives of the structure's potential energy,

.. math::

    K^b_{ia,jb} = \frac{\partial^2 E}{\partial R_{ia}\,\partial R_{jb}}
                = -\frac{\partial F_{jb}}{\partial R_{ia}},

taken here by central differences of the forces of any ASE calculator (EMT,
the xTB calculator of ``tblite``, a DFT code) at steps h and h/2, with their
Richardson extrapolation: the five-point stencil of spacing h/2, which is
what ``ase.vibrations.Vibrations(nfree=4, delta=h/2)`` computes.  The raw
matrix is symmetrised, (K + K^T)/2, as ASE does; its asymmetry before that
is reported as a check of the finite differences.

The expansion is about a mechanical equilibrium: with a residual force on a
moving atom above :data:`FORCE_TOLERANCE` the linear term F0 is not small
and :class:`~currentforces.errors.NotRelaxedWarning` says so; ``relax=True``
first relaxes the moving atoms with an ASE optimiser.

Normal modes (:meth:`ForceConstants.modes`) diagonalise the mass-weighted
matrix M^-1/2 K^b M^-1/2: frequencies as hbar*omega in eV (omega the
angular frequency), eigenvectors e_k with Q_k = sum_a e_ka sqrt(M_a) X_a.

Units: positions and steps in Angstrom, forces eV/Angstrom, force constants
eV/Angstrom^2, masses amu, hbar*omega eV.  Coordinates are ordered
atom-major, then x, y, z, as the couplings of
:func:`currentforces.finite_difference_couplings`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._checks import AXES, check_atom_indices, check_positive, check_rtol
from ._finite_differences import central_difference, warn_if_steps_disagree
from .couplings import STEP_RTOL
from .errors import InputError, NotRelaxedWarning

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ase import Atoms

    from ._checks import RealArray

__all__ = ["bare_force_constants", "ForceConstants", "NormalModes", "FORCE_TOLERANCE"]

FORCE_TOLERANCE = 0.05
"""Residual force (eV/Angstrom) above which a geometry does not count as
relaxed (:class:`~currentforces.errors.NotRelaxedWarning`)."""


@dataclass
class NormalModes:
    """Normal modes of a force-constant matrix.

    Attributes
    ----------
    hbar_omega : ndarray, shape (M,)
        hbar*omega_k in eV, ascending.  A negative value flags an unstable
        direction (omega_k^2 < 0) and is ``-hbar |omega_k|``.
    vectors : ndarray, shape (M, M)
        Orthonormal eigenvectors e_k of M^-1/2 K M^-1/2 as columns.
    displacements : ndarray, shape (M, M)
        Cartesian displacement pattern of each mode as columns,
        e_ka / sqrt(M_a) in amu^-1/2: X = sum_k displacements[:, k] Q_k with
        Q_k in Angstrom amu^1/2.
    masses : ndarray, shape (M,)
        Mass of each coordinate, amu.
    """

    hbar_omega: np.ndarray
    vectors: np.ndarray
    displacements: np.ndarray
    masses: np.ndarray


@dataclass
class ForceConstants:
    """Bare force constants of the moving atoms of a structure.

    Attributes
    ----------
    hessian : ndarray, shape (3n, 3n)
        K^b in eV/Angstrom^2, symmetric: the ``bare_force_constants`` of
        :class:`~currentforces.dynamics.LangevinDynamics`.
    coordinates : list of (int, int)
        (atom index, Cartesian axis) of each row, atom-major then x, y, z.
    masses : ndarray, shape (3n,)
        Mass of the atom of each coordinate, amu.
    atoms : ase.Atoms
        A copy of the structure at the reference geometry (relaxed when
        asked), with the calculator attached.
    residual_force : float
        Largest ``|F|`` on a moving atom at the reference geometry, eV/Angstrom.
    relaxed : bool or None
        Whether the relaxation converged (``None``: none was asked for).
    error : float
        Estimated finite-difference error, ``max|D(h) - D(h/2)|/3`` over all
        entries, eV/Angstrom^2 (``nan`` without the step check).
    asymmetry : float
        ``max|K - K^T|/2`` of the raw finite differences, eV/Angstrom^2.
    step : float
        h in Angstrom.
    """

    hessian: np.ndarray
    coordinates: list
    masses: np.ndarray
    atoms: Atoms
    residual_force: float
    relaxed: bool | None
    error: float
    asymmetry: float
    step: float

    @property
    def labels(self) -> list[str]:
        """``"Cu3 z"``-style names of the coordinates."""
        symbols = self.atoms.get_chemical_symbols()
        return [f"{symbols[a]}{a} {AXES[c]}" for a, c in self.coordinates]

    def modes(self) -> NormalModes:
        """Mass-weighted normal modes (frequencies hbar*omega in eV)."""
        from .dynamics.observables import normal_modes

        hw, e = normal_modes(self.masses, self.hessian)
        return NormalModes(hw, e, e / np.sqrt(self.masses)[:, None], self.masses.copy())

    def select(self, coordinates: Sequence[tuple[int, int]]) -> RealArray:
        """The sub-matrix (eV/Angstrom^2) of the given (atom, axis)
        coordinates, in their order: e.g. the ``coordinates`` of an
        :class:`~currentforces.models.atomistic.AtomisticJunction` whose
        device atoms are numbered as here.  Fixing the other coordinates
        (a block, not a Schur complement)."""
        index = {c: i for i, c in enumerate(self.coordinates)}
        try:
            rows = [index[(int(a), int(c))] for a, c in coordinates]
        except KeyError as exc:
            raise InputError(
                f"coordinates: {exc.args[0]} is not among the moving coordinates of these force constants"
            ) from None
        except (TypeError, ValueError):
            raise InputError("coordinates must be (atom, axis) pairs") from None
        return self.hessian[np.ix_(rows, rows)].copy()


def _optimizer(optimizer):
    if isinstance(optimizer, str):
        import ase.optimize

        cls = getattr(ase.optimize, optimizer, None)
        if cls is None:
            raise InputError(f"optimizer: ase.optimize has no {optimizer!r} (e.g. 'BFGS', 'FIRE', 'LBFGS')")
        return cls
    if callable(optimizer):
        return optimizer
    raise InputError(f"optimizer must be the name of an ase.optimize class or the class, got {optimizer!r}")


def _relax(work, indices, optimizer, fmax, max_steps):
    """Relax the atoms ``indices`` of ``work`` (the others held fixed); True if converged."""
    from ase.constraints import FixAtoms

    original = list(work.constraints)
    others = [i for i in range(len(work)) if i not in set(indices)]
    if others:
        work.set_constraint(original + [FixAtoms(indices=others)])
    try:
        opt = _optimizer(optimizer)(work, logfile=None)
        converged = bool(opt.run(fmax=fmax, steps=max_steps))
    finally:
        work.set_constraint(original)
    return converged


def bare_force_constants(
    atoms: Atoms,
    indices: Sequence[int] | None = None,
    step: float = 0.01,
    *,
    relax: bool = False,
    fmax: float = 0.01,
    optimizer: str = "BFGS",
    max_steps: int = 1000,
    check: bool = True,
    rtol: float = STEP_RTOL,
    force_tolerance: float = FORCE_TOLERANCE,
) -> ForceConstants:
    r"""Force constants K^b = -dF/dR of the moving atoms from an ASE calculator.

    Parameters
    ----------
    atoms : ase.Atoms
        The structure with its calculator (``atoms.calc``); not modified.
    indices : sequence of int, optional
        Moving atoms (default: all).  The others stay at their positions
        (the electrodes of a junction).
    step : float
        Largest displacement h, Angstrom (> 0): forces at +-h and, with
        ``check``, +-h/2 for each coordinate.
    relax : bool
        First relax the moving atoms with ``optimizer`` to ``fmax``.
    fmax : float
        Convergence criterion of the relaxation, eV/Angstrom.
    optimizer : str or class
        An ``ase.optimize`` class or its name (default ``"BFGS"``).
    max_steps : int
        Largest number of optimiser steps.
    check : bool
        Richardson extrapolation of the steps h and h/2 with an error
        estimate and a :class:`~currentforces.errors.StepSizeWarning` when
        they disagree by more than ``rtol`` of the largest ``|K^b|`` entry
        (4 force calls per coordinate); ``False``: the central difference
        at h (2 calls, the ASE ``Vibrations`` default).
    rtol : float
        Tolerance of the step check (default
        :data:`currentforces.couplings.STEP_RTOL`).
    force_tolerance : float
        Residual force in eV/Angstrom above which the reference geometry
        is not relaxed: :class:`~currentforces.errors.NotRelaxedWarning`.

    Returns
    -------
    ForceConstants
        ``hessian`` (eV/Angstrom^2), ``masses`` (amu), ``coordinates``,
        ``modes()`` (hbar*omega in eV and eigenvectors), the relaxed
        ``atoms`` and the checks.

    Warns
    -----
    NotRelaxedWarning
        Residual force on a moving atom above ``force_tolerance``.
    StepSizeWarning
        The two steps disagree.
    """
    if not hasattr(atoms, "get_positions") or not hasattr(atoms, "copy"):
        raise InputError(f"atoms must be an ase.Atoms object, got {type(atoms).__name__}")
    if getattr(atoms, "calc", None) is None:
        raise InputError("atoms has no calculator: attach one first (e.g. atoms.calc = EMT())")
    n = len(atoms)
    if n == 0:
        raise InputError("atoms holds no atom")
    indices = check_atom_indices("indices", range(n) if indices is None else indices, n)
    step = check_positive("step", step, "Angstrom")
    fmax = check_positive("fmax", fmax, "eV/Angstrom")
    force_tolerance = check_positive("force_tolerance", force_tolerance, "eV/Angstrom")
    rtol = check_rtol(rtol)
    if int(max_steps) != max_steps or max_steps < 1:
        raise InputError(f"max_steps must be a positive integer, got {max_steps!r}")
    masses = np.asarray(atoms.get_masses(), dtype=float)[indices]
    if not np.all(np.isfinite(masses)) or np.any(masses <= 0):
        raise InputError(f"atoms: the moving atoms need finite masses > 0 amu, got {masses}")
    work = atoms.copy()
    work.calc = atoms.calc
    relaxed = _relax(work, indices, optimizer, fmax, int(max_steps)) if relax else None
    pos = work.get_positions()
    f0 = np.asarray(work.get_forces(apply_constraint=False), dtype=float)
    norms = np.linalg.norm(f0[indices], axis=1)
    residual = float(norms.max())
    if residual > force_tolerance:
        worst = indices[int(np.argmax(norms))]
        warnings.warn(
            f"the structure is not relaxed: residual force {residual:.3g} eV/Angstrom on atom {worst} "
            f"({work.get_chemical_symbols()[worst]}), above {force_tolerance:g} eV/Angstrom; the force "
            "constants describe the curvature at a point that is not an equilibrium"
            + ("" if relax else " (relax=True relaxes the moving atoms first)"),
            NotRelaxedWarning,
            stacklevel=2,
        )
    coordinates = [(a, c) for a in indices for c in range(3)]

    def forces_at(a, c, d):
        p = pos.copy()
        p[a, c] += d
        work.set_positions(p, apply_constraint=False)
        return (np.asarray(work.get_forces(apply_constraint=False), dtype=float)[indices].ravel(),)

    rows, errors = [], []
    try:
        for a, c in coordinates:
            derivative, err = central_difference(lambda d, a=a, c=c: forces_at(a, c, d), step, check)
            rows.append(-derivative[0])
            errors.append(err[0])
    finally:
        work.set_positions(pos, apply_constraint=False)
    raw = np.array(rows)
    if check:
        warn_if_steps_disagree("the forces", errors, rows, coordinates, step, rtol, "eV/Angstrom^2", stacklevel=3)
    asymmetry = float(np.max(np.abs(raw - raw.T)) / 2)
    return ForceConstants(
        0.5 * (raw + raw.T),
        coordinates,
        np.repeat(masses, 3),
        work,
        residual,
        relaxed,
        float(np.max(errors)),
        asymmetry,
        step,
    )
