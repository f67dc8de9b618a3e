"""The same junction from ASE Atoms and from sisl (TBtrans layout) gives the
same Hamiltonian, self-energies, transmission and force coefficients."""

import numpy as np
import pytest

sisl = pytest.importorskip("sisl")
pytest.importorskip("ase")

import currentforces  # noqa: E402
from currentforces import InputError  # noqa: E402
from currentforces.adapters import from_sisl  # noqa: E402
from currentforces.models.presets import gold_chain  # noqa: E402


def _construct(geom, model):
    """sisl Hamiltonian of ``geom`` with the s-band model, built by sisl's own
    neighbour search (``Geometry.close`` over the supercell)."""
    h = sisl.Hamiltonian(geom)
    for ia in geom:
        idx, xyz = geom.close(ia, R=model.cutoff, ret_xyz=True)
        for ja, r in zip(idx, xyz):
            d = np.linalg.norm(r - geom.xyz[ia])
            h[ia, ja] = model.onsite if d < 1e-8 else float(model.hopping(d))
    return h


def _sisl_version(pre):
    s = pre.system
    model = s.model
    atom = sisl.Atom("Au", R=model.cutoff)
    dev = sisl.Geometry(s.device.get_positions(), atoms=atom, lattice=sisl.Lattice([30, 30, 60], nsc=[1, 1, 1]))
    elecs = []
    for lead_atoms, semi in ((s.left, "-C"), (s.right, "+C")):
        cell = lead_atoms.get_cell()
        # the electrode unit cell as TBtrans sees it: the copy inside the device
        z = s.device.get_positions()[0] if semi == "-C" else s.device.get_positions()[-1]
        g = sisl.Geometry([z], atoms=atom, lattice=sisl.Lattice(np.asarray(cell), nsc=[1, 1, 3]))
        elecs.append((_construct(g, model), semi))
    return _construct(dev, model), elecs


@pytest.fixture(scope="module")
def junctions():
    pre = gold_chain(n_atoms=3)
    h, elecs = _sisl_version(pre)
    return pre, from_sisl(h, elecs), from_sisl(h, elecs, self_energy="sisl", eta=1e-9)


def test_same_hamiltonian_and_self_energies(junctions):
    pre, js, jsisl = junctions
    ja = pre.system.junction
    assert np.allclose(js.hamiltonian, ja.hamiltonian, atol=1e-12)
    # not E = 0 exactly: sisl 0.20 RecursiveSI does not return there for a
    # zero-onsite chain with small eta (its iteration never meets its tolerance)
    e = np.array([-2.0, -0.4, 0.05, 0.7, 1.9, 0.3 + 0.2j])
    for la, ls in zip(ja.leads, js.leads):
        assert np.allclose(ls.self_energy(e), la.self_energy(e), atol=1e-10)
    # sisl's own Lopez-Sancho self-energy (eta = 1e-9 eV): agrees to ~eta-size
    er = e[:-1]
    for la, ls in zip(ja.leads, jsisl.leads):
        assert np.allclose(ls.self_energy(er), la.self_energy(er), atol=1e-6)


def test_same_transmission(junctions):
    pre, js, jsisl = junctions
    e = np.linspace(-3.3, 3.3, 24)  # avoids E = 0 (see above)
    t = pre.system.junction.transmission(e)
    assert np.allclose(js.transmission(e), t, atol=1e-10)
    assert np.allclose(jsisl.transmission(e), t, atol=1e-6)
    assert np.any(t > 0.5)


def test_same_force_coefficients(junctions):
    if not hasattr(currentforces, "force_coefficients"):
        pytest.skip("force_coefficients not merged yet")
    pre, js, _ = junctions
    kw = dict(bias=0.5, temperature=300.0, fermi_level=pre.fermi_level)
    a = currentforces.force_coefficients(pre.system.junction, pre.system.forces, **kw)
    b = currentforces.force_coefficients(js, pre.system.forces, **kw)
    for name in ("mean_force", "K", "L"):
        x, y = getattr(a, name), getattr(b, name)
        assert np.allclose(x, y, atol=1e-8 * max(1.0, np.abs(x).max())), name


def test_bad_input_names_the_argument():
    pre = gold_chain(n_atoms=3)
    h, elecs = _sisl_version(pre)
    with pytest.raises(InputError, match="semi-infinite direction"):
        from_sisl(h, [(elecs[0][0], "C"), elecs[1]])
    with pytest.raises(InputError, match="self_energy"):
        from_sisl(h, elecs, self_energy="magic")
    with pytest.raises(InputError, match="elec_pos"):
        from_sisl(h, [(elecs[0][0], "-C", 99), elecs[1]])
