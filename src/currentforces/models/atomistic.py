r"""Atomistic tight-binding junctions from ASE ``Atoms``.

Geometry (transport along ``axis``, default z)::

    ... | L cell 2 | L cell 1 |  device  | R cell 1 | R cell 2 | ...
         <- -a_L               lead 0      lead 1          +a_R ->

``left`` and ``right`` are the lead unit cells *at their place next to the
device* (cell 1, in the device's coordinate frame); each is periodic along
the transport axis with period vector ``cell[axis]`` of its ``Atoms``.  The
lead repeats away from the device: cell n+1 = cell n shifted by the period,
pointing away from the device.  All positions are in Angstrom, in one frame.

From a two-centre model (:mod:`currentforces.models.tight_binding`) this
builds the device Hamiltonian h, the leads ``Lead(onsite=H_11,
hopping=H_12, coupling=H_{device, cell 1})`` and the force operators

.. math:: f_{a,x} = -\frac{\partial h}{\partial R_{a,x}}

(eV/Angstrom) for the Cartesian coordinates of the movable device atoms, by
the analytic derivative of the model (:eq:`eq-hamiltonian`,
:ref:`theory-tight-binding`).  A movable atom that hops to a lead atom would
make f reach outside the device: that raises
:class:`~currentforces.InputError` (enlarge the device).

Directions other than the transport axis are not periodic: a wire, or a
molecule between tips.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import AXES, check_atom_indices, check_axes
from ..errors import InputError
from ..junction import Junction
from ..leads import Lead
from .tight_binding import TightBindingModel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ase import Atoms
    from numpy.typing import NDArray

    from .._checks import ArrayLike, RealArray

__all__ = [
    "AtomisticJunction",
    "atomistic_junction",
    "hamiltonian_blocks",
    "device_hamiltonian",
    "device_hamiltonian_derivative",
    "spring_force_constants",
    "lead_fermi_level",
]


def _positions(name, atoms):
    try:
        pos = np.asarray(atoms.get_positions(), dtype=float)
    except AttributeError:
        raise InputError(f"{name} must be an ase.Atoms object, got {type(atoms).__name__}") from None
    if pos.ndim != 2 or pos.shape[1] != 3 or len(pos) == 0:
        raise InputError(f"{name} must hold at least one atom")
    return pos


def hamiltonian_blocks(
    model: TightBindingModel, pos_a: ArrayLike, pos_b: ArrayLike, same: bool = False
) -> NDArray[Any]:
    """Hopping matrix between two sets of atoms (eV), rows: orbitals of
    ``pos_a``, columns: orbitals of ``pos_b``; with ``same`` the diagonal
    atom blocks are the on-site blocks.

    Parameters
    ----------
    model : TightBindingModel
    pos_a, pos_b : (n_a, 3), (n_b, 3) array_like
        Positions in Angstrom.
    same : bool
        ``pos_a`` and ``pos_b`` are the same atoms.
    """
    pos_a = np.asarray(pos_a, dtype=float)
    pos_b = np.asarray(pos_b, dtype=float)
    no = model.n_orbitals
    h = np.zeros((len(pos_a) * no, len(pos_b) * no))
    for i, ra in enumerate(pos_a):
        d = np.linalg.norm(pos_b - ra, axis=1)
        for j in np.flatnonzero(d < model.cutoff):
            if same and i == j:
                h[i * no : (i + 1) * no, j * no : (j + 1) * no] = model.onsite_block()
            elif d[j] < 1e-8:
                raise InputError(
                    f"two atoms coincide at {ra.tolist()} Angstrom (lead cells must sit outside the device, next to it)"
                )
            else:
                h[i * no : (i + 1) * no, j * no : (j + 1) * no] = model.hopping_block(pos_b[j] - ra)
    return h


def device_hamiltonian(model: TightBindingModel, positions: ArrayLike) -> NDArray[Any]:
    """Device Hamiltonian h (eV, (N, N), N = n_atoms * n_orbitals) of atoms
    at ``positions`` (Angstrom, (n_atoms, 3))."""
    return hamiltonian_blocks(model, positions, positions, same=True)


def device_hamiltonian_derivative(model: TightBindingModel, positions: ArrayLike, atom: int) -> NDArray[Any]:
    """dh/dR_atom (eV/Angstrom), shape (3, N, N): the analytic derivative of
    :func:`device_hamiltonian` with respect to the Cartesian position of
    ``atom`` (index into ``positions``)."""
    pos = np.asarray(positions, dtype=float)
    no = model.n_orbitals
    n = len(pos) * no
    out = np.zeros((3, n, n))
    ra = pos[atom]
    d = np.linalg.norm(pos - ra, axis=1)
    sa = slice(atom * no, (atom + 1) * no)
    for j in np.flatnonzero(d < model.cutoff):
        if j == atom:
            continue
        sj = slice(j * no, (j + 1) * no)
        # H_{a j} depends on r = R_j - R_a: dH_aj/dR_a = -grad_r H_aj
        g = -model.hopping_gradient(pos[j] - ra)
        out[:, sa, sj] += g
        out[:, sj, sa] += np.swapaxes(g, -1, -2)  # H_ja = H_aj^T (real model)
    return out


def _away_shift(name, lead_atoms, lead_pos, device_center, axis):
    cell = np.asarray(lead_atoms.get_cell(), dtype=float)
    period = cell[axis]
    if not np.linalg.norm(period) > 1e-8:
        raise InputError(f"{name}: cell vector {axis} (the transport axis) is zero; set the lead period")
    toward = lead_pos.mean(axis=0) - device_center
    return period if np.dot(period, toward) > 0 else -period


def lead_fermi_level(
    model: TightBindingModel,
    cell_positions: ArrayLike,
    period: float,
    electrons_per_cell: float,
    spin: float = 2,
    nk: int = 2000,
) -> float:
    """Fermi level (eV) of a periodic lead at T = 0 from its bands.

    Parameters
    ----------
    model : TightBindingModel
    cell_positions : (n, 3) array_like
        Atoms of one cell, Angstrom.
    period : (3,) array_like
        Period vector, Angstrom.
    electrons_per_cell : float
        Valence electrons per cell (both spins for ``spin=2``).
    spin : int
        Spin degeneracy g_s.
    nk : int
        Number of k points on [-pi, pi); even, so that the grid is
        symmetric under k -> pi - k and a half-filled particle-hole
        symmetric band gets its exact centre.

    Returns
    -------
    float
        The midpoint between the highest filled and lowest empty level.
    """
    pos = np.asarray(cell_positions, dtype=float)
    h00 = device_hamiltonian(model, pos)
    h01 = hamiltonian_blocks(model, pos, pos + np.asarray(period, dtype=float))
    k = np.linspace(-np.pi, np.pi, nk, endpoint=False)
    hk = h00[None] + np.exp(1j * k)[:, None, None] * h01 + np.exp(-1j * k)[:, None, None] * h01.T
    levels = np.sort(np.linalg.eigvalsh(hk).ravel())
    n_fill = electrons_per_cell / spin * nk
    i = int(round(n_fill))
    if not 0 < i < levels.size:
        raise InputError(f"electrons_per_cell = {electrons_per_cell!r} fills no band or all bands")
    return float(0.5 * (levels[i - 1] + levels[i]))


@dataclass
class AtomisticJunction:
    """A junction built from atoms, with its force operators.

    Attributes
    ----------
    junction : Junction
        Device Hamiltonian and the two leads (0: ``left``, 1: ``right``).
    forces : list of (N, N) ndarray
        f = -dh/dR for each movable coordinate, eV/Angstrom.
    coordinates : list of (int, int)
        (device atom index, Cartesian axis 0/1/2) of each force operator.
    masses : (M,) ndarray
        Mass of the atom of each coordinate, amu.
    labels : list of str
        ``"Au2 z"``-style names of the coordinates.
    model : TightBindingModel
    device, left, right : ase.Atoms
        The input structures.
    """

    junction: Junction
    forces: list
    coordinates: list
    masses: np.ndarray
    labels: list
    model: TightBindingModel
    # ase.Atoms (an optional dependency, untyped)
    device: Any
    left: Any
    right: Any
    lead_shifts: list = field(default_factory=list)

    def hamiltonian_at(self, positions: ArrayLike) -> NDArray[Any]:
        """Device Hamiltonian (eV) with the device atoms at ``positions``
        (Angstrom): for finite-difference checks and dynamics."""
        return device_hamiltonian(self.model, positions)

    def boundary_atoms(self) -> list[int]:
        """The movable device atoms within the hopping cutoff of a device
        atom that does not move: the atoms bonded to the electrodes, which
        couple to their phonons (sorted device indices; empty if none)."""
        pos = _positions("device", self.device)
        moving = sorted({a for a, _ in self.coordinates})
        fixed = [i for i in range(len(pos)) if i not in set(moving)]
        if not fixed:
            return []
        return [a for a in moving if np.linalg.norm(pos[fixed] - pos[a], axis=1).min() < self.model.cutoff]


def _lead_free_atoms(pos, leads_pos, cutoff):
    """Device atoms with no lead atom closer than the hopping cutoff: the
    atoms whose force operators lie inside the device."""
    lp = np.vstack(leads_pos)
    return [i for i in range(len(pos)) if np.linalg.norm(lp - pos[i], axis=1).min() >= cutoff]


def _movable(movable, n_atoms, axes, default):
    if movable is None:
        movable = default
        if not movable:
            raise InputError(
                f"movable: every one of the {n_atoms} device atoms hops to a lead, so none can move "
                "(its force operator would reach outside the device); put more lead atoms into "
                "the device on each side"
            )
    return check_atom_indices("movable", movable, n_atoms, what="the device"), check_axes(axes)


def atomistic_junction(
    device: Atoms,
    left: Atoms,
    right: Atoms,
    model: TightBindingModel,
    movable: Sequence[int] | None = None,
    axes: str = "xyz",
    axis: int = 2,
    check_range: bool = True,
) -> AtomisticJunction:
    """Build a tight-binding junction and its force operators from atoms.

    Parameters
    ----------
    device : ase.Atoms
        Device (scattering region) atoms, positions in Angstrom.
    left, right : ase.Atoms
        Lead unit cells next to the device (cell 1), in the device's frame;
        ``cell[axis]`` is each lead's period (Angstrom).  Lead 0 is ``left``
        (mu_0 = E_F + V/2), lead 1 is ``right``.
    model : TightBindingModel
        e.g. :class:`~currentforces.models.tight_binding.SBandModel`.
    movable : sequence of int, optional
        Device atoms that move, indices into ``device`` (negative ones count
        from the end, as in Python).  Default: every atom that does not hop
        to a lead atom (its force operator then lies inside the device).
    axes : str
        Cartesian directions that move, a subset of ``"xyz"`` (default all
        three: a structure moves in 3D).
    axis : int
        Transport axis (0, 1, 2).
    check_range : bool
        Check that hoppings reach only the neighbouring lead cell and that
        the leads do not couple to each other (raise otherwise).

    Returns
    -------
    AtomisticJunction
    """
    if axis not in (0, 1, 2):
        raise InputError(f"axis must be 0, 1 or 2, got {axis!r}")
    if not isinstance(model, TightBindingModel):
        raise InputError(f"model must be a TightBindingModel, got {type(model).__name__}")
    pos = _positions("device", device)
    leads_pos = [_positions("left", left), _positions("right", right)]
    center = pos.mean(axis=0)
    h = device_hamiltonian(model, pos)
    leads, shifts = [], []
    for name, atoms, lp in zip(("left", "right"), (left, right), leads_pos):
        shift = _away_shift(name, atoms, lp, center, axis)
        h00 = device_hamiltonian(model, lp)
        h01 = hamiltonian_blocks(model, lp, lp + shift)
        coupling = hamiltonian_blocks(model, pos, lp)
        if check_range:
            if np.any(hamiltonian_blocks(model, lp, lp + 2 * shift)):
                raise InputError(
                    f"{name}: hoppings reach beyond the next lead cell; use a longer lead cell "
                    f"(period {np.linalg.norm(shift):.3f} Angstrom, cutoff {model.cutoff} Angstrom)"
                )
            if np.any(hamiltonian_blocks(model, pos, lp + shift)):
                raise InputError(
                    f"{name}: device atoms hop to lead cell 2; put more lead atoms into the device "
                    "or use a longer lead cell"
                )
            if not np.any(coupling):
                raise InputError(f"{name}: the lead does not couple to the device (cutoff {model.cutoff} Angstrom)")
        leads.append(Lead(h00, h01, coupling))
        shifts.append(shift)
    if check_range and np.any(hamiltonian_blocks(model, leads_pos[0], leads_pos[1])):
        raise InputError("left and right leads hop to each other directly; lengthen the device")
    atoms_idx, ax = _movable(movable, len(pos), axes, _lead_free_atoms(pos, leads_pos, model.cutoff))
    symbols = device.get_chemical_symbols()
    masses_all = device.get_masses()
    forces, coords, masses, labels = [], [], [], []
    for a in atoms_idx:
        for name, lp in zip(("left", "right"), leads_pos):
            if np.any(np.linalg.norm(lp - pos[a], axis=1) < model.cutoff):
                raise InputError(
                    f"movable: device atom {a} hops to the {name} lead, so its force operator would "
                    f"reach outside the device; enlarge the device or keep atom {a} fixed"
                )
        dh = device_hamiltonian_derivative(model, pos, a)
        for c in ax:
            forces.append(-dh[c])
            coords.append((a, c))
            masses.append(masses_all[a])
            labels.append(f"{symbols[a]}{a} {AXES[c]}")
    return AtomisticJunction(
        Junction(h, leads), forces, coords, np.asarray(masses, dtype=float), labels, model, device, left, right, shifts
    )


def spring_force_constants(
    positions: ArrayLike,
    coordinates: Sequence[tuple[int, int]],
    spring_constant: float,
    bond_cutoff: float,
    fixed_positions: ArrayLike = (),
) -> RealArray:
    r"""Force-constant matrix (eV/Angstrom^2) of central nearest-neighbour
    springs, for the chosen coordinates.

    Each pair of atoms closer than ``bond_cutoff`` is a spring of stiffness
    k along the bond unit vector e: its energy is (k/2) (e . (u_j - u_i))^2.
    Atoms in ``fixed_positions`` (e.g. the lead cells next to the device)
    anchor the device atoms but do not move.

    Parameters
    ----------
    positions : (n, 3) array_like
        Device atom positions, Angstrom.
    coordinates : list of (int, int)
        (atom, Cartesian axis) of each degree of freedom.
    spring_constant : float
        k in eV/Angstrom^2.
    bond_cutoff : float
        Angstrom.
    fixed_positions : (m, 3) array_like
        Positions of immobile neighbour atoms, Angstrom.

    Returns
    -------
    (M, M) ndarray
        Symmetric, positive semi-definite.
    """
    pos = np.asarray(positions, dtype=float)
    fixed = np.asarray(fixed_positions, dtype=float).reshape(-1, 3)
    allpos = np.vstack([pos, fixed])
    n = len(pos)
    full = np.zeros((3 * len(allpos), 3 * len(allpos)))
    for i in range(len(allpos)):
        for j in range(i + 1, len(allpos)):
            r = allpos[j] - allpos[i]
            d = np.linalg.norm(r)
            if d < bond_cutoff:
                e = r / d
                blk = spring_constant * np.outer(e, e)
                si, sj = slice(3 * i, 3 * i + 3), slice(3 * j, 3 * j + 3)
                full[si, si] += blk
                full[sj, sj] += blk
                full[si, sj] -= blk
                full[sj, si] -= blk
    idx = [3 * a + c for a, c in coordinates]
    if any(a >= n for a, _ in coordinates):
        raise InputError("coordinates: atom index outside the device")
    return full[np.ix_(idx, idx)]
