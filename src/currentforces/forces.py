r"""The five current-induced forces: F0, K and L at any bias, temperature and frequency.

To second order in the electron-oscillator coupling (seed eq 14)

.. math:: F_a = F^{(0)}_a - \sum_b K_{ab} X_b + \sum_b L_{ab} V_b,

with K and L from one retarded kernel (:ref:`theory-kernel`, :eq:`eq-kernel`; seed eqs 20-21)

.. math::

    \Pi_{ab}(\omega) = \int d\epsilon \sum_l \frac{n_l(\epsilon)}{2\pi}
      \{ Tr[f_a G(\epsilon+\hbar\omega) f_b A_l(\epsilon)]
       + Tr[f_a A_l(\epsilon) f_b G^\dagger(\epsilon-\hbar\omega)] \},
    \qquad K = Re\,\Pi, \quad L = Im\,\Pi/\omega .

**How it is evaluated** (no real-axis integral over the Fermi sea, so no
band-edge or 1/omega trouble, see :ref:`theory-kernel-split` and
:ref:`theory-adiabatic`).  With a reference occupation n_0 = n_F(E - mu_0),
mu_0 the mean chemical potential (E_F for a symmetric bias),
Pi = Pi_eq + Pi_bias exactly (:eq:`eq-kernel-split`):

* Pi_bias, the **current-induced part**: the integrand above with
  n_l -> n_l - n_0, an integral over the bias window only;
* Pi_eq, the zero-bias kernel at the same temperature.  Writing
  A = i(G - G^dagger) splits it into terms analytic in the upper half
  plane, done by the Fermi-sea pole expansion S[.] of
  :func:`currentforces.integrate.fermi_sea_sum` (together with the
  equilibrium density matrix of the mean force, on the same poles: G(z) at
  each pole, and G(z - hbar w) at finite frequency), and one term that
  lives on the Fermi window [mu_0 - hbar w, mu_0] (derivation in
  :func:`_fermi_sea`):

  .. math::

     \Pi_{eq}(w) = \tfrac12 (X^T + \bar X)
       + \frac{1}{2\pi}\int d\epsilon\,[n_0(\epsilon) - n_0(\epsilon+w)]
         Tr[f_a G(\epsilon+w) f_b A(\epsilon)],

     X_{ab} = S[Tr[f_a G(z-w) f_b G(z)]] .

  The window term uses G at E and E + hbar w only, the energies the
  bias-window term needs anyway.

In the adiabatic limit (``hbar_omega=0``) L = hbar dIm Pi/dw at w = 0 takes
the derivatives of these terms: a pole sum of Tr[f_a G'(z) f_b G(z)], a
Fermi-surface term (-dn_0/dE) Re Tr[f_a G f_b G^dagger] and the window term
(hbar/pi) Im Tr[f_a dG/dE f_b A_l] (n_l - n_0) of :eq:`eq-l-adiabatic`, with
dG/dE = -G (1 - dSigma/dE) G carrying the leads' energy dependence (:eq:`eq-green-derivative`).

Spin: every electronic quantity is multiplied by ``spin`` (g_s).

Units: energies eV, bias V, temperature K, hbar*omega (``hbar_omega``) in eV,
forces f in eV/Angstrom; F0 eV/A, K eV/A^2, L eV*fs/A^2.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from . import contour, spectral, spectral_window
from ._checks import (
    check_leads,
    check_nonnegative,
    check_number,
    check_rtol,
    check_spin,
    check_temperature,
    renamed_keywords,
)
from .boundwindow import in_continuum, interval_integrals, subtract_poles, window_pole_terms
from .errors import BoundStateError, InputError, IntegrationError, IntegrationWarning, OverlapError
from .fermi_steps import STEP_CLEARANCE, derivative_integral, smooth_steps
from .integrate import (
    THERMAL_CUTOFF,
    as_slice,
    fermi,
    fermi_derivative,
    fermi_sea_sum,
    thermal_cutoff,
    window_bounds,
)
from .junctionset import JunctionSet, operators_for_one, resolve_spin
from .nonorthogonal import check_overlap_derivatives
from .operators import ForceOperators, combine, stacked_operators
from .overlap_kernel import moving_overlap_coefficients
from .pairs import pair_arguments, pair_spectra
from .units import HBAR, KB

if TYPE_CHECKING:
    from ._checks import ArrayLike, ComplexArray, OperatorsLike
    from .junction import Junction
    from .pairs import PairSpectra

__all__ = [
    "ForceCoefficients",
    "force_coefficients",
    "FermiSeaPart",
    "fermi_sea_part",
    "electron_hole_spectrum",
    "symmetric_part",
    "antisymmetric_part",
    "SpectralBlocks",
]


def symmetric_part(m: NDArray[Any]) -> NDArray[Any]:
    """(M + M^T)/2 over the last two axes."""
    return 0.5 * (m + np.swapaxes(m, -1, -2))


def antisymmetric_part(m: NDArray[Any]) -> NDArray[Any]:
    """(M - M^T)/2 over the last two axes."""
    return 0.5 * (m - np.swapaxes(m, -1, -2))


def matrix_part(part: Callable[[NDArray[Any]], NDArray[Any]], attribute: str, doc: str) -> property:
    """A read-only property: ``part`` (:func:`symmetric_part` or
    :func:`antisymmetric_part`) of the matrix attribute named ``attribute``,
    with docstring ``doc``; how the coefficient classes name the five forces."""

    def get(self: Any) -> NDArray[Any]:
        return part(getattr(self, attribute))

    return property(get, doc=doc)


# ----------------------------------------------------------------------------
# Green's functions restricted to the force support
# ----------------------------------------------------------------------------
class SpectralBlocks:
    """G and A_l restricted to the support S of the force operators.

    Reads the junction only through ``green_submatrix`` and
    ``green_derivative_submatrix`` (and the leads' broadenings on their
    supports), which every backend (:mod:`currentforces.greens`) answers.
    """

    def __init__(self, junction: Junction, operators: ForceOperators) -> None:
        self.junction = junction
        self.ops = operators
        self.s = operators.support
        sups = [np.asarray(lead.support, dtype=int) for lead in junction.leads]
        self.lead_supports = sups
        cols = np.unique(np.concatenate([self.s, *sups])) if sups else self.s
        self.cols = cols
        self._pos_s = np.searchsorted(cols, self.s)
        self._pos_l = [np.searchsorted(cols, sup) for sup in sups]
        # the columns of every lead's support side by side: V = G[S, s_1 + s_2 + ...]
        self._pos_v = np.concatenate(self._pos_l) if sups else np.zeros(0, dtype=int)
        self.rank = int(self._pos_v.size)
        """R = sum_l len(s_l): the columns of V (:meth:`green_and_columns`)."""
        # column selections of a block G[S, cols]: views where they are a run
        self._take_s, self._take_v = as_slice(self._pos_s), as_slice(self._pos_v)

    def green(self, energy: ArrayLike) -> ComplexArray:
        """G[S, S] for energies (1-d), shape (n, s, s)."""
        return self.junction.green_submatrix(energy, self.s, self.s)

    def green_and_spectral(self, energy: ArrayLike) -> tuple[ComplexArray, list[ComplexArray]]:
        """G[S, S] and the list A_l[S, S] = G[S, sup_l] Gamma_l G[S, sup_l]^dagger."""
        g = self.junction.green_submatrix(energy, self.s, self.cols)
        return g[:, :, self._take_s], self._spectral_from(g, self._pos_l, energy)

    def green_and_columns(self, energy: ArrayLike) -> tuple[ComplexArray, ComplexArray]:
        """G[S, S] and V = G[S, s_1 + s_2 + ...] (1/eV) at the energies
        ``energy`` (eV, 1-d), V the columns on every lead's support side by
        side (shape (n, s, R)): A_l = V_l Gamma_l V_l^dagger
        (:class:`FactoredSpectra`)."""
        g = self.junction.green_submatrix(energy, self.s, self.cols)
        return g[:, :, self._take_s], g[:, :, self._take_v]

    def broadenings(self, energy: ArrayLike) -> list[ComplexArray]:
        """Gamma_l(E) on each lead's support, list of (n, len(s_l), len(s_l)) in eV."""
        e = np.asarray(energy)
        return [
            np.broadcast_to(lead.broadening_block(e), e.shape + (p.size, p.size))
            for lead, p in zip(self.junction.leads, self._pos_l)
        ]

    def _spectral_from(self, g_rows, positions, energy):
        """A_l[S, S] from rows G[S, :] whose columns ``positions[l]`` are lead l's support."""
        a_l = []
        for lead, pos in zip(self.junction.leads, positions):
            gamma = lead.broadening_block(energy)  # on the support, never N x N
            gs = g_rows[:, :, pos]
            a_l.append(gs @ gamma @ np.conj(np.swapaxes(gs, -1, -2)))
        return a_l

    def green_derivative(
        self, energy: ArrayLike, spectral: bool = False, columns: bool = False
    ) -> tuple[ComplexArray, ...]:
        r"""G[S, S] and dG/dE [S, S] = -[G (1 - dSigma/dE) G]_{SS} (1/eV^2),
        and with ``spectral=True`` also the list A_l[S, S], with
        ``columns=True`` instead V of :meth:`green_and_columns`.

        One call of the junction's backend
        (:meth:`~currentforces.greens.GreensBackend.green_derivative_submatrix`),
        which returns the columns on the lead supports in the same pass when
        the spectral functions are wanted.
        """
        if not (spectral or columns):
            return self.junction.green_derivative_submatrix(energy, self.s)
        g, dg = self.junction.green_derivative_submatrix(energy, self.s, self.cols)
        if columns:
            return g[:, :, self._take_s], dg, g[:, :, self._take_v]
        return g[:, :, self._take_s], dg, self._spectral_from(g, self._pos_l, energy)


class ExplicitSpectra:
    """The partial spectral functions A_l[S, S] of one energy batch as
    matrices, for the traces of the window integrand
    (:func:`window_integrand`); :class:`FactoredSpectra` is the same
    interface with A_l kept factored.  A combination sum_l c_l A_l is an
    (n, s, s) matrix."""

    def __init__(self, ops: ForceOperators, spectra: list[ComplexArray]) -> None:
        self.ops, self.spectra = ops, spectra

    def combination(self, coefficients: Sequence[NDArray[Any]]) -> ComplexArray:
        """sum_l c_l(E) A_l(E), ``coefficients`` one (n,) array per lead (at least one lead)."""
        out = np.asarray(coefficients[0])[:, None, None] * self.spectra[0]
        for c, a in zip(coefficients[1:], self.spectra[1:]):
            out = out + np.asarray(c)[:, None, None] * a
        return out

    def total(self) -> ComplexArray:
        """A = sum_l A_l."""
        out = self.spectra[0]
        for a in self.spectra[1:]:
            out = out + a
        return out

    def expectation(self, y: ComplexArray) -> ComplexArray:
        """Tr[f_a Y], (n, M)."""
        return self.ops.expectation(y)

    def traces(self, pairs: Sequence[tuple[NDArray[Any], Any]]) -> list[ComplexArray]:
        """Tr[f_a X f_b Y] for (X, Y) in ``pairs``, Y a :meth:`combination`."""
        return self.ops.traces_many(pairs)

    def surface(self) -> ComplexArray:
        """Tr[f_a A f_b A], A = sum_l A_l, (n, M, M)."""
        a = self.total()
        return self.ops.traces(a, a)


