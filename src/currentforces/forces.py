r"""The five current-induced forces: F0, K and L at any bias, temperature and frequency.

To second order in the electron-oscillator coupling (seed eq 14)

.. math:: F_a = F^{(0)}_a - \sum_b K_{ab} X_b + \sum_b L_{ab} V_b,

with K and L from one retarded kernel (formulas.md §3.1, seed eqs 20-21)

.. math::

    \Pi_{ab}(\omega) = \int d\epsilon \sum_l \frac{n_l(\epsilon)}{2\pi}
      \{ Tr[f_a G(\epsilon+\hbar\omega) f_b A_l(\epsilon)]
       + Tr[f_a A_l(\epsilon) f_b G^\dagger(\epsilon-\hbar\omega)] \},
    \qquad K = Re\,\Pi, \quad L = Im\,\Pi/\omega .

**How it is evaluated** (no real-axis integral over the Fermi sea, so no
band-edge or 1/omega trouble, formulas.md §4.1 caveat and §3.2).  With a
reference occupation n_0 = n_F(E - mu_0), mu_0 the mean chemical potential
(E_F for a symmetric bias), Pi = Pi_eq + Pi_bias exactly (§3.4):

* Pi_bias, the **current-induced part**: the integrand above with
  n_l -> n_l - n_0, an integral over the bias window only;
* Pi_eq, the zero-bias kernel at the same temperature.  Writing
  A = i(G - G^dagger) splits it into terms analytic in the upper half
  plane, done by the Matsubara pole sum S[.] of :mod:`currentforces.integrate`,
  and one term in G(E + hbar w) G^dagger(E) that lives on the Fermi window
  [mu_0 - hbar w, mu_0] (derivation in :func:`_pole_kernel`):

  .. math::

     \Pi_{eq}(w) = \tfrac12 Re\, S[F_+] + \tfrac{i}{2} Im\, S[F_-]
       + \frac{i}{2\pi}\int d\epsilon\,[n_0(\epsilon+w) - n_0(\epsilon)]
         Tr[f_a G(\epsilon+w) f_b G^\dagger(\epsilon)],

     F_\pm(z) = Tr[f_a (G(z+w) \pm G(z-w)) f_b G(z)] .

In the adiabatic limit (``frequency=0``) L = hbar dIm Pi/dw at w = 0 takes
the derivatives of these terms: a pole sum of Tr[f_a G'(z) f_b G(z)], a
Fermi-surface term (-dn_0/dE) Re Tr[f_a G f_b G^dagger] and the window term
(hbar/pi) Im Tr[f_a dG/dE f_b A_l] (n_l - n_0) of formulas.md §4.2, with
dG/dE = -G (1 - dSigma/dE) G carrying the leads' energy dependence (formulas.md §2).

Spin: every electronic quantity is multiplied by ``spin`` (g_s).

Units: energies eV, bias V, temperature K, frequency hbar*omega in eV,
forces f in eV/Angstrom; F0 eV/A, K eV/A^2, L eV*fs/A^2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_leads, check_nonnegative, check_rtol, check_spin, check_temperature
from .errors import InputError
from .integrate import fermi, fermi_derivative, integrate_adaptive, matsubara_sum
from .operators import ForceOperators
from .units import HBAR, KB

__all__ = [
    "ForceCoefficients",
    "force_coefficients",
    "electron_hole_spectrum",
    "symmetric_part",
    "antisymmetric_part",
    "SpectralBlocks",
]


def symmetric_part(m):
    """(M + M^T)/2 over the last two axes."""
    return 0.5 * (m + np.swapaxes(m, -1, -2))


def antisymmetric_part(m):
    """(M - M^T)/2 over the last two axes."""
    return 0.5 * (m - np.swapaxes(m, -1, -2))


# ----------------------------------------------------------------------------
# Green's functions restricted to the force support
# ----------------------------------------------------------------------------
class SpectralBlocks:
    """G and A_l restricted to the support S of the force operators.

    Reads the junction only through ``green_submatrix`` and
    ``green_derivative_submatrix`` (and the leads' self-energies on their
    supports), so a block-tridiagonal backend serves it unchanged.
    """

    def __init__(self, junction, operators: ForceOperators):
        self.junction = junction
        self.ops = operators
        self.s = operators.support
        sups = []
        for i, lead in enumerate(junction.leads):
            sup = getattr(lead, "support", None)
            sups.append(np.arange(junction.size) if sup is None else np.asarray(sup, dtype=int))
        self.lead_supports = sups
        cols = np.unique(np.concatenate([self.s, *sups])) if sups else self.s
        self.cols = cols
        self._pos_s = np.searchsorted(cols, self.s)
        self._pos_l = [np.searchsorted(cols, sup) for sup in sups]

    def green(self, energy):
        """G[S, S] for energies (1-d), shape (n, s, s)."""
        return self.junction.green_submatrix(energy, self.s, self.s)

    def green_and_spectral(self, energy):
        """G[S, S] and the list A_l[S, S] = G[S, sup_l] Gamma_l G[S, sup_l]^dagger."""
        g = self.junction.green_submatrix(energy, self.s, self.cols)
        return g[:, :, self._pos_s], self._spectral_from(g, self._pos_l, energy)

    def _spectral_from(self, g_rows, positions, energy):
        """A_l[S, S] from rows G[S, :] whose columns ``positions[l]`` are lead l's support."""
        a_l = []
        for lead, sup, pos in zip(self.junction.leads, self.lead_supports, positions):
            if hasattr(lead, "self_energy_block"):  # Sigma on the support, never N x N
                sigma = np.asarray(lead.self_energy_block(energy))
            else:
                sigma = np.asarray(lead.self_energy(energy))[:, sup[:, None], sup[None, :]]
            gamma = 1j * (sigma - np.conj(np.swapaxes(sigma, -1, -2)))
            gs = g_rows[:, :, pos]
            a_l.append(gs @ gamma @ np.conj(np.swapaxes(gs, -1, -2)))
        return a_l

    def green_derivative(self, energy, spectral=False):
        r"""G[S, S] and dG/dE [S, S] = -[G (1 - dSigma/dE) G]_{SS} (1/eV^2),
        and with ``spectral=True`` also the list A_l[S, S].

        The sum over all intermediate orbitals needs the full rows G[S, :]
        and columns G[:, S]; with the dense backend they come from one call
        for the whole G, with a sparse one (``junction.solver``) from
        ``junction.green_derivative_submatrix``.
        """
        j = self.junction
        if getattr(j, "solver", None) is not None:
            # sparse backend (block tridiagonal): dG/dE on S from the layer
            # recursions, never the full G
            gss, dg = j.green_derivative_submatrix(energy, self.s)
            if spectral:
                g = j.green_submatrix(energy, self.s, self.cols)
                return gss, dg, self._spectral_from(g, self._pos_l, energy)
            return gss, dg
        everything = np.arange(j.size)
        full = j.green_submatrix(energy, everything, everything)
        rows = full[:, self.s, :]       # G[S, :]
        cols = full[:, :, self.s]       # G[:, S]
        dg = -(rows @ cols)
        for lead, sup in zip(j.leads, self.lead_supports):
            dsig = np.asarray(lead.self_energy_derivative(energy))[:, sup[:, None], sup[None, :]]
            dg = dg + rows[:, :, sup] @ dsig @ cols[:, sup, :]
        gss = rows[:, :, self.s]
        if spectral:
            return gss, dg, self._spectral_from(rows, self.lead_supports, energy)
        return gss, dg


