r"""The general periodic lead: exact surface Green's function of any cell.

Lead geometry (:ref:`theory-periodic-lead`)::

    device | cell 1 | cell 2 | cell 3 | ...
           <-coupling-> <-hopping->

``onsite`` = H_nn, ``hopping`` = H_{n,n+1} (towards the far end),
``coupling`` = H_{device, cell 1} with device rows and lead-cell columns, and
Sigma = coupling g coupling^dagger with g the surface Green's function of
cell 1.  The work is done by functions: :func:`bulk_band_edges` (the
quadrature breakpoints), :func:`~currentforces.leads.decimation.decimate`
and the Newton refinement of :mod:`currentforces.leads.newton`, joined by
the continuation in the broadening :func:`surface_green`; :class:`Lead`
checks its input, caches and maps to the device.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import as_dense_matrix, check_energies, check_finite, check_positive, check_rtol
from ..errors import BandEdgeWarning, InputError, LeadConvergenceError, SelfEnergyAccuracyWarning
from .base import EDGE_RTOL, FLAT_BAND_RTOL, LeadBase
from .decimation import MAX_ITER, decimate
from .newton import (
    dyson_jacobian,
    dyson_residual,
    is_retarded,
    newton_refine,
    surface_green_derivative,
    well_conditioned,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._checks import ArrayLike, ComplexArray, IndexArray

__all__ = ["Lead", "bulk_band_edges", "surface_green"]

DECIMATION_ETA = 1e-2
"""Broadening, relative to the lead's energy scale, at which the decimation
starts: well conditioned at every energy (at small broadening it loses all
digits, or overflows, where a cell block is nearly singular)."""


def bulk_band_edges(
    onsite: NDArray[Any], hopping: NDArray[Any], flat_tol: float, nk: int = 257
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Band minima and maxima of a lead's bulk bands, and its dispersionless bands (eV).

    The bands of H(k) = H_00 + H_01 e^{ik} + H_10 e^{-ik} are sampled on
    ``nk`` points of [0, pi] (they are even in k); the extrema of each band
    are the breakpoints of the energy integrals.  A band narrower than
    ``flat_tol`` (eV) is dispersionless: Sigma has a pole there.

    Returns
    -------
    (tuple of float, tuple of float)
        The sorted band edges and the energies of the dispersionless bands.

    Raises
    ------
    InputError
        Every band is dispersionless: the cells do not conduct.
    """
    k = np.linspace(0, np.pi, nk)
    phase = np.exp(1j * k)[:, None, None]
    hk = onsite[None] + hopping[None] * phase + hopping.conj().T[None] * phase.conj()
    bands = np.linalg.eigvalsh(hk)
    edges = np.unique(np.round(np.concatenate([bands.min(axis=0), bands.max(axis=0)]), 12))
    if np.all(np.ptp(bands, axis=0) <= flat_tol):
        raise InputError(
            f"the lead has no propagating states: every band is dispersionless (narrower than "
            f"{flat_tol:.1e} eV) at {np.round(bands.mean(axis=0), 6).tolist()} eV, so the cells do "
            "not conduct (check hopping; a finite cluster belongs in the device, not in a lead)"
        )
    flat = tuple(float(e) for e in edges if np.abs(bands - e).min(axis=1).max() <= flat_tol)
    return tuple(float(e) for e in edges), flat


def surface_green(
    z: ArrayLike,
    onsite: NDArray[Any],
    hopping: NDArray[Any],
    eta: float,
    tol: float,
    scale: float,
    max_iter: int = MAX_ITER,
) -> ComplexArray:
    """Surface Green's function g of cell 1 at energies ``z`` (1/eV), shape z.shape + (n, n).

    Energies with Im z below ``eta`` are taken at z.real + i eta.  The
    decimation runs at a broadening of :data:`DECIMATION_ETA` times
    ``scale``, where it is well conditioned everywhere; Newton iterations on
    the surface Dyson equation then follow the retarded root down to ``eta``
    in steps of 100 (a continuation in the broadening).  Where a Newton step
    fails (far from the previous root, near a band edge) the decimation is
    run afresh at that broadening and kept if it is retarded, solves the
    equation and is well conditioned.  Where neither converges (a right- and
    a left-moving band cross) the last converged broadening is kept and a
    :class:`~currentforces.errors.SelfEnergyAccuracyWarning` states it:
    never a silent error.
    """
    z = np.asarray(z, dtype=complex)
    shape = z.shape
    z = np.where(z.imag < eta, z.real + 1j * eta, z).reshape(-1)
    eta_d = max(eta, DECIMATION_ETA * scale)
    g = decimate(np.where(z.imag < eta_d, z.real + 1j * eta_d, z), onsite, hopping, tol, scale, max_iter)
    low = np.flatnonzero(z.imag < eta_d)
    eta_k = eta_d
    while low.size and eta_k > eta:
        eta_k = max(eta_k * 1e-2, eta)
        zk = np.where(z[low].imag < eta_k, z[low].real + 1j * eta_k, z[low])
        gk, ok = newton_refine(zk, g[low], onsite, hopping, scale)
        ok &= is_retarded(gk)
        if not ok.all():
            bad = np.flatnonzero(~ok)
            gd, fine = _decimate_afresh(zk[bad], onsite, hopping, tol, scale, max_iter)
            gk[bad[fine]] = gd[fine]
            ok[bad[fine]] = True
        g[low[ok]] = gk[ok]
        if not ok.all():
            _report_accuracy(z[low[~ok]], eta_k * 1e2, scale)
        low = low[ok]
    return g.reshape(shape + g.shape[1:])