class FactoredSpectra:
    r"""The partial spectral functions of one energy batch kept factored,
    :math:`A_l = V_l \Gamma_l V_l^\dagger` with V_l = G[S, s_l]: a
    combination sum_l c_l A_l = V C V^dagger is the block-diagonal (n, R, R)
    C = diag(c_l Gamma_l), and no s x s spectral function is ever formed
    (:meth:`ForceOperators.factored_traces
    <currentforces.operators.ForceOperators.factored_traces>`,
    :eq:`eq-factored-trace`).  For leads
    that couple to few orbitals (R = sum_l len(s_l) small: one per chain lead)
    the traces cost a fraction of those with A_l; same interface as
    :class:`ExplicitSpectra`."""

    def __init__(self, ops: ForceOperators, columns: ComplexArray, broadenings: list[ComplexArray]) -> None:
        self.ops, self.v, self.gammas = ops, columns, broadenings
        self.rows = ops.factor_rows(columns)
        self._products: ComplexArray | None = None

    def combination(self, coefficients: Sequence[NDArray[Any]]) -> ComplexArray:
        """C = diag(c_l Gamma_l), (n, R, R)."""
        n, r = self.v.shape[0], self.v.shape[2]
        c = np.zeros((n, r, r), dtype=complex)
        start = 0
        for coef, gam in zip(coefficients, self.gammas):
            stop = start + gam.shape[-1]
            c[:, start:stop, start:stop] = np.asarray(coef)[:, None, None] * gam
            start = stop
        return c

    def total(self) -> ComplexArray:
        return self.combination([np.ones(self.v.shape[0])] * len(self.gammas))

    def products(self) -> ComplexArray:
        """B_a = V^dagger f_a V, (n, M, R, R), computed once."""
        if self._products is None:
            self._products = self.ops.factor_products(self.v, self.rows)
        return self._products

    def expectation(self, c: ComplexArray) -> ComplexArray:
        """Tr[f_a V C V^dagger] = Tr[B_a C], (n, M)."""
        b = self.products()
        n, m, r, _ = b.shape
        return (b.reshape(n, m, r * r) @ np.swapaxes(c, 1, 2).reshape(n, r * r, 1))[..., 0]

    def traces(self, pairs: Sequence[tuple[NDArray[Any], Any]]) -> list[ComplexArray]:
        return self.ops.factored_traces(pairs, self.rows)

    def surface(self) -> ComplexArray:
        """Tr[f_a A f_b A] = Tr[B_a C B_b C], C = diag(Gamma_l), (n, M, M)."""
        d = self.products() @ self.total()[:, None]  # D_a = B_a C
        n, m, r, _ = d.shape
        # T_ab = sum_{k k'} D_a[k, k'] D_b[k', k]
        return d.reshape(n, m, r * r) @ np.swapaxes(np.swapaxes(d, 2, 3).reshape(n, m, r * r), 1, 2)


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
        F0_a = g_s integral Tr[f_a rho(E)] dE in eV/Angstrom (seed eqs 6, 13);
        with a moving overlap g_s (Tr[rho F_a] + Tr[rho_E dS/dX_a])
        (:eq:`eq-overlap-mean-force`).
    K : ndarray (M, M)
        Position coefficients in eV/Angstrom^2, F = -K X (seed eq 20), full
        (Fermi sea included).
    L : ndarray (M, M)
        Velocity coefficients in eV*fs/Angstrom^2, F = L V (seed eq 21).
    mean_force_current, K_current, L_current : ndarray
        The current-induced parts alone: the same quantities minus their
        zero-bias values at the same temperature (the bias-window term of
        :ref:`theory-kernel-split`), computed directly.
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

    # the five forces (docs/theory.rst theory-five-forces)
    renormalization = matrix_part(
        symmetric_part, "K", "Symmetric part of K (eV/A^2): the conservative renormalisation of the potential."
    )
    nonconservative = matrix_part(
        antisymmetric_part,
        "K",
        "Antisymmetric part of K (eV/A^2): the non-conservative ('waterwheel') force, seed eq 33-36.",
    )
    friction = matrix_part(
        symmetric_part,
        "L",
        "Symmetric part of L (eV*fs/A^2): electronic friction, negative semi-definite at equilibrium (seed eq 40-43).",
    )
    berry = matrix_part(
        antisymmetric_part,
        "L",
        "Antisymmetric part of L (eV*fs/A^2): the Berry-phase ('Lorentz') force, seed eq 44-47.",
    )
    renormalization_current = matrix_part(
        symmetric_part, "K_current", "Current-induced part of the renormalisation (eV/A^2)."
    )
    nonconservative_current = matrix_part(
        antisymmetric_part,
        "K_current",
        "Current-induced non-conservative force (eV/A^2); equals ``nonconservative`` for real h and f"
        " (time-reversal symmetry).",
    )
    friction_current = matrix_part(symmetric_part, "L_current", "Current-induced change of the friction (eV*fs/A^2).")
    berry_current = matrix_part(antisymmetric_part, "L_current", "Current-induced Berry force (eV*fs/A^2).")

    @property
    def bias(self) -> float:
        """mu_0 - mu_1 in V for a junction with at least two leads."""
        mus = self.chemical_potentials
        return float(mus[0] - mus[1]) if len(mus) > 1 else 0.0

    _SUMMED = ("mean_force", "K", "L", "mean_force_current", "K_current", "L_current")

    def transposed(self) -> ForceCoefficients:
        """The coefficients with K and L (and their current-induced parts)
        transposed over the modes: those of the time-reversed partner -k of a
        k-point at zero bias (:eq:`eq-kpoint-reversal`)."""
        swap = {name: np.swapaxes(getattr(self, name), -1, -2) for name in ("K", "L", "K_current", "L_current")}
        return dataclasses.replace(self, **swap)

    def mean_with(self, other: ForceCoefficients) -> ForceCoefficients:
        """The mean of two sets of coefficients (a k-point and its partner -k)."""
        return ForceCoefficients.weighted_sum([self, other], [0.5, 0.5])

    @staticmethod
    def weighted_sum(parts: Sequence[ForceCoefficients], weights: ArrayLike) -> ForceCoefficients:
        """sum_i w_i C_i of coefficients at the same bias, temperature and frequency
        (:eq:`eq-junction-set`); errors add as sum_i w_i err_i."""
        first = parts[0]
        ws = [float(w) for w in np.asarray(weights, dtype=float).reshape(-1)]
        sums: dict[str, Any] = {
            name: sum(w * getattr(p, name) for p, w in zip(parts, ws)) for name in ForceCoefficients._SUMMED
        }
        keys = set().union(*(p.error for p in parts))
        err = {key: float(sum(w * p.error.get(key, 0.0) for p, w in zip(parts, ws))) for key in keys}
        return dataclasses.replace(first, error=err, **sums)


# ----------------------------------------------------------------------------
# the kernel pieces
# ----------------------------------------------------------------------------
def _time_reversal_symmetric(junction, ops):
    """True when h and every f are real and every Sigma_l is symmetric
    (Sigma^T = Sigma): then the equilibrium L is symmetric (time-reversal
    symmetry, :ref:`theory-conventions`)."""
    h = junction.hamiltonian
    data = h.data if hasattr(h, "data") and not isinstance(h, np.ndarray) else np.asarray(h)
    if not ops.real or np.any(np.imag(data) != 0):
        return False
    s = getattr(junction, "overlap", None)
    if s is not None and np.any(np.imag(s.data if hasattr(s, "data") and not isinstance(s, np.ndarray) else s) != 0):
        return False
    z = np.array([0.1 * junction.energy_scale + 0.37j * junction.energy_scale])
    for lead in junction.leads:
        sig = np.asarray(lead.self_energy_block(z))
        if not np.allclose(sig, np.swapaxes(sig, -1, -2), rtol=0, atol=1e-13 * max(1.0, np.abs(sig).max())):
            return False
    return True