def _hermitian_conj(m):
    return np.conj(np.swapaxes(m, -1, -2))


# ----------------------------------------------------------------------------
# result container
# ----------------------------------------------------------------------------
@dataclass
class ForceCoefficients:
    r"""Current-induced force coefficients at one bias, temperature and frequency.

    Attributes
    ----------
    mean_force : ndarray (M,)
        F0_a = g_s integral Tr[f_a rho(E)] dE in eV/Angstrom (seed eqs 6, 13).
    K : ndarray (M, M)
        Position coefficients in eV/Angstrom^2, F = -K X (seed eq 20), full
        (Fermi sea included).
    L : ndarray (M, M)
        Velocity coefficients in eV*fs/Angstrom^2, F = L V (seed eq 21).
    mean_force_current, K_current, L_current : ndarray
        The current-induced parts alone: the same quantities minus their
        zero-bias values at the same temperature (the bias-window term of
        formulas.md §3.4), computed directly.
    frequency : float
        hbar*omega_0 in eV (0: adiabatic).
    chemical_potentials : ndarray
        Lead chemical potentials in eV.
    temperature : float
        K.
    spin : float
        Spin degeneracy g_s included in every quantity.
    error : dict
        Estimated absolute integration errors of ``K`` and ``L`` (and of the
        current-induced parts), in their units.
    """

    mean_force: np.ndarray
    K: np.ndarray
    L: np.ndarray
    mean_force_current: np.ndarray
    K_current: np.ndarray
    L_current: np.ndarray
    frequency: float
    chemical_potentials: np.ndarray
    temperature: float
    spin: float
    error: dict = field(default_factory=dict)

    # the five forces (design.md table)
    @property
    def renormalization(self):
        """Symmetric part of K (eV/A^2): the conservative renormalisation of the potential."""
        return symmetric_part(self.K)

    @property
    def nonconservative(self):
        """Antisymmetric part of K (eV/A^2): the non-conservative ('waterwheel') force, seed eq 33-36."""
        return antisymmetric_part(self.K)

    @property
    def friction(self):
        """Symmetric part of L (eV*fs/A^2): electronic friction, negative semi-definite at equilibrium (seed eq 40-43)."""
        return symmetric_part(self.L)

    @property
    def berry(self):
        """Antisymmetric part of L (eV*fs/A^2): the Berry-phase ('Lorentz') force, seed eq 44-47."""
        return antisymmetric_part(self.L)

    @property
    def renormalization_current(self):
        """Current-induced part of the renormalisation (eV/A^2)."""
        return symmetric_part(self.K_current)

    @property
    def nonconservative_current(self):
        """Current-induced non-conservative force (eV/A^2); equals ``nonconservative``
        for real h and f (time-reversal symmetry)."""
        return antisymmetric_part(self.K_current)

    @property
    def friction_current(self):
        """Current-induced change of the friction (eV*fs/A^2)."""
        return symmetric_part(self.L_current)

    @property
    def berry_current(self):
        """Current-induced Berry force (eV*fs/A^2)."""
        return antisymmetric_part(self.L_current)

    @property
    def bias(self):
        """mu_0 - mu_1 in V for a junction with at least two leads."""
        mus = self.chemical_potentials
        return float(mus[0] - mus[1]) if len(mus) > 1 else 0.0


