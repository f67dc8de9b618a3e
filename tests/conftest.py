"""Shared fixtures: model junctions with closed-form answers, and tolerances.

Tolerances live here, in one place (the sisl habit), each with the reason for
its size.
"""

import numpy as np
import pytest

from currentforces import ChainLead, Junction, WideBandLead

TOL = {
    # closed forms evaluated in double precision, no quadrature
    "exact": 1e-12,
    # decimation (eta = 1e-13 scale + Newton polish) against a closed form
    "lead": 1e-10,
    # adaptive quadrature run at rtol = 1e-9 and compared with a closed form
    "quad": 1e-7,
    # two exact solvers of the same linear algebra (dense inverse versus
    # block-tridiagonal recursions), relative to the largest |G|
    "solver": 1e-10,
}


@pytest.fixture
def tol():
    return TOL


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
    """One level between wide-band leads (formulas.md §6.1)."""
    return Junction([[eps0]], [WideBandLead([[gamma_l]]), WideBandLead([[gamma_r]])])


@pytest.fixture
def chain():
    return chain_junction()
