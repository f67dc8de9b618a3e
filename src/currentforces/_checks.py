"""Input validation shared by every public entry point.

Each helper raises :class:`~currentforces.errors.InputError` with a message
that names the offending argument.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .errors import InputError

__all__ = [
    "as_dense_matrix",
    "as_operator",
    "check_finite",
    "check_hermitian",
    "check_temperature",
    "check_nonnegative",
    "check_square",
    "check_number",
    "check_energies",
]

HERMITIAN_RTOL = 1e-10
"""Relative tolerance for Hermiticity checks (relative to the largest entry)."""


def check_finite(name, array):
    """Raise if ``array`` (dense or sparse) holds NaN or inf."""
    data = array.data if sp.issparse(array) else np.asarray(array)
    if not np.all(np.isfinite(data)):
        raise InputError(f"{name} contains NaN or inf entries")
    return array


def check_square(name, array, size=None):
    shape = array.shape
    if len(shape) != 2 or shape[0] != shape[1]:
        raise InputError(f"{name} must be a square matrix, got shape {shape}")
    if size is not None and shape[0] != size:
        raise InputError(
            f"{name} has shape {shape} but the device has {size} orbitals; "
            f"expected ({size}, {size})"
        )
    return array


def check_hermitian(name, array, rtol=HERMITIAN_RTOL):
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
        raise InputError(
            f"{name} is not Hermitian: max |M - M^dagger| = {dev:.3g} "
            f"(largest entry {scale:.3g})"
        )
    return array


def as_dense_matrix(name, array, size=None, hermitian=False):
    """Validate and return a dense complex square matrix."""
    if sp.issparse(array):
        array = array.toarray()
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


def as_operator(name, array, size=None, hermitian=True):
    """Validate a Hermitian operator that may stay scipy.sparse (CSR)."""
    if sp.issparse(array):
        check_square(name, array, size)
        a = sp.csr_matrix(array, dtype=complex)
        check_finite(name, a)
        if hermitian:
            check_hermitian(name, a)
        return a
    return as_dense_matrix(name, array, size=size, hermitian=hermitian)


def check_temperature(temperature, name="temperature"):
    """Temperature in K: finite and >= 0."""
    return check_number(name, temperature, "K", nonnegative=True)


def check_number(name, value, unit="", positive=False, nonnegative=False):
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


def check_nonnegative(name, value, unit=""):
    """A finite number >= 0 (e.g. a frequency hbar*omega in eV)."""
    return check_number(name, value, unit, nonnegative=True)


def check_energies(energy):
    """Energies in eV: finite, real or in the upper half plane (retarded)."""
    e = np.asarray(energy)
    if not np.all(np.isfinite(e)):
        raise InputError("energy contains NaN or inf")
    if np.iscomplexobj(e) and np.any(e.imag < 0):
        raise InputError("energy: complex energies must lie in the upper half plane (retarded branch)")
    return e