# ----------------------------------------------------------------------------
# the kernel pieces
# ----------------------------------------------------------------------------
def _pole_kernel(blocks, ops, w, mu0, temperature, rtol, scale):
    r"""Analytic (upper-half-plane) part of Pi_eq(w) by the Matsubara sum.

    Derivation: in Pi_eq, A = i(G - G^dagger) gives
    (i/2pi) int n_0 {Tr[f_a G(E+w) f_b G(E)] - Tr[f_a G^dagger(E) f_b G^dagger(E-w)]}
    plus the mixed term of :func:`_mixed_window_integrand`.  With
    int n_0 F = -i pi S[F] for F analytic in the UHP and
    Tr[f_a G^dagger(E) f_b G^dagger(E-w)] = conj Tr[f_a G(E-w) f_b G(E)]
    (trace lemma), this is (1/2) S[F_1] + (1/2) conj S[F_2] with
    F_1 = Tr[f_a G(z+w) f_b G(z)], F_2 = Tr[f_a G(z-w) f_b G(z)]; i.e.
    Re = Re S[F_+]/2, Im = Im S[F_-]/2 with F_+- = F_1 +- F_2, which keeps
    the O(w) imaginary part free of cancellation.

    Returns (Pi_pole, error) with Pi_pole complex (M, M) for w > 0, and for
    w = 0 the pair (K_pole, Im S[Tr f_a G' f_b G]) stacked on a leading axis.
    """
    if w > 0:
        def func(z):
            g0 = blocks.green(z)
            gp = blocks.green(z + w)
            gm = blocks.green(z - w)
            return np.stack([ops.traces(gp + gm, g0), ops.traces(gp - gm, g0)], axis=1)

        res = matsubara_sum(func, mu0, temperature, rtol=rtol, atol=1e-14, energy_scale=scale,
                            what="equilibrium force kernel (pole sum)")
        pi = 0.5 * res.value[0].real + 0.5j * res.value[1].imag
        return pi, res.error

    def func0(z):
        g0, dg = blocks.green_derivative(z)
        return np.stack([ops.traces(g0, g0), ops.traces(dg, g0)], axis=1)

    res = matsubara_sum(func0, mu0, temperature, rtol=rtol, atol=1e-14, energy_scale=scale,
                        what="equilibrium force constants (pole sum)")
    return np.stack([res.value[0].real, res.value[1].imag]), res.error


