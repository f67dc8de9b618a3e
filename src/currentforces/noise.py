r"""Force noise, fluctuation-dissipation and Joule heating (seed section V).

The random force that makes vibrations equilibrate and Joule-heat
(seed eqs 58, 64-69) has the symmetrised spectrum (:ref:`theory-noise`)

.. math::

    S_{ab}(\omega) = \frac{g_s\hbar}{4\pi}\int dE \sum_{l,m}
      \big[n_m(E)(1 - n_l(E+\hbar\omega)) + n_l(E+\hbar\omega)(1 - n_m(E))\big]
      \mathrm{Tr}[f_a A_l(E+\hbar\omega) f_b A_m(E)],

Hermitian and positive semi-definite, with S(-omega) = S(omega)^T.  Its
dissipative partner is (:ref:`theory-dissipation`)

.. math::

    D_{ab}(\omega) = \frac{g_s}{4\pi}\int dE \sum_{l,m}
      [n_m(E) - n_l(E+\hbar\omega)]\,
      \mathrm{Tr}[f_a A_l(E+\hbar\omega) f_b A_m(E)]
      = -\omega L^{sym}(\omega) + i K^{asym}(\omega),

and each lead pair is a thermal bath shifted by mu_l - mu_m
(:eq:`eq-channel-fdt`): S = hbar sum_lm coth((hbar w - mu_l + mu_m)/2k_BT) D_lm.  All of them are views of
one lead-pair kernel, :func:`currentforces.pairs.pair_spectra`.

Units: hbar*omega in eV, S in eV^2*fs/Angstrom^2, D in eV/Angstrom^2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ._checks import check_positive, renamed_keywords
from .forces import lead_pair_spectra
from .junctionset import JunctionSet, operators_for_one, resolve_spin
from .units import HBAR, KB

if TYPE_CHECKING:
    from ._checks import ArrayLike, ComplexArray, MatrixLike, OperatorsLike
    from .junction import Junction

__all__ = ["JouleHeating", "channel_spectra", "dissipation_spectrum", "joule_heating", "noise_spectrum"]


@renamed_keywords(omega="hbar_omega")
def noise_spectrum(
    junction: Junction | JunctionSet,
    forces: OperatorsLike | Callable[[Any], Any],
    hbar_omega: ArrayLike,
    bias: float = 0.0,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    spin: float | None = None,
    chemical_potentials: ArrayLike | None = None,
    rtol: float = 1e-8,
    overlap_derivatives: OperatorsLike | None = None,
) -> ComplexArray:
    r"""Symmetrised force-noise spectrum S(omega) (:ref:`theory-noise`; seed eqs 58, 64).

    .. math::

        S_{ab}(\omega) = \frac{g_s\hbar}{4\pi}\int dE\sum_{l,m}
          \big[n_m(E)(1 - n_l(E+\hbar\omega)) + n_l(E+\hbar\omega)(1 - n_m(E))\big]
          \mathrm{Tr}[f_a A_l(E+\hbar\omega) f_b A_m(E)],

    the sum of the absorption and emission weights of the lead-pair kernel
    (:mod:`currentforces.pairs`).

    Parameters
    ----------
    junction : Junction or JunctionSet
        A set (spin channels, k-points) sums its members' spectra with
        their weights (:eq:`eq-junction-set`); a folded k-point adds
        S(k)^T for -k at zero bias (:eq:`eq-kpoint-reversal`) and evaluates
        -k under bias.
    forces : sequence of (N, N) arrays, or callable
        Force operators in eV/Angstrom; for a set also ``forces(key)`` per
        member (as :func:`currentforces.force_coefficients`).
    hbar_omega : float or array_like
        hbar*omega in eV (any sign).  ``omega`` is a deprecated alias.
    bias : float
        V in volt.
    temperature : float
        K.
    fermi_level : float
        eV.
    spin : {None, 1, 2}
        Spin degeneracy g_s; default 2, or the set's own.
    chemical_potentials : sequence of float, optional
        One per lead, eV.
    rtol : float
        Relative tolerance of the energy integral.

    overlap_derivatives : sequence of (N, N) arrays or sparse matrices, optional
        dS/dX_a in 1/Angstrom, one per force operator, for a junction with an
        ``overlap`` (:ref:`theory-overlap-forces`); None (or all zero): the
        overlap does not move.  A moving overlap makes the couplings energy
        dependent; each pair of states at E and E + hbar*omega is coupled by
        f_a(E + hbar*omega/2) = forces[a] + (E + hbar*omega/2) dS/dX_a, the
        symmetrised coupling of :eq:`eq-overlap-moving` (the connection
        term of the moving basis neglected, as there).

    Returns
    -------
    ndarray
        (M, M) for a scalar hbar_omega, ``hbar_omega.shape + (M, M)``
        otherwise; complex Hermitian positive semi-definite, in
        eV^2*fs/Angstrom^2.  The noise xi of the Langevin equation has
        <xi_a(t+s) xi_b(t)> = int domega/2pi e^{-i omega s} S_ab(omega).
    """
    if isinstance(junction, JunctionSet):
        biased = junction._biased(bias, fermi_level, chemical_potentials)
        return junction.evaluate(
            noise_spectrum,
            forces,
            exact=not biased,
            mirror=lambda s, *_: np.swapaxes(s, -1, -2),
            per_member={"overlap_derivatives": overlap_derivatives},
            hbar_omega=hbar_omega,
            bias=bias,
            temperature=temperature,
            fermi_level=fermi_level,
            spin=spin,
            chemical_potentials=chemical_potentials,
            rtol=rtol,
        )
    spin = resolve_spin(junction, spin)
    ops = operators_for_one(forces, "noise_spectrum")
    args = (junction, ops, hbar_omega, bias, temperature, fermi_level, spin, chemical_potentials, rtol)
    out = lead_pair_spectra(args, ("noise",), "noise_spectrum", overlap_derivatives)
    return cast("ComplexArray", out.noise)


@renamed_keywords(omega="hbar_omega")
def channel_spectra(
    junction: Junction,
    forces: OperatorsLike,
    hbar_omega: ArrayLike,
    bias: float = 0.0,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    spin: float = 2,
    chemical_potentials: ArrayLike | None = None,
    rtol: float = 1e-8,
) -> tuple[ComplexArray, ComplexArray]:
    r"""Per lead-pair terms D_lm(omega) and S_lm(omega) (:eq:`eq-channel-fdt`).

    D_lm is the (l, m) term of D: electrons from lead m at E scattered into
    states from lead l at E + hbar w; S_lm the matching noise term.  Each
    channel obeys its own fluctuation-dissipation relation
    S_lm = hbar coth((hbar w - mu_l + mu_m)/2k_BT) D_lm: a thermal bath
    shifted by the bias.  Arguments as :func:`noise_spectrum`.

    Returns
    -------
    d_lm, s_lm : ndarray, shape (L, L, M, M) for a scalar hbar_omega
        In eV/Angstrom^2 and eV^2*fs/Angstrom^2 (``hbar_omega.shape +
        (L, L, M, M)`` for an array).
    """
    args = (junction, forces, hbar_omega, bias, temperature, fermi_level, spin, chemical_potentials, rtol)
    out = lead_pair_spectra(args, ("channels",), "channel_spectra")
    return cast("ComplexArray", out.channel_dissipation), cast("ComplexArray", out.channel_noise)


@renamed_keywords(omega="hbar_omega")
def dissipation_spectrum(
    junction: Junction,
    forces: OperatorsLike,
    hbar_omega: ArrayLike,
    bias: float = 0.0,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    spin: float = 2,
    chemical_potentials: ArrayLike | None = None,
    rtol: float = 1e-8,
    overlap_derivatives: OperatorsLike | None = None,
) -> ComplexArray:
    r"""Dissipative kernel D(omega) = -omega L^sym(omega) + i K^asym(omega) in eV/Angstrom^2.

    Window form of the anti-Hermitian part of the force kernel
    (:eq:`eq-dissipation`; no Fermi sea): the absorption minus the
    emission weight of the lead-pair kernel (:mod:`currentforces.pairs`).
    Equals -2 pi Xi(omega)^* of the electron-hole spectrum (:eq:`eq-d-xi`).  Arguments and
    shapes as :func:`noise_spectrum` (``overlap_derivatives`` included).
    """
    args = (junction, forces, hbar_omega, bias, temperature, fermi_level, spin, chemical_potentials, rtol)
    out = lead_pair_spectra(args, ("dissipation",), "dissipation_spectrum", overlap_derivatives)
    return cast("ComplexArray", out.dissipation)


@dataclass
class JouleHeating:
    """Steady state of one vibrational mode driven by the electron bath.

    Attributes
    ----------
    frequency : float
        hbar*omega_0 in eV (the ``hbar_omega`` it was computed at).
    noise : float
        S(omega_0) in eV^2*fs/Angstrom^2.
    damping : float
        eta(omega_0) = -L^sym(omega_0) in eV*fs/Angstrom^2 (negative: the
        current pumps the mode, which runs away).
    energy : float
        <E_osc> = S/(2 eta) in eV (inf when eta <= 0).
    occupation : float
        n = <E>/(hbar omega_0) - 1/2.
    effective_temperature : float
        T_eff in K with (hbar w/2) coth(hbar w / 2 k_B T_eff) = <E>.
    unstable : bool
        True when eta <= 0.
    """

    frequency: float
    noise: float
    damping: float
    energy: float
    occupation: float
    effective_temperature: float
    unstable: bool


@renamed_keywords(frequency="hbar_omega")
def joule_heating(
    junction: Junction,
    force: MatrixLike,
    hbar_omega: float,
    bias: float = 0.0,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    spin: float = 2,
    chemical_potentials: ArrayLike | None = None,
    rtol: float = 1e-8,
) -> JouleHeating:
    r"""Steady-state energy, phonon occupation and effective temperature of one
    mode under current (:ref:`theory-joule`; seed eqs 66-69 at equilibrium).

    .. math::

        \langle E\rangle = \frac{S(\omega_0)}{2\eta(\omega_0)}, \qquad
        n = \frac{\langle E\rangle}{\hbar\omega_0} - \frac12, \qquad
        \frac{\hbar\omega_0}{2}\coth\frac{\hbar\omega_0}{2k_BT_{eff}} = \langle E\rangle,

    with eta(omega_0) = hbar Re D(omega_0)/(hbar omega_0) = -L^sym(omega_0),
    valid for weak damping (eta/M << omega_0).  At equilibrium this is the
    Bose-Einstein energy hbar w (1/2 + n_B) of seed eq (69).

    Parameters
    ----------
    force : (N, N) array_like
        The mode's force operator f (eV/Angstrom), e.g. sum_a e_a f_a for a
        normal-mode vector e (mass weighting is the caller's choice: the
        energy does not depend on the mass).
    hbar_omega : float
        hbar*omega_0 > 0 in eV.  ``frequency`` is a deprecated alias.
    Other parameters as :func:`noise_spectrum`.
    """
    w = check_positive("hbar_omega", hbar_omega, "eV")
    # D and S from one integral (each to rtol of its own size)
    args = (junction, [force], w, bias, temperature, fermi_level, spin, chemical_potentials, rtol)
    out = lead_pair_spectra(args, ("dissipation", "noise"), "joule_heating")
    s, d = cast("ComplexArray", out.noise), cast("ComplexArray", out.dissipation)
    noise = float(s[0, 0].real)
    eta = HBAR * float(d[0, 0].real) / w
    if eta <= 0:
        return JouleHeating(w, noise, eta, math.inf, math.inf, math.inf, True)
    energy = noise / (2 * eta)
    occupation = energy / w - 0.5
    x = 2 * energy / w
    if x <= 1:
        t_eff = 0.0
    else:
        t_eff = w / (KB * math.log((x + 1) / (x - 1)))
    return JouleHeating(w, noise, eta, energy, occupation, t_eff, False)
