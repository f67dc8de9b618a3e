"""The command line: a run on an example config writes a file that `info`
reads back and whose numbers equal the library's; bad configs exit non-zero
naming the key."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("xarray")
pytest.importorskip("netCDF4")  # results files
pytest.importorskip("ase")

from currentforces import InputError, force_coefficients  # noqa: E402
from currentforces.cli import DEMO_CONFIG, main  # noqa: E402
from currentforces.config import load_config, validate_config  # noqa: E402
from currentforces.io import read_dataset  # noqa: E402
from currentforces.models.presets import gold_chain  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]

CONFIG = """
[junction]
preset = "gold_chain"
n_atoms = 3
movable = [1, 2, 3]

[electrons]
temperature = 300.0
fermi_level = 1.0

[bias]
values = [0.0, 0.6]

[transmission]
num = 21

[modes]
n_scan = 3
tolerance = 0.05

[dynamics]
enabled = true
bias = 0.3
steps = 200
record_every = 10

[output]
file = "out.nc"
"""


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    pytest.importorskip("matplotlib")  # the run writes its figures
    d = tmp_path_factory.mktemp("cli")
    cfg = d / "job.toml"
    cfg.write_text(CONFIG)
    out = d / "out.nc"
    assert main(["run", str(cfg), "--out", str(out), "--no-progress"]) == 0
    return d, out


def test_run_writes_file_and_figures(cli_run):
    d, out = cli_run
    assert out.exists()
    for name in ("coefficients", "modes", "transmission", "trajectory"):
        assert (d / f"out-{name}.png").stat().st_size > 1000


def test_info_reads_back(cli_run, capsys):
    _, out = cli_run
    capsys.readouterr()
    assert main(["info", str(out), "--config"]) == 0
    text = capsys.readouterr().out
    assert "status: complete" in text and "bias=2" in text
    assert "runaway threshold" in text and "K [eV/Angstrom^2]" in text
    assert '"fermi_level": 1.0' in text
    assert "note: the structure is taken as the mechanical equilibrium" in text  # the run summary's notes


def test_numbers_equal_the_library(cli_run):
    _, out = cli_run
    ds = read_dataset(out)
    pre = gold_chain(n_atoms=3, movable=[1, 2, 3])
    c = force_coefficients(
        pre.system.junction, pre.system.forces, bias=0.6, temperature=300.0, fermi_level=1.0, spin=2, rtol=1e-7
    )
    sel = ds.sel(bias=0.6)
    assert np.array_equal(sel["K"].values, c.K)
    assert np.array_equal(sel["L"].values, c.L)
    assert np.array_equal(sel["mean_force"].values, c.mean_force)
    assert np.array_equal(ds["spring_constants"].values, pre.spring_constants)
    e = ds["energy"].values
    assert np.allclose(ds["transmission"].values, pre.system.junction.transmission(e), atol=0)
    assert ds["positions"].dims == ("time", "mode") and ds.sizes["time"] == 20


BAD = [
    ("[junction]\ncolour = 'red'\n", "junction.colour", "unknown key"),
    ("[junctoin]\npreset = 'gold_chain'\n", "junctoin", "unknown section"),
    ("[junction]\nn_atoms = 'four'\n", "junction.n_atoms", "must be an integer"),
    ("[junction]\npreset = 'silver_chain'\n", "junction.preset", "'gold_chain', 'carbon_chain'"),
    ("[electrons]\ntemperature = -5.0\n", "electrons.temperature", ">= 0"),
    ("[electrons]\nspin = 3\n", "electrons.spin", "one of 1, 2"),
    ("[bias]\nvalues = []\n", "bias.values", "must not be empty"),
    ("[bias]\nvalues = [0.0, 'x']\n", "bias.values[1]", "must be a number"),
    ("[junction]\nn_atoms = 3\nmovable = [1, 9]\n", "junction.movable[1]", "out of range"),
    ("[junction]\nmovable = [0]\n", "junction.movable[0]", "electrode (buffer) atom"),
    ("[junction]\nn_atoms = 3\nmovable = [-6]\n", "junction.movable[0]", "out of range"),
    ("[modes]\nenabled = 1\n", "modes.enabled", "true or false"),
    ("[junction\n", "CONFIG", "not valid TOML"),
]


@pytest.mark.parametrize("text,key,what", BAD)
def test_bad_configs_exit_nonzero_naming_the_key(tmp_path, capsys, text, key, what):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    assert main(["run", str(cfg), "--out", str(tmp_path / "x.nc")]) == 2
    err = capsys.readouterr().err
    assert key in err and what in err
    assert not (tmp_path / "x.nc").exists()


def test_missing_results_file(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nope.nc")]) == 2
    assert "nope.nc" in capsys.readouterr().err


def test_examples_and_demo_config_are_valid():
    for path in sorted((ROOT / "examples").glob("*.toml")):
        load_config(path)
    cfg = validate_config(json.loads(json.dumps(DEMO_CONFIG)))
    example = load_config(ROOT / "examples" / "gold_chain.toml")
    assert {k: v for k, v in cfg.items() if k != "output"} == {k: v for k, v in example.items() if k != "output"}


def test_help_is_fast_and_lists_commands():
    code = "import sys, currentforces.cli as c; c.main(['--help'])"
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "src")}
    )
    for word in ("run", "info", "figures", "demo", "config", "eV, Angstrom"):
        assert word in r.stdout
    # lazy imports: --help loads none of the optional stack
    code = (
        "import sys, currentforces.cli as c\ntry:\n c.main(['--help'])\nexcept SystemExit: pass\n"
        "print(sorted(m for m in ('xarray', 'matplotlib', 'tqdm', 'ase', 'sisl') if m in sys.modules))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "src")}
    )
    assert r.stdout.strip().splitlines()[-1] == "[]"


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory):
    """The demo job itself (with its Langevin run), computed once."""
    import copy

    from currentforces.job import run_job

    cfg = validate_config(copy.deepcopy(DEMO_CONFIG))
    return run_job(cfg, tmp_path_factory.mktemp("demo") / "demo.nc", log=None)


def test_readme_demo_table_is_current(demo_result, tmp_path, capsys, monkeypatch):
    """The summary the README shows (table, runaway threshold and notes) is
    what the demo job prints: the demo itself, with its Langevin run, which
    the notes describe."""
    import re

    from currentforces.report import run_report

    res = demo_result
    printed = run_report(res.dataset)
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Command line and demo.*?```\n(.*?)```", readme, re.S).group(1)
    assert block == printed
    assert "runaway threshold: 0.5835 V (waterwheel)" in block
    # `currentforces demo` prints exactly this after the description line
    # (the finished job is handed to it instead of being computed again)
    import currentforces.job

    capsys.readouterr()
    monkeypatch.setattr(currentforces.job, "run_job", lambda *a, **k: res)
    monkeypatch.setattr(currentforces.cli, "_figures_for", lambda *a, **k: [])
    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert f"{res.dataset.attrs['description']}\n{printed}" in capsys.readouterr().out


def test_demo_trajectory_reaches_its_steady_state(demo_result):
    """With the phonon bath (on in the demo) the late-time mean energy of the
    demo's trajectory is stationary, and it is the model's steady state.

    Late: after 5 relaxation times tau of the slowest mode (the stored
    dynamics_max_growth_rate, bath included; tau = 1.25 ps, the run 40 ps).
    Statistical error: each half of the late window in 8 batches of ~2 ps,
    several energy correlation times (tau/2) long; the standard error of a
    half's mean is the spread of its batch means / sqrt(8).  Stationary:
    the halves agree within 4 combined standard errors.  Steady state: the
    pooled late mean equals the exact stationary <E> (docs/theory.rst
    eq-stationary-covariance, stationary_covariance) of the same springs
    + K(V) - K(0) and L(V) with the bath's friction, under the electron
    plus bath noise, within 4 standard errors.  Control: without the bath
    the same model's slowest mode needs nanoseconds and its stationary
    energy is ~16x larger, so a 40 ps run without the bath cannot be in its
    steady state."""
    from currentforces import dynamics as dyn
    from currentforces.coupling import spectrum_from_junction
    from currentforces.job import _phonon_bath, build_system
    from currentforces.units import AMU

    ds = demo_result.dataset
    cfg = validate_config(json.loads(json.dumps(DEMO_CONFIG)))
    d, e = cfg["dynamics"], cfg["electrons"]
    assert d["phonon_bath"]
    tau = -1.0 / float(ds["dynamics_max_growth_rate"])
    t = ds["time"].values
    energy = ds["kinetic_energy"].values + ds["potential_energy"].values
    late = energy[t >= t[0] + 5 * tau]
    assert late.size > 0.8 * energy.size
    halves = []
    for half in np.array_split(late, 2):
        batches = np.array([b.mean() for b in np.array_split(half, 8)])
        halves.append((batches.mean(), batches.std(ddof=1) / np.sqrt(8)))
    (m1, s1), (m2, s2) = halves
    assert abs(m1 - m2) < 4 * np.hypot(s1, s2)
    mean, se = 0.5 * (m1 + m2), 0.5 * np.hypot(s1, s2)
    # the exact steady state of the simulated model
    pre, ef = build_system(cfg)
    sel = ds.sel(bias=d["bias"])
    masses, springs = ds["masses"].values, ds["spring_constants"].values
    kc, lm = sel["K_current"].values, sel["L"].values
    spec = spectrum_from_junction(
        pre.system.junction,
        pre.system.forces,
        d["hbar_omega_max"],
        n_omega=d["n_omega"],
        bias=d["bias"],
        temperature=e["temperature"],
        fermi_level=ef,
        spin=e["spin"],
    )
    bath = _phonon_bath(dyn, pre, e, d)
    ksym = springs + 0.5 * (kc + kc.T)

    def stationary_energy(l, spectrum):
        xx, vv, _ = dyn.stationary_covariance(masses, springs + kc, l, spectrum, d["hbar_omega_max"], epsrel=1e-6)
        return 0.5 * np.sum(masses * AMU * np.diag(vv)) + 0.5 * np.sum(ksym * xx)

    exact = stationary_energy(lm + bath.velocity_matrix(masses), dyn.combined_spectrum(spec, bath.spectrum(masses)))
    assert abs(mean - exact) < 4 * se
    assert se < 0.1 * exact  # resolved to better than 10 %
    # control: electrons and springs alone
    assert -1.0 / dyn.analyze_modes(masses, springs, kc, lm).max_growth_rate > 20 * t[-1]  # 2.2 ns
    assert stationary_energy(lm, spec) > 10 * exact


def test_run_from_structure_files_equals_the_preset(tmp_path, capsys):
    """preset = 'atoms' with extended-XYZ files of the gold-chain preset gives
    the preset's coefficients."""
    import ase.io

    from currentforces.models.presets import chain_atoms

    device, left, right = chain_atoms("Au", 3, 2.5, 2.88)
    for name, atoms in (("dev", device), ("left", left), ("right", right)):
        ase.io.write(tmp_path / f"{name}.xyz", atoms, format="extxyz")
    cfg = tmp_path / "atoms.toml"
    cfg.write_text(
        "[junction]\npreset = 'atoms'\n"
        f"device = '{tmp_path / 'dev.xyz'}'\nleft = '{tmp_path / 'left.xyz'}'\nright = '{tmp_path / 'right.xyz'}'\n"
        "model = 'gold_s'\naxes = 'z'\n"
        "[bias]\nvalues = [0.6]\n[modes]\nrunaway = false\n[output]\nfigures = false\n"
    )
    out = tmp_path / "atoms.nc"
    assert main(["run", str(cfg), "--out", str(out)]) == 0
    ds = read_dataset(out)
    assert [str(x) for x in ds["mode_label"].values] == ["Au1 z", "Au2 z", "Au3 z"]
    pre = gold_chain(n_atoms=3)
    c = force_coefficients(
        pre.system.junction,
        pre.system.forces,
        bias=0.6,
        temperature=300.0,
        fermi_level=pre.fermi_level,
        spin=2,
        rtol=1e-7,
    )
    assert abs(float(ds.attrs["fermi_level_eV"]) - pre.fermi_level) < 1e-12
    assert np.allclose(ds["K"].values[0], c.K, atol=1e-12)
    assert np.allclose(ds["L"].values[0], c.L, atol=1e-12)
    assert np.allclose(ds["spring_constants"].values, pre.spring_constants)
    # a missing structure file names the key
    cfg.write_text("[junction]\npreset = 'atoms'\ndevice = 'dev.xyz'\n")
    assert main(["run", str(cfg)]) == 2
    assert "junction.left" in capsys.readouterr().err