def _decimate_afresh(z, onsite, hopping, tol, scale, max_iter):
    """Decimation at small broadening, and where to trust it (retarded, solves, well conditioned)."""
    with np.errstate(all="ignore"):
        try:
            g = decimate(z, onsite, hopping, tol, scale, max_iter)
        except (LeadConvergenceError, np.linalg.LinAlgError):
            g = np.full((z.size,) + onsite.shape, np.nan, dtype=complex)
    fine = np.all(np.isfinite(g), axis=(1, 2))
    zf, gf = z[fine], g[fine]
    fine[fine] = (
        is_retarded(gf)
        & (dyson_residual(zf, gf, onsite, hopping) < 1e-9)
        & well_conditioned(zf, dyson_jacobian(zf, gf, onsite, hopping), scale)
    )
    return g, fine


def _report_accuracy(energies, eta_reached, scale):
    if eta_reached > 1e-8 * scale:
        warnings.warn(
            f"Lead surface Green's function at {energies.size} energies (e.g. E = "
            f"{energies.real[0]:.6g} eV) is converged only to a broadening of {eta_reached:.1e} eV: "
            "a lead band edge, or a crossing of a right- and a left-moving lead band (folded "
            "lead cell?), makes the surface Dyson equation singular there; the "
            f"self-energy carries an error of order {eta_reached:.0e} eV times dg/dE",
            SelfEnergyAccuracyWarning,
            stacklevel=5,
        )


