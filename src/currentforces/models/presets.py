r"""Built-in atomistic junctions: a gold atomic chain and a carbon chain.

Both are straight monatomic chains along z between semi-infinite chain
electrodes of the same element, the geometry in which gold chains are
pulled in break junctions and carbon chains (carbynes) are made between
graphene or carbon electrodes.  The device holds ``n_atoms`` chain atoms plus
``buffer`` electrode atoms on each side, so that the force operators of the
movable chain atoms lie inside the device (:ref:`theory-conventions`).

Gold (:func:`gold_chain`): one 6s orbital per atom (the single channel of
an Au monatomic chain, conductance close to 1 G0: N. Agraït, A. Levy Yeyati,
J. M. van Ruitenbeek, Phys. Rep. 377, 81 (2003), sec. 8), with the
:class:`~currentforces.models.tight_binding.SBandModel` hopping

* t0 = 1.40 hbar^2/(m d0^2) = 1.707 eV at d0 = 2.5 Angstrom: Harrison's
  universal V_ss sigma (W. A. Harrison, *Electronic Structure and the
  Properties of Solids*, Freeman 1980, Table 2-1, eta_ss sigma = -1.40,
  hbar^2/m = 7.62 eV Angstrom^2);
* beta = 2/d0 = 0.8 /Angstrom: the logarithmic derivative of Harrison's
  d^-2 law at d0;
* d0 = 2.5 Angstrom: the bond length of Au chains in DFT (T. Frederiksen,
  M. Brandbyge, N. Lorente, A.-P. Jauho, PRL 93, 256601 (2004): 2.4-2.6 A);
* on-site 0 and one electron per atom: half filling, E_F = 0.

The electrodes have the bulk gold nearest-neighbour distance 2.88
Angstrom, so the stretched-to-bulk mismatch scatters weakly.

Carbon (:func:`carbon_chain`): s, px, py, pz per atom, Slater-Koster with
Harrison's 1980 parameters (Table 2-1 and the solid-state table of term
values): e_s = -17.52 eV, e_p = -8.97 eV, V = eta hbar^2/(m d^2) with
eta = -1.40 (ss sigma), 1.84 (sp sigma), 3.24 (pp sigma), -0.81 (pp pi);
d0 = 1.28 Angstrom (cumulene bond length).  Four valence electrons per
atom; E_F from the electrode bands (:func:`lead_fermi_level`).

Electron-hole symmetry at the band centre.  For motion along a straight
chain (``axes="z"``) the Hamiltonian and the force operators do not mix
sigma (s, pz) and pi (px, py) orbitals.  The pi block has one on-site
energy e_p and nearest-neighbour hoppings only, so the sublattice sign S
(+1 on even, -1 on odd atoms) gives S (H - e_p) S = -(H - e_p) and
S f S = -f, hence S G^r(E) S = -G^a(2 e_p - E).  Four electrons per atom
fill the sigma bonding band and half of the pi bands: E_F = e_p exactly,
inside the sigma gap (-30.1 to -3.3 eV at d = 1.28 Angstrom).  With the
symmetric bias split mu = E_F +- V/2 the mirror E - e_p -> e_p - E maps the
non-equilibrium problem onto itself with K -> K^T and L -> L^T, so the
non-conservative force K_asym and the Berry force L_asym vanish at every
bias (to round-off, ~1e-15), as they do for the half-filled s band of the
gold chain.  An E_F off e_p or any term that breaks the sublattice symmetry
(a shifted on-site level, a bent chain) makes them non-zero.

Springs (the dynamical matrix, an input of the mode analysis): central
nearest-neighbour springs, k = 2.0 eV/Angstrom^2 for gold (a zone-boundary
chain phonon of 2 sqrt(k/M) = 13 meV, within the 10-20 meV range of the
longitudinal chain modes seen in point-contact spectroscopy, Agraït et
al., PRL 88, 216803 (2002); Frederiksen et al. 2004) and k = 50
eV/Angstrom^2 for carbon (a zone-boundary mode near 0.25 eV, the range of
the carbyne stretching modes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from .atomistic import AtomisticJunction, atomistic_junction, lead_fermi_level, spring_force_constants
from .tight_binding import SBandModel, SlaterKosterSP, TightBindingModel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ase import Atoms

__all__ = [
    "Preset",
    "PRESETS",
    "gold_model",
    "carbon_model",
    "chain_atoms",
    "gold_chain",
    "carbon_chain",
    "build_preset",
    "MODELS",
    "PRESET_MODELS",
    "junction_from_atoms",
]

HBAR2_OVER_M = 7.62
"""hbar^2/m_e in eV*Angstrom^2 (Harrison 1980)."""


def gold_model(cutoff: float = 3.3) -> SBandModel:
    """s-band gold model (parameters in the module docstring)."""
    d0 = 2.5
    return SBandModel(t0=1.40 * HBAR2_OVER_M / d0**2, beta=2.0 / d0, d0=d0, cutoff=cutoff, onsite=0.0)


def carbon_model(cutoff: float = 1.9) -> SlaterKosterSP:
    """Slater-Koster sp carbon model (Harrison 1980, module docstring)."""
    d0 = 1.28
    v = HBAR2_OVER_M / d0**2
    return SlaterKosterSP(
        e_s=-17.52,
        e_p=-8.97,
        v_sss=-1.40 * v,
        v_sps=1.84 * v,
        v_pps=3.24 * v,
        v_ppp=-0.81 * v,
        d0=d0,
        cutoff=cutoff,
        scaling="harrison",
    )


def chain_atoms(
    symbol: str, n_atoms: int, bond: float, lead_bond: float, buffer: int = 1
) -> tuple[Atoms, Atoms, Atoms]:
    """Device and lead-cell ``ase.Atoms`` of a straight chain along z.

    Parameters
    ----------
    symbol : str
        Chemical symbol.
    n_atoms : int
        Chain atoms with spacing ``bond`` (Angstrom).
    bond, lead_bond : float
        Chain and electrode nearest-neighbour distances, Angstrom.
    buffer : int
        Electrode atoms (spacing ``lead_bond``) included in the device on
        each side.

    Returns
    -------
    device, left, right : ase.Atoms
        ``left``/``right`` are one-atom lead cells with period ``lead_bond``
        along z, placed next to the device.
    """
    from ase import Atoms

    if int(n_atoms) < 1:
        raise InputError(f"n_atoms must be >= 1, got {n_atoms!r}")
    z = [-(buffer - i) * lead_bond for i in range(buffer)]
    z += [i * bond for i in range(int(n_atoms))]
    last = z[-1]
    z += [last + (i + 1) * lead_bond for i in range(buffer)]
    zs = np.asarray(z)
    cell = [20.0, 20.0, lead_bond]
    device = Atoms([symbol] * len(zs), positions=np.c_[np.zeros_like(zs), np.zeros_like(zs), zs])
    left = Atoms([symbol], positions=[[0, 0, zs[0] - lead_bond]], cell=cell, pbc=[False, False, True])
    right = Atoms([symbol], positions=[[0, 0, zs[-1] + lead_bond]], cell=cell, pbc=[False, False, True])
    return device, left, right


@dataclass
class Preset:
    """A built-in junction with everything a run needs.

    Attributes
    ----------
    system : AtomisticJunction or XTBJunction
        The junction and its force operators
        (:class:`~currentforces.adapters.xtb.XTBJunction` for ``model = "xtb"``).
    fermi_level : float
        eV.
    spring_constants : (M, M) ndarray
        Mechanical force constants of the movable coordinates, eV/Angstrom^2.
    description : str
    vibrations : str
        Where ``spring_constants`` come from: ``"springs"`` (central
        nearest-neighbour springs) or ``"calculator"`` (finite differences of
        an ASE calculator's forces, :func:`currentforces.bare_force_constants`).
    """

    system: AtomisticJunction
    fermi_level: float
    spring_constants: np.ndarray
    description: str
    vibrations: str = "springs"


def _preset(symbol, model, n_atoms, bond, lead_bond, movable, axes, spring, electrons, buffer):
    device, left, right = chain_atoms(symbol, n_atoms, bond, lead_bond, buffer)
    if movable is None:
        movable = list(range(buffer, buffer + n_atoms))
    system = atomistic_junction(device, left, right, model, movable=movable, axes=axes)
    ef = lead_fermi_level(model, left.get_positions(), [0, 0, lead_bond], electrons)
    fixed = np.vstack([left.get_positions(), right.get_positions()])
    k = spring_force_constants(device.get_positions(), system.coordinates, spring, 1.2 * max(bond, lead_bond), fixed)
    desc = (
        f"{symbol} chain: {n_atoms} atoms at {bond} A between {symbol} chain electrodes "
        f"({lead_bond} A), {buffer} electrode atom(s) in the device per side; movable "
        f"{', '.join(system.labels)}"
    )
    return Preset(system, ef, k, desc)


def gold_chain(
    n_atoms: int = 4,
    bond: float = 2.5,
    lead_bond: float = 2.88,
    movable: Sequence[int] | None = None,
    axes: str = "z",
    buffer: int = 1,
    spring_constant: float = 2.0,
) -> Preset:
    """Gold atomic chain between gold chain electrodes (s-band model).

    Parameters
    ----------
    n_atoms : int
        Chain atoms.
    bond : float
        Chain bond length, Angstrom.
    lead_bond : float
        Electrode spacing, Angstrom (bulk Au nearest-neighbour distance).
    movable : sequence of int, optional
        Movable device atoms, indices into the device of ``n_atoms + 2 *
        buffer`` atoms (negative ones count from its end; default: the chain
        atoms ``buffer .. buffer + n_atoms - 1``; the buffer atoms hop to
        the electrodes and cannot move).
    axes : str
        Moving Cartesian directions (default ``"z"``: along the chain.  The
        central springs of the preset give transverse motion of a straight
        chain no restoring force, so ``"x"``/``"y"`` coordinates are free
        zero-frequency modes, and the s-band force operators of transverse
        motion vanish).
    buffer : int
        Electrode atoms kept in the device on each side.
    spring_constant : float
        Nearest-neighbour spring k, eV/Angstrom^2.

    Returns
    -------
    Preset
    """
    return _preset("Au", gold_model(), n_atoms, bond, lead_bond, movable, axes, spring_constant, 1.0, buffer)


def carbon_chain(
    n_atoms: int = 4,
    bond: float = 1.28,
    lead_bond: float = 1.28,
    movable: Sequence[int] | None = None,
    axes: str = "z",
    buffer: int = 1,
    spring_constant: float = 50.0,
) -> Preset:
    """Carbon chain between carbon chain electrodes (Slater-Koster sp model).

    Parameters as :func:`gold_chain` (defaults: cumulene bonds 1.28
    Angstrom, k = 50 eV/Angstrom^2).

    Returns
    -------
    Preset
    """
    return _preset("C", carbon_model(), n_atoms, bond, lead_bond, movable, axes, spring_constant, 4.0, buffer)


MODELS = {"gold_s": (gold_model, 1.0, 2.0), "carbon_sp": (carbon_model, 4.0, 50.0)}
"""Name -> (model builder, valence electrons per atom, spring constant in
eV/Angstrom^2), for structure files."""

PRESET_MODELS = {"gold_chain": "gold_s", "carbon_chain": "carbon_sp"}
"""Preset name -> the name (a key of :data:`MODELS`) of its parameter set."""

ELEMENT_MODELS = {"Au": "gold_s", "C": "carbon_sp"}
"""Chemical symbol -> the parameter set ``model="auto"`` picks for it."""


def _model_for_elements(atoms):
    elements = sorted({s for a in atoms for s in a.get_chemical_symbols()})
    found = {ELEMENT_MODELS.get(e) for e in elements}
    if len(found) != 1 or None in found:
        raise InputError(
            f"model: 'auto' picks a parameter set only for a structure of one element among "
            f"{sorted(ELEMENT_MODELS)}, got elements {elements}; give model = one of {sorted(MODELS)}"
        )
    return found.pop()


def junction_from_atoms(
    device: Any,  # ase.Atoms, or a file name (str) that ase.io.read reads; also left and right
    left: Any,
    right: Any,
    model: str | TightBindingModel = "auto",
    movable: Sequence[int] | None = None,
    axes: str = "xyz",
    spring_constant: float | None = None,
    bond_cutoff: float | None = None,
    valence: float | None = None,
) -> Preset:
    """A :class:`Preset` from your own ``ase.Atoms`` (or files ``ase.io.read`` reads).

    Parameters
    ----------
    device, left, right : ase.Atoms or str
        Device and the lead cells next to it, as in
        :func:`~currentforces.models.atomistic.atomistic_junction` (a file
        must carry the lead cell, e.g. extended XYZ or ASE trajectory).
    model : {"auto", "gold_s", "carbon_sp"}
        Built-in parameter set (module docstring); ``"auto"``: the one of the
        element when every atom is gold (``"gold_s"``) or every atom is
        carbon (``"carbon_sp"``), otherwise an error.
    movable : sequence of int, optional
        Moving device atoms (default: all that do not hop to a lead; negative
        indices count from the end).
    axes : str
        Moving Cartesian directions (default ``"xyz"``: your structure moves
        in 3D; the chain presets default to ``"z"``).
    spring_constant : float, optional
        Central nearest-neighbour spring k, eV/Angstrom^2 (default: the
        model's, as in the presets).
    bond_cutoff : float, optional
        Longest bond that gets a spring, Angstrom (default: the model cutoff).
    valence : float, optional
        Electrons per lead atom for the Fermi level (default: the model's).

    Returns
    -------
    Preset
    """
    import ase.io

    atoms = []
    for name, a in (("device", device), ("left", left), ("right", right)):
        if isinstance(a, str):
            try:
                a = ase.io.read(a)
            except Exception as exc:  # ase raises many kinds
                raise InputError(f"{name}: cannot read structure file {a!r}: {exc}") from None
        atoms.append(a)
    device, left, right = atoms
    if model == "auto":
        model = _model_for_elements(atoms)
    if model not in MODELS:
        raise InputError(f"model must be one of {sorted(MODELS)}, got {model!r}")
    builder, default_valence, default_spring = MODELS[model]
    if spring_constant is None:
        spring_constant = default_spring
    tb = builder()
    system = atomistic_junction(device, left, right, tb, movable=movable, axes=axes)
    shift = system.lead_shifts[0]
    ef = lead_fermi_level(
        tb, left.get_positions(), shift, (default_valence if valence is None else float(valence)) * len(left)
    )
    fixed = np.vstack([left.get_positions(), right.get_positions()])
    k = spring_force_constants(
        device.get_positions(),
        system.coordinates,
        spring_constant,
        tb.cutoff if bond_cutoff is None else float(bond_cutoff),
        fixed,
    )
    desc = (
        f"{device.get_chemical_formula()} device between {left.get_chemical_formula()} and "
        f"{right.get_chemical_formula()} lead cells, model {model}; movable {', '.join(system.labels)}"
    )
    return Preset(system, ef, k, desc)


PRESETS = {"gold_chain": gold_chain, "carbon_chain": carbon_chain}
"""Name -> builder, for configuration files."""


def build_preset(name: str, **kwargs: Any) -> Preset:
    """Build the preset ``name`` (a key of :data:`PRESETS`) with keyword
    overrides."""
    if name not in PRESETS:
        raise InputError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
    return PRESETS[name](**kwargs)
