"""The run summary and the figures say what the numbers mean: what replaced
the zero-bias forces, a trajectory that is not in a steady state, asymmetric
force parts that vanish by symmetry; figure labels that can be read."""

import json

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("netCDF4")  # run_job writes its results file
pytest.importorskip("matplotlib")
pytest.importorskip("ase")

from currentforces import Junction, force_coefficients  # noqa: E402
from currentforces.config import validate_config  # noqa: E402
from currentforces.dynamics import analyze_modes  # noqa: E402
from currentforces.job import run_job  # noqa: E402
from currentforces.models.presets import carbon_chain, gold_chain  # noqa: E402
from currentforces.plot import _coefficients_figure, _modes_figure, _trajectory_figure  # noqa: E402
from currentforces.report import asymmetry_vanishes, run_notes, run_report  # noqa: E402

SMALL = {
    "junction": {"preset": "gold_chain", "n_atoms": 3, "axes": "z"},
    "electrons": {"fermi_level": 1.0},
    "bias": {"values": [0.0, 0.3, 0.6]},
    "transmission": {"num": 11},
    "modes": {"enabled": True, "runaway": False},
    "dynamics": {"enabled": True, "bias": 0.3, "steps": 200, "record_every": 10},
}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    cfg = validate_config(json.loads(json.dumps(SMALL)))
    return run_job(cfg, tmp_path_factory.mktemp("report") / "run.nc", log=None).dataset


def test_summary_says_what_replaced_the_zero_bias_forces(small_run):
    """The note names F0(0) and the eigenvalues of the electronic K(0) that
    the springs replace, computed here from the library directly."""
    pre = gold_chain(n_atoms=3)
    c0 = force_coefficients(
        pre.system.junction, pre.system.forces, bias=0.0, temperature=300.0, fermi_level=1.0, spin=2, rtol=1e-7
    )
    f0 = np.abs(c0.mean_force).max()
    k0 = np.linalg.eigvalsh(0.5 * (c0.K + c0.K.T))
    ks = np.linalg.eigvalsh(pre.spring_constants)
    text = " ".join(" ".join(run_notes(small_run)).split())
    assert f"largest |F0(0)| {f0:.3f} eV/A" in text
    assert f"eigenvalues {k0[0]:.3f} to {k0[-1]:.3f} eV/A^2) are replaced by the bare springs" in text
    assert f"eigenvalues {ks[0]:.3f} to {ks[-1]:.3f} eV/A^2" in text
    assert run_report(small_run).endswith("\n") and "note: the structure is taken" in run_report(small_run)


def test_summary_says_when_the_trajectory_is_not_steady(small_run):
    """The stored growth rate at the dynamics bias is the mode analysis of the
    same K(V) - K(0) and L(V) (equal to the sweep's growth rate at 0.3 V);
    a 400 fs run is far shorter than the ns relaxation of the slowest mode
    (electronic friction only), so the summary and the figure say so."""
    rate = float(small_run["dynamics_max_growth_rate"])
    assert rate == pytest.approx(np.nanmax(small_run["growth_rate"].sel(bias=0.3).values), rel=1e-9)
    sel = small_run.sel(bias=0.3)
    ref = analyze_modes(
        small_run["masses"].values, small_run["spring_constants"].values, sel["K_current"].values, sel["L"].values
    ).max_growth_rate
    assert rate == pytest.approx(ref, rel=1e-12)
    assert rate < 0 and -1.0 / rate > 5 * 400.0
    notes = " ".join(" ".join(run_notes(small_run)).split())
    assert "the Langevin run at 0.30 V is not in a steady state" in notes
    assert "no phonon bath" in notes
    fig = _trajectory_figure(small_run)
    assert "not a steady state" in fig._suptitle.get_text()
    _assert_texts_inside(fig)
    # a run many relaxation times long is steady: no note (synthetic rate)
    steady = small_run.copy()
    steady["dynamics_max_growth_rate"] = ((), -1.0)
    assert not any("steady state" in n for n in run_notes(steady))
    assert "not a steady state" not in _trajectory_figure(steady)._suptitle.get_text()


