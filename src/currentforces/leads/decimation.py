r"""Lopez-Sancho decimation: the surface Green's function of a periodic lead.

M. P. Lopez Sancho, J. M. Lopez Sancho and J. Rubio, J. Phys. F 15, 851
(1985).  Each step eliminates every other cell of the stack, which doubles
the number of cells eliminated; the renormalised hoppings shrink like
exp(-2^k eta / bandwidth) at broadening eta = Im z, so the iteration
converges in about log2(bandwidth/eta) steps, at every energy, for cells of
any size and singular hopping matrices (:ref:`theory-periodic-lead`).

Geometry: ``onsite`` = H_00 of a cell, ``hopping`` = H_01 from a cell to the
next one away from the device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import LeadConvergenceError
from .newton import cell_blocks

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._checks import ComplexArray


__all__ = ["decimate", "MAX_ITER"]

MAX_ITER = 200
"""Decimation steps before :class:`~currentforces.errors.LeadConvergenceError`:
2^200 cells, far beyond any broadening a double can hold."""


def decimate(
    z: NDArray[Any],
    onsite: NDArray[Any],
    hopping: NDArray[Any],
    tol: float,
    scale: float,
    max_iter: int = MAX_ITER,
    s00: NDArray[Any] | None = None,
    s01: NDArray[Any] | None = None,
) -> ComplexArray:
    r"""Surface Green's function g of cell 1 at complex energies, by decimation (1/eV).

    The renormalised on-site blocks eps (bulk) and eps_s (surface) and the
    hoppings alpha (away from the device) and beta (towards it) follow

    .. math::

        g_k = (z - \epsilon_k)^{-1}, \quad
        \epsilon^s_{k+1} = \epsilon^s_k + \alpha_k g_k \beta_k, \quad
        \epsilon_{k+1} = \epsilon_k + \alpha_k g_k \beta_k + \beta_k g_k \alpha_k,

        \alpha_{k+1} = \alpha_k g_k \alpha_k, \quad
        \beta_{k+1} = \beta_k g_k \beta_k,

    from alpha_0 = H_01, beta_0 = H_01^dagger, eps_0 = eps^s_0 = H_00, until
    ``max(abs(alpha), abs(beta)) < tol * scale``; then g = (z - eps^s)^{-1}.
    In a non-orthogonal basis (``s00``, ``s01``) the same recursion runs on
    the pencil: z -> z S_00, alpha_0 = H_01 - z S_01, beta_0 = H_10 - z S_10
    (:func:`~currentforces.leads.newton.cell_blocks`).

    Parameters
    ----------
    z : (nz,) complex ndarray
        Energies in eV with Im z > 0 (the broadening eta).
    onsite, hopping : (n, n) complex ndarray
        H_00 and H_01 of the lead cell, eV.
    tol : float
        Convergence threshold relative to ``scale``.
    scale : float
        Energy scale of the lead (largest entry of H_00, H_01), eV.
    max_iter : int
        Number of steps before giving up.

    Returns
    -------
    (nz, n, n) complex ndarray

    Raises
    ------
    LeadConvergenceError
        Not converged in ``max_iter`` steps; names the energy, ``tol`` and
        the broadening eta = Im z.
    """
    n = onsite.shape[0]
    z_eye, alpha, beta = cell_blocks(z, np.zeros((n, n)), hopping, s00, s01)
    alpha, beta = alpha.copy(), beta.copy()  # towards the far end, towards the device
    eps_s = np.broadcast_to(onsite, (z.size, n, n)).copy()
    eps = eps_s.copy()
    active = np.ones(z.size, dtype=bool)
    for _ in range(max_iter):
        g = np.linalg.inv(z_eye[active] - eps[active])
        a, b = alpha[active], beta[active]
        ag, bg = a @ g, b @ g
        agb = ag @ b
        eps_s[active] += agb
        eps[active] += agb + bg @ a
        alpha[active] = ag @ a
        beta[active] = bg @ b
        size = np.maximum(np.abs(alpha[active]).max(axis=(1, 2)), np.abs(beta[active]).max(axis=(1, 2)))
        idx = np.flatnonzero(active)
        active[idx[size < tol * scale]] = False
        if not active.any():
            break
    else:
        bad = complex(z[active][0])
        raise LeadConvergenceError(
            f"lead decimation did not converge in {max_iter} iterations at E = {bad.real:.6g} eV with "
            f"broadening eta = {bad.imag:.3g} eV: the renormalised hoppings stayed above tol = {tol:g} times "
            f"the lead's energy scale {scale:.3g} eV (a larger tol or eta converges sooner)",
            energy=bad,
            tol=tol,
            eta=bad.imag,
        )
    return np.linalg.inv(z_eye - eps_s)