def _window_points(junction, mus, temperature, w, mu0):
    """Breakpoints (eV) of the window integrals at frequency w (eV): every
    chemical potential, mu_0, and both shifted by -w (the mixed term lives on
    [mu_0 - w, mu_0])."""
    base = list(mus) + [mu0]
    extra = [m - w for m in base] if w > 0 else []
    return junction.window_breakpoints(base + extra, temperature)


def window_integrand(blocks, chemical_potentials, temperature, frequency):
    """The real-axis integrand of :func:`force_coefficients` (one energy batch
    at a time), exposed for benchmarks and for evaluation on a user grid.

    Returns
    -------
    pieces : list of (name, shape)
        The quantities the integrand stacks, in order.
    integrand : callable
        ``integrand(E)`` for a 1-d array of energies (eV) returns
        (len(E), sum of sizes) complex.
    """
    mus = np.asarray(chemical_potentials, dtype=float)
    mu0 = float(np.mean(mus))
    ops = blocks.ops
    w = float(frequency)
    biased = len(mus) > 1 and np.ptp(mus) > 0
    kt = KB * temperature
    m = ops.n_modes
    pieces = []  # (name, trailing shape) in the order the integrand stacks them
    if w > 0:
        pieces.append(("mixed", (m, m)))
    if biased:
        pieces += [("K_bias" if w == 0 else "pi_bias", (m, m)), ("density", (m,))]
        if w == 0:
            pieces.append(("L_bias", (m, m)))
    if w == 0 and kt > 0:
        pieces.append(("surface", (m, m)))

    def integrand(e):
        n0 = fermi(e, mu0, temperature)
        got = {}
        if biased and w == 0:
            g0, dg, a_l = blocks.green_derivative(e, spectral=True)
        elif biased or w > 0:
            g0, a_l = blocks.green_and_spectral(e)
        else:
            g0 = blocks.green(e)
        if biased:
            # occupation-weighted spectral function sum_l (n_l - n_0) A_l
            aw = sum((fermi(e, mu, temperature) - n0)[:, None, None] * a for a, mu in zip(a_l, mus))
            got["density"] = ops.expectation(aw) / (2 * math.pi)
        if w > 0:
            gp = blocks.green(e + w)
            # mixed equilibrium term (i/2pi) [n0(E+w) - n0(E)] Tr[f_a G(E+w) f_b G^dagger(E)]
            got["mixed"] = (1j / (2 * math.pi)) * (fermi(e + w, mu0, temperature) - n0)[:, None, None] \
                * ops.traces(gp, _hermitian_conj(g0))
            if biased:
                gm = blocks.green(e - w)
                got["pi_bias"] = (ops.traces(gp, aw) + np.conj(ops.traces(gm, aw))) / (2 * math.pi)
        else:
            pairs = []
            if biased:
                pairs += [(g0, aw), (dg, aw)]
            if kt > 0:
                pairs.append((g0, _hermitian_conj(g0)))
            tr = ops.traces_many(pairs) if pairs else []
            if biased:
                # K window (formulas.md §4.2): (1/pi) Re Tr[f_a G f_b A_l] (n_l - n_0)
                got["K_bias"] = tr[0].real / math.pi
                # L window: (hbar/pi) Im Tr[f_a dG/dE f_b A_l] (n_l - n_0)
                got["L_bias"] = HBAR * tr[1].imag / math.pi
            if kt > 0:
                # Fermi-surface friction term (hbar/2pi) n0'(E) Re Tr[f_a G f_b G^dagger]
                got["surface"] = -HBAR / (2 * math.pi) * fermi_derivative(e, mu0, temperature)[:, None, None] \
                    * tr[-1].real
        return np.concatenate([got[name].reshape(e.size, -1).astype(complex) for name, _ in pieces], axis=1)

    return pieces, integrand


