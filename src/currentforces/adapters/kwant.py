r"""Junctions from finalized Kwant systems.

A finalized Kwant system offers exactly what the junction needs (the Kwant
two-level design, C. W. Groth et al., New J. Phys. 16, 063065 (2014)): the
scattering-region Hamiltonian
``fsys.hamiltonian_submatrix()`` and, per lead, its self-energy on the
interface sites ``fsys.lead_interfaces[i]``.  Two routes to the leads:

* ``self_energy="decimation"`` (default): a :class:`~currentforces.Lead`
  from the lead's ``cell_hamiltonian()`` and ``inter_cell_hopping()`` V.
  Kwant's V (cell rows, interface columns) is the hopping from the
  interface sites of one cell into the next cell away from the system, so
  in the Lead geometry (:ref:`theory-periodic-lead`) ``coupling`` = V^dagger on the device
  rows of the interface sites and ``hopping`` = V_full^dagger, V_full being
  V with its columns placed on the cell sites the interface sites are
  images of.  Exact, analytic dSigma/dE, complex energies allowed.
* ``self_energy="kwant"``: Kwant's own ``lead.selfenergy(E)`` at real
  energies (mode matching), the decimation route at complex energies,
  dSigma/dE by central differences.

Kwant needs numpy < 2 and is an optional extra (DEVELOPERS.md); it is
imported only here, when called.  Kwant has no units: energies are taken
as eV.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..junction import Junction
from ..leads import Lead, LeadBase
from ._selfenergy import SelfEnergyLead

__all__ = ["from_kwant"]


def _offsets(norbs):
    norbs = np.asarray(norbs, dtype=int)
    return np.concatenate([[0], np.cumsum(norbs)])


def _site_orbitals(offsets, sites):
    return np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in sites]).astype(int)


def _lead_blocks(lead, params):
    """(h_cell, V_full, V, interface-orbital map) of a finalized Kwant lead."""
    h0 = np.asarray(lead.cell_hamiltonian(params=params), dtype=complex)
    v = np.asarray(lead.inter_cell_hopping(params=params), dtype=complex)
    nsites = lead.graph.num_nodes
    norbs = [lead.sites[k].family.norbs or 1 for k in range(nsites)]
    off = _offsets(norbs)
    cell = [tuple(lead.sites[k].tag) + (lead.sites[k].family,) for k in range(lead.cell_size)]
    cols = []
    for k in range(lead.cell_size, nsites):
        fd = lead.symmetry.to_fd(lead.sites[k])
        key = tuple(fd.tag) + (fd.family,)
        if key not in cell:
            raise InputError("kwant lead: cannot map an interface site to its unit-cell image")
        c = cell.index(key)
        cols.append(np.arange(off[c], off[c + 1]))
    cols = np.concatenate(cols).astype(int)
    n_cell = int(off[lead.cell_size])
    if v.shape != (n_cell, cols.size):
        raise InputError(f"kwant lead: inter_cell_hopping has shape {v.shape}, expected {(n_cell, cols.size)}")
    v_full = np.zeros((n_cell, n_cell), dtype=complex)
    v_full[:, cols] = v
    return h0, v_full, v


def from_kwant(fsys: Any, params: dict[str, Any] | None = None, self_energy: str = "decimation") -> Junction:
    """A :class:`~currentforces.Junction` from a finalized Kwant system.

    Parameters
    ----------
    fsys : kwant.system.FiniteSystem
        Finalized system with its leads (``fsys.leads``), energies in eV.
        Lead order is Kwant's (lead 0 gets mu_0 = E_F + V/2).
    params : dict, optional
        Kwant ``params`` for value functions.
    self_energy : {"decimation", "kwant"}
        Route to the lead self-energies (module docstring).

    Returns
    -------
    Junction
        Device basis: Kwant's orbital order (``hamiltonian_submatrix``).

    Notes
    -----
    Force operators for a Kwant system are matrices in the same orbital
    order: build them by differentiating your value functions, or by
    finite differences of ``hamiltonian_submatrix`` with respect to a
    parameter.
    """
    if self_energy not in ("decimation", "kwant"):
        raise InputError(f"self_energy must be 'decimation' or 'kwant', got {self_energy!r}")
    if not hasattr(fsys, "hamiltonian_submatrix") or not hasattr(fsys, "lead_interfaces"):
        raise InputError(f"fsys must be a finalized Kwant system, got {type(fsys).__name__}")
    out = fsys.hamiltonian_submatrix(params=params, return_norb=True)
    h, norbs = np.asarray(out[0], dtype=complex), np.asarray(out[1], dtype=int)
    n = h.shape[0]
    off = _offsets(norbs)
    leads = []
    for i, (lead, iface) in enumerate(zip(fsys.leads, fsys.lead_interfaces)):
        if not hasattr(lead, "cell_hamiltonian"):
            raise InputError(f"fsys.leads[{i}] is not a periodic Kwant lead (no cell_hamiltonian)")
        rows = _site_orbitals(off, iface)
        h0, v_full, v = _lead_blocks(lead, params)
        if rows.size != v.shape[1]:
            raise InputError(
                f"fsys.leads[{i}]: {rows.size} interface orbitals but the lead hopping has "
                f"{v.shape[1]} interface columns"
            )
        coupling = np.zeros((n, h0.shape[0]), dtype=complex)
        coupling[rows, :] = v.conj().T
        exact: LeadBase = Lead(h0, v_full.conj().T, coupling)
        if self_energy == "kwant":
            exact = SelfEnergyLead(
                lambda e, lead=lead: lead.selfenergy(float(np.real(e)), params=params),
                rows,
                n,
                band_edges=exact.band_edges,
                fallback=exact,
                real_only=True,
            )
        leads.append(exact)
    return Junction(h, leads)
