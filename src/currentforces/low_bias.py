r"""Low-bias coefficients from the Fermi surface: friction, and the current-induced
forces per volt, from one Green's function at T = 0.

With lead chemical potentials mu_l = E_F + alpha_l V (alpha = +1/2, -1/2 for
leads 0 and 1, :meth:`Junction.chemical_potentials`), every current-induced
coefficient of :func:`~currentforces.force_coefficients` is a window integral
(seed eqs 20-21 with the occupations split into n_0 and the window
n_l - n_0)

.. math::

    K_{cur} = \frac{1}{\pi}\int d\epsilon \sum_l (n_l - n_0)\,
        Re\,Tr[f_a G f_b A_l], \qquad
    L_{cur} = \frac{\hbar}{\pi}\int d\epsilon \sum_l (n_l - n_0)\,
        Im\,Tr[f_a \partial_\epsilon G f_b A_l],

    F^{(0)}_{cur} = \frac{1}{2\pi}\int d\epsilon \sum_l (n_l - n_0)\, Tr[f_a A_l],

with n_0 = n_F(E - E_F).  Since dn_l/dV = alpha_l (-dn_F/dE)(E - E_F) at
V = 0, the slopes are Fermi-surface averages (:eq:`eq-low-bias-average`)

.. math::

    \langle X\rangle = \int d\epsilon\,\Big(-\frac{\partial n_F}{\partial\epsilon}\Big) X(\epsilon)
      \;\xrightarrow{T=0}\; X(E_F), \qquad
    \Delta A = \sum_l \alpha_l A_l = \tfrac12 (A_0 - A_1),

    \frac{dK}{dV} = \frac{1}{\pi}\langle Re\,Tr[f_a G f_b \Delta A]\rangle, \quad
    \frac{dL}{dV} = \frac{\hbar}{\pi}\langle Im\,Tr[f_a \partial_\epsilon G f_b \Delta A]\rangle, \quad
    \frac{dF^{(0)}}{dV} = \frac{1}{2\pi}\langle Tr[f_a \Delta A]\rangle .

Their parts (trace lemma Tr[f_b X f_a Y] = Tr[f_a X f_b Y]^* for Hermitian
f, X, Y; G = G_H - (i/2) A with G_H = (G + G^dagger)/2):

* renormalisation per volt, (1/pi) <Re Tr[f_a G_H f_b Delta A]>: G_H holds
  the principal-value integral over the whole spectrum, but its bias
  derivative is still a Fermi-surface value;
* non-conservative force per volt, -(1/2pi) <Im Tr[f_a A_0 f_b A_1]>
  (zero at half filling of a perfect chain, (2 beta^2/pi t^2) sin 2k_F d
  away from it);
* Berry force per volt, (hbar/pi) <Im Tr[f_a dG_H/dE f_b Delta A]>;
* friction per volt, -(hbar/2pi) <Re Tr[f_a dA/dE f_b Delta A]>.  The
  friction at bias V has a Fermi-surface term at both chemical potentials,
  -(hbar/4pi) sum_l Re Tr[f_a A_l f_b A](mu_l) at T = 0, plus a window term
  in Tr[f_a dA_l/dE f_b A_m]; differentiating the first brings in the
  energy derivative of the Fermi-surface product, and with the second the
  sum collapses to the formula above, which is the symmetric part of the
  dL/dV trace (dG/dE = dG_H/dE - (i/2) dA/dE).

The equilibrium friction is the Fermi-surface average
-(hbar/4pi) <Re Tr[f_a A f_b A]> (seed eqs 40-43 in the adiabatic limit);
the noise channels C_lm = (hbar/4pi) <Tr[f_a A_l f_b A_m]> give the force
noise at low bias and frequency through the channel fluctuation-dissipation
relation, S(w) = sum_lm C_lm x_lm coth(x_lm / 2 k_B T) with
x_lm = hbar w - mu_l + mu_m (exact when the A_l do not vary over the window);
their cross terms are the emission coefficient: at T = 0 and hbar w << eV
the bias adds ``|eV|`` (C_01 + C_10) to the noise.  Every quantity is
multiplied by the spin degeneracy g_s.

**Cost.**  At T = 0 everything comes from G, dG/dE and A_l at the single
energy E_F (one Green's function).  At T > 0 the average is a Gauss rule for
the weight -dn_F/dE (:func:`~currentforces.integrate.fermi_derivative_rule`)
with 4, 8, 16, ... nodes until two successive rules agree, and an adaptive
window integral where they do not (a lead band edge within the thermal
window, or features narrower than k_B T).

**Correspondence with sclmd.**  These are the wide-band, low-bias
coefficients (:ref:`theory-small-bias`, whose T = 0 table these slopes
reproduce; the friction slope is new) used in the semi-classical Langevin
dynamics of J.-T. Lu, M. Brandbyge and P. Hedegaard, Nano Lett. 10, 1657
(2010) and J.-T. Lu, M. Brandbyge, P. Hedegaard, T. N. Todorov and
D. Dundas, Phys. Rev. B 85, 245444 (2012), which sclmd's
``wbLambda`` evaluates at one energy, T = 0, g_s = 2, hbar = 1 and
mass-weighted couplings M^k = dH/dQ_k; with f_k -> M^k (the sign drops out of
the bilinear traces; for Cartesian f_a divide each coefficient by
sqrt(M_a M_b)) and ``bias`` = mu_0 - mu_1:

=========  ======================================================
sclmd      here
=========  ======================================================
eta        -friction / hbar
xim        -nonconservative_per_volt
xip        noise_emission / hbar  (real part of C_01 + C_10)
zeta1      renormalization_per_volt
zeta2      -berry_per_volt / hbar
(none)     friction_per_volt
=========  ======================================================

sclmd has no friction change per volt and evaluates the T = 0 formulas
only.  (The correspondence follows from the definitions of those
coefficients in terms of traces of G and A_l; no code was taken from sclmd.)

Units: K-type coefficients per volt in eV/Angstrom^2/V, L-type in
eV*fs/Angstrom^2/V, the mean force per volt in eV/Angstrom/V, the noise
channels in eV*fs/Angstrom^2 (noise per eV of x_lm).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._checks import (
    check_finite,
    check_leads,
    check_number,
    check_rtol,
    check_spin,
    check_temperature,
    renamed_keywords,
)
from .errors import InputError, IntegrationError, IntegrationWarning
from .forces import ForceCoefficients, SpectralBlocks, antisymmetric_part, matrix_part, symmetric_part
from .integrate import GK_NODES, GK_WEIGHTS, THERMAL_CUTOFF, fermi_derivative, fermi_derivative_rule, integrate_adaptive
from .operators import ForceOperators
from .resonances import in_rows
from .units import HBAR, KB

if TYPE_CHECKING:
    from ._checks import ArrayLike, ComplexArray, OperatorsLike, RealArray
    from .junction import Junction

__all__ = ["LowBiasCoefficients", "LinearCoefficients", "low_bias_coefficients"]

_GAUSS_NODES = (4, 8, 16, 32)
"""Node counts of the successive Fermi-derivative rules at T > 0."""

_GROUPS = ("K_per_volt", "L_per_volt", "mean_force_per_volt", "noise_channels (and friction)")
"""The stacked trace groups of the integrand, in order."""

_ROUNDOFF = 1e-14
"""A group counts as converged when its change is below this fraction of the
largest lead term of its integrand (cancellation to roundoff: a slope
sum_l alpha_l X_l that vanishes by symmetry is roundoff of the X_l)."""

_NOISE = 1e-10
"""A group whose change between successive Gauss rules has stopped falling
(it did not halve) while it stays below this fraction of the largest lead
term of its integrand has reached the integrand's own rounding, which can
exceed :data:`_ROUNDOFF` (a Green's function from a sweep over thousands of
layers carries ~1e-12 of it): it counts as converged, with the larger of
the last two changes as its error.  An analytic integrand under Gauss rules
converges geometrically, so differences that do not fall are noise."""


# ----------------------------------------------------------------------------
# result containers
# ----------------------------------------------------------------------------
@dataclass
class LinearCoefficients:
    r"""Force coefficients to first order in the bias (:meth:`LowBiasCoefficients.at`).

    The attributes mirror :class:`~currentforces.ForceCoefficients` (adiabatic,
    frequency 0).

    Attributes
    ----------
    K : ndarray (M, M)
        eV/Angstrom^2.  With ``includes_equilibrium`` the zero-bias K_eq plus
        V dK/dV; without, only V dK/dV: the current-induced change, to be
        added to a dynamical matrix computed at zero bias.
    L : ndarray (M, M)
        eV*fs/Angstrom^2: L_eq + V dL/dV.  Without ``includes_equilibrium``
        L_eq is the equilibrium friction alone, i.e. the equilibrium Berry
        force is taken as zero, which holds with time-reversal symmetry
        (real h and f).
    K_current, L_current : ndarray (M, M)
        V dK/dV and V dL/dV.
    mean_force_current : ndarray (M,)
        V dF0/dV in eV/Angstrom (the wind force to first order).
    mean_force : ndarray (M,) or None
        F0_eq + V dF0/dV with ``includes_equilibrium``, else None.
    chemical_potentials : ndarray
        eV, E_F + alpha_l V.
    temperature, spin : float
    includes_equilibrium : bool
        Whether K, L and mean_force contain a zero-bias calculation.
    frequency : float
        0 (adiabatic).
    """

    K: np.ndarray
    L: np.ndarray
    K_current: np.ndarray
    L_current: np.ndarray
    mean_force_current: np.ndarray
    mean_force: np.ndarray | None
    chemical_potentials: np.ndarray
    temperature: float
    spin: float
    includes_equilibrium: bool
    frequency: float = 0.0

    renormalization = ForceCoefficients.renormalization
    nonconservative = ForceCoefficients.nonconservative
    friction = ForceCoefficients.friction
    berry = ForceCoefficients.berry
    renormalization_current = ForceCoefficients.renormalization_current
    nonconservative_current = ForceCoefficients.nonconservative_current
    friction_current = ForceCoefficients.friction_current
    berry_current = ForceCoefficients.berry_current
    bias = ForceCoefficients.bias


@dataclass
class LowBiasCoefficients:
    r"""Equilibrium friction, current-induced coefficients per volt and noise
    channels of a two-terminal junction (:func:`low_bias_coefficients`).

    Attributes
    ----------
    friction : ndarray (M, M)
        Equilibrium friction, the symmetric part of L at V = 0
        (eV*fs/Angstrom^2, negative semi-definite):
        -(g_s hbar/4pi) <Re Tr[f_a A f_b A]>.
    K_per_volt : ndarray (M, M)
        dK/dV at V = 0 in eV/Angstrom^2/V.
    L_per_volt : ndarray (M, M)
        dL/dV at V = 0 in eV*fs/Angstrom^2/V.
    mean_force_per_volt : ndarray (M,)
        dF0/dV at V = 0 in eV/Angstrom/V.
    noise_channels : ndarray (2, 2, M, M), complex
        C_lm = (g_s hbar/4pi) <Tr[f_a A_l f_b A_m]> in eV*fs/Angstrom^2;
        each C_lm is Hermitian and C_10 = C_01^* elementwise.
    fermi_level : float
        eV.
    temperature : float
        K.
    spin : float
    lead_shares : ndarray (2,)
        alpha_l = dmu_l/dV (1/2, -1/2).
    evaluations : int
        Energies at which the Green's function was evaluated.
    error : dict
        Estimated absolute errors (same units as the attributes) of
        ``friction``, ``K_per_volt``, ``L_per_volt``,
        ``mean_force_per_volt``, ``noise_channels`` (0 at T = 0, where no
        quadrature is involved).
    """

    friction: np.ndarray
    K_per_volt: np.ndarray
    L_per_volt: np.ndarray
    mean_force_per_volt: np.ndarray
    noise_channels: np.ndarray
    fermi_level: float
    temperature: float
    spin: float
    lead_shares: np.ndarray
    evaluations: int
    error: dict = field(default_factory=dict)

    renormalization_per_volt = matrix_part(
        symmetric_part, "K_per_volt", "Symmetric part of dK/dV (eV/Angstrom^2/V); sclmd's zeta1."
    )
    nonconservative_per_volt = matrix_part(
        antisymmetric_part, "K_per_volt", "Antisymmetric part of dK/dV (eV/Angstrom^2/V); minus sclmd's xim."
    )
    friction_per_volt = matrix_part(symmetric_part, "L_per_volt", "Symmetric part of dL/dV (eV*fs/Angstrom^2/V).")
    berry_per_volt = matrix_part(
        antisymmetric_part, "L_per_volt", "Antisymmetric part of dL/dV (eV*fs/Angstrom^2/V); -hbar times sclmd's zeta2."
    )

    @property
    def noise_emission(self) -> RealArray:
        """Re(C_01 + C_10) in eV*fs/Angstrom^2 (per volt): at T = 0 and
        hbar w << eV the bias adds ``|V|`` times this to the noise S(w); hbar
        times sclmd's xip."""
        return (self.noise_channels[0, 1] + self.noise_channels[1, 0]).real

    def at(self, bias: float, equilibrium: ForceCoefficients | None = None) -> LinearCoefficients:
        """The coefficients at ``bias`` (V) to first order.

        Parameters
        ----------
        bias : float
            V in volt (mu_0 - mu_1).
        equilibrium : ForceCoefficients, optional
            ``force_coefficients(junction, forces, bias=0, ...)`` at the same
            Fermi level, temperature and spin, frequency 0: its K, L and
            mean force become the zero-bias part.  Without it, K is the
            current-induced change alone and L the equilibrium friction plus
            the change (see :class:`LinearCoefficients`).

        Returns
        -------
        LinearCoefficients
        """
        v = check_number("bias", bias, "V")
        k_cur = v * self.K_per_volt
        l_cur = v * self.L_per_volt
        f_cur = v * self.mean_force_per_volt
        mus = self.fermi_level + v * self.lead_shares
        k0: NDArray[Any] | float
        if equilibrium is None:
            k0, l0, mean_force = 0.0, self.friction, None
        else:
            self._check_equilibrium(equilibrium)
            k0, l0, mean_force = equilibrium.K, equilibrium.L, equilibrium.mean_force + f_cur
        return LinearCoefficients(
            K=k0 + k_cur,
            L=l0 + l_cur,
            K_current=k_cur,
            L_current=l_cur,
            mean_force_current=f_cur,
            mean_force=mean_force,
            chemical_potentials=mus,
            temperature=self.temperature,
            spin=self.spin,
            includes_equilibrium=equilibrium is not None,
        )

    def _check_equilibrium(self, eq):
        if not isinstance(eq, ForceCoefficients):
            raise InputError(
                f"equilibrium must be a ForceCoefficients from force_coefficients(..., bias=0), got {type(eq).__name__}"
            )
        m = self.K_per_volt.shape
        mus = np.asarray(eq.chemical_potentials, dtype=float)
        problems = []
        if np.shape(eq.K) != m:
            problems.append(f"its K has shape {np.shape(eq.K)}, expected {m}")
        if eq.frequency != 0:
            problems.append(f"frequency is {eq.frequency} eV, not 0 (adiabatic)")
        if mus.size and np.ptp(mus) != 0:
            problems.append(f"it is biased (chemical potentials {mus.tolist()} eV)")
        if mus.size and abs(float(mus.mean()) - self.fermi_level) > 1e-12 * max(1.0, abs(self.fermi_level)):
            problems.append(f"its Fermi level {float(mus.mean())} eV differs from {self.fermi_level} eV")
        if eq.temperature != self.temperature:
            problems.append(f"its temperature {eq.temperature} K differs from {self.temperature} K")
        if eq.spin != self.spin:
            problems.append(f"its spin {eq.spin} differs from {self.spin}")
        if problems:
            raise InputError("equilibrium does not match these low-bias coefficients: " + "; ".join(problems))

    @renamed_keywords(omega="hbar_omega")
    def noise(self, hbar_omega: ArrayLike, bias: float) -> ComplexArray:
        r"""Force-noise spectrum S(w) at low bias and frequency, in eV^2*fs/Angstrom^2.

        .. math::

            S(\omega) = \sum_{lm} C_{lm}\, x_{lm} \coth\frac{x_{lm}}{2k_BT},
            \qquad x_{lm} = \hbar\omega - (\alpha_l - \alpha_m)\,eV

        (x coth(x/2k_BT) -> ``|x|`` at T = 0): the channel
        fluctuation-dissipation relation with the spectral functions frozen
        at the Fermi surface, as in the wide-band noise of Lu et al. (2012);
        first order in hbar w and eV.

        Parameters
        ----------
        hbar_omega : float or array_like
            hbar*omega in eV.  ``omega`` is a deprecated alias.
        bias : float
            V in volt.

        Returns
        -------
        ndarray, hbar_omega.shape + (M, M), complex Hermitian
        """
        v = check_number("bias", bias, "V")
        w = check_finite("hbar_omega", np.asarray(hbar_omega, dtype=float))
        kt = KB * self.temperature
        out = np.zeros(w.shape + self.noise_channels.shape[2:], dtype=complex)
        for l, al in enumerate(self.lead_shares):
            for m, am in enumerate(self.lead_shares):
                x = w - (al - am) * v
                if kt == 0:
                    weight = np.abs(x)
                else:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        weight = np.where(np.abs(x) > 1e-12 * kt, x / np.tanh(x / (2 * kt)), 2 * kt)
                out += weight[..., None, None] * self.noise_channels[l, m]
        return out