def force_coefficients(junction, forces, bias=0.0, temperature=300.0, fermi_level=0.0, frequency=0.0,
                       spin=2, chemical_potentials=None, rtol=1e-8):
    r"""Mean force and the K, L coefficients of seed eq (14) at any bias,
    temperature and frequency.

    Parameters
    ----------
    junction : Junction
        The device and its leads.
    forces : sequence of (N, N) arrays or scipy.sparse matrices
        Force operators f_a = -dh/dX_a in eV/Angstrom (Hermitian, device basis).
    bias : float
        V in volt: mu_0 = E_F + V/2 (lead 0), mu_1 = E_F - V/2 (lead 1).
    temperature : float
        Electronic temperature in K (0 allowed).
    fermi_level : float
        E_F in eV.
    frequency : float
        Oscillator energy hbar*omega_0 in eV (>= 0); 0 is the adiabatic limit.
    spin : float
        Spin degeneracy g_s multiplying every coefficient.
    chemical_potentials : sequence of float, optional
        One per lead in eV; replaces ``bias`` and ``fermi_level``.
    rtol : float
        Relative tolerance of every energy integral.

    Returns
    -------
    ForceCoefficients
        ``mean_force`` (M,), ``K``, ``L`` (M, M) with their parts
        ``renormalization``, ``nonconservative``, ``friction``, ``berry`` and
        the current-induced parts ``K_current``, ``L_current``.

    Notes
    -----
    The zero-bias reference is mu_0 = mean of the chemical potentials (E_F
    for a symmetric bias).  The Fermi-sea pole sum includes bound states of
    the device; the scattering-state density matrix of seed eq (13) does not.
    Where the device has none (check the sum rule), the two agree.
    """
    temperature = check_temperature(temperature)
    w = check_nonnegative("frequency", frequency, "eV")
    spin = check_spin(spin)
    rtol = check_rtol(rtol)
    check_leads(junction, "force_coefficients")
    ops = ForceOperators(forces, junction.size)
    mus = junction.chemical_potentials(bias, fermi_level, chemical_potentials)
    mu0 = float(np.mean(mus)) if len(mus) else float(fermi_level)
    blocks = SpectralBlocks(junction, ops)
    biased = len(mus) > 1 and np.ptp(mus) > 0
    kt = KB * temperature
    scale = junction.energy_scale

    # ---- mean force from the density matrix on the support (seed eq 6, 13)
    rho_eq = junction.equilibrium_density_matrix(mu0, temperature, rtol=rtol, orbitals=ops.support).value
    f_eq = ops.expectation(rho_eq).real

    # ---- one adaptive window integral for everything on the real axis
    m = ops.n_modes
    pieces, integrand = window_integrand(blocks, mus, temperature, w)

    got = {}
    werr = 0.0
    if pieces:
        pts = _window_points(junction, mus, temperature, w, mu0)
        win = integrate_adaptive(integrand, pts, rtol=rtol, atol=1e-14, what="force-coefficient window integral")
        werr = win.error
        offset = 0
        for name, shape in pieces:
            size = int(np.prod(shape))
            got[name] = win.value[offset:offset + size].reshape(shape)
            offset += size

    pole, perr = _pole_kernel(blocks, ops, w, mu0, temperature, rtol, scale)

    zero = np.zeros((m, m))
    f_cur = got["density"].real if biased else np.zeros(m)
    if w > 0:
        pi_bias = got.get("pi_bias", np.zeros((m, m), complex))
        pi = pole + got["mixed"] + pi_bias
        k, l_ = pi.real, HBAR * pi.imag / w
        k_cur, l_cur = pi_bias.real, HBAR * pi_bias.imag / w
        lerr = HBAR * (werr + perr) / w
    else:
        k_cur = got["K_bias"].real if biased else zero
        l_cur = got["L_bias"].real if biased else zero
        l_surf = got["surface"].real if kt > 0 else -HBAR / (2 * math.pi) * _surface_t0(blocks, ops, mu0)
        k = pole[0] + k_cur
        l_ = HBAR * pole[1] + l_surf + l_cur
        lerr = HBAR * perr + werr
    f0 = f_eq + f_cur
    err = {"K": spin * (werr + perr), "L": spin * lerr, "K_current": spin * werr,
           "L_current": spin * (HBAR * werr / w if w > 0 else werr)}
    return ForceCoefficients(
        mean_force=spin * f0, K=spin * k, L=spin * l_,
        mean_force_current=spin * f_cur, K_current=spin * k_cur, L_current=spin * l_cur,
        frequency=w, chemical_potentials=mus, temperature=temperature, spin=spin, error=err,
    )


