"""Model junctions with closed-form answers, shared by the tests (imported
as ``from junctionhelpers import ...``; conftest.py holds fixtures only)."""

import numpy as np

from currentforces import ChainLead, Junction, WideBandLead


def chain_junction(n_sites=6, hopping=-1.0, onsite=0.0):
    """A perfect chain: n_sites device sites with chain leads of the same
    hopping on both ends (transmission 1 in the band |E - onsite| < 2|t|)."""
    h = onsite * np.eye(n_sites) + hopping * (np.eye(n_sites, k=1) + np.eye(n_sites, k=-1))
    cl = np.zeros(n_sites)
    cr = np.zeros(n_sites)
    cl[0] = hopping
    cr[-1] = hopping
    return Junction(h, [ChainLead(hopping, cl, onsite), ChainLead(hopping, cr, onsite)])


def single_level(eps0=0.2, gamma_l=0.1, gamma_r=0.05):
    """One level between wide-band leads (docs/theory.rst, theory-single-level)."""
    return Junction([[eps0]], [WideBandLead([[gamma_l]]), WideBandLead([[gamma_r]])])
