r"""The lead protocol: what a solver may ask of a lead, and nothing else.

A lead is a semi-infinite reservoir that the device sees only through its
retarded self-energy Sigma(E) (:ref:`theory-leads`).  Every lead subclasses
:class:`LeadBase` and implements four things, all on its *support* (the
device orbitals it couples to), so that no solver ever needs an N x N
array from a lead::

    lead.size                             # N, number of device orbitals
    lead.support                          # sorted device orbitals, (n_s,) int
    lead.self_energy_block(E)             # Sigma(E) on the support, (..., n_s, n_s), eV
    lead.self_energy_derivative_block(E)  # dSigma/dE on the support, dimensionless

From these the base derives, once for every lead, the dense N x N
``self_energy``, ``self_energy_derivative``, ``broadening`` and
``broadening_derivative`` and the support blocks of the broadening,
all through the one helper :func:`broadening_from_self_energy`.

``E`` is a scalar or an array of energies in eV, real (the retarded
branch, E + i0) or complex in the upper half plane (contour points).  A
lead takes E as the energy it is: an energy-independent lead returns the
same Sigma at every E, it never reads the imaginary part of E as a
broadening of its own (sisl's ``WideBandSE`` does, and drops the real part).

:func:`as_lead` is the check a solver runs on what it is given.
"""

from __future__ import annotations

import abc
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    from .._checks import ArrayLike, ComplexArray


__all__ = ["LeadBase", "as_lead", "broadening_from_self_energy", "EDGE_RTOL", "FLAT_BAND_RTOL"]

EDGE_RTOL = 1e-12
"""A real energy within ``EDGE_RTOL`` times the energy scale of a band edge
(or of a dispersionless band) counts as lying on it: round-off of the edge
and of an energy grid."""

FLAT_BAND_RTOL = 1e-8
"""A lead band narrower than ``FLAT_BAND_RTOL`` times the lead's energy scale
(largest of its on-site, hopping and coupling entries) counts as
dispersionless.  Its states have a group velocity of order the band width,
and the self-energy it gives, of order coupling^2 / width, exceeds the
energy scale by the inverse ratio: beyond 1e8 the closed forms and the
decimation lose the band to round-off."""

PROTOCOL = ("size", "support", "self_energy_block", "self_energy_derivative_block")
"""What every lead implements (the abstract members of :class:`LeadBase`)."""


def broadening_from_self_energy(sigma: ArrayLike) -> ComplexArray:
    r"""Gamma = i (Sigma - Sigma^dagger) in eV, batched over leading axes.

    .. math:: \Gamma = i\,(\Sigma - \Sigma^\dagger)

    The same map takes dSigma/dE to dGamma/dE.  Works on N x N matrices and
    on support blocks alike: the one place the broadening is formed.
    """
    sigma = np.asarray(sigma)
    return 1j * (sigma - np.conj(np.swapaxes(sigma, -1, -2)))


def _support_block(lead, dense):
    """The (..., n_s, n_s) support block of a dense (..., N, N) array."""
    idx = np.asarray(lead.support, dtype=int)
    return np.asarray(dense)[..., idx[:, None], idx[None, :]]