# ----------------------------------------------------------------------------
# the calculation
# ----------------------------------------------------------------------------
def low_bias_coefficients(
    junction: Junction,
    forces: OperatorsLike,
    fermi_level: float = 0.0,
    temperature: float = 0.0,
    spin: float = 2,
    rtol: float = 1e-8,
    on_fail: str = "raise",
) -> LowBiasCoefficients:
    r"""Equilibrium friction and the current-induced force coefficients per volt
    at V -> 0, from Fermi-surface formulas (module :mod:`currentforces.low_bias`).

    .. math::

        \eta = -\frac{g_s\hbar}{4\pi}\langle Re\,Tr[f_a A f_b A]\rangle, \quad
        \frac{dK}{dV} = \frac{g_s}{\pi}\langle Re\,Tr[f_a G f_b \Delta A]\rangle, \quad
        \frac{dL}{dV} = \frac{g_s\hbar}{\pi}\langle Im\,Tr[f_a \partial_\epsilon G f_b \Delta A]\rangle,

    with Delta A = (A_0 - A_1)/2 and <X> = int (-dn_F/dE) X dE (X(E_F) at
    T = 0).  One Green's function at T = 0; a few at T > 0.

    Parameters
    ----------
    junction : Junction
        A device with exactly two leads (V = mu_0 - mu_1).
    forces : sequence of (N, N) arrays or scipy.sparse matrices
        Force operators f_a = -dh/dX_a in eV/Angstrom.
    fermi_level : float
        E_F in eV.
    temperature : float
        Electronic temperature in K (0 allowed).
    spin : float
        Spin degeneracy g_s.
    rtol : float
        Relative tolerance of the thermal average, per quantity (T > 0).
    on_fail : {"raise", "warn"}
        What to do when a quantity misses ``rtol``: raise
        :class:`~currentforces.errors.IntegrationError`, or warn with
        :class:`~currentforces.errors.IntegrationWarning` and return the
        result with its error estimates in ``error``.

    Returns
    -------
    LowBiasCoefficients
        ``friction``, ``renormalization_per_volt``,
        ``nonconservative_per_volt``, ``friction_per_volt``,
        ``berry_per_volt``, ``noise_emission``, and ``.at(bias)`` for the
        linearised coefficients.

    Raises
    ------
    InputError
        Not two leads; at T = 0 a Fermi level on a lead band edge or on a
        bound state (the Fermi-surface quantities diverge there).
    IntegrationError
        At T > 0, when the thermal average misses ``rtol``.

    Notes
    -----
    At T > 0 the Gauss rules for -dn_F/dE converge fast when the spectral
    functions vary slowly on the scale k_B T; resonances a few k_B T wide
    or band edges within 40 k_B T of E_F send the average to the adaptive
    route (hundreds of energies), and resonances narrower than k_B T get
    breakpoints graded around the poles of G (on every backend).  A slope that is the small
    difference of two large lobes (dK/dV of a level narrower than ~1e-6 k_B T)
    cannot reach a tight rtol in double precision and is reported.

    Examples
    --------
    A perfect chain (t = 1 eV, dt/dd = -0.5 eV/Angstrom) has the friction
    -2 hbar beta^2/(pi t^2) per spin at any filling:

    >>> import math
    >>> from currentforces.models.chain import chain_junction, chain_force_operators
    >>> from currentforces.units import HBAR
    >>> c = low_bias_coefficients(chain_junction(8), chain_force_operators(8, 0.5, atoms=[3]), spin=1)
    >>> round(float(c.friction[0, 0] / (-2 * HBAR * 0.5**2 / math.pi)), 10)
    1.0
    """
    temperature = check_temperature(temperature)
    fermi_level = check_number("fermi_level", fermi_level, "eV")
    spin = check_spin(spin)
    rtol = check_rtol(rtol)
    if on_fail not in ("raise", "warn"):
        raise InputError(f"on_fail must be 'raise' or 'warn', got {on_fail!r}")
    check_leads(junction, "a bias", minimum=2)
    if junction.n_leads != 2:
        raise InputError(
            f"junction: low_bias_coefficients needs exactly two leads (V = mu_0 - mu_1), "
            f"this one has {junction.n_leads}"
        )
    alphas = junction.chemical_potentials(1.0, fermi_level) - fermi_level
    shares = alphas - alphas.mean()
    ops = ForceOperators(forces, junction.size)
    blocks = SpectralBlocks(junction, ops)
    m = ops.n_modes
    # real stacked groups: Re Tr[f G f dA], Im Tr[f G' f dA], Re Tr[f dA] and
    # Tr[f A_l f A_m] as (real, imaginary); only the parts used, so that each
    # group's tolerance is relative to what it returns
    sizes = (m * m, m * m, m, 8 * m * m)

    def integrand(e):
        # the groups' values, then one column per group: the largest lead term
        # sum_l alpha_l X_l is made of (the scale of its roundoff floor, which
        # a slope that vanishes by symmetry, as on a perfect chain, has to meet)
        g0, dg, a_l = blocks.green_derivative(e, spectral=True)
        tr = ops.traces_many(
            [(g0, a_l[0]), (g0, a_l[1]), (dg, a_l[0]), (dg, a_l[1])]
            + [(a_l[i], a_l[j]) for i in range(2) for j in range(2)]
        )
        ex = [ops.expectation(a) for a in a_l]
        channels = np.stack(tr[4:], axis=1)
        k_tr = shares[0] * tr[0] + shares[1] * tr[1]
        l_tr = shares[0] * tr[2] + shares[1] * tr[3]
        f_tr = shares[0] * ex[0] + shares[1] * ex[1]
        parts = [k_tr.real, l_tr.imag, f_tr.real, channels.real, channels.imag]

        def largest(*xs):
            return np.max([np.abs(x).reshape(e.size, -1).max(axis=1) for x in xs], axis=0)[:, None]

        # |Tr[f A_l]| <= sqrt(rank A_l Tr[f A_l f A_l]) (Cauchy-Schwarz with A_l >= 0):
        # the mean-force terms vanish on a perfect chain, the bound does not
        c_max = largest(channels)
        scales = [largest(tr[0], tr[1]), largest(tr[2], tr[3]), np.maximum(largest(*ex), np.sqrt(c_max)), c_max]
        return np.concatenate([p.reshape(e.size, -1) for p in parts] + scales, axis=1)

    if temperature == 0.0:
        edges = [b for b in junction.band_edges if abs(b - fermi_level) <= 1e-12 * max(1.0, abs(fermi_level))]
        if edges:
            raise InputError(
                f"fermi_level = {fermi_level} eV lies on a lead band edge ({edges[0]} eV): "
                "at T = 0 the Fermi-surface coefficients diverge there"
            )
        try:
            value = integrand(np.array([fermi_level]))[0, : sum(sizes)]
        except np.linalg.LinAlgError:
            value = np.array([np.nan])
        if not np.all(np.isfinite(value)):
            raise InputError(
                f"fermi_level = {fermi_level} eV: the Green's function is singular there "
                "(a bound state or band edge at the Fermi level)"
            )
        errors = [0.0] * len(sizes)
        evaluations = 1
    else:
        narrow = _narrow_resonances(junction, fermi_level, temperature)
        pts = junction.window_breakpoints([fermi_level], temperature, extra=narrow)
        reach = THERMAL_CUTOFF * KB * temperature
        smooth = not narrow and not any(abs(b - fermi_level) < reach for b in junction.band_edges)
        value, errors, tols, evaluations = _thermal_average(
            integrand, sizes, fermi_level, temperature, rtol, pts, smooth, junction.band_edges
        )
        largest = [float(np.abs(g).max(initial=0.0)) for g in np.split(value, np.cumsum(sizes)[:-1])]
        missed = [
            f"{name} (estimated error {err / big if big else err:.2g} relative to its largest element)"
            for name, err, tol, big in zip(_GROUPS, errors, tols, largest)
            if not err <= tol
        ]
        if missed:
            message = (
                f"low_bias_coefficients at {temperature} K: the thermal average missed rtol = {rtol:g} "
                f"for {', '.join(missed)} after {evaluations} energies"
            )
            if on_fail == "raise":
                raise IntegrationError(message, error=max(errors), tolerance=min(tols))
            warnings.warn(message, IntegrationWarning, stacklevel=2)

    k_tr, l_tr, f_tr, c_tr = np.split(value, np.cumsum(sizes)[:-1])
    k_pv = spin / math.pi * k_tr.reshape(m, m)
    l_pv = spin * HBAR / math.pi * l_tr.reshape(m, m)
    f_pv = spin / (2 * math.pi) * f_tr
    c_re, c_im = np.split(c_tr, 2)
    channels = spin * HBAR / (4 * math.pi) * (c_re + 1j * c_im).reshape(2, 2, m, m)
    friction = -symmetric_part(channels.sum(axis=(0, 1)).real)
    e_k, e_l, e_f, e_c = errors
    error = {
        "K_per_volt": spin * e_k / math.pi,
        "L_per_volt": spin * HBAR * e_l / math.pi,
        "mean_force_per_volt": spin * e_f / (2 * math.pi),
        "noise_channels": spin * HBAR * e_c / (4 * math.pi),
        "friction": 4 * spin * HBAR * e_c / (4 * math.pi),
    }
    return LowBiasCoefficients(
        friction=friction,
        K_per_volt=k_pv,
        L_per_volt=l_pv,
        mean_force_per_volt=f_pv,
        noise_channels=channels,
        fermi_level=fermi_level,
        temperature=temperature,
        spin=spin,
        lead_shares=alphas,
        evaluations=evaluations,
        error=error,
    )


