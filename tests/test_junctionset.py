"""Junction sets: collinear spin channels and spin in the basis (spin-orbit)."""

from __future__ import annotations

import numpy as np
import pytest

from currentforces import ChainLead, InputError, Junction, Lead, force_coefficients, noise_spectrum
from currentforces.junctionset import JunctionSet, spin_channels

S0 = np.eye(2)
SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]])
SZ = np.diag([1.0, -1.0])


def _channel(shift, solver):
    """One spin channel: a 4-site chain whose on-site energies the exchange field shifts by +-shift."""
    h = np.diag([0.2 + shift, -0.1 - shift, 0.3 + shift, 0.0]) - (np.eye(4, k=1) + np.eye(4, k=-1))
    return Junction(h, [ChainLead(-1.0, [-1.0, 0, 0, 0]), ChainLead(-1.0, [0, 0, 0, -1.0])], solver=solver)


def _bond_forces(n=4, beta=0.8):
    out = []
    for i in range(n - 1):
        f = np.zeros((n, n))
        f[i, i + 1] = f[i + 1, i] = -beta
        out.append(f)
    return out


def test_spin_channels_are_the_sum_of_two_spinless_runs(solver, tol):
    # expected: two independent channels with g_s = 1 each; every result is
    # the sum of two spinless (spin=1) runs of the channel junctions
    up, down = _channel(0.15, solver), _channel(-0.15, solver)
    s = spin_channels(up, down)
    fs = _bond_forces()
    e = np.array([-0.7, 0.1, 0.9])
    np.testing.assert_allclose(s.transmission(e), up.transmission(e) + down.transmission(e), rtol=tol["exact"])
    assert s.current(0.3) == pytest.approx(up.current(0.3, spin=1) + down.current(0.3, spin=1), rel=tol["exact"])
    rho = s.density_matrix(0.2)
    np.testing.assert_allclose(
        rho, up.density_matrix(0.2, spin=1) + down.density_matrix(0.2, spin=1), atol=tol["exact"]
    )
    c = force_coefficients(s, fs, bias=0.2, temperature=0.0)
    cu = force_coefficients(up, fs, bias=0.2, temperature=0.0, spin=1)
    cd = force_coefficients(down, fs, bias=0.2, temperature=0.0, spin=1)
    for name in ("mean_force", "K", "L", "K_current", "L_current", "mean_force_current"):
        np.testing.assert_allclose(getattr(c, name), getattr(cu, name) + getattr(cd, name), atol=tol["exact"])
    assert c.spin == 1
    n = noise_spectrum(s, fs, 0.05, bias=0.2)
    nu = noise_spectrum(up, fs, 0.05, bias=0.2, spin=1)
    nd = noise_spectrum(down, fs, 0.05, bias=0.2, spin=1)
    np.testing.assert_allclose(n, nu + nd, atol=tol["exact"] * np.abs(n).max())
    # per-channel access: by label, and resolved results in member order
    assert s["up"] is up and s["down"] is down
    per = s.resolved(force_coefficients, fs, temperature=0.0)
    np.testing.assert_allclose(per[0].mean_force, force_coefficients(up, fs, temperature=0.0, spin=1).mean_force)


def test_unpolarised_channels_equal_the_spin_degenerate_junction(solver, tol):
    # expected: with no exchange field the two channels are the same junction,
    # so the set equals one junction at spin=2 (the g_s = 2 convention)
    j = _channel(0.0, solver)
    s = spin_channels(j, j)
    fs = _bond_forces()
    c2 = force_coefficients(j, fs, temperature=0.0)
    cs = force_coefficients(s, fs, temperature=0.0)
    np.testing.assert_allclose(cs.K, c2.K, atol=tol["exact"])
    assert s.current(0.1) == pytest.approx(j.current(0.1), rel=tol["exact"])


def test_a_set_refuses_a_spin_that_contradicts_its_own():
    s = spin_channels(_channel(0.1, "dense"), _channel(-0.1, "dense"))
    with pytest.raises(InputError, match="spin"):
        force_coefficients(s, _bond_forces(), spin=2)
    with pytest.raises(InputError, match="spin"):
        s.current(0.1, spin=2)


