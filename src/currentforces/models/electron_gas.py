"""Homogeneous electron gas with a weak delta scatterer (seed eqs 1 and 48).

A test scatterer ``v(r) = C delta(r - R)`` sits in a free-electron gas of
Fermi wavevector ``k_F`` (seed sec. III.B and IV.B, :ref:`theory-electron-gas`).
To lowest (second) order in ``C``:

* Born amplitude ``f(theta) = -(m / 2 pi hbar^2) int e^{-i q.r} v d^3r =
  -m C / (2 pi hbar^2)`` (isotropic), transport cross-section
  ``sigma_tr = int (1 - cos theta) |f|^2 d Omega = m^2 C^2 / (pi hbar^4)``;
* electron wind force ``F_w = sigma_tr p_F j`` (seed eq. 1), ``p_F = hbar k_F``;
* electronic friction ``L_ZZ = -p_F sigma_tr rho`` (seed eq. 48), ``rho`` the
  electron density;
* reciprocity: a scatterer moving at ``V`` through the gas feels
  ``L_ZZ V``, the wind force of a gas drifting at ``-V`` past it (seed IV.B).

Each quantity is available in closed form and by evaluating its defining
integral numerically (Born amplitude over angles, golden-rule momentum
transfer from a drifting Fermi sphere, and the electron-hole sum of seed eqs
(31), (42) at finite ``omega_0``), so the tests can compare two routes.

Units: ``C`` in eV Angstrom^3, ``k_F`` in 1/Angstrom, mass in eV fs^2/A^2
(``units.M_ELECTRON``), velocities in Angstrom/fs, current densities in
1/(Angstrom^2 fs), forces in eV/Angstrom, friction in eV fs/Angstrom^2,
cross-sections in Angstrom^2, energies eV, temperature K.  The seed is
spinless; ``spin`` (1 or 2) multiplies the electron density and every sum
over electron states, never hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import check_number, check_spin
from ..integrate import fermi, gauss_legendre, window_bounds
from ..units import HBAR, M_ELECTRON

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._checks import ArrayLike

__all__ = [
    "born_amplitude",
    "transport_cross_section",
    "transport_cross_section_born",
    "fermi_energy",
    "electron_density",
    "wind_force",
    "wind_force_golden_rule",
    "friction",
    "friction_electron_hole",
    "friction_force",
]


_number = check_number


_spin = check_spin


def born_amplitude(
    coupling: float, theta: ArrayLike, k: float = 1.0, width: float = 0.0, mass: float = M_ELECTRON
) -> NDArray[Any]:
    r"""First Born scattering amplitude of the test scatterer, in Angstrom.

    .. math:: f(\theta) = -\frac{m}{2\pi\hbar^2}\int e^{-i\mathbf q\cdot
              \mathbf r} v(\mathbf r)\,d^3r = -\frac{mC}{2\pi\hbar^2}
              e^{-q^2a^2/2}, \qquad q = 2k\sin(\theta/2)

    for the delta scatterer ``v = C delta(r)`` smeared into a normalised
    Gaussian of width ``a`` (``width``); ``a = 0`` (default) is the seed's
    delta function, whose amplitude is isotropic and energy independent.

    Parameters
    ----------
    coupling : float
        ``C`` in eV Angstrom^3.
    theta : array_like
        Scattering angle in rad.
    k : float
        Wavevector of the incident electron in 1/Angstrom (only used for ``a > 0``).
    width : float
        Gaussian width ``a`` in Angstrom, ``>= 0``.
    mass : float
        eV fs^2/Angstrom^2.

    Returns
    -------
    ndarray
        ``f(theta)`` in Angstrom, shape of ``theta``.
    """
    c = _number("coupling", coupling, "eV Angstrom^3")
    m = _number("mass", mass, "eV fs^2/Angstrom^2", positive=True)
    kk = _number("k", k, "1/Angstrom", nonnegative=True)
    a = _number("width", width, "Angstrom", nonnegative=True)
    theta = np.asarray(theta, dtype=float)
    q = 2.0 * kk * np.sin(0.5 * theta)
    v_q = c * np.exp(-0.5 * (q * a) ** 2)  # Fourier transform of the (smeared) delta
    return -m * v_q / (2.0 * np.pi * HBAR**2)


def transport_cross_section_born(
    coupling: float, k: float = 1.0, width: float = 0.0, mass: float = M_ELECTRON, nodes: int = 64
) -> float:
    r"""Transport cross-section from the Born amplitude by angular quadrature, Angstrom^2.

    .. math:: \sigma_{\rm tr} = 2\pi\int_0^\pi (1 - \cos\theta)
              |f(\theta)|^2 \sin\theta\,d\theta

    (seed footnote 29: the seed's ``sigma`` is the transport cross-section),
    Gauss-Legendre in ``cos theta``.  Arguments as in :func:`born_amplitude`;
    for ``width = 0`` this is ``m^2 C^2 / (pi hbar^4)``.
    """
    u, w = gauss_legendre(nodes)
    f = born_amplitude(coupling, np.arccos(u), k, width, mass)
    return 2.0 * np.pi * np.sum(w * (1.0 - u) * np.abs(f) ** 2)


def transport_cross_section(coupling: float, mass: float = M_ELECTRON) -> float:
    """Closed-form Born transport cross-section ``m^2 C^2 / (pi hbar^4)`` in Angstrom^2.

    ``dsigma/dOmega = m^2 C^2 / (4 pi^2 hbar^4)`` is isotropic and
    ``int (1 - cos theta) dOmega = 4 pi`` (:eq:`eq-born`).
    """
    c = _number("coupling", coupling, "eV Angstrom^3")
    m = _number("mass", mass, "eV fs^2/Angstrom^2", positive=True)
    return m**2 * c**2 / (np.pi * HBAR**4)


def fermi_energy(k_fermi: float, mass: float = M_ELECTRON) -> float:
    """``epsilon_F = hbar^2 k_F^2 / 2m`` in eV for ``k_fermi`` in 1/Angstrom."""
    k = _number("k_fermi", k_fermi, "1/Angstrom", positive=True)
    return (HBAR * k) ** 2 / (2.0 * mass)


def electron_density(k_fermi: float, spin: float = 1) -> float:
    """Electron number density ``rho = spin k_F^3 / (6 pi^2)`` in 1/Angstrom^3."""
    k = _number("k_fermi", k_fermi, "1/Angstrom", positive=True)
    return _spin(spin) * k**3 / (6.0 * np.pi**2)


def wind_force(coupling: float, k_fermi: float, current_density: ArrayLike, mass: float = M_ELECTRON) -> NDArray[Any]:
    """Electron wind force ``F_w = sigma_tr p_F j``, seed eq. (1), in eV/Angstrom.

    Parameters
    ----------
    coupling : float
        ``C`` in eV Angstrom^3.
    k_fermi : float
        ``k_F`` in 1/Angstrom (``p_F = hbar k_F``).
    current_density : array_like
        Incident particle current density ``j`` in 1/(Angstrom^2 fs), a
        vector (last axis) or a component; the force is parallel to it.
    mass : float
        eV fs^2/Angstrom^2.
    """
    k = _number("k_fermi", k_fermi, "1/Angstrom", positive=True)
    j = np.asarray(current_density, dtype=float)
    return transport_cross_section(coupling, mass) * HBAR * k * j


def wind_force_golden_rule(
    coupling: float, k_fermi: float, drift_velocity: float, mass: float = M_ELECTRON, spin: float = 1, nodes: int = 96
) -> float:
    """Wind force along ``z`` from the golden-rule momentum transfer, eV/Angstrom.

    A Fermi sphere of radius ``k_F`` shifted by ``q = m v_d / hbar`` along
    ``z`` (drift velocity ``v_d``, current ``j = rho v_d``) scatters off the
    static ``v = C delta(r)`` at the golden-rule rate ``W_{k->k'} = (2 pi /
    hbar) |C / Omega|^2 delta(eps_k - eps_k')``.  The momentum given to the
    scatterer per unit time is

    .. math:: F_z = \\sum_{k,k'} W_{k\\to k'} n_k (1 - n_{k'}) \\hbar(k_z - k'_z)
              = \\frac{2\\pi C^2}{\\hbar}\\int\\frac{d^3k}{(2\\pi)^3} n_k
              \\hbar k_z N(\\epsilon_k),

    where the ``n_k n_k'`` term cancels by antisymmetry, the ``k'_z``
    average over the energy shell vanishes, and ``N(eps) = m k / (2 pi^2
    hbar^2)`` is the density of final states per volume.  The ``k``
    integral over the shifted sphere, ``k = q + u``, ``|u| < k_F``, is done
    by Gauss-Legendre quadrature in ``|u|`` and ``cos``.  Valid at any
    drift; reduces to ``sigma_tr p_F rho v_d`` (seed eq. 1) for
    ``q << k_F``.

    Parameters
    ----------
    coupling : float
        eV Angstrom^3.
    k_fermi : float
        1/Angstrom.
    drift_velocity : float
        ``v_d`` in Angstrom/fs along ``z`` (negative allowed).
    mass : float
        eV fs^2/Angstrom^2.
    spin : int
        1 (spinless, seed) or 2: multiplies the number of incident electrons.
    nodes : int
        Quadrature points per dimension.
    """
    c = _number("coupling", coupling, "eV Angstrom^3")
    k = _number("k_fermi", k_fermi, "1/Angstrom", positive=True)
    v = _number("drift_velocity", drift_velocity, "Angstrom/fs")
    g = _spin(spin)
    q = mass * v / HBAR
    u, wu = gauss_legendre(nodes, (0.0, k))
    cth, wc = gauss_legendre(nodes)
    uu, cc = np.meshgrid(u, cth, indexing="ij")
    kz = q + uu * cc
    kmag = np.sqrt(q**2 + uu**2 + 2.0 * q * uu * cc)
    dos = mass * kmag / (2.0 * np.pi**2 * HBAR**2)
    integrand = HBAR * kz * dos * 2.0 * np.pi * uu**2  # azimuth done: 2 pi
    kint = np.einsum("i,j,ij->", wu, wc, integrand) / (2.0 * np.pi) ** 3
    return g * 2.0 * np.pi * c**2 / HBAR * kint


def friction(coupling: float, k_fermi: float, mass: float = M_ELECTRON, spin: float = 1) -> float:
    """Friction coefficient ``L_ZZ = -p_F sigma_tr rho``, seed eq. (48), eV fs/Angstrom^2.

    Small-frequency limit at equilibrium; isotropic, ``L = L_ZZ * identity``.
    Equals ``-spin C^2 m^2 k_F^4 / (6 pi^3 hbar^3)`` (:eq:`eq-wind-friction`).
    """
    k = _number("k_fermi", k_fermi, "1/Angstrom", positive=True)
    return -HBAR * k * transport_cross_section(coupling, mass) * electron_density(k, spin)


def friction_force(
    coupling: float, k_fermi: float, velocity: ArrayLike, mass: float = M_ELECTRON, spin: float = 1
) -> NDArray[Any]:
    """Friction force ``F^F = L_ZZ V`` on a scatterer moving at ``V`` (Angstrom/fs), eV/Angstrom."""
    return friction(coupling, k_fermi, mass, spin) * np.asarray(velocity, dtype=float)


def friction_electron_hole(
    coupling: float,
    k_fermi: float,
    hbar_omega: float,
    temperature: float = 0.0,
    mass: float = M_ELECTRON,
    spin: float = 1,
    nodes: int = 48,
) -> float:
    """``L_ZZ(omega_0)`` from the electron-hole sum, seed eqs (31) and (42).

    .. math::

        L^{\\rm sym}_{ZZ} = \\frac{2\\pi}{\\omega_0}\\Lambda^{o\\prime}_{ZZ}(\\omega_0),
        \\qquad
        \\Lambda^{o\\prime}_{ZZ}(\\omega) = \\frac12\\sum_{p,q}|\\langle q|f_Z|p\\rangle|^2
        [n_F(\\epsilon_q) - n_F(\\epsilon_p)]\\,\\delta(\\hbar\\omega-\\epsilon_q+\\epsilon_p)

    with plane waves ``|k>`` in a volume ``Omega`` and ``<k|f_Z|k'> = i C
    (k_z - k'_z) / Omega`` (``f = -grad_R v``).  With ``sum_k -> Omega int
    d^3k/(2 pi)^3`` and ``epsilon_q = epsilon_p + hbar omega_0``:

    .. math::

        L_{ZZ} = \\frac{\\pi C^2}{\\omega_0}\\int d\\epsilon\\,N(\\epsilon)
        N(\\epsilon+\\hbar\\omega_0)\\,\\langle(k_z-k'_z)^2\\rangle
        [n_F(\\epsilon+\\hbar\\omega_0)-n_F(\\epsilon)]

    with ``N`` the density of states per volume per spin and the average
    over the directions of ``k`` (energy ``eps``) and ``k'`` (energy ``eps +
    hbar omega_0``) done by Gauss-Legendre quadrature in both polar
    cosines.  Converges to ``-p_F sigma rho`` (seed eq. 48) as
    ``omega_0 -> 0`` at ``T = 0``, with an error ``O(hbar omega_0 /
    epsilon_F)``.

    Parameters
    ----------
    coupling : float
        eV Angstrom^3.
    k_fermi : float
        1/Angstrom (sets the chemical potential ``epsilon_F``).
    hbar_omega : float
        ``hbar omega_0`` in eV, ``> 0``.
    temperature : float
        K.
    mass : float
        eV fs^2/Angstrom^2.
    spin : int
        1 or 2.
    nodes : int
        Gauss-Legendre nodes per dimension.

    Returns
    -------
    float
        ``L_ZZ`` in eV fs/Angstrom^2 (negative: friction).
    """
    c = _number("coupling", coupling, "eV Angstrom^3")
    k = _number("k_fermi", k_fermi, "1/Angstrom", positive=True)
    hw = _number("hbar_omega", hbar_omega, "eV", positive=True)
    temp = _number("temperature", temperature, "K", nonnegative=True)
    g = _spin(spin)
    mu = fermi_energy(k, mass)
    lo, hi = window_bounds((mu - hw, mu), temp)
    lo = max(lo, 0.0)  # the band bottom
    eps, we = gauss_legendre(nodes, sorted({lo, hi, max(mu - hw, lo), min(mu, hi)}))
    k_p = np.sqrt(2.0 * mass * eps) / HBAR
    k_q = np.sqrt(2.0 * mass * (eps + hw)) / HBAR
    dos = lambda kk: mass * kk / (2.0 * np.pi**2 * HBAR**2)  # noqa: E731
    # direction average of (k_z - k'_z)^2 over two independent unit vectors
    cz, cw = gauss_legendre(nodes)
    cw = 0.5 * cw  # <.> = (1/2) int d cos
    avg = np.einsum(
        "a,b,eab->e",
        cw,
        cw,
        (k_q[:, None, None] * cz[None, :, None] - k_p[:, None, None] * cz[None, None, :]) ** 2,
    )
    dn = fermi(eps + hw, mu, temp) - fermi(eps, mu, temp)
    integral = np.sum(we * dos(k_p) * dos(k_q) * avg * dn)
    omega = hw / HBAR
    return g * np.pi * c**2 / omega * integral
