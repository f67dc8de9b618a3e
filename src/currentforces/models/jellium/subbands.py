"""Subbands of the square jellium wire and the local sums over them.

The transverse states ``chi_nm`` (hard walls, side ``S``), their edges
``epsilon_t (n^2 + m^2)``, the rule for an edge at the Fermi energy (the
package docstring, :mod:`currentforces.models.jellium`), the weighted sums
``sum_nm W_nm chi_nm^2(R)`` from which every local quantity is built, and
the two local quantities of the small-bias, T = 0 limit: the local density
of states ``nu(R)`` and the particle current density ``j_z(R)`` (with their
bulk values).

Units: energies eV, lengths Angstrom, time fs, mass eV fs^2/Angstrom^2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..._checks import check_number
from ...errors import InputError, SubbandEdgeError  # re-exported: its old home
from ...integrate import THERMAL_CUTOFF
from ...units import HBAR, M_ELECTRON

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ..._checks import ArrayLike

__all__ = [
    "EDGE_RTOL",
    "FERMI_TAIL_KT",
    "SubbandEdgeError",
    "fermi_wavevector",
    "transverse_energy",
    "open_subbands",
    "local_dos",
    "current_density",
    "bulk_local_dos",
    "bulk_current_density",
]

EDGE_RTOL = 1e-12
"""Relative distance to ``E_F`` below which a subband edge counts as *at* ``E_F``."""

FERMI_TAIL_KT = THERMAL_CUTOFF
"""Fermi-function tails are cut at this many ``k_B T`` (neglected weight ~e^-40);
the cut of every energy window in the package
(:data:`currentforces.integrate.THERMAL_CUTOFF`)."""

_CHUNK = 8192


# --------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------
def _positions(side, x, y, unit):
    """Broadcast ``x, y`` and check ``0 <= x, y <= side``."""
    try:
        xa = np.asarray(x, dtype=float)
        ya = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise InputError("x and y must be numeric arrays") from None
    for name, a in (("x", xa), ("y", ya)):
        if not np.all(np.isfinite(a)):
            raise InputError(f"{name} contains NaN or inf")
        if a.size and (a.min() < 0 or a.max() > side):
            raise InputError(
                f"{name} must lie in [0, side] = [0, {side:g}] {unit}; got values in [{a.min():g}, {a.max():g}]"
            )
    try:
        xb, yb = np.broadcast_arrays(xa, ya)
    except ValueError:
        raise InputError(f"x (shape {xa.shape}) and y (shape {ya.shape}) do not broadcast") from None
    return xb, yb


def _wire_args(side, x, y, fermi_energy, bias, mass, unit="Angstrom"):
    """Checked ``(S, E_F, eV, m, x, y)`` of a wire at bias (positions broadcast)."""
    s = check_number("side", side, unit, positive=True)
    ef = check_number("fermi_energy", fermi_energy, "eV", positive=True)
    ev = check_number("bias", bias, "V")
    m = check_number("mass", mass, "eV fs^2/Angstrom^2", positive=True)
    xb, yb = _positions(s, x, y, unit)
    return s, ef, ev, m, xb, yb


# --------------------------------------------------------------------------
# subbands and transverse mode sums
# --------------------------------------------------------------------------
def fermi_wavevector(fermi_energy: float, mass: float = M_ELECTRON) -> float:
    """Fermi wavevector ``k_F = sqrt(2 m E_F) / hbar`` in 1/Angstrom.

    Parameters
    ----------
    fermi_energy : float
        ``E_F`` in eV, measured from the bottom of the free-electron band.
    mass : float
        Electron mass in eV fs^2/Angstrom^2.
    """
    ef = check_number("fermi_energy", fermi_energy, "eV", positive=True)
    m = check_number("mass", mass, "eV fs^2/Angstrom^2", positive=True)
    return np.sqrt(2.0 * m * ef) / HBAR


def transverse_energy(side: float, mass: float = M_ELECTRON) -> float:
    """Transverse energy scale ``epsilon_t = hbar^2 pi^2 / (2 m S^2)`` in eV.

    Subband ``(n, m)`` has its edge at ``epsilon_t (n^2 + m^2)`` (seed IV.C).
    ``side`` in Angstrom, ``mass`` in eV fs^2/Angstrom^2.
    """
    s = check_number("side", side, "Angstrom", positive=True)
    m = check_number("mass", mass, "eV fs^2/Angstrom^2", positive=True)
    return (HBAR * np.pi / s) ** 2 / (2.0 * m)


def _edge_indices(nmax):
    n = np.arange(1, nmax + 1)
    return n[:, None] ** 2 + n[None, :] ** 2  # (nmax, nmax)


def _open_mask(ratio_max):
    """Mask of subbands with ``n^2 + m^2 < ratio_max`` strictly (edge rule).

    ``ratio_max = E / epsilon_t``; an edge within ``EDGE_RTOL`` (relative) of
    ``E`` counts as at ``E`` and is excluded.
    """
    nmax = max(int(np.floor(np.sqrt(max(ratio_max - 1.0, 0.0)))), 1)
    n2m2 = _edge_indices(nmax)
    return n2m2 < ratio_max * (1.0 - EDGE_RTOL), n2m2


def open_subbands(
    side: float, fermi_energy: float, mass: float = M_ELECTRON
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Open subbands at ``E_F`` and their longitudinal wavevectors.

    A subband is open when its edge is strictly below ``E_F`` (module
    docstring: subbands exactly at ``E_F`` are excluded).

    Parameters
    ----------
    side : float
        ``S`` in Angstrom.
    fermi_energy : float
        ``E_F`` in eV.
    mass : float
        eV fs^2/Angstrom^2.

    Returns
    -------
    n, m : ndarray of int
        Transverse quantum numbers of the open subbands.
    k : ndarray
        ``k_nm = sqrt(k_F^2 - pi^2 (n^2 + m^2) / S^2)`` in 1/Angstrom.
    """
    et = transverse_energy(side, mass)
    ef = check_number("fermi_energy", fermi_energy, "eV", positive=True)
    mask, n2m2 = _open_mask(ef / et)
    idx = np.nonzero(mask)
    k = np.sqrt(2.0 * mass * (ef - et * n2m2[idx])) / HBAR
    return idx[0] + 1, idx[1] + 1, k


