r"""Forces under bias as an ASE calculator.

:class:`CurrentCarryingCalculator` gives :class:`ase.Atoms` the forces of a
current-carrying junction at their present geometry,

.. math::

    F(R) = F^{bare}(R) + F^{(0)}(R; V),

recomputed at every geometry: F^(0) is the mean force of seed eqs (6, 13)
(:func:`currentforces.force_coefficients`, its ``mean_force``) of the
junction built at R, and F^bare the forces of the rest of the potential,
from an ASE calculator or from springs.  ``get_friction()`` returns the
coefficients K and L of seed eq (14) at the same geometry, so that
``ase.optimize`` relaxes a junction under bias and molecular dynamics can
update its coefficients on the fly.

**The junction at a geometry** comes from a *builder*, a callable
``builder(positions) -> (junction, forces, coordinates)`` (and
``overlap_derivatives`` as a fourth element in a non-orthogonal basis whose
overlap moves):

* :class:`TightBindingBuilder`: the built-in two-centre models
  (:func:`currentforces.models.atomistic.atomistic_junction`, analytic
  force operators);
* :class:`HamiltonianBuilder`: any source ``build(positions) -> H`` (or
  ``(H, S)``) with fixed leads, force operators (and dS/dX) by finite differences
  (:func:`currentforces.finite_difference_couplings`);
* or any callable with that signature (an xTB or DFT source).

**Which part of F^(0) is added** (``mean_force``): ``"full"`` adds the
whole mean force, for a bare potential that leaves out the band energy of
the electrons the junction describes (a tight-binding repulsive pair
potential, or springs); ``"current"`` adds only its current-induced part
F^(0)(V) - F^(0)(0) (the bias-window term), for a bare calculator that
already holds the whole zero-bias potential (EMT, xTB, DFT: its forces
contain the equilibrium band force, which must not be counted twice).

**Energy.**  Under bias the mean force is not the gradient of any energy:
its curl, the antisymmetric part of K (seed eqs 33-36), is non-zero, so no
function of R has F^(0) as its gradient and the "energy" of a relaxation
path depends on the path.  By default :meth:`get_potential_energy`
therefore raises :class:`ase.calculators.calculator.PropertyNotImplementedError`
(:ref:`theory-grand-potential`: at zero bias F^(0) is minus the gradient of
the band grand potential, :eq:`eq-grand-potential`, which the test suite
checks by finite differences).
Optimisers that only need forces work: ``ase.optimize.FIRE`` steps on
forces alone, but its log prints an energy; pass ``energy="bare"`` to
return the bare energy there (the bare calculator's energy or
(1/2) x K^b x of the springs), which is *not* a potential of the forces
and must not be used by a line search (``BFGSLineSearch``, ``FIRE(...,
downhill_check=True)``, ``MDMin`` with energy checks).

**Coordinates** are the Cartesian coordinates of the movable atoms,
atom-major then x, y, z (the order of
:func:`currentforces.finite_difference_couplings` and of
:func:`~currentforces.models.atomistic.atomistic_junction`): M = 3 x
(number of movable atoms) with ``axes="xyz"``.

Units: Angstrom, eV, eV/Angstrom (forces), eV/Angstrom^2 (K), eV*fs/Angstrom^2
(L), V (bias), K (temperature).  ASE is imported here only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

from ._checks import check_axes, check_number, check_spin, check_temperature
from .couplings import finite_difference_couplings
from .errors import InputError
from .forces import ForceCoefficients, force_coefficients
from .junction import Junction

if TYPE_CHECKING:
    from ase import Atoms

    from ._checks import ArrayLike, RealArray
    from .models.tight_binding import TightBindingModel

__all__ = ["CurrentCarryingCalculator", "TightBindingBuilder", "HamiltonianBuilder"]


class TightBindingBuilder:
    """Junction of a built-in tight-binding model at given device positions.

    The atoms the calculator is attached to are the *device*
    (the ``device`` of :func:`~currentforces.models.atomistic.atomistic_junction`);
    the lead cells stay where they are.

    Parameters
    ----------
    left, right : ase.Atoms
        Lead unit cells next to the device, in the device's frame (fixed).
    model : TightBindingModel
        e.g. :class:`~currentforces.models.tight_binding.SBandModel`.
    movable : sequence of int
        Device atoms that move (none may hop to a lead atom).
    axes : str
        Cartesian directions that move (default ``"xyz"``).
    axis : int
        Transport axis.
    """

    def __init__(
        self,
        left: Atoms,
        right: Atoms,
        model: TightBindingModel,
        movable: Sequence[int],
        axes: str = "xyz",
        axis: int = 2,
    ) -> None:
        self.left, self.right, self.model = left, right, model
        self.movable = list(movable)
        check_axes(axes)
        self.axes, self.axis = axes, axis

    def __call__(self, atoms):
        from .models.atomistic import atomistic_junction

        system = atomistic_junction(
            atoms, self.left, self.right, self.model, movable=self.movable, axes=self.axes, axis=self.axis
        )
        return system.junction, system.forces, system.coordinates


class HamiltonianBuilder:
    """Junction of any Hamiltonian source with fixed leads; couplings by finite differences.

    Parameters
    ----------
    build : callable
        ``build(positions) -> H`` for positions of shape (n_atoms, 3) in
        Angstrom (all atoms of the ``Atoms``), H in eV in a basis that is
        the same at every geometry (see
        :func:`currentforces.finite_difference_couplings`).
    leads : sequence of lead objects
        The leads of :class:`currentforces.Junction` (their couplings to the
        device do not change with the geometry of the movable atoms: keep
        the atoms that bond to the leads fixed).
    movable : sequence of int
        Atoms that move.
    step : float
        Finite-difference step h in Angstrom.
    axes : str
        Cartesian directions that move (default ``"xyz"``).
    check : bool
        The two-step check of :func:`~currentforces.finite_difference_couplings`
        (4 builds per coordinate instead of 2).
    solver : str
        Green's-function backend of the junction.

    Notes
    -----
    A source that returns (H, S) (a non-orthogonal basis) gives the junction
    with ``overlap=S`` and, as a fourth element, the overlap derivatives
    dS/dX_a (1/Angstrom), which :class:`CurrentCarryingCalculator` passes to
    :func:`~currentforces.force_coefficients` (the energy-dependent force
    operators -(dH/dX - E dS/dX), :ref:`theory-overlap-forces`); the leads
    must then carry their overlap blocks (:class:`~currentforces.Lead`) and
    have finite bands.
    """

    def __init__(
        self,
        build: Callable,
        leads: Sequence,
        movable: Sequence[int],
        step: float = 0.01,
        axes: str = "xyz",
        check: bool = True,
        solver: str = "dense",
    ) -> None:
        if not callable(build):
            raise InputError(f"build must be a callable build(positions) -> H, got {type(build).__name__}")
        self.build, self.leads, self.movable = build, list(leads), list(movable)
        check_axes(axes)
        self.step, self.axes, self.check, self.solver = step, axes, bool(check), solver

    def __call__(self, atoms):
        pos = np.asarray(atoms.get_positions(), dtype=float)
        c = finite_difference_couplings(self.build, pos, self.movable, self.step, axes=self.axes, check=self.check)
        if c.overlap_derivatives is None:
            return Junction(c.hamiltonian, self.leads, solver=self.solver), c.forces, c.coordinates
        junction = Junction(c.hamiltonian, self.leads, overlap=c.overlap, solver=self.solver)
        return junction, c.forces, c.coordinates, c.overlap_derivatives


class CurrentCarryingCalculator(Calculator):
    r"""ASE calculator: bare forces plus the current-carrying mean force F^(0)(V).

    Parameters
    ----------
    builder : callable
        ``builder(atoms) -> (junction, forces, coordinates)``: the
        :class:`~currentforces.Junction` at the geometry of ``atoms``, its
        force operators f_a = -dH/dX_a (eV/Angstrom) and the (atom index,
        axis) of each, atom-major then x, y, z; e.g.
        :class:`TightBindingBuilder` or :class:`HamiltonianBuilder`.  In a
        non-orthogonal basis whose overlap moves, a fourth element: the
        ``overlap_derivatives`` dS/dX_a (1/Angstrom) of
        :func:`~currentforces.force_coefficients`.
    bias : float
        V in volt (mu_0 = E_F + V/2 on lead 0, mu_1 = E_F - V/2).
    temperature : float
        Electron temperature, K.
    fermi_level : float
        E_F in eV.
    spin : float
        Spin degeneracy g_s.
    bare : ase Calculator, optional
        Calculator of the bare potential (evaluated on a copy of the atoms).
    bare_force_constants : array_like, shape (M, M), optional
        Springs instead of ``bare``: F^bare = -K^b (X - X_ref) on the
        builder's coordinates, eV/Angstrom^2.
    reference_positions : array_like, shape (n_atoms, 3), optional
        X_ref of the springs (Angstrom); default: the positions at the first
        calculation.
    mean_force : {"full", "current"}
        Add the whole F^(0)(V) or only F^(0)(V) - F^(0)(0) (see the module
        notes: ``"current"`` when ``bare`` already contains the zero-bias
        band force).
    energy : {None, "bare"}
        ``None``: :meth:`get_potential_energy` raises
        ``PropertyNotImplementedError`` (the forces under bias have no
        potential).  ``"bare"``: it returns the bare energy alone (eV), for
        optimisers that only log it, e.g. ``ase.optimize.FIRE``.
    rtol : float
        Relative tolerance of :func:`~currentforces.force_coefficients`.

    Attributes
    ----------
    coefficients : ForceCoefficients
        The coefficients at the last geometry computed.
    coordinates : list of (int, int)
        (atom, axis) of the rows of ``K`` and ``L``.

    Examples
    --------
    Relaxing under bias (forces only)::

        atoms.calc = CurrentCarryingCalculator(builder, bias=0.5, bare_force_constants=k, energy="bare")
        ase.optimize.FIRE(atoms).run(fmax=1e-3)
    """

    implemented_properties = ["forces", "energy"]
    default_parameters: dict = {}

    def __init__(
        self,
        builder: Callable,
        *,
        bias: float = 0.0,
        temperature: float = 300.0,
        fermi_level: float = 0.0,
        spin: int = 2,
        bare: Calculator | None = None,
        bare_force_constants: ArrayLike | None = None,
        reference_positions: ArrayLike | None = None,
        mean_force: str = "full",
        energy: str | None = None,
        rtol: float = 1e-8,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(builder):
            raise InputError(
                f"builder must be a callable builder(atoms) -> (junction, forces, coordinates), "
                f"got {type(builder).__name__}"
            )
        if bare is not None and bare_force_constants is not None:
            raise InputError("give either bare (an ASE calculator) or bare_force_constants (springs), not both")
        if bare is not None and not hasattr(bare, "get_forces"):
            raise InputError(f"bare must be an ASE calculator, got {type(bare).__name__}")
        if mean_force not in ("full", "current"):
            raise InputError(f"mean_force must be 'full' or 'current', got {mean_force!r}")
        if energy not in (None, "bare"):
            raise InputError(f"energy must be None or 'bare', got {energy!r}")
        self.builder = builder
        self.bias = check_number("bias", bias, "V")
        self.temperature = check_temperature(temperature)
        self.fermi_level = check_number("fermi_level", fermi_level, "eV")
        self.spin = check_spin(spin)
        self.bare = bare
        self.bare_force_constants = (
            None if bare_force_constants is None else np.asarray(bare_force_constants, dtype=float)
        )
        self.reference_positions = (
            None if reference_positions is None else np.asarray(reference_positions, dtype=float).copy()
        )
        self.mean_force = mean_force
        self.energy_mode = energy
        self.rtol = rtol
        self.coefficients: ForceCoefficients | None = None
        self.coordinates: list = []

    def _bare(self, atoms, coordinates):
        """Bare forces (n_atoms, 3) in eV/Angstrom and energy in eV."""
        n = len(atoms)
        if self.bare is not None:
            work = atoms.copy()
            work.calc = self.bare
            return np.asarray(work.get_forces(apply_constraint=False), dtype=float), float(work.get_potential_energy())
        forces = np.zeros((n, 3))
        if self.bare_force_constants is None:
            return forces, 0.0
        m = len(coordinates)
        k = self.bare_force_constants
        if k.shape != (m, m) or not np.all(np.isfinite(k)):
            raise InputError(
                f"bare_force_constants must be a finite ({m}, {m}) matrix in eV/Angstrom^2 on the builder's "
                f"{m} coordinates, got shape {k.shape}"
            )
        if self.reference_positions is None:
            self.reference_positions = atoms.get_positions().copy()
        if self.reference_positions.shape != (n, 3):
            raise InputError(f"reference_positions must have shape ({n}, 3) in Angstrom")
        x = np.array([atoms.positions[a, c] - self.reference_positions[a, c] for a, c in coordinates])
        f = -k @ x
        for (a, c), fa in zip(coordinates, f):
            forces[a, c] += fa
        return forces, float(0.5 * x @ k @ x)

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: Sequence[str] = ("forces",),
        system_changes: Sequence[str] = all_changes,
    ) -> None:
        if "energy" in properties and self.energy_mode is None:
            raise PropertyNotImplementedError(
                "CurrentCarryingCalculator has no potential energy: under bias the mean force is not the "
                "gradient of an energy (its curl, the non-conservative force, is non-zero). Relax with a "
                "forces-only optimiser such as ase.optimize.FIRE, with energy='bare' so that its log can "
                "print the bare energy"
            )
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        built = tuple(self.builder(atoms))
        if len(built) not in (3, 4):
            raise InputError(
                "builder must return (junction, forces, coordinates) or (junction, forces, coordinates, "
                f"overlap_derivatives), got {len(built)} items"
            )
        junction, forces, coordinates = built[:3]
        overlap_derivatives = built[3] if len(built) == 4 else None
        coordinates = [(int(a), int(c)) for a, c in coordinates]
        n = len(atoms)
        if len(coordinates) != len(forces) or any(not 0 <= a < n or c not in (0, 1, 2) for a, c in coordinates):
            raise InputError(
                f"builder: coordinates must be one (atom, axis) pair per force operator, atoms in [0, {n})"
            )
        coefficients = force_coefficients(
            junction,
            forces,
            bias=self.bias,
            temperature=self.temperature,
            fermi_level=self.fermi_level,
            spin=self.spin,
            rtol=self.rtol,
            overlap_derivatives=overlap_derivatives,
        )
        f0 = coefficients.mean_force if self.mean_force == "full" else coefficients.mean_force_current
        total, e_bare = self._bare(atoms, coordinates)
        for (a, c), fa in zip(coordinates, f0):
            total[a, c] += fa
        self.coefficients, self.coordinates = coefficients, coordinates
        self.results["forces"] = total
        if self.energy_mode == "bare":
            self.results["energy"] = e_bare
            self.results["free_energy"] = e_bare

    def get_friction(self, atoms: Atoms | None = None) -> tuple[RealArray, RealArray]:
        r"""K and L at the geometry of ``atoms`` (default: the last one computed).

        Returns
        -------
        K : ndarray, shape (M, M)
            eV/Angstrom^2, F = -K X (seed eq 20): the full K with
            ``mean_force="full"``, the current-induced part K(V) - K(0)
            with ``"current"`` (the bare calculator's Hessian already holds
            K(0)).
        L : ndarray, shape (M, M)
            eV*fs/Angstrom^2, F = L V (seed eq 21), full (friction
            -L^sym, negative semi-definite at equilibrium, and the Berry
            force L^asym).

        Rows and columns follow :attr:`coordinates` (atom-major, x, y, z).
        """
        if atoms is not None:
            self.get_property("forces", atoms)
        elif self.coefficients is None:
            raise InputError("get_friction: no geometry computed yet; pass atoms")
        c = cast(ForceCoefficients, self.coefficients)  # set by the calculation above, or checked not None
        k = c.K if self.mean_force == "full" else c.K_current
        return k.copy(), c.L.copy()
