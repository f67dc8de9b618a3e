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

from currentforces import ChainLead, Junction, low_bias_coefficients
from currentforces.fermi_steps import smooth_steps
from currentforces.integrate import THERMAL_CUTOFF, graded_breakpoints
from currentforces.low_bias import _narrow_resonances
from currentforces.models.chain import chain_force_operators
from currentforces.resonances import in_rows, overlapping
from currentforces.units import CONDUCTANCE_QUANTUM_SPINLESS, HBAR, KB

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
    # in_rows: the overlapping poles and the two ends of their row; an
    # isolated pole, a degenerate pair or a pair split by less than its width
    # (no overlapping pole among them) are not in a row
    assert in_rows(row, np.full(11, w)).all()
    assert not in_rows(np.append(row, 0.5), np.full(12, w))[-1]
    assert not in_rows([0.3, 0.3 + 1e-16, 0.3 + 0.5 * w], [w, w, w]).any()
    assert not in_rows(0.3 + 2 * w * np.arange(5), np.full(5, w)).any()


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


def test_rows_are_no_sharp_features_of_the_thermal_rules(tol):
    # The low-bias thermal average and the low-temperature Fermi-step rule ask
    # for the poles near E_F that are sharp on the scale k_B T; the rows of the
    # 2000-site chain (poles of h + Sigma(E_j), none of them a pole of G) are
    # not, ends included (resonances.in_rows).  Before: 96 "narrow resonances"
    # sent low_bias_coefficients at 300 K to the adaptive route, and the rows
    # kept every Fermi step thermal (the current at 300 K took 660 energies,
    # 55 now, the same as at 30 K).
    n, beta, mu, temperature = 2000, 0.5, 0.3, 300.0
    j = _perfect_chain(n)
    reach = THERMAL_CUTOFF * KB * temperature
    assert _narrow_resonances(j, mu, temperature) == []
    assert smooth_steps([mu], KB * temperature, j._step_singularities(mu - reach, mu + reach))[0]
    # perfect chain: the friction 2 hbar beta^2/(pi t^2) at every energy of
    # the band (module docstring of low_bias), so also its thermal average
    # (the band edges +-2 eV lie beyond 0.3 eV +- 40 k_B T); the Gauss rules
    forces = [sp.csr_matrix(f) for f in chain_force_operators(n, beta, atoms=[n // 2 - 7])]
    c = low_bias_coefficients(j, forces, fermi_level=mu, temperature=temperature, spin=1, rtol=1e-8)
    exact = -2 * HBAR * beta**2 / math.pi
    assert math.isclose(c.friction[0, 0], exact, rel_tol=tol["default_quad"])
    assert c.evaluations <= sum((4, 8, 16, 32))
    # Landauer: T(E) = 1 in the window, the current is g_s (e^2/h) V exactly,
    # now with both Fermi steps taken at T = 0 plus their thermal corrections
    count = [0]
    integrand = j.solver.current_integrand

    def counted(e, *args, **kwargs):
        count[0] += np.size(e)
        return integrand(e, *args, **kwargs)

    j.solver.current_integrand = counted
    bias = 0.2
    current = j.current(bias, temperature=temperature, fermi_level=mu)
    assert math.isclose(current, 2 * CONDUCTANCE_QUANTUM_SPINLESS * bias, rel_tol=tol["default_quad"])
    assert count[0] < 200
