"""A lead given by an external self-energy function (sisl, Kwant, ...)."""

from __future__ import annotations

import numpy as np

from .._checks import check_positive
from ..errors import InputError
from ..leads import LeadBase, _as_energies

__all__ = ["SelfEnergyLead"]


class SelfEnergyLead(LeadBase):
    r"""Wrap a callable Sigma(E) on a few device orbitals as a lead.

    Parameters
    ----------
    function : callable
        ``function(E)`` -> (n, n) self-energy in eV for one energy E (eV).
    orbitals : (n,) array_like of int
        Device orbitals the self-energy acts on, in the order of its rows.
    size : int
        Number of device orbitals N.
    band_edges : sequence of float
        Energies (eV) where Sigma is not smooth (quadrature breakpoints).
    fallback : lead, optional
        Lead used for energies ``function`` cannot take (complex energies,
        when ``real_only``).
    real_only : bool
        ``function`` accepts only real energies.
    step : float
        Central-difference step (eV) of :meth:`self_energy_derivative`.

    Notes
    -----
    dSigma/dE is taken by central differences,
    (Sigma(E + s) - Sigma(E - s)) / 2s, with s = ``step``: an error of order
    s^2 Sigma''' plus rounding ``eps |Sigma| / s``, about 1e-10 relative for
    the default s = 1e-5 eV away from band edges.
    """

    def __init__(self, function, orbitals, size, band_edges=(), fallback=None, real_only=False, step=1e-5):
        self.function = function
        self.orbitals = np.asarray(orbitals, dtype=int).reshape(-1)
        self.size = int(size)
        if self.orbitals.size and (self.orbitals.min() < 0 or self.orbitals.max() >= self.size):
            raise InputError(f"orbitals must lie in [0, {self.size}), got {self.orbitals.tolist()}")
        self.support = np.unique(self.orbitals)
        self.band_edges = tuple(band_edges)
        self.fallback = fallback
        self.real_only = bool(real_only)
        self.step = check_positive("step", step, "eV")

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

    def self_energy(self, energy):
        """Sigma(E) in eV, shape energy.shape + (N, N)."""
        e = _as_energies(energy)
        flat = e.reshape(-1)
        out = np.zeros((flat.size, self.size, self.size), dtype=complex)
        idx = self.orbitals
        fallback = []
        for k, z in enumerate(flat):
            s = self._one(z.real if np.isrealobj(flat) or z.imag == 0 else z)
            if s is None:
                fallback.append(k)
            else:
                out[k][np.ix_(idx, idx)] = s
        if fallback:
            out[fallback] = self.fallback.self_energy(flat[fallback])
        return out.reshape(e.shape + (self.size, self.size))

    def self_energy_derivative(self, energy):
        """dSigma/dE (dimensionless) by central differences (see Notes)."""
        e = _as_energies(energy)
        s = self.step
        return (self.self_energy(e + s) - self.self_energy(e - s)) / (2 * s)

    def __repr__(self):
        return f"SelfEnergyLead(size={self.size}, orbitals={self.orbitals.tolist()})"