def _assert_texts_inside(fig):
    """Every text of the figure lies inside the figure, and every text placed
    on a panel lies inside that panel (nothing clipped)."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    whole = fig.bbox
    texts = [t for t in fig.texts] + ([fig._suptitle] if fig._suptitle else [])
    for t in texts:
        e = t.get_window_extent(r)
        assert whole.x0 <= e.x0 and e.x1 <= whole.x1 and whole.y0 <= e.y0 and e.y1 <= whole.y1, t.get_text()
    for a in fig.axes:
        box = a.get_window_extent(r)
        for t in a.texts:
            e = t.get_window_extent(r)
            assert box.x0 - 1 <= e.x0 and e.x1 <= box.x1 + 1 and box.y0 - 1 <= e.y0 and e.y1 <= box.y1 + 1, t.get_text()


def _modes_dataset(runaway):
    v = np.linspace(0.0, 2.0, 9)
    g = np.outer(v - 0.6, [1e-3, -1e-3])
    return xr.Dataset(
        {
            "growth_rate": (("bias", "eigenmode"), g),
            "mode_energy": (("bias", "eigenmode"), np.outer(1 + v, [0.01, -0.01])),
            "runaway_bias": ((), runaway),
        },
        coords={"bias": v},
    )


@pytest.mark.parametrize("runaway", [0.583, 1.95])
def test_runaway_threshold_is_labelled_on_every_panel_inside_it(runaway):
    """Both panels of the mode figure mark and label the threshold, and the
    labels lie inside the panels (also for a threshold at the right edge)."""
    fig = _modes_figure(_modes_dataset(runaway))
    for a in fig.axes:
        assert [t.get_text().strip() for t in a.texts] == [f"runaway {runaway:.3f} V"]
    _assert_texts_inside(fig)


def test_single_curve_panels_use_no_legend_colour(small_run):
    """The K_asym and L_asym panels have one curve each; its colour is none
    of the per-coordinate colours in the legend of the friction panel."""
    from matplotlib.colors import to_rgba

    fig = _coefficients_figure(small_run)
    ax = np.array(fig.axes).reshape(2, 2)
    legend = {to_rgba(h.get_color()) for h in ax[0, 0].get_legend().legend_handles}
    assert len(legend) == 3
    for a in (ax[0, 1], ax[1, 0]):
        (line,) = a.get_lines()
        assert to_rgba(line.get_color()) not in legend
    _assert_texts_inside(fig)


def _asym(junction, forces, fermi_level, bias=1.0):
    c = force_coefficients(junction, forces, bias=bias, temperature=300.0, fermi_level=fermi_level, rtol=1e-9)
    k_asym = np.abs(c.K - c.K.T).max() / 2 / np.abs(c.K).max()
    l_asym = np.abs(c.L - c.L.T).max() / 2 / np.abs(c.L).max()
    return k_asym, l_asym


@pytest.mark.slow
def test_carbon_chain_asymmetric_parts_vanish_by_electron_hole_symmetry():
    """Why the carbon example has K_asym ~ 4e-15 and L_asym ~ 4e-16 at every
    bias.  For z motion of the straight chain H and the force operators are
    block diagonal in sigma (s, pz) and pi (px, py).  The pi block has one
    on-site energy e_p and nearest-neighbour hoppings only (bipartite), and so
    do its force operators, so the sublattice sign S maps H - e_p -> -(H - e_p)
    and f -> -f; then S G^r(E) S = -G^a(2 e_p - E), and with the symmetric
    bias split (mu_0,1 = E_F +- V/2) at E_F = e_p the electron-hole mirror
    maps the problem onto itself with K -> K^T and L -> L^T: the
    antisymmetric parts vanish.  The sigma bands are gapped at e_p (-30.1 to
    -3.3 eV, a gap of 5.7 eV above e_p = -8.97 eV), so they contribute no
    states to the bias window.  Breaking the symmetry - E_F off e_p, or one
    atom's p levels shifted - gives asymmetric parts of 1-5 % of K and L
    (measured: 0.017 and 0.048 for E_F + 0.3 eV, 0.015 and 0.043 for the
    shifted p levels; the bound 5e-3 leaves a factor 3)."""
    pre = carbon_chain(n_atoms=3, bond=1.32)
    j, f = pre.system.junction, pre.system.forces
    assert pre.fermi_level == -8.97  # 'auto' E_F of the half-filled pi bands: e_p exactly
    k_asym, l_asym = _asym(j, f, pre.fermi_level)
    assert k_asym < 1e-12 and l_asym < 1e-12
    # E_F 0.3 eV above the band centre: no electron-hole mirror of the window
    k_asym, l_asym = _asym(j, f, pre.fermi_level + 0.3)
    assert k_asym > 5e-3 and l_asym > 5e-3
    # same E_F, but the p levels of the middle chain atom (device atom 2) 0.5 eV
    # higher: the pi block is no longer bipartite with one on-site energy
    h = j.hamiltonian.copy()
    p = np.arange(2 * 4 + 1, 2 * 4 + 4)
    h[p, p] += 0.5
    k_asym, l_asym = _asym(Junction(h, j.leads), f, pre.fermi_level)
    assert k_asym > 5e-3 and l_asym > 5e-3


def test_summary_explains_vanishing_asymmetric_parts():
    """A run whose K_asym and L_asym are zero to round-off at every bias gets
    the symmetry note and the figure says so; a run with a non-zero part (the
    gold demo chain off half filling) does not."""
    cfg = validate_config(
        {
            "junction": {"preset": "carbon_chain", "n_atoms": 2, "bond": 1.32},
            "bias": {"values": [0.0, 1.0]},
            "transmission": {"num": 5},
            "modes": {"enabled": False, "runaway": False},
        }
    )
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        ds = run_job(cfg, f"{d}/c.nc", log=None).dataset
    zero = asymmetry_vanishes(ds)
    assert zero is not None and zero[0] < 1e-12 and zero[1] < 1e-12
    assert any("K_asym and L_asym vanish to round-off at every bias" in n for n in run_notes(ds))
    fig = _coefficients_figure(ds)
    ax = np.array(fig.axes).reshape(2, 2)
    assert "a symmetry" in ax[0, 1].texts[0].get_text() and "a symmetry" in ax[1, 0].texts[0].get_text()


def test_no_symmetry_note_when_asymmetric_parts_exist(small_run):
    assert asymmetry_vanishes(small_run) is None
    assert not any("vanish to round-off" in n for n in run_notes(small_run))


def test_summary_names_directions_the_springs_do_not_hold(small_run):
    """Central springs along a straight chain give transverse motion no
    restoring force: a spring matrix with a zero eigenvalue gets the note,
    the chain's longitudinal springs (all eigenvalues > 0) do not."""
    assert np.linalg.eigvalsh(small_run["spring_constants"].values).min() > 0
    assert not any("exert no force" in n for n in run_notes(small_run))
    free = small_run.copy()
    k = small_run["spring_constants"].values.copy()
    k[0, :] = k[:, 0] = 0.0  # coordinate 0 free
    free["spring_constants"] = (("mode", "mode2"), k)
    (note,) = [n for n in run_notes(free) if "exert no force" in n]
    assert "the bare springs exert no force along 1 of the 3 displacement directions" in " ".join(note.split())
