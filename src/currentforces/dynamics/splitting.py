r"""The B A O A B splitting step of the current-driven equation of motion.

.. math::

    \ddot x = a(x, t) + M^{-1} L \dot x ,

where a(x, t) holds every force that depends on the positions and on time
(the bare springs or an interatomic potential, -K X, F^(0) and the
coloured noise xi(t), divided by the masses) and L is the velocity matrix
(friction -L^sym and Berry force L^asym; seed eq. 14).  One step of length
dt is the symmetric splitting

* B: v += (dt/2) a(x_n, t_n)
* A: x += (dt/2) v
* O: v <- exp(dt M^-1 L) v, the exact flow of v' = M^-1 L v (stable for
  any dt, also for a non-symmetric L)
* A: x += (dt/2) v
* B: v += (dt/2) a(x_{n+1}, t_{n+1})

(BAOAB-like, with the noise as a force in the kicks because it is
coloured).  Without L it is velocity Verlet.  Both
:class:`~currentforces.dynamics.LangevinDynamics` and the ASE adaptor
:class:`~currentforces.dynamics.ase_md.CurrentInducedLangevin` step with
:func:`baoab_step`; they differ only in where a(x, t) comes from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from .._checks import ArrayLike, Indices, RealArray

__all__ = ["velocity_propagator", "baoab_step"]


def velocity_propagator(masses: ArrayLike, L: ArrayLike, timestep: float) -> RealArray:
    """exp(dt M^-1 L): the O-step, the exact flow of v' = M^-1 L v over dt.

    Parameters
    ----------
    masses : array_like, shape (n,)
        Masses of the degrees of freedom L acts on.
    L : array_like, shape (n, n)
        Velocity matrix, F = L v.
    timestep : float
        dt.

    Any consistent units (amu, eV, Angstrom with fs and L in
    eV*fs/Angstrom^2 after converting masses to eV*fs^2/Angstrom^2, or
    ASE's own units); dt M^-1 L must be dimensionless.
    """
    minv = 1.0 / np.asarray(masses, dtype=float)
    return scipy.linalg.expm(timestep * np.asarray(L, dtype=float) * minv[:, None])


def baoab_step(
    x: NDArray[Any],
    v: NDArray[Any],
    a: NDArray[Any],
    acceleration: Callable[[NDArray[Any]], NDArray[Any]],
    timestep: float,
    propagator: NDArray[Any],
    dofs: Indices | None = None,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """One B A O A B step; returns new ``(x, v, a)`` (the inputs are not modified).

    Parameters
    ----------
    x, v : ndarray, shape (..., n)
        Positions and velocities at t_n (any leading axes, e.g. realisations).
    a : ndarray, shape (..., n)
        a(x_n, t_n), the position- and time-dependent acceleration at t_n.
    acceleration : callable
        ``acceleration(x_new)`` -> a(x_{n+1}, t_{n+1}); called once.
    timestep : float
        dt.
    propagator : ndarray, shape (m, m)
        exp(dt M^-1 L) (:func:`velocity_propagator`) acting on the
        velocities ``v[..., dofs]``.
    dofs : array of int, optional
        The degrees of freedom L acts on (default: all, m = n).

    Returns
    -------
    x, v, a : ndarray
        State at t_{n+1} and a(x_{n+1}, t_{n+1}) for the next step.
    """
    half = 0.5 * timestep
    v = v + half * a
    x = x + half * v
    if dofs is None:
        v = v @ propagator.T
    else:
        v[..., dofs] = v[..., dofs] @ propagator.T
    x = x + half * v
    a = acceleration(x)
    v = v + half * a
    return x, v, a
