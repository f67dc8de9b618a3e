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
pytest.importorskip("ase")

from currentforces import force_coefficients  # noqa: E402
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


def test_numbers_equal_the_library(cli_run):
    _, out = cli_run
    ds = read_dataset(out)
    pre = gold_chain(n_atoms=3, movable=[1, 2, 3])
    c = force_coefficients(pre.system.junction, pre.system.forces, bias=0.6, temperature=300.0,
                           fermi_level=1.0, spin=2, rtol=1e-7)
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
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT / "src")})
    for word in ("run", "info", "figures", "demo", "config", "eV, Angstrom"):
        assert word in r.stdout
    # lazy imports: --help loads none of the optional stack
    code = ("import sys, currentforces.cli as c\ntry:\n c.main(['--help'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in ('xarray', 'matplotlib', 'tqdm', 'ase', 'sisl') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT / "src")})
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_readme_demo_table_is_current(tmp_path):
    """The summary table the README shows is what the demo job prints
    (the Langevin run does not enter the table, so it is switched off here)."""
    import copy
    import math
    import re

    from currentforces.io import summary_table
    from currentforces.job import run_job

    cfg = copy.deepcopy(DEMO_CONFIG)
    cfg["dynamics"]["enabled"] = False
    res = run_job(validate_config(cfg), tmp_path / "demo.nc", log=None)
    v = float(res.dataset["runaway_bias"])
    assert not math.isnan(v)
    printed = summary_table(res.dataset) + f"\nrunaway threshold: {v:.4f} V ({res.dataset['runaway_character'].values})\n"
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Command line and demo.*?```\n(.*?)```", readme, re.S).group(1)
    assert block == printed


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
    c = force_coefficients(pre.system.junction, pre.system.forces, bias=0.6, temperature=300.0,
                           fermi_level=pre.fermi_level, spin=2, rtol=1e-7)
    assert abs(float(ds.attrs["fermi_level_eV"]) - pre.fermi_level) < 1e-12
    assert np.allclose(ds["K"].values[0], c.K, atol=1e-12)
    assert np.allclose(ds["L"].values[0], c.L, atol=1e-12)
    assert np.allclose(ds["spring_constants"].values, pre.spring_constants)
    # a missing structure file names the key
    cfg.write_text("[junction]\npreset = 'atoms'\ndevice = 'dev.xyz'\n")
    assert main(["run", str(cfg)]) == 2
    assert "junction.left" in capsys.readouterr().err


# ---- failures are one line and a non-zero exit (issue 10, item 6) -----------

SMALL_RUN = "[junction]\nn_atoms = 2\n[bias]\nvalues = [0.0, 0.5]\n[modes]\nrunaway = false\n" \
            "[output]\nfigures = false\n"


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
        "config is a folder": lambda: (["run", str(tmp_path / "folder.toml")], 2,
                                       ["folder.toml", "is a directory"]),
        "empty output.file": lambda: (["run", "job.toml"], 2, ["output.file", "must not be empty"]),
        "empty --out": lambda: (["run", "ok.toml", "--out", ""], 2, ["output file", "empty"]),
        "--out is a folder": lambda: (["run", "ok.toml", "--out", str(tmp_path)], 2,
                                      [str(tmp_path), "is a directory"]),
        "folder is a file": lambda: (["run", "ok.toml", "--out", str(tmp_path / "afile" / "x.nc")], 2,
                                     ["afile", "not a folder"]),
        "read-only folder": lambda: (["run", "ok.toml", "--out", str(_unwritable_folder(tmp_path) / "x.nc")], 2,
                                     ["cannot write in its folder", "choose a writable folder"]),
    }


CASES = ["not UTF-8", "config is a folder", "empty output.file", "empty --out", "--out is a folder",
         "folder is a file", "read-only folder"]


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
            raise IntegrationError("force-coefficient window integral: adaptive quadrature stopped after "
                                   "2796 panels with estimated error 6.73e+07 above tolerance 6.5", 6.73e7, 6.5)
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
    p = subprocess.Popen([sys.executable, "-m", "currentforces.cli", "config"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env={"PYTHONPATH": str(ROOT / "src")})
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait() == 141 and "Traceback" not in err and "Exception ignored" not in err, err
