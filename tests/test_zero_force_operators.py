"""Regressions (issue 10, item 1): force operators that are identically zero.

A mode whose force operator vanishes (the transverse s-band forces of a
straight chain) must get exactly zero rows and columns in K, L and the noise,
and must not change the coefficients of the other modes.  Before the fix the
sparse trace route summed mode blocks with ``np.add.reduceat`` at repeated
start indices, which copies the neighbouring block instead of giving zero,
and a zero operator placed last raised IndexError.
"""

import numpy as np
import pytest

from currentforces import force_coefficients, noise_spectrum
from currentforces.coupling import spectrum_from_junction
from currentforces.dynamics.modes import analyze_modes
from currentforces.models.chain import chain_force_operators, chain_junction
from currentforces.models.presets import gold_chain

from junctionhelpers import on_solver

COEFFICIENTS = ("K", "L", "K_current", "L_current")


def _coefficients(junction, forces):
    return force_coefficients(junction, forces, bias=0.3, fermi_level=0.2, temperature=300.0)


@pytest.mark.parametrize("zero_at", [0, 1, 2], ids=["first", "middle", "last"])
def test_zero_operator_leaves_other_modes_unchanged_and_has_zero_rows(zero_at, solver, tol):
    # The reproduction of the issue: chain_force_operators(10, beta=0.2,
    # atoms=[4, 5]); before the fix [f0, 0, f1] gave L[0, 1] = 0.0084 instead
    # of 0, and [f0, f1, 0] raised "IndexError ... add.reduceat".
    # Expected values: every coefficient is an integral of Tr[f_a X f_b Y],
    # so the (a, b) entry depends on f_a and f_b only (the [f0, f1] run), and
    # a row or column with f = 0 vanishes identically.  The integrands of the
    # shared entries are the same functions and the zero entries add nothing
    # to the error estimate, so the quadrature takes the same path: agreement
    # to round-off (rtol 1e-13, tighter than tol["exact"]), far below the
    # quadrature tolerance.  On both backends.
    roundoff = 0.1 * tol["exact"]
    junction = on_solver(chain_junction(10), solver)
    f0, f1 = chain_force_operators(10, beta=0.2, atoms=[4, 5])
    forces = [f0, f1]
    forces.insert(zero_at, np.zeros((10, 10)))
    keep = [a for a in range(3) if a != zero_at]
    ref = _coefficients(junction, [f0, f1])
    got = _coefficients(junction, forces)
    assert np.max(np.abs(ref.L)) > 1e-2  # the reference is not trivially zero (|L| = 0.034 here)
    for name in COEFFICIENTS:
        r, g = np.asarray(getattr(ref, name)), np.asarray(getattr(got, name))
        np.testing.assert_allclose(g[np.ix_(keep, keep)], r, rtol=roundoff, atol=0, err_msg=name)
        assert np.all(g[zero_at, :] == 0) and np.all(g[:, zero_at] == 0), name
    underflow = 1e-30  # mean-force entries that vanish may differ by round-off of zero
    np.testing.assert_allclose(np.asarray(got.mean_force)[keep], ref.mean_force, rtol=roundoff, atol=underflow)
    assert got.mean_force[zero_at] == 0
    # noise: the same statement for S(omega), whose integrand is a sum of
    # the same traces
    s_ref = noise_spectrum(junction, [f0, f1], 0.05, bias=0.3, fermi_level=0.2)
    s_got = noise_spectrum(junction, forces, 0.05, bias=0.3, fermi_level=0.2)
    np.testing.assert_allclose(s_got[np.ix_(keep, keep)], s_ref, rtol=roundoff, atol=0)
    assert np.all(s_got[zero_at, :] == 0) and np.all(s_got[:, zero_at] == 0)


def test_straight_gold_chain_with_xyz_axes_is_stable_at_zero_bias(tol):
    pytest.importorskip("ase")  # the gold chain preset builds its geometry with ASE (the ase extra)
    # The CLI case of the issue: gold chain, axes = "xyz", at zero bias; it
    # showed a growing mode and the Langevin run failed with "spectrum is not
    # Hermitian".  E_F = 1 eV as in examples/gold_chain.toml (at half filling
    # particle-hole symmetry hid part of the error).
    ef = 1.0
    xyz, z = gold_chain(n_atoms=2, axes="xyz"), gold_chain(n_atoms=2, axes="z")
    s = xyz.system
    along = [i for i, label in enumerate(s.labels) if label.endswith(" z")]
    across = [i for i in range(len(s.labels)) if i not in along]
    assert [s.labels[i] for i in along] == z.system.labels
    c = force_coefficients(s.junction, s.forces, bias=0.0, temperature=300.0, fermi_level=ef)
    cz = force_coefficients(z.system.junction, z.system.forces, bias=0.0, temperature=300.0, fermi_level=ef)
    for name in ("K", "L"):
        m = np.asarray(getattr(c, name))
        # s-band model: dh/dx_i of an s-s hopping h(d) is h'(d) (x_i - x_j)/d
        # = 0 on a straight chain, so the transverse rows/columns vanish ...
        assert np.all(m[across, :] == 0) and np.all(m[:, across] == 0), name
        # ... and the longitudinal block is the axes="z" result (a second,
        # independent set of operators for the same modes; same quadrature)
        np.testing.assert_allclose(
            m[np.ix_(along, along)], getattr(cz, name), rtol=0.1 * tol["exact"], atol=0, err_msg=name
        )
    # equilibrium (zero bias): friction -L^sym is dissipative, L^sym negative
    # semi-definite (seed eqs 40-43), so no mode can grow.  (This CLI case
    # runs on the preset's dense junction: the backends are compared in the
    # test above.)  The mode analysis
    # is the CLI's (job._modes: bare springs with K_current and L).
    assert np.max(np.linalg.eigvalsh(c.friction)) <= tol["exact"] * np.max(np.abs(c.L))
    modes = analyze_modes(s.masses, xyz.spring_constants, c.K_current, c.L)
    assert modes.is_stable, modes.characters
    # the noise spectrum the Langevin run tabulates (job._langevin) is
    # Hermitian (spectrum_from_junction validates it and raised before the fix)
    spectrum = spectrum_from_junction(s.junction, s.forces, 0.1, n_omega=3, bias=0.0, fermi_level=ef)
    table = spectrum(np.array([0.0, 0.05, 0.1]))
    assert np.allclose(table, np.conj(np.swapaxes(table, -1, -2)), rtol=0, atol=tol["roundoff"] * np.max(np.abs(table)))
    assert np.all(table[:, across, :] == 0) and np.all(table[:, :, across] == 0)
