r"""Mode-resolved results: the current-induced forces seen by each normal mode.

The bare normal modes (mass-weighted eigenvectors e_k of
M^-1/2 K^b M^-1/2, frequencies omega_k; :func:`currentforces.dynamics.normal_modes`)
have the Cartesian displacement patterns u_k = M^-1/2 e_k (amu^-1/2), so
that X = sum_k u_k Q_k.  In that basis the coefficients of seed eq (14)
become, per unit mass (1 amu; :ref:`theory-mode-resolved`, :eq:`eq-mode-projection`),

.. math::

    \tilde K_{kl} = u_k^T K u_l, \qquad \tilde L_{kl} = u_k^T L u_l ,

and :func:`mode_resolved` reports at each bias, for each mode k:

* the **frequency shift** to first order in K,
  hbar delta omega_k = hbar^2 K~^sym_kk / (2 hbar omega_k) (eV);
* the **friction** (energy damping rate) gamma_k = -L~^sym_kk (1/fs):
  the mode's energy decays as exp(-gamma_k t) without noise;
* the **non-conservative coupling** K~^asym_kl (1/fs^2) and the **Berry
  coupling** L~^asym_kl (1/fs) between modes k and l (antisymmetric
  matrices; seed eqs 33-36 and 44-47);
* the **heating**: the steady state of each mode driven by the electrons
  alone at its own frequency, :func:`currentforces.joule_heating` with the
  mode's force operator f_k = sum_a u_ka f_a: effective temperature T_eff,
  occupation, and the Joule power P_k = S_k/2 - gamma_k(omega_k) E_B(T)
  (eV/fs) that the current feeds into the mode while it is at the
  electron temperature T (E_B = (hbar omega_k/2) coth(hbar omega_k/2k_BT);
  :eq:`eq-joule-power`);
* the **runaway threshold**: the smallest bias at which the linear dynamics
  M X'' = -(K^b + K) X + L X' has a growing solution
  (:func:`currentforces.dynamics.runaway_threshold`), with the displacement
  pattern of the mode that grows.

K is the full K or its current-induced part K(V) - K(0) (``k_part``):
``"current"`` (default) when K^b is the whole zero-bias dynamical matrix
(springs that stand for it, or :func:`currentforces.bare_force_constants`
of an electronic-structure calculator), ``"full"`` when K^b leaves out the
electrons of the junction.  L is always the full L.

Units: bias V, energies eV, masses amu, rates 1/fs, temperatures K.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import check_masses, check_number
from .dynamics.modes import RunawayThreshold, runaway_threshold
from .dynamics.observables import normal_modes
from .errors import InputError
from .forces import fermi_sea_part, force_coefficients
from .noise import joule_heating
from .units import AMU, HBAR, KB

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from ._checks import ArrayLike, OperatorsLike
    from .junction import Junction

__all__ = ["ModeResults", "mode_resolved"]


@dataclass
class ModeResults:
    """Per-mode coefficients, heating and runaway of :func:`mode_resolved`.

    Attributes
    ----------
    bias : ndarray, shape (B,)
        V.
    hbar_omega : ndarray, shape (M,)
        Bare mode energies hbar*omega_k in eV, ascending (negative: an
        unstable bare direction).
    vectors : ndarray, shape (M, M)
        Mass-weighted orthonormal eigenvectors e_k (columns).
    displacements : ndarray, shape (M, M)
        u_k = M^-1/2 e_k in amu^-1/2 (columns).
    masses : ndarray, shape (M,)
        amu, per coordinate.
    labels : list of str
        Names of the coordinates.
    frequency_shift : ndarray, shape (B, M)
        First-order hbar*delta omega_k in eV.
    friction : ndarray, shape (B, M)
        gamma_k = -u_k^T L^sym u_k in 1/fs (negative: the current pumps the mode).
    nonconservative : ndarray, shape (B, M, M)
        u_k^T K^asym u_l in 1/fs^2.
    berry : ndarray, shape (B, M, M)
        u_k^T L^asym u_l in 1/fs.
    effective_temperature, occupation : ndarray, shape (B, M)
        Of each mode in the steady state of :func:`currentforces.joule_heating`
        (K; number); ``inf`` where the mode is unstable, ``nan`` where not
        computed (``heating=False`` or hbar*omega_k <= 0).
    joule_power : ndarray, shape (B, M)
        P_k in eV/fs, the net power the electrons feed into mode k at the
        electron temperature.
    runaway : RunawayThreshold or None
        The search of :func:`currentforces.dynamics.runaway_threshold`.
    runaway_vector : ndarray, shape (M,), complex, or None
        Displacement pattern x of the mode that grows at the threshold
        (unit mass-weighted norm), X ~ Re(x exp(lambda t)).
    temperature : float
        Electron temperature, K.
    """

    bias: np.ndarray
    hbar_omega: np.ndarray
    vectors: np.ndarray
    displacements: np.ndarray
    masses: np.ndarray
    labels: list
    frequency_shift: np.ndarray
    friction: np.ndarray
    nonconservative: np.ndarray
    berry: np.ndarray
    effective_temperature: np.ndarray
    occupation: np.ndarray
    joule_power: np.ndarray
    runaway: RunawayThreshold | None
    runaway_vector: np.ndarray | None
    temperature: float

    @property
    def runaway_bias(self) -> float:
        """Threshold in V, ``nan`` when none was found or searched."""
        return math.nan if self.runaway is None or self.runaway.bias is None else float(self.runaway.bias)

    def to_xarray(self) -> Any:
        """The results as an :class:`xarray.Dataset` (units in attributes).

        Dimensions ``bias``, ``normal_mode`` (and ``normal_mode2`` for the
        couplings), ``coordinate``; the runaway eigenvector as its real and
        imaginary parts.
        """
        import xarray as xr  # lazy: optional dependency

        modes = ("normal_mode",)
        per = ("bias", "normal_mode")
        pair = ("bias", "normal_mode", "normal_mode2")
        data = {
            "hbar_omega": (modes, self.hbar_omega, {"units": "eV", "long_name": "bare mode energy hbar omega_k"}),
            "mode_vectors": (
                ("coordinate", "normal_mode"),
                self.vectors,
                {"units": "1", "long_name": "mass-weighted orthonormal eigenvectors e_k (columns)"},
            ),
            "mode_displacements": (
                ("coordinate", "normal_mode"),
                self.displacements,
                {"units": "amu^-1/2", "long_name": "displacement patterns u_k = M^-1/2 e_k"},
            ),
            "masses": (("coordinate",), self.masses, {"units": "amu", "long_name": "mass of each coordinate"}),
            "frequency_shift": (
                per,
                self.frequency_shift,
                {"units": "eV", "long_name": "first-order hbar delta omega_k"},
            ),
            "friction": (per, self.friction, {"units": "1/fs", "long_name": "energy damping rate -u_k.L^sym.u_k"}),
            "nonconservative": (pair, self.nonconservative, {"units": "1/fs^2", "long_name": "u_k.K^asym.u_l"}),
            "berry": (pair, self.berry, {"units": "1/fs", "long_name": "u_k.L^asym.u_l"}),
            "effective_temperature": (per, self.effective_temperature, {"units": "K", "long_name": "T_eff of mode k"}),
            "occupation": (per, self.occupation, {"units": "1", "long_name": "steady-state phonon occupation"}),
            "joule_power": (per, self.joule_power, {"units": "eV/fs", "long_name": "net power into mode k at T"}),
            "runaway_bias": ((), self.runaway_bias, {"units": "V", "long_name": "runaway threshold (nan: none)"}),
        }
        if self.runaway_vector is not None:
            data["runaway_vector_real"] = (("coordinate",), self.runaway_vector.real, {"units": "amu^-1/2"})
            data["runaway_vector_imag"] = (("coordinate",), self.runaway_vector.imag, {"units": "amu^-1/2"})
        ds = xr.Dataset(
            data,
            coords={
                "bias": ("bias", self.bias, {"units": "V"}),
                "normal_mode": np.arange(self.hbar_omega.size),
                "normal_mode2": np.arange(self.hbar_omega.size),
                "coordinate": np.arange(self.masses.size),
                "coordinate_label": ("coordinate", np.array(self.labels, dtype=object)),
            },
            attrs={
                "title": "currentforces mode-resolved results",
                "temperature_K": float(self.temperature),
                "runaway_character": "" if self.runaway is None else str(self.runaway.character),
                "sign_convention": "F = F0 - K X + L V (seed eq 14); X = sum_k u_k Q_k",
            },
        )
        return ds

    def write_netcdf(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_xarray` to NetCDF atomically."""
        from .dynamics.observables import write_netcdf

        write_netcdf(self.to_xarray(), path)


