r"""The surface Dyson equation of a periodic lead: Newton steps and dg/dE.

The surface Green's function g of cell 1 of a semi-infinite stack of cells
(on-site block H_00, hopping H_01 away from the device, H_10 = H_01^dagger)
solves (:ref:`theory-periodic-lead`)

.. math:: (z - H_{00} - H_{01}\, g\, H_{10})\, g = 1 .

In a non-orthogonal basis (cell overlap S_00, S_01) every H becomes the
energy-dependent block of the pencil z S - H: z - H_00 -> z S_00 - H_00 and
H_01 -> H_01 - z S_01, H_10 -> H_10 - z S_10 (:ref:`theory-overlap`); the
functions below take ``s00``, ``s01`` (None: orthogonal) and form these
blocks with :func:`cell_blocks`.

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
    "cell_blocks",
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


def cell_blocks(
    z: NDArray[Any],
    onsite: NDArray[Any],
    hopping: NDArray[Any],
    s00: NDArray[Any] | None = None,
    s01: NDArray[Any] | None = None,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """The blocks (z S_00 - H_00, H_01 - z S_01, H_10 - z S_10) of a lead cell at
    the energies z (1-d), each (nz, n, n) in eV; S = None is the orthogonal
    basis (S_00 = 1, S_01 = 0), where the hoppings are H_01 and H_01^dagger."""
    zz = z[:, None, None]
    a = zz * (np.eye(onsite.shape[0]) if s00 is None else s00) - onsite
    if s01 is None:
        return a, np.broadcast_to(hopping, a.shape), np.broadcast_to(hopping.conj().T, a.shape)
    return a, hopping - zz * s01, hopping.conj().T - zz * s01.conj().T


def dyson_matrix(
    z: NDArray[Any],
    g: NDArray[Any],
    onsite: NDArray[Any],
    hopping: NDArray[Any],
    s00: NDArray[Any] | None = None,
    s01: NDArray[Any] | None = None,
) -> ComplexArray:
    """A = z S_00 - H_00 - H'_01 g H'_10, the inverse of g at the solution (eV)
    (H'_01 = H_01 - z S_01, :func:`cell_blocks`)."""
    a, out, back = cell_blocks(z, onsite, hopping, s00, s01)
    return a - out @ g @ back


def dyson_residual(
    z: NDArray[Any],
    g: NDArray[Any],
    onsite: NDArray[Any],
    hopping: NDArray[Any],
    s00: NDArray[Any] | None = None,
    s01: NDArray[Any] | None = None,
) -> RealArray:
    """``max abs(A g - 1)`` of the surface Dyson equation, per energy (dimensionless)."""
    eye = np.eye(onsite.shape[0])
    return np.abs(dyson_matrix(z, g, onsite, hopping, s00, s01) @ g - eye).max(axis=(1, 2))


def _linearisation(ainv, g, out, back):
    n = g.shape[-1]
    return np.eye(n * n)[None] - kron_system(ainv @ out, back @ g)


def dyson_jacobian(
    z: NDArray[Any],
    g: NDArray[Any],
    onsite: NDArray[Any],
    hopping: NDArray[Any],
    s00: NDArray[Any] | None = None,
    s01: NDArray[Any] | None = None,
) -> ComplexArray:
    """Jacobian 1 - (A^{-1} H'_01) x (H'_10 g) of the surface Dyson equation, vec form."""
    _, out, back = cell_blocks(z, onsite, hopping, s00, s01)
    return _linearisation(np.linalg.inv(dyson_matrix(z, g, onsite, hopping, s00, s01)), g, out, back)


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
    z: NDArray[Any],
    g: NDArray[Any],
    onsite: NDArray[Any],
    hopping: NDArray[Any],
    scale: float,
    max_iter: int = 12,
    s00: NDArray[Any] | None = None,
    s01: NDArray[Any] | None = None,
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
        a, out, back = cell_blocks(z[idx], onsite, hopping, s00, s01)
        ainv = np.linalg.inv(a - out @ gi @ back)
        lhs = _linearisation(ainv, gi, out, back)
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


def surface_green_derivative(
    g: NDArray[Any],
    hopping: NDArray[Any],
    z: NDArray[Any] | None = None,
    s00: NDArray[Any] | None = None,
    s01: NDArray[Any] | None = None,
) -> ComplexArray:
    r"""dg/dE (1/eV^2) at the solution g, from the surface Dyson equation.

    Differentiating g^{-1} = z - H_00 - H_01 g H_10 gives the linear
    (Sylvester) equation

    .. math:: \frac{dg}{dE} = -g\,g + (g H_{01})\,\frac{dg}{dE}\,(H_{10}\, g),

    solved exactly in vec form.  ``g`` is (..., n, n).  With overlap blocks
    (``s00``, ``s01`` and the energies ``z`` of ``g``), g^{-1} = z S_00 -
    H_00 - H'_01 g H'_10 with H'_01 = H_01 - z S_01 carries the derivative of
    every factor (product rule):

    .. math:: \frac{dg}{dE} = -g\,(S_{00} + S_{01} g H'_{10} + H'_{01} g S_{10})\,g
              + (g H'_{01})\,\frac{dg}{dE}\,(H'_{10}\, g).
    """
    shape = g.shape[:-2]
    n = g.shape[-1]
    g = g.reshape(-1, n, n)
    if s00 is None and s01 is None:
        lhs = _linearisation(g, g, hopping, hopping.conj().T)  # at the solution A^{-1} = g
        rhs = -(g @ g).reshape(-1, n * n)
    else:
        zf = np.broadcast_to(np.asarray(z, dtype=complex), shape).reshape(-1)
        _, out, back = cell_blocks(zf, np.zeros((n, n)), hopping, s00, s01)
        lhs = _linearisation(g, g, out, back)
        src = np.eye(n) if s00 is None else s00
        if s01 is not None:
            src = src + s01 @ g @ back + out @ g @ s01.conj().T
        rhs = -(g @ src @ g).reshape(-1, n * n)
    x = np.linalg.solve(lhs, rhs[..., None])[..., 0]
    return x.reshape(shape + (n, n))
