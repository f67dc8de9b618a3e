r"""The Green's-function backend interface, and what every backend derives from it.

A backend computes blocks of the retarded Green's function of a device
coupled to leads,

.. math:: G(E) = [E S - h - \sum_l \Sigma_l(E)]^{-1},

and of its energy derivative (S the overlap matrix of a non-orthogonal
basis, :ref:`theory-overlap`; S = 1 when the backend's ``overlap`` is None).  A concrete backend implements two methods:

* :meth:`GreensBackend.green_submatrix`: G(E)[rows, cols] at a batch of
  energies;
* :meth:`GreensBackend.green_derivative_submatrix`: G[S, S] and
  dG/dE[S, S] on a set S of orbitals, with

  .. math::

      \frac{dG}{dE} = -G\Big(S - \sum_l \frac{d\Sigma_l}{dE}\Big)G

  (differentiate G M = 1 with M = E S - h - Sigma: dG M + G dM = 0).

Everything else is written once, here, from these blocks and the leads'
support blocks (:class:`~currentforces.leads.LeadBase`), so that it reads
the Green's function only on the orbitals it needs:

* the partial spectral functions A_l = G Gamma_l G^dagger, from the columns
  of G on the lead supports;
* the transmission T_sd = Tr[Gamma_s G Gamma_d G^dagger] (Caroli formula;
  Meir and Wingreen, Phys. Rev. Lett. 68, 2512 (1992)), from the block of G
  between the two supports, O(n_s n_d (n_s + n_d)) per energy beyond that
  block;
* the Landauer current integrand sum_m T_lm(E) [n_l(E) - n_m(E)], from one
  block of G for all drains.

This is the pattern of Kwant's ``kwant.solvers.common.SparseSolver``: the
derived quantities on an abstract base, each concrete solver small.  The
dense inverse is :class:`~currentforces.greens.dense.DenseInverse`, the
recursive Green's function method
:class:`~currentforces.greens.rgf.BlockTridiagonal`.

Units: energies eV, self-energies and broadenings eV, Green's functions
1/eV, dG/dE 1/eV^2, transmissions dimensionless.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import as_orbital_indices, check_energies
from ..leads import as_lead

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from .._checks import ArrayLike, ComplexArray, IndexArray, Indices, RealArray

__all__ = ["GreensBackend"]


def _dagger(m):
    return np.conj(np.swapaxes(m, -1, -2))


def trace_transmission(gamma_s: NDArray[Any], g_sd: NDArray[Any], gamma_d: NDArray[Any]) -> RealArray:
    r"""Re Tr[Gamma_s G_sd Gamma_d G_sd^dagger] over the last two axes.

    With Gamma_d Hermitian, (Gamma_d G^dagger)_{ji} = conj((G Gamma_d)_{ij}),
    so the trace is the sum of (Gamma_s G)_{ij} conj((G Gamma_d)_{ij}): two
    products on the support blocks, O(n_s n_d (n_s + n_d)), never the N^4
    of an unoptimised four-matrix contraction.

    Parameters
    ----------
    gamma_s : (..., n_s, n_s) array
        Broadening of the source lead on its support (eV).
    g_sd : (..., n_s, n_d) array
        G[support_s, support_d] (1/eV).
    gamma_d : (..., n_d, n_d) array
        Broadening of the drain lead on its support (eV).

    Returns
    -------
    ndarray, shape ``(...)``, dimensionless.
    """
    return np.einsum("...ij,...ij->...", gamma_s @ g_sd, np.conj(g_sd @ gamma_d)).real


class GreensBackend(abc.ABC):
    r"""Abstract base of the Green's-function backends (module docstring).

    Parameters
    ----------
    size : int
        Number of device orbitals N.
    leads : sequence of LeadBase
        The leads (:class:`~currentforces.leads.LeadBase`, checked by
        :func:`~currentforces.leads.as_lead`), read through their ``support``
        and support blocks.

    Notes
    -----
    A subclass implements :meth:`green_submatrix` and
    :meth:`green_derivative_submatrix` (instantiating one that lacks either
    raises ``TypeError``), and may override :meth:`singular` where it has a
    sharper test.  Energies reaching a backend are real (E + i0 through the
    retarded self-energies) or complex in the upper half plane; the band-edge
    policy of :class:`~currentforces.Junction` is applied before.
    """

    overlap: Any = None
    """The device overlap matrix S (dimensionless; dense or sparse), or None
    for an orthogonal basis (S = 1)."""

    dense = False
    """Whether the backend holds h as a dense array, so that N x N work
    (eigenvalues of h + Sigma, the contour of :mod:`currentforces.contour`) is
    affordable."""

    def __init__(self, size: int, leads: Sequence[Any]) -> None:
        self.size = int(size)
        """Number of device orbitals N."""
        self.leads = [as_lead(lead, f"leads[{i}]", self.size) for i, lead in enumerate(leads or ())]
        """The leads, in lead order."""

    # ------------------------------------------------------------ the two methods
    @abc.abstractmethod
    def green_submatrix(self, energy: ArrayLike, rows: Indices, cols: Indices) -> ComplexArray:
        r"""Block G(E)[rows, cols] of the retarded Green's function (1/eV).

        Parameters
        ----------
        energy : float, complex or array_like
            Energies in eV (real: E + i0; complex: upper half plane).
        rows, cols : array_like of int
            Device orbital indices (negative ones count from the end; repeats
            allowed).

        Returns
        -------
        ndarray, energy.shape + (len(rows), len(cols))
        """

    @abc.abstractmethod
    def green_derivative_submatrix(
        self, energy: ArrayLike, orbitals: Indices, cols: Indices | None = None
    ) -> tuple[ComplexArray, ComplexArray]:
        r"""G[S, S] and dG/dE[S, S] on a set S of orbitals (1/eV, 1/eV^2).

        .. math:: \frac{dG}{dE} = -G\Big(1 - \sum_l \frac{d\Sigma_l}{dE}\Big)G

        restricted to S.

        Parameters
        ----------
        energy : array_like
            Energies in eV (real: E + i0; complex: upper half plane).
        orbitals : array_like of int
            The orbitals S.
        cols : array_like of int, optional
            Return G[S, cols] instead of G[S, S] (a caller that also needs
            the columns of the lead supports gets them in the same pass).

        Returns
        -------
        (ndarray, ndarray)
            G[S, S] (or G[S, cols]) in 1/eV and dG/dE[S, S] in 1/eV^2, each
            energy.shape + (rows, columns).
        """

    # ------------------------------------------------------------ lead blocks
    @staticmethod
    def _energies(energy):
        return check_energies(energy)

    def lead_supports(self) -> list[IndexArray]:
        """Device orbitals of every lead's support, list of int arrays."""
        return [np.asarray(lead.support, dtype=int) for lead in self.leads]

    def lead_self_energy_blocks(self, energy: ArrayLike) -> list[ComplexArray]:
        """Sigma_l on each lead's support, list of (..., n_s, n_s) arrays in eV."""
        return [np.asarray(lead.self_energy_block(energy)) for lead in self.leads]

    def lead_self_energy_derivative_blocks(self, energy: ArrayLike) -> list[ComplexArray]:
        """dSigma_l/dE on each lead's support, list of (..., n_s, n_s) arrays."""
        return [np.asarray(lead.self_energy_derivative_block(energy)) for lead in self.leads]

    def _add_self_energy(self, out, energy, sign):
        """out[..., sup, sup] += sign * Sigma_l block, lead by lead (no N x N temporaries)."""
        for sup, block in zip(self.lead_supports(), self.lead_self_energy_blocks(energy)):
            out[..., sup[:, None], sup[None, :]] += sign * block

    def self_energy(self, energy: ArrayLike) -> ComplexArray:
        """Total self-energy sum_l Sigma_l(E), energy.shape + (N, N) in eV."""
        e = self._energies(energy)
        total = np.zeros(e.shape + (self.size, self.size), dtype=complex)
        self._add_self_energy(total, e, sign=1.0)
        return total

    def _derivative_from(self, energy, rows, cols):
        r"""dG/dE[S, S] = -G[S, :] S G[:, S] + sum_l G[S, s_l] dSigma_l/dE G[s_l, S].

        ``rows`` is G[S, :] and ``cols`` G[:, S] (..., over all N orbitals):
        the generic form of the derivative, for a backend that has the full
        rows and columns (the dense one).
        """
        dg = rows @ cols if self.overlap is None else rows @ (self.overlap @ cols)
        np.negative(dg, out=dg)
        for sup, dsig in zip(self.lead_supports(), self.lead_self_energy_derivative_blocks(energy)):
            dg += rows[..., :, sup] @ dsig @ cols[..., sup, :]
        return dg

    # ------------------------------------------------------------ derived quantities
    def green(self, energy: ArrayLike) -> ComplexArray:
        """The full G(E), energy.shape + (N, N) in 1/eV (small devices)."""
        idx = np.arange(self.size)
        return self.green_submatrix(energy, idx, idx)

    def spectral_functions(
        self, energy: ArrayLike, rows: Indices | None = None, cols: Indices | None = None
    ) -> list[ComplexArray]:
        r"""Partial spectral functions A_l[rows, cols] = G[rows, s_l] Gamma_l G[cols, s_l]^dagger.

        Only the columns of G on the lead supports s_l are computed.

        Parameters
        ----------
        energy : float or array_like
            Real energies in eV.
        rows, cols : array_like of int, optional
            Device orbitals (default all: N x N, small devices only; ``cols``
            defaults to ``rows``).

        Returns
        -------
        list over leads of ndarray, energy.shape + (len(rows), len(cols)), 1/eV
            ``A_l / 2 pi`` is the partial density of states of the states
            incident from lead l.
        """
        e = self._energies(energy)
        rows = np.arange(self.size) if rows is None else as_orbital_indices("rows", rows, self.size)
        cols = rows if cols is None else as_orbital_indices("cols", cols, self.size)
        supports = self.lead_supports()
        if not supports:
            return []
        allsupp = np.unique(np.concatenate(supports))
        both = np.unique(np.concatenate([rows, cols]))
        g = self.green_submatrix(e, both, allsupp)
        ri, ci = np.searchsorted(both, rows), np.searchsorted(both, cols)
        out = []
        for sup, lead in zip(supports, self.leads):
            gs = g[..., :, np.searchsorted(allsupp, sup)]
            out.append(gs[..., ri, :] @ lead.broadening_block(e) @ _dagger(gs[..., ci, :]))
        return out

    def _transmissions(self, energy, source, drains):
        """[T_{source, d}(E) for d in drains] from one block G[s_source, s_drains]."""
        supports = self.lead_supports()
        cols = [supports[d] for d in drains]
        ends = np.cumsum([0] + [c.size for c in cols])
        g = self.green_submatrix(energy, supports[source], np.concatenate(cols))
        gam_s = self.leads[source].broadening_block(energy)
        return [
            trace_transmission(gam_s, g[..., a:b], self.leads[d].broadening_block(energy))
            for d, a, b in zip(drains, ends[:-1], ends[1:])
        ]

    def transmission(self, energy: ArrayLike, source: int = 0, drain: int = 1) -> RealArray:
        r"""T(E) = Tr[Gamma_s G_{s,d} Gamma_d G_{s,d}^dagger], dimensionless.

        G_{s,d} is the block of G between the supports of the two leads
        (:func:`trace_transmission`).

        Parameters
        ----------
        energy : float or array_like
            Real energies in eV.
        source, drain : int
            Lead indices, unchecked; ``source == drain`` gives the same trace
            for one lead (no transmission: :meth:`Junction.transmission
            <currentforces.Junction.transmission>` refuses it).

        Returns
        -------
        ndarray, energy.shape
        """
        e = self._energies(energy)
        return self._transmissions(e, int(source), [int(drain)])[0]

    def current_integrand(
        self, energy: ArrayLike, lead: int, occupations: Sequence[NDArray[np.floating[Any]] | float]
    ) -> RealArray:
        r"""Landauer integrand sum_{m != l} T_lm(E) [n_l(E) - n_m(E)] (dimensionless).

        Parameters
        ----------
        energy : array_like
            Real energies in eV.
        lead : int
            The lead l whose current is wanted.
        occupations : sequence of array_like
            n_m(E), one per lead, each of the shape of ``energy``.

        Returns
        -------
        ndarray, energy.shape
            Times g_s e/h and integrated over E: the current leaving
            reservoir l into the device.
        """
        e = self._energies(energy)
        others = [m for m in range(len(self.leads)) if m != lead]
        out = np.zeros(e.shape)
        if not others:
            return out
        for m, t in zip(others, self._transmissions(e, lead, others)):
            out += t * (occupations[lead] - occupations[m])
        return out

    def singular(self, energy: ArrayLike, tol: float) -> NDArray[np.bool_]:
        r"""Mask over a 1-d batch of real energies: is E - h - Sigma(E) singular there?

        Generic test: the norm of G is at least 1/sigma_min (sigma_min the
        smallest singular value of E - h - Sigma), and the lead supports see
        a divergence that matters for transport, so E counts as singular
        where the largest entry of G on the lead supports is at least
        1/``tol`` (``tol`` in eV).  A ``LinAlgError`` propagates (the caller
        takes it as singular).
        """
        sup = np.unique(np.concatenate(self.lead_supports())) if self.leads else np.arange(0)
        g = self.green_submatrix(energy, sup, sup)
        return ~(np.abs(g).max(axis=(-2, -1), initial=0.0) * tol < 1)
