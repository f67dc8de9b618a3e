"""A lead given by an external self-energy function (sisl, Kwant, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._checks import check_energies, check_positive
from ..errors import InputError
from ..leads import LeadBase, as_lead

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .._checks import ArrayLike, ComplexArray, IndexArray, Indices

__all__ = ["SelfEnergyLead"]


class SelfEnergyLead(LeadBase):
    r"""Wrap a callable Sigma(E) on a few device orbitals as a lead.

    Parameters
    ----------
    function : callable
        ``function(E)`` -> (n, n) self-energy in eV for one energy E (eV).
    orbitals : (n,) array_like of int
        Distinct device orbitals the self-energy acts on, in the order of
        its rows.
    size : int
        Number of device orbitals N.
    band_edges : sequence of float
        Energies (eV) where Sigma is not smooth (quadrature breakpoints).
    fallback : LeadBase, optional
        Lead used for energies ``function`` cannot take (complex energies,
        when ``real_only``); it must couple to ``orbitals`` only.
    real_only : bool
        ``function`` accepts only real energies.
    step : float
        Central-difference step (eV) of :meth:`self_energy_derivative_block`.

    Notes
    -----
    dSigma/dE is taken by central differences,
    (Sigma(E + s) - Sigma(E - s)) / 2s, with s = ``step``: an error of order
    s^2 Sigma''' plus rounding ``eps |Sigma| / s``, about 1e-10 relative for
    the default s = 1e-5 eV away from band edges.
    """

    def __init__(
        self,
        function: Callable[..., ArrayLike],
        orbitals: Indices,
        size: int,
        band_edges: Sequence[float] = (),
        fallback: LeadBase | None = None,
        real_only: bool = False,
        step: float = 1e-5,
    ) -> None:
        self.function = function
        self.orbitals = np.asarray(orbitals, dtype=int).reshape(-1)
        self._size = int(size)
        if self.orbitals.size and (self.orbitals.min() < 0 or self.orbitals.max() >= self._size):
            raise InputError(f"orbitals must lie in [0, {self._size}), got {self.orbitals.tolist()}")
        self._support = np.unique(self.orbitals)
        if self._support.size != self.orbitals.size:
            raise InputError(f"orbitals must be distinct (one row of Sigma each), got {self.orbitals.tolist()}")
        self._rows = np.searchsorted(self._support, self.orbitals)  # row of Sigma -> position in support
        self.band_edges = tuple(band_edges)
        self.fallback = None if fallback is None else as_lead(fallback, "fallback", self._size)
        if self.fallback is not None:
            outside = np.setdiff1d(self.fallback.support, self._support)
            if outside.size:
                raise InputError(
                    f"fallback couples to orbitals {outside.tolist()} outside orbitals {self.orbitals.tolist()}"
                )
            self._fallback_rows = np.searchsorted(self._support, self.fallback.support)
        self.real_only = bool(real_only)
        self.step = check_positive("step", step, "eV")

    @property
    def size(self) -> int:
        """Number N of device orbitals."""
        return self._size

    @property
    def support(self) -> IndexArray:
        """The sorted ``orbitals``."""
        return self._support

    def _one(self, e):
        if self.real_only and complex(e).imag != 0:
            if self.fallback is None:
                raise InputError("energy: this lead's self-energy is defined on the real axis only")
            return None
        s = np.asarray(self.function(e), dtype=complex)
        n = self.orbitals.size
        if s.shape != (n, n):
            raise InputError(f"self-energy function returned shape {s.shape}, expected {(n, n)}")
        return s

    def self_energy_block(self, energy: ArrayLike) -> ComplexArray:
        """Sigma(E) on ``support`` in eV, shape energy.shape + (n_s, n_s)."""
        e = check_energies(energy)
        flat = e.reshape(-1)
        n = self._support.size
        out = np.zeros((flat.size, n, n), dtype=complex)
        rows = self._rows
        fallback = []
        for k, z in enumerate(flat):
            s = self._one(z.real if np.isrealobj(flat) or z.imag == 0 else z)
            if s is None:
                fallback.append(k)
            else:
                out[k][np.ix_(rows, rows)] = s
        if fallback:
            assert self.fallback is not None  # _one returns None only when there is one
            fr = self._fallback_rows
            out[np.ix_(np.asarray(fallback), fr, fr)] = self.fallback.self_energy_block(flat[fallback])
        return out.reshape(e.shape + (n, n))

    def self_energy_derivative_block(self, energy: ArrayLike) -> ComplexArray:
        """dSigma/dE on ``support`` (dimensionless) by central differences (see Notes)."""
        e = check_energies(energy)
        s = self.step
        return (self.self_energy_block(e + s) - self.self_energy_block(e - s)) / (2 * s)

    def __repr__(self):
        return f"SelfEnergyLead(size={self.size}, orbitals={self.orbitals.tolist()})"
