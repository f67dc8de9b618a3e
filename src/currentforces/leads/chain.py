r"""The semi-infinite single-orbital chain, in closed form (:ref:`theory-chain-lead`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._checks import check_energies, check_finite, check_number
from ..errors import InputError
from .base import FLAT_BAND_RTOL, LeadBase

if TYPE_CHECKING:
    from .._checks import ArrayLike, ComplexArray, IndexArray

__all__ = ["ChainLead", "chain_surface_green", "chain_surface_green_derivative"]


def chain_surface_green(z: ArrayLike, hopping: float, onsite: float = 0.0) -> ComplexArray:
    r"""Retarded surface Green's function of a semi-infinite 1D chain (1/eV).

    .. math::

        g(z) = \frac{(z - \epsilon_0) - \sqrt{z - \epsilon_0 - 2|t|}\,
                     \sqrt{z - \epsilon_0 + 2|t|}}{2 t^2}

    with principal square roots (the surface element of the semi-infinite
    chain's resolvent, g = 1/(z - t^2 g)), evaluated as
    :math:`g = 2/[(z - \epsilon_0) + \sqrt{\cdot}\sqrt{\cdot}]` (the two
    roots of :math:`t^2 g^2 - (z - \epsilon_0) g + 1 = 0` multiply to
    :math:`1/t^2`), which keeps full relative accuracy as ``|z|`` grows.
    For real E this is (E - i sqrt(4t^2 - E^2))/2t^2 inside the band
    ``|E| < 2|t|`` and (E - sgn(E) sqrt(E^2 - 4t^2))/2t^2 outside: the
    retarded branch everywhere.  Real energies are taken as E + i0.
    """
    t = abs(hopping)
    if t == 0:
        raise InputError("hopping of a chain lead must be non-zero")
    z = np.asarray(z, dtype=complex)
    x = np.empty(z.shape, dtype=complex)
    # in units of |t|, so that t^2 can neither underflow nor overflow
    x.real = (z.real - onsite) / t
    x.imag = np.where(z.imag > 0, z.imag / t, 0.0)  # +0.0 exactly: the upper lip of the cut
    # numpy's complex sqrt follows C99: sqrt(-a + 0.0j) = +i sqrt(a), the limit from above.
    # At a band edge, x = +-2: g = x/2t, the limit from both sides (Gamma -> 0).
    a = np.sqrt(x - 2)
    b = np.sqrt(x + 2)
    # g is the root of t g^2 - x g + 1/t = 0 with |t g| <= 1; the two roots
    # multiply to 1/t^2, so g = (x - ab)/2t = 2/(t (x + ab)), where x and ab
    # never cancel (|x + ab| >= 2): the first form loses every digit as
    # |z| grows (at |z| = 1e8 |t| it has no correct digit, and the energy
    # density matrix, which needs z g(z) - 1 far up the imaginary axis,
    # failed on every chain-lead junction)
    return 2.0 / (t * (x + a * b))


def chain_surface_green_derivative(z: ArrayLike, hopping: float, onsite: float = 0.0) -> ComplexArray:
    r"""dg/dz of :func:`chain_surface_green` (1/eV^2).

    From g = 1/(z - t^2 g):

    .. math:: \frac{dg}{dz} = -\frac{g^2}{1 - t^2 g^2},

    which diverges at the band edges.
    """
    g = chain_surface_green(z, hopping, onsite)
    t2 = abs(hopping) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return -g * g / (1.0 - t2 * g * g)


class ChainLead(LeadBase):
    r"""A semi-infinite single-orbital chain with the closed-form self-energy.

    Parameters
    ----------
    hopping : float
        Nearest-neighbour hopping t of the chain in eV (the band is
        onsite +- 2|t|).
    coupling : (N,) or (N, 1) array_like
        Hopping in eV from each device orbital to the first chain site.
    onsite : float
        On-site energy of the chain in eV.

    Notes
    -----
    Sigma(E) = coupling g(E) coupling^dagger with g of
    :func:`chain_surface_green`.  Exactly at a band edge,
    E = onsite +- 2|t|, the closed form gives the limit from both sides,
    ``g = +-1/|t|`` and Gamma = 0 (the channel opening there has zero velocity);
    only dSigma/dE diverges.  A band narrower than ``FLAT_BAND_RTOL`` times
    the energy scale is refused (:data:`~currentforces.leads.FLAT_BAND_RTOL`).
    """

    def __init__(self, hopping: float, coupling: ArrayLike, onsite: float = 0.0) -> None:
        self.hopping = check_number("hopping", hopping, "eV")
        self.onsite = check_number("onsite", onsite, "eV")
        try:
            c = np.asarray(coupling, dtype=complex)
        except (TypeError, ValueError):
            raise InputError(f"coupling must be numbers in eV, got {coupling!r}") from None
        if c.ndim == 2 and c.shape[1] == 1:
            c = c[:, 0]
        if c.ndim != 1:
            raise InputError(f"coupling must have shape (N,) or (N, 1), got {np.shape(coupling)}")
        check_finite("coupling", c)
        scale = max(abs(self.hopping), abs(self.onsite), np.abs(c).max(initial=0.0))
        if not 4 * abs(self.hopping) > FLAT_BAND_RTOL * scale:
            raise InputError(
                f"hopping = {hopping!r} eV is negligible against the lead's energy scale {scale:.3g} eV "
                f"(|onsite|, |coupling|): its band, of width 4|hopping|, is below {FLAT_BAND_RTOL:g} of "
                "it, a lead with no propagating states to speak of (FLAT_BAND_RTOL)"
            )
        self.coupling = c
        self._support = np.flatnonzero(c)
        c_s = c[self._support]
        self._outer = c_s[:, None] * c_s.conj()[None, :]
        t = abs(self.hopping)
        self.band_edges = (self.onsite - 2 * t, self.onsite + 2 * t)

    @property
    def size(self) -> int:
        """Number N of device orbitals."""
        return self.coupling.size

    @property
    def support(self) -> IndexArray:
        """Device orbitals with a non-zero coupling to the chain."""
        return self._support

    def surface_green(self, energy: ArrayLike) -> ComplexArray:
        """Surface Green's function g(E) of the chain (1/eV)."""
        return chain_surface_green(check_energies(energy), self.hopping, self.onsite)

    def self_energy_block(self, energy: ArrayLike) -> ComplexArray:
        """Sigma(E) = ``|c><c|`` g(E) on ``support``, (..., n_s, n_s), eV."""
        return self.surface_green(energy)[..., None, None] * self._outer

    def self_energy_derivative_block(self, energy: ArrayLike) -> ComplexArray:
        """dSigma/dE = ``|c><c|`` dg/dE on ``support``; diverges at the band edges."""
        dg = chain_surface_green_derivative(check_energies(energy), self.hopping, self.onsite)
        return dg[..., None, None] * self._outer

    def __repr__(self):
        return f"ChainLead(hopping={self.hopping}, onsite={self.onsite}, support={self.support.tolist()})"
