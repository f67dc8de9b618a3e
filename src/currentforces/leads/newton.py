r"""The surface Dyson equation of a periodic lead: Newton steps and dg/dE.

The surface Green's function g of cell 1 of a semi-infinite stack of cells
(on-site block H_00, hopping H_01 away from the device, H_10 = H_01^dagger)
solves (:ref:`theory-periodic-lead`)

.. math:: (z - H_{00} - H_{01}\, g\, H_{10})\, g = 1 .

Its linearisation, the operator X -> X - (A^{-1} H_01) X (H_10 g) with
A = z - H_00 - H_01 g H_10, serves twice: as the Jacobian of the Newton
iterations that refine g, and (at the solution, where A^{-1} = g) as the
linear (Sylvester) equation for dg/dE.  Matrices are (nz, n, n) batches over
energies; operators on (n, n) matrices are (nz, n^2, n^2) in row-major vec
form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .base import broadening_from_self_energy

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._checks import ComplexArray, RealArray

__all__ = [
    "kron_system",
    "dyson_matrix",
    "dyson_residual",
    "dyson_jacobian",
    "well_conditioned",
    "is_retarded",
    "newton_refine",
    "surface_green_derivative",
]


def kron_system(left: NDArray[Any], right: NDArray[Any]) -> ComplexArray:
    """Matrix of X -> left X right in row-major vec form, batched: (nz, n^2, n^2)."""
    n = left.shape[-1]
    return np.einsum("bij,bkl->bikjl", left, np.swapaxes(right, -1, -2)).reshape(-1, n * n, n * n)


def dyson_matrix(z: NDArray[Any], g: NDArray[Any], onsite: NDArray[Any], hopping: NDArray[Any]) -> ComplexArray:
    """A = z - H_00 - H_01 g H_10, the inverse of g at the solution (eV)."""
    return z[:, None, None] * np.eye(onsite.shape[0]) - onsite - hopping @ g @ hopping.conj().T


def dyson_residual(z: NDArray[Any], g: NDArray[Any], onsite: NDArray[Any], hopping: NDArray[Any]) -> RealArray:
    """``max abs(A g - 1)`` of the surface Dyson equation, per energy (dimensionless)."""
    eye = np.eye(onsite.shape[0])
    return np.abs(dyson_matrix(z, g, onsite, hopping) @ g - eye).max(axis=(1, 2))


def _linearisation(ainv, g, hopping):
    n = g.shape[-1]
    return np.eye(n * n)[None] - kron_system(ainv @ hopping, hopping.conj().T @ g)


def dyson_jacobian(z: NDArray[Any], g: NDArray[Any], onsite: NDArray[Any], hopping: NDArray[Any]) -> ComplexArray:
    """Jacobian 1 - (A^{-1} H_01) x (H_10 g) of the surface Dyson equation, vec form."""
    return _linearisation(np.linalg.inv(dyson_matrix(z, g, onsite, hopping)), g, hopping)


def well_conditioned(z: NDArray[Any], jacobian: NDArray[Any], scale: float) -> NDArray[np.bool_]:
    """Trust g at broadening eta = Im z only where the round-off along the
    Jacobian's near-null directions, ~ cond * eps, stays below the eta bias
    itself (relative to ``scale``, eV): going to smaller eta past that point
    only adds error, both for Newton steps and for the decimation, which
    solves the same equation."""
    cond = np.linalg.cond(jacobian)
    return cond * np.finfo(float).eps <= np.maximum(z.imag / scale, 1e-13)


def is_retarded(g: NDArray[Any]) -> NDArray[np.bool_]:
    """True where i(g - g^dagger) is positive semi-definite (the retarded root)."""
    w = np.linalg.eigvalsh(broadening_from_self_energy(g))
    return w.min(axis=-1) >= -1e-9 * np.maximum(1.0, np.abs(w).max(axis=-1))


def newton_refine(
    z: NDArray[Any], g: NDArray[Any], onsite: NDArray[Any], hopping: NDArray[Any], scale: float, max_iter: int = 12
) -> tuple[ComplexArray, NDArray[Any]]:
    """Newton iterations on the surface Dyson equation, started from ``g``.

    Each step solves J delta = A^{-1} (1 - A g) = A^{-1} - g, the scaled
    residual, with the Jacobian J of :func:`dyson_jacobian`.  The Jacobian's
    eigenvalues are 1 - lambda_i lambda_j (products of Bloch factors), so it
    becomes singular as eta -> 0 where a right- and a left-moving band cross
    (folded cells); such energies report no convergence.

    Returns
    -------
    (ndarray, ndarray)
        The new g (nz, n, n) and a boolean mask of the energies that
        converged: at the round-off floor (the quadratic convergence stalls),
        to 1e-9 of ``max abs(g)``, and :func:`well_conditioned`.
    """
    n = onsite.shape[0]
    g = g.copy()
    active = np.ones(z.size, dtype=bool)
    converged = np.zeros(z.size, dtype=bool)
    previous = np.full(z.size, np.inf)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        gi = g[idx]
        ainv = np.linalg.inv(dyson_matrix(z[idx], gi, onsite, hopping))
        lhs = _linearisation(ainv, gi, hopping)
        rhs = (ainv - gi).reshape(-1, n * n)
        delta = np.linalg.solve(lhs, rhs[..., None])[..., 0].reshape(-1, n, n)
        g[idx] = gi + delta
        size = np.abs(delta).max(axis=(1, 2))
        gscale = np.maximum(1.0 / scale, np.abs(g[idx]).max(axis=(1, 2)))
        stalled = (size <= 1e-13 * gscale) | (size > 0.5 * previous[idx])
        ok = stalled & (size <= 1e-9 * gscale)
        if np.any(ok):
            ok[ok] = well_conditioned(z[idx[ok]], lhs[ok], scale)
        converged[idx[ok]] = True
        active[idx[stalled]] = False
        previous[idx] = size
    return g, converged


def surface_green_derivative(g: NDArray[Any], hopping: NDArray[Any]) -> ComplexArray:
    r"""dg/dE (1/eV^2) at the solution g, from the surface Dyson equation.

    Differentiating g^{-1} = z - H_00 - H_01 g H_10 gives the linear
    (Sylvester) equation

    .. math:: \frac{dg}{dE} = -g\,g + (g H_{01})\,\frac{dg}{dE}\,(H_{10}\, g),

    solved exactly in vec form.  ``g`` is (..., n, n).
    """
    shape = g.shape[:-2]
    n = g.shape[-1]
    g = g.reshape(-1, n, n)
    lhs = _linearisation(g, g, hopping)  # at the solution A^{-1} = g
    rhs = -(g @ g).reshape(-1, n * n)
    x = np.linalg.solve(lhs, rhs[..., None])[..., 0]
    return x.reshape(shape + (n, n))
