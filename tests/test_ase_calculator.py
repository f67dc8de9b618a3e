"""The ASE calculator under bias: its forces and K, L against direct calls of
force_coefficients at the same geometry, a FIRE relaxation under bias, and
the zero-bias mean force against the gradient of the grand potential."""

import numpy as np
import pytest
from scipy.integrate import quad

ase = pytest.importorskip("ase")
from ase.calculators.calculator import PropertyNotImplementedError  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from ase.constraints import FixAtoms  # noqa: E402
from ase.optimize import FIRE  # noqa: E402

from currentforces import InputError, force_coefficients  # noqa: E402
from currentforces.ase_calculator import (  # noqa: E402
    CurrentCarryingCalculator,
    HamiltonianBuilder,
    TightBindingBuilder,
)
from currentforces.models.atomistic import atomistic_junction, device_hamiltonian, spring_force_constants  # noqa: E402
from currentforces.models.presets import chain_atoms  # noqa: E402
from currentforces.models.tight_binding import SBandModel  # noqa: E402

MODEL = SBandModel(t0=1.7, beta=0.8, d0=2.5, cutoff=3.0)
LEAD_BOND = 2.88
MOVABLE = [1, 2]
EF = 0.3  # eV, inside the lead band [-2|t|, 2|t|], |t| = 1.25 eV


def _chain():
    """Two gold atoms between s-band chain electrodes, one electrode atom of
    each side in the device (fixed); the two chain atoms move."""
    device, left, right = chain_atoms("Au", 2, 2.5, LEAD_BOND, buffer=1)
    return device, left, right


def _displaced(device, seed=1):
    """The chain with its movable atoms moved off the straight line, so that
    every Cartesian component of the forces is non-zero."""
    rng = np.random.default_rng(seed)
    atoms = device.copy()
    atoms.positions[MOVABLE] += 0.05 * rng.standard_normal((len(MOVABLE), 3))
    return atoms


def _direct(atoms, left, right, **kw):
    """The independent route: the junction at this geometry and force_coefficients on it."""
    system = atomistic_junction(atoms, left, right, MODEL, movable=MOVABLE, axes="xyz")
    return system, force_coefficients(system.junction, system.forces, **kw)


@pytest.mark.parametrize("part", ["full", "current"])
def test_forces_are_the_mean_force_plus_the_bare_forces(part):
    device, left, right = _chain()
    atoms = _displaced(device)
    kw = dict(bias=0.4, temperature=300.0, fermi_level=EF)
    atoms.calc = CurrentCarryingCalculator(
        TightBindingBuilder(left, right, MODEL, MOVABLE), bare=EMT(), mean_force=part, **kw
    )
    got = atoms.get_forces()
    # expected: EMT's own forces at the same geometry plus the mean force of
    # force_coefficients on the junction built directly there
    bare = atoms.copy()
    bare.calc = EMT()
    system, c = _direct(atoms, left, right, **kw)
    expected = bare.get_forces()
    f0 = c.mean_force if part == "full" else c.mean_force_current
    for (a, ax), f in zip(system.coordinates, f0):
        expected[a, ax] += f
    # the check sees the electronic force: far above the tolerance below
    assert np.max(np.abs(f0)) > 1e-3
    # same quadrature at the same rtol (1e-8 of the largest entry) on the same junction
    assert np.allclose(got, expected, rtol=0, atol=1e-8 * np.max(np.abs(expected)))
    k, lm = atoms.calc.get_friction()
    assert k.shape == lm.shape == (3 * len(MOVABLE), 3 * len(MOVABLE))
    assert np.array_equal(k, c.K if part == "full" else c.K_current)
    assert np.array_equal(lm, c.L)
    assert atoms.calc.coordinates == [(a, ax) for a in MOVABLE for ax in range(3)]


def test_forces_follow_the_geometry():
    """Recomputed at each geometry: moving an atom changes the forces, and
    get_friction(atoms) at the new geometry equals the direct K there."""
    device, left, right = _chain()
    atoms = _displaced(device)
    kw = dict(bias=0.4, temperature=300.0, fermi_level=EF)
    calc = CurrentCarryingCalculator(TightBindingBuilder(left, right, MODEL, MOVABLE), **kw)
    atoms.calc = calc
    first = atoms.get_forces().copy()
    moved = _displaced(device, seed=2)
    atoms.set_positions(moved.positions)
    second = atoms.get_forces()
    assert np.max(np.abs(second - first)) > 1e-3
    # expected: the direct route at the new geometry
    _, c = _direct(moved, left, right, **kw)
    k, _ = calc.get_friction(atoms)
    assert np.allclose(k, c.K, rtol=0, atol=1e-8 * np.max(np.abs(c.K)))