def _surface_t0(blocks, ops, mu0):
    """Re Tr[f_a G(mu0) f_b G^dagger(mu0)]: the T = 0 Fermi-surface term."""
    g0 = blocks.green(np.array([mu0]))
    return ops.traces(g0, _hermitian_conj(g0)).real[0]


# ----------------------------------------------------------------------------
# electron-hole spectrum (seed eqs 22, 27-32)
# ----------------------------------------------------------------------------
def electron_hole_spectrum(junction, forces, omega, bias=0.0, temperature=300.0, fermi_level=0.0, spin=2,
                           chemical_potentials=None, rtol=1e-8):
    r"""Electron-hole spectrum Xi(omega) = Lambda^o'(omega) + i Lambda^e''(omega).

    .. math::

        \Xi_{ab}(\omega) = \frac{g_s}{8\pi^2}\int d\epsilon \sum_{l,m}
          [n_l(\epsilon) - n_m(\epsilon - \hbar\omega)]\,
          Tr[f_a A_m(\epsilon-\hbar\omega) f_b A_l(\epsilon)]

    (seed eqs 22, 27-32 in NEGF form, formulas.md §3.3): a Hermitian matrix
    whose real part Lambda^o' is symmetric and odd in omega and whose
    imaginary part Lambda^e'' is antisymmetric, even in omega and zero at
    equilibrium with real h and f.  It gives the dissipative forces directly
    (seed eqs 34-36, 42): L^sym(w0) = 2 pi hbar Re Xi(w0)/w0 and
    K^asym(w0) = 2 pi Im Xi(w0), and the conservative ones by the
    principal-value integrals of seed eqs 29 and 44.

    Parameters
    ----------
    omega : float or array_like
        Electron-hole pair energies hbar*omega in eV (any sign).
    Other parameters as in :func:`force_coefficients`.

    Returns
    -------
    ndarray, shape omega.shape + (M, M), complex, in eV/Angstrom^2
        (the delta(hbar omega - ...) of seed eq 22 normalised per unit
        hbar*omega).
    """
    temperature = check_temperature(temperature)
    spin = check_spin(spin)
    rtol = check_rtol(rtol)
    check_leads(junction, "electron_hole_spectrum")
    ops = ForceOperators(forces, junction.size)
    mus = junction.chemical_potentials(bias, fermi_level, chemical_potentials)
    blocks = SpectralBlocks(junction, ops)
    omegas = np.asarray(omega, dtype=float)
    if not np.all(np.isfinite(omegas)):
        raise InputError("omega contains NaN or inf")
    out = np.empty(omegas.shape + (ops.n_modes, ops.n_modes), dtype=complex)
    for idx, wv in np.ndenumerate(omegas):
        def integrand(e, wv=wv):
            g0, a_l = blocks.green_and_spectral(e)
            _, a_lm = blocks.green_and_spectral(e - wv)
            a_tot, am_tot = sum(a_l), sum(a_lm)
            occ = sum(fermi(e, mu, temperature)[:, None, None] * a for a, mu in zip(a_l, mus))
            occ_m = sum(fermi(e - wv, mu, temperature)[:, None, None] * a for a, mu in zip(a_lm, mus))
            return ops.traces(am_tot, occ) - ops.traces(occ_m, a_tot)

        pts = junction.window_breakpoints(list(mus) + [m + wv for m in mus], temperature)
        if pts[-1] - pts[0] <= 0:
            out[idx] = 0.0
            continue
        res = integrate_adaptive(integrand, pts, rtol=rtol, atol=1e-14, what="electron-hole spectrum")
        out[idx] = spin * res.value / (8 * math.pi**2)
    return out
