"""Atomistic tight-binding from ASE Atoms: analytic force operators against
finite differences, a perfect chain's unit transmission, range checks."""

import numpy as np
import pytest

ase = pytest.importorskip("ase")
from ase import Atoms  # noqa: E402

from currentforces import InputError  # noqa: E402
from currentforces.models.atomistic import (  # noqa: E402
    atomistic_junction,
    device_hamiltonian,
    device_hamiltonian_derivative,
    lead_fermi_level,
    spring_force_constants,
)
from currentforces.models.presets import carbon_chain, carbon_model, chain_atoms, gold_chain, gold_model  # noqa: E402
from currentforces.models.tight_binding import SBandModel, SlaterKosterSP  # noqa: E402


def _cluster(d, n=5, seed=3):
    """A crooked 3D chain: every bond length near d, directions random."""
    rng = np.random.default_rng(seed)
    pos = [np.zeros(3)]
    for _ in range(n - 1):
        v = rng.standard_normal(3) + np.array([0, 0, 2.0])
        pos.append(pos[-1] + d * (1 + 0.05 * rng.standard_normal()) * v / np.linalg.norm(v))
    return np.array(pos)


MODELS = {
    "s-band": (SBandModel(t0=1.7, beta=0.8, d0=2.5, cutoff=3.6), 2.5),
    "sk-harrison": (carbon_model(cutoff=2.1), 1.3),
    "sk-exponential": (
        SlaterKosterSP(
            e_s=-5, e_p=1, v_sss=-2, v_sps=2.5, v_pps=3, v_ppp=-1, d0=1.4, cutoff=2.2, scaling="exponential", beta=1.3
        ),
        1.4,
    ),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_analytic_derivative_equals_finite_differences(name):
    model, d = MODELS[name]
    pos = _cluster(d)
    h = device_hamiltonian(model, pos)
    assert np.allclose(h, h.T)
    step = 1e-5
    for atom in range(len(pos)):
        dh = device_hamiltonian_derivative(model, pos, atom)
        for c in range(3):
            p, m = pos.copy(), pos.copy()
            p[atom, c] += step
            m[atom, c] -= step
            fd = (device_hamiltonian(model, p) - device_hamiltonian(model, m)) / (2 * step)
            # central differences: error ~ step^2 * h''' ~ 1e-10 eV/A
            assert np.max(np.abs(dh[c] - fd)) < 1e-7, (atom, c)


def test_junction_force_operators_are_minus_dh(tol):
    pre = gold_chain(n_atoms=3, axes="xyz")
    sysm = pre.system
    pos = sysm.device.get_positions()
    pos[2] += [0.1, -0.05, 0.02]  # off axis, so transverse operators are non-zero
    sysm = atomistic_junction(
        Atoms(sysm.device.get_chemical_symbols(), pos), sysm.left, sysm.right, sysm.model, movable=[2], axes="xyz"
    )
    assert len(sysm.forces) == 3 and sysm.labels == ["Au2 x", "Au2 y", "Au2 z"]
    for f, (a, c) in zip(sysm.forces, sysm.coordinates):
        p, m = pos.copy(), pos.copy()
        p[a, c] += 1e-5
        m[a, c] -= 1e-5
        fd = -(sysm.hamiltonian_at(p) - sysm.hamiltonian_at(m)) / 2e-5
        assert np.max(np.abs(f - fd)) < 1e-7
    assert np.allclose(sysm.masses, 196.96657, atol=1e-3)


def test_perfect_gold_chain_has_unit_transmission_in_band(tol):
    # equal device and electrode spacing: a perfect chain, T = 1 in |E| < 2 t0
    pre = gold_chain(n_atoms=4, bond=2.5, lead_bond=2.5)
    t0 = pre.system.model.t0
    e = np.linspace(-1.95 * t0, 1.95 * t0, 9)
    assert np.allclose(pre.system.junction.transmission(e), 1.0, atol=tol["lead"] * 1e2)
    assert np.allclose(pre.system.junction.transmission([-2.1 * t0, 2.1 * t0]), 0.0, atol=1e-8)
    assert abs(pre.fermi_level) < 1e-12


def test_perfect_carbon_chain_two_pi_channels(tol):
    # the pi bands e_p +- 2|V_pp pi| carry one channel each: T = 2 around E_F
    pre = carbon_chain(n_atoms=3)
    m = pre.system.model
    assert abs(pre.fermi_level - m.e_p) < 1e-9  # half-filled pi bands, particle-hole symmetric
    e = m.e_p + np.linspace(-1.5, 1.5, 5)
    assert np.allclose(pre.system.junction.transmission(e), 2.0, atol=1e-7)


def test_fermi_level_of_half_filled_s_band():
    model = gold_model()
    assert abs(lead_fermi_level(model, [[0, 0, 0]], [0, 0, 2.5], 1.0)) < 1e-12


def test_movable_atom_touching_a_lead_is_rejected():
    device, left, right = chain_atoms("Au", 3, 2.5, 2.5, buffer=1)
    with pytest.raises(InputError, match="movable: device atom 0 hops to the left lead"):
        atomistic_junction(device, left, right, gold_model(), movable=[0])
    with pytest.raises(InputError, match="out of range"):
        atomistic_junction(device, left, right, gold_model(), movable=[7])


def test_default_movable_is_the_atoms_free_of_the_leads():
    """atomistic_junction without ``movable`` works for a normal device (chain
    plus one electrode atom per side): the buffer atoms hop to the leads and
    stay fixed, the chain atoms move (the preset's own choice); a device in
    which every atom hops to a lead is a named error."""
    device, left, right = chain_atoms("Au", 3, 2.5, 2.88, buffer=1)
    sysm = atomistic_junction(device, left, right, gold_model(), axes="z")
    assert sysm.labels == ["Au1 z", "Au2 z", "Au3 z"]
    assert sysm.labels == gold_chain(n_atoms=3).system.labels
    # gold cutoff 3.3 A > 2.88 A: both atoms of a 2-atom device touch a lead
    device, left, right = chain_atoms("Au", 2, 2.88, 2.88, buffer=0)
    with pytest.raises(InputError, match="movable: every one of the 2 device atoms hops to a lead"):
        atomistic_junction(device, left, right, gold_model())


def test_negative_movable_index_counts_from_the_end():
    """movable = [-2] is device atom n - 2 (Python convention)."""
    device, left, right = chain_atoms("Au", 3, 2.5, 2.88, buffer=1)
    sysm = atomistic_junction(device, left, right, gold_model(), movable=[-2], axes="z")
    assert sysm.labels == ["Au3 z"]


def test_hopping_beyond_next_cell_is_rejected():
    device, left, right = chain_atoms("Au", 3, 2.5, 2.5, buffer=1)
    with pytest.raises(InputError, match="left: hoppings reach beyond the next lead cell"):
        atomistic_junction(device, left, right, SBandModel(t0=1, beta=1, d0=2.5, cutoff=5.5))


def test_springs_of_a_chain():
    pos = np.array([[0, 0, 0], [0, 0, 2.0], [0, 0, 4.0]])
    k = spring_force_constants(pos, [(1, 2), (1, 0)], 3.0, 2.5)
    assert np.allclose(k, [[6.0, 0.0], [0.0, 0.0]])


def test_repeated_axis_is_rejected():
    """axes = "zz" used to give every movable atom two identical z
    coordinates (a singular mass-weighted K); now it names the repeat."""
    device, left, right = chain_atoms("Au", 3, 2.5, 2.88)
    with pytest.raises(InputError, match="axis 'z' is repeated"):
        atomistic_junction(device, left, right, gold_model(), movable=[1], axes="zz")
