"""Shared fixtures: the Green's-function backend, model junctions with
closed-form answers, and tolerances.

The junction builders live in :mod:`junctionhelpers` (test modules import
them from there, never from this file).

Tolerances live here, in one place (the sisl habit), each with the reason for
its size.  A test whose tolerance follows from its own setting (a
finite-difference step, an expansion order, a model approximation) names it
in place and derives it in a comment.
"""

import pytest

from junctionhelpers import chain_junction

TOL = {
    # a matrix Hermitian by construction ((X + X^dagger)/2, or a sum of a
    # term and its adjoint), entries of order one: last-bit noise only
    "roundoff": 1e-14,
    # closed forms and exact identities evaluated in double precision, no
    # quadrature (relative to the largest entry where the entries are not O(1))
    "exact": 1e-12,
    # decimation (eta = 1e-13 scale + Newton polish) against a closed form
    "lead": 1e-10,
    # two exact solvers of the same linear algebra (dense inverse versus
    # block-tridiagonal recursions), relative to the largest |G|
    "solver": 1e-10,
    # two spectra of the same lead-pair integrand (or sums of its parts)
    # integrated at rtol 1e-10 on the same breakpoints: they differ by the
    # requested rtol at most, relative to the largest entry
    "same_integrand": 1e-10,
    # the library's quadrature at rtol 1e-10 or 1e-11 against a closed form
    # or an independent integral at rtol <= 1e-10: the requested rtol with a
    # factor 10 for accumulation over the subintervals
    "tight_quad": 1e-9,
    # the library's default rtol 1e-8: a result at default settings against
    # another one or a closed form
    "default_quad": 1e-8,
    # adaptive quadrature run at rtol = 1e-9 and compared with a closed form
    "quad": 1e-7,
    # an effect a test claims to see (a curl, a Berry force, an asymmetry)
    # must be at least this fraction of its scale: far above every tolerance
    # above, so "present" and "zero to tolerance" cannot both pass
    "visible": 1e-3,
}


@pytest.fixture
def tol():
    return TOL


@pytest.fixture(params=["dense", "rgf"])
def solver(request):
    """The Green's-function backend a physics test runs on: the dense inverse
    or the block-tridiagonal recursions (``Junction(..., solver=...)``).
    Every closed form, sum rule and symmetry must hold on both."""
    return request.param


@pytest.fixture
def chain():
    return chain_junction()
