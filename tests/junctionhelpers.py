"""Model junctions with closed-form answers, shared by the tests (imported
as ``from junctionhelpers import ...``; conftest.py holds fixtures only)."""

import numpy as np

from currentforces import ChainLead, Junction, WideBandLead


def on_solver(junction, solver):
    """The same device and leads on the Green's-function backend ``solver``
    ("dense" or "rgf"; the RGF layers follow from the sparsity of h, starting
    at the first lead's orbitals).  For the model builders of
    ``currentforces.models`` that take no ``solver`` keyword."""
    if solver == "dense" and junction.solver.dense:
        return junction
    return Junction(junction.hamiltonian, junction.leads, solver=solver)


def chain_junction(n_sites=6, hopping=-1.0, onsite=0.0, solver="dense"):
    """A perfect chain: n_sites device sites with chain leads of the same
    hopping on both ends (transmission 1 in the band |E - onsite| < 2|t|)."""
    h = onsite * np.eye(n_sites) + hopping * (np.eye(n_sites, k=1) + np.eye(n_sites, k=-1))
    cl = np.zeros(n_sites)
    cr = np.zeros(n_sites)
    cl[0] = hopping
    cr[-1] = hopping
    return Junction(h, [ChainLead(hopping, cl, onsite), ChainLead(hopping, cr, onsite)], solver=solver)


def single_level(eps0=0.2, gamma_l=0.1, gamma_r=0.05, solver="dense"):
    """One level between wide-band leads (docs/theory.rst, theory-single-level)."""
    return Junction([[eps0]], [WideBandLead([[gamma_l]]), WideBandLead([[gamma_r]])], solver=solver)