def _fermi_sea(junction, blocks, ops, w, mu0, temperature, rtol, berry=True, bound=None):
    r"""Equilibrium mean force and the analytic part of Pi_eq(w), all from one
    pole expansion (:func:`~currentforces.integrate.fermi_sea_sum`: one set of
    G[S, S] evaluations), each to ``rtol`` of its own size.

    Derivation of the kernel part: in Pi_eq, A = i(G - G^dagger) gives
    (i/2pi) int n_0 {Tr[f_a G(E+w) f_b G(E)] - Tr[f_a G^dagger(E) f_b G^dagger(E-w)]}
    plus (i/2pi) int [n_0(E+w) - n_0(E)] Tr[f_a G(E+w) f_b G^dagger(E)] (the
    mixed products, one of them shifted E -> E + w).  With
    int n_0(E - mu) F(E) dE = -i pi S_mu[F] for F analytic in the UHP and
    Tr[f_a G^dagger(E) f_b G^dagger(E-w)] = conj F_2(E),
    F_2(z) = Tr[f_a G(z-w) f_b G(z)] (trace lemma), the analytic terms are
    (1/2) S_mu[F_1] + (1/2) conj S_mu[F_2] with F_1(z) = Tr[f_a G(z+w) f_b G(z)]
    = F_2^T(z + w), i.e. S_mu[F_1] = S_(mu+w)[F_2^T]
    = X^T + (i/pi) int [n_0(E) - n_0(E+w)] F_1(E) dE (the Fermi function
    moved back from mu + w to mu), X = S_mu[F_2].  The last integral joins
    the mixed term: G^dagger - G = iA, so

    Pi_eq = (X^T + conj X)/2 + (1/2pi) int [n_0(E) - n_0(E+w)] Tr[f_a G(E+w) f_b A(E)] dE,

    one analytic function (G at z and z - w per pole) and a window term on
    [mu_0 - w, mu_0] in G(E), G(E + w) (:func:`window_integrand`).  Its
    imaginary part Im(X^T - X)/2 is O(w) (X^T = X at w = 0 by cyclicity;
    exactly, for all w, with time-reversal symmetry).

    At w = 0 the force constants are Re S[Tr f_a G f_b G]; the symmetric part
    of L comes from the Fermi surface (:func:`window_integrand`), and only
    the antisymmetric (Berry) part of hbar Im S[Tr f_a G' f_b G] is summed,
    when ``berry`` (without time-reversal symmetry; zero with it).  At T = 0
    the double pole R f R / (z - E_b)^2 of every bound state (``bound``:
    energies and residues on the force support) is summed exactly,
    S[1/(z - E_b)^2] = -i / (pi (mu - E_b)), not on the imaginary axis, where
    a bound state just off mu puts a peak of height 1/(mu - E_b)^2.

    The mean force is Tr[f_a rho_eq] with rho_eq[S, S] = extra + ReH S[X_rho]
    (:meth:`~currentforces.Junction.fermi_sea_density_terms`), on the same
    G[S, S]: Re S[Tr f_a X_rho] for Hermitian f_a.  The pole expansion sums
    the complex functions themselves (its thermal correction has complex
    weights), real parts are taken after.

    Returns
    -------
    (f_eq, error of f_eq, kernel) with kernel for w > 0: (Pi_pole complex
    (M, M), error of its real part, error of its imaginary part); for w = 0:
    (K_pole, Im S[Tr f_a G' f_b G] antisymmetrised or zeros, error of
    K_pole, error of the Berry part).  Per spin.
    """
    m = ops.n_modes
    scale = junction.energy_scale
    density, extra, near = junction.fermi_sea_density_terms(mu0, temperature, ops.support)
    # At T > 0 the pole expansion sums the complex (analytic) functions, its
    # thermal correction having complex weights; at T = 0 its weights are
    # real, Re S[F] = S[Re F], and only the parts used are summed, each to
    # its own tolerance.
    if temperature == 0:

        def re(x):
            return x.real

        def im(x):
            return x.imag

        def re_of(v):
            return v

        def im_of(v):
            return v
    else:

        def re(x):
            return x

        im = re

        def re_of(v):
            return v.real

        def im_of(v):
            return v.imag

    def mean_force(z, g0):
        return re(ops.expectation(density(z, g0)))  # Tr[f_a X_rho], complex-linear

    if w > 0:

        def func(z):
            n = z.size
            g = blocks.green(np.concatenate([z, z - w]))  # one call: G at z and z - w
            t = ops.traces(g[n:], g[:n])  # F_2 = Tr[f_a G(z - w) f_b G(z)]
            tt = np.swapaxes(t, -1, -2)
            return np.concatenate([mean_force(z, g[:n]), re(t + tt).reshape(n, -1), im(t - tt).reshape(n, -1)], axis=1)

        f, plus, minus = fermi_sea_sum(
            func,
            mu0,
            temperature,
            rtol=rtol,
            atol=1e-14,
            energy_scale=scale + w,
            what="equilibrium force kernel (pole sum)",
            parts=[m, m * m, m * m],
            on_fail="warn",
            adaptive_at_zero=near,
        )
        # Pi_pole = (X^T + conj X)/2: Re = Re S[F_2 + F_2^T]/2, Im = -Im S[F_2 - F_2^T]/2
        pole = 0.5 * re_of(plus.value.reshape(m, m)) - 0.5j * im_of(minus.value.reshape(m, m))
        kernel = (pole, 0.5 * plus.error, 0.5 * minus.error)
    else:
        poles = []
        lam = max(1.0, scale)
        if bound is not None and temperature == 0:
            energies = list(bound[0])
            for e, r in zip(*bound):
                c2 = ops.traces(r[None], r[None])[0]
                gc = _regular_part(blocks, e, r, [x for x in energies if x != e], scale)
                c1 = ops.traces(r[None], gc[None])[0] + ops.traces(gc[None], r[None])[0]
                poles.append((e, c1, c2))

        def k_part(z, g0, tr=None):
            tr = ops.traces(g0, g0) if tr is None else tr
            for e, c1, c2 in poles:
                u = z - e
                simple = (1.0 / u - 1.0 / (u + 1j * lam))[:, None, None]
                tr = tr - c2[None] / (u**2)[:, None, None] - c1[None] * simple
            return re(tr).reshape(z.size, -1)

        if berry:

            def func(z):
                g0, dg = blocks.green_derivative(z)
                # one batch of traces: the gathers of G are shared
                tr, tr_d = ops.traces_many([(g0, g0), (dg, g0)])
                return np.concatenate([mean_force(z, g0), k_part(z, g0, tr), im(tr_d).reshape(z.size, -1)], axis=1)

            # the whole Im S[Tr f G' f G] is summed (its tolerance is set by its
            # symmetric part, of the size of the friction), then antisymmetrised
            parts = [m, m * m, m * m]
        else:

            def func(z):
                g0 = blocks.green(z)
                return np.concatenate([mean_force(z, g0), k_part(z, g0)], axis=1)

            parts = [m, m * m]
        f, kk, *bb = fermi_sea_sum(
            func,
            mu0,
            temperature,
            rtol=rtol,
            atol=1e-14,
            energy_scale=scale,
            what="equilibrium force constants (pole sum)",
            parts=parts,
            on_fail="warn",
            adaptive_at_zero=near,
        )
        k, ek = re_of(kk.value.reshape(m, m)), kk.error
        if bb:
            b, eb = antisymmetric_part(im_of(bb[0].value.reshape(m, m))), bb[0].error
        else:
            b, eb = np.zeros((m, m)), 0.0
        for e, c1, c2 in poles:
            # the subtracted pole terms, summed exactly at T = 0 (a = mu - E_b):
            # S[1/(z - E_b)^2] = -i/(pi a), S[1/(z - E_b) - 1/(z - E_b + i Lambda)]
            # = ln((a + i Lambda)/a) / (i pi) on the branch continuous from a + i0
            a = mu0 - e
            s2 = -1j / (math.pi * a)
            s1 = (np.log(complex(a, lam)) - np.log(complex(a, 0.0))) / (1j * math.pi)
            k = k + (c2 * s2).real + (c1 * s1).real
        kernel = (k, b, ek, eb)
    f_eq = re_of(f.value) + ops.expectation(extra).real
    return f_eq, f.error, kernel


@dataclass(frozen=True)
class FermiSeaPart:
    r"""The bias-independent Fermi-sea part of :func:`force_coefficients`.

    Everything :func:`force_coefficients` takes from the pole expansion at
    the reference chemical potential mu_0, per spin: the equilibrium mean
    force and the analytic (upper-half-plane) part of Pi_eq.  It depends on
    the junction, the forces, mu_0, the temperature and the frequency, not
    on the bias, so a bias sweep at fixed E_F (mu_0 = E_F for a symmetric
    bias) computes it once (:func:`fermi_sea_part`) and passes it to every
    call as ``fermi_sea=``.

    Attributes
    ----------
    mean_force : ndarray (M,)
        Tr[f_a rho_eq] in eV/Angstrom, and ``mean_force_error``.
    kernel : tuple
        The pole part of Pi_eq with its errors (see :func:`_fermi_sea`).
    chemical_potential, temperature, frequency : float
        mu_0 (eV), T (K), hbar*omega (eV).
    rtol : float
        The tolerance of :func:`force_coefficients` it serves (its parts
        were computed to ``tolerance``, a quarter of it, as there).
    tolerance : float
        The tolerance its pole sums were computed to.
    evaluations : int
        Energies at which the Green's function was evaluated.
    fingerprint : str
        Identifies the junction (size, leads, energy scale, Hamiltonian) and
        the force operators; checked when the part is reused.
    """

    mean_force: np.ndarray
    mean_force_error: float
    kernel: tuple
    chemical_potential: float
    temperature: float
    frequency: float
    rtol: float
    tolerance: float
    evaluations: int
    fingerprint: str


def _fingerprint(junction, ops):
    """A digest of what the Fermi-sea part depends on (except the leads'
    self-energies): the Hamiltonian, the overlap and the force operators on their support."""
    digest = hashlib.sha1()
    for h in (junction.hamiltonian, getattr(junction, "overlap", None)):
        if h is None:
            continue
        if hasattr(h, "tocsr"):
            h = h.tocsr()
            for arr in (h.data, h.indices, h.indptr):
                digest.update(np.ascontiguousarray(arr).tobytes())
        else:
            digest.update(np.ascontiguousarray(h).tobytes())
    digest.update(np.ascontiguousarray(ops.support).tobytes())
    digest.update(np.ascontiguousarray(ops.dense).tobytes())
    digest.update(repr((junction.size, junction.n_leads, float(junction.energy_scale))).encode())
    return digest.hexdigest()


_PART_SHARE = 0.25
"""force_coefficients asks each of its integrals (Fermi sea, window) for
this share of rtol at the first attempt."""


@renamed_keywords(frequency="hbar_omega")
def fermi_sea_part(
    junction: Junction,
    forces: OperatorsLike,
    fermi_level: float = 0.0,
    temperature: float = 300.0,
    hbar_omega: float = 0.0,
    rtol: float = 1e-8,
) -> FermiSeaPart:
    r"""The bias-independent Fermi-sea part of :func:`force_coefficients`,
    to compute once and reuse across a bias sweep.

    Parameters
    ----------
    junction : Junction
        The device and its leads.
    forces : sequence of (N, N) arrays or scipy.sparse matrices
        Force operators f_a in eV/Angstrom.
    fermi_level : float
        The reference chemical potential mu_0 in eV: E_F for a symmetric
        bias, else the mean of the chemical potentials.
    temperature : float
        K (0 allowed).
    hbar_omega : float
        hbar*omega in eV (>= 0).  ``frequency`` is a deprecated alias.
    rtol : float
        The tolerance of the :func:`force_coefficients` calls it serves;
        they may ask for a looser one, not a tighter one.

    Returns
    -------
    FermiSeaPart

    Examples
    --------
    >>> part = fermi_sea_part(junction, forces, fermi_level=0.0, temperature=300.0)  # doctest: +SKIP
    >>> [force_coefficients(junction, forces, bias=v, temperature=300.0, fermi_sea=part)
    ...  for v in (0.1, 0.2, 0.3)]  # doctest: +SKIP
    """
    temperature = check_temperature(temperature)
    w = check_nonnegative("hbar_omega", hbar_omega, "eV")
    rtol = check_rtol(rtol)
    mu0 = check_number("fermi_level", fermi_level, "eV")
    check_leads(junction, "fermi_sea_part")
    ops = ForceOperators(forces, junction.size)
    levels = _bound_state_data(junction, ops, [mu0], mu0, temperature, w, thermal_cutoff(rtol))
    eigen = _closed_forms(junction, ops, rtol, levels)
    return _fermi_sea_part(
        junction, ops, SpectralBlocks(junction, ops), mu0, temperature, w, rtol, _PART_SHARE * rtol, levels, eigen
    )


_SPECTRAL = True
"""Private switch: False forces the numerical routes (pole sums, real-axis
windows) where the closed forms of :mod:`currentforces.spectral` apply; the
tests compare the two."""


def _closed_forms(junction, ops, rtol, levels):
    """The :class:`~currentforces.spectral.Eigenbasis` when the closed forms
    apply (constant self-energies, dense, no bound state), else None."""
    if not _SPECTRAL or levels is not None:
        return None
    return spectral.eigenbasis(junction, ops, rtol)


