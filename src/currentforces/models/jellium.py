"""Free-electron jellium wire with a square cross-section (seed sec. III.B, IV.C).

A weak test scatterer ``v = C delta(r - R)`` sits at ``R = (x, y)`` inside an
infinitely long free-electron wire of square cross-section ``0 <= x, y <= S``
(hard walls) that carries a current along ``+z``.  The electron states are
(seed eq. 39)

.. math::

    \\psi_{knm}(\\mathbf r) = \\frac{e^{ikz}}{\\sqrt l}\\chi_{nm}(x, y), \\qquad
    \\chi_{nm} = \\frac 2S \\sin\\frac{n\\pi x}{S}\\sin\\frac{m\\pi y}{S}, \\qquad
    \\epsilon_{knm} = \\frac{\\hbar^2k^2}{2m} + \\epsilon_t (n^2 + m^2),

with ``epsilon_t = hbar^2 pi^2 / (2 m S^2)``.  States with ``k > 0`` are
filled from lead 1 (chemical potential ``mu_1 = E_F + eV/2``), states with
``k < 0`` from lead 2 (``mu_2 = E_F - eV/2``), so ``eV = mu_1 - mu_2`` (the
seed's ``eW``) and electrons flow along ``+z`` for ``eV > 0``.  Everything is
per spin (the seed is spinless); multiply ``L`` and the curl by ``g_s = 2``
for spin-degenerate electrons.

What is computed
----------------
* the field ``L(R)`` of seed eq. (38), directly at finite ``(hbar omega_0,
  eV, T)`` (:func:`nonconservative_field_direct`) and in its small-bias,
  small-frequency, T = 0 closed form ``L = nu(R, E_F) j(R) e_z``
  (:func:`nonconservative_field`, :eq:`eq-nu-j`);
* the curl of the non-conservative force, seed eq. (37),
  ``curl F = (2 pi m C^2 / hbar) curl L`` (:func:`curl_nonconservative_force`)
  and its dimensionless form in units of ``k_F F_w^bulk``
  (:func:`curl_nonconservative`, Figs 5 and 6);
* the vector potential of the Berry ("Lorentz") force, seed eq. (50) by
  numerical principal-value integration (:func:`vector_potential_numerical`)
  and seed eq. (51) in closed form (:func:`vector_potential`), plus the
  linear-response (``eV -> 0``) form of eq. (51).

Subbands at the Fermi energy (documented choice)
------------------------------------------------
With ``epsilon_F / epsilon_t = (2 S / lambda_F)^2`` the paper's sizes
``S = 10`` and ``20 lambda_F`` put the subbands with ``n^2 + m^2 = 400``
(resp. 1600), e.g. ``(n, m) = (12, 16)``, *exactly* at ``E_F``: their 1D
density of states ``1/k`` diverges there and ``nu(R, E_F)`` is undefined.
In the small-bias closed forms we count a subband as open only if its edge
lies **strictly** below ``E_F``, ``n^2 + m^2 < (2 S / lambda_F)^2``; an edge
within a relative ``EDGE_RTOL`` of ``E_F`` counts as "at ``E_F``" and is
excluded.  This is the limit ``E_F -> E_F - 0``, in line with the seed's
assumption that no subband edge lies inside the bias window.  The
finite-bias routines (:func:`nonconservative_field_direct`,
:func:`vector_potential`, :func:`vector_potential_numerical`) never make
this choice silently: a subband edge inside the energy range that they
integrate over raises :class:`SubbandEdgeError` naming the subband.

Units: energies eV, lengths Angstrom, time fs, mass eV fs^2/Angstrom^2
(``units.M_ELECTRON``), temperature K, bias V (``eV`` in eV), ``C`` in
eV Angstrom^3.  The dimensionless functions take lengths in units of the
Fermi wavelength ``lambda_F`` and energies in units of ``epsilon_F``.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_number
from ..errors import InputError
from ..units import HBAR, KB, M_ELECTRON

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
    "nonconservative_field",
    "nonconservative_field_direct",
    "curl_nonconservative_force",
    "curl_nonconservative",
    "nonconservative_field_dimensionless",
    "bulk_wind_force",
    "principal_value_inverse_quadratic",
    "vector_potential",
    "vector_potential_numerical",
    "vector_potential_linear_response",
    "vector_potential_dimensionless",
]

EDGE_RTOL = 1e-12
"""Relative distance to ``E_F`` below which a subband edge counts as *at* ``E_F``."""

FERMI_TAIL_KT = 40.0
"""Fermi-function tails are cut at this many ``k_B T`` (neglected weight ~e^-40)."""

_CHUNK = 8192


class SubbandEdgeError(InputError):
    """A subband edge lies inside the energy window a formula integrates over.

    The 1D density of states of that subband diverges at its edge, so the
    window-limited closed forms (seed eq. 51 assumes "no subband edges
    within the bias window") do not apply.  Attributes ``subbands`` (list of
    ``(n, m)``) and ``energies`` (eV) name the offending edges.
    """

    def __init__(self, message, subbands=(), energies=()):
        super().__init__(message)
        self.subbands = list(subbands)
        self.energies = list(energies)


# --------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------
def _positive(name, value, unit):
    return check_number(name, value, unit, positive=True)


def _nonnegative(name, value, unit):
    return check_number(name, value, unit, nonnegative=True)


def _finite(name, value, unit):
    return check_number(name, value, unit)


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
                f"{name} must lie in [0, side] = [0, {side:g}] {unit}; "
                f"got values in [{a.min():g}, {a.max():g}]"
            )
    try:
        xb, yb = np.broadcast_arrays(xa, ya)
    except ValueError:
        raise InputError(f"x (shape {xa.shape}) and y (shape {ya.shape}) do not broadcast") from None
    return xb, yb


# --------------------------------------------------------------------------
# subbands and transverse mode sums
# --------------------------------------------------------------------------
def fermi_wavevector(fermi_energy, mass=M_ELECTRON):
    """Fermi wavevector ``k_F = sqrt(2 m E_F) / hbar`` in 1/Angstrom.

    Parameters
    ----------
    fermi_energy : float
        ``E_F`` in eV, measured from the bottom of the free-electron band.
    mass : float
        Electron mass in eV fs^2/Angstrom^2.
    """
    ef = _positive("fermi_energy", fermi_energy, "eV")
    m = _positive("mass", mass, "eV fs^2/Angstrom^2")
    return np.sqrt(2.0 * m * ef) / HBAR


def transverse_energy(side, mass=M_ELECTRON):
    """Transverse energy scale ``epsilon_t = hbar^2 pi^2 / (2 m S^2)`` in eV.

    Subband ``(n, m)`` has its edge at ``epsilon_t (n^2 + m^2)`` (seed IV.C).
    ``side`` in Angstrom, ``mass`` in eV fs^2/Angstrom^2.
    """
    s = _positive("side", side, "Angstrom")
    m = _positive("mass", mass, "eV fs^2/Angstrom^2")
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


def open_subbands(side, fermi_energy, mass=M_ELECTRON):
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
    ef = _positive("fermi_energy", fermi_energy, "eV")
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


# --------------------------------------------------------------------------
# small-bias, small-frequency, T = 0 closed form: L = nu j
# --------------------------------------------------------------------------
def local_dos(side, x, y, fermi_energy, mass=M_ELECTRON):
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
    s = _positive("side", side, "Angstrom")
    ef = _positive("fermi_energy", fermi_energy, "eV")
    xb, yb = _positions(s, x, y, "Angstrom")
    inv_k, _ = _open_weights(s, ef, mass)
    return mass / (np.pi * HBAR**2) * _mode_sums(s, xb, yb, inv_k[None])[0]


def current_density(side, x, y, fermi_energy, bias, mass=M_ELECTRON):
    """Particle current density ``j_z(R)`` per spin in 1/(Angstrom^2 fs), T = 0, small bias.

    .. math:: j_z(\\mathbf R) = \\frac{eV}{2\\pi\\hbar}\\sum_{\\rm open}\\chi_{nm}^2(\\mathbf R)

    Each open channel carries ``eV / (2 pi hbar)`` electrons per fs
    (Landauer, unit transmission).  ``bias`` in V; other arguments as in
    :func:`local_dos`.
    """
    s = _positive("side", side, "Angstrom")
    ef = _positive("fermi_energy", fermi_energy, "eV")
    ev = _finite("bias", bias, "V")
    xb, yb = _positions(s, x, y, "Angstrom")
    _, one = _open_weights(s, ef, mass)
    return ev / (2.0 * np.pi * HBAR) * _mode_sums(s, xb, yb, one[None])[0]


def bulk_local_dos(fermi_energy, mass=M_ELECTRON):
    """Bulk free-electron DOS per spin ``nu_b = m k_F / (2 pi^2 hbar^2)`` in 1/(eV Angstrom^3)."""
    kf = fermi_wavevector(fermi_energy, mass)
    return mass * kf / (2.0 * np.pi**2 * HBAR**2)


def bulk_current_density(fermi_energy, bias, mass=M_ELECTRON):
    """Bulk (Sharvin) particle current density per spin, ``eV k_F^2 / (8 pi^2 hbar)``.

    The current per area of a wide ballistic wire, in 1/(Angstrom^2 fs)
    (:eq:`eq-nu-j`).  ``bias`` in V.
    """
    kf = fermi_wavevector(fermi_energy, mass)
    ev = _finite("bias", bias, "V")
    return ev * kf**2 / (8.0 * np.pi**2 * HBAR)


def nonconservative_field(side, x, y, fermi_energy, bias, mass=M_ELECTRON):
    """``L_z(R) = nu(R, E_F) j_z(R)``: seed eq. (38) for small bias and frequency, T = 0.

    In 1/(eV Angstrom^5 fs), per spin.  ``L`` points along ``+z`` (the wire
    axis).  Arguments as in :func:`current_density`.
    """
    return local_dos(side, x, y, fermi_energy, mass) * current_density(
        side, x, y, fermi_energy, bias, mass
    )


def _fermi(e, mu, kt):
    if kt == 0.0:
        return np.where(e < mu, 1.0, np.where(e > mu, 0.0, 0.5))
    return 0.5 * (1.0 - np.tanh((e - mu) / (2.0 * kt)))


def _gauss_legendre(breaks, nodes):
    """Gauss-Legendre nodes and weights on consecutive intervals of ``breaks``."""
    xg, wg = np.polynomial.legendre.leggauss(nodes)
    xs, ws = [], []
    for a, b in zip(breaks[:-1], breaks[1:]):
        if b > a:
            xs.append(0.5 * (b - a) * xg + 0.5 * (a + b))
            ws.append(0.5 * (b - a) * wg)
    return np.concatenate(xs), np.concatenate(ws)


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


def nonconservative_field_direct(
    side, x, y, fermi_energy, bias, hbar_omega, temperature=0.0, mass=M_ELECTRON, nodes=48
):
    """Seed eq. (38) evaluated directly at finite ``(hbar omega_0, eV, T)``.

    .. math::

        \\mathbf L(\\mathbf R) = \\frac12\\sum_{p,q}(\\rho_p\\mathbf J_q -
        \\rho_q\\mathbf J_p)\\,[n_F(\\epsilon_q-\\mu_q) - n_F(\\epsilon_p-\\mu_p)]
        \\,\\delta(\\hbar\\omega_0 - \\epsilon_q + \\epsilon_p)

    with the states of seed eq. (39): ``rho_p = chi_c^2 / l`` and
    ``J_p = (hbar k_p / m) chi_c^2 / l e_z`` for ``p = (k_p, c)``.  Replacing
    ``sum_k -> (l / 2 pi) int dk = (l / 2 pi) sum_(s = +-) int d eps m /
    (hbar^2 |k|)`` and doing the ``epsilon_q`` integral with the delta
    function gives, with ``eps' = eps + hbar omega_0``,

    .. math::

        L_z = \\frac{m}{8\\pi^2\\hbar^3}\\int d\\epsilon \\sum_{s_p, s_q = \\pm}
        [s_q\\,\\mathcal A(\\epsilon)\\mathcal B(\\epsilon') -
         s_p\\,\\mathcal B(\\epsilon)\\mathcal A(\\epsilon')]\\,
        [n_{s_q}(\\epsilon') - n_{s_p}(\\epsilon)],

    ``A(eps) = sum_c chi_c^2 theta(eps - E_c) / k_c(eps)``, ``B(eps) =
    sum_c chi_c^2 theta(eps - E_c)``, ``n_+ = n_F(. - mu_1)``,
    ``n_- = n_F(. - mu_2)``.  The energy integral runs over the support of
    the occupation differences (the bias window widened by ``hbar omega_0``
    and by ``FERMI_TAIL_KT k_B T``) with piecewise Gauss-Legendre
    quadrature split at ``mu_s`` and ``mu_s - hbar omega_0``.

    Parameters
    ----------
    side : float
        ``S`` in Angstrom.
    x, y : array_like
        Positions in Angstrom, ``0 <= x, y <= S``, broadcast together.
    fermi_energy : float
        ``E_F`` in eV; ``mu_(1,2) = E_F +- eV/2``.
    bias : float
        ``V`` in volt (``eV = mu_1 - mu_2``).
    hbar_omega : float
        ``hbar omega_0`` in eV, ``>= 0``.
    temperature : float
        K, ``>= 0``.
    mass : float
        eV fs^2/Angstrom^2.
    nodes : int
        Gauss-Legendre nodes per sub-interval.

    Returns
    -------
    ndarray
        ``L_z(R)`` in 1/(eV Angstrom^5 fs), per spin, shape of the broadcast
        positions.  Memory grows as (number of energy nodes) x (points):
        for maps use the closed form :func:`nonconservative_field`.

    Raises
    ------
    SubbandEdgeError
        If a subband edge lies in the energy range
        ``[min mu - hbar omega_0 - tail, max mu + hbar omega_0 + tail]``.
    """
    s = _positive("side", side, "Angstrom")
    ef = _positive("fermi_energy", fermi_energy, "eV")
    ev = _finite("bias", bias, "V")
    hw = _nonnegative("hbar_omega", hbar_omega, "eV")
    temp = _nonnegative("temperature", temperature, "K")
    m_ = _positive("mass", mass, "eV fs^2/Angstrom^2")
    xb, yb = _positions(s, x, y, "Angstrom")
    kt = KB * temp
    mu1, mu2 = ef + 0.5 * ev, ef - 0.5 * ev
    tail = FERMI_TAIL_KT * kt
    lo, hi = min(mu1, mu2) - tail, max(mu1, mu2) + tail
    et = transverse_energy(s, m_)
    _check_edges(et, lo - hw, hi + hw, "energy window of eq. (38) (bias window +- hbar_omega +- tails)")
    if hi - hw <= 0.0 or lo - hw <= 0.0:
        raise InputError("the bias window (widened by hbar_omega and thermal tails) reaches below the band bottom")

    breaks = np.unique(np.clip([lo - hw, mu1 - hw, mu2 - hw, mu1, mu2, hi], lo - hw, hi))
    eps, wts = _gauss_legendre(breaks, int(nodes))

    def channel_weights(e):
        _, n2m2 = _open_mask(float(np.max(e)) / et)
        n2m2 = n2m2.astype(float)
        ke = np.sqrt(2.0 * m_ * np.clip(e[:, None, None] - et * n2m2[None], 0.0, None)) / HBAR
        is_open = e[:, None, None] > et * n2m2[None]
        a_w = np.where(is_open, 1.0 / np.where(is_open, ke, 1.0), 0.0)
        return a_w, is_open.astype(float)

    a_p, b_p = channel_weights(eps)
    a_q, b_q = channel_weights(eps + hw)
    nmax = max(a_p.shape[1], a_q.shape[1])

    def pad(w):
        out = np.zeros((w.shape[0], nmax, nmax))
        out[:, : w.shape[1], : w.shape[2]] = w
        return out

    a_p, b_p, a_q, b_q = (_mode_sums(s, xb, yb, pad(w)) for w in (a_p, b_p, a_q, b_q))
    occ = {+1: (_fermi(eps, mu1, kt), _fermi(eps + hw, mu1, kt)),
           -1: (_fermi(eps, mu2, kt), _fermi(eps + hw, mu2, kt))}
    extra = (slice(None),) + (None,) * xb.ndim
    integrand = np.zeros_like(a_p)
    for sp in (+1, -1):
        for sq in (+1, -1):
            dn = (occ[sq][1] - occ[sp][0])[extra]
            integrand += (sq * a_p * b_q - sp * b_p * a_q) * dn
    return m_ / (8.0 * np.pi**2 * HBAR**3) * np.tensordot(wts, integrand, axes=(0, 0))


# --------------------------------------------------------------------------
# curl of the non-conservative force, seed eq. (37)
# --------------------------------------------------------------------------
def _gradient_nu_j(s, xb, yb, ef, mass):
    """Sums ``a = sum chi^2/k``, ``b = sum chi^2`` and their x, y derivatives."""
    inv_k, one = _open_weights(s, ef, mass)
    w = np.stack([inv_k, one])
    val = _mode_sums(s, xb, yb, w)
    dx = _mode_sums(s, xb, yb, w, deriv="x")
    dy = _mode_sums(s, xb, yb, w, deriv="y")
    return val, dx, dy


def curl_nonconservative_force(side, x, y, fermi_energy, bias, coupling, mass=M_ELECTRON):
    """Curl of the non-conservative force on the test scatterer, seed eq. (37).

    .. math:: \\nabla_R\\times\\mathbf F = \\frac{2\\pi m C^2}{\\hbar}\\nabla_R\\times
              (\\nu j_z\\,\\mathbf e_z) = \\frac{2\\pi m C^2}{\\hbar}
              (\\partial_y L_z, -\\partial_x L_z, 0)

    in the small-bias, small-frequency, T = 0 limit (``L = nu j``), per spin.

    Parameters
    ----------
    side, x, y, fermi_energy, bias, mass
        As in :func:`nonconservative_field` (Angstrom, eV, V, eV fs^2/A^2).
    coupling : float
        ``C`` of ``v = C delta(r - R)`` in eV Angstrom^3.

    Returns
    -------
    ndarray, shape ``(..., 2)``
        ``(x, y)`` components of the curl in eV/Angstrom^2 (the z component
        vanishes).
    """
    s = _positive("side", side, "Angstrom")
    ef = _positive("fermi_energy", fermi_energy, "eV")
    ev = _finite("bias", bias, "V")
    c = _finite("coupling", coupling, "eV Angstrom^3")
    xb, yb = _positions(s, x, y, "Angstrom")
    (a, b), (ax, bx), (ay, by) = _gradient_nu_j(s, xb, yb, ef, mass)
    pref = (2.0 * np.pi * mass * c**2 / HBAR) * (mass / (np.pi * HBAR**2)) * (ev / (2.0 * np.pi * HBAR))
    return np.stack([pref * (ay * b + a * by), -pref * (ax * b + a * bx)], axis=-1)


def bulk_wind_force(fermi_energy, bias, coupling, mass=M_ELECTRON):
    """Bulk wind force ``F_w = sigma_tr p_F j_b`` per spin, in eV/Angstrom (seed eq. 1).

    ``sigma_tr = m^2 C^2 / (pi hbar^4)`` (Born, :eq:`eq-born`), ``p_F =
    hbar k_F`` and ``j_b`` the Sharvin current density
    (:func:`bulk_current_density`).  ``coupling`` ``C`` in eV Angstrom^3.
    """
    c = _finite("coupling", coupling, "eV Angstrom^3")
    sigma = mass**2 * c**2 / (np.pi * HBAR**4)
    return sigma * HBAR * fermi_wavevector(fermi_energy, mass) * bulk_current_density(
        fermi_energy, bias, mass
    )


def _dimensionless_weights(s):
    kf = 2.0 * np.pi  # lambda_F = 1
    mask, n2m2 = _open_mask((2.0 * s) ** 2)
    k = kf * np.sqrt(np.clip(1.0 - n2m2 / (2.0 * s) ** 2, 0.0, None))
    inv_k = np.where(mask, 1.0 / np.where(mask, k, 1.0), 0.0)
    return kf, np.stack([inv_k, mask.astype(float)])


def nonconservative_field_dimensionless(side, x, y):
    r"""``ell(R) = L_z / (nu_b j_b)``: the field of eq. (38) in units of its bulk value.

    .. math:: \ell = \Big[\frac{2\pi}{k_F}\sum\frac{\chi^2_{nm}}{k_{nm}}\Big]
              \Big[\frac{4\pi}{k_F^2}\sum\chi^2_{nm}\Big]

    small-bias, small-frequency, T = 0 (:eq:`eq-curl-dimensionless`), subbands exactly at
    ``E_F`` excluded.  ``side``, ``x``, ``y`` in units of ``lambda_F``
    (``0 <= x, y <= S``, broadcast); dimensionless result, ``-> 1`` on
    average deep inside a wide wire.
    """
    s = _positive("side", side, "lambda_F")
    xb, yb = _positions(s, x, y, "lambda_F")
    kf, w = _dimensionless_weights(s)
    a, b = _mode_sums(s, xb, yb, w)
    return (2.0 * np.pi / kf) * a * (4.0 * np.pi / kf**2) * b


def curl_nonconservative(side, x, y):
    """Dimensionless curl of the non-conservative force (Figs 5 and 6).

    Small-bias, small-frequency, T = 0 limit, in units of ``k_F`` times the
    bulk wind force ``F_w^bulk = sigma_tr p_F j_b`` (:eq:`eq-curl-dimensionless`):

    .. math::

        \\frac{\\nabla\\times\\mathbf F}{k_F F_w^{\\rm bulk}} =
        \\frac{(\\partial_y\\ell, -\\partial_x\\ell)}{k_F}, \\qquad
        \\ell = \\frac{\\nu j}{\\nu_b j_b} =
        \\Big[\\frac{2\\pi}{k_F}\\sum\\frac{\\chi^2_{nm}}{k_{nm}}\\Big]
        \\Big[\\frac{4\\pi}{k_F^2}\\sum\\chi^2_{nm}\\Big],

    sums over subbands with ``n^2 + m^2 < (2 S / lambda_F)^2`` (strict:
    subbands exactly at ``E_F`` are excluded).  Independent of ``C``, the
    bias (linear response) and the spin factor.

    Parameters
    ----------
    side : float
        ``S`` in units of ``lambda_F``.
    x, y : array_like
        Positions in units of ``lambda_F``, ``0 <= x, y <= S``, broadcast.

    Returns
    -------
    ndarray, shape ``(..., 2)``
        The (x, y) components; dimensionless.
    """
    s = _positive("side", side, "lambda_F")
    xb, yb = _positions(s, x, y, "lambda_F")
    kf, w = _dimensionless_weights(s)
    a, b = _mode_sums(s, xb, yb, w)
    ax, bx = _mode_sums(s, xb, yb, w, deriv="x")
    ay, by = _mode_sums(s, xb, yb, w, deriv="y")
    pref = (2.0 * np.pi / kf) * (4.0 * np.pi / kf**2) / kf
    return np.stack([pref * (ay * b + a * by), -pref * (ax * b + a * bx)], axis=-1)


# --------------------------------------------------------------------------
# Berry ("Lorentz") vector potential, seed eqs (49)-(51)
# --------------------------------------------------------------------------
def principal_value_inverse_quadratic(b, nodes=64):
    """``P int_0^inf d kappa / (b - kappa^2)`` by numerical quadrature.

    For ``b > 0`` the pole at ``s = sqrt(b)`` is handled by the subtraction
    ``P int_0^(2s) g(k)/(s - k) dk = int_0^(2s) [g(k) - g(s)]/(s - k) dk``
    (the subtracted term integrates to zero by symmetry), with ``g(k) =
    1/(s + k)``, and the tail ``[2s, inf)`` by the map ``k = 2s/t``; for
    ``b < 0`` the map ``k = sqrt(|b|) t / (1 - t)``.  Gauss-Legendre with
    ``nodes`` points on each piece.  Analytically the result is ``0`` for
    ``b > 0`` and ``-pi / (2 sqrt(|b|))`` for ``b < 0`` (:eq:`eq-pv-quadratic`);
    the tests compare the two.  Dimensionless if ``b`` is (here ``b`` is in
    units of ``epsilon_t`` and ``kappa = k S / pi``).
    """
    b = np.asarray(b, dtype=float)
    if np.any(b == 0):
        raise InputError("b must be non-zero (the integral diverges at b = 0)")
    t, w = np.polynomial.legendre.leggauss(int(nodes))
    t01, w01 = 0.5 * (t + 1.0), 0.5 * w  # nodes on (0, 1)
    out = np.empty_like(b)
    pos = b > 0
    if np.any(pos):
        s = np.sqrt(b[pos])[..., None]
        k = 2.0 * s * t01  # (0, 2s); even node count: no node at k = s
        g = 1.0 / (s + k)
        gs = 1.0 / (2.0 * s)
        near = np.sum(2.0 * s * w01 * (g - gs) / (s - k), axis=-1)
        kk = 2.0 * s / t01  # [2s, inf)
        far = np.sum(w01 * (2.0 * s / t01**2) / (s**2 - kk**2), axis=-1)
        out[pos] = near + far
    neg = ~pos
    if np.any(neg):
        a = np.sqrt(-b[neg])[..., None]
        kk = a * t01 / (1.0 - t01)
        jac = a / (1.0 - t01) ** 2
        out[neg] = np.sum(w01 * jac / (b[neg][..., None] - kk**2), axis=-1)
    return out


def _bracket_51(e_prime, mu1, mu2, hw):
    """Re-bracket of seed eq. (51), in sqrt(eV), free of cancellation for large ``E'``.

    ``Re(sqrt(E'-mu1-w) - sqrt(E'-mu2-w) - sqrt(E'-mu1+w) + sqrt(E'-mu2+w))``;
    where all four arguments are >= 0 the differences are written as
    ``(a - b) / (sqrt a + sqrt b)``.
    """
    e = np.asarray(e_prime, dtype=float)
    args = [e - mu1 - hw, e - mu2 - hw, e - mu1 + hw, e - mu2 + hw]
    r = [np.sqrt(np.clip(a, 0.0, None)) for a in args]
    direct = r[0] - r[1] - r[2] + r[3]
    all_pos = np.min(args, axis=0) >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        stable = (mu2 - mu1) / (r[0] + r[1]) - (mu2 - mu1) / (r[2] + r[3])
    return np.where(all_pos, stable, direct)


def _bracket_51_linear(e_prime, ef, hw):
    """d(bracket of eq. 51)/d(eV) at eV = 0, in 1/sqrt(eV)."""
    e = np.asarray(e_prime, dtype=float)
    up, dn = e - ef + hw, e - ef - hw
    with np.errstate(divide="ignore", invalid="ignore"):
        g_up = np.where(up > 0, 1.0 / np.sqrt(np.where(up > 0, up, 1.0)), 0.0)
        g_dn = np.where(dn > 0, 1.0 / np.sqrt(np.where(dn > 0, dn, 1.0)), 0.0)
        both = (up > 0) & (dn > 0)
        stable = (dn - up) / (np.sqrt(up) * np.sqrt(dn) * (np.sqrt(up) + np.sqrt(dn)))
    return 0.5 * np.where(both, stable, g_up - g_dn)


def _closed_tail(gfun, u_cut, et, nodes=64):
    """Continuum estimate of ``sum_{n'^2+m'^2 > u_cut} <chi'^2> g(E')`` times ``S^2``.

    Replaces ``chi'^2`` by its average ``1/S^2`` and the lattice sum by
    ``int du g(eps_t u) dN/du`` with ``N(u) = pi u / 4 - sqrt(u)`` the number
    of ``(n', m') >= 1`` with ``n'^2 + m'^2 <= u`` (axes excluded).  The map
    ``u = u_cut / t^2`` turns the ``u^(-3/2)`` tail into a smooth integrand
    on ``(0, 1]`` (Gauss-Legendre).
    """
    t, w = np.polynomial.legendre.leggauss(int(nodes))
    t, w = 0.5 * (t + 1.0), 0.5 * w
    u = u_cut / t**2
    jac = 2.0 * u_cut / t**3
    return float(np.sum(w * jac * gfun(et * u) * (np.pi / 4.0 - 0.5 / np.sqrt(u))))


def _vp_setup(side, x, y, fermi_energy, bias, hbar_omega, coupling, mass, closed_cutoff):
    s = _positive("side", side, "Angstrom")
    ef = _positive("fermi_energy", fermi_energy, "eV")
    ev = _finite("bias", bias, "V")
    hw = _positive("hbar_omega", hbar_omega, "eV")
    c = _finite("coupling", coupling, "eV Angstrom^3")
    m_ = _positive("mass", mass, "eV fs^2/Angstrom^2")
    xb, yb = _positions(s, x, y, "Angstrom")
    et = transverse_energy(s, m_)
    cutoff = _positive("closed_cutoff", closed_cutoff, "(multiples of E_F)")
    nmax_all = int(np.ceil(np.sqrt(cutoff * ef / et)))
    # prefactor of eq. (51): C^2/(hbar w0) * pi/(4 S^3) * pi hbar / (2 eps_t^(3/2))
    pref = c**2 / hw * np.pi / (4.0 * s**3) * np.pi * HBAR / (2.0 * et**1.5)
    return s, ef, ev, hw, m_, xb, yb, et, nmax_all, pref


def vector_potential(
    side, x, y, fermi_energy, bias, hbar_omega, coupling, mass=M_ELECTRON, closed_cutoff=64.0,
    tail_correction=True,
):
    """``A_z(R)`` of the Berry ("Lorentz") force, closed form seed eq. (51), T = 0.

    .. math::

        A_z = \\frac{C^2}{\\hbar\\omega_0}\\frac{\\pi}{4S^3}
        \\frac{\\pi\\hbar}{2\\epsilon_t^{3/2}}
        \\sum_{nm}\\chi^2_{nm}\\sum_{n'm'}\\chi^2_{n'm'}\\,{\\rm Re}\\big(
        \\sqrt{E'-\\mu_1-\\hbar\\omega_0} - \\sqrt{E'-\\mu_2-\\hbar\\omega_0}
        - \\sqrt{E'-\\mu_1+\\hbar\\omega_0} + \\sqrt{E'-\\mu_2+\\hbar\\omega_0}\\big)

    with ``E' = epsilon_t (n'^2 + m'^2)``; ``(n, m)`` runs over subbands open
    in the whole bias window and ``(n', m')`` over all subbands (open and
    closed, :eq:`eq-vector-potential`), summed explicitly up to ``E' <= closed_cutoff
    * E_F``.  The terms decay like ``E'^(-3/2)``, so a bare truncation errs
    by ``O(closed_cutoff^(-1/2))``; with ``tail_correction`` (default) the
    rest of the sum is added in the continuum approximation
    (``chi'^2 -> 1/S^2``, lattice-point density ``pi/4 - 1/(2 sqrt u)``),
    which brings the error at ``closed_cutoff = 64`` to ~1e-4 relative in
    the interior (tests).  The bracket is evaluated in a cancellation-free
    form.  ``L^asym = curl A``, so ``F^B = V x (curl A)`` (seed eq. 45).

    Parameters
    ----------
    side : float
        Angstrom.
    x, y : array_like
        Angstrom, ``0 <= x, y <= S``, broadcast.
    fermi_energy : float
        eV, ``mu_(1,2) = E_F +- eV/2``.
    bias : float
        V.
    hbar_omega : float
        ``hbar omega_0`` in eV, ``> 0``.
    coupling : float
        ``C`` in eV Angstrom^3.
    mass : float
        eV fs^2/Angstrom^2.
    closed_cutoff : float
        Sum subbands ``(n', m')`` with ``E' <= closed_cutoff * E_F`` explicitly.
    tail_correction : bool
        Add the continuum estimate of the ``E' > closed_cutoff * E_F`` rest.

    Returns
    -------
    ndarray
        ``A_z`` in eV fs/Angstrom, per spin.

    Raises
    ------
    SubbandEdgeError
        If a subband edge lies inside the bias window ``[mu_2, mu_1]``.
    """
    s, ef, ev, hw, m_, xb, yb, et, nmax_all, pref = _vp_setup(
        side, x, y, fermi_energy, bias, hbar_omega, coupling, mass, closed_cutoff
    )
    mu1, mu2 = ef + 0.5 * ev, ef - 0.5 * ev
    lo, hi = min(mu1, mu2), max(mu1, mu2)
    _check_edges(et, lo, hi, "bias window of eq. (51)")
    mask, _ = _open_mask(lo / et)
    nmax = max(mask.shape[0], nmax_all)
    e_prime = et * _edge_indices(nmax).astype(float)

    u_cut = closed_cutoff * ef / et
    g = np.where(_edge_indices(nmax) <= u_cut, _bracket_51(e_prime, mu1, mu2, hw), 0.0)
    w_open = np.zeros((nmax, nmax))
    w_open[: mask.shape[0], : mask.shape[1]] = mask
    a_open, a_g = _mode_sums(s, xb, yb, np.stack([w_open, g]))
    if tail_correction:
        a_g = a_g + _closed_tail(lambda e: _bracket_51(e, mu1, mu2, hw), u_cut, et) / s**2
    return pref * a_open * a_g


def vector_potential_linear_response(
    side, x, y, fermi_energy, hbar_omega, coupling, mass=M_ELECTRON, closed_cutoff=64.0,
    tail_correction=True,
):
    """``dA_z/d(eV)`` at ``eV -> 0`` from seed eq. (51), T = 0, in fs/Angstrom.

    With ``mu_(1,2) = E_F +- eV/2`` the bracket of eq. (51) is, to first
    order in ``eV``,

    .. math:: eV\\,\\frac12\\Big[\\frac{\\theta(E'-E_F+\\hbar\\omega_0)}
              {\\sqrt{E'-E_F+\\hbar\\omega_0}} - \\frac{\\theta(E'-E_F-\\hbar\\omega_0)}
              {\\sqrt{E'-E_F-\\hbar\\omega_0}}\\Big].

    The ``(n, m)`` sum runs over subbands strictly below ``E_F`` (the
    module's edge rule, so ``S = 10, 20 lambda_F`` are allowed).  A subband
    edge exactly at ``E_F +- hbar omega_0`` raises :class:`SubbandEdgeError`.
    Arguments as in :func:`vector_potential` (no ``bias``).
    """
    s, ef, _, hw, m_, xb, yb, et, nmax_all, pref = _vp_setup(
        side, x, y, fermi_energy, 0.0, hbar_omega, coupling, mass, closed_cutoff
    )
    mask, _ = _open_mask(ef / et)
    nmax = max(mask.shape[0], nmax_all)
    idx = _edge_indices(nmax)
    e_prime = et * idx.astype(float)
    near = np.abs(np.abs(e_prime - ef) - hw) <= EDGE_RTOL * ef
    if np.any(near):
        bad = np.argwhere(near)
        raise SubbandEdgeError(
            "subband edge(s) exactly at E_F +- hbar_omega, where the linear-response "
            f"eq. (51) diverges: (n, m) = {[tuple(int(v) + 1 for v in b) for b in bad[:4]]}; "
            "change hbar_omega or side",
            [tuple(int(v) + 1 for v in b) for b in bad],
            [float(e_prime[tuple(b)]) for b in bad],
        )
    u_cut = closed_cutoff * ef / et
    g = np.where(idx <= u_cut, _bracket_51_linear(e_prime, ef, hw), 0.0)
    w_open = np.zeros((nmax, nmax))
    w_open[: mask.shape[0], : mask.shape[1]] = mask
    a_open, a_g = _mode_sums(s, xb, yb, np.stack([w_open, g]))
    if tail_correction:
        a_g = a_g + _closed_tail(lambda e: _bracket_51_linear(e, ef, hw), u_cut, et) / s**2
    return pref * a_open * a_g


def vector_potential_numerical(
    side, x, y, fermi_energy, bias, hbar_omega, coupling, temperature=0.0, mass=M_ELECTRON,
    closed_cutoff=64.0, nodes=48, pv_nodes=64,
):
    """``A_z(R)``, seed eq. (50), by numerical principal-value integration.

    .. math::

        A_z = \\frac{C^2}{\\hbar\\omega_0}\\frac{\\pi}{4S^3}\\sum_{nm n'm'}
        \\chi^2_{nm}\\chi^2_{n'm'}\\int_0^\\infty d\\kappa\\,\\kappa\\,
        [n_F(\\epsilon_{knm}-\\mu_1) - n_F(\\epsilon_{knm}-\\mu_2)]
        \\int_0^\\infty d\\kappa'\\,G'_L[\\epsilon_t(\\kappa^2+n^2+m^2-\\kappa'^2
        -n'^2-m'^2)/\\hbar]

    with ``G'_L(omega) = P[1/(omega + omega_0) - 1/(omega - omega_0)]``
    (seed eq. 47).  Writing ``a = kappa^2 + n^2 + m^2 - n'^2 - m'^2`` and
    ``w = hbar omega_0 / epsilon_t``, the inner integral is ``(hbar /
    epsilon_t) [P(a + w) - P(a - w)]`` with ``P(b) = P int_0^inf dk/(b -
    k^2)`` done numerically by :func:`principal_value_inverse_quadratic`;
    the outer integral over ``kappa`` by Gauss-Legendre over the window
    where the occupation difference is non-zero (widened by
    ``FERMI_TAIL_KT k_B T``).  Independent of the closed-form identity used
    to obtain eq. (51); the tests compare the two.  The ``(n', m')`` sum is
    truncated at ``closed_cutoff * E_F`` with no tail correction: compare
    with :func:`vector_potential` at ``tail_correction=False``.

    Arguments and units as in :func:`vector_potential`, plus
    ``temperature`` (K), ``nodes`` (outer Gauss-Legendre points per
    interval) and ``pv_nodes`` (points per piece of each PV integral).
    Returns ``A_z`` in eV fs/Angstrom, per spin.

    Raises
    ------
    SubbandEdgeError
        If a subband edge lies inside the (thermally widened) bias window.
    """
    s, ef, ev, hw, m_, xb, yb, et, nmax_all, _ = _vp_setup(
        side, x, y, fermi_energy, bias, hbar_omega, coupling, mass, closed_cutoff
    )
    c2 = float(coupling) ** 2
    temp = _nonnegative("temperature", temperature, "K")
    kt = KB * temp
    mu1, mu2 = ef + 0.5 * ev, ef - 0.5 * ev
    tail = FERMI_TAIL_KT * kt
    lo, hi = min(mu1, mu2) - tail, max(mu1, mu2) + tail
    _check_edges(et, lo, hi, "thermally widened bias window of eq. (50)")
    mask, _ = _open_mask(lo / et)
    nmax = max(mask.shape[0], nmax_all)
    idx = _edge_indices(nmax)
    keep = idx <= closed_cutoff * ef / et
    full = np.zeros((nmax, nmax), dtype=bool)
    full[: mask.shape[0], : mask.shape[1]] = mask
    mask = full
    e_c = idx[mask]  # open subbands (n, m), in units of eps_t
    e_cp = np.unique(idx[keep])  # distinct E' values, units of eps_t
    w = hw / et
    # outer integral over the energy e = kappa^2 + E_c in units of eps_t; kappa d kappa = de/2.
    # Integrate in kappa literally: kappa in [sqrt(lo/et - E_c), sqrt(hi/et - E_c)].
    xg, wg = np.polynomial.legendre.leggauss(int(nodes))
    brk = sorted({lo, hi, mu1, mu2})
    result_c = np.zeros((e_c.size, e_cp.size))  # integral for each (c, E')
    for a_e, b_e in zip(brk[:-1], brk[1:]):
        if b_e <= a_e:
            continue
        ka = np.sqrt(a_e / et - e_c)[:, None]
        kb = np.sqrt(b_e / et - e_c)[:, None]
        kap = 0.5 * (kb - ka) * xg[None, :] + 0.5 * (ka + kb)  # (Nc, Q)
        wk = 0.5 * (kb - ka) * wg[None, :]
        energy = et * (kap**2 + e_c[:, None])
        dn = _fermi(energy, mu1, kt) - _fermi(energy, mu2, kt)
        a = (kap**2 + e_c[:, None])[:, :, None] - e_cp[None, None, :]  # (Nc, Q, Ncp)
        inner = (HBAR / et) * (principal_value_inverse_quadratic(a + w, pv_nodes)
                               - principal_value_inverse_quadratic(a - w, pv_nodes))
        result_c += np.einsum("cq,cqe->ce", wk * kap * dn, inner)
    # The integral depends on the open subband (n, m) only through E_c: group the
    # (n, m) sum by distinct E_c, weight chi^2_nm by it, and chi^2_n'm' by the
    # integral for its E'.
    lookup = np.clip(np.searchsorted(e_cp, idx), 0, e_cp.size - 1)
    e_cu, inv = np.unique(e_c, return_inverse=True)
    weights = []
    for u in range(e_cu.size):
        weights.append(np.where(mask & (idx == e_cu[u]), 1.0, 0.0))
        row = result_c[np.nonzero(inv == u)[0][0]]
        weights.append(np.where(keep, row[lookup], 0.0))
    sums = _mode_sums(s, xb, yb, np.stack(weights))
    total = np.sum(sums[0::2] * sums[1::2], axis=0)
    return c2 / hw * np.pi / (4.0 * s**3) * total


def vector_potential_dimensionless(side, x, y, hbar_omega, closed_cutoff=64.0, tail_correction=True):
    """Linear-response ``A_z`` in units of ``(eV/epsilon_F) p_F sigma_tr rho / k_F``.

    Evaluates :func:`vector_potential_linear_response` (seed eq. 51 to first
    order in the bias, T = 0, subbands at ``E_F`` excluded) and divides by
    the unit; ``p_F sigma_tr rho = |L_ZZ|`` is the bulk friction of the same scatterer
    (seed eq. 48, spinless ``rho = k_F^3 / 6 pi^2``), so ``curl A / k_F`` in
    these units compares the Berry coefficient ``L^asym`` with the bulk
    friction, per unit bias ``eV / epsilon_F``.  ``C`` drops out.

    Parameters
    ----------
    side : float
        ``S`` in units of ``lambda_F``.
    x, y : array_like
        Positions in units of ``lambda_F``.
    hbar_omega : float
        ``hbar omega_0`` in units of ``epsilon_F``.
    closed_cutoff, tail_correction
        As in :func:`vector_potential`.

    Returns
    -------
    ndarray
        Dimensionless ``A_z``, shape of the broadcast positions.
    """
    ef = 1.0  # eV, reference; the result does not depend on it
    kf = fermi_wavevector(ef)
    lam = 2.0 * np.pi / kf
    c = 1.0
    s = _positive("side", side, "lambda_F")
    xb, yb = _positions(s, x, y, "lambda_F")
    hw = _positive("hbar_omega", hbar_omega, "epsilon_F")
    da = vector_potential_linear_response(
        s * lam, xb * lam, yb * lam, ef, hw * ef, c, M_ELECTRON, closed_cutoff, tail_correction
    )
    sigma = M_ELECTRON**2 * c**2 / (np.pi * HBAR**4)
    unit = HBAR * kf * sigma * kf**3 / (6.0 * np.pi**2) / kf / ef
    return da / unit
