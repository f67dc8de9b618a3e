"""from_kwant: the same junction from Atoms and from a finalized Kwant system
gives the same Hamiltonian, self-energies, transmission and coefficients;
both lead routes agree with Kwant's own scattering matrix.

Runs in the separate Kwant environment (numpy < 2) built by .ci/run;
skipped elsewhere.
"""

import warnings

import numpy as np
import pytest

pytestmark = pytest.mark.kwant  # `pytest -m kwant` selects these

pytest.importorskip("kwant")
import kwant  # noqa: E402

pytest.importorskip("ase")
warnings.filterwarnings("ignore", message="MUMPS is not available")

import currentforces  # noqa: E402
from currentforces import InputError  # noqa: E402
from currentforces.adapters import from_kwant  # noqa: E402
from currentforces.models.presets import gold_chain  # noqa: E402


def _kwant_gold_chain(pre):
    """The preset's chain in Kwant: sites at the device atoms' z, hoppings
    t(d) of the same s-band model, chain leads of the electrode spacing."""
    s = pre.system
    model = s.model
    z = s.device.get_positions()[:, 2]
    lat = kwant.lattice.chain(a=1, norbs=1)
    syst = kwant.Builder()
    for i in range(len(z)):
        syst[lat(i)] = model.onsite
    for i in range(len(z) - 1):
        syst[lat(i + 1), lat(i)] = float(model.hopping(z[i + 1] - z[i]))
    lead_bond = float(np.linalg.norm(s.left.get_cell()[2]))
    for direction in (-1, 1):
        lead = kwant.Builder(kwant.TranslationalSymmetry((direction,)))
        lead[lat(0)] = model.onsite
        lead[lat.neighbors()] = float(model.hopping(lead_bond))
        syst.attach_lead(lead)
    return syst.finalized()


@pytest.fixture(scope="module")
def gold():
    pre = gold_chain(n_atoms=3)
    fsys = _kwant_gold_chain(pre)
    return pre, fsys, from_kwant(fsys), from_kwant(fsys, self_energy="kwant")


def test_same_hamiltonian_self_energy_transmission(gold):
    pre, fsys, jd, jk = gold
    ja = pre.system.junction
    assert np.allclose(jd.hamiltonian, ja.hamiltonian, atol=1e-12)
    e = np.array([-2.4, -1.0, 0.05, 0.8, 2.3])
    for la, ld, lk in zip(ja.leads, jd.leads, jk.leads):
        assert np.allclose(ld.self_energy(e), la.self_energy(e), atol=1e-10)
        assert np.allclose(lk.self_energy(e), la.self_energy(e), atol=1e-10)
    t = ja.transmission(e)
    assert np.allclose(jd.transmission(e), t, atol=1e-10)
    assert np.allclose(jk.transmission(e), t, atol=1e-10)
    # Kwant's own scattering matrix
    tk = [kwant.smatrix(fsys, float(x)).transmission(1, 0) for x in e]
    assert np.allclose(tk, t, atol=1e-8)


def test_same_force_coefficients(gold):
    if not hasattr(currentforces, "force_coefficients"):
        pytest.skip("force_coefficients not merged yet")
    pre, _, jd, jk = gold
    kw = dict(bias=0.5, temperature=300.0, fermi_level=pre.fermi_level)
    a = currentforces.force_coefficients(pre.system.junction, pre.system.forces, **kw)
    for j in (jd, jk):
        b = currentforces.force_coefficients(j, pre.system.forces, **kw)
        for name in ("mean_force", "K", "L"):
            x, y = getattr(a, name), getattr(b, name)
            assert np.allclose(x, y, atol=1e-7 * max(1.0, np.abs(x).max())), name


def test_multi_orbital_complex_lead_matches_kwant():
    """A two-row ribbon with complex and diagonal inter-cell hoppings: the
    decimation route reproduces Kwant's self-energy and transmission."""
    lat = kwant.lattice.square(a=1, norbs=1)

    def hoppings(b):
        b[kwant.builder.HoppingKind((1, 0), lat, lat)] = -1.0 * np.exp(0.3j)
        b[kwant.builder.HoppingKind((0, 1), lat, lat)] = -0.8
        b[kwant.builder.HoppingKind((1, -1), lat, lat)] = -0.2j

    syst = kwant.Builder()
    for x in range(3):
        for y in range(2):
            syst[lat(x, y)] = 0.1 * y + 0.05 * x
    hoppings(syst)
    for sym in ((-1, 0), (1, 0)):
        lead = kwant.Builder(kwant.TranslationalSymmetry(sym))
        for y in range(2):
            lead[lat(0, y)] = 0.1 * y
        hoppings(lead)
        syst.attach_lead(lead)
    fsys = syst.finalized()
    j = from_kwant(fsys)
    for i, lead in enumerate(j.leads):
        rows = fsys.lead_interfaces[i]
        for e in (-1.3, 0.37, 1.1):
            assert np.allclose(lead.self_energy(e)[np.ix_(rows, rows)], fsys.leads[i].selfenergy(e), atol=1e-10)
    for e in (-1.3, 0.37, 1.1):
        assert abs(j.transmission(e) - kwant.smatrix(fsys, e).transmission(1, 0)) < 1e-8


def test_bad_input():
    with pytest.raises(InputError, match="fsys"):
        from_kwant(object())