def test_hamiltonian_builder_equals_the_analytic_couplings():
    """A generic build(positions) -> H (finite-difference couplings) gives the
    forces and K, L of the analytic tight-binding builder."""
    device, left, right = _chain()
    atoms = _displaced(device)
    leads = atomistic_junction(atoms, left, right, MODEL, movable=MOVABLE).junction.leads
    kw = dict(bias=0.4, temperature=300.0, fermi_level=EF)
    generic = atoms.copy()
    generic.calc = CurrentCarryingCalculator(
        HamiltonianBuilder(lambda p: device_hamiltonian(MODEL, p), leads, MOVABLE), **kw
    )
    atoms.calc = CurrentCarryingCalculator(TightBindingBuilder(left, right, MODEL, MOVABLE), **kw)
    f_fd, f_an = generic.get_forces(), atoms.get_forces()
    # the couplings agree to ~1e-9 eV/A (Richardson, h = 0.01 A: beta^4 h^4
    # ~ 1e-9 relative) and F0, K, L are linear or quadratic in them: 1e-7 of the scale
    assert np.allclose(f_fd, f_an, rtol=0, atol=1e-7 * np.max(np.abs(f_an)))
    (k1, l1), (k2, l2) = generic.calc.get_friction(), atoms.calc.get_friction()
    assert np.allclose(k1, k2, rtol=0, atol=1e-7 * np.max(np.abs(k2)))
    assert np.allclose(l1, l2, rtol=0, atol=1e-7 * np.max(np.abs(l2)))


def test_fire_relaxation_under_bias_converges_to_zero_total_force():
    device, left, right = _chain()
    coords = [(a, 2) for a in MOVABLE]
    fixed = np.vstack([left.positions, right.positions])
    springs = spring_force_constants(device.positions, coords, 10.0, 3.0, fixed)
    kw = dict(bias=0.5, temperature=300.0, fermi_level=EF)
    atoms = device.copy()
    atoms.set_constraint(FixAtoms([0, 3]))
    atoms.calc = CurrentCarryingCalculator(
        TightBindingBuilder(left, right, MODEL, MOVABLE, axes="z"),
        bare_force_constants=springs,
        energy="bare",
        **kw,
    )
    fmax = 1e-3
    assert FIRE(atoms, logfile=None).run(fmax=fmax, steps=200)
    moved = atoms.positions - device.positions
    # the forces moved the atoms: F0 ~ 0.9 eV/A on springs of 10 eV/A^2
    assert np.max(np.abs(moved)) > 0.01
    # expected zero: the springs' force at the converged geometry plus the
    # mean force of the junction built there directly balance to fmax
    system = atomistic_junction(atoms, left, right, MODEL, movable=MOVABLE, axes="z")
    f0 = force_coefficients(system.junction, system.forces, **kw).mean_force
    x = np.array([moved[a, c] for a, c in coords])
    assert np.max(np.abs(f0 - springs @ x)) < fmax


def _lead_self_energy(z, n):
    """Closed-form self-energies of the two semi-infinite s-band chains
    (hopping t at the lead bond, on-site 0) on the end atoms of an n-atom
    device: t^2 g(z), g the surface Green's function, the root of
    t^2 g^2 - z g + 1 = 0 with |t g| < 1."""
    t = -MODEL.t0 * np.exp(-MODEL.beta * (LEAD_BOND - MODEL.d0))
    roots = np.roots([t * t, -z, 1.0])
    g = roots[np.argmin(np.abs(t * roots))]
    sigma = np.zeros((n, n), dtype=complex)
    sigma[0, 0] = sigma[-1, -1] = t * t * g
    return sigma


def _grand_potential_change(pos0, pos, mu, spin=2):
    """Omega(pos) - Omega(pos0) at T = 0 (eV), by the closed contour:

    Omega = -g_s int n_F(E) N(E) dE with the integrated density of states
    N(E) = -(1/pi) Im ln det(E - H - Sigma), so the change is
    (g_s/pi) Im int n_F ln det(1 - G0 dH) dE = -(g_s/pi) Re int_0^inf
    ln det(1 - G0(mu + iy) dH) dy (the integrand decays as 1/z^2 because
    the on-site energies do not move, Tr dH = 0)."""
    h0, h = device_hamiltonian(MODEL, pos0), device_hamiltonian(MODEL, pos)
    n = len(h0)

    def integrand(y):
        z = mu + 1j * y
        g0 = np.linalg.inv(z * np.eye(n) - h0 - _lead_self_energy(z, n))
        return np.log(np.linalg.det(np.eye(n) - g0 @ (h - h0))).real

    value = sum(quad(integrand, lo, hi, epsabs=1e-12, epsrel=1e-11, limit=400)[0] for lo, hi in ((0, 1), (1, np.inf)))
    return -spin / np.pi * value