def _fermi_sea_part(junction, ops, blocks, mu0, temperature, w, rtol, tolerance, levels, eigen=None):
    junction.check_bound_state_occupation(mu0, temperature)  # BoundStateError at T = 0 if E_b = mu_0
    trs = _time_reversal_symmetric(junction, ops)
    bound = None if levels is None else ([lv[0] for lv in levels], [lv[1] for lv in levels])
    with junction.count_energies() as counter:
        if eigen is not None:  # closed forms (module spectral), exact to rounding
            f_eq, err_f, kernel = spectral.sea(eigen, ops, mu0, temperature, w, berry=not trs and w == 0)
        else:
            f_eq, err_f, kernel = _fermi_sea(
                junction, blocks, ops, w, mu0, temperature, tolerance, berry=not trs and w == 0, bound=bound
            )
    return FermiSeaPart(
        mean_force=f_eq,
        mean_force_error=float(err_f),
        kernel=kernel,
        chemical_potential=mu0,
        temperature=temperature,
        frequency=w,
        rtol=rtol,
        tolerance=tolerance,
        evaluations=counter.energies,
        fingerprint=_fingerprint(junction, ops),
    )


def _check_fermi_sea(part, junction, ops, mu0, temperature, w, rtol):
    """Raise InputError unless ``part`` was computed for this call."""
    if not isinstance(part, FermiSeaPart):
        raise InputError(f"fermi_sea must be a FermiSeaPart from fermi_sea_part(), got {type(part).__name__}")
    wanted = {"chemical_potential": mu0, "temperature": temperature, "frequency": w}
    for name, value in wanted.items():
        have = getattr(part, name)
        if abs(have - value) > 1e-12 * max(1.0, abs(value)):
            raise InputError(
                f"fermi_sea was computed for {name} = {have!r}, but this call needs {value!r} "
                "(mu_0 is the mean chemical potential)"
            )
    if part.rtol > rtol:
        raise InputError(f"fermi_sea was computed with rtol = {part.rtol!r}, looser than this call's {rtol!r}")
    if part.fingerprint != _fingerprint(junction, ops):
        raise InputError("fermi_sea was computed for another junction or other force operators")


def _continuum_spectral(blocks, energy, amplitudes, others, scale):
    """sum_l A_l(E_b) on the force support at a bound state's own energy,
    where G itself is singular: A_l = G_c Gamma_l G_c^dagger with the regular
    part G_c of G (a decoupled state has Gamma_l u = 0, so its pole drops out
    of A_l)."""
    u = amplitudes
    gc = _regular_part(blocks, energy, u[blocks.s] @ np.conj(u[blocks.cols]).T, others, scale, cols=blocks.cols)
    return sum(blocks._spectral_from(gc[None], blocks._pos_l, np.array([energy])))[0]


def _regular_part(blocks, energy, residue, others, scale, cols=None):
    """G_c(E_b) = lim_{z -> E_b} [G(z) - R_b/(z - E_b)] on the force support
    (rows and columns, or the given columns),
    by extrapolating G(E_b + i d) - R_b/(i d) to d = 0 from d, d/2, d/4 (error
    O(d^3)); d is 1e-3 of the distance to the nearest band edge, other bound
    state or the energy scale."""
    edges = list(getattr(blocks.junction, "band_edges", ())) + list(others)
    dist = min([scale] + [abs(energy - x) for x in edges if x != energy])
    d = max(1e-3 * dist, 1e-9 * max(1.0, scale))
    ds = np.array([d, 0.5 * d, 0.25 * d])
    g = (
        blocks.green(energy + 1j * ds)
        if cols is None
        else blocks.junction.green_submatrix(energy + 1j * ds, blocks.s, cols)
    )
    gc = g - residue[None] / (1j * ds)[:, None, None]
    return (8 * gc[2] - 6 * gc[1] + gc[0]) / 3


_COMPLEX_PIECES = ("mixed", "pi_bias")
"""Window pieces of which both parts are used (K from the real part, L from
the imaginary part at finite frequency); the others enter by their real part."""


def _window_columns(pieces):
    """Columns of the real view (re, im interleaved) of the window integrand
    that force_coefficients integrates, and the sizes of their groups: the real
    part of every piece, and the imaginary part of the pieces in
    _COMPLEX_PIECES as a group of its own, so each is integrated to rtol of
    its own size (L = hbar Im Pi / w is often far below Re Pi = K)."""
    columns, sizes, start = [], [], 0
    for piece, shape in pieces:
        size = int(np.prod(shape))
        re = 2 * np.arange(start, start + size)
        columns.append(re)
        sizes.append(size)
        if piece in _COMPLEX_PIECES:
            columns.append(re + 1)
            sizes.append(size)
        start += size
    return np.concatenate(columns), sizes


_CLOSED_WINDOW = True
"""Private switch: False keeps the numerical routes (contour, real axis) for the
three-resolvent bias-window pieces where :mod:`currentforces.spectral_window` applies."""


def _closed_bias_window(terms, junction, ops, w, rtol):
    """The closed-form pieces ``terms`` (:func:`currentforces.spectral_window.bias_window`:
    K_bias and L_bias at w = 0, pi_bias at w > 0, per spin) as ({name: value},
    {name: error}) if every error estimate is within rtol of its piece's size (floored
    at FLOOR of its natural scale per spin, :func:`_natural_scales`), else ({}, {}):
    a level far narrower than the window inside it, whose terms cancel beyond double
    precision; the contour or the real axis then does these pieces."""
    natural = _natural_scales(ops, junction, 1.0)
    values = terms.values
    if w == 0:
        checks = [("K_bias", values["K_bias"], "K_current", 1.0), ("L_bias", values["L_bias"], "L_current", 1.0)]
    else:
        pi = values["pi_bias"]
        checks = [("pi_bias", pi.real, "K_current", 1.0), ("pi_bias_im", pi.imag, "L_current", w / HBAR)]
    for name, value, scale, factor in checks:
        if not terms.errors[name] <= rtol * max(float(np.abs(value).max()), FLOOR * natural[scale] * factor, 1e-300):
            return {}, {}
    return dict(values), dict(terms.errors)


