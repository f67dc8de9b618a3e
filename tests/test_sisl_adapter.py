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


# --------------------------------------------------------------------------
# transverse k-points, spin, TSHS files
# --------------------------------------------------------------------------
def _sheet(width, length, nsc_c=1, t=-1.0, spin=None, shift=0.0, beta=0.0, moved=None):
    """A square-lattice sheet (spacing 1 A): ``width`` atoms along A
    (periodic, nsc = 3), ``length`` along C (transport); one s orbital, hopping
    t + beta (d - 1) to nearest neighbours.  ``spin="polarized"`` shifts the
    on-site energies by +-shift; ``"noncolinear"`` puts t on both spin
    diagonals.  ``moved = (atom, dz)`` displaces one atom (in every image)."""
    xyz = np.array([[j, 0.0, c] for c in range(length) for j in range(width)])
    if moved is not None:
        xyz[moved[0], 2] += moved[1]
    geom = sisl.Geometry(xyz, atoms=sisl.Atom(1, R=1.3), lattice=sisl.Lattice([width, 10, length], nsc=[3, 1, nsc_c]))
    h = sisl.Hamiltonian(geom, spin=spin) if spin else sisl.Hamiltonian(geom)
    for ia in geom:
        idx, rij = geom.close(ia, R=1.3, ret_rij=True)
        for ja, d in zip(idx, rij):
            if d < 1e-8:
                h[ia, ja] = {None: 0.0, "polarized": (shift, -shift), "noncolinear": (0, 0, 0, 0)}[spin]
            else:
                v = t + beta * (d - 1)
                h[ia, ja] = {None: v, "polarized": (v, v), "noncolinear": (v, v, 0, 0)}[spin]
    return h


def _sheet_junction(width=3, length=4, **kw):
    dev = _sheet(width, length, **{k: v for k, v in kw.items() if k in ("spin", "shift")})
    el = _sheet(width, 1, nsc_c=3, **{k: v for k, v in kw.items() if k in ("spin", "shift")})
    return dev, [(el, "-C"), (el, "+C")]


E_SHEET = np.array([-3.1, -1.3, 0.35, 1.7])  # off every band edge of the tests' grids


def test_sisl_sheet_transmission_counts_open_channels(tol):
    # expected (closed form): a clean sheet of width W along A, periodic, has
    # transverse bands eps_j(k) = 2t cos(2 pi (j + k)/W); T(E, k) = number of
    # j with |E - eps_j(k)| < 2|t| (every open channel transmits fully)
    dev, elecs = _sheet_junction()
    j = from_sisl(dev, elecs, kgrid=(5, 1))
    assert len(j) == 3  # 5 points, time reversal folds 2 pairs
    for k, tk in zip(j.kpoints, j.transmission(E_SHEET, resolved=True)):
        eps = -2 * np.cos(2 * np.pi * (np.arange(3) + k[0]) / 3)
        np.testing.assert_allclose(tk, (np.abs(E_SHEET[:, None] - eps) < 2).sum(axis=1), atol=tol["lead"])


def test_sisl_supercell_on_folded_grid_equals_primitive(tol):
    # expected: sisl's own repeat(2, A) of device and electrodes at 3 k-points
    # samples the k of the primitive cell at 6 (k = (K + m)/2): per cell the
    # same transmission (an independent construction of the supercell)
    dev, elecs = _sheet_junction()
    el = elecs[0][0]
    prim = from_sisl(dev, elecs, kgrid=(6, 1))
    sup = from_sisl(dev.repeat(2, 0), [(el.repeat(2, 0), "-C"), (el.repeat(2, 0), "+C")], kgrid=(3, 1))
    np.testing.assert_allclose(sup.transmission(E_SHEET) / 2, prim.transmission(E_SHEET), atol=tol["lead"])


def test_sisl_tshs_files_round_trip(tmp_path, tol):
    # expected: a Hamiltonian written to a SIESTA .TSHS file by sisl and read
    # back gives the same junction (the file holds H_R exactly)
    dev, elecs = _sheet_junction()
    dev.write(str(tmp_path / "device.TSHS"))
    elecs[0][0].write(str(tmp_path / "elec.TSHS"))
    a = from_sisl(dev, elecs, kgrid=(4, 1))
    el = str(tmp_path / "elec.TSHS")
    b = from_sisl(str(tmp_path / "device.TSHS"), [(el, "-C"), (el, "+C")], kgrid=(4, 1))
    np.testing.assert_allclose(b.transmission(E_SHEET), a.transmission(E_SHEET), atol=tol["exact"])
    with pytest.raises(InputError, match="hamiltonian"):
        from_sisl(str(tmp_path / "missing.TSHS"), [(el, "-C"), (el, "+C")])


