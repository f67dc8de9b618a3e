"""Input validation shared by every public entry point, and the types of
the arguments it checks.

Each helper raises :class:`~currentforces.errors.InputError` with a message
that names the offending argument.

The type aliases of the public signatures live here too (every layer may
import this module):  arrays go in as :data:`numpy.typing.ArrayLike`
(anything ``numpy.asarray`` takes) and come out as :class:`numpy.ndarray`
with their dtype:

- ``RealArray``: real floating results (transmissions, real coefficient
  matrices);
- ``ComplexArray``: complex floating results (Green's functions,
  self-energies, spectra);
- ``IndexArray``: integer index arrays (lead supports, orbital sets);
- ``MatrixLike``: an (N, N) matrix, dense array_like or scipy.sparse;
- ``OperatorsLike``: force operators, an (M, N, N) array or a sequence
  of M dense or scipy.sparse (N, N) matrices;
- ``Indices``: orbital or coordinate indices, a sequence or an integer array;
- ``RealSequence``: real numbers that are iterated over (energies, chemical
  potentials), a sequence or a float array;
- ``Spectrum``: a noise spectrum, ``spectrum(hbar_omega) -> (n, M, M)``.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from .errors import InputError, OverlapError

RealArray: TypeAlias = NDArray[np.floating[Any]]
ComplexArray: TypeAlias = NDArray[np.complexfloating[Any, Any]]
IndexArray: TypeAlias = NDArray[np.intp]
# scipy.sparse is untyped here (ignore_missing_imports): Any stands for its matrices
MatrixLike: TypeAlias = ArrayLike | Any
OperatorsLike: TypeAlias = Sequence[Any] | NDArray[Any]
Indices: TypeAlias = Sequence[int] | NDArray[np.integer[Any]]
RealSequence: TypeAlias = Sequence[float] | NDArray[np.floating[Any]]
Spectrum: TypeAlias = Callable[[ArrayLike], NDArray[Any]]
_F = TypeVar("_F", bound=Callable[..., Any])
# a checker that hands its argument back unchanged: a dense array, a
# scipy.sparse matrix (untyped, Any) or a junction
_A = TypeVar("_A", bound=Any)

__all__ = [
    "as_dense_matrix",
    "as_operator",
    "as_overlap",
    "as_real_matrix",
    "check_finite",
    "check_hermitian",
    "check_temperature",
    "check_nonnegative",
    "check_positive",
    "check_square",
    "check_number",
    "check_energies",
    "check_spin",
    "check_rtol",
    "check_masses",
    "check_leads",
    "as_orbital_indices",
    "check_atom_indices",
    "check_axes",
    "renamed_keywords",
]

HERMITIAN_RTOL = 1e-10
"""Relative tolerance for Hermiticity checks (relative to the largest entry)."""


def check_finite(name: str, array: _A) -> _A:
    """Raise if ``array`` (dense or sparse) holds NaN or inf."""
    data = array.data if sp.issparse(array) else np.asarray(array)
    if not np.all(np.isfinite(data)):
        raise InputError(f"{name} contains NaN or inf entries")
    return array


def check_square(name: str, array: _A, size: int | None = None) -> _A:
    shape = array.shape
    if len(shape) != 2 or shape[0] != shape[1]:
        raise InputError(f"{name} must be a square matrix, got shape {shape}")
    if size is not None and shape[0] != size:
        raise InputError(f"{name} has shape {shape} but the device has {size} orbitals; expected ({size}, {size})")
    return array


def check_hermitian(name: str, array: _A, rtol: float = HERMITIAN_RTOL) -> _A:
    """Raise if ``array`` (dense or sparse, square) is not Hermitian."""
    if sp.issparse(array):
        diff = abs(array - array.conj().T)
        dev = diff.max() if diff.nnz else 0.0
        scale = abs(array).max() if array.nnz else 0.0
    else:
        a = np.asarray(array)
        dev = np.max(np.abs(a - a.conj().T)) if a.size else 0.0
        scale = np.max(np.abs(a)) if a.size else 0.0
    if dev > rtol * max(scale, 1e-300):
        raise InputError(f"{name} is not Hermitian: max |M - M^dagger| = {dev:.3g} (largest entry {scale:.3g})")
    return array


def as_dense_matrix(name: str, array: MatrixLike, size: int | None = None, hermitian: bool = False) -> ComplexArray:
    """Validate and return a dense complex square matrix."""
    if sp.issparse(array):
        array = array.toarray()  # type: ignore[union-attr]  # issparse (untyped) does not narrow: a scipy matrix here
    try:
        a = np.asarray(array, dtype=complex)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a numeric matrix: {exc}") from None
    if a.ndim == 0 and size == 1:
        a = a.reshape(1, 1)
    check_square(name, a, size)
    check_finite(name, a)
    if hermitian:
        check_hermitian(name, a)
    return a


def as_operator(name: str, array: MatrixLike, size: int | None = None, hermitian: bool = True) -> Any:
    """Validate a Hermitian operator that may stay scipy.sparse (CSR)."""
    if sp.issparse(array):
        check_square(name, array, size)
        a = sp.csr_matrix(array, dtype=complex)
        check_finite(name, a)
        if hermitian:
            check_hermitian(name, a)
        return a
    return as_dense_matrix(name, array, size=size, hermitian=hermitian)


def as_overlap(name: str, array: MatrixLike, size: int, sparse: bool = False) -> tuple[Any, float | None]:
    r"""Validate an overlap matrix S: square of ``size``, finite, Hermitian, positive definite.

    S_ij = <i|j> of a non-orthogonal basis is dimensionless.  A dense S (or
    a sparse one of at most :data:`OVERLAP_DENSE_CHECK` orbitals) is checked
    positive definite here from its smallest eigenvalue; a larger sparse S
    is checked by the block-tridiagonal backend, by a block Cholesky
    factorisation along its layers (linear in the length).

    Parameters
    ----------
    name : str
        How the message names it (``"overlap"``).
    array : (N, N) array_like or scipy.sparse matrix
    size : int
        N.
    sparse : bool
        Return a CSR matrix (else a dense complex array).

    Returns
    -------
    (matrix, float or None)
        S, exactly Hermitian (its Hermitian part), and its smallest
        eigenvalue where it was computed.

    Raises
    ------
    OverlapError
        An :class:`~currentforces.errors.InputError` naming ``name``.
    """
    try:
        if sparse:
            s = as_operator(name, array if sp.issparse(array) else as_dense_matrix(name, array, size), size)
            s = sp.csr_matrix(s, dtype=complex)
        else:  # a sparse S for a dense backend is densified (as_dense_matrix)
            s = as_dense_matrix(name, array, size, hermitian=True)
    except OverlapError:
        raise
    except InputError as exc:
        raise OverlapError(str(exc)) from None
    s = 0.5 * (s + s.conj().T)
    lowest = None
    if not sp.issparse(s) or size <= OVERLAP_DENSE_CHECK:
        dense = s.toarray() if sp.issparse(s) else s
        w = np.linalg.eigvalsh(dense) if size else np.ones(1)
        lowest = float(w.min())
        if not lowest > OVERLAP_RTOL * max(float(np.abs(w).max()), 1e-300):
            raise OverlapError(
                f"{name} is not positive definite: its smallest eigenvalue is {lowest:.3g} (largest "
                f"{float(np.abs(w).max()):.3g}); an overlap matrix <i|j> of linearly independent orbitals has "
                "only positive eigenvalues"
            )
    return (sp.csr_matrix(s) if sparse else s), lowest


OVERLAP_DENSE_CHECK = 3000
"""Largest sparse overlap matrix (orbitals) checked by a dense eigenvalue solve."""

OVERLAP_RTOL = 1e-12
"""An overlap matrix whose smallest eigenvalue is below this fraction of its
largest counts as singular (linearly dependent orbitals)."""


def check_temperature(temperature: float, name: str = "temperature") -> float:
    """Temperature in K: finite and >= 0."""
    return check_number(name, temperature, "K", nonnegative=True)


def check_number(name: str, value: Any, unit: str = "", positive: bool = False, nonnegative: bool = False) -> float:
    """A finite real number (optionally > 0 or >= 0); the message names the
    argument and its unit."""
    where = f" in {unit}" if unit else ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number{where}, got {value!r}") from None
    if not np.isfinite(v):
        raise InputError(f"{name} must be finite{where}, got {value!r}")
    if positive and v <= 0:
        raise InputError(f"{name} must be > 0{where}, got {value!r}")
    if nonnegative and v < 0:
        raise InputError(f"{name} must be >= 0{where}, got {value!r}")
    return v


def check_nonnegative(name: str, value: Any, unit: str = "") -> float:
    """A finite number >= 0 (e.g. a frequency hbar*omega in eV)."""
    return check_number(name, value, unit, nonnegative=True)


def check_positive(name: str, value: Any, unit: str = "") -> float:
    """A finite number > 0 (a time step in fs, a cutoff energy in eV)."""
    return check_number(name, value, unit, positive=True)


SPIN_DEGENERACIES = (1, 2)
"""The spin degeneracies g_s a physical electron system can have."""


def check_spin(spin: Any, name: str = "spin") -> int:
    """Spin degeneracy g_s: 1 or 2, returned as an int.

    Every electronic quantity (density, current, forces, noise) is a sum
    over the degenerate spin states of each orbital state, so g_s counts
    how many electrons one orbital state holds.  For spin-1/2 electrons and
    a spin-independent Hamiltonian that is 2; it is 1 for a spinless model
    (the convention of Todorov et al.'s derivation), for one channel of a
    spin-polarised calculation, or when the Hamiltonian already carries spin
    in its orbital basis (spin-orbit coupling).  No other value describes
    electrons: 0 removes them, a negative or fractional g_s gives negative
    or fractional occupations.
    """
    if isinstance(spin, (bool, np.bool_)):
        raise InputError(f"{name} (spin degeneracy g_s) must be 1 or 2, got {spin!r}")
    try:
        v = float(spin)
    except (TypeError, ValueError):
        raise InputError(f"{name} (spin degeneracy g_s) must be 1 or 2, got {spin!r}") from None
    if v not in SPIN_DEGENERACIES:
        raise InputError(
            f"{name} (spin degeneracy g_s) must be 1 (spinless, or spin already in the orbital basis) "
            f"or 2 (spin-degenerate), got {spin!r}"
        )
    return int(v)


RTOL_MIN = 1e-14
"""Smallest relative tolerance an energy integral can be asked for: about
50 times the double-precision epsilon, below which the error estimates of
the quadratures are themselves round-off."""


def check_rtol(rtol: Any, name: str = "rtol", minimum: float = RTOL_MIN) -> float:
    """A relative tolerance: finite, ``minimum <= rtol < 1`` and > 0.

    ``minimum=0`` accepts any positive tolerance (a convergence threshold
    whose loop stops on its own, like the lead decimation's ``tol``).
    """
    try:
        r = float(rtol)
    except (TypeError, ValueError):
        raise InputError(f"{name} (relative tolerance) must be a number, got {rtol!r}") from None
    if not (np.isfinite(r) and r > 0 and minimum <= r < 1):
        lower = f"[{minimum:g}, 1)" if minimum > 0 else "(0, 1)"
        raise InputError(f"{name} (relative tolerance) must lie in {lower}, got {rtol!r}")
    return r


def check_masses(masses: ArrayLike, n: int | None = None) -> RealArray:
    """Masses in amu as a positive finite 1-D float array (``n`` entries if given)."""
    try:
        m = np.atleast_1d(np.asarray(masses, dtype=float))
    except (TypeError, ValueError):
        raise InputError(f"masses must be numbers in amu, got {masses!r}") from None
    if m.ndim != 1:
        raise InputError(f"masses must be a 1-D array, got shape {m.shape}")
    if n is not None and m.size != n:
        raise InputError(f"masses has {m.size} entries but the system has {n} degrees of freedom")
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise InputError(f"masses must be finite and > 0 amu, got {m}")
    return m


def as_real_matrix(name: str, a: ArrayLike | None, n: int, unit: str) -> RealArray:
    """A real finite (n, n) float matrix (K, L, spring constants); ``None`` gives zeros.

    A complex input is accepted when its imaginary part is round-off."""
    if a is None:
        return np.zeros((n, n))
    try:
        arr = np.asarray(a, dtype=complex)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric ({n}, {n}) matrix in {unit}") from None
    if n == 1 and arr.ndim == 0:
        arr = arr.reshape(1, 1)
    if arr.shape != (n, n):
        raise InputError(f"{name} must have shape ({n}, {n}) in {unit}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or inf entries")
    if np.max(np.abs(arr.imag), initial=0.0) > 1e-12 * max(np.max(np.abs(arr)), 1e-300):
        raise InputError(f"{name} must be a real matrix in {unit} (it couples real displacements to real forces)")
    return np.ascontiguousarray(arr.real)


def check_leads(junction: _A, what: str, minimum: int = 1) -> _A:
    """Raise unless ``junction`` (anything with ``n_leads``) has >= ``minimum`` leads.

    A device without leads is a closed system: its Green's function and its
    equilibrium density matrix exist, but anything carried by lead states
    (a current, a transmission, friction, noise, a bias) does not."""
    if hasattr(junction, "members") and hasattr(junction, "weights"):
        raise InputError(
            f"junction is a set of junctions (spin channels or k-points): {what} takes one Junction; "
            "call it on each member (junction_set[label]), or use the set's transmission, current and "
            "density_matrix, force_coefficients or noise_spectrum, which accept a set"
        )
    n = int(junction.n_leads)
    if n < minimum:
        need = {1: "a lead (an electron bath)", 2: "at least two leads"}.get(minimum, f"at least {minimum} leads")
        raise InputError(
            f"junction has {n} lead{'s' if n != 1 else ''}: {what} needs {need}; a closed device "
            "has only its Green's function and equilibrium density matrix"
        )
    return junction


def check_energies(energy: ArrayLike) -> NDArray[Any]:
    """Energies in eV: finite, real or in the upper half plane (retarded)."""
    e = np.asarray(energy)
    if not np.all(np.isfinite(e)):
        raise InputError("energy contains NaN or inf")
    if np.iscomplexobj(e) and np.any(e.imag < 0):
        raise InputError("energy: complex energies must lie in the upper half plane (retarded branch)")
    return e


def as_orbital_indices(name: str, indices: ArrayLike, size: int) -> IndexArray:
    """Device orbital indices as a 1-D int array in [0, size).

    Negative indices count from the end, as in Python; repeats are kept
    (a request may name an orbital twice)."""
    try:
        a = np.asarray(indices, dtype=int).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a sequence of orbital indices") from None
    if a.size and (a.min() < -size or a.max() >= size):
        raise InputError(f"{name} has orbital indices outside [0, {size})")
    return a % size if size else a


AXES = "xyz"
"""The Cartesian axes, in the order of every coordinate list (atom-major,
then x, y, z)."""


def check_atom_indices(name: str, indices: Any, n_atoms: int, what: str = "atoms") -> list[int]:
    """Atom indices as distinct non-negative ints (a list, in the given order).

    Negative indices count from the end, as in Python.  ``what`` names the
    collection in the message (``"a device of 6 atoms"`` reads better than
    ``"6 atoms"`` where it applies)."""
    try:
        items = list(np.atleast_1d(np.asarray(indices, dtype=object)).ravel()) if indices is not None else None
    except TypeError:
        items = None
    if not items:
        raise InputError(f"{name}: give at least one atom index, got {indices!r}")
    out = []
    for a in items:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise InputError(f"{name}: atom indices must be integers, got {a!r}")
        if not -n_atoms <= a < n_atoms:
            raise InputError(
                f"{name}: atom index {a} is out of range for {what} ({n_atoms} atoms: "
                f"indices 0..{n_atoms - 1}, or -{n_atoms}..-1 counted from the end)"
            )
        out.append(int(a) % n_atoms)
    if len(set(out)) != len(out):
        raise InputError(f"{name}: repeated atom index in {list(items)}")
    return out


def check_axes(axes: Any, name: str = "axes") -> list[int]:
    """Cartesian directions as a string such as ``"xyz"`` or ``"z"`` -> list of
    axis numbers 0, 1, 2 (in the given order, no repeats)."""
    if not isinstance(axes, str) or not axes:
        raise InputError(f"{name} must name at least one of 'x', 'y', 'z' (a string such as \"xyz\"), got {axes!r}")
    out = []
    for c in axes:
        if c not in AXES:
            raise InputError(f"{name}: each axis must be one of 'x', 'y', 'z', got {c!r}")
        if AXES.index(c) in out:
            raise InputError(f"{name}: axis {c!r} is repeated in {axes!r}")
        out.append(AXES.index(c))
    return out


def renamed_keywords(**aliases: str) -> Callable[[_F], _F]:
    """Decorator: accept deprecated keyword names for renamed parameters.

    ``@renamed_keywords(omega="hbar_omega")`` lets callers still write
    ``omega=...``; the call warns (:class:`DeprecationWarning`, naming the
    new keyword) and goes on with ``hbar_omega``.  Giving both the old and
    the new name (by keyword or position) raises
    :class:`~currentforces.errors.InputError`.  The decorated function keeps
    its own signature (``inspect.signature`` and the documentation show the
    new names only).
    """

    def decorate(func: _F) -> _F:
        params = list(inspect.signature(func).parameters)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in aliases.items():
                if old not in kwargs:
                    continue
                given = new in kwargs or (new in params and params.index(new) < len(args))
                if given:
                    raise InputError(f"{func.__name__}: give {new} only; {old} is its deprecated name")
                warnings.warn(
                    f"{func.__name__}: the keyword {old!r} is deprecated and will be removed; use {new!r}",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools.wraps keeps func's signature; mypy types the wrapper as its own

    return decorate