def test_version_option(capsys):
    """`currentforces --version` prints the package version (argparse exits 0)."""
    from currentforces import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"currentforces {__version__}"


def test_every_variable_of_a_run_has_units(cli_run):
    """Every variable and coordinate of a run's file (coefficients, modes,
    runaway search and dynamics all on) carries a non-empty ``units``
    attribute (the io module's promise) and a ``long_name``."""
    import netCDF4

    _, out = cli_run
    with netCDF4.Dataset(out) as nc:
        names = list(nc.variables)
        missing = [n for n in names if not str(getattr(nc.variables[n], "units", "")).strip()]
        unnamed = [n for n in names if not str(getattr(nc.variables[n], "long_name", "")).strip()]
    for expected in ("runaway_bias_lower", "runaway_bias_upper", "dynamics_bias", "positions", "mode"):
        assert expected in names
    assert missing == [] and unnamed == []


def _write_gold_chain_files(folder, n_atoms=3):
    """Extended-XYZ files of the gold-chain preset's device and lead cells."""
    import ase.io

    from currentforces.models.presets import chain_atoms

    device, left, right = chain_atoms("Au", n_atoms, 2.5, 2.88)
    folder.mkdir(parents=True, exist_ok=True)
    for name, atoms in (("dev", device), ("left", left), ("right", right)):
        ase.io.write(folder / f"{name}.xyz", atoms, format="extxyz")
    return {
        "preset": "atoms",
        "device": str(folder / "dev.xyz"),
        "left": str(folder / "left.xyz"),
        "right": str(folder / "right.xyz"),
    }


