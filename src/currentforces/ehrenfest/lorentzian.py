r"""Energy-dependent leads in the wide-band scheme: a Lorentzian fit of the broadening.

A lead whose broadening on its support orbitals is
Gamma(E) = gamma(E) u u^dagger (one channel, e.g. a
:class:`~currentforces.ChainLead`) is fitted as

.. math::

    \gamma(E) \approx \sum_k p_k \frac{2W_k}{(E-\epsilon_k)^2 + W_k^2},
    \qquad p_k \ge 0

(:eq:`eq-lorentzian-fit`), which is exactly the broadening of K extra levels
epsilon_k, each coupled to the device by sqrt(p_k) u and to a wide-band lead
of its own with broadening 2 W_k at the lead's chemical potential: the
retarded self-energy sum_k p_k u u^dagger/(E - epsilon_k + i W_k) has this
Gamma, and its real part follows by Kramers-Kronig.  So the fitted lead
becomes part of an enlarged device with wide-band leads, which
:class:`~currentforces.ehrenfest.WideBandElectrons` evolves exactly (the
scheme of Croy and Saalmann, Phys. Rev. B 80, 245311 (2009), in the form of
auxiliary sites).  Centres are evenly spaced over the band, widths 1.5
spacings, weights by non-negative least squares; the fit error (largest
deviation on a grid reaching half a band width beyond the edges, relative
to max gamma) is reported and warned about above a tolerance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.optimize

from ..errors import InputError, LorentzianFitWarning
from ..junction import Junction
from ..leads import WideBandLead

if TYPE_CHECKING:
    from .._checks import ArrayLike, RealArray
    from ..leads.base import LeadBase

__all__ = ["LorentzianFit", "fit_lorentzians", "embed_lorentzian_leads"]


@dataclass
class LorentzianFit:
    """Lorentzian fit of one lead's broadening (:eq:`eq-lorentzian-fit`).

    Attributes
    ----------
    centers, widths, weights : ndarray (K,)
        epsilon_k (eV), W_k (eV) and p_k (eV^2, the weight of 2W_k/((E - epsilon_k)^2 + W_k^2) in 1/eV).
    vector : ndarray (s,)
        The channel u on the lead's support orbitals.
    support : ndarray (s,)
        Device orbitals of the lead.
    error : float
        Largest ``|fit - gamma|`` on the grid, relative to max gamma.
    """

    centers: np.ndarray
    widths: np.ndarray
    weights: np.ndarray
    vector: np.ndarray
    support: np.ndarray
    error: float

    def broadening(self, energy: ArrayLike) -> RealArray:
        """The fitted gamma(E) in eV."""
        e = np.asarray(energy, dtype=float)[..., None]
        return np.sum(self.weights * 2 * self.widths / ((e - self.centers) ** 2 + self.widths**2), axis=-1)


def fit_lorentzians(
    lead: LeadBase, n_lorentzians: int = 40, tolerance: float = 1e-2, n_grid: int = 2001
) -> LorentzianFit:
    """Fit the broadening of a one-channel lead by ``n_lorentzians`` Lorentzians.

    Parameters
    ----------
    lead : LeadBase
        A lead with ``band_edges`` (its band) and a rank-one broadening.
    n_lorentzians : int
        Number K of Lorentzians (auxiliary levels).
    tolerance : float
        Warn (:class:`~currentforces.errors.LorentzianFitWarning`) when the relative fit error exceeds it.
    n_grid : int
        Grid points of the fit.

    Returns
    -------
    LorentzianFit
    """
    k = int(n_lorentzians)
    if k < 2:
        raise InputError(f"n_lorentzians must be an integer >= 2, got {n_lorentzians!r}")
    edges = tuple(getattr(lead, "band_edges", ()))
    if len(edges) < 2:
        raise InputError(f"{type(lead).__name__}: a Lorentzian fit needs a lead with band_edges")
    lo, hi = min(edges), max(edges)
    span = hi - lo
    grid = np.linspace(lo - 0.5 * span, hi + 0.5 * span, int(n_grid))
    gam = np.asarray(lead.broadening_block(grid + 1e-9j * span))
    vals, vecs = np.linalg.eigh(gam.sum(axis=0))
    u = vecs[:, -1]
    gamma = np.einsum("i,nij,j->n", u.conj(), gam, u).real
    residual = gam - gamma[:, None, None] * np.outer(u, u.conj())[None]
    if np.abs(residual).max() > 1e-8 * max(gamma.max(), 1e-300):
        raise InputError(
            f"{type(lead).__name__}: the broadening has more than one channel; the Lorentzian fit "
            f"handles one-channel leads (a ChainLead)"
        )
    centers = np.linspace(lo, hi, k)
    width = 1.5 * (centers[1] - centers[0])
    widths = np.full(k, width)
    basis = 2 * widths / ((grid[:, None] - centers) ** 2 + widths**2)
    weights, _ = scipy.optimize.nnls(basis, gamma)
    error = float(np.abs(basis @ weights - gamma).max() / gamma.max())
    if error > tolerance:
        warnings.warn(
            f"Lorentzian fit of {type(lead).__name__} with {k} Lorentzians has relative error {error:.3g} "
            f"above tolerance {tolerance:.3g}; raise n_lorentzians",
            LorentzianFitWarning,
            stacklevel=2,
        )
    return LorentzianFit(centers, widths, weights, u, np.asarray(lead.support, dtype=int), error)


def embed_lorentzian_leads(
    junction: Junction, n_lorentzians: int = 40, tolerance: float = 1e-2
) -> tuple[Junction, list[LorentzianFit | None]]:
    """The junction with every energy-dependent lead replaced by its Lorentzian auxiliary levels.

    Returns
    -------
    (Junction, list)
        The enlarged junction (device orbitals first, then the levels of
        each fitted lead; one wide-band lead per original lead, in the same
        order) and the fits (None for leads that were wide-band already).
    """
    n = junction.size
    h = np.asarray(junction.hamiltonian.toarray() if hasattr(junction.hamiltonian, "toarray") else junction.hamiltonian)
    fits = [
        None if isinstance(lead, WideBandLead) else fit_lorentzians(lead, n_lorentzians, tolerance)
        for lead in junction.leads
    ]
    total = n + sum(len(f.centers) for f in fits if f is not None)
    big = np.zeros((total, total), dtype=complex)
    big[:n, :n] = h
    gammas = []
    start = n
    for lead, fit in zip(junction.leads, fits):
        g = np.zeros((total, total), dtype=complex)
        if fit is None:
            g[:n, :n] = lead.gamma
        else:
            k = len(fit.centers)
            idx = np.arange(start, start + k)
            big[idx, idx] = fit.centers
            coupling = np.outer(fit.vector, np.sqrt(fit.weights))  # (s, K)
            big[np.ix_(fit.support, idx)] = coupling
            big[np.ix_(idx, fit.support)] = coupling.conj().T
            g[idx, idx] = 2 * fit.widths
            start += k
        gammas.append(g)
    return Junction(big, [WideBandLead(g) for g in gammas]), fits
