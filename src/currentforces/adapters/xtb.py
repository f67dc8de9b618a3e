r"""Extended-molecule junctions from GFN-xTB (``tblite``).

A molecule bonded to two small gold clusters (the *extended molecule*) is
described by the self-consistent extended tight-binding Hamiltonians
GFN2-xTB (C. Bannwarth, S. Ehlert, S. Grimme, J. Chem. Theory Comput. 15,
1652 (2019)) or GFN1-xTB (S. Grimme, C. Bannwarth, P. Shushkov, J. Chem.
Theory Comput. 13, 1989 (2017)) as implemented in ``tblite`` (the optional
extra ``currentforces[xtb]``; imported only when a function here is called).

The matrices
    ``tblite`` works in atomic units: positions in Bohr, energies in Hartree.
    Positions are converted from Angstrom with :data:`~currentforces.units.BOHR`
    and matrices to eV with :data:`~currentforces.units.HARTREE`.  The
    Hamiltonian is the *converged* self-consistent-charge (SCC) one at zero
    bias,

    .. math:: H = S C \,\mathrm{diag}(\varepsilon)\, C^{T} S,

    (:eq:`eq-xtb-hamiltonian`, :ref:`theory-xtb`) rebuilt from the orbital
    energies and coefficients (``H C = S C eps``
    with ``C^T S C = 1``); ``tblite``'s own ``"hamiltonian-matrix"`` result is
    the non-self-consistent core Hamiltonian.  The bias does not change H:
    in principle the charge redistribution under current would (a
    self-consistent NEGF calculation at each bias); like the founding paper
    (T. N. Todorov, D. Dundas, J.-T. Lü, M. Brandbyge and P. Hedegård,
    "Current-induced forces: a simple derivation", footnote 31) we neglect
    it: H and S are those of the converged zero-bias density, and the bias
    enters only through the chemical potentials of the leads.

Orthogonal basis
    The xTB basis is non-orthogonal (overlap S).  The junction is built in
    the Löwdin-orthogonalised basis,

    .. math:: \bar H(X) = S(X)^{-1/2} H(X) S(X)^{-1/2},

    the route of Inelastica's electron-phonon couplings (T. Frederiksen,
    M. Paulsson, M. Brandbyge, A.-P. Jauho, Phys. Rev. B 75, 205413
    (2007), sec. II): the force operators are f = -d\bar H/dX by finite
    differences of the orthogonalised matrix
    (:func:`~currentforces.finite_difference_couplings`), and every
    coefficient of :func:`~currentforces.force_coefficients` applies
    unchanged.  The raw (H, S) pair is available as well
    (``XTBSource(..., orthogonal=False)``) for junctions that take an
    overlap matrix.

Leads: wide-band self-energies
    The gold clusters are too small to be electrodes; their outer atoms
    (the ``contacts``) are coupled to the macroscopic electrodes by
    energy-independent broadenings,

    .. math:: \Gamma_{L} = \gamma\,P_{L},\qquad \Sigma_L = -\tfrac{i}{2}\Gamma_L,

    with P_L the projector on the (Löwdin) orbitals of the left contact
    atoms, and the same on the right.  The clusters' discrete levels become
    resonances of width ~γ; the molecule, two bonds away, sees the contact
    atoms' local density of states, ~ γ/(ε² + γ²/4) off a cluster level.
    The transmission near E_F therefore rises with γ while γ is below the
    level spacing of the cluster (∝ γ² for isolated levels) and falls once
    γ exceeds it (∝ 1/γ²: the contact density of states is spread thin).
    The default γ = :data:`DEFAULT_GAMMA` = 0.3 eV sits where the
    log-averaged transmission over E_F ± 0.25 eV is stationary in γ: for the
    Au4-benzenedithiol-Au4 junction of :func:`gold_benzenedithiol` that
    average changes by less than 25 % over 0.2 eV <= γ <= 0.5 eV, and by
    factors 2 to 7 at 0.1 and 2-3 eV (``tests/test_xtb.py``).  Pointwise
    T(E) near a cluster level is more sensitive; results with a finite
    cluster depend on γ, which should be quoted with them (larger clusters
    reduce the dependence).

Fermi level
    The chemical potential μ of ``tblite``'s Fermi filling of the extended
    molecule at the electronic temperature (300 K by default):
    μ = ε_i - k_B T ln(2/n_i - 1) from the orbital whose occupation n_i is
    closest to 1, or mid-gap when every occupation is 0 or 2.

Units: Angstrom, eV, eV/Angstrom, amu.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import AXES, check_atom_indices, check_nonnegative, check_positive
from ..couplings import FiniteDifferenceCouplings, finite_difference_couplings
from ..errors import InputError
from ..junction import Junction
from ..leads import WideBandLead
from ..units import BOHR, HARTREE, KB

if TYPE_CHECKING:
    from ..models.presets import Preset

__all__ = [
    "METHODS",
    "DEFAULT_GAMMA",
    "SCC_ACCURACY",
    "XTBSource",
    "XTBMatrices",
    "XTBJunction",
    "xtb_junction",
    "xtb_calculator",
    "xtb_preset",
    "lowdin",
    "outer_atoms",
    "gold_benzenedithiol",
]

METHODS = ("GFN2-xTB", "GFN1-xTB")
"""The xTB parametrisations offered (``tblite`` names)."""

DEFAULT_GAMMA = 0.3
"""Wide-band broadening γ of every contact orbital, eV (the module docstring
says why and what changes with it)."""

SCC_ACCURACY = 1e-4
"""``tblite`` ``accuracy`` of the SCC cycles (1 is its default; smaller is
tighter).  Finite differences at h = 0.01 Angstrom turn noise δ in the
matrix elements into an error of about δ/h in f: at 1e-4 the SCC density is
converged well below the 1e-3 relative step check of
:data:`currentforces.couplings.STEP_RTOL` (tested in ``tests/test_xtb.py``)."""

_INSTALL = "the xTB adapter needs tblite: pip install 'currentforces[xtb]' (or pip install tblite)"


def _interface():
    try:
        from tblite.interface import Calculator, Result
    except ImportError as exc:  # the optional extra is missing
        raise ImportError(_INSTALL) from exc
    return Calculator, Result


def _method(method):
    if method not in METHODS:
        raise InputError(f"method must be one of {list(METHODS)}, got {method!r}")
    return method


def lowdin(hamiltonian: ArrayLike, overlap: ArrayLike) -> np.ndarray:
    r"""Löwdin-orthogonalised Hamiltonian S^{-1/2} H S^{-1/2}.

    Parameters
    ----------
    hamiltonian, overlap : (N, N) ndarray
        H (eV) and the positive-definite overlap S of one geometry.

    Returns
    -------
    (N, N) ndarray
        The Hamiltonian in the symmetrically orthogonalised basis, eV; its
        eigenvalues are the generalised eigenvalues of (H, S).
    """
    overlap = np.asarray(overlap, dtype=float)
    w, v = np.linalg.eigh(overlap)
    if w.min() <= 0:
        raise InputError(f"overlap is not positive definite (smallest eigenvalue {w.min():.3g})")
    s_half = (v / np.sqrt(w)) @ v.T
    h = s_half @ hamiltonian @ s_half
    return 0.5 * (h + h.T)


@dataclass
class XTBMatrices:
    """One converged zero-bias xTB calculation.

    Attributes
    ----------
    hamiltonian : (N, N) ndarray
        Converged SCC Hamiltonian H in eV (non-orthogonal basis).
    overlap : (N, N) ndarray
        Overlap S (dimensionless).
    fermi_level : float
        Chemical potential of the Fermi filling, eV (module docstring).
    energy : float
        Total xTB energy, eV.
    orbital_energies : (N,) ndarray
        Generalised eigenvalues of (H, S), eV.
    """

    hamiltonian: np.ndarray
    overlap: np.ndarray
    fermi_level: float
    energy: float
    orbital_energies: np.ndarray


class XTBSource:
    r"""``build(positions)`` for :func:`~currentforces.finite_difference_couplings`
    from ``tblite``.

    Parameters
    ----------
    numbers : sequence of int
        Atomic numbers (the basis follows from them: the same orbitals, in
        the same order, at every geometry).
    method : {"GFN2-xTB", "GFN1-xTB"}
    charge : float
        Total charge, e.
    temperature : float
        Electronic temperature of the Fermi filling, K (>= 0).
    accuracy : float
        ``tblite`` SCC accuracy (:data:`SCC_ACCURACY`).
    orthogonal : bool
        ``True``: calls return the Löwdin-orthogonalised H (eV);
        ``False``: the pair (H, S).
    reuse_density : bool
        Start every SCC cycle after the first from the converged density of
        the first geometry (``tblite`` restart): at a displacement of 0.01
        Angstrom the cycle then converges in a few iterations instead of
        ~15 from the superposition of atomic densities.

    Attributes
    ----------
    orbital_atoms : (N,) ndarray of int
        The atom of each orbital (from ``tblite``'s shell and orbital maps).
    orbital_l : (N,) ndarray of int
        Angular momentum of each orbital's shell.
    calls : int
        Number of SCC calculations done.
    """

    def __init__(
        self,
        numbers: ArrayLike,
        method: str = "GFN2-xTB",
        *,
        charge: float = 0.0,
        temperature: float = 300.0,
        accuracy: float = SCC_ACCURACY,
        orthogonal: bool = True,
        reuse_density: bool = True,
    ) -> None:
        self.numbers = np.asarray(numbers, dtype=int)
        if self.numbers.ndim != 1 or len(self.numbers) == 0 or np.any(self.numbers < 1) or np.any(self.numbers > 86):
            raise InputError(f"numbers must be atomic numbers 1..86 (GFN-xTB elements), got {numbers!r}")
        self.method = _method(method)
        self.charge = float(charge)
        self.temperature = check_nonnegative("temperature", temperature, "K")
        self.accuracy = check_positive("accuracy", accuracy)
        self.orthogonal = bool(orthogonal)
        self.reuse_density = bool(reuse_density)
        self.calls = 0
        self._calc: Any = None
        self._guess: Any = None
        self.orbital_atoms = None
        self.orbital_l = None

    def _positions(self, positions):
        pos = np.asarray(positions, dtype=float)
        if pos.shape != (len(self.numbers), 3) or not np.all(np.isfinite(pos)):
            raise InputError(f"positions must be a finite ({len(self.numbers)}, 3) array in Angstrom, got {pos.shape}")
        return pos / BOHR

    def _calculator(self, bohr):
        Calculator, _ = _interface()
        calc = Calculator(self.method, self.numbers, bohr, charge=self.charge)
        calc.set("save-integrals", 1)
        calc.set("verbosity", 0)
        calc.set("accuracy", self.accuracy)
        calc.set("temperature", KB * self.temperature / HARTREE)
        shells = np.asarray(calc.get("orbital-map"))
        self.orbital_atoms = np.asarray(calc.get("shell-map"))[shells]
        self.orbital_l = np.asarray(calc.get("angular-momenta"))[shells]
        return calc

    def run(self, positions: ArrayLike) -> XTBMatrices:
        """The converged zero-bias matrices at ``positions`` (Angstrom)."""
        _, Result = _interface()
        bohr = self._positions(positions)
        if self._calc is None:
            self._calc = self._calculator(bohr)
        else:
            self._calc.update(bohr)
        if self._guess is not None and self.reuse_density:
            res = self._calc.singlepoint(Result(self._guess))
        else:
            res = self._calc.singlepoint()
            self._guess = Result(res)
        self.calls += 1
        s = np.asarray(res.get("overlap-matrix"))
        c = np.asarray(res.get("orbital-coefficients"))
        eps = np.asarray(res.get("orbital-energies"))
        occ = np.asarray(res.get("orbital-occupations"))
        sc = s @ c
        h = (sc * eps) @ sc.T * HARTREE
        return XTBMatrices(
            0.5 * (h + h.T), s, _fermi_level(eps, occ, self.temperature), res.get("energy") * HARTREE, eps * HARTREE
        )

    def __call__(self, positions: ArrayLike) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        m = self.run(positions)
        return lowdin(m.hamiltonian, m.overlap) if self.orthogonal else (m.hamiltonian, m.overlap)


def _fermi_level(eps, occ, temperature):
    """μ (eV) from the Fermi filling of orbital energies ``eps`` (Hartree)."""
    frac = (occ > 1e-6) & (occ < 2 - 1e-6)
    if frac.any() and temperature > 0:
        i = np.flatnonzero(frac)[np.argmin(np.abs(occ[frac] - 1.0))]
        return float(eps[i] * HARTREE - KB * temperature * np.log(2.0 / occ[i] - 1.0))
    homo = eps[occ >= 1.0].max() if np.any(occ >= 1.0) else eps.min()
    lumo = eps[occ < 1.0].min() if np.any(occ < 1.0) else eps.max()
    return float(0.5 * (homo + lumo) * HARTREE)


def outer_atoms(atoms: Any, axis: int = 2, element: str = "Au", tolerance: float = 0.5) -> tuple[list, list]:
    """The left and right contact atoms: the atoms of ``element`` within
    ``tolerance`` Angstrom of the lowest and of the highest coordinate along
    ``axis`` among that element's atoms (the outer layer of each cluster).

    Returns
    -------
    (list of int, list of int)
    """
    symbols = np.array(atoms.get_chemical_symbols())
    idx = np.flatnonzero(symbols == element)
    if len(idx) < 2:
        raise InputError(f"contacts: 'auto' needs at least two {element} atoms (the clusters), got {len(idx)}")
    z = atoms.get_positions()[idx, axis]
    left = idx[z < z.min() + tolerance].tolist()
    right = idx[z > z.max() - tolerance].tolist()
    if set(left) & set(right):
        raise InputError(f"contacts: the {element} atoms do not form two clusters along {AXES[axis]}")
    return left, right


@dataclass
class XTBJunction:
    """An extended molecule between wide-band electrodes, with its couplings.

    Attributes
    ----------
    junction : Junction
        Löwdin-orthogonalised H (eV) and two :class:`~currentforces.WideBandLead`
        (0: left contacts, 1: right contacts).
    forces : list of (N, N) ndarray
        f = -dH/dX of each movable coordinate, eV/Angstrom (Löwdin basis).
    coordinates : list of (int, int)
        (atom, axis) of each force operator, atom-major then x, y, z.
    masses : (M,) ndarray
        amu, one per coordinate.
    labels : list of str
        ``"C3 z"``-style names.
    device : ase.Atoms
        The extended molecule (a copy).
    fermi_level : float
        eV (module docstring).
    matrices : XTBMatrices
        H, S (non-orthogonal) and the xTB energy at the reference geometry.
    orbital_atoms : (N,) ndarray of int
        Atom of each orbital.
    contacts : (list, list)
        Left and right contact atoms.
    gamma : float
        Wide-band broadening per contact orbital, eV.
    couplings : FiniteDifferenceCouplings
        The finite differences (error estimates, step).
    method : str
    """

    junction: Junction
    forces: list
    coordinates: list
    masses: np.ndarray
    labels: list
    device: Any
    fermi_level: float
    matrices: XTBMatrices
    orbital_atoms: np.ndarray
    contacts: tuple
    gamma: float
    couplings: FiniteDifferenceCouplings
    method: str
    source: XTBSource = field(repr=False, default=None)  # type: ignore[assignment]

    def with_gamma(self, gamma: float) -> Junction:
        """The same extended molecule with another wide-band broadening
        ``gamma`` (eV) on the contact orbitals."""
        return Junction(self.junction.hamiltonian, _wideband_leads(self.orbital_atoms, self.contacts, gamma))

    def hamiltonian_at(self, positions: ArrayLike) -> np.ndarray:
        """Löwdin H (eV) with the atoms at ``positions`` (Angstrom)."""
        return lowdin(*_pair(self.source.run(positions)))

    def boundary_atoms(self) -> list[int]:
        """Movable atoms bonded (within 1.25 times the sum of covalent
        radii) to an atom that does not move: they couple to the electrode
        phonons.  Sorted indices."""
        from ase.data import covalent_radii

        pos = self.device.get_positions()
        r = covalent_radii[self.device.numbers]
        moving = sorted({a for a, _ in self.coordinates})
        fixed = [i for i in range(len(pos)) if i not in set(moving)]
        out = []
        for a in moving:
            d = np.linalg.norm(pos[fixed] - pos[a], axis=1)
            if np.any(d < 1.25 * (r[fixed] + r[a])):
                out.append(a)
        return out


def _wideband_leads(orbital_atoms, contacts, gamma):
    """Γ = γ on the diagonal of the orbitals of each contact's atoms."""
    gamma = check_positive("gamma", gamma, "eV")
    leads = []
    for side in contacts:
        on = np.isin(orbital_atoms, side).astype(float)
        leads.append(WideBandLead(np.diag(gamma * on)))
    return leads


def _pair(m):
    return m.hamiltonian, m.overlap


def _atoms(atoms):
    if not hasattr(atoms, "get_positions") or not hasattr(atoms, "numbers"):
        raise InputError(f"atoms must be an ase.Atoms object, got {type(atoms).__name__}")
    if len(atoms) == 0:
        raise InputError("atoms holds no atom")
    return atoms.copy()


def xtb_junction(
    atoms: Any,
    contacts: Any = "auto",
    movable: Sequence[int] | None = None,
    *,
    method: str = "GFN2-xTB",
    gamma: float = DEFAULT_GAMMA,
    axes: str = "xyz",
    step: float = 0.01,
    check: bool = True,
    charge: float = 0.0,
    temperature: float = 300.0,
    axis: int = 2,
) -> XTBJunction:
    r"""Extended-molecule junction from GFN-xTB with wide-band leads and
    finite-difference couplings.

    Parameters
    ----------
    atoms : ase.Atoms
        Molecule and two gold clusters (positions in Angstrom); not modified.
    contacts : "auto" or (sequence of int, sequence of int)
        Atoms coupled to the left (lead 0) and right (lead 1) electrode;
        ``"auto"``: :func:`outer_atoms` along ``axis``.
    movable : sequence of int, optional
        Atoms whose coordinates get force operators (default: every atom
        that is not gold: the molecule).
    method : {"GFN2-xTB", "GFN1-xTB"}
    gamma : float
        Wide-band broadening γ of each contact orbital, eV (> 0).
    axes : str
        Moving Cartesian directions.
    step : float
        Finite-difference step, Angstrom.
    check : bool
        Two steps with Richardson extrapolation and the step check
        (:func:`~currentforces.finite_difference_couplings`).
    charge : float
        Total charge, e.
    temperature : float
        Electronic temperature of the xTB filling, K.
    axis : int
        Transport axis (0, 1, 2) for ``contacts="auto"``.

    Returns
    -------
    XTBJunction

    Notes
    -----
    Cost: one SCC calculation at the reference geometry and 4 (with
    ``check``) or 2 per movable coordinate, each restarted from the
    reference density.
    """
    from ase.data import atomic_masses

    device = _atoms(atoms)
    n = len(device)
    gamma = check_positive("gamma", gamma, "eV")
    if isinstance(contacts, str):
        if contacts != "auto":
            raise InputError(f"contacts must be 'auto' or (left atoms, right atoms), got {contacts!r}")
        left, right = outer_atoms(device, axis=axis)
    else:
        try:
            left_in, right_in = contacts
        except (TypeError, ValueError):
            raise InputError(f"contacts must be 'auto' or (left atoms, right atoms), got {contacts!r}") from None
        left = check_atom_indices("contacts[0]", left_in, n)
        right = check_atom_indices("contacts[1]", right_in, n)
        if set(left) & set(right):
            raise InputError(f"contacts: atoms {sorted(set(left) & set(right))} are in both contacts")
    if movable is None:
        movable = [i for i, s in enumerate(device.get_chemical_symbols()) if s != "Au"]
    movable = check_atom_indices("movable", movable, n)
    source = XTBSource(device.numbers, method, charge=charge, temperature=temperature)
    pos = device.get_positions()
    reference = source.run(pos)
    couplings = finite_difference_couplings(source, pos, movable, step, axes=axes, check=check)
    assert source.orbital_atoms is not None
    orbital_atoms = source.orbital_atoms
    h = lowdin(reference.hamiltonian, reference.overlap)
    leads = _wideband_leads(orbital_atoms, (left, right), gamma)
    masses = atomic_masses[device.numbers]
    symbols = device.get_chemical_symbols()
    coords = couplings.coordinates
    return XTBJunction(
        junction=Junction(h, leads),
        forces=couplings.forces,
        coordinates=coords,
        masses=np.array([masses[a] for a, _ in coords]),
        labels=[f"{symbols[a]}{a} {AXES[c]}" for a, c in coords],
        device=device,
        fermi_level=reference.fermi_level,
        matrices=reference,
        orbital_atoms=orbital_atoms,
        contacts=(list(left), list(right)),
        gamma=gamma,
        couplings=couplings,
        method=method,
        source=source,
    )


def xtb_calculator(method: str = "GFN2-xTB", **kwargs: Any) -> Any:
    """``tblite``'s ASE calculator (forces for
    :func:`~currentforces.vibrations.bare_force_constants`), quiet.

    Parameters
    ----------
    method : {"GFN2-xTB", "GFN1-xTB"}
    **kwargs
        Passed on to ``tblite.ase.TBLite`` (e.g. ``accuracy``).
    """
    try:
        from tblite.ase import TBLite
    except ImportError as exc:
        raise ImportError(_INSTALL) from exc
    kwargs.setdefault("verbosity", 0)
    return TBLite(method=_method(method), **kwargs)


def gold_benzenedithiol(s_gold: float = 2.4, cluster_spacing: float = 2.88) -> tuple[Any, np.ndarray]:
    r"""Benzene-1,4-dithiolate between two Au4 pyramids (20 atoms).

    The ring lies in the xz plane with its para axis along z (the transport
    axis); each sulfur binds atop to the apex of a gold pyramid whose
    three-atom base (the contact atoms, bulk Au-Au distance) points away
    from the molecule.  The structure is symmetric under the mirror
    z -> -z (and y -> -y), which maps atom ``i`` to ``mirror[i]`` of the
    returned permutation.  Ideal, not relaxed: C-C 1.39, C-H 1.09, C-S
    1.77, S-Au ``s_gold`` Angstrom.

    Parameters
    ----------
    s_gold : float
        S-Au(apex) distance, Angstrom.
    cluster_spacing : float
        Au-Au distance in the pyramid, Angstrom.

    Returns
    -------
    atoms : ase.Atoms
        Order: 6 C, 4 H, 2 S, then left apex and base, right apex and base.
    mirror : (20,) ndarray of int
        The atom each atom maps to under z -> -z.
    """
    from ase import Atoms

    cc, ch, cs = 1.39, 1.09, 1.77
    angles = np.arange(6) * np.pi / 3  # atom k at angle k*60 deg from +z
    pos = [[cc * np.sin(t), 0.0, cc * np.cos(t)] for t in angles]
    pos += [[(cc + ch) * np.sin(angles[k]), 0.0, (cc + ch) * np.cos(angles[k])] for k in (1, 2, 4, 5)]
    zs = cc + cs
    pos += [[0.0, 0.0, zs], [0.0, 0.0, -zs]]
    height = cluster_spacing * np.sqrt(2.0 / 3.0)  # regular tetrahedron
    radius = cluster_spacing / np.sqrt(3.0)
    for sign in (-1.0, 1.0):
        apex = sign * (zs + s_gold)
        pos.append([0.0, 0.0, apex])
        pos += [[radius * np.cos(t), radius * np.sin(t), apex + sign * height] for t in 2 * np.pi * np.arange(3) / 3]
    atoms = Atoms("C6H4S2Au8", positions=pos)
    # z -> -z: ring angle t -> pi - t (k -> 3 - k mod 6), H 1<->2, 4<->5, S 10<->11, clusters swap
    mirror = np.array([3, 2, 1, 0, 5, 4, 7, 6, 9, 8, 11, 10, 16, 17, 18, 19, 12, 13, 14, 15])
    return atoms, mirror


def xtb_preset(
    device: Any,
    contacts: Any = "auto",
    movable: Sequence[int] | None = None,
    *,
    method: str = "GFN2-xTB",
    gamma: float | None = None,
    axes: str = "xyz",
    vibrations: str = "calculator",
    spring_constant: float | None = None,
    bond_cutoff: float = 3.0,
) -> Preset:
    """A :class:`~currentforces.models.presets.Preset` (what a run of the
    command line needs) of an extended molecule: :func:`xtb_junction` and
    the zero-bias force constants.

    Parameters
    ----------
    device : ase.Atoms or str
        The extended molecule, or a file ``ase.io.read`` reads.
    contacts, movable, method, axes
        As :func:`xtb_junction`.
    gamma : float, optional
        Wide-band broadening, eV (default :data:`DEFAULT_GAMMA`).
    vibrations : {"calculator", "springs"}
        ``"calculator"``: :func:`~currentforces.bare_force_constants` of
        ``tblite``'s ASE calculator (same method) for the movable atoms,
        the others held; ``"springs"``: central springs of
        ``spring_constant`` (eV/Angstrom^2) on the bonds shorter than
        ``bond_cutoff`` (Angstrom).

    Returns
    -------
    Preset
    """
    from ..models.atomistic import spring_force_constants
    from ..models.presets import Preset
    from ..vibrations import bare_force_constants

    if isinstance(device, str):
        import ase.io

        try:
            device = ase.io.read(device)
        except Exception as exc:  # ase raises many kinds
            raise InputError(f"device: cannot read structure file {device!r}: {exc}") from None
    if vibrations not in ("calculator", "springs"):
        raise InputError(f"vibrations must be 'calculator' or 'springs', got {vibrations!r}")
    if vibrations == "springs" and spring_constant is None:
        raise InputError("spring_constant: give the spring k (eV/Angstrom^2) for vibrations = 'springs' with xTB")
    system = xtb_junction(
        device, contacts, movable, method=method, gamma=DEFAULT_GAMMA if gamma is None else gamma, axes=axes
    )
    atoms = sorted({a for a, _ in system.coordinates})
    if vibrations == "calculator":
        work = system.device.copy()
        work.calc = xtb_calculator(method, accuracy=SCC_ACCURACY)
        k = bare_force_constants(work, indices=atoms).select(system.coordinates)
    else:
        pos = system.device.get_positions()
        fixed = pos[[i for i in range(len(pos)) if i not in set(atoms)]]
        assert spring_constant is not None  # checked above
        k = spring_force_constants(pos, system.coordinates, float(spring_constant), bond_cutoff, fixed)
    left, right = system.contacts
    desc = (
        f"{system.device.get_chemical_formula()} extended molecule, {method}, wide-band leads "
        f"(gamma {system.gamma} eV) on atoms {left} and {right}; vibrations from the "
        f"{'xTB calculator' if vibrations == 'calculator' else 'springs'}; movable {', '.join(system.labels)}"
    )
    return Preset(system, system.fermi_level, k, desc, vibrations)  # type: ignore[arg-type]