def test_sisl_spin_polarised_gives_two_channels(tol):
    # expected: a collinear polarised Hamiltonian is two independent channels;
    # the up channel (on-site +shift) is the unpolarised sheet shifted by
    # +shift, i.e. T_up(E) = T_0(E - shift), and the set sums both (g_s = 1)
    shift = 0.2
    dev, elecs = _sheet_junction(spin="polarized", shift=shift)
    both = from_sisl(dev, elecs, kgrid=(4, 1))
    assert both.spin == 1 and both.labels == ["up", "down"]
    d0, e0 = _sheet_junction()
    plain = from_sisl(d0, e0, kgrid=(4, 1))
    t_up, t_down = plain.transmission(E_SHEET - shift), plain.transmission(E_SHEET + shift)
    np.testing.assert_allclose(both.transmission(E_SHEET), t_up + t_down, atol=tol["lead"])
    up = from_sisl(dev, elecs, kgrid=(4, 1), spin="up")
    np.testing.assert_allclose(up.transmission(E_SHEET), t_up, atol=tol["lead"])
    from currentforces.adapters.sisl import sisl_matrices
    from currentforces.errors import SpinPolarisedError

    with pytest.raises(SpinPolarisedError, match="hamiltonian"):
        sisl_matrices(dev, k=(0, 0, 0))
    sisl_matrices(dev, k=(0, 0, 0), spin=1)  # one channel asked for: fine


def test_sisl_noncollinear_is_one_spinor_junction(tol):
    # expected: a non-collinear Hamiltonian with spin-diagonal t on both spins
    # and no spin mixing is two copies of the unpolarised sheet in a 2N basis:
    # T = 2 T_0 with g_s = 1 (full grid: time reversal flips spin)
    dev, elecs = _sheet_junction(spin="noncolinear")
    j = from_sisl(dev, elecs, kgrid=(4, 1))
    assert j.spin == 1 and not j.folded.any()
    d0, e0 = _sheet_junction()
    np.testing.assert_allclose(
        j.transmission(E_SHEET), 2 * from_sisl(d0, e0, kgrid=(4, 1)).transmission(E_SHEET), atol=tol["lead"]
    )


def test_sisl_force_operators_from_displaced_calculations(tol):
    # expected: with hoppings linear in the bond length (t + beta (d - 1)),
    # the central difference of displaced Hamiltonians is the exact
    # derivative: f(k) = -beta sum over the moved atom's bonds of
    # (d d/dz) e^{2 pi i k.R} |i><j| (+ h.c.); here atom 4 (column 1) moves
    # along C: its bond to atom 1 (column 0) lengthens (dd/dz = +1, f = -beta),
    # to atom 7 (column 2) shortens (f = +beta); the bonds within its column
    # change at second order only, which a central difference cancels
    beta, step, width = 0.6, 1e-3, 3
    dev, elecs = _sheet_junction()
    j, data = from_sisl(dev, elecs, kgrid=(4, 1), return_data=True)
    plus = [_sheet(width, 4, beta=beta, moved=(4, step))]
    minus = [_sheet(width, 4, beta=beta, moved=(4, -step))]
    forces = data.force_operators(plus, minus, step)
    f = forces((0.25,))[0]
    expect = np.zeros((12, 12))
    expect[4, 1] = expect[1, 4] = -beta
    expect[4, 7] = expect[7, 4] = beta
    np.testing.assert_allclose(f, expect, atol=tol["exact"])
    c = currentforces.force_coefficients(j, forces, temperature=0.0, fermi_level=0.35)
    assert np.isfinite(c.K).all()


def test_sisl_kgrid_bad_input_is_named():
    dev, elecs = _sheet_junction()
    with pytest.raises(InputError, match="kgrid"):
        from_sisl(dev, elecs)  # periodic across, no kgrid
    with pytest.raises(InputError, match="kgrid"):
        from_sisl(dev, elecs, kgrid=(4,))
    with pytest.raises(InputError, match="kgrid"):
        from_sisl(dev, elecs, kgrid=(4, 2))  # B is not periodic
    with pytest.raises(InputError, match="spin"):
        from_sisl(dev, elecs, kgrid=(4, 1), spin="up")  # unpolarised: no channel to pick


def test_sisl_nonorthogonal_sheet_transmission(tol):
    # expected (closed form): a square sheet with one s orbital per site,
    # hopping t and overlap s to the four nearest neighbours, on-site 0, has
    # the generalised band E(k_A, kappa) = (2t cos 2pi k_A + 2t cos kappa) /
    # (1 + 2s cos 2pi k_A + 2s cos kappa); at fixed k_A it is monotonic in
    # cos kappa, so one channel is open (T = 1) for E between its values at
    # cos kappa = -1 and +1, and none outside
    t, s = -1.0, 0.1
    xyz = [[0.0, 0.0, c] for c in range(3)]
    atom = sisl.Atom(1, R=1.1)

    def build(length, nsc_c):
        g = sisl.Geometry(xyz[:length], atoms=atom, lattice=sisl.Lattice([1, 10, length], nsc=[3, 1, nsc_c]))
        h = sisl.Hamiltonian(g, orthogonal=False)
        h.construct([(0.1, 1.1), ((0.0, 1.0), (t, s))])
        return h

    el = build(1, 3)
    j = from_sisl(build(3, 1), [(el, "-C"), (el, "+C")], kgrid=(6, 1))
    e = np.array([-1.7, -0.6, 0.2, 1.3])
    for k, tk in zip(j.kpoints[:, 0], j.transmission(e, resolved=True)):
        c = np.cos(2 * np.pi * k)
        ends = [(2 * t * c + 2 * t * x) / (1 + 2 * s * c + 2 * s * x) for x in (-1.0, 1.0)]
        open_ = ((e > min(ends)) & (e < max(ends))).astype(float)
        np.testing.assert_allclose(tk, open_, atol=tol["lead"])