def _narrow_resonances(junction, mu, temperature):
    """Centres (eV) of the resonances narrower than k_B T within the thermal
    window, where a Gauss rule with nodes ~k_B T apart would miss the peak.
    Poles in a row of overlapping ones (:func:`~currentforces.resonances.in_rows`)
    make no peak and do not count.  The poles come from :meth:`~currentforces.junction.Junction.resonances`
    (any backend); :meth:`~currentforces.junction.Junction.window_breakpoints`
    grades the panels around them."""
    reach = THERMAL_CUTOFF * KB * temperature
    centers, halfwidths = junction.resonances(mu - reach, mu + reach)
    keep = (np.abs(centers - mu) < reach) & (2 * halfwidths < KB * temperature) & ~in_rows(centers, halfwidths)
    return [float(e) for e in np.asarray(centers)[keep]]


def _thermal_average(integrand, sizes, mu, temperature, rtol, breakpoints, smooth, edges=()):
    """<X> = int (-dn_F/dE) X(E) dE for the stacked groups of X (``sizes``).

    With ``smooth`` (no band edge and no resonance narrower than k_B T in
    the window), Gauss rules of 4, 8, 16, ... nodes for the weight -dn_F/dE
    until two successive ones agree in every group (to rtol times the
    group's largest element, or to 1e-14 times the largest lead term of its
    integrand when the group cancels to roundoff; ``integrand`` returns the
    groups' values followed by one column per group with that term's
    magnitude); the difference is the error
    estimate of the finer rule.  A group whose differences stop falling
    below :data:`_NOISE` times that term has reached the rounding of its
    integrand and counts as converged, with the larger of its last two
    differences as its error (and tolerance).  Otherwise, or when the rules do not
    settle, :func:`_adaptive_by_group` over ``breakpoints``.

    Returns (value (P,), per-group absolute error estimates, per-group
    tolerances, number of energies).
    """
    kt = KB * temperature
    bounds = np.cumsum(sizes)[:-1]
    total = int(np.sum(sizes))

    def group_max(v):
        return [float(np.abs(g).max(initial=0.0)) for g in np.split(v, bounds, axis=-1)]

    evaluations = 0
    previous = None
    last = None  # the previous rules' differences
    if smooth:
        for n in _GAUSS_NODES:
            x, w = fermi_derivative_rule(n)
            rows = integrand(mu + kt * x)
            evaluations += n
            current = w @ rows[:, :total]
            scale = rows[:, total:].max(axis=0)
            if previous is not None:
                diffs = group_max(current - previous)
                tols = [rtol * s + _ROUNDOFF * p for s, p in zip(group_max(current), scale)]
                errors = list(diffs)
                if last is not None:
                    for g, (d, d0, p) in enumerate(zip(diffs, last, scale)):
                        if d > tols[g] and d0 <= _NOISE * p and 0.5 * d0 < d <= _NOISE * p:
                            # stagnated at the integrand's rounding (_NOISE)
                            errors[g] = tols[g] = max(d, d0)
                if all(e <= t for e, t in zip(errors, tols)):
                    return current, errors, tols, evaluations
                last = diffs
            previous = current
    value, errors, tols, more = _adaptive_by_group(integrand, sizes, mu, temperature, rtol, breakpoints, edges)
    return value, errors, tols, evaluations + more


