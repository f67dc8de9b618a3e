"""integrate.gauss_legendre: the one fixed-order Gauss-Legendre rule of the models."""

import math

import numpy as np
import pytest

from currentforces.errors import InputError
from currentforces.integrate import gauss_legendre


@pytest.mark.parametrize("nodes", [1, 2, 5, 16])
def test_exact_up_to_degree_2n_minus_1_on_every_interval(nodes):
    # An n-point Gauss-Legendre rule integrates polynomials of degree <= 2n - 1
    # exactly (Abramowitz and Stegun 25.4.29); on a composite grid with a
    # repeated breakpoint (an empty interval, skipped) the sum over the pieces
    # must give the antiderivative x^(k+1)/(k+1) between the outer ends.
    x, w = gauss_legendre(nodes, (-0.5, 0.25, 0.25, 2.0))
    for k in range(2 * nodes):
        exact = (2.0 ** (k + 1) - (-0.5) ** (k + 1)) / (k + 1)
        assert np.isclose(w @ x**k, exact, rtol=1e-13, atol=1e-13)
    # Degree 2n on [-1, 1] misses by the Gauss remainder (A&S 25.4.30 with
    # f^(2n) = (2n)!): 2/(2n+1) - sum = 2^(2n+1) (n!)^4 / ((2n+1) ((2n)!)^2).
    x, w = gauss_legendre(nodes)
    n = nodes
    remainder = 2.0 ** (2 * n + 1) * math.factorial(n) ** 4 / ((2 * n + 1) * math.factorial(2 * n) ** 2)
    assert np.isclose(2.0 / (2 * n + 1) - w @ x ** (2 * n), remainder, rtol=1e-6, atol=1e-15)


def test_default_interval_and_node_placement():
    # the plain rule on [-1, 1]: numpy's leggauss is the reference
    x, w = gauss_legendre(8)
    xr, wr = np.polynomial.legendre.leggauss(8)
    assert np.allclose(x, xr, rtol=0, atol=1e-15) and np.allclose(w, wr, rtol=0, atol=1e-15)
    # no node on a breakpoint (kinks and integrable end-point singularities sit there)
    x, w = gauss_legendre(7, (0.0, 1.0, 3.0))
    assert x.size == 14 and np.all((x > 0) & (x < 3) & (x != 1.0))
    assert np.isclose(w.sum(), 3.0, rtol=1e-14)  # the total length


@pytest.mark.parametrize(
    "nodes, breaks, match",
    [
        (0, (0, 1), "nodes"),
        (2.5, (0, 1), "nodes"),
        ("4", (0, 1), "nodes"),
        (4, (1.0,), "breakpoints"),
        (4, (0.0, np.inf), "breakpoints"),
        (4, (0.0, 2.0, 1.0), "non-decreasing"),
    ],
)
def test_bad_input_names_the_argument(nodes, breaks, match):
    with pytest.raises(InputError, match=match):
        gauss_legendre(nodes, breaks)
