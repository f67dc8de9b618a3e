"""The vector potential of the Berry ("Lorentz") force in the wire, seed eqs (49)-(51).

``A_z(R)`` with ``L^asym = curl A`` (seed eq. 45): by numerical
principal-value integration of seed eq. (50)
(:func:`vector_potential_numerical`), in the closed form of seed eq. (51)
(:func:`vector_potential`), to first order in the bias
(:func:`vector_potential_linear_response`) and in units of the bulk
friction (:func:`vector_potential_dimensionless`).  The two routes to
``A_z`` are independent, so the tests compare them.

Units: energies eV, lengths Angstrom, time fs, mass eV fs^2/Angstrom^2,
``C`` in eV Angstrom^3; ``A_z`` in eV fs/Angstrom, per spin.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from ..._checks import check_nonnegative, check_number
from ...errors import InputError
from ...integrate import fermi, gauss_legendre, window_bounds
from ...units import HBAR, M_ELECTRON
from ..electron_gas import friction
from .subbands import (
    EDGE_RTOL,
    SubbandEdgeError,
    _check_edges,
    _edge_indices,
    _mode_sums,
    _open_mask,
    _positions,
    _wire_args,
    fermi_wavevector,
    transverse_energy,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ..._checks import ArrayLike

__all__ = [
    "principal_value_inverse_quadratic",
    "vector_potential",
    "vector_potential_numerical",
    "vector_potential_linear_response",
    "vector_potential_dimensionless",
]


# --------------------------------------------------------------------------
# Berry ("Lorentz") vector potential, seed eqs (49)-(51)
# --------------------------------------------------------------------------
def principal_value_inverse_quadratic(b: ArrayLike, nodes: int = 64) -> NDArray[Any]:
    """``P int_0^inf d kappa / (b - kappa^2)`` by numerical quadrature.

    For ``b > 0`` the pole at ``s = sqrt(b)`` is handled by the subtraction
    ``P int_0^(2s) g(k)/(s - k) dk = int_0^(2s) [g(k) - g(s)]/(s - k) dk``
    (the subtracted term integrates to zero by symmetry), with ``g(k) =
    1/(s + k)``, and the tail ``[2s, inf)`` by the map ``k = 2s/t``; for
    ``b < 0`` the map ``k = sqrt(|b|) t / (1 - t)``.  Gauss-Legendre with
    ``nodes`` points on each piece.  Analytically the result is ``0`` for
    ``b > 0`` and ``-pi / (2 sqrt(|b|))`` for ``b < 0`` (:eq:`eq-pv-quadratic`);
    the tests compare the two.  Dimensionless if ``b`` is (here ``b`` is in
    units of ``epsilon_t`` and ``kappa = k S / pi``).  ``nodes`` must be
    even: an odd rule has a node on the pole ``k = s`` itself.
    """
    b = np.asarray(b, dtype=float)
    if np.any(b == 0):
        raise InputError("b must be non-zero (the integral diverges at b = 0)")
    if nodes != int(nodes) or nodes < 2 or int(nodes) % 2:
        raise InputError(f"nodes must be an even integer >= 2 (an odd rule puts a node on the pole), got {nodes!r}")
    t01, w01 = gauss_legendre(int(nodes), (0.0, 1.0))
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
    t, w = gauss_legendre(nodes, (0.0, 1.0))
    u = u_cut / t**2
    jac = 2.0 * u_cut / t**3
    return float(np.sum(w * jac * gfun(et * u) * (np.pi / 4.0 - 0.5 / np.sqrt(u))))


def _vp_setup(side, x, y, fermi_energy, bias, hbar_omega, coupling, mass, closed_cutoff):
    s, ef, ev, m_, xb, yb = _wire_args(side, x, y, fermi_energy, bias, mass)
    hw = check_number("hbar_omega", hbar_omega, "eV", positive=True)
    c = check_number("coupling", coupling, "eV Angstrom^3")
    et = transverse_energy(s, m_)
    cutoff = check_number("closed_cutoff", closed_cutoff, "(multiples of E_F)", positive=True)
    nmax_all = int(np.ceil(np.sqrt(cutoff * ef / et)))
    # prefactor of eq. (51): C^2/(hbar w0) * pi/(4 S^3) * pi hbar / (2 eps_t^(3/2))
    pref = c**2 / hw * np.pi / (4.0 * s**3) * np.pi * HBAR / (2.0 * et**1.5)
    return s, ef, ev, hw, m_, xb, yb, et, nmax_all, pref


def _sums_51(bracket, s, xb, yb, et, ef, mask, nmax, closed_cutoff, tail_correction):
    """The two mode sums of eq. (51), whose product times the prefactor is ``A_z``:
    the sum over the open subbands ``mask`` of chi^2_nm, and the sum over the
    subbands up to ``closed_cutoff * E_F`` of chi^2_n'm' ``bracket(E')`` (plus the
    continuum tail beyond them if ``tail_correction``); ``nmax`` modes per direction."""
    idx = _edge_indices(nmax)
    u_cut = closed_cutoff * ef / et
    g = np.where(idx <= u_cut, bracket(et * idx.astype(float)), 0.0)
    w_open = np.zeros((nmax, nmax))
    w_open[: mask.shape[0], : mask.shape[1]] = mask
    a_open, a_g = _mode_sums(s, xb, yb, np.stack([w_open, g]))
    if tail_correction:
        a_g = a_g + _closed_tail(bracket, u_cut, et) / s**2
    return a_open, a_g


def vector_potential(
    side: float,
    x: ArrayLike,
    y: ArrayLike,
    fermi_energy: float,
    bias: float,
    hbar_omega: float,
    coupling: float,
    mass: float = M_ELECTRON,
    closed_cutoff: float = 64.0,
    tail_correction: bool = True,
) -> NDArray[Any]:
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
    bracket = functools.partial(_bracket_51, mu1=mu1, mu2=mu2, hw=hw)
    a_open, a_g = _sums_51(bracket, s, xb, yb, et, ef, mask, nmax, closed_cutoff, tail_correction)
    return pref * a_open * a_g


def vector_potential_linear_response(
    side: float,
    x: ArrayLike,
    y: ArrayLike,
    fermi_energy: float,
    hbar_omega: float,
    coupling: float,
    mass: float = M_ELECTRON,
    closed_cutoff: float = 64.0,
    tail_correction: bool = True,
) -> NDArray[Any]:
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
    bracket = functools.partial(_bracket_51_linear, ef=ef, hw=hw)
    a_open, a_g = _sums_51(bracket, s, xb, yb, et, ef, mask, nmax, closed_cutoff, tail_correction)
    return pref * a_open * a_g


def vector_potential_numerical(
    side: float,
    x: ArrayLike,
    y: ArrayLike,
    fermi_energy: float,
    bias: float,
    hbar_omega: float,
    coupling: float,
    temperature: float = 0.0,
    mass: float = M_ELECTRON,
    closed_cutoff: float = 64.0,
    nodes: int = 48,
    pv_nodes: int = 64,
) -> NDArray[Any]:
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
    temp = check_nonnegative("temperature", temperature, "K")
    mu1, mu2 = ef + 0.5 * ev, ef - 0.5 * ev
    lo, hi = window_bounds((mu1, mu2), temp)
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
    t01, w01 = gauss_legendre(nodes, (0.0, 1.0))
    brk = sorted({lo, hi, mu1, mu2})
    result_c = np.zeros((e_c.size, e_cp.size))  # integral for each (c, E')
    for a_e, b_e in zip(brk[:-1], brk[1:]):
        if b_e <= a_e:
            continue
        ka = np.sqrt(a_e / et - e_c)[:, None]
        kb = np.sqrt(b_e / et - e_c)[:, None]
        kap = ka + (kb - ka) * t01  # (Nc, Q)
        wk = (kb - ka) * w01
        energy = et * (kap**2 + e_c[:, None])
        dn = fermi(energy, mu1, temp) - fermi(energy, mu2, temp)
        a = (kap**2 + e_c[:, None])[:, :, None] - e_cp[None, None, :]  # (Nc, Q, Ncp)
        inner = (HBAR / et) * (
            principal_value_inverse_quadratic(a + w, pv_nodes) - principal_value_inverse_quadratic(a - w, pv_nodes)
        )
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


def vector_potential_dimensionless(
    side: float,
    x: ArrayLike,
    y: ArrayLike,
    hbar_omega: float,
    closed_cutoff: float = 64.0,
    tail_correction: bool = True,
) -> NDArray[Any]:
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
    s = check_number("side", side, "lambda_F", positive=True)
    xb, yb = _positions(s, x, y, "lambda_F")
    hw = check_number("hbar_omega", hbar_omega, "epsilon_F", positive=True)
    da = vector_potential_linear_response(
        s * lam, xb * lam, yb * lam, ef, hw * ef, c, M_ELECTRON, closed_cutoff, tail_correction
    )
    bulk_friction = -friction(c, kf, M_ELECTRON, spin=1)  # p_F sigma_tr rho, seed eq. 48
    return da / (bulk_friction / kf / ef)
