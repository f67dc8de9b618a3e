"""Leads: semi-infinite reservoirs seen by the device through a self-energy.

Every lead subclasses :class:`LeadBase` (the protocol, in
:mod:`currentforces.leads.base`) and so offers one interface (the Kwant
idea: a solver needs nothing else)::

    lead.size                             # N, number of device orbitals
    lead.support                          # device orbitals the lead couples to
    lead.self_energy_block(E)             # Sigma(E) on support only, (..., n_s, n_s), eV
    lead.self_energy_derivative_block(E)  # d Sigma / dE on support only
    lead.self_energy(E)                   # Sigma(E), shape (..., N, N), device basis
    lead.self_energy_derivative(E)        # d Sigma / dE, (..., N, N)
    lead.broadening(E)                    # Gamma(E) = i (Sigma - Sigma^dagger)
    lead.band_edges                       # energies where Sigma is not smooth

``E`` is a scalar or an array of energies in eV, real (the retarded
branch, E + i0) or complex in the upper half plane (contour points).

The leads, one module each: :class:`WideBandLead`
(:mod:`~currentforces.leads.wideband`), :class:`ChainLead`
(:mod:`~currentforces.leads.chain`) and the general periodic :class:`Lead`
(:mod:`~currentforces.leads.periodic`, with the decimation and the Newton
refinement of its surface Green's function in
:mod:`~currentforces.leads.decimation` and :mod:`~currentforces.leads.newton`).
"""

from __future__ import annotations

from ..errors import SelfEnergyAccuracyWarning  # re-exported: its old home
from .base import EDGE_RTOL, FLAT_BAND_RTOL, LeadBase, as_lead, broadening_from_self_energy
from .chain import ChainLead, chain_surface_green
from .periodic import Lead
from .wideband import WideBandLead

__all__ = [
    "LeadBase",
    "Lead",
    "ChainLead",
    "WideBandLead",
    "as_lead",
    "broadening_from_self_energy",
    "chain_surface_green",
    "SelfEnergyAccuracyWarning",
    "EDGE_RTOL",
    "FLAT_BAND_RTOL",
]
