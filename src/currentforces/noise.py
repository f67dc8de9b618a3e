r"""Force noise, fluctuation-dissipation and Joule heating (seed section V).

The random force that makes vibrations equilibrate and Joule-heat
(seed eqs 58, 64-69) has the symmetrised spectrum (formulas.md §5.1)

.. math::

    S_{ab}(\omega) = \frac{g_s\hbar}{4\pi}\int d\epsilon \sum_{l,m}
      \big[n_m(\epsilon)(1 - n_l(\epsilon+\hbar\omega))
         + n_l(\epsilon+\hbar\omega)(1 - n_m(\epsilon))\big]
      Tr[f_a A_l(\epsilon+\hbar\omega) f_b A_m(\epsilon)],

Hermitian and positive semi-definite, with S(-omega) = S(omega)^T.  Its
dissipative partner is (formulas.md §3.2)

.. math::

    D_{ab}(\omega) = \frac{g_s}{4\pi}\int d\epsilon \sum_{l,m}
      [n_m(\epsilon) - n_l(\epsilon+\hbar\omega)]\,
      Tr[f_a A_l(\epsilon+\hbar\omega) f_b A_m(\epsilon)]
      = -\omega L^{sym}(\omega) + i K^{asym}(\omega),

and each lead pair is a thermal bath shifted by mu_l - mu_m (formulas.md
§5.2): S = hbar sum_lm coth((hbar w - mu_l + mu_m)/2k_BT) D_lm.

Units: hbar*omega in eV, S in eV^2*fs/Angstrom^2, D in eV/Angstrom^2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._checks import check_leads, check_positive, check_rtol, check_spin, check_temperature
from .errors import InputError
from .forces import SpectralBlocks
from .integrate import fermi, integrate_adaptive
from .operators import ForceOperators
from .units import HBAR, KB

__all__ = ["noise_spectrum", "dissipation_spectrum", "channel_spectra", "JouleHeating", "joule_heating"]


def _lead_pair_spectra(junction, forces, omega, bias, temperature, fermi_level, spin, chemical_potentials,
                       rtol, kind):
    temperature = check_temperature(temperature)
    spin = check_spin(spin)
    rtol = check_rtol(rtol)
    check_leads(junction, {"S": "noise_spectrum", "D": "dissipation_spectrum"}.get(kind, "channel_spectra"))
    ops = ForceOperators(forces, junction.size)
    mus = junction.chemical_potentials(bias, fermi_level, chemical_potentials)
    blocks = SpectralBlocks(junction, ops)
    omegas = np.asarray(omega, dtype=float)
    if not np.all(np.isfinite(omegas)):
        raise InputError("omega contains NaN or inf")
    nl = len(mus)
    extra = (2, nl, nl) if kind == "channels" else ()
    out = np.empty(omegas.shape + extra + (ops.n_modes, ops.n_modes), dtype=complex)
    for idx, w in np.ndenumerate(omegas):
        def integrand(e, w=float(w)):
            _, a_m = blocks.green_and_spectral(e)          # A_m(E)
            _, a_l = blocks.green_and_spectral(e + w)      # A_l(E + w)
            n_m = [fermi(e, mu, temperature)[:, None, None] for mu in mus]
            n_l = [fermi(e + w, mu, temperature)[:, None, None] for mu in mus]
            a_p, a_0 = sum(a_l), sum(a_m)
            occ_p = sum(n * a for n, a in zip(n_l, a_l))    # sum_l n_l(E+w) A_l(E+w)
            occ_0 = sum(n * a for n, a in zip(n_m, a_m))    # sum_m n_m(E) A_m(E)
            if kind == "channels":
                # D_lm and S_lm for every lead pair: (2, L, L, M, M)
                rows_d, rows_s = [], []
                for al, nl in zip(a_l, n_l):
                    rd, rs = [], []
                    for am, nm in zip(a_m, n_m):
                        t = ops.traces(al, am)
                        rd.append((nm - nl) * t)
                        rs.append((nm * (1 - nl) + nl * (1 - nm)) * t)
                    rows_d.append(np.stack(rd, axis=1))
                    rows_s.append(np.stack(rs, axis=1))
                return np.stack([np.stack(rows_d, axis=1), HBAR * np.stack(rows_s, axis=1)], axis=1)
            if kind == "D":
                # sum_lm [n_m - n_l'] T(A_l', A_m)
                return ops.traces(a_p, occ_0) - ops.traces(occ_p, a_0)
            # sum_lm [n_m + n_l' - 2 n_m n_l'] T(A_l', A_m)
            return ops.traces(a_p, occ_0) + ops.traces(occ_p, a_0) - 2 * ops.traces(occ_p, occ_0)

        # resonances graded at eps and at eps - w (A_l(E + w))
        pts = junction.window_breakpoints(list(mus) + [m - w for m in mus], temperature, shifts=(float(w),))
        if pts[-1] <= pts[0]:
            out[idx] = 0.0
            continue
        res = integrate_adaptive(integrand, pts, rtol=rtol, atol=1e-14, what=f"{kind}(omega) integral")
        prefactor = spin / (4 * math.pi) * (HBAR if kind == "S" else 1.0)  # channels carry hbar in S
        out[idx] = prefactor * res.value
    return out


def noise_spectrum(junction, forces, omega, bias=0.0, temperature=300.0, fermi_level=0.0, spin=2,
                   chemical_potentials=None, rtol=1e-8):
    r"""Symmetrised force-noise spectrum S(omega) (formulas.md §5.1; seed eqs 58, 64).

    Parameters
    ----------
    junction : Junction
    forces : sequence of (N, N) arrays
        Force operators in eV/Angstrom.
    omega : float or array_like
        hbar*omega in eV (any sign).
    bias : float
        V in volt.
    temperature : float
        K.
    fermi_level : float
        eV.
    spin : float
        Spin degeneracy g_s.
    chemical_potentials : sequence of float, optional
        One per lead, eV.
    rtol : float
        Relative tolerance of the energy integral.

    Returns
    -------
    ndarray
        (M, M) for a scalar omega, omega.shape + (M, M) otherwise; complex
        Hermitian positive semi-definite, in eV^2*fs/Angstrom^2.  The noise
        xi of the Langevin equation has <xi_a(t+s) xi_b(t)> =
        int domega/2pi e^{-i omega s} S_ab(omega).
    """
    return _lead_pair_spectra(junction, forces, omega, bias, temperature, fermi_level, spin,
                              chemical_potentials, rtol, "S")


def channel_spectra(junction, forces, omega, bias=0.0, temperature=300.0, fermi_level=0.0, spin=2,
                    chemical_potentials=None, rtol=1e-8):
    r"""Per lead-pair terms D_lm(omega) and S_lm(omega) (formulas.md §5.2).

    D_lm is the (l, m) term of D: electrons from lead m at E scattered into
    states from lead l at E + hbar w; S_lm the matching noise term.  Each
    channel obeys its own fluctuation-dissipation relation
    S_lm = hbar coth((hbar w - mu_l + mu_m)/2k_BT) D_lm: a thermal bath
    shifted by the bias.

    Returns
    -------
    d_lm, s_lm : ndarray, shape (L, L, M, M) for a scalar omega
        In eV/Angstrom^2 and eV^2*fs/Angstrom^2.
    """
    out = _lead_pair_spectra(junction, forces, omega, bias, temperature, fermi_level, spin,
                             chemical_potentials, rtol, "channels")
    return out[..., 0, :, :, :, :], out[..., 1, :, :, :, :]


def dissipation_spectrum(junction, forces, omega, bias=0.0, temperature=300.0, fermi_level=0.0, spin=2,
                         chemical_potentials=None, rtol=1e-8):
    r"""Dissipative kernel D(omega) = -omega L^sym(omega) + i K^asym(omega) in eV/Angstrom^2.

    Window form of formulas.md §3.2 (no Fermi sea); equals -2 pi Xi(omega)^*
    of the electron-hole spectrum.  Arguments as :func:`noise_spectrum`.
    """
    return _lead_pair_spectra(junction, forces, omega, bias, temperature, fermi_level, spin,
                              chemical_potentials, rtol, "D")


@dataclass
class JouleHeating:
    """Steady state of one vibrational mode driven by the electron bath.

    Attributes
    ----------
    frequency : float
        hbar*omega_0 in eV.
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


def joule_heating(junction, force, frequency, bias=0.0, temperature=300.0, fermi_level=0.0, spin=2,
                  chemical_potentials=None, rtol=1e-8):
    r"""Steady-state energy, phonon occupation and effective temperature of one
    mode under current (formulas.md §5.5; seed eqs 66-69 at equilibrium).

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
    frequency : float
        hbar*omega_0 > 0 in eV.
    Other parameters as :func:`noise_spectrum`.
    """
    w = check_positive("frequency", frequency, "eV")
    s = noise_spectrum(junction, [force], w, bias, temperature, fermi_level, spin, chemical_potentials, rtol)
    d = dissipation_spectrum(junction, [force], w, bias, temperature, fermi_level, spin, chemical_potentials, rtol)
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
