r"""Electron-vibration couplings by finite differences of any Hamiltonian source.

The force operators of seed eq. (5), f_a = -dH/dX_a, and, in a
non-orthogonal basis, the overlap derivatives dS/dX_a, by central
differences of the matrices of a source evaluated at displaced geometries:

.. math::

    f_{a} = -\frac{\partial H}{\partial X_a}
          \approx -\frac{4 D_a(h/2) - D_a(h)}{3},\qquad
    D_a(h) = \frac{H(X + h e_a) - H(X - h e_a)}{2h},

the Richardson extrapolation of central differences at steps h and h/2
(the five-point stencil, :ref:`theory-finite-differences`; see
:mod:`currentforces._finite_differences`).
The two steps also give the error estimate ``max|D(h) - D(h/2)|/3`` of each
coordinate, and a :class:`~currentforces.errors.StepSizeWarning` when it
exceeds ``rtol`` times the largest ``|dH/dX|`` entry of all coordinates.

Sources plug in as a function ``build(positions) -> H`` or ``(H, S)`` in a
fixed device basis (the same orbitals, in the same order, at every
geometry):

* the built-in tight-binding models:
  ``lambda p: device_hamiltonian(model, p)``
  (:mod:`currentforces.models.atomistic`, which also has the analytic
  derivative);
* sisl: :func:`currentforces.adapters.sisl.sisl_builder` turns a function
  ``positions -> sisl.Hamiltonian`` into ``build``;
* precomputed displaced calculations (the layout of Inelastica's
  ``FCrun``: one Hamiltonian per displaced geometry, e.g. one SIESTA TSHS
  file per displacement): :func:`couplings_from_displacements`.

Cost: 4 builds per Cartesian coordinate (12 per movable atom) with the
step check, 2 (6 per atom) without, plus one at the reference geometry.
Units: positions and steps in Angstrom, H in eV, f in eV/Angstrom, dS/dX in
1/Angstrom.  Results are scipy.sparse (CSR) when the source's H is, dense
arrays otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ._checks import AXES, check_atom_indices, check_axes, check_finite, check_hermitian, check_positive, check_rtol
from ._finite_differences import central_difference, warn_if_steps_disagree
from .errors import InputError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ._checks import ArrayLike

__all__ = ["finite_difference_couplings", "couplings_from_displacements", "FiniteDifferenceCouplings", "STEP_RTOL"]

STEP_RTOL = 1e-3
r"""Default tolerance of the step check, relative to the largest ``|dH/dX|``
(or ``|dS/dX|``) entry of all coordinates.

