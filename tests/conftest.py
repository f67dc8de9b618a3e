"""Shared fixtures: model junctions with closed-form answers, and tolerances.

The junction builders live in :mod:`junctionhelpers` (test modules import
them from there, never from this file).

Tolerances live here, in one place (the sisl habit), each with the reason for
its size.
"""

import pytest
from junctionhelpers import chain_junction

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


@pytest.fixture
def chain():
    return chain_junction()