def _adaptive_by_group(integrand, sizes, mu, temperature, rtol, breakpoints, edges=()):
    """The thermal average by adaptive Gauss-Kronrod quadrature, one group at
    a time so that each group gets its own tolerance and error estimate,
    sharing every Green's function through a cache keyed by energy (the
    groups' panels start from the same breakpoints and bisect alike, so most
    energies are shared).  A group's error is accepted below rtol * |group|
    or 1e-14 * int (-dn_F/dE) s(E) dE with s the largest lead term of the
    group's integrand (cancellation to roundoff; estimated on the first
    panels).  ``edges``: the lead band edges (square-root branch points of
    the integrand, :func:`integrate_adaptive`)."""
    cache = {}

    def cached(e):
        missing = [x for x in np.unique(e) if x not in cache]
        if missing:
            for x, row in zip(missing, integrand(np.array(missing))):
                cache[x] = row
        return np.stack([cache[x] for x in e])

    def weighted(e):
        return fermi_derivative(e, mu, temperature)[:, None] * cached(e)

    pts = np.unique(np.asarray(breakpoints, dtype=float))
    centres, halves = 0.5 * (pts[1:] + pts[:-1]), 0.5 * (pts[1:] - pts[:-1])
    first = weighted((centres[:, None] + halves[:, None] * GK_NODES[None, :]).ravel())
    first = first.reshape(centres.size, GK_NODES.size, -1)
    total = int(np.sum(sizes))
    scale = np.einsum("pkr,k,p->r", np.abs(first[:, :, total:]), GK_WEIGHTS, halves)  # int w s dE
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    values, errors, tols = [], [], []
    for group, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        floor = max(_ROUNDOFF * float(scale[group]), 1e-300)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IntegrationWarning)
            res = integrate_adaptive(
                lambda e, lo=lo, hi=hi: weighted(e)[:, lo:hi],
                pts,
                rtol=rtol,
                atol=floor,
                on_fail="warn",
                what="low-bias thermal average",
                edges=edges,
            )
        values.append(res.value)
        errors.append(float(res.error))
        tols.append(max(floor, rtol * float(np.abs(res.value).max(initial=0.0))))
    return np.concatenate(values), errors, tols, len(cache)