class Lead(LeadBase):
    r"""A semi-infinite periodic lead with the exact surface Green's function.

    Parameters
    ----------
    onsite : (n, n) array_like
        Cell Hamiltonian H_nn in eV (Hermitian).
    hopping : (n, n) array_like
        Hopping H_{n,n+1} from a cell to the next one away from the device, eV.
    coupling : (N, n) array_like
        Hopping H_{device, cell 1} in eV: device rows, lead-cell columns.
    eta : float, optional
        Positive imaginary part (eV) added to real energies to select the
        retarded branch.  The default 1e-13 times the lead's energy scale
        biases Sigma by O(eta) inside the band and O(sqrt(eta)) exactly at a
        band edge.
    tol : float, optional
        Convergence threshold of the decimation, relative to the energy
        scale; 0 < tol < 1.

    Notes
    -----
    The surface Green's function g of cell 1 is obtained by the
    Lopez-Sancho-Lopez-Sancho-Rubio decimation (J. Phys. F 15, 851 (1985),
    :func:`~currentforces.leads.decimation.decimate`), which doubles the
    number of cells eliminated per iteration, so it converges in about
    log2(bandwidth/eta) steps even at real energies inside the band and is
    exact for multi-orbital cells and singular hopping matrices.
    Convergence is checked: a decimation that does not converge raises
    :class:`~currentforces.errors.LeadConvergenceError` (a ``RuntimeError``)
    naming ``tol`` and eta.  A lead whose bands are all dispersionless
    (narrower than :data:`~currentforces.leads.FLAT_BAND_RTOL` times its
    energy scale) has no propagating states and raises ``InputError``; a
    single dispersionless band is a pole of Sigma, listed in ``flat_bands``,
    and a real energy on it emits
    :class:`~currentforces.errors.BandEdgeWarning`.  Then

    .. math:: \Sigma(E) = V\, g(E)\, V^\dagger, \qquad
              g = [E - H_{00} - H_{01}\, g_{\rm bulk}\dots]^{-1}.

    The derivative dSigma/dE comes from differentiating the Dyson equation
    g = (z - H00 - H01 g H10)^{-1} of the surface, a linear (Sylvester)
    equation solved exactly
    (:func:`~currentforces.leads.newton.surface_green_derivative`).
    """

    max_iter = MAX_ITER
    """Decimation steps before :class:`~currentforces.errors.LeadConvergenceError`."""

    flat_bands: tuple = ()
    """Energies (eV) of the lead's dispersionless bands: poles of Sigma."""

    def __init__(
        self, onsite: ArrayLike, hopping: ArrayLike, coupling: ArrayLike, eta: float | None = None, tol: float = 1e-14
    ) -> None:
        h00 = as_dense_matrix("onsite", onsite, hermitian=True)
        n = h00.shape[0]
        h01 = np.asarray(hopping, dtype=complex)
        if h01.ndim == 0 and n == 1:
            h01 = h01.reshape(1, 1)
        if h01.shape != (n, n):
            raise InputError(f"hopping must have the shape of onsite {(n, n)}, got {h01.shape}")
        check_finite("hopping", h01)
        c = np.asarray(coupling, dtype=complex)
        if c.ndim == 1 and n == 1:
            c = c[:, None]
        if c.ndim != 2 or c.shape[1] != n:
            raise InputError(
                f"coupling must have shape (N_device, {n}) (device rows, lead-cell columns), got {c.shape}"
            )
        check_finite("coupling", c)
        if not np.any(h01):
            raise InputError("hopping is zero: the lead cells are not connected")
        self.tol = check_rtol(tol, "tol", minimum=0.0)
        if eta is not None:
            eta = check_positive("eta", eta, "eV")
        self.onsite, self.hopping, self.coupling = h00, h01, c
        self.cell_size = n
        self._support = np.flatnonzero(np.any(c != 0, axis=1))
        self._v = c[self._support]
        self._scale = max(np.abs(h00).max(), np.abs(h01).max(), 1e-300)
        self.eta = 1e-13 * self._scale if eta is None else eta
        flat_tol = FLAT_BAND_RTOL * max(self._scale, np.abs(c).max(initial=0.0))
        self.band_edges, self.flat_bands = bulk_band_edges(h00, h01, flat_tol)

    @property
    def size(self) -> int:
        """Number N of device orbitals."""
        return self.coupling.shape[0]

    @property
    def support(self) -> IndexArray:
        """Device orbitals with a non-zero coupling to cell 1."""
        return self._support

    def _warn_flat_bands(self, energy):
        """BandEdgeWarning for real energies on a dispersionless band (a pole of Sigma)."""
        e = np.asarray(energy)
        real = np.real(e)[np.imag(e) == 0]
        if not self.flat_bands or real.size == 0:
            return
        flat = np.asarray(self.flat_bands)
        hit = real[np.abs(real[:, None] - flat).min(axis=1) <= EDGE_RTOL * max(self._scale, 1.0)]
        if hit.size:
            warnings.warn(
                f"energy {hit[0]:.12g} eV lies on a dispersionless band of the lead (localised states, "
                "no velocity): Sigma has a pole there and its value, of order coupling^2/eta with "
                f"eta = {self.eta:.1e} eV, is set by the broadening alone",
                BandEdgeWarning,
                stacklevel=4,
            )

    def surface_green(self, energy: ArrayLike) -> ComplexArray:
        """Surface Green's function g of cell 1 (1/eV), shape (..., n, n).

        Real energies are E + i eta; the continuation in the broadening of
        :func:`surface_green` (module function) does the work.  The last
        result is kept (keyed by the exact energies), so the self-energy and
        its derivative at the same energies, asked for by different parts of
        a calculation, cost one evaluation.
        """
        e = check_energies(energy)
        self._warn_flat_bands(e)
        z = np.asarray(e, dtype=complex)
        z = np.where(z.imag < self.eta, z.real + 1j * self.eta, z)
        key = (z.shape, z.tobytes())
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1].copy()
        g = surface_green(z, self.onsite, self.hopping, self.eta, self.tol, self._scale, self.max_iter)
        self._cache = (key, g)
        return g.copy()

    _cache: tuple[Any, ComplexArray] | None = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_cache", None)  # not worth shipping to parallel workers
        return state

    def surface_green_derivative(self, energy: ArrayLike) -> ComplexArray:
        r"""dg/dE (1/eV^2) from the surface Dyson equation
        (:func:`~currentforces.leads.newton.surface_green_derivative`)."""
        return surface_green_derivative(self.surface_green(energy), self.hopping)

    def self_energy_block(self, energy: ArrayLike) -> ComplexArray:
        """Sigma(E) = V g(E) V^dagger on ``support`` in eV, (..., n_s, n_s)."""
        return self._v @ self.surface_green(energy) @ self._v.conj().T

    def self_energy_derivative_block(self, energy: ArrayLike) -> ComplexArray:
        """dSigma/dE = V (dg/dE) V^dagger on ``support`` (dimensionless), (..., n_s, n_s)."""
        return self._v @ self.surface_green_derivative(energy) @ self._v.conj().T

    def __repr__(self):
        return f"Lead(cell_size={self.cell_size}, size={self.size}, support={self.support.tolist()})"