class LeadBase(abc.ABC):
    r"""Abstract base of every lead (module docstring).

    A subclass implements ``size`` and ``support`` (properties or class
    attributes) and the two support blocks
    :meth:`self_energy_block` and :meth:`self_energy_derivative_block`; it may
    add ``band_edges``, the energies (eV) where Sigma is not smooth, which the
    energy integrals take as breakpoints.  Everything else is derived here.

    A subclass written for the earlier interface, which implemented the dense
    :meth:`self_energy` (and :meth:`self_energy_derivative`) and set ``size``
    and ``support`` as instance attributes, still works: its support blocks
    are sliced from its dense matrices, with a ``DeprecationWarning`` when the
    class is defined.
    """

    band_edges: tuple = ()
    """Energies (eV) where Sigma(E) is not smooth (band edges)."""

    broadening_from_self_energy = staticmethod(broadening_from_self_energy)

    # ------------------------------------------------------------ the protocol
    @property
    @abc.abstractmethod
    def size(self) -> int:
        """Number N of device orbitals (the lead's self-energy is N x N)."""

    @property
    @abc.abstractmethod
    def support(self) -> np.ndarray:
        """Device orbitals the lead couples to: sorted, distinct ints in [0, N)."""

    @abc.abstractmethod
    def self_energy_block(self, energy: ArrayLike) -> ComplexArray:
        """Sigma(E) on ``support`` in eV, shape energy.shape + (n_s, n_s).

        The body slices :meth:`self_energy`: a subclass that builds the
        N x N matrix anyway may return ``super().self_energy_block(energy)``
        after overriding :meth:`self_energy`."""
        return _support_block(self, self.self_energy(energy))

    @abc.abstractmethod
    def self_energy_derivative_block(self, energy: ArrayLike) -> ComplexArray:
        """dSigma/dE on ``support`` (dimensionless), shape energy.shape + (n_s, n_s).

        The body slices :meth:`self_energy_derivative` (see
        :meth:`self_energy_block`)."""
        return _support_block(self, self.self_energy_derivative(energy))

    # ------------------------------------------------------------ derived once
    def self_energy(self, energy: ArrayLike) -> ComplexArray:
        """Sigma(E) in the device basis, eV, shape energy.shape + (N, N)."""
        return self._embed(self.self_energy_block(energy))

    def self_energy_derivative(self, energy: ArrayLike) -> ComplexArray:
        """dSigma/dE in the device basis (dimensionless), energy.shape + (N, N)."""
        return self._embed(self.self_energy_derivative_block(energy))

    def self_energy_slope_block(self) -> ComplexArray:
        r"""Sigma_1 = lim Sigma(z)/z for ``|z|`` -> infinity on ``support`` (dimensionless).

        Zero for every lead whose self-energy stays bounded (the default); a
        lead coupled to the device through an overlap S_dl grows linearly,
        Sigma(z) ~ z S_dl g_1 S_ld (:eq:`eq-overlap-tail`).  Read by the sums
        over the imaginary axis that need the large-``|z|`` form of G
        (:meth:`~currentforces.Junction.energy_density_matrix`).
        """
        n = np.asarray(self.support).size
        return np.zeros((n, n), dtype=complex)

    def self_energy_remainder_block(self, energy: ArrayLike) -> ComplexArray:
        """Sigma(z) - z Sigma_1 on ``support`` (eV), computed without the
        cancellation of the two at large ``|z|``; the default (Sigma_1 = 0)
        is :meth:`self_energy_block`."""
        return self.self_energy_block(energy)

    def broadening(self, energy: ArrayLike) -> ComplexArray:
        r"""Broadening Gamma(E) = i (Sigma - Sigma^dagger) in eV, energy.shape + (N, N)."""
        return broadening_from_self_energy(self.self_energy(energy))

    def broadening_derivative(self, energy: ArrayLike) -> ComplexArray:
        """dGamma/dE (dimensionless), energy.shape + (N, N)."""
        return broadening_from_self_energy(self.self_energy_derivative(energy))

    def broadening_block(self, energy: ArrayLike) -> ComplexArray:
        """Gamma(E) on ``support`` in eV, energy.shape + (n_s, n_s)."""
        return broadening_from_self_energy(self.self_energy_block(energy))

    def _embed(self, block):
        """Embed (..., n_s, n_s) on ``support`` into zeros of shape (..., N, N)."""
        block = np.asarray(block)
        out = np.zeros(block.shape[:-2] + (self.size, self.size), dtype=complex)
        idx = np.asarray(self.support, dtype=int)
        out[..., idx[:, None], idx[None, :]] = block
        return out

    # ------------------------------------------------------------ the earlier interface
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        blocks = ("self_energy_block", "self_energy_derivative_block")
        if cls.self_energy is LeadBase.self_energy or not any(_abstract(cls, name) for name in blocks):
            return
        warnings.warn(
            f"{cls.__qualname__} implements the earlier lead interface (a dense self_energy); implement "
            "size, support, self_energy_block and self_energy_derivative_block of "
            "currentforces.leads.LeadBase instead (its support blocks are sliced from the dense "
            "matrices for now)",
            DeprecationWarning,
            stacklevel=3,
        )
        if _abstract(cls, "self_energy_block"):
            cls.self_energy_block = _earlier_self_energy_block
        if _abstract(cls, "self_energy_derivative_block"):
            cls.self_energy_derivative_block = _earlier_self_energy_derivative_block
        if _abstract(cls, "size"):
            cls.size = _InstanceAttribute("size")
        if _abstract(cls, "support"):
            cls.support = _InstanceAttribute("support")


def _abstract(cls, name):
    return getattr(getattr(cls, name, None), "__isabstractmethod__", False)


def _earlier_self_energy_block(self, energy):
    """Sigma(E) on ``support``, sliced from :meth:`self_energy`."""
    return _support_block(self, self.self_energy(energy))


