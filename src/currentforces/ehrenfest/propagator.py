r"""Open-boundary time evolution of the device density matrix (wide-band leads).

The per-spin device density matrix sigma(t) of non-interacting electrons
whose device Hamiltonian h(t) changes in time, coupled to wide-band leads
(Sigma_alpha = -i Gamma_alpha / 2) that stay in equilibrium at chemical
potentials mu_alpha and temperature T, obeys exactly (:ref:`theory-ehrenfest-eom`,
:eq:`eq-tdnegf-sigma` and :eq:`eq-tdnegf-aux`)

.. math::

    \hbar\dot\sigma = -i\,(h_{eff}\sigma - \sigma h_{eff}^\dagger)
        + \tfrac12\Gamma + \sum_{\alpha p}(\Phi_{\alpha p} + \Phi_{\alpha p}^\dagger),
    \qquad h_{eff} = h(t) - \tfrac{i}{2}\Gamma,

    i\hbar\dot\Phi_{\alpha p} = \tfrac{c_p}{2}\Gamma_\alpha
        + (h_{eff} - z_{\alpha p})\Phi_{\alpha p},

one auxiliary matrix per lead alpha and pole z_(alpha p) of the Fermi-sea
rule of lead alpha (:func:`~currentforces.poles.fermi_poles`), the scheme of
Zheng, Wang, Yam, Mo and Chen, Phys. Rev. B 75, 195127 (2007), and Croy and
Saalmann, Phys. Rev. B 80, 245311 (2009), here with the fixed-size pole
expansion.  Only the columns of Phi on the orbitals a lead couples to are
non-zero, so each Phi is stored as an (N, s_alpha) block.

Poles far above the spectrum (``|z - mu| > far * r``, r the spectral radius
bound of h_eff - mu) follow h adiabatically: their sum is evaluated at every
instant as the series sum_n m_n (h_eff - mu)^n Gamma_alpha, with error
O(hbar ``|dh/dt|`` / ``|z|^2``); they would otherwise make the equations stiff.

Units: energies eV, time fs, current A.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.integrate import DOP853

from .._checks import check_number, check_rtol, check_spin, check_temperature
from ..errors import InputError, IntegrationError
from ..leads import WideBandLead
from ..poles import fermi_poles
from ..units import E_CHARGE, FS, HBAR
from .lorentzian import embed_lorentzian_leads

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from .._checks import ArrayLike, ComplexArray, MatrixLike, RealArray
    from ..junction import Junction
    from ..poles import FermiPoles

__all__ = ["WideBandElectrons", "ElectronState"]

PARTICLE_CURRENT_TO_AMPERE = E_CHARGE / FS
"""One electron per femtosecond in ampere."""

_SERIES_EPS = 1e-14
"""Relative truncation of the adiabatic series of the far poles."""


def _dense(m):
    return np.asarray(m.toarray() if sp.issparse(m) else m, dtype=complex)


class ElectronState:
    """The electronic state: sigma (N, N) per spin and the auxiliary blocks (N, C), at ``time`` (fs)."""

    def __init__(self, sigma: ComplexArray, aux: ComplexArray, time: float = 0.0) -> None:
        self.sigma = sigma
        self.aux = aux
        self.time = float(time)

    def copy(self) -> ElectronState:
        return ElectronState(self.sigma.copy(), self.aux.copy(), self.time)


class WideBandElectrons:
    r"""Electrons of a junction with wide-band leads, evolved in time.

    Parameters
    ----------
    junction : Junction
        Device (its Hamiltonian is the initial one) and its leads, each a
        :class:`~currentforces.WideBandLead` (energy-dependent leads need the
        Lorentzian fit, not available yet: InputError).  No leads: a closed
        device.
    bias, temperature, fermi_level, chemical_potentials
        Lead chemical potentials (eV) and temperature (K), as in
        :meth:`~currentforces.Junction.density_matrix`.
    spin : int
        Spin degeneracy g_s multiplying the density matrix, forces and currents.
    rtol, atol : float
        Tolerances of the DOP853 integration (relative, and absolute on
        sigma and Phi).
    pole_rtol : float
        Tolerance of the pole list: its trapezoidal step is halved until
        the stationary sigma of two successive steps agree to ``pole_rtol``
        (absolute, sigma is of order one).
    far : float
        Poles farther than ``far`` times the spectral radius bound from mu
        are treated adiabatically (see the module notes).
    lorentzians : int, optional
        Fit the broadening of every energy-dependent lead by this many
        Lorentzians (:mod:`~currentforces.ehrenfest.lorentzian`): the device
        is enlarged by their auxiliary levels (``size`` > ``n_device``).
    fit_tolerance : float
        Warn when a Lorentzian fit's relative error exceeds it.

    Attributes
    ----------
    poles : list of FermiPoles
        The pole list of each lead.
    pole_error : float
        Difference of the stationary sigma between the last two pole steps.
    fits : list
        The Lorentzian fit of each lead (None for a wide-band lead), with its ``error``.
    """

    def __init__(
        self,
        junction: Junction,
        *,
        bias: float = 0.0,
        temperature: float = 300.0,
        fermi_level: float = 0.0,
        chemical_potentials: ArrayLike | None = None,
        spin: int = 2,
        rtol: float = 1e-10,
        atol: float = 1e-12,
        pole_rtol: float = 1e-10,
        far: float = 4.0,
        lorentzians: int | None = None,
        fit_tolerance: float = 1e-2,
    ) -> None:
        self.temperature = check_temperature(temperature)
        self.spin = check_spin(spin)
        self.rtol = check_rtol(rtol)
        self.atol = check_number("atol", atol)
        self.pole_rtol = check_rtol(pole_rtol, "pole_rtol")
        self.far = check_number("far", far)
        if not self.far > 1.5:
            raise InputError(f"far must exceed 1.5 (the adiabatic series converges as 1/far), got {far!r}")
        if getattr(junction, "overlap", None) is not None:
            raise InputError(
                "junction has an overlap matrix: the time-dependent scheme works in an orthogonal basis "
                "(transform h and the force operators with S^-1/2 first)"
            )
        self.n_device = junction.size
        self.fits: list = [None] * len(junction.leads)
        for i, lead in enumerate(junction.leads):
            if not isinstance(lead, WideBandLead) and lorentzians is None:
                raise InputError(
                    f"junction.leads[{i}] is a {type(lead).__name__}: the time-dependent scheme needs "
                    f"wide-band leads (WideBandLead), or lorentzians=K for a Lorentzian fit of its broadening"
                )
        if lorentzians is not None and not all(isinstance(lead, WideBandLead) for lead in junction.leads):
            junction, self.fits = embed_lorentzian_leads(junction, lorentzians, fit_tolerance)
        self.size = n = junction.size
        self.h0 = _dense(junction.hamiltonian)
        self._frame = self.h0.copy()
        self._frame[: self.n_device, : self.n_device] = 0.0
        self.mus = np.asarray(junction.chemical_potentials(bias, fermi_level, chemical_potentials), dtype=float)
        self.supports = [np.asarray(lead.support, dtype=int) for lead in junction.leads]
        self.gammas = [np.asarray(lead.gamma, dtype=complex) for lead in junction.leads]
        self.gamma = sum(self.gammas, np.zeros((n, n), dtype=complex))
        self.gamma_cols = [g[:, s] for g, s in zip(self.gammas, self.supports)]
        self.energy_scale = float(junction.energy_scale)
        self.nfev = 0
        self._step_size: float | None = None
        heff = self.h0 - 0.5j * self.gamma
        self._radius = [1.25 * float(np.linalg.norm(heff - mu * np.eye(n), 2)) + 1e-12 for mu in self.mus]
        self.poles: list[FermiPoles]
        if len(self.mus):
            self._choose_poles(heff)
        else:
            self.poles, self.pole_error = [], 0.0
            self._layout([])

    def _pad(self, h, rate=False):
        """A device-size matrix placed in the enlarged device (the auxiliary levels of the fits, or 0 for a rate)."""
        d = _dense(h)
        if d.shape[0] == self.size:
            return d
        if d.shape != (self.n_device, self.n_device):
            raise InputError(f"expected a ({self.n_device}, {self.n_device}) Hamiltonian, got shape {d.shape}")
        out = np.zeros_like(self._frame) if rate else self._frame.copy()
        out[: self.n_device, : self.n_device] = d
        return out

    # ------------------------------------------------------------------ poles
    def _choose_poles(self, heff):
        step = 0.5
        previous = None
        while True:
            poles = [fermi_poles(mu, self.temperature, self.energy_scale, step) for mu in self.mus]
            sigma = self._stationary_sigma(heff, poles)
            if previous is not None:
                err = float(np.max(np.abs(sigma - previous)))
                if err <= self.pole_rtol:
                    break
                if step <= 1.0 / 32:
                    raise IntegrationError(
                        f"pole list: stationary density matrix changes by {err:.3g} at the finest step "
                        f"(pole_rtol {self.pole_rtol:.3g})"
                    )
            previous = sigma
            step *= 0.5
        self.poles, self.pole_error = poles, err
        self._layout(poles)

    def _resolvent_columns(self, heff, z, cols):
        """(z_p - h_eff)^-1 cols for every pole: (P, N, s)."""
        eye = np.eye(self.size)
        a = z[:, None, None] * eye - heff[None]
        return np.linalg.solve(a, np.broadcast_to(cols, (len(z),) + cols.shape))

    def _stationary_sigma(self, heff, poles):
        q = 0.5 * self.gamma.copy()
        for p, g, s in zip(poles, self.gamma_cols, self.supports):
            phi = np.einsum("p,pns->ns", 0.5 * p.weights, self._resolvent_columns(heff, p.z, g))
            q[:, s] += phi
            q[s, :] += phi.conj().T
        return self._solve_sylvester(heff, q)

    def _solve_sylvester(self, heff, q):
        if not np.any(self.gamma):
            raise InputError("a closed device has no unique steady state: give the initial sigma")
        # h_eff sigma - sigma h_eff^dagger = -i q
        sigma = scipy.linalg.solve_sylvester(heff, -heff.conj().T, -1j * q)
        return 0.5 * (sigma + sigma.conj().T)

    def _layout(self, poles):
        """Split each lead's poles into dynamic columns and adiabatic moments.

        Columns of every lead are stacked: ``_gcat`` (N, S) holds the
        Gamma_alpha columns of all leads, ``_embed`` (S, N) puts an (N, S)
        block back on the support orbitals, ``_sum`` (C, S) sums the dynamic
        columns of each lead's poles, ``_moments`` (n, S) the series of the
        far poles per column and ``_mucol`` (S,) the chemical potential of
        each column.
        """
        n = self.size
        zc, drive, sums, moments = [], [], [], []
        ntot = sum(g.shape[1] for g in self.gamma_cols)
        embed = np.zeros((ntot, n))
        mucol = np.zeros(ntot)
        col = 0
        for a, (p, g, mu, sup) in enumerate(zip(poles, self.gamma_cols, self.mus, self.supports)):
            dist = np.abs(p.z - mu)
            far = dist > self.far * self._radius[a]
            near = ~far
            s = g.shape[1]
            k = int(near.sum())
            zc.append(np.repeat(p.z[near], s))
            drive.append((0.5 * p.weights[near, None, None] * g[None]).transpose(1, 0, 2).reshape(n, k * s))
            block = np.zeros((k * s, ntot))
            block[np.arange(k * s), col + np.tile(np.arange(s), k)] = 1.0
            sums.append(block)
            embed[col + np.arange(s), sup] = 1.0
            mucol[col : col + s] = mu
            if far.any():
                q = float(self._radius[a] / dist[far].min())
                nterm = max(1, math.ceil(math.log(_SERIES_EPS * (1 - q)) / math.log(q)))
                w = 0.5 * p.weights[far]
                d = p.z[far] - mu
                with np.errstate(over="ignore"):
                    m = np.array([np.sum(w * (1.0 / d) ** (j + 1)) for j in range(nterm)])
            else:
                m = np.zeros(0, dtype=complex)
            moments.append(np.repeat(m[:, None], s, axis=1))
            col += s
        nterm = max([m.shape[0] for m in moments], default=0)
        self._moments = np.zeros((nterm, ntot), dtype=complex)
        col = 0
        for m in moments:
            self._moments[: m.shape[0], col : col + m.shape[1]] = m
            col += m.shape[1]
        self._zc = np.concatenate(zc) if zc else np.zeros(0, dtype=complex)
        self._drive = np.concatenate(drive, axis=1) if drive else np.zeros((n, 0), dtype=complex)
        self._sum = np.concatenate(sums, axis=0) if sums else np.zeros((0, ntot))
        self._gcat = np.concatenate(self.gamma_cols, axis=1) if self.gamma_cols else np.zeros((n, 0), dtype=complex)
        self._embed = embed
        self._mucol = mucol
        self._lead_of_col = np.repeat(np.arange(len(self.gamma_cols)), [g.shape[1] for g in self.gamma_cols])
        self.n_aux = int(self._zc.size)

    # ------------------------------------------------------------------ state
    def stationary_state(self, hamiltonian: MatrixLike | None = None) -> ElectronState:
        """The steady state of :eq:`eq-tdnegf-sigma` for a fixed Hamiltonian (default: the junction's).

        The auxiliary blocks are their stationary values
        Phi_p = (c_p/2) G(z_p) Gamma_alpha with G(z) = (z - h_eff)^-1, and
        sigma solves h_eff sigma - sigma h_eff^dagger = -i(Gamma/2 + Q)
        (:eq:`eq-tdnegf-stationary`): the Landauer density matrix (seed eq
        13) of the pole expansion.
        """
        h = self.h0 if hamiltonian is None else self._pad(hamiltonian)
        self._check_radius(h)
        heff = h - 0.5j * self.gamma
        aux = np.empty((self.size, self.n_aux), dtype=complex)
        start = 0
        for p, g, mu, a in zip(self.poles, self.gamma_cols, self.mus, self._radius):
            near = np.abs(p.z - mu) <= self.far * a
            k, s = int(near.sum()), g.shape[1]
            res = self._resolvent_columns(heff, p.z[near], g)  # (k, N, s)
            aux[:, start : start + k * s] = (
                (0.5 * p.weights[near, None, None] * res).transpose(1, 0, 2).reshape(self.size, k * s)
            )
            start += k * s
        q = 0.5 * self.gamma + self._q_matrix(heff, aux)
        return ElectronState(self._solve_sylvester(heff, q), aux)

    def closed_state(self, sigma: ArrayLike) -> ElectronState:
        """A state of the given per-spin sigma and stationary-free auxiliaries (for a closed device)."""
        sigma = np.asarray(sigma, dtype=complex)
        if sigma.shape != (self.size, self.size):
            raise InputError(f"sigma must be ({self.size}, {self.size}), got {sigma.shape}")
        return ElectronState(sigma.copy(), np.zeros((self.size, self.n_aux), dtype=complex))

    def _check_radius(self, h):
        for a, mu in enumerate(self.mus):
            r = float(np.linalg.norm(h - 0.5j * self.gamma - mu * np.eye(self.size), 2))
            if r > self._radius[a]:
                raise InputError(
                    f"the Hamiltonian moved out of the range the far poles were set up for "
                    f"(||h_eff - mu|| = {r:.4g} eV > {self._radius[a]:.4g} eV): build the electrons at a "
                    f"geometry closer to this one"
                )

    # ------------------------------------------------------------------ equations of motion
    def _columns(self, heff, aux, hdot=None):
        """sum over each lead's poles of Phi, dynamic plus adiabatic: (N, S), the leads' columns stacked.

        The far poles: the series sum_n m_n A^n Gamma (A = h_eff - mu) and,
        with the rate ``hdot`` = dh/dt (eV/fs), its first adiabatic
        correction -i hbar sum_p w_p R_p^2 (dh/dt) R_p Gamma to first order
        in A/(z_p - mu): -i hbar [m_2 hdot + m_3 (2 A hdot + hdot A)] Gamma
        (:eq:`eq-tdnegf-adiabatic`).
        """
        cols = aux @ self._sum
        m = self._moments
        if m.shape[0]:
            g = self._gcat
            mu = self._mucol
            acc = m[-1] * g
            for mn in m[-2::-1]:
                acc = heff @ acc - acc * mu + mn * g
            cols = cols + acc
            if hdot is not None and m.shape[0] > 3:
                hg = hdot @ g
                ag = heff @ g - g * mu
                ahg = heff @ hg - hg * mu
                cols = cols - 1j * HBAR * (m[2] * hg + m[3] * (2.0 * ahg + hdot @ ag))
        return cols

    def _q_matrix(self, heff, aux, hdot=None):
        q = self._columns(heff, aux, hdot) @ self._embed
        return q + q.conj().T

    def derivatives(
        self, heff: ComplexArray, sigma: ComplexArray, aux: ComplexArray, hdot: ComplexArray | None = None
    ) -> tuple[ComplexArray, ComplexArray]:
        """(d sigma/dt, d Phi/dt) in 1/fs and eV/fs (:eq:`eq-tdnegf-sigma`, :eq:`eq-tdnegf-aux`)."""
        a = heff @ sigma
        dsigma = (-1j * (a - a.conj().T) + 0.5 * self.gamma + self._q_matrix(heff, aux, hdot)) / HBAR
        daux = (-1j / HBAR) * (self._drive + heff @ aux - aux * self._zc)
        return dsigma, daux

    def propagate(self, state: ElectronState, h_start: MatrixLike, h_end: MatrixLike, t_end: float) -> ElectronState:
        """Advance ``state`` (in place) to ``t_end`` (fs) while h goes linearly from ``h_start`` to ``h_end``.

        DOP853 (Hairer, Norsett and Wanner, Solving Ordinary Differential
        Equations I, section II.10) with ``rtol``/``atol``; the last
        accepted step size carries over to the next call.
        """
        t0 = state.time
        span = float(t_end) - t0
        if not span > 0:
            raise InputError(f"t_end must be after the state's time {t0} fs, got {t_end!r}")
        h_start = self._pad(h_start)
        slope = (self._pad(h_end) - h_start) / span
        return self._integrate(state, lambda t: h_start + (t - t0) * slope, lambda t: slope, t0 + span)

    def propagate_driven(
        self, state: ElectronState, hamiltonian: Callable[[float], MatrixLike], t_end: float
    ) -> ElectronState:
        """Advance ``state`` (in place) to ``t_end`` (fs) under a given h(t): ``hamiltonian(t)`` -> (N, N) in eV.

        For a prescribed motion of the atoms (a forced oscillation).
        """
        t0 = state.time
        if not float(t_end) > t0:
            raise InputError(f"t_end must be after the state's time {t0} fs, got {t_end!r}")
        if not callable(hamiltonian):
            raise InputError("hamiltonian must be a callable hamiltonian(t) -> (N, N) array in eV")
        delta = 1e-3  # fs: central difference of h for the far-pole correction (error ~ delta^2 d^3h/dt^3)

        def rate(t):
            return self._pad((_dense(hamiltonian(t + delta)) - _dense(hamiltonian(t - delta))) / (2 * delta), True)

        return self._integrate(state, lambda t: self._pad(hamiltonian(t)), rate, float(t_end))

    def _integrate(self, state, h_of_t, rate_of_t, t_end):
        n = self.size
        t0 = state.time
        nsig = n * n
        half_gamma = 0.5j * self.gamma

        def fun(t, y):
            ds, da = self.derivatives(
                h_of_t(t) - half_gamma, y[:nsig].reshape(n, n), y[nsig:].reshape(n, self.n_aux), rate_of_t(t)
            )
            return np.concatenate([ds.ravel(), da.ravel()])

        y0 = np.concatenate([state.sigma.ravel(), state.aux.ravel()])
        first = None if self._step_size is None else min(self._step_size, t_end - t0)
        solver = DOP853(fun, t0, y0, t_end, rtol=self.rtol, atol=self.atol, first_step=first)
        while solver.status == "running":
            message = solver.step()
            if solver.status == "failed":
                raise IntegrationError(f"electron propagation failed at t = {solver.t} fs: {message}")
            if solver.t < t_end:
                self._step_size = solver.step_size
        self.nfev += solver.nfev
        y = solver.y
        sigma = y[:nsig].reshape(n, n)
        state.sigma = 0.5 * (sigma + sigma.conj().T)
        state.aux = y[nsig:].reshape(n, self.n_aux).copy()
        state.time = t_end
        return state

    # ------------------------------------------------------------------ observables
    def density_matrix(self, state: ElectronState) -> ComplexArray:
        """g_s sigma on the device orbitals: the device density matrix (electrons), (N, N)."""
        nd = self.n_device
        return self.spin * state.sigma[:nd, :nd]

    def forces(self, state: ElectronState, operators: NDArray[Any]) -> RealArray:
        """g_s Tr[f_a sigma] for (M, N, N) operators f_a, in eV/Angstrom (seed eq 6)."""
        nd = self.n_device
        return self.spin * np.einsum("aij,ji->a", operators, state.sigma[:nd, :nd]).real

    def lead_terms(self, state: ElectronState, h: MatrixLike, hdot: MatrixLike | None = None) -> list[ComplexArray]:
        """Per lead the matrix L_alpha of hbar d sigma/dt = -i[h, sigma] + sum_alpha L_alpha (hdot: dh/dt, eV/fs)."""
        heff = self._pad(h) - 0.5j * self.gamma
        cols = self._columns(heff, state.aux, None if hdot is None else self._pad(hdot, True))
        out = []
        for a, g in enumerate(self.gammas):
            mine = self._lead_of_col == a
            q = cols[:, mine] @ self._embed[mine]
            out.append(0.5 * g - 0.5 * (g @ state.sigma + state.sigma @ g) + q + q.conj().T)
        return out

    def currents(self, state: ElectronState, h: MatrixLike, hdot: MatrixLike | None = None) -> RealArray:
        r"""Electric current from each lead into the device, in A (:eq:`eq-tdnegf-current`).

        I_alpha = g_s e Tr[L_alpha] / hbar, positive when electrons enter the
        device from lead alpha (the sign of :meth:`~currentforces.Junction.current`).
        """
        return np.array(
            [self.spin * np.trace(m).real / HBAR * PARTICLE_CURRENT_TO_AMPERE for m in self.lead_terms(state, h, hdot)]
        )

    def energy_flows(self, state: ElectronState, h: MatrixLike, hdot: MatrixLike | None = None) -> RealArray:
        """Power (eV/fs) each lead delivers to the device electrons, g_s Tr[h L_alpha]/hbar (:eq:`eq-tdnegf-energy`)."""
        hd = self._pad(h)
        return np.array([self.spin * np.trace(hd @ m).real / HBAR for m in self.lead_terms(state, h, hdot)])

    def energy(self, state: ElectronState, h: MatrixLike) -> float:
        """Band energy g_s Tr[h sigma] of the device electrons in eV (with a Lorentzian fit: of the enlarged device)."""
        return float(self.spin * np.trace(self._pad(h) @ state.sigma).real)