def window_integrand(
    blocks,
    chemical_potentials,
    temperature,
    frequency,
    bias_terms=True,
    skip=(),
    poles=(),
    subtract=False,
    real_columns=False,
):
    """The real-axis integrand of :func:`force_coefficients` (one energy batch
    at a time), exposed for benchmarks and for evaluation on a user grid.

    With ``bias_terms=False`` the adiabatic K and L bias-window pieces are
    left out (computed off the real axis by :mod:`currentforces.contour`);
    the pieces named in ``skip`` are left out too (computed in closed form
    by :mod:`currentforces.spectral` and :mod:`currentforces.spectral_window`).
    ``poles``: the bound-state poles of G(E +- w) at finite frequency
    (:func:`~currentforces.boundwindow.window_pole_terms`): their pieces are
    zero on the intervals around them, or with ``subtract`` have c/(E - E_0)
    subtracted there (:func:`~currentforces.boundwindow.interval_integrals`);
    the caller adds both and the constants.

    Every piece but the Fermi-surface friction is linear in the occupations
    n_F(E - c) of the Fermi steps c (the chemical potentials, and mu_0 - hbar w
    for n_0(E + hbar w)), one occupation per term (:func:`window_steps`):
    ``integrand(E, occupation)`` with ``occupation(E, c)`` in place of
    n_F(E - c) (e.g. the step theta(c - E), or 1 for one step and 0 for the
    others, which gives that step's factor), and ``surface_weight(E)`` in
    place of -dn_0/dE in the Fermi-surface piece (present at T > 0); both
    default to the Fermi functions at ``temperature``.

    Returns
    -------
    pieces : list of (name, shape)
        The quantities the integrand stacks, in order.
    integrand : callable
        ``integrand(E, occupation, surface_weight)`` for a 1-d array of energies (eV) returns
        (len(E), sum of sizes) complex; with ``real_columns=True`` the real
        columns that force_coefficients integrates instead (float, the
        columns of :func:`_window_columns`: each piece's real part, followed
        for a piece of ``_COMPLEX_PIECES`` by its imaginary part).
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
    bias_terms = biased and (bias_terms or w > 0)
    if biased:
        if bias_terms:
            pieces.append(("K_bias" if w == 0 else "pi_bias", (m, m)))
        pieces.append(("density", (m,)))
        if w == 0 and bias_terms:
            pieces.append(("L_bias", (m, m)))
    if w == 0 and kt > 0:
        pieces.append(("surface", (m, m)))
    pieces = [(name, shape) for name, shape in pieces if name not in skip]
    wanted = {name for name, _ in pieces}

    def thermal_occupation(e, c):
        return fermi(e, c, temperature)

    def thermal_surface(e):
        return fermi_derivative(e, mu0, temperature)

    # the lead spectral functions kept factored where that is cheaper (leads
    # that couple to few orbitals), else as s x s matrices
    factored = ops.factored_rank_pays(blocks.rank)

    def integrand(e, occupation=thermal_occupation, surface_weight=thermal_surface):
        n0 = occupation(e, mu0)
        got = {}
        spectra: ExplicitSpectra | FactoredSpectra | None = None
        if bias_terms and w == 0:
            if factored:
                g0, dg, v = blocks.green_derivative(e, columns=True)
                spectra = FactoredSpectra(ops, v, blocks.broadenings(e))
            else:
                g0, dg, a_l = blocks.green_derivative(e, spectral=True)
                spectra = ExplicitSpectra(ops, a_l)
        elif bias_terms or wanted & {"density", "surface"}:
            if factored:
                g0, v = blocks.green_and_columns(e)
                spectra = FactoredSpectra(ops, v, blocks.broadenings(e))
            else:
                g0, a_l = blocks.green_and_spectral(e)
                spectra = ExplicitSpectra(ops, a_l)
        else:
            g0 = blocks.green(e)
        if biased and (bias_terms or "density" in wanted):
            # occupation-weighted spectral function sum_l (n_l - n_0) A_l
            assert spectra is not None
            weights = [occupation(e, mu) - n0 for mu in mus]
            aw = spectra.combination(weights)
            if "density" in wanted:
                got["density"] = spectra.expectation(aw) / (2 * math.pi)
        if w > 0:
            want_mixed, want_pi = "mixed" in wanted, "pi_bias" in wanted
            # G(E + w) and G(E - w) from one call of the backend; the traces of
            # one batch share the gathered rows of G(E + w) and of aw
            # (ForceOperators.traces_many)
            pairs = []
            if want_mixed or want_pi:
                g_pm = blocks.green(np.concatenate([e + w, e - w]) if want_pi else e + w)
                gp = g_pm[: e.size]
                if want_mixed:
                    # equilibrium window term (1/2pi) [n0(E) - n0(E+w)] Tr[f_a G(E+w) f_b A(E)],
                    # A = i(G - G^dagger) = sum_l A_l on the real axis (see _fermi_sea)
                    pairs.append((gp, spectra.total() if spectra is not None else 1j * (g0 - _hermitian_conj(g0))))
                if want_pi:
                    pairs += [(gp, aw), (g_pm[e.size :], aw)]
            if not pairs:
                tr = []
            elif spectra is not None:
                tr = spectra.traces(pairs)
            else:
                tr = ops.traces_many(pairs)
            if want_mixed:
                got["mixed"] = (1.0 / (2 * math.pi)) * (n0 - occupation(e, mu0 - w))[:, None, None] * tr[0]
                subtract_poles("mixed", got["mixed"], e, poles, subtract)
            if want_pi:
                got["pi_bias"] = (tr[-2] + np.conj(tr[-1])) / (2 * math.pi)
                subtract_poles("pi_bias", got["pi_bias"], e, poles, subtract)
        else:
            # a piece whose weight is zero at every energy of the batch (the
            # surface friction where it is integrated apart, the bias window
            # where every occupation is set to zero) is exactly zero: no trace
            sw = np.broadcast_to(np.asarray(surface_weight(e), dtype=float), e.shape) if kt > 0 else None
            window = bias_terms and bool(np.any(aw))
            surface = "surface" in wanted and sw is not None and bool(np.any(sw))
            pairs = [(g0, aw), (dg, aw)] if window else []
            tr = spectra.traces(pairs) if pairs and spectra is not None else []
            if surface:
                assert spectra is not None
                tr.append(spectra.surface())
            if bias_terms:
                zero = np.zeros((e.size, m, m))
                # K window (docs/theory.rst eq-k-static, window term of
                # eq-kernel-split): (1/pi) Re Tr[f_a G f_b A_l] (n_l - n_0)
                got["K_bias"] = tr[0].real / math.pi if window else zero
                # L window: (hbar/pi) Im Tr[f_a dG/dE f_b A_l] (n_l - n_0)
                got["L_bias"] = HBAR * tr[1].imag / math.pi if window else zero
            if "surface" in wanted:
                # Fermi-surface friction -(hbar/4pi) (-n0'(E)) Re Tr[f_a A f_b A], A = sum_l A_l
                # (theory-adiabatic): electron-hole pairs of the lead continua only,
                # so a bound state, which has none, gives no friction
                got["surface"] = (
                    -HBAR / (4 * math.pi) * sw[:, None, None] * tr[-1].real if surface else np.zeros((e.size, m, m))
                )
        if not real_columns:
            return np.concatenate([got[name].reshape(e.size, -1).astype(complex) for name, _ in pieces], axis=1)
        # written into one float array: no complex copy of the real pieces
        out = np.empty((e.size, n_real))
        start = 0
        for name, _ in pieces:
            v = got[name].reshape(e.size, -1)
            out[:, start : start + v.shape[1]] = v.real
            start += v.shape[1]
            if name in _COMPLEX_PIECES:
                out[:, start : start + v.shape[1]] = v.imag
                start += v.shape[1]
        return out

    n_real = int(sum(_window_columns(pieces)[1])) if pieces else 0
    return pieces, integrand


def window_steps(chemical_potentials, frequency, biased=True):
    """Energies c (eV) of the Fermi steps n_F(E - c) of :func:`window_integrand`:
    the chemical potentials and their mean mu_0 (bias-window pieces, when
    ``biased``) and, at finite frequency hbar w = ``frequency`` (eV), mu_0 and
    mu_0 - hbar w (n_0(E) and n_0(E + hbar w) of the mixed term)."""
    mus = np.asarray(chemical_potentials, dtype=float)
    mu0 = float(np.mean(mus))
    w = float(frequency)
    steps = []
    if biased:
        steps += [float(x) for x in mus] + [mu0]
    if w > 0:
        steps += [mu0, mu0 - w]
    return np.unique(steps)


def _no_weight(e):
    """A zero Fermi-surface weight (the surface friction is not a step)."""
    return 0.0


def _window_integral(junction, blocks, mus, mu0, temperature, w, rtol, cutoff, bias_terms, levels=None, skip=()):
    """The real-axis window integrals of :func:`force_coefficients`:
    (values, errors) of each piece of :func:`window_integrand` (complex pieces
    with their imaginary parts' errors under name + "_im").

    One adaptive Gauss-Kronrod integral over the window of the Fermi steps
    (:meth:`Junction._stepped_window`: each piece to rtol of its own size, lead
    band edges by E = E_edge -+ u^2, ends at the lead continua, and at T > 0
    every step whose factor is analytic for
    :data:`~currentforces.fermi_steps.STEP_CLEARANCE` k_B T around it taken
    at T = 0 plus a Fermi-weight Gauss-rule correction).  The Fermi-surface
    friction, where its factor is as smooth around mu_0, by the
    Fermi-derivative rule (:func:`~currentforces.fermi_steps.derivative_integral`,
    14 energies), else inside the adaptive integral.  So the cost does not
    grow as T falls.

    At finite frequency the bound states ``levels`` on the omega-window
    paths (:func:`~currentforces.boundwindow.window_pole_terms`) add their
    exact terms and pole intervals; there every step keeps its Fermi function
    (the pole intervals are integrated with them).  The pieces named in
    ``skip`` are left out (:func:`window_integrand`).
    """
    kt = KB * temperature
    biased = len(mus) > 1 and np.ptp(mus) > 0
    shifts = (w, -w) if w > 0 else ()
    steps = window_steps(mus, w, biased)
    # dG/dE ~ 1/sqrt|E - E_edge| at a lead band edge, G(E +- w) has its
    # square root at E_edge -+ w: E = E_edge -+ u^2 there
    edges = [e - s for e in junction.band_edges for s in {0.0, w, -w}]
    bound_terms = None
    if w > 0 and levels:
        # bound states on the omega-window paths: delta terms, principal values
        pts = junction.window_breakpoints(list(steps) or [mu0], temperature, shifts=shifts, cutoff=cutoff)
        bound_terms = window_pole_terms(blocks, levels, mus, mu0, temperature, w, pts, edges)
    poles = bound_terms.subtractions if bound_terms is not None else ()
    pieces, integrand = window_integrand(
        blocks, mus, temperature, w, bias_terms=bias_terms, skip=skip, poles=poles, real_columns=True
    )
    got, gerr = {}, {}
    if not pieces:
        return got, gerr
    _, sizes = _window_columns(pieces)
    surface = w == 0 and kt > 0 and "surface" not in skip
    surface_rule = False
    if surface:
        # the same window (and resonance search) as the window integral's
        lo, hi = window_bounds(steps if steps.size else [mu0], temperature, cutoff=cutoff)
        hull = junction._continuum_window(np.array([lo, hi]))
        reach = STEP_CLEARANCE * kt
        surface_rule = (
            hull is not None
            and mu0 + reach > hull[0]
            and mu0 - reach < hull[-1]
            and bool(smooth_steps([mu0], kt, junction._step_singularities(lo, hi, shifts))[0])
        )
        if hull is None:
            surface = False  # no states near mu_0: no electron-hole pairs

    def weight(e):
        # -dn_0/dE of the surface friction where it stays in the adaptive integral
        return fermi_derivative(e, mu0, temperature) if surface and not surface_rule else 0.0

    def factor(e, occupation, full):
        return integrand(e, occupation, weight if full else _no_weight)

    value, errors = np.zeros(int(sum(sizes))), np.zeros(len(sizes))
    thermal = [mu0] if surface and not surface_rule else []
    if steps.size or thermal:
        win = junction._stepped_window(
            factor,
            steps,
            steps if steps.size else [mu0],
            temperature,
            rtol,
            1e-14,
            "force-coefficient window integral",
            on_fail="warn",
            groups=sizes,
            shifts=shifts,
            edges=edges,
            cutoff=cutoff,
            thermal=thermal,
            points=() if bound_terms is None else bound_terms.points,
            rules=not poles,
        )
        value, errors = value + win.value, errors + win.errors
    if surface_rule:
        # the surface friction alone: every occupation zero, weight 1
        surf = derivative_integral(
            lambda e: integrand(e, lambda x, c: np.zeros(np.shape(x)), lambda x: 1.0),
            mu0,
            kt,
            groups=sizes,
        )
        value, errors = value + surf.value, errors + surf.errors
    offset, k = 0, 0
    for piece, shape in pieces:
        size = int(np.prod(shape))
        v = value[offset : offset + size]
        gerr[piece] = float(errors[k])
        offset, k = offset + size, k + 1
        if piece in _COMPLEX_PIECES:
            v = v + 1j * value[offset : offset + size]
            gerr[piece + "_im"] = float(errors[k])
            offset, k = offset + size, k + 1
        got[piece] = v.reshape(shape)
    if bound_terms is not None:
        # the pole intervals (fixed rule, pole subtracted) and the exact terms
        _, sub = window_integrand(
            blocks, mus, temperature, w, bias_terms=bias_terms, skip=skip, poles=poles, subtract=True
        )
        add, add_err, _ = interval_integrals(poles, sub, pieces)
        for piece, v in add.items():
            got[piece] = got[piece] + v
        for name, v in add_err.items():
            gerr[name] = gerr[name] + v
        for piece, v in bound_terms.constants.items():
            got[piece] = got[piece] + v
    return got, gerr


def _bound_state_data(junction, ops, mus, mu0, temperature, w, cutoff=THERMAL_CUTOFF):
    """The junction's bound states that the force operators see, as
    (energies, residues on the support) per level, after checking that none
    sits on a real-axis path of the window integrals.

    At finite frequency the window integrands cross the real poles of G(E +- w)
    and A(E) holds the bound states' delta functions: both are treated
    exactly (:mod:`currentforces.boundwindow`).  In the adiabatic bias
    window a decoupled state inside a lead continuum (A_l != 0 there) puts
    the pole of G(E) and the double pole of dG/dE on the path: not
    implemented, :class:`BoundStateError` says so.
    """
    bs = junction.bound_states()
    if not len(bs):
        return None
    kt = KB * temperature
    width = cutoff * kt + 1e-12 * max(1.0, junction.energy_scale)
    u = bs.amplitudes[ops.support]
    seen = np.linalg.norm(u, axis=0) > 1e-12 * max(1.0, float(np.abs(bs.amplitudes).max()))
    mus = np.asarray(mus, dtype=float)
    biased = len(mus) > 1 and np.ptp(mus) > 0
    for e, ok, dec in zip(bs.energies, seen, bs.decoupled):
        if not ok:
            continue
        if w == 0 and biased and mus.min() - width < e < mus.max() + width and in_continuum(junction, e):
            raise BoundStateError(
                f"the bound state at E_b = {e!r} eV ({'decoupled from the leads' if dec else 'in a gap of the leads'}) "
                f"lies in the bias window [{mus.min()!r}, {mus.max()!r}] eV inside a lead's band, where the "
                "adiabatic window integrals would cross its real pole; this case is not supported (the "
                "adiabatic coefficients at zero bias and every finite frequency are)"
            )
    levels = []
    energies = bs.energies[seen]
    amps = bs.amplitudes[:, seen]
    i = 0
    while i < energies.size:
        j = i + 1
        while j < energies.size and energies[j] == energies[i]:
            j += 1
        uu = amps[ops.support, i:j]
        levels.append((float(energies[i]), uu @ np.conj(uu.T), bool(np.all(bs.decoupled[seen][i:j])), amps[:, i:j]))
        i = j
    return levels


@renamed_keywords(frequency="hbar_omega")
def force_coefficients(
    junction: Junction | JunctionSet,
    forces: OperatorsLike | Callable[[Any], Any],
    bias: float = 0.0,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    hbar_omega: float = 0.0,
    spin: float | None = None,
    chemical_potentials: ArrayLike | None = None,
    rtol: float = 1e-8,
    on_fail: str = "raise",
    fermi_sea: FermiSeaPart | None = None,
    overlap_derivatives: OperatorsLike | None = None,
) -> ForceCoefficients:
    r"""Mean force and the K, L coefficients of seed eq (14) at any bias,
    temperature and frequency.

    Parameters
    ----------
    junction : Junction or JunctionSet
        The device and its leads; or a :class:`~currentforces.junctionset.JunctionSet`
        (spin channels, k-points), whose members' coefficients are summed
        with their weights (:eq:`eq-junction-set`).
    forces : sequence of (N, N) arrays or scipy.sparse matrices, or callable
        Force operators f_a = -dh/dX_a in eV/Angstrom (Hermitian, device basis).
        For a set: the same operators for every member, or ``forces(key)``
        per member (``key`` = k for a k-point set,
        :func:`currentforces.kpoints.bloch_forces`).
    bias : float
        V in volt: mu_0 = E_F + V/2 (lead 0), mu_1 = E_F - V/2 (lead 1).
    temperature : float
        Electronic temperature in K (0 allowed).
    fermi_level : float
        E_F in eV.
    hbar_omega : float
        Oscillator energy hbar*omega_0 in eV (>= 0); 0 is the adiabatic
        limit.  ``frequency`` is a deprecated alias.
    spin : {None, 1, 2}
        Spin degeneracy g_s multiplying every coefficient; default 2, or the
        set's own (1 for spin channels).
    chemical_potentials : sequence of float, optional
        One per lead in eV; replaces ``bias`` and ``fermi_level``.
    rtol : float
        Relative tolerance of every returned quantity, each against its own
        size (max over its elements).
    on_fail : {"raise", "warn"}
        When a quantity's error estimate misses ``rtol``: raise
        :class:`~currentforces.errors.IntegrationError`, or warn
        (:class:`~currentforces.errors.IntegrationWarning`) and return it with
        its estimate in ``error``.
    fermi_sea : FermiSeaPart, optional
        The bias-independent Fermi-sea part from :func:`fermi_sea_part` for
        the same junction, forces, mu_0, temperature and frequency (and a
        tolerance at most ``rtol``), reused instead of recomputed: a bias
        sweep computes it once.  A part that does not match raises
        InputError.

    overlap_derivatives : sequence of (N, N) arrays or sparse matrices, optional
        dS/dX_a in 1/Angstrom, one per force operator, for a junction with an
        ``overlap`` (:ref:`theory-overlap-forces`); None (or all zero): the
        overlap does not move and f_a = ``forces[a]`` (the pole-sum route
        above, bit for bit).  A moving overlap makes the coupling energy
        dependent, f_a(E) = forces[a] + E dS/dX_a, taken at the mean energy
        of the two states it connects (:eq:`eq-overlap-moving`, the
        connection term of the moving basis neglected); the mean force
        gains Tr[rho_E dS/dX_a] (:eq:`eq-overlap-mean-force`).  That kernel
        is integrated on the real axis over the lead bands
        (:eq:`eq-overlap-kernel-real`, :mod:`currentforces.overlap_kernel`):
        it needs leads of finite bands; bound states enter in closed form
        at ``hbar_omega=0`` (:eq:`eq-overlap-bound`, with time-reversal
        symmetry) and must lie above the highest chemical potential +
        40 k_B T + ``hbar_omega`` at finite frequency; no ``fermi_sea``
        (each raises :class:`~currentforces.errors.OverlapError` naming the
        reason).  For a set: the same
        for every member, or a callable of the member's key, like ``forces``.

    Returns
    -------
    ForceCoefficients
        ``mean_force`` (M,), ``K``, ``L`` (M, M) with their parts
        ``renormalization``, ``nonconservative``, ``friction``, ``berry`` and
        the current-induced parts ``K_current``, ``L_current``; ``error``
        holds the estimated absolute error of each.

    Raises
    ------
    BoundStateError
        At T = 0 with a bound state exactly at the reference chemical
        potential.  At ``hbar_omega=0`` with a bias and a decoupled bound
        state inside a lead band and the bias window (its pole on the
        adiabatic window path).  At finite frequency with two bound states
        exactly ``hbar_omega`` apart (a discrete absorption line), with
        E_b -+ hbar_omega on a lead band edge (the absorption threshold),
        or at T = 0 with E_b + hbar_omega on mu_0, or a pole
        E_b -+ hbar_omega of G(E +- hbar_omega) inside a continuum on a
        chemical potential (a logarithmically divergent principal value); a
        bound state anywhere else within the windows is exact
        (:ref:`theory-bound-frequency`).
    IntegrationError
        (``on_fail="raise"``; :class:`IntegrationWarning` with ``"warn"``)
        A quantity's error estimate misses ``rtol`` of its own size; the
        message names every such quantity.  Where an energy integrand is
        not integrable next to a lead band edge (a 1D van Hove peak in the
        thermal or bias window: the adiabatic friction then diverges
        logarithmically), the message says so and the attribute ``edge``
        holds that band edge (eV).

    Notes
    -----
    The zero-bias reference is mu_0 = mean of the chemical potentials (E_F
    for a symmetric bias).  The equilibrium parts (Fermi sea) include the
    bound states of the device (:meth:`Junction.bound_states`), occupied
    with n_F(E_b - mu_0) (see :mod:`currentforces.boundstates` for this
    choice); the scattering-state density matrix of seed eq (13) does not.
    The adiabatic friction is the Fermi-surface form
    -(hbar/4pi) int (-dn_0/dE) Re Tr[f_a A f_b A] with A = sum_l A_l plus
    the bias window: electron-hole pairs of the lead continua, so a bound
    state outside them contributes nothing.  A bound state inside a
    continuum (decoupled from the leads) adds the pairs it forms with the
    continuum, hbar (-dn_0/dE)(E_b) Re Tr[f_a R_b f_b A(E_b)] to -L at
    T > 0.  At finite frequency the bound states' delta functions in A and
    the real poles of G(E +- hbar_omega) in the window integrals are taken
    exactly (:eq:`eq-bound-pv`): a principal value plus the absorption of
    hbar*omega by a continuum electron into a bound state and from it,
    where E_b -+ hbar_omega lies in a continuum.  K is minus the derivative
    of the mean force as computed, i.e. with bound-state occupations
    n_F(E_b(X) - mu_0) that follow the displacement; at T = 0
    (E_b != mu_0) this is the same as a frozen occupation.

    Window integrals (bias window, Fermi surface, omega window) have
    breakpoints graded around every narrow resonance of G
    (:meth:`Junction.window_breakpoints`), so a level of width 1e-10 eV is
    integrated to the tolerance.  Each quantity's ``error`` is the sum of
    the estimates of the integrals it is made of (pole sums, window
    integrals), each computed for that quantity alone.
    """
    if isinstance(junction, JunctionSet):
        if fermi_sea is not None:
            raise InputError("fermi_sea: a precomputed Fermi-sea part belongs to one Junction, not to a junction set")
        return _set_coefficients(
            junction,
            forces,
            bias,
            temperature,
            fermi_level,
            hbar_omega,
            spin,
            chemical_potentials,
            rtol,
            on_fail,
            overlap_derivatives,
        )
    temperature = check_temperature(temperature)
    w = check_nonnegative("hbar_omega", hbar_omega, "eV")
    spin = check_spin(resolve_spin(junction, spin))
    rtol = check_rtol(rtol)
    check_leads(junction, "force_coefficients")
    if on_fail not in ("raise", "warn"):
        raise InputError(f"on_fail must be 'raise' or 'warn', got {on_fail!r}")
    one = operators_for_one(forces, "force_coefficients")
    ops = ForceOperators(one, junction.size)
    mus = junction.chemical_potentials(bias, fermi_level, chemical_potentials)
    mu0 = float(np.mean(mus)) if len(mus) else float(fermi_level)
    if check_overlap_derivatives(junction, one, overlap_derivatives) is not None:
        if fermi_sea is not None:
            raise OverlapError(
                "fermi_sea: a precomputed Fermi-sea part has constant couplings and cannot serve with a moving "
                "overlap (overlap_derivatives); leave fermi_sea out"
            )
        assert overlap_derivatives is not None  # checked above
        return _moving_overlap(junction, ops, one, overlap_derivatives, mus, mu0, temperature, w, spin, rtol, on_fail)
    blocks = SpectralBlocks(junction, ops)
    biased = len(mus) > 1 and np.ptp(mus) > 0
    kt = KB * temperature
    scale = junction.energy_scale
    m = ops.n_modes

    # the thermal windows reach thermal_cutoff(rtol) k_B T beyond the chemical
    # potentials (bound-state check, breakpoints and contour alike): beyond,
    # the occupation factors are below rtol e^-12
    cutoff = thermal_cutoff(rtol)
    levels = _bound_state_data(junction, ops, mus, mu0, temperature, w, cutoff)
    if fermi_sea is not None:
        _check_fermi_sea(fermi_sea, junction, ops, mu0, temperature, w, rtol)

    user_rtol = rtol
    closed_memo: dict[str, Any] = {}  # the closed-form bias-window pieces (module spectral_window), once
    off_axis = biased and w == 0 and contour.applies(junction, mus, temperature, rtol, cutoff)
    memo: dict[tuple[str, float], Any] = {}
    eigen = _closed_forms(junction, ops, rtol, levels)

    def part(name, rtol):
        """One of the two computations (Fermi sea, windows), memoised by its tolerance."""
        key = (name, rtol)
        if key in memo:
            return memo[key]
        if name == "sea":
            # the Fermi sea: mean force from the density matrix on the support
            # (seed eqs 6, 13; bound states occupied with n_F(E_b - mu_0), named
            # error if E_b = mu_0 at T = 0) and the pole part of Pi_eq, on one
            # set of poles; a given part serves if it was computed tightly enough
            if fermi_sea is not None and fermi_sea.tolerance <= rtol:
                out = fermi_sea
            else:
                out = _fermi_sea_part(junction, ops, blocks, mu0, temperature, w, user_rtol, rtol, levels, eigen)
        elif name == "window":
            # ---- closed forms (module spectral) for constant self-energies: the
            # density, Fermi-surface and mixed pieces; the three-resolvent pieces
            # K_bias, L_bias and pi_bias from module spectral_window where its
            # error estimate meets rtol, else the routes below
            got, gerr = {}, {}
            lo, hi = window_bounds([*mus, mu0 - w], temperature, cutoff=cutoff)
            if eigen is not None and eigen.clear_of(lo, hi):  # no (near-)bound state in the windows
                if biased:
                    got["density"], gerr["density"] = spectral.density(eigen, ops, mus, temperature)
                if w == 0 and kt > 0:
                    got["surface"], gerr["surface"] = spectral.surface(eigen, ops, mu0, temperature)
                if w > 0:
                    got["mixed"], gerr["mixed"], gerr["mixed_im"] = spectral.mixed(eigen, ops, mu0, temperature, w)
                if biased and _CLOSED_WINDOW and spectral_window.applies(junction.size, m):
                    if "terms" not in closed_memo:
                        basis = spectral_window.from_eigenbasis(eigen, ops)
                        closed_memo["terms"] = spectral_window.bias_window(basis, ops, mus, temperature, w)
                    closed, closed_err = _closed_bias_window(closed_memo["terms"], junction, ops, w, rtol)
                    got.update(closed)
                    gerr.update(closed_err)
            # ---- the real-axis window integrals for everything else, each piece
            # to rtol of its own size
            closed_bias = "K_bias" in got or "pi_bias" in got
            more, more_err = _window_integral(
                junction,
                blocks,
                mus,
                mu0,
                temperature,
                w,
                rtol,
                cutoff,
                not (off_axis or closed_bias),
                levels,
                skip=tuple(got),
            )
            got.update(more)
            gerr.update(more_err)
            if off_axis and not closed_bias:
                # narrow resonances in the bias window: off the real axis (module contour)
                p_k, p_l, e_k, e_l = contour.adiabatic_bias_window(
                    junction, ops, mus, temperature, rtol, cutoff=cutoff, eigen=eigen
                )
                got["K_bias"], gerr["K_bias"] = p_k / math.pi, e_k / math.pi
                got["L_bias"], gerr["L_bias"] = HBAR * p_l / math.pi, HBAR * e_l / math.pi
            out = (got, gerr)
        memo[key] = out
        return out

    def compute(tols):
        sea = part("sea", tols["sea"])
        f_eq, err_f_eq = sea.mean_force, sea.mean_force_error
        got, gerr = part("window", tols["window"])
        zero = np.zeros((m, m))
        f_cur = got["density"].real if biased else np.zeros(m)
        err = {"mean_force_current": spin * gerr.get("density", 0.0)}
        if w > 0:
            pole, ep_re, ep_im = sea.kernel
            pi_bias = got.get("pi_bias", np.zeros((m, m), complex))
            pi = pole + got["mixed"] + pi_bias
            k, l_ = pi.real, HBAR * pi.imag / w
            k_cur, l_cur = pi_bias.real, HBAR * pi_bias.imag / w
            e_mix, e_bias = gerr["mixed"], gerr.get("pi_bias", 0.0)
            i_mix, i_bias = gerr["mixed_im"], gerr.get("pi_bias_im", 0.0)
            err.update(
                K=spin * (ep_re + e_mix + e_bias),
                L=spin * HBAR * (ep_im + i_mix + i_bias) / w,
                K_current=spin * e_bias,
                L_current=spin * HBAR * i_bias / w,
            )
        else:
            k_pole, b_pole, ek, eb = sea.kernel
            k_cur = got["K_bias"].real if biased else zero
            l_cur = got["L_bias"].real if biased else zero
            if kt > 0:
                l_surf = got["surface"].real
                e_surf = gerr["surface"]
                for e, r, dec, u in levels or ():
                    if dec:  # pairs of a state inside a continuum with that continuum
                        a_c = _continuum_spectral(blocks, e, u, [lv[0] for lv in levels if lv[0] != e], scale)
                        tr = ops.traces(r[None], a_c[None]).real[0]
                        l_surf = l_surf - HBAR * fermi_derivative(e, mu0, temperature) * tr
            else:
                l_surf, e_surf = _surface_t0(blocks, ops, mu0), 0.0
            k = k_pole + k_cur
            l_ = HBAR * b_pole + l_surf + l_cur
            e_kb, e_lb = gerr.get("K_bias", 0.0), gerr.get("L_bias", 0.0)
            err.update(
                K=spin * (ek + e_kb), L=spin * (HBAR * eb + e_surf + e_lb), K_current=spin * e_kb, L_current=spin * e_lb
            )
        f0 = f_eq + f_cur
        err["mean_force"] = spin * (err_f_eq + gerr.get("density", 0.0))
        err = {key: float(v) for key, v in err.items()}
        return ForceCoefficients(
            mean_force=spin * f0,
            K=spin * k,
            L=spin * l_,
            mean_force_current=spin * f_cur,
            K_current=spin * k_cur,
            L_current=spin * l_cur,
            frequency=w,
            chemical_potentials=mus,
            temperature=temperature,
            spin=spin,
            error=err,
        )

    # every quantity is a sum of two or three integrals, each computed to its
    # own tolerance: ask each for a quarter (a sum of three, with some
    # cancellation, still meets rtol; a marginal miss would cost a second
    # pass), and once more, tighter, for the parts of a quantity where a
    # cancellation between them leaves it short of rtol
    natural = _natural_scales(ops, junction, spin)
    tols = dict.fromkeys(("sea", "window"), _PART_SHARE * user_rtol)
    out, ratio = None, np.inf
    edges: set[float] = set()
    for _attempt in range(2):
        # an integral that misses its own (inner) tolerance warns; whether
        # the quantities meet rtol is decided below from their estimates
        with _inner_integrals() as stopped_at:
            trial = compute(tols)
        edges |= stopped_at
        factors = _error_ratios(trial, user_rtol, natural)
        worst = max(factors.values())
        if out is None or worst < ratio:
            out, ratio = trial, worst
        if worst <= 1 or edges:
            # met; or an integrand not integrable at a band edge, which a
            # tighter tolerance cannot mend
            break
        for q, factor in factors.items():
            if factor > 1:
                for name in _PARTS[q]:
                    tols[name] = max(1e-13, min(tols[name], 0.5 * tols[name] / factor))
    assert out is not None  # the first attempt always sets it
    rtol = user_rtol
    _check_errors(out, rtol, on_fail, natural, sorted(edges))
    return out


@contextlib.contextmanager
def _inner_integrals() -> Iterator[set[float]]:
    """Silence the :class:`IntegrationWarning` of the inner integrals (their
    shares of the tolerance are judged by the caller) and collect the band
    edges at which one found its integrand not integrable (the warning's
    ``edge``); every other warning passes on unchanged."""
    edges: set[float] = set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IntegrationWarning)
        yield edges
    for w in caught:
        if issubclass(w.category, IntegrationWarning):
            edge = getattr(w.message, "edge", None)
            if edge is not None:
                edges.add(float(edge))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def _moving_overlap(junction, ops, forces, derivs, mus, mu0, temperature, w, spin, rtol, on_fail):
    """force_coefficients with a moving overlap: the real-axis kernel of
    :mod:`currentforces.overlap_kernel`, in one integral at a share of rtol, a
    second at a tighter one if a quantity misses rtol."""
    both = stacked_operators(forces, derivs, junction.size)
    blocks = SpectralBlocks(junction, both)
    natural = _natural_scales(ops, junction, spin)
    share = _PART_SHARE * rtol
    bound = _moving_overlap_bound_states(junction, both, blocks, ops.n_modes, mus, mu0, temperature) if w == 0 else None
    trs = _time_reversal_symmetric(junction, both)
    out = None
    for _attempt in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IntegrationWarning)
            values, errors = moving_overlap_coefficients(
                blocks, ops.n_modes, mus, mu0, temperature, w, share, bound_states=bound is not None, time_reversal=trs
            )
        if bound is not None:
            values["mean_force"] = values["mean_force"] + bound[0]
            values["K"] = values["K"] + bound[1]
        out = ForceCoefficients(
            **{k: spin * v for k, v in values.items()},
            frequency=w,
            chemical_potentials=mus,
            temperature=temperature,
            spin=spin,
            error={k: spin * e for k, e in errors.items()},
        )
        worst = max(_error_ratios(out, rtol, natural).values())
        if worst <= 1:
            break
        share = max(1e-13, 0.5 * share / worst)
    assert out is not None
    _check_errors(out, rtol, on_fail, natural)
    return out


def _moving_overlap_bound_states(junction, both, blocks, m, mus, mu0, temperature):
    r"""The bound states' terms of F0 and K with a moving overlap at omega = 0
    (:eq:`eq-overlap-bound`), per spin, or None without bound states.

    A bound state at E_b with residue R (on the stacked support ``both``) and
    occupation n = n_F(E_b - mu_0) (as in the orthogonal route) puts
    G = R/(E - E_b + i0) + G_c into F0 = -(1/pi) int n Im Tr[f(E) G] and
    K = -(1/pi) int n Im Tr[f_a(E) G f_b(E) G] (time-reversal symmetry:
    every trace real), which gives

    .. math::

        F^{(0)}_a \mathrel{+}= n\,\mathrm{Tr}[f_a(E_b) R], \qquad
        K_{ab} \mathrel{+}= \frac{d}{dE}\big(n\, \mathrm{Tr}[f_a R f_b R]\big)_{E_b}
          + n\,\big(\mathrm{Tr}[f_a R f_b G_c] + \mathrm{Tr}[f_a G_c f_b R]\big),

    the derivative acting on n_F and on the couplings f(E) = F + E D (the
    occupation follows the level; at T = 0 only the coupling's derivative).
    L gets no term: at omega -> 0 a bound state outside the continua forms
    no electron-hole pair, and its Berry term vanishes with time-reversal
    symmetry, which is required here (:class:`OverlapError` otherwise), as
    is every bound state lying outside the lead continua (a decoupled state
    inside a band is a pole on the real-axis path).
    """
    levels = _bound_state_data(junction, both, mus, mu0, temperature, 0.0)
    if not levels:
        return None
    top = float(np.max(mus)) + THERMAL_CUTOFF * KB * temperature
    for e, _, dec, _ in levels:
        if dec and e < top and in_continuum(junction, e):
            raise OverlapError(
                f"overlap_derivatives: the bound state at E_b = {e!r} eV is decoupled from the leads inside a lead "
                "band, a pole on the real-axis path of the kernel with a moving overlap; not supported"
            )
    if not _time_reversal_symmetric(junction, both):
        raise OverlapError(
            "overlap_derivatives: with bound states the kernel with a moving overlap needs time-reversal symmetry "
            "(real h, S, forces and overlap_derivatives, symmetric self-energies), which this junction lacks"
        )
    scale = junction.energy_scale
    f0, k = np.zeros(m), np.zeros((m, m))
    energies = [lv[0] for lv in levels]
    for e, r, _, _ in levels:
        if temperature == 0:
            if e == mu0:
                raise BoundStateError(f"a bound state at E_b = mu_0 = {e!r} eV at T = 0 has no defined occupation")
            n, dn = float(e < mu0), 0.0
        else:
            n, dn = float(fermi(e, mu0, temperature)), -float(fermi_derivative(e, mu0, temperature))
        gc = _regular_part(blocks, e, r, [x for x in energies if x != e], scale)
        x = both.expectation(r[None])[0]
        f0 += n * (x[:m] + e * x[m:]).real
        rr = both.traces(r[None], r[None])[0]
        g = combine(rr[None], np.array([e]), m)[0]
        dg = rr[:m, m:] + rr[m:, :m] + 2 * e * rr[m:, m:]
        c1 = combine((both.traces(r[None], gc[None]) + both.traces(gc[None], r[None])), np.array([e]), m)[0]
        k += (dn * g + n * dg + n * c1).real
    return f0, k


def _set_coefficients(junctions, forces, bias, temperature, fermi_level, w, spin, mus, rtol, on_fail, derivs):
    """force_coefficients of a junction set: sum_i w_i C_i (:eq:`eq-junction-set`).

    A folded k-point stands for -k too: at zero bias its partner's
    coefficients are the transposed ones (:eq:`eq-kpoint-reversal`), under
    bias the partner is evaluated."""
    biased = junctions._biased(bias, fermi_level, mus)
    return junctions.evaluate(
        force_coefficients,
        forces,
        exact=not biased,
        mirror=lambda c, *_: c.transposed(),
        combine=ForceCoefficients.weighted_sum,
        per_member={"overlap_derivatives": derivs},
        bias=bias,
        temperature=temperature,
        fermi_level=fermi_level,
        hbar_omega=w,
        spin=spin,
        chemical_potentials=mus,
        rtol=rtol,
        on_fail=on_fail,
    )


FLOOR = 0.1
"""A quantity is judged against rtol times its own size, but not below rtol
times this fraction of its natural scale (:func:`_natural_scales`): a
quantity that vanishes, or nearly, by symmetry has no relative error."""


def _natural_scales(ops, junction, spin):
    """Natural sizes of F0 (eV/A), K (eV/A^2) and L (eV fs/A^2): g_s |f|,
    g_s |f|^2 / E and hbar g_s |f|^2 / E^2 with |f| = max_a sum_ij |f_a,ij|
    and E the junction's energy scale."""
    f = float(np.abs(ops.dense).sum(axis=(1, 2)).max()) if ops.n_modes else 0.0
    e = max(1.0, float(junction.energy_scale))
    k = spin * f * f / e
    return {
        "mean_force": spin * f,
        "K": k,
        "L": HBAR * k / e,
        "mean_force_current": spin * f,
        "K_current": k,
        "L_current": HBAR * k / e,
    }


def _quantities(c):
    return {
        "mean_force": c.mean_force,
        "K": c.K,
        "L": c.L,
        "mean_force_current": c.mean_force_current,
        "K_current": c.K_current,
        "L_current": c.L_current,
    }


def _tolerance(name, value, rtol, natural):
    size = float(np.abs(value).max()) if np.size(value) else 0.0
    return max(rtol * FLOOR * natural[name], rtol * size, 1e-300), size


_PARTS = {
    "mean_force": ("sea", "window"),
    "mean_force_current": ("window",),
    "K": ("window", "sea"),
    "L": ("window", "sea"),
    "K_current": ("window",),
    "L_current": ("window",),
}
"""The computations each quantity is made of (force_coefficients)."""


def _error_ratios(c, rtol, natural):
    """error / tolerance of every quantity."""
    return {name: c.error.get(name, 0.0) / _tolerance(name, v, rtol, natural)[0] for name, v in _quantities(c).items()}


def _check_errors(c, rtol, on_fail, natural, edges=()):
    """Each quantity's error estimate against rtol times its own size;
    ``edges``: band edges (eV) at which an energy integrand was found not
    integrable, named in the message."""
    reason = ""
    if len(edges):
        at = ", ".join(f"{e + 0.0:.6g}" for e in edges)  # + 0.0: no "-0"
        reason = (
            f"; the energy integrand is not integrable at the band edge(s) {at} eV (its integral next to the "
            "edge did not shrink as the panel was halved): a singularity stronger than 1/sqrt|E - E_edge|, "
            "such as the van Hove peak of a one-dimensional (sub)band inside the thermal or bias window, where "
            "the coefficient itself diverges, or rounding that grows towards the edge; a tighter rtol cannot help"
        )
    misses = []  # (ratio, error, tolerance, text) of every quantity short of rtol
    for name, v in _quantities(c).items():
        e = c.error.get(name, 0.0)
        tol, size = _tolerance(name, v, rtol, natural)
        if not e <= tol:
            ratio = e / tol if tol > 0 else math.inf
            text = (
                f"{name} has estimated error {e:.3g} above its tolerance {tol:.3g} "
                f"(rtol {rtol:g} of max|{name}| = {size:.3g})"
            )
            misses.append((ratio if ratio == ratio else math.inf, e, tol, text))  # a NaN error: worst
    if not misses:
        return
    # one message naming every quantity that missed; error and tolerance of the worst
    _, e, tol, _ = max(misses, key=lambda m: m[0])
    msg = "force_coefficients: " + "; ".join(m[3] for m in misses) + reason
    edge = float(edges[0]) if len(edges) else None
    if on_fail == "raise":
        raise IntegrationError(msg, error=e, tolerance=tol, edge=edge)
    warnings.warn(IntegrationWarning(msg, edge=edge), stacklevel=3)


def _surface_t0(blocks, ops, mu0):
    """-(hbar/4pi) Re Tr[f_a A f_b A] at mu_0 with A = sum_l A_l: the T = 0
    equilibrium friction (:ref:`theory-adiabatic`), lead continua only."""
    _, a_l = blocks.green_and_spectral(np.array([mu0]))
    a = sum(a_l)
    return -HBAR / (4 * math.pi) * ops.traces(a, a).real[0]


PairArguments: TypeAlias = (
    "tuple[Junction, OperatorsLike, ArrayLike, float, float, float, float, ArrayLike | None, float]"
)
"""The arguments the public lead-pair spectra share, in their order."""


def lead_pair_spectra(
    args: PairArguments,
    quantities: Sequence[str],
    caller: str,
    overlap_derivatives: OperatorsLike | None = None,
) -> PairSpectra:
    """The lead-pair kernel (:func:`currentforces.pairs.pair_spectra`) on the force support.

    The one entry of the public lead-pair spectra (:func:`electron_hole_spectrum`
    and those of :mod:`currentforces.noise`): ``args`` is their argument tuple
    ``(junction, forces, hbar_omega, bias, temperature, fermi_level, spin,
    chemical_potentials, rtol)``, checked by
    :func:`currentforces.pairs.pair_arguments`; ``quantities`` as in
    :func:`~currentforces.pairs.pair_spectra`; ``caller`` names the public
    function in error messages.  ``overlap_derivatives`` (dS/dX_a, checked by
    :func:`~currentforces.nonorthogonal.check_overlap_derivatives`): a moving
    overlap, whose couplings f_a = forces[a] + E dS/dX_a the kernel takes at
    the mean energy of each pair (the ``modes`` of
    :func:`~currentforces.pairs.pair_spectra`).
    """
    ops, mus, hw, temperature, spin, rtol = pair_arguments(*args, caller)
    junction = args[0]
    if check_overlap_derivatives(junction, args[1], overlap_derivatives) is None:
        return pair_spectra(SpectralBlocks(junction, ops), mus, hw, temperature, spin, rtol, quantities, what=caller)
    assert overlap_derivatives is not None  # checked above
    both = stacked_operators(args[1], overlap_derivatives, junction.size)
    blocks = SpectralBlocks(junction, both)
    return pair_spectra(blocks, mus, hw, temperature, spin, rtol, quantities, what=caller, modes=ops.n_modes)


# ----------------------------------------------------------------------------
# electron-hole spectrum (seed eqs 22, 27-32)
# ----------------------------------------------------------------------------
@renamed_keywords(omega="hbar_omega")
def electron_hole_spectrum(
    junction: Junction,
    forces: OperatorsLike,
    hbar_omega: ArrayLike,
    bias: float = 0.0,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    spin: float = 2,
    chemical_potentials: ArrayLike | None = None,
    rtol: float = 1e-8,
) -> ComplexArray:
    r"""Electron-hole spectrum Xi(omega) = Lambda^o'(omega) + i Lambda^e''(omega).

    .. math::

        \Xi_{ab}(\omega) = \frac{g_s}{8\pi^2}\int d\epsilon \sum_{l,m}
          [n_l(\epsilon) - n_m(\epsilon - \hbar\omega)]\,
          Tr[f_a A_m(\epsilon-\hbar\omega) f_b A_l(\epsilon)]

    (seed eqs 22, 27-32 in NEGF form, :ref:`theory-electron-hole`): a Hermitian matrix
    whose real part Lambda^o' is symmetric and odd in omega and whose
    imaginary part Lambda^e'' is antisymmetric, even in omega and zero at
    equilibrium with real h and f.  It gives the dissipative forces directly
    (seed eqs 34-36, 42): L^sym(w0) = 2 pi hbar Re Xi(w0)/w0 and
    K^asym(w0) = 2 pi Im Xi(w0), and the conservative ones by the
    principal-value integrals of seed eqs 29 and 44.

    Shifting the energy variable by hbar*omega shows Xi = -D^*/2pi, with D
    the dissipative kernel (:func:`currentforces.dissipation_spectrum`):
    both are views of the lead-pair kernel
    :func:`currentforces.pairs.pair_spectra`, which computes D.

    Parameters
    ----------
    hbar_omega : float or array_like
        Electron-hole pair energies hbar*omega in eV (any sign).  ``omega``
        is a deprecated alias.
    Other parameters as in :func:`force_coefficients`.

    Returns
    -------
    ndarray, shape hbar_omega.shape + (M, M), complex, in eV/Angstrom^2
        (the delta(hbar omega - ...) of seed eq 22 normalised per unit
        hbar*omega).
    """
    args = (junction, forces, hbar_omega, bias, temperature, fermi_level, spin, chemical_potentials, rtol)
    return lead_pair_spectra(args, ("dissipation",), "electron_hole_spectrum").electron_hole