def test_cli_defaults_are_the_api_defaults(tmp_path):
    """A configuration that leaves junction.axes, movable and model out builds
    the same coordinates as the Python builder called without them: 'z' for
    the chain presets, 'xyz' (and the atoms free of the leads) for your own
    structure files."""
    from currentforces.job import build_system
    from currentforces.models.presets import PRESETS, junction_from_atoms

    for name, builder in PRESETS.items():
        cli, _ = build_system(validate_config({"junction": {"preset": name}}))
        assert cli.system.labels == builder().system.labels
    files = _write_gold_chain_files(tmp_path)
    cli, _ = build_system(validate_config({"junction": files}))
    api = junction_from_atoms(files["device"], files["left"], files["right"])
    assert cli.system.labels == api.system.labels
    assert cli.system.labels[:3] == ["Au1 x", "Au1 y", "Au1 z"] and len(cli.system.labels) == 9
    assert "model gold_s" in cli.description


def test_structure_paths_are_relative_to_the_toml_file(tmp_path, monkeypatch):
    """device/left/right given as bare file names next to the TOML file are
    found when the command runs from another folder."""
    from currentforces.job import build_system

    _write_gold_chain_files(tmp_path / "job")
    cfg = tmp_path / "job" / "atoms.toml"
    cfg.write_text(
        "[junction]\npreset = 'atoms'\ndevice = 'dev.xyz'\nleft = 'left.xyz'\nright = 'right.xyz'\naxes = 'z'\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    loaded = load_config("../job/atoms.toml")
    assert loaded["junction"]["device"] == str(tmp_path / "job" / "dev.xyz")
    preset, _ = build_system(loaded)
    assert preset.system.labels == ["Au1 z", "Au2 z", "Au3 z"]


def test_stored_model_is_the_one_used(tmp_path):
    """The stored configuration of a chain preset names the preset's own
    parameter set (carbon_chain: carbon_sp, not the gold default); asking a
    preset for another one is an error naming the key."""
    from currentforces.config import ConfigError

    assert load_config(ROOT / "examples" / "carbon_chain.toml")["junction"]["model"] == "carbon_sp"
    assert load_config(ROOT / "examples" / "gold_chain.toml")["junction"]["model"] == "gold_s"
    with pytest.raises(ConfigError, match="junction.model.*'carbon_chain' has its own parameter set 'carbon_sp'"):
        validate_config({"junction": {"preset": "carbon_chain", "model": "gold_s"}})
    # model = 'auto' with your own structure: the element's set, or an error
    # when the element has none (never a silent gold model for silver)
    from ase.io import read

    from currentforces.models.presets import junction_from_atoms

    files = _write_gold_chain_files(tmp_path)
    ag = [read(files[k]) for k in ("device", "left", "right")]
    for a in ag:
        a.set_chemical_symbols(["Ag"] * len(a))
    with pytest.raises(InputError, match=r"model: 'auto' .* got elements \['Ag'\]"):
        junction_from_atoms(ag[0], ag[1], ag[2])


def test_negative_movable_means_the_same_in_every_preset(tmp_path):
    """movable = [-2] is the second-to-last device atom under gold_chain and
    under preset = 'atoms' with the same structure (Python convention); -1,
    the electrode atom at the end, is rejected by both."""
    from currentforces.job import build_system

    files = _write_gold_chain_files(tmp_path)
    chain = {"preset": "gold_chain", "n_atoms": 3, "axes": "z"}
    atoms = dict(files, axes="z")
    for junction in (chain, atoms):
        preset, _ = build_system(validate_config({"junction": dict(junction, movable=[-2])}))
        assert preset.system.labels == ["Au3 z"]
    with pytest.raises(InputError, match=r"junction.movable\[0\]: atom -1 \(device atom 4\) is an electrode"):
        validate_config({"junction": dict(chain, movable=[-1])})
    with pytest.raises(InputError, match="movable: device atom 4 hops to the right lead"):
        build_system(validate_config({"junction": dict(atoms, movable=[-1])}))
    with pytest.raises(InputError, match=r"junction.movable: repeated atom index in \[3, -2\]"):
        validate_config({"junction": dict(chain, movable=[3, -2])})


# ---- failures are one line and a non-zero exit (issue 10, item 6) -----------

SMALL_RUN = (
    "[junction]\nn_atoms = 2\n[bias]\nvalues = [0.0, 0.5]\n[modes]\nrunaway = false\n[output]\nfigures = false\n"
)


def _unwritable_folder(tmp_path):
    """A folder no one may create files in: chmod 555 unless we are root
    (root ignores permissions), then /sys (sysfs refuses new files)."""
    import os

    if os.geteuid() != 0:
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o555)
        return d
    d = pathlib.Path("/sys")
    try:
        (d / "currentforces-probe").touch()
    except OSError:
        return d
    (d / "currentforces-probe").unlink()  # pragma: no cover
    pytest.skip("no unwritable folder available")  # pragma: no cover