def _sin2(side, u, n):
    return np.sin(np.pi * np.outer(u, n) / side) ** 2


def _dsin2(side, u, n):
    return (np.pi * n / side)[None, :] * np.sin(2.0 * np.pi * np.outer(u, n) / side)


def _mode_sums(side, xb, yb, weights, deriv=None):
    """``(4/S^2) sum_nm W_nm s_n(x) s_m(y)`` for broadcast points.

    ``weights`` has shape ``(K, N, N)`` (K weight sets, indices ``n, m =
    1..N``).  ``deriv`` in {None, "x", "y"} replaces ``sin^2`` by its
    derivative along that axis.  Evaluated on the unique ``x`` and ``y``
    values (a grid costs ``O(N_x N^2 + N_x N_y N)``), chunked over points.
    Returns shape ``(K,) + xb.shape``.
    """
    w = np.asarray(weights, dtype=float)
    nk, nn, nm = w.shape
    n = np.arange(1, nn + 1)
    m = np.arange(1, nm + 1)
    ux, ix = np.unique(xb.ravel(), return_inverse=True)
    uy, iy = np.unique(yb.ravel(), return_inverse=True)
    fx = (_dsin2 if deriv == "x" else _sin2)(side, ux, n)  # (Ux, N)
    fy = (_dsin2 if deriv == "y" else _sin2)(side, uy, m)  # (Uy, M)
    t = np.einsum("un,knm->kum", fx, w)  # (K, Ux, M)
    out = np.empty((nk, ix.size))
    for start in range(0, ix.size, _CHUNK):
        sl = slice(start, start + _CHUNK)
        out[:, sl] = np.einsum("kpm,pm->kp", t[:, ix[sl], :], fy[iy[sl], :])
    return (4.0 / side**2) * out.reshape((nk,) + xb.shape)


def _open_weights(side, fermi_energy, mass):
    """(N, N) weight matrices: ``1/k_nm`` and ``1`` on open subbands."""
    et = transverse_energy(side, mass)
    mask, n2m2 = _open_mask(fermi_energy / et)
    kk = np.sqrt(2.0 * mass * np.clip(fermi_energy - et * n2m2, 0.0, None)) / HBAR
    inv_k = np.where(mask, 1.0 / np.where(mask, kk, 1.0), 0.0)
    return inv_k, mask.astype(float)