Why 1e-3: a resolved smooth source stays far below it, a noisy or
under-resolved one does not.  At h = 0.01 Angstrom the disagreement of the
two central differences is ``(3/4) |H'''| h^2/6``: for a hopping
t0 exp(-beta d) that is beta^2 h^2/8 ~ 1e-5 of ``|f|`` (beta ~ 1/Angstrom), for
Harrison's d^-2 law 3 h^2/(2 d^2) ~ 1e-4 at d = 1.3 Angstrom.  Noise of
amplitude delta in the matrix elements (a self-consistent cycle converged
to delta) gives an error estimate of about 0.5 delta/h, so the check fires
for delta above ~2e-5 eV per eV/Angstrom of coupling at h = 0.01.  K and L
are quadratic in f, so a coupling good to 1e-3 gives them to ~2e-3, below
the accuracy of the models the couplings come from.
"""


@dataclass
class FiniteDifferenceCouplings:
    """Force operators and overlap derivatives of the movable coordinates.

    Attributes
    ----------
    forces : list of (N, N) ndarray or scipy.sparse.csr_matrix
        f_a = -dH/dX_a in eV/Angstrom, one per coordinate, in the order of
        ``coordinates`` (atom-major, then x, y, z): the ``forces`` argument
        of :func:`currentforces.force_coefficients`.
    overlap_derivatives : list or None
        dS/dX_a in 1/Angstrom (same order); ``None`` when the source gives
        no overlap (an orthogonal basis).
    coordinates : list of (int, int)
        (atom index, Cartesian axis 0/1/2) of each entry.
    step : float
        h in Angstrom (the differences use +-h and, with the check, +-h/2).
    error : ndarray, shape (M,)
        Estimated error of each f_a, ``max|D(h) - D(h/2)|/3`` in eV/Angstrom
        (an upper estimate for the extrapolated value; ``nan`` without the
        check or for displaced files at one step).
    overlap_error : ndarray or None
        The same for dS/dX, 1/Angstrom.
    hamiltonian, overlap : matrix or None
        H (eV) and S at the reference geometry, when the source was
        evaluated there.
    """

    forces: list
    overlap_derivatives: list | None
    coordinates: list
    step: float
    error: np.ndarray
    overlap_error: np.ndarray | None = None
    hamiltonian: object = None
    overlap: object = None

    @property
    def labels(self) -> list[str]:
        """``"atom 3 z"``-style names of the coordinates."""
        return [f"atom {a} {AXES[c]}" for a, c in self.coordinates]


class _Reference:
    """What the first matrices of a source fixed: size, kind, overlap or not."""

    def __init__(self, n, sparse, has_overlap):
        self.n, self.sparse, self.has_overlap = n, sparse, has_overlap


def _matrix(name, m, ref_n, sparse):
    """One validated square Hermitian matrix, dense or CSR as ``sparse`` says."""
    if sp.issparse(m):
        a = sp.csr_matrix(m)
    else:
        try:
            a = np.asarray(m)
        except Exception:  # any array-like failure: report which argument
            a = None
        if a is None or a.dtype.kind not in "biufc":
            raise InputError(f"{name} must be a numeric matrix (ndarray or scipy.sparse), got {type(m).__name__}")
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise InputError(f"{name} must be a square matrix, got shape {a.shape}")
    if ref_n is not None and a.shape[0] != ref_n:
        raise InputError(
            f"{name} has shape {a.shape} but the reference geometry gave ({ref_n}, {ref_n}): "
            "the device basis must be the same at every geometry"
        )
    a = a.astype(complex if np.iscomplexobj(a.data if sp.issparse(a) else a) else float)
    check_finite(name, a)
    check_hermitian(name, a)
    if sparse is True and not sp.issparse(a):
        a = sp.csr_matrix(a)
    elif sparse is False and sp.issparse(a):
        a = a.toarray()
    return a


def _matrices(value, where, ref):
    """(H,) or (H, S) from a source's return value, validated against ``ref``."""
    if hasattr(value, "geometry") and hasattr(value, "tocsr"):
        raise InputError(
            f"{where} returned a {type(value).__name__}; wrap a sisl source with "
            "currentforces.adapters.sisl.sisl_builder (or sisl_matrices)"
        )
    if isinstance(value, tuple):
        if len(value) != 2:
            raise InputError(f"{where} must return H or a tuple (H, S), got a tuple of {len(value)}")
        parts = value
    else:
        parts = (value,)
    if ref is not None and (len(parts) == 2) != ref.has_overlap:
        had = "(H, S)" if ref.has_overlap else "H alone"
        raise InputError(
            f"{where} returned {'(H, S)' if len(parts) == 2 else 'H alone'} but the reference "
            f"geometry gave {had}: the source must be consistent"
        )
    names = ("H", "S")
    out = [
        _matrix(f"{where}: {names[i]}", p, None if ref is None else ref.n, None if ref is None else ref.sparse)
        for i, p in enumerate(parts)
    ]
    if ref is None and len(out) == 2 and out[1].shape != out[0].shape:
        raise InputError(f"{where}: S has shape {out[1].shape} but H has {out[0].shape}")
    if ref is None and len(out) == 2 and sp.issparse(out[0]) != sp.issparse(out[1]):
        out[1] = sp.csr_matrix(out[1]) if sp.issparse(out[0]) else out[1].toarray()
    return tuple(out)


def _positions(positions):
    try:
        pos = np.array(positions, dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            f"positions must be a numeric (n_atoms, 3) array in Angstrom, got {type(positions).__name__}"
        ) from None
    if pos.ndim != 2 or pos.shape[1] != 3 or len(pos) == 0:
        raise InputError(f"positions must have shape (n_atoms, 3) in Angstrom, got {pos.shape}")
    if not np.all(np.isfinite(pos)):
        raise InputError("positions contains NaN or inf entries")
    return pos


def _assemble(evaluate_at, coordinates, step, check, rtol, reference):
    forces, overlaps, err_h, err_s = [], [], [], []
    for a, c in coordinates:
        derivatives, errors = central_difference(lambda d, a=a, c=c: evaluate_at(a, c, d), step, check)
        f = derivatives[0]
        forces.append(-f if sp.issparse(f) else 0.0 - f)  # 0 - f: no negative zeros in dense output
        err_h.append(errors[0])
        if len(derivatives) == 2:
            overlaps.append(derivatives[1])
            err_s.append(errors[1])
    has_s = bool(overlaps)
    if check:
        warn_if_steps_disagree("H", err_h, forces, coordinates, step, rtol, "eV/Angstrom")
        if has_s:
            warn_if_steps_disagree("S", err_s, overlaps, coordinates, step, rtol, "1/Angstrom")
    ref = reference or (None, None)
    return FiniteDifferenceCouplings(
        forces,
        overlaps if has_s else None,
        list(coordinates),
        step,
        np.asarray(err_h),
        np.asarray(err_s) if has_s else None,
        ref[0],
        ref[1] if len(ref) > 1 else None,
    )


def finite_difference_couplings(
    build: Callable,
    positions: ArrayLike,
    movable: Sequence[int],
    step: float = 0.01,
    *,
    axes: str = "xyz",
    check: bool = True,
    rtol: float = STEP_RTOL,
) -> FiniteDifferenceCouplings:
    r"""Force operators f = -dH/dX (and dS/dX) by finite differences of ``build``.

    Parameters
    ----------
    build : callable
        ``build(positions)`` -> H, or a tuple (H, S), for ``positions`` of
        shape (n_atoms, 3) in Angstrom: Hermitian (N, N) matrices (ndarray
        or scipy.sparse) in eV (S dimensionless) in a basis that is the
        same at every geometry.  It receives its own copy of the array.
    positions : array_like, shape (n_atoms, 3)
        Reference geometry, Angstrom.
    movable : sequence of int
        Atoms whose coordinates get a coupling (negative indices count from
        the end).
    step : float
        Largest displacement h, Angstrom (> 0): the central differences use
        +-h and, with ``check``, +-h/2.
    axes : str
        Cartesian directions of every movable atom (default ``"xyz"``).
    check : bool
        Two steps, h and h/2: return their Richardson extrapolation (error
        O(h^4)) with an error estimate and warn when they disagree; 4 builds
        per coordinate.  ``False``: one central difference at h (error
        O(h^2)), 2 builds per coordinate, no estimate.
    rtol : float
        Tolerance of the step check relative to the largest ``|dH/dX|`` (and
        ``|dS/dX|``) entry, default :data:`STEP_RTOL` (its docstring says why).

    Returns
    -------
    FiniteDifferenceCouplings
        ``forces`` (one f per coordinate, atom-major then x, y, z; eV/A),
        ``overlap_derivatives`` (dS/dX in 1/A, or ``None``), ``coordinates``,
        the error estimates and H, S at ``positions``.

    Raises
    ------
    InputError
        ``build`` not callable; ``positions`` not (n, 3) finite; ``movable``
        empty, repeated or out of range; ``step`` <= 0; a matrix from
        ``build`` that is not square, of another size than at the reference
        geometry, not finite or not Hermitian (the message says at which
        displacement).

    Warns
    -----
    StepSizeWarning
        When the two steps disagree by more than ``rtol`` (the estimated
        error, the coordinate and the scale are in the message).

    Examples
    --------
    >>> import numpy as np
    >>> from currentforces import finite_difference_couplings
    >>> def build(p):  # two sites, hopping -exp(-(d - 2.5)) eV
    ...     t = -np.exp(-(np.linalg.norm(p[1] - p[0]) - 2.5))
    ...     return np.array([[0.0, t], [t, 0.0]])
    >>> c = finite_difference_couplings(build, [[0, 0, 0], [0, 0, 2.5]], movable=[1], axes="z")
    >>> print(np.round(c.forces[0], 8))
    [[ 0. -1.]
     [-1.  0.]]
    """
    if not callable(build):
        raise InputError(f"build must be a callable build(positions) -> H or (H, S), got {type(build).__name__}")
    pos = _positions(positions)
    step = check_positive("step", step, "Angstrom")
    rtol = check_rtol(rtol)
    atoms = check_atom_indices("movable", movable, len(pos))
    coordinates = [(a, c) for a in atoms for c in check_axes(axes)]
    reference = _matrices(build(pos.copy()), "build(positions) at the reference geometry", None)
    ref = _Reference(reference[0].shape[0], sp.issparse(reference[0]), len(reference) == 2)

    def evaluate_at(a, c, d):
        p = pos.copy()
        p[a, c] += d
        where = f"build(positions) with atom {a} displaced by {d:+g} Angstrom along {AXES[c]}"
        return _matrices(build(p), where, ref)

    return _assemble(evaluate_at, coordinates, step, check, rtol, reference)


def couplings_from_displacements(
    displaced: Mapping[tuple[int, int, int], Any] | Callable[[int, int, int], Any],
    movable: Sequence[int],
    step: float,
    *,
    axes: str = "xyz",
) -> FiniteDifferenceCouplings:
    r"""Force operators from precomputed displaced calculations.

    The layout of Inelastica's ``FCrun``: one electronic-structure
    calculation per displaced geometry, each atom of ``movable`` moved by
    +-``step`` along each axis in turn, all in the basis of the undisplaced
    device.  Central differences

    .. math:: f_a = -\frac{H(+h e_a) - H(-h e_a)}{2h}

    (error O(h^2); one step only, so no step check: repeat with a second
    set of calculations at another step and compare to check it).

    Parameters
    ----------
    displaced : mapping or callable
        ``displaced[(atom, axis, sign)]`` or ``displaced(atom, axis, sign)``
        -> H or a tuple (H, S) of the geometry with ``atom`` moved by
        ``sign * step`` (sign +1 or -1) along ``axis`` (0, 1, 2 for x, y,
        z).  A callable can read files on demand, e.g. SIESTA TSHS files
        through :func:`currentforces.adapters.sisl.sisl_matrices`::

            def displaced(atom, axis, sign):
                path = f"FCrun/disp_{atom}{'xyz'[axis]}{'+' if sign > 0 else '-'}.TSHS"
                return sisl_matrices(sisl.get_sile(path).read_hamiltonian())

    movable : sequence of int
        Displaced atoms (non-negative indices, as in the keys).
    step : float
        The displacement amplitude h of the calculations, Angstrom.
    axes : str
        Displaced directions (default ``"xyz"``).

    Returns
    -------
    FiniteDifferenceCouplings
        As :func:`finite_difference_couplings`, with ``error`` all ``nan``
        and no reference H, S.

    Raises
    ------
    InputError
        A missing displacement (the key is named), or matrices of changing
        size, kind or Hermiticity, as for :func:`finite_difference_couplings`.
    """
    step = check_positive("step", step, "Angstrom")
    if isinstance(movable, (int, np.integer)) or movable is None:
        raise InputError(f"movable must be a sequence of atom indices, got {movable!r}")
    atoms = []
    for a in np.atleast_1d(np.asarray(movable, dtype=object)).ravel():
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)) or a < 0:
            raise InputError(f"movable: atom indices must be non-negative integers (as in the keys), got {a!r}")
        atoms.append(int(a))
    atoms = check_atom_indices("movable", atoms, max(atoms) + 1)
    coordinates = [(a, c) for a in atoms for c in check_axes(axes)]
    if callable(displaced):

        def load(a, c, s):
            return displaced(a, c, s)
    elif hasattr(displaced, "__getitem__"):

        def load(a, c, s):
            try:
                return displaced[(a, c, s)]
            except KeyError:
                raise InputError(
                    f"displaced: no Hamiltonian for (atom {a}, axis {c}, sign {s:+d}) "
                    f"(atom {a} displaced by {s * step:+g} Angstrom along {AXES[c]})"
                ) from None
    else:
        raise InputError(
            f"displaced must be a mapping {{(atom, axis, sign): H or (H, S)}} or a callable "
            f"(atom, axis, sign) -> H or (H, S), got {type(displaced).__name__}"
        )
    state = {"ref": None}

    def evaluate_at(a, c, d):
        s = 1 if d > 0 else -1
        where = f"displaced (atom {a}, axis {c}, sign {s:+d})"
        m = _matrices(load(a, c, s), where, state["ref"])
        if state["ref"] is None:
            state["ref"] = _Reference(m[0].shape[0], sp.issparse(m[0]), len(m) == 2)
        return m

    return _assemble(evaluate_at, coordinates, step, False, STEP_RTOL, None)