def test_bad_sets_are_named_errors():
    j = _channel(0.0, "dense")
    with pytest.raises(InputError, match="weights"):
        JunctionSet([j, j], weights=[1.0, -1.0])
    with pytest.raises(InputError, match="labels"):
        JunctionSet([j, j], labels=["a", "a"])
    with pytest.raises(InputError, match="junctions"):
        JunctionSet([j, "not a junction"])
    with pytest.raises(InputError, match="junctions"):
        JunctionSet([])
    with pytest.raises(InputError, match="forces: a callable"):
        # operators per key belong to a set; one Junction takes the operators
        force_coefficients(j, lambda key: _bond_forces())
    with pytest.raises(InputError, match="forces: a callable"):
        noise_spectrum(j, lambda key: _bond_forces(), 0.1)
    with pytest.raises(InputError, match="set of junctions"):
        # a function that takes one Junction names the set it got
        from currentforces import fermi_sea_part

        fermi_sea_part(spin_channels(j, j), _bond_forces())


def soc_ring(zeeman=0.0, t=-1.0, lam=0.3, solver="dense"):
    """A four-site ring (0-1-2-3 and 0-2) with spin-orbit hoppings t + i lam sigma_b,
    sigma_b along x, y, x, z on the four bonds; 2N x 2N complex, spin in the
    basis (orbital-major).  A Zeeman field zeeman*sigma_z on site 1 breaks
    time reversal."""
    n = 4
    h = np.zeros((2 * n, 2 * n), dtype=complex)
    for i, e in enumerate((0.2, -0.1, 0.3, 0.0)):
        h[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = e * S0 + (zeeman * SZ if i == 1 else 0)
    for i, j, s in [(0, 1, SX), (1, 2, SY), (2, 3, SX), (0, 2, SZ)]:
        hop = t * S0 + 1j * lam * s
        h[2 * i : 2 * i + 2, 2 * j : 2 * j + 2] = hop
        h[2 * j : 2 * j + 2, 2 * i : 2 * i + 2] = hop.conj().T
    leads = []
    for rows in (slice(0, 2), slice(2 * n - 2, 2 * n)):
        c = np.zeros((2 * n, 2), dtype=complex)
        c[rows] = t * S0
        leads.append(Lead(np.zeros((2, 2)), t * S0, c))
    forces = []
    for i, j in [(0, 1), (1, 2), (0, 2)]:
        f = np.zeros((n, n))
        f[i, j] = f[j, i] = -0.8
        forces.append(np.kron(f, S0))  # a bond stretch acts on both spins alike
    return JunctionSet([Junction(h, leads, solver=solver)], spin=1), forces


def test_spin_orbit_time_reversal_no_berry_or_curl_at_zero_bias(solver, tol):
    # expected: with spin-orbit coupling and no magnetic field the Hamiltonian
    # is time-reversal invariant (Kramers, Theta = i sigma_y K) and the forces
    # are spin independent, so at zero bias the Berry force (antisymmetric L)
    # vanishes; K is symmetric at equilibrium (the Hessian of a free energy)
    s, fs = soc_ring(solver=solver)
    c = force_coefficients(s, fs, temperature=300.0, fermi_level=0.3)
    assert c.spin == 1
    assert np.abs(c.berry).max() <= tol["exact"] * np.abs(c.friction).max()
    assert np.abs(c.nonconservative).max() <= tol["exact"] * np.abs(c.K).max()
    # control: a Zeeman field breaks time reversal and a Berry force appears
    z, _ = soc_ring(zeeman=0.4, solver=solver)
    cz = force_coefficients(z, fs, temperature=300.0, fermi_level=0.3)
    assert np.abs(cz.berry).max() >= tol["visible"] * np.abs(cz.friction).max()


def test_sets_parallelise_over_members(tol):
    # expected: the threads backend runs the same serial code per member
    up, down = _channel(0.15, "dense"), _channel(-0.15, "dense")
    fs = _bond_forces()
    serial = force_coefficients(spin_channels(up, down), fs, temperature=0.0)
    threaded = force_coefficients(spin_channels(up, down, backend="threads", workers=2), fs, temperature=0.0)
    np.testing.assert_allclose(threaded.K, serial.K, atol=tol["roundoff"])