def test_zero_bias_mean_force_is_minus_the_gradient_of_the_grand_potential():
    device, left, right = _chain()
    atoms = _displaced(device)
    atoms.calc = CurrentCarryingCalculator(
        TightBindingBuilder(left, right, MODEL, MOVABLE), bias=0.0, temperature=0.0, fermi_level=EF
    )
    forces = atoms.get_forces()
    pos0 = atoms.get_positions()
    h = 1e-3
    for a, c in atoms.calc.coordinates:
        plus, minus = pos0.copy(), pos0.copy()
        plus[a, c] += h
        minus[a, c] -= h
        expected = -(_grand_potential_change(pos0, plus, EF) - _grand_potential_change(pos0, minus, EF)) / (2 * h)
        # central difference: error h^2 |Omega'''|/6 ~ 1e-7 eV/A for
        # Omega''' ~ 1 eV/A^3; the contour integral to 1e-11, divided by 2h
        assert abs(forces[a, c] - expected) < 1e-6, (a, c, forces[a, c], expected)


def test_energy_is_not_pretended():
    device, left, right = _chain()
    atoms = device.copy()
    atoms.calc = CurrentCarryingCalculator(TightBindingBuilder(left, right, MODEL, MOVABLE), bias=0.3, fermi_level=EF)
    with pytest.raises(PropertyNotImplementedError, match="not the gradient"):
        atoms.get_potential_energy()


def test_bad_input_is_named():
    device, left, right = _chain()
    builder = TightBindingBuilder(left, right, MODEL, MOVABLE)
    with pytest.raises(InputError, match="builder"):
        CurrentCarryingCalculator("not callable")
    with pytest.raises(InputError, match="mean_force"):
        CurrentCarryingCalculator(builder, mean_force="half")
    with pytest.raises(InputError, match="either bare"):
        CurrentCarryingCalculator(builder, bare=EMT(), bare_force_constants=np.eye(6))
    atoms = device.copy()
    atoms.calc = CurrentCarryingCalculator(builder, bare_force_constants=np.eye(2))
    with pytest.raises(InputError, match="bare_force_constants"):
        atoms.get_forces()
    with pytest.raises(InputError, match="no geometry"):
        CurrentCarryingCalculator(builder).get_friction()


S_BOND, S_DECAY = 0.1, 0.9  # overlap of the two movable atoms' orbitals at 2.5 A, and its decay (1/A)


def _overlap(p):
    """S(R) (1 + s on the bond of the movable atoms 1 and 2) and its exact dS/dX
    for the coordinates of atoms 1 and 2, x, y, z (atom-major)."""
    d = p[2] - p[1]
    r = float(np.linalg.norm(d))
    s = S_BOND * np.exp(-S_DECAY * (r - 2.5))
    o = np.eye(len(p))
    o[1, 2] = o[2, 1] = s
    derivs = []
    for sign in (-1.0, 1.0):  # atom 1, atom 2
        for axis in range(3):
            ds = np.zeros((len(p), len(p)))
            ds[1, 2] = ds[2, 1] = -S_DECAY * s * sign * d[axis] / r
            derivs.append(ds)
    return o, derivs


def test_hamiltonian_builder_passes_a_moving_overlap():
    """A source of (H, S): the calculator's forces are the bare ones plus the
    mean force Tr[rho F_a] + Tr[rho_E dS/dX_a]; second route:
    nonorthogonal.mean_force (its own pole sums for rho and rho_E) with the
    analytic force operators of the model and the analytic dS/dX, the
    builder's being central differences (step 1e-3 A, checked at two steps:
    error ~ step^2 |d^3 H| ~ 1e-6 of the force)."""
    from currentforces import Junction
    from currentforces.nonorthogonal import mean_force

    # device bonds as long as the leads' (those of _chain are shorter: their
    # stronger hopping splits off a bound state below the band, which the
    # kernel with a moving overlap refuses)
    device, left, right = chain_atoms("Au", 2, LEAD_BOND, LEAD_BOND, buffer=1)
    atoms = _displaced(device)
    system = atomistic_junction(atoms, left, right, MODEL, movable=MOVABLE, axes="xyz")
    leads = system.junction.leads
    builder = HamiltonianBuilder(lambda p: (device_hamiltonian(MODEL, p), _overlap(p)[0]), leads, MOVABLE, step=1e-3)
    kw = dict(bias=0.4, temperature=300.0, fermi_level=EF)
    atoms.calc = CurrentCarryingCalculator(builder, **kw)
    got = atoms.get_forces()
    o, derivs = _overlap(atoms.positions)
    junction = Junction(system.junction.hamiltonian, leads, overlap=o)
    ref, _ = mean_force(junction, system.forces, derivs, **kw)
    rows = [a * 3 + c for a, c in system.coordinates]
    np.testing.assert_allclose(got.reshape(-1)[rows], ref, atol=1e-6 * np.abs(ref).max())
    # the overlap term is there: without dS/dX the mean force differs visibly
    fixed, _ = mean_force(junction, system.forces, **kw)
    assert np.abs(ref - fixed).max() > 1e-3 * np.abs(ref).max()
