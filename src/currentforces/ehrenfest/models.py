r"""What the Ehrenfest dynamics needs of a junction's atoms: h(X), the force
operators f_a(X) = -dh/dX_a, and the bare (non-electronic) forces.

:class:`LinearModel` is the model of the seed paper (eq 6 expanded to first
order, :ref:`theory-conventions`): h(X) = h_0 - sum_a X_a f_a with constant
force operators, exact for the chain models of
:mod:`currentforces.models.chain`; :class:`AtomisticModel` the full h(X)
of an atomistic junction (tight-binding hoppings at the displaced
positions).  Any object with ``n_dofs``,
``hamiltonian(x)`` and ``force_operators(x)`` can take its place (an
atomistic model whose hoppings depend on the atom positions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .._checks import as_dense_matrix
from ..errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from .._checks import ArrayLike, ComplexArray, MatrixLike, RealArray
    from ..models.atomistic import AtomisticJunction

__all__ = ["AtomisticModel", "LinearModel", "HarmonicBareForce"]


class LinearModel:
    r"""h(X) = h_0 - sum_a X_a f_a, f_a(X) = f_a (:eq:`eq-ehrenfest-linear-model`).

    Parameters
    ----------
    hamiltonian : (N, N) array_like
        h_0 in eV: the device Hamiltonian at X = 0.
    forces : sequence of (N, N) array_like
        Force operators f_a in eV/Angstrom (Hermitian).
    """

    def __init__(self, hamiltonian: MatrixLike, forces: Sequence[MatrixLike]) -> None:
        # issparse (scipy, untyped) does not narrow MatrixLike: .toarray() only runs on a sparse matrix
        h = hamiltonian.toarray() if sp.issparse(hamiltonian) else hamiltonian  # type: ignore[union-attr]
        self.h0 = as_dense_matrix("hamiltonian", h, hermitian=True).astype(complex)
        ops = [f.toarray() if sp.issparse(f) else f for f in forces]  # type: ignore[union-attr]
        if not ops:
            raise InputError("forces: give at least one force operator")
        self.operators = np.array(
            [as_dense_matrix(f"forces[{i}]", f, hermitian=True) for i, f in enumerate(ops)], dtype=complex
        )
        if self.operators.shape[1:] != self.h0.shape:
            raise InputError(
                f"forces: operators of shape {self.operators.shape[1:]} do not match the {self.h0.shape} Hamiltonian"
            )
        self.n_dofs = len(self.operators)

    def hamiltonian(self, x: ArrayLike) -> ComplexArray:
        """h(X) in eV."""
        return self.h0 - np.tensordot(np.asarray(x, dtype=float), self.operators, axes=(0, 0))

    def force_operators(self, x: ArrayLike) -> ComplexArray:
        """f_a (constant), (M, N, N) in eV/Angstrom."""
        return self.operators


class HarmonicBareForce:
    r"""Bare force F_b(X) = F_b0 - K_b X and its potential U_b = X.K_b X/2 - F_b0.X.

    Parameters
    ----------
    force_constants : (M, M) array_like
        K_b in eV/Angstrom^2 (symmetric).
    mean_force : (M,) array_like, optional
        F_b0 in eV/Angstrom (default 0).
    """

    def __init__(self, force_constants: ArrayLike, mean_force: ArrayLike | None = None) -> None:
        k = np.atleast_2d(np.asarray(force_constants, dtype=float))
        if k.ndim != 2 or k.shape[0] != k.shape[1] or not np.all(np.isfinite(k)):
            raise InputError(f"force_constants must be a finite square matrix in eV/Angstrom^2, got shape {k.shape}")
        if not np.allclose(k, k.T, rtol=1e-12, atol=0):
            raise InputError("force_constants must be symmetric (a bare force derives from a potential)")
        self.K = k
        f0 = np.zeros(len(k)) if mean_force is None else np.asarray(mean_force, dtype=float).reshape(-1)
        if f0.shape != (len(k),) or not np.all(np.isfinite(f0)):
            raise InputError(f"mean_force must hold {len(k)} finite numbers in eV/Angstrom, got {mean_force!r}")
        self.mean_force = f0

    def __call__(self, x: ArrayLike) -> tuple[RealArray, float]:
        """(force (M,), potential energy) in eV/Angstrom and eV."""
        x = np.asarray(x, dtype=float)
        kx = self.K @ x
        return self.mean_force - kx, float(0.5 * x @ kx - self.mean_force @ x)


class AtomisticModel:
    r"""h(X) and f(X) of an atomistic junction, at any displacement (no expansion).

    X_k displaces device atom a_k along Cartesian axis i_k (the
    ``coordinates`` of :class:`~currentforces.models.atomistic.AtomisticJunction`)
    from its input position; h(X) is the tight-binding Hamiltonian of the
    displaced atoms (:func:`~currentforces.models.atomistic.device_hamiltonian`)
    and f_k(X) = -dh/dX_k its analytic derivative
    (:func:`~currentforces.models.atomistic.device_hamiltonian_derivative`).

    Parameters
    ----------
    system : AtomisticJunction
        From :func:`~currentforces.models.atomistic.atomistic_junction` or a
        preset (``preset.system``).
    """

    def __init__(self, system: AtomisticJunction) -> None:
        from ..models.atomistic import device_hamiltonian, device_hamiltonian_derivative

        self._h = device_hamiltonian
        self._dh = device_hamiltonian_derivative
        self.system = system
        self.tb = system.model
        self.reference = np.asarray(system.device.get_positions(), dtype=float)
        self.coordinates = [(int(a), int(i)) for a, i in system.coordinates]
        self.n_dofs = len(self.coordinates)

    def positions(self, x: ArrayLike) -> RealArray:
        """Atom positions (Angstrom) at displacements ``x``."""
        x = np.asarray(x, dtype=float).reshape(-1)
        if x.shape != (self.n_dofs,):
            raise InputError(f"x must hold {self.n_dofs} displacements, got shape {x.shape}")
        pos = self.reference.copy()
        for (a, i), xi in zip(self.coordinates, x):
            pos[a, i] += xi
        return pos

    def hamiltonian(self, x: ArrayLike) -> NDArray[Any]:
        """h(X) in eV."""
        return self._h(self.tb, self.positions(x))

    def force_operators(self, x: ArrayLike) -> NDArray[Any]:
        """f_k(X) = -dh/dX_k, (M, N, N) in eV/Angstrom."""
        pos = self.positions(x)
        cache: dict = {}
        out = []
        for a, i in self.coordinates:
            if a not in cache:
                cache[a] = self._dh(self.tb, pos, a)
            out.append(-cache[a][i])
        return np.array(out)