def _projected(u, matrix):
    """u^T A u per unit mass, converted from eV/Angstrom^2/amu (or eV*fs/...) to 1/fs^2 (1/fs)."""
    return u.T @ matrix @ u / AMU


def mode_resolved(
    junction: Junction,
    forces: OperatorsLike,
    masses: ArrayLike,
    bare_force_constants: ArrayLike,
    biases: ArrayLike,
    *,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    spin: int = 2,
    k_part: str = "current",
    heating: bool = True,
    runaway: bool = True,
    bias_max: float | None = None,
    n_scan: int = 11,
    tolerance: float = 1e-3,
    labels: Sequence[str] | None = None,
    rtol: float = 1e-8,
) -> ModeResults:
    r"""Frequency shift, friction, couplings, heating and runaway of each normal mode.

    Parameters
    ----------
    junction, forces
        The junction and its force operators f_a (eV/Angstrom), one per
        coordinate (e.g. an :class:`~currentforces.models.atomistic.AtomisticJunction`'s
        ``junction`` and ``forces``, or :func:`currentforces.finite_difference_couplings`).
    masses : array_like, shape (M,)
        Mass of each coordinate, amu.
    bare_force_constants : array_like, shape (M, M)
        K^b in eV/Angstrom^2 (springs, or :func:`currentforces.bare_force_constants`).
    biases : array_like
        Biases in V.
    temperature, fermi_level, spin
        Electron temperature (K), E_F (eV), g_s.
    k_part : {"current", "full"}
        Add K(V) - K(0) (K^b is the whole zero-bias dynamical matrix) or
        the full K(V) to K^b.
    heating : bool
        Compute the heating of each mode (one :func:`~currentforces.joule_heating`
        per mode and bias).
    runaway : bool
        Search the runaway threshold between 0 and ``bias_max``.
    bias_max : float, optional
        Upper end of the search, V (default: the bias of largest ``|V|``).
    n_scan, tolerance
        Scan points and final bracket width (V) of the search.
    labels : list of str, optional
        Names of the coordinates.
    rtol : float
        Tolerance of every electronic quantity.

    Returns
    -------
    ModeResults
    """
    m = check_masses(masses)
    n = m.size
    if len(forces) != n:
        raise InputError(f"forces: one force operator per coordinate, {n} masses but {len(forces)} operators")
    kb = np.asarray(bare_force_constants, dtype=float)
    if kb.shape != (n, n) or not np.all(np.isfinite(kb)):
        raise InputError(f"bare_force_constants must be a finite ({n}, {n}) matrix in eV/Angstrom^2")
    if k_part not in ("current", "full"):
        raise InputError(f"k_part must be 'current' or 'full', got {k_part!r}")
    b = np.atleast_1d(np.asarray(biases, dtype=float))
    if b.ndim != 1 or b.size == 0 or not np.all(np.isfinite(b)):
        raise InputError("biases must be a non-empty 1-d sequence of finite values in V")
    labels = [f"coordinate {i}" for i in range(n)] if labels is None else [str(s) for s in labels]
    if len(labels) != n:
        raise InputError(f"labels: {n} names needed, got {len(labels)}")
    hw, e = normal_modes(m, kb)
    u = e / np.sqrt(m)[:, None]
    mode_forces = [sum(u[a, k] * forces[a] for a in range(n)) for k in range(n)]
    sea = fermi_sea_part(junction, forces, fermi_level=fermi_level, temperature=temperature, rtol=rtol)
    kw: dict[str, Any] = dict(temperature=temperature, fermi_level=fermi_level, spin=spin, rtol=rtol)
    shape = (b.size, n)
    shift, gamma = np.zeros(shape), np.zeros(shape)
    nc, berry = np.zeros(shape + (n,)), np.zeros(shape + (n,))
    t_eff, occ, power = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    cache = {}
    for i, v in enumerate(b):
        c = force_coefficients(junction, forces, bias=float(v), fermi_sea=sea, **kw)
        k = c.K_current if k_part == "current" else c.K
        cache[float(v)] = (k, c.L)
        kt, lt = _projected(u, k), _projected(u, c.L)
        diag_k = np.diag(0.5 * (kt + kt.T))
        with np.errstate(divide="ignore", invalid="ignore"):
            shift[i] = np.where(hw > 0, HBAR**2 * diag_k / (2 * hw), np.nan)
        gamma[i] = -np.diag(lt)
        nc[i], berry[i] = 0.5 * (kt - kt.T), 0.5 * (lt - lt.T)
        if heating:
            for j in np.flatnonzero(hw > 0):
                jh = joule_heating(junction, mode_forces[j], float(hw[j]), bias=float(v), **kw)
                t_eff[i, j], occ[i, j] = jh.effective_temperature, jh.occupation
                x = float(hw[j]) / (2 * KB * temperature) if temperature > 0 else math.inf
                e_bose = 0.5 * float(hw[j]) / math.tanh(x)
                power[i, j] = (jh.noise / 2 - jh.damping * e_bose) / AMU
    threshold, vector = None, None
    if runaway:
        vmax = float(b[np.argmax(np.abs(b))]) if bias_max is None else check_number("bias_max", bias_max, "V")
        if vmax != 0:

            def coefficients(v):
                if v not in cache:
                    c = force_coefficients(junction, forces, bias=v, fermi_sea=sea, **kw)
                    cache[v] = (c.K_current if k_part == "current" else c.K, c.L)
                return cache[v]

            threshold = runaway_threshold(coefficients, m, kb, vmax, n_scan=n_scan, tolerance=tolerance)
            if threshold.modes is not None:
                vector = threshold.modes.eigenvectors[:, 0].copy()
    return ModeResults(
        b, hw, e, u, m.copy(), labels, shift, gamma, nc, berry, t_eff, occ, power, threshold, vector, float(temperature)
    )
