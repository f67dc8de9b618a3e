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

from .._checks import as_dense_matrix, as_overlap, check_energies, check_finite, check_positive, check_rtol
from ..errors import BandEdgeWarning, InputError, LeadConvergenceError, OverlapError, SelfEnergyAccuracyWarning
from .base import EDGE_RTOL, FLAT_BAND_RTOL, LeadBase
from .decimation import MAX_ITER, decimate
from .newton import (
    dyson_jacobian,
    dyson_residual,
    is_retarded,
    kron_system,
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
    onsite: NDArray[Any],
    hopping: NDArray[Any],
    flat_tol: float,
    nk: int = 257,
    s00: NDArray[Any] | None = None,
    s01: NDArray[Any] | None = None,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Band minima and maxima of a lead's bulk bands, and its dispersionless bands (eV).

    The bands of H(k) = H_00 + H_01 e^{ik} + H_10 e^{-ik} are sampled on
    ``nk`` points of [0, pi] (they are even in k); the extrema of each band
    are the breakpoints of the energy integrals.  A band narrower than
    ``flat_tol`` (eV) is dispersionless: Sigma has a pole there.  With
    overlap blocks the bands solve H(k) c = E S(k) c, S(k) = S_00 +
    S_01 e^{ik} + S_10 e^{-ik}, which must be positive definite at every k
    (else :class:`~currentforces.errors.OverlapError` naming
    ``hopping_overlap``).

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
    if s00 is None and s01 is None:
        bands = np.linalg.eigvalsh(hk)
    else:
        n = onsite.shape[0]
        sk = np.broadcast_to(np.eye(n) if s00 is None else s00, hk.shape)
        if s01 is not None:
            sk = sk + s01[None] * phase + s01.conj().T[None] * phase.conj()
        w = np.linalg.eigvalsh(sk)
        if not np.all(w > 1e-12 * np.abs(w).max()):
            bad = int(np.argmin(w.min(axis=1)))
            raise OverlapError(
                f"hopping_overlap: the lead's overlap S(k) = S_00 + S_01 e^ik + h.c. is not positive definite "
                f"at k = {k[bad]:.4g} (smallest eigenvalue {w.min():.3g}): the cell overlap blocks do not "
                "describe linearly independent orbitals"
            )
        lo = np.linalg.cholesky(sk)
        x = np.linalg.solve(lo, hk)
        bands = np.linalg.eigvalsh(np.linalg.solve(lo, np.conj(np.swapaxes(x, -1, -2))))
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
    s00: NDArray[Any] | None = None,
    s01: NDArray[Any] | None = None,
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
    never a silent error.  ``s00``, ``s01``: the cell overlap blocks (None:
    orthogonal), for the pencil z S - H.
    """
    ov: dict[str, Any] = {"s00": s00, "s01": s01}
    z = np.asarray(z, dtype=complex)
    shape = z.shape
    z = np.where(z.imag < eta, z.real + 1j * eta, z).reshape(-1)
    eta_d = max(eta, DECIMATION_ETA * scale)
    g = decimate(np.where(z.imag < eta_d, z.real + 1j * eta_d, z), onsite, hopping, tol, scale, max_iter, **ov)
    low = np.flatnonzero(z.imag < eta_d)
    eta_k = eta_d
    while low.size and eta_k > eta:
        eta_k = max(eta_k * 1e-2, eta)
        zk = np.where(z[low].imag < eta_k, z[low].real + 1j * eta_k, z[low])
        gk, ok = newton_refine(zk, g[low], onsite, hopping, scale, **ov)
        ok &= is_retarded(gk)
        if not ok.all():
            bad = np.flatnonzero(~ok)
            gd, fine = _decimate_afresh(zk[bad], onsite, hopping, tol, scale, max_iter, ov)
            gk[bad[fine]] = gd[fine]
            ok[bad[fine]] = True
        g[low[ok]] = gk[ok]
        if not ok.all():
            _report_accuracy(z[low[~ok]], eta_k * 1e2, scale)
        low = low[ok]
    return g.reshape(shape + g.shape[1:])


def _decimate_afresh(z, onsite, hopping, tol, scale, max_iter, ov):
    """Decimation at small broadening, and where to trust it (retarded, solves, well conditioned)."""
    with np.errstate(all="ignore"):
        try:
            g = decimate(z, onsite, hopping, tol, scale, max_iter, **ov)
        except (LeadConvergenceError, np.linalg.LinAlgError):
            g = np.full((z.size,) + onsite.shape, np.nan, dtype=complex)
    fine = np.all(np.isfinite(g), axis=(1, 2))
    zf, gf = z[fine], g[fine]
    fine[fine] = (
        is_retarded(gf)
        & (dyson_residual(zf, gf, onsite, hopping, **ov) < 1e-9)
        & well_conditioned(zf, dyson_jacobian(zf, gf, onsite, hopping, **ov), scale)
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
    onsite_overlap, hopping_overlap : (n, n) array_like, optional
        Overlap blocks S_nn and S_{n,n+1} of the cells (dimensionless) in a
        non-orthogonal basis; None: S_nn = 1, S_{n,n+1} = 0.  The bulk
        overlap S(k) must be positive definite at every k.
    coupling_overlap : (N, n) array_like, optional
        Overlap S_{device, cell 1} (device rows, lead-cell columns); None: 0.

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

    In a non-orthogonal basis every block becomes one of the pencil E S - H
    (:ref:`theory-overlap`, :eq:`eq-overlap-sigma`):
    g solves g = [E S_00 - H_00 - (H_01 - E S_01) g (H_10 - E S_10)]^{-1}
    and Sigma(E) = (E S_dl - H_dl) g(E) (E S_ld - H_ld), whose derivative
    carries the derivative of the coupling factors (product rule).

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
        self,
        onsite: ArrayLike,
        hopping: ArrayLike,
        coupling: ArrayLike,
        eta: float | None = None,
        tol: float = 1e-14,
        onsite_overlap: ArrayLike | None = None,
        hopping_overlap: ArrayLike | None = None,
        coupling_overlap: ArrayLike | None = None,
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
        s00, s01, sc = _overlap_blocks(onsite_overlap, hopping_overlap, coupling_overlap, n, c.shape[0])
        self.onsite_overlap, self.hopping_overlap, self.coupling_overlap = s00, s01, sc
        """Overlap blocks S_nn, S_{n,n+1}, S_{device, cell 1} (None: orthogonal)."""
        self._ov = {"s00": s00, "s01": s01}
        touched = np.any(c != 0, axis=1) if sc is None else np.any(c != 0, axis=1) | np.any(sc != 0, axis=1)
        self._support = np.flatnonzero(touched)
        self._v = c[self._support]
        self._sv = None if sc is None else sc[self._support]
        self._scale = max(np.abs(h00).max(), np.abs(h01).max(), 1e-300)
        self.eta = 1e-13 * self._scale if eta is None else eta
        flat_tol = FLAT_BAND_RTOL * max(self._scale, np.abs(c).max(initial=0.0))
        self.band_edges, self.flat_bands = bulk_band_edges(h00, h01, flat_tol, **self._ov)
        if s00 is not None or s01 is not None:
            # the overlap stretches the bands (E = H/S): the scale of the decimation is theirs
            self._scale = max(self._scale, *np.abs(self.band_edges))

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
        g = surface_green(z, self.onsite, self.hopping, self.eta, self.tol, self._scale, self.max_iter, **self._ov)
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
        g = self.surface_green(energy)
        if self._ov["s00"] is None and self._ov["s01"] is None:
            return surface_green_derivative(g, self.hopping)
        z = np.asarray(check_energies(energy), dtype=complex)
        z = np.where(z.imag < self.eta, z.real + 1j * self.eta, z)
        return surface_green_derivative(g, self.hopping, z, **self._ov)

    def _asymptotic_surface(self):
        """g_1 = lim z g(z) (1/eV * eV = dimensionless): the surface Green's function of
        the pencil (0, S) at z = 1, g_1 = [S_00 - S_01 g_1 S_10]^{-1}, by decimation."""
        if self.__dict__.get("_g1") is None:
            n = self.cell_size
            zero = np.zeros((n, n), dtype=complex)
            self._g1 = decimate(np.array([1.0 + 0j]), zero, zero, self.tol, 1.0, self.max_iter, **self._ov)[0]
        return self._g1

    def self_energy_slope_block(self) -> ComplexArray:
        r"""Sigma_1 = lim Sigma(z)/z = S_dl g_1 S_ld on ``support`` (:eq:`eq-overlap-tail`)."""
        if self._sv is None:
            return super().self_energy_slope_block()
        return self._sv @ self._asymptotic_surface() @ self._sv.conj().T

    def self_energy_remainder_block(self, energy: ArrayLike) -> ComplexArray:
        r"""Sigma(z) - z Sigma_1 on ``support`` (eV) without cancellation.

        With X = z g - g_1, Sigma - z Sigma_1 = V g V^dagger - z (S_dl g V^dagger +
        V g S_ld) + z S_dl X S_ld, and X solves the linear (Sylvester) equation
        X = g_1 R g + (z g_1 S_01) X (S_10 g), R = H_00 + H_01 g H_10 -
        z (S_01 g H_10 + H_01 g S_10) (subtract g^{-1} from z g_1^{-1}), whose
        every term is computed to full relative precision.
        """
        if self._sv is None:
            return self.self_energy_block(energy)
        e = np.asarray(check_energies(energy), dtype=complex)
        shape = e.shape
        z = e.reshape(-1)
        g = self.surface_green(z)
        g1 = self._asymptotic_surface()
        n = self.cell_size
        s01 = np.zeros((n, n)) if self._ov["s01"] is None else self._ov["s01"]
        h01, h10, s10 = self.hopping, self.hopping.conj().T, s01.conj().T
        zz = z[:, None, None]
        r = self.onsite + h01 @ g @ h10 - zz * (s01 @ g @ h10 + h01 @ g @ s10)
        lhs = np.eye(n * n)[None] - kron_system(zz * (g1 @ s01), s10 @ g)
        x = np.linalg.solve(lhs, (g1 @ r @ g).reshape(-1, n * n, 1)).reshape(-1, n, n)
        v, sv = self._v, self._sv
        vh, svh = v.conj().T, sv.conj().T
        out = v @ g @ vh - zz * (sv @ g @ vh + v @ g @ svh) + zz * (sv @ x @ svh)
        return out.reshape(shape + out.shape[-2:])

    def _couplings(self, energy):
        """(H_dl - E S_dl, H_ld - E S_ld) on ``support``: (n_s, n) or energy.shape + (n_s, n), eV."""
        if self._sv is None:
            return self._v, self._v.conj().T
        e = np.asarray(check_energies(energy))[..., None, None]
        return self._v - e * self._sv, self._v.conj().T - e * self._sv.conj().T

    def self_energy_block(self, energy: ArrayLike) -> ComplexArray:
        """Sigma(E) = (H_dl - E S_dl) g(E) (H_ld - E S_ld) on ``support`` in eV, (..., n_s, n_s)."""
        left, right = self._couplings(energy)
        return left @ self.surface_green(energy) @ right

    def self_energy_derivative_block(self, energy: ArrayLike) -> ComplexArray:
        """dSigma/dE on ``support`` (dimensionless), (..., n_s, n_s): V (dg/dE) V^dagger, plus
        -S_dl g V'_ld - V'_dl g S_ld with V' = H - E S in a non-orthogonal basis."""
        left, right = self._couplings(energy)
        out = left @ self.surface_green_derivative(energy) @ right
        if self._sv is not None:
            g = self.surface_green(energy)
            out = out - self._sv @ g @ right - left @ g @ self._sv.conj().T
        return out

    def __repr__(self):
        return f"Lead(cell_size={self.cell_size}, size={self.size}, support={self.support.tolist()})"


def _overlap_blocks(onsite_overlap, hopping_overlap, coupling_overlap, n, size):
    """Checked overlap blocks of a periodic lead, each None where not given."""
    s00 = s01 = sc = None
    if onsite_overlap is not None:
        s00, _ = as_overlap("onsite_overlap", onsite_overlap, n)
    if hopping_overlap is not None:
        s01 = np.asarray(hopping_overlap, dtype=complex)
        if s01.ndim == 0 and n == 1:
            s01 = s01.reshape(1, 1)
        if s01.shape != (n, n):
            raise OverlapError(f"hopping_overlap must have the shape of onsite {(n, n)}, got {s01.shape}")
        if not np.all(np.isfinite(s01)):
            raise OverlapError("hopping_overlap contains NaN or inf entries")
    if coupling_overlap is not None:
        sc = np.asarray(coupling_overlap, dtype=complex)
        if sc.ndim == 1 and n == 1:
            sc = sc[:, None]
        if sc.shape != (size, n):
            raise OverlapError(
                f"coupling_overlap must have the shape of coupling {(size, n)} (device rows, lead-cell columns), "
                f"got {sc.shape}"
            )
        if not np.all(np.isfinite(sc)):
            raise OverlapError("coupling_overlap contains NaN or inf entries")
    return s00, s01, sc
