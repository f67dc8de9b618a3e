"""The field ``L(R)`` of seed eq. (38) and the curl of the non-conservative force, eq. (37).

``L`` is the field whose curl, times ``2 pi m C^2 / hbar``, is the curl of
the non-conservative (current-induced, "waterwheel") force on a weak test
scatterer ``v = C delta(r - R)`` in the wire.  It is evaluated directly at
finite ``(hbar omega_0, eV, T)`` (:func:`nonconservative_field_direct`) and
in its small-bias, small-frequency, T = 0 closed form ``L = nu(R, E_F) j(R)
e_z`` (:func:`nonconservative_field`), with dimensionless forms in units of
the bulk values for Figs 5 and 6.

Units: energies eV, lengths Angstrom, time fs, mass eV fs^2/Angstrom^2,
``C`` in eV Angstrom^3; the dimensionless functions take lengths in units
of ``lambda_F``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..._checks import check_nonnegative, check_number
from ...errors import InputError
from ...integrate import fermi, gauss_legendre, window_bounds
from ...units import HBAR, M_ELECTRON
from ..electron_gas import wind_force
from .subbands import (
    _check_edges,
    _mode_sums,
    _open_mask,
    _open_weights,
    _positions,
    _wire_args,
    bulk_current_density,
    current_density,
    fermi_wavevector,
    local_dos,
    transverse_energy,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ..._checks import ArrayLike

__all__ = [
    "nonconservative_field",
    "nonconservative_field_direct",
    "curl_nonconservative_force",
    "curl_nonconservative",
    "nonconservative_field_dimensionless",
    "bulk_wind_force",
]


def nonconservative_field(
    side: float, x: ArrayLike, y: ArrayLike, fermi_energy: float, bias: float, mass: float = M_ELECTRON
) -> NDArray[Any]:
    """``L_z(R) = nu(R, E_F) j_z(R)``: seed eq. (38) for small bias and frequency, T = 0.

    In 1/(eV Angstrom^5 fs), per spin.  ``L`` points along ``+z`` (the wire
    axis).  Arguments as in :func:`current_density`.
    """
    return local_dos(side, x, y, fermi_energy, mass) * current_density(side, x, y, fermi_energy, bias, mass)


def nonconservative_field_direct(
    side: float,
    x: ArrayLike,
    y: ArrayLike,
    fermi_energy: float,
    bias: float,
    hbar_omega: float,
    temperature: float = 0.0,
    mass: float = M_ELECTRON,
    nodes: int = 48,
) -> NDArray[Any]:
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
    s, ef, ev, m_, xb, yb = _wire_args(side, x, y, fermi_energy, bias, mass)
    hw = check_nonnegative("hbar_omega", hbar_omega, "eV")
    temp = check_nonnegative("temperature", temperature, "K")
    mu1, mu2 = ef + 0.5 * ev, ef - 0.5 * ev
    lo, hi = window_bounds((mu1, mu2), temp)
    et = transverse_energy(s, m_)
    _check_edges(et, lo - hw, hi + hw, "energy window of eq. (38) (bias window +- hbar_omega +- tails)")
    if hi - hw <= 0.0 or lo - hw <= 0.0:
        raise InputError("the bias window (widened by hbar_omega and thermal tails) reaches below the band bottom")

    breaks = np.unique(np.clip([lo - hw, mu1 - hw, mu2 - hw, mu1, mu2, hi], lo - hw, hi))
    eps, wts = gauss_legendre(nodes, breaks)

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
    occ = {
        +1: (fermi(eps, mu1, temp), fermi(eps + hw, mu1, temp)),
        -1: (fermi(eps, mu2, temp), fermi(eps + hw, mu2, temp)),
    }
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
def _curl_of_product(s, xb, yb, weights):
    """``(d_y (a b), -d_x (a b))``: the in-plane curl of ``a b e_z``.

    ``a`` and ``b`` are the mode sums (:func:`~.subbands._mode_sums`) of the
    two weight matrices in ``weights`` (shape ``(2, N, N)``), e.g. ``1/k``
    and ``1`` on the open subbands for ``nu`` and ``j``.  Shape
    ``xb.shape + (2,)``.
    """
    a, b = _mode_sums(s, xb, yb, weights)
    ax, bx = _mode_sums(s, xb, yb, weights, deriv="x")
    ay, by = _mode_sums(s, xb, yb, weights, deriv="y")
    return np.stack([ay * b + a * by, -(ax * b + a * bx)], axis=-1)


def curl_nonconservative_force(
    side: float, x: ArrayLike, y: ArrayLike, fermi_energy: float, bias: float, coupling: float, mass: float = M_ELECTRON
) -> NDArray[Any]:
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
    s, ef, ev, m_, xb, yb = _wire_args(side, x, y, fermi_energy, bias, mass)
    c = check_number("coupling", coupling, "eV Angstrom^3")
    curl_nu_j = _curl_of_product(s, xb, yb, np.stack(_open_weights(s, ef, m_)))
    pref = (2.0 * np.pi * m_ * c**2 / HBAR) * (m_ / (np.pi * HBAR**2)) * (ev / (2.0 * np.pi * HBAR))
    return pref * curl_nu_j


def bulk_wind_force(fermi_energy: float, bias: float, coupling: float, mass: float = M_ELECTRON) -> NDArray[Any]:
    """Bulk wind force ``F_w = sigma_tr p_F j_b`` per spin, in eV/Angstrom (seed eq. 1).

    ``sigma_tr = m^2 C^2 / (pi hbar^4)`` (Born, :eq:`eq-born`), ``p_F =
    hbar k_F`` and ``j_b`` the Sharvin current density
    (:func:`bulk_current_density`): the wind force of the homogeneous gas,
    :func:`currentforces.models.electron_gas.wind_force`, driven by the
    Sharvin current.  ``coupling`` ``C`` in eV Angstrom^3.
    """
    return wind_force(
        coupling, fermi_wavevector(fermi_energy, mass), bulk_current_density(fermi_energy, bias, mass), mass
    )


def _dimensionless_weights(s):
    kf = 2.0 * np.pi  # lambda_F = 1
    mask, n2m2 = _open_mask((2.0 * s) ** 2)
    k = kf * np.sqrt(np.clip(1.0 - n2m2 / (2.0 * s) ** 2, 0.0, None))
    inv_k = np.where(mask, 1.0 / np.where(mask, k, 1.0), 0.0)
    return kf, np.stack([inv_k, mask.astype(float)])


def nonconservative_field_dimensionless(side: float, x: ArrayLike, y: ArrayLike) -> NDArray[Any]:
    r"""``ell(R) = L_z / (nu_b j_b)``: the field of eq. (38) in units of its bulk value.

    .. math:: \ell = \Big[\frac{2\pi}{k_F}\sum\frac{\chi^2_{nm}}{k_{nm}}\Big]
              \Big[\frac{4\pi}{k_F^2}\sum\chi^2_{nm}\Big]

    small-bias, small-frequency, T = 0 (:eq:`eq-curl-dimensionless`), subbands exactly at
    ``E_F`` excluded.  ``side``, ``x``, ``y`` in units of ``lambda_F``
    (``0 <= x, y <= S``, broadcast); dimensionless result, ``-> 1`` on
    average deep inside a wide wire.
    """
    s = check_number("side", side, "lambda_F", positive=True)
    xb, yb = _positions(s, x, y, "lambda_F")
    kf, w = _dimensionless_weights(s)
    a, b = _mode_sums(s, xb, yb, w)
    return (2.0 * np.pi / kf) * a * (4.0 * np.pi / kf**2) * b


def curl_nonconservative(side: float, x: ArrayLike, y: ArrayLike) -> NDArray[Any]:
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
    s = check_number("side", side, "lambda_F", positive=True)
    xb, yb = _positions(s, x, y, "lambda_F")
    kf, w = _dimensionless_weights(s)
    pref = (2.0 * np.pi / kf) * (4.0 * np.pi / kf**2) / kf
    return pref * _curl_of_product(s, xb, yb, w)