def _cases(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "latin1.toml").write_bytes('[output]\nfile = "résultat.nc"\n'.encode("latin-1"))
    (tmp_path / "folder.toml").mkdir()
    # case -> (argv, exit status, words the one line must hold)
    return {
        "not UTF-8": lambda: (["run", str(tmp_path / "latin1.toml")], 2, ["latin1.toml", "not UTF-8", "line 2"]),
        "config is a folder": lambda: (["run", str(tmp_path / "folder.toml")], 2, ["folder.toml", "is a directory"]),
        "empty output.file": lambda: (["run", "job.toml"], 2, ["output.file", "must not be empty"]),
        "empty --out": lambda: (["run", "ok.toml", "--out", ""], 2, ["output file", "empty"]),
        "--out is a folder": lambda: (["run", "ok.toml", "--out", str(tmp_path)], 2, [str(tmp_path), "is a directory"]),
        "folder is a file": lambda: (
            ["run", "ok.toml", "--out", str(tmp_path / "afile" / "x.nc")],
            2,
            ["afile", "not a folder"],
        ),
        "read-only folder": lambda: (
            ["run", "ok.toml", "--out", str(_unwritable_folder(tmp_path) / "x.nc")],
            2,
            ["cannot write in its folder", "choose a writable folder"],
        ),
    }