def _check_edges(et, lo, hi, what):
    """Raise SubbandEdgeError if a subband edge lies in ``[lo, hi]`` (eV)."""
    nmax = int(np.floor(np.sqrt(max(hi / et, 2.0)))) + 1
    n2m2 = _edge_indices(nmax)
    edges = et * n2m2
    bad = np.nonzero((edges >= lo) & (edges <= hi))
    if bad[0].size:
        pairs = [(int(a) + 1, int(b) + 1) for a, b in zip(*bad)]
        energies = [float(edges[a, b]) for a, b in zip(*bad)]
        shown = ", ".join(f"(n, m) = {p} at {e:.6g} eV" for p, e in list(zip(pairs, energies))[:4])
        raise SubbandEdgeError(
            f"subband edge(s) inside the {what} [{lo:.6g}, {hi:.6g}] eV: {shown}"
            f"{' ...' if len(pairs) > 4 else ''}; the 1D density of states diverges there. "
            "Change side, fermi_energy, bias or hbar_omega so that no edge falls in the window.",
            pairs,
            energies,
        )


# --------------------------------------------------------------------------
# small-bias, small-frequency, T = 0 closed form: L = nu j
# --------------------------------------------------------------------------
def local_dos(side: float, x: ArrayLike, y: ArrayLike, fermi_energy: float, mass: float = M_ELECTRON) -> NDArray[Any]:
    """Local density of states at ``E_F`` per spin, ``nu(R)`` in 1/(eV Angstrom^3).

    .. math:: \\nu(\\mathbf R) = \\frac{m}{\\pi\\hbar^2}\\sum_{\\rm open}
              \\frac{\\chi_{nm}^2(\\mathbf R)}{k_{nm}}

    (:eq:`eq-nu-j`; subbands exactly at ``E_F`` excluded).

    Parameters
    ----------
    side : float
        ``S`` in Angstrom.
    x, y : array_like
        Position in the cross-section in Angstrom, ``0 <= x, y <= S``;
        broadcast against each other.
    fermi_energy : float
        eV.
    mass : float
        eV fs^2/Angstrom^2.
    """
    s = check_number("side", side, "Angstrom", positive=True)
    ef = check_number("fermi_energy", fermi_energy, "eV", positive=True)
    xb, yb = _positions(s, x, y, "Angstrom")
    inv_k, _ = _open_weights(s, ef, mass)
    return mass / (np.pi * HBAR**2) * _mode_sums(s, xb, yb, inv_k[None])[0]


def current_density(
    side: float, x: ArrayLike, y: ArrayLike, fermi_energy: float, bias: float, mass: float = M_ELECTRON
) -> NDArray[Any]:
    """Particle current density ``j_z(R)`` per spin in 1/(Angstrom^2 fs), T = 0, small bias.

    .. math:: j_z(\\mathbf R) = \\frac{eV}{2\\pi\\hbar}\\sum_{\\rm open}\\chi_{nm}^2(\\mathbf R)

    Each open channel carries ``eV / (2 pi hbar)`` electrons per fs
    (Landauer, unit transmission).  ``bias`` in V; other arguments as in
    :func:`local_dos`.
    """
    s = check_number("side", side, "Angstrom", positive=True)
    ef = check_number("fermi_energy", fermi_energy, "eV", positive=True)
    ev = check_number("bias", bias, "V")
    xb, yb = _positions(s, x, y, "Angstrom")
    _, one = _open_weights(s, ef, mass)
    return ev / (2.0 * np.pi * HBAR) * _mode_sums(s, xb, yb, one[None])[0]


def bulk_local_dos(fermi_energy: float, mass: float = M_ELECTRON) -> float:
    """Bulk free-electron DOS per spin ``nu_b = m k_F / (2 pi^2 hbar^2)`` in 1/(eV Angstrom^3)."""
    kf = fermi_wavevector(fermi_energy, mass)
    return mass * kf / (2.0 * np.pi**2 * HBAR**2)


def bulk_current_density(fermi_energy: float, bias: float, mass: float = M_ELECTRON) -> float:
    """Bulk (Sharvin) particle current density per spin, ``eV k_F^2 / (8 pi^2 hbar)``.

    The current per area of a wide ballistic wire, in 1/(Angstrom^2 fs)
    (:eq:`eq-nu-j`).  ``bias`` in V.
    """
    kf = fermi_wavevector(fermi_energy, mass)
    ev = check_number("bias", bias, "V")
    return ev * kf**2 / (8.0 * np.pi**2 * HBAR)