def _earlier_self_energy_derivative_block(self, energy):
    """dSigma/dE on ``support``, sliced from :meth:`self_energy_derivative`."""
    if type(self).self_energy_derivative is LeadBase.self_energy_derivative:
        raise NotImplementedError(f"{type(self).__name__} has no self-energy derivative")
    return _support_block(self, self.self_energy_derivative(energy))


class _InstanceAttribute:
    """``size``/``support`` of an earlier-interface lead: whatever its
    ``__init__`` stored (a non-data descriptor, so the instance's value wins);
    an unset support is every orbital."""

    def __init__(self, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        if self.name == "support":
            return np.arange(obj.size)
        raise AttributeError(f"{type(obj).__name__} has no attribute {self.name!r}")


class _DuckTypedLead(LeadBase):
    """A lead that does not subclass :class:`LeadBase`, seen through the
    protocol (:func:`as_lead`): every attribute it has is passed through;
    what it lacks is derived as :class:`LeadBase` derives it."""

    def __init__(self, lead):
        self.lead = lead

    @property
    def size(self):
        return int(self.lead.size)

    @property
    def support(self):
        sup = getattr(self.lead, "support", None)
        return np.arange(self.size) if sup is None else np.asarray(sup, dtype=int)

    @property
    def band_edges(self):
        return tuple(getattr(self.lead, "band_edges", ()))

    def self_energy_block(self, energy):
        if hasattr(self.lead, "self_energy_block"):
            return np.asarray(self.lead.self_energy_block(energy))
        return _support_block(self, self.lead.self_energy(energy))

    def self_energy_derivative_block(self, energy):
        if hasattr(self.lead, "self_energy_derivative_block"):
            return np.asarray(self.lead.self_energy_derivative_block(energy))
        if hasattr(self.lead, "self_energy_derivative"):
            return _support_block(self, self.lead.self_energy_derivative(energy))
        raise NotImplementedError(f"{type(self.lead).__name__} has no self-energy derivative")

    def self_energy(self, energy):
        if hasattr(self.lead, "self_energy"):
            return np.asarray(self.lead.self_energy(energy))
        return super().self_energy(energy)

    def self_energy_derivative(self, energy):
        if hasattr(self.lead, "self_energy_derivative"):
            return np.asarray(self.lead.self_energy_derivative(energy))
        return super().self_energy_derivative(energy)

    def __getattr__(self, name):
        if name == "lead":  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.lead, name)

    def __repr__(self):
        return repr(self.lead)


def as_lead(lead: Any, name: str = "lead", size: int | None = None, stacklevel: int = 2) -> LeadBase:
    """Check that ``lead`` is a lead (for ``size`` device orbitals) and return it.

    Parameters
    ----------
    lead : LeadBase
        The lead.
    name : str
        How the message names it (``"leads[1]"``).
    size : int, optional
        Number of device orbitals the lead must couple to.
    stacklevel : int
        Whose line a ``DeprecationWarning`` names, counted from the caller of
        ``as_lead`` (2: the caller's caller, the user's code).

    Returns
    -------
    LeadBase
        ``lead`` itself; or, for an object that does not subclass
        :class:`LeadBase` but offers ``size`` and a ``self_energy`` or the
        ``support`` and ``self_energy_block`` of the protocol (the earlier,
        informal interface), a ``DeprecationWarning`` and a wrapper that
        derives the rest.

    Raises
    ------
    InputError
        Anything else (it names the protocol to implement), or a lead whose
        ``size`` differs from ``size``.
    """
    if not isinstance(lead, LeadBase):
        has = {m for m in PROTOCOL + ("self_energy",) if hasattr(lead, m)}
        if "size" not in has or not ({"self_energy"} <= has or {"support", "self_energy_block"} <= has):
            raise InputError(
                f"{name} is not a lead: {lead!r}; a lead subclasses currentforces.leads.LeadBase and "
                f"implements {', '.join(PROTOCOL)} (Sigma on the orbitals it couples to, and dSigma/dE)"
            )
        warnings.warn(
            f"{name} ({type(lead).__name__}) does not subclass currentforces.leads.LeadBase: subclass it "
            f"and implement {', '.join(PROTOCOL)}; the missing parts are derived from what it offers for now",
            DeprecationWarning,
            stacklevel=stacklevel + 1,
        )
        lead = _DuckTypedLead(lead)
    if size is not None and lead.size != size:
        raise InputError(
            f"{name} couples to {lead.size} device orbitals but the hamiltonian has {size}: "
            "the lead does not fit the device"
        )
    return lead