CASES = [
    "not UTF-8",
    "config is a folder",
    "empty output.file",
    "empty --out",
    "--out is a folder",
    "folder is a file",
    "read-only folder",
]


@pytest.mark.parametrize("case", CASES)
def test_failures_are_one_line_before_any_work(tmp_path, monkeypatch, capsys, case):
    from currentforces import job

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ok.toml").write_text(SMALL_RUN)
    (tmp_path / "job.toml").write_text(SMALL_RUN.replace("figures = false", "figures = false\nfile = ''"))
    argv, code, words = _cases(tmp_path)[case]()
    computed = []
    monkeypatch.setattr(job, "coefficients_at", lambda *a: computed.append(a) or 1 / 0)
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.startswith("currentforces: error: ") and err.count("\n") == 1, err
    for w in words:
        assert w in err, err
    assert computed == []  # found before the first bias was computed


def test_integration_error_is_one_line_naming_the_bias(tmp_path, monkeypatch, capsys):
    """What a run at electrons.temperature = 1e6 K raised on main: the
    window integral misses its tolerance (the error is made here so that
    the test does not depend on where the quadrature gives up)."""
    import currentforces
    from currentforces.errors import IntegrationError

    def fails(*a, bias, **k):
        if bias > 0:
            raise IntegrationError(
                "force-coefficient window integral: adaptive quadrature stopped after "
                "2796 panels with estimated error 6.73e+07 above tolerance 6.5",
                6.73e7,
                6.5,
            )
        return real(*a, bias=bias, **k)

    real = currentforces.force_coefficients
    monkeypatch.setattr(currentforces, "force_coefficients", fails)
    (tmp_path / "ok.toml").write_text(SMALL_RUN)
    assert main(["run", str(tmp_path / "ok.toml"), "--out", str(tmp_path / "x.nc")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at bias 0.5 V" in err and "electrons.temperature" in err
    assert read_dataset(tmp_path / "x.nc")["bias"].values.tolist() == [0.0]  # the work done is kept


def test_second_run_on_a_locked_output_exits_2(tmp_path, capsys):
    import socket

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "x.nc.lock").write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname()}))
        (tmp_path / "ok.toml").write_text(SMALL_RUN)
        assert main(["run", str(tmp_path / "ok.toml"), "--out", str(tmp_path / "x.nc")]) == 2
    finally:
        sleeper.kill()
        sleeper.wait()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"process {sleeper.pid}" in err and "x.nc.lock" in err
    assert not (tmp_path / "x.nc").exists()


def test_closed_pipe_is_no_traceback():
    # `currentforces config | head -0`: the reader is gone before the first write
    p = subprocess.Popen(
        [sys.executable, "-m", "currentforces.cli", "config"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PYTHONPATH": str(ROOT / "src")},
    )
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait() == 141 and "Traceback" not in err and "Exception ignored" not in err, err