def test_sisl_spin_channels_of_kpoints_force_coefficients(tol):
    # expected: a polarised sheet with no exchange splitting (shift 0) is two
    # identical channels with g_s = 1 each: the same force coefficients as the
    # unpolarised sheet with g_s = 2 (nested sets: channels of k-point sets,
    # forces per channel label and per k from displaced calculations)
    beta, step, width = 0.6, 1e-3, 3
    kw = dict(temperature=0.0, fermi_level=0.35)
    results = []
    for spin in ("polarized", None):
        dev, elecs = _sheet_junction(spin=spin, shift=0.0)
        j, data = from_sisl(dev, elecs, kgrid=(4, 1), return_data=True)
        plus = [_sheet(width, 4, beta=beta, moved=(4, step), spin=spin)]
        minus = [_sheet(width, 4, beta=beta, moved=(4, -step), spin=spin)]
        results.append(currentforces.force_coefficients(j, data.force_operators(plus, minus, step), **kw))
    channels, plain = results
    assert channels.spin == 1 and plain.spin == 2
    for name in ("mean_force", "K", "L"):
        scale = max(1.0, np.abs(getattr(plain, name)).max())
        np.testing.assert_allclose(getattr(channels, name), getattr(plain, name), atol=tol["default_quad"] * scale)


# the moving-overlap kernel integrates in a smoothstep variable between band edges;
# nodes next to an edge have zero weight and must not flood BandEdgeWarning (it did: 14)
@pytest.mark.filterwarnings("error::currentforces.errors.BandEdgeWarning")
def test_sisl_overlap_derivatives_reach_every_kpoint(tol):
    # expected: overlap derivatives are passed per k like the forces.  With an
    # overlap that does not depend on the bond length they vanish (exactly, by
    # central differences) and the coefficients equal those without them; an
    # overlap that moves reaches force_coefficients at every k: the k-set's
    # coefficients are the weighted sum of those of its members, each with
    # its own dS/dX(k); in equilibrium (zero bias, k and -k together: time
    # reversal) K is symmetric and the friction negative semi-definite

    def build(length, nsc_c, dz=0.0, s_slope=0.0):
        xyz = np.array([[0.0, 0.0, c] for c in range(length)])
        xyz[min(1, length - 1), 2] += dz
        g = sisl.Geometry(xyz, atoms=sisl.Atom(1, R=1.3), lattice=sisl.Lattice([1, 10, length], nsc=[3, 1, nsc_c]))
        h = sisl.Hamiltonian(g, orthogonal=False)
        for ia in g:
            idx, rij = g.close(ia, R=1.3, ret_rij=True)
            for ja, d in zip(idx, rij):
                h[ia, ja] = (0.0, 1.0) if d < 1e-8 else (-1.0 + 0.6 * (d - 1), 0.1 + s_slope * (d - 1))
        return h

    el = build(1, 3)
    j, data = from_sisl(build(3, 1), [(el, "-C"), (el, "+C")], kgrid=(4, 1), return_data=True)
    step = 1e-3
    forces = data.force_operators([build(3, 1, step)], [build(3, 1, -step)], step)
    still = data.overlap_derivatives([build(3, 1, step)], [build(3, 1, -step)], step)
    kw = dict(temperature=0.0, fermi_level=0.3)
    a = currentforces.force_coefficients(j, forces, overlap_derivatives=still, **kw)
    b = currentforces.force_coefficients(j, forces, **kw)
    np.testing.assert_allclose(a.K, b.K, atol=tol["exact"] * np.abs(b.K).max())
    moving = data.overlap_derivatives([build(3, 1, step, 0.2)], [build(3, 1, -step, 0.2)], step)
    c = currentforces.force_coefficients(j, forces, overlap_derivatives=moving, **kw)
    assert np.abs(c.K - b.K).max() > tol["visible"] * np.abs(b.K).max()
    assert np.abs(c.K - c.K.T).max() <= tol["tight_quad"] * np.abs(c.K).max()
    assert np.linalg.eigvalsh(c.friction).max() <= tol["tight_quad"] * np.abs(c.L).max()
