"""Window breakpoints: rows of overlapping resonances (the Fabry-Perot
levels of a long, weakly reflecting device) get no grading of their own,
degenerate poles are graded once, chemical potentials closer than k_B T
share their thermal points, and the window integrals stay exact.

Model: a perfect chain of n sites between chain leads of the same hopping t
on the block-tridiagonal backend.  Its G is that of the infinite chain, with
no poles near the real axis inside the band; T(E) = 1 there, so the Landauer
current is exactly g_s (e^2/h) V when the thermal window lies in the band
(the integral of n_L - n_R over E is mu_L - mu_R).  The sparse pole search
of a long device nevertheless returns rows of eigenvalues of h + Sigma(E_j)
near each reference energy E_j, some ten times wider than their spacing.
"""

import math

import numpy as np
import scipy.sparse as sp

from currentforces import ChainLead, Junction
from currentforces.integrate import graded_breakpoints
from currentforces.resonances import overlapping
from currentforces.units import CONDUCTANCE_QUANTUM_SPINLESS, KB

from junctionhelpers import chain_junction


def test_overlapping_flags_rows_only():
    # Definition (resonances.overlapping): a distinct pole of comparable width
    # (w/2 ... 2w) within w on each side.  A row of 11 poles spaced w/2: the
    # 9 inner ones overlap, the two ends do not (their grading brackets the row).
    w = 1e-3
    row = 0.3 + 0.5 * w * np.arange(11)
    assert overlapping(row, np.full(11, w)).tolist() == [False] + [True] * 9 + [False]
    # a degenerate pair (equal centres up to round-off) is one sharp peak, and
    # so is a pair split by less than its width: no neighbour on both sides
    assert not overlapping([0.3, 0.3 + 1e-16, 0.3 + 0.5 * w], [w, w, w]).any()
    # a narrow pole between much broader ones close by stands out as a peak
    assert not overlapping([0.3 - 0.5 * w, 0.3, 0.3 + 0.5 * w], [10 * w, w, 10 * w])[1]
    # poles spaced more than their widths apart are isolated peaks
    assert not overlapping(0.3 + 2 * w * np.arange(5), np.full(5, w)).any()
    # bound states (w = 0) never overlap
    assert not overlapping([0.1, 0.1 + 1e-9, 0.1 - 1e-9], [0.0, 0.0, 0.0]).any()


def test_degenerate_peaks_are_graded_once():
    # Two channels of a symmetric wire give the same pole twice, equal up to
    # round-off: graded as one peak (before: every point twice, a few ulps
    # apart, each pair a panel of zero width costing 15 evaluations).
    c, w = -1.2091062005619952, 4.85e-3
    one = graded_breakpoints(-2.0, 0.0, [c], [w], 8.0)
    two = graded_breakpoints(-2.0, 0.0, [c, c - 6.7e-16], [w, w * (1 + 1e-14)], 8.0)
    assert two.size == one.size
    assert np.min(np.diff(two)) >= w


def _perfect_chain(n):
    h = sp.diags([np.ones(n - 1), np.ones(n - 1)], [1, -1], format="csr") * -1.0
    cl, cr = np.zeros(n), np.zeros(n)
    cl[0], cr[-1] = -1.0, -1.0
    return Junction(h, [ChainLead(-1.0, cl), ChainLead(-1.0, cr)], solver="rgf")


def test_long_chain_grades_the_ends_of_its_rows_only(tol):
    # 2000 sites: the sparse pole search (resonances.device_poles) returns 5
    # rows of 24 poles, half-widths 3-6 meV (narrow: below 0.005 of the 3 eV
    # window) spaced 2-3 meV.  Graded one by one they gave 132 breakpoints;
    # only the two ends of each row keep their grading now.
    j = _perfect_chain(2000)
    bias, temperature = 1.0, 300.0
    mus = j.chemical_potentials(bias, 0.0, None)
    pts = j.window_breakpoints(mus, temperature)
    centers, widths = j.resonances(pts[0], pts[-1])
    inner = overlapping(centers, widths)
    assert centers.size >= 100 and np.count_nonzero(~inner) <= 12
    assert pts.size < 60
    # G(E -+ hbar w) at finite frequency: the rows copied to eps -+ 0.01 eV
    # overlap the rows themselves and are tested and graded with them (338
    # breakpoints before; graded shift by shift, about 170)
    assert j.window_breakpoints(mus, temperature, shifts=(0.01, -0.01)).size < 70
    # no pole is seen on the real axis: T(E) = 1, the current is g_s (e^2/h) V
    current = j.current(bias, temperature=temperature)
    exact = 2 * CONDUCTANCE_QUANTUM_SPINLESS * bias
    assert math.isclose(current, exact, rel_tol=tol["default_quad"])


def test_thermal_points_per_group_of_close_chemical_potentials(tol):
    # At 1000 K (k_B T = 86 meV) the potentials of a 0.05 V bias and their
    # copies 0.01 eV lower (finite frequency) are all within k_B T of each
    # other: one group, graded 4 and 12 k_B T beyond its ends (before: the
    # same four points around each of the 4 potentials, panels a fraction of
    # k_B T wide where every Fermi function is smooth).
    j = chain_junction(6, hopping=-3.0)  # band -6 ... 6 eV: T(E) = 1 over the window
    temperature, bias = 1000.0, 0.05
    kt = KB * temperature
    mus = [0.025, -0.025]
    steps = [*mus, mus[0] - 0.01, mus[1] - 0.01]
    pts = j.window_breakpoints(steps, temperature)
    lo, hi = pts[0], pts[-1]
    a, b = min(steps), max(steps)
    expected = [lo, a - 12 * kt, a - 4 * kt, *sorted(steps), b + 4 * kt, b + 12 * kt, hi]
    assert np.allclose(pts, expected, rtol=0, atol=tol["exact"])
    # exact on the coarser breakpoints: T(E) = 1 gives g_s (e^2/h) V
    current = j.current(bias, temperature=temperature)
    exact = 2 * CONDUCTANCE_QUANTUM_SPINLESS * bias
    assert math.isclose(current, exact, rel_tol=tol["default_quad"])
