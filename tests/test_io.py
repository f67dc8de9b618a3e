"""NetCDF output: atomic writes, units and configuration stored, a sweep
interrupted mid-way resumes to the same file contents."""

import json

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("netCDF4")
pytest.importorskip("ase")

from currentforces import InputError, __version__  # noqa: E402
from currentforces import job as job_module  # noqa: E402
from currentforces.config import validate_config  # noqa: E402
from currentforces.io import read_dataset, write_dataset  # noqa: E402

SMALL = {
    "junction": {"preset": "gold_chain", "n_atoms": 2},
    "electrons": {"fermi_level": 1.0},
    "bias": {"values": [0.0, 0.4, 0.8]},
    "transmission": {"num": 11},
    "modes": {"enabled": True, "runaway": False},
}


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / "a.nc"
    write_dataset(xr.Dataset({"x": ("bias", [1.0, 2.0])}), path)

    class Boom(xr.Dataset):
        __slots__ = ()

        def to_netcdf(self, *a, **k):
            with open(a[0], "wb") as fh:
                fh.write(b"half a file")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_dataset(Boom({"x": ("bias", [3.0])}), path)
    assert read_dataset(path)["x"].values.tolist() == [1.0, 2.0]
    assert [p.name for p in tmp_path.iterdir()] == ["a.nc"]  # no temporary left behind


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match="FILE"):
        read_dataset(tmp_path / "missing.nc")
    bad = tmp_path / "bad.nc"
    bad.write_text("not netcdf")
    with pytest.raises(InputError, match="not a readable NetCDF"):
        read_dataset(bad)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    cfg = validate_config(json.loads(json.dumps(SMALL)))
    path = tmp_path_factory.mktemp("full") / "run.nc"
    job_module.run_job(cfg, path, log=None)
    return cfg, path


def test_file_has_dimensions_units_config_version(full_run):
    cfg, path = full_run
    ds = read_dataset(path)
    assert ds.attrs["status"] == "complete"
    assert ds.attrs["currentforces_version"] == __version__
    # the stored text leaves out the phonon-bath keys while the bath is off
    # (config_to_json): read back and completed, it is the same configuration
    assert validate_config(json.loads(ds.attrs["config_json"])) == cfg
    assert ds["K"].dims == ("bias", "mode", "mode2")
    assert ds["mean_force"].dims == ("bias", "mode")
    assert ds["growth_rate"].dims == ("bias", "eigenmode")
    assert ds["K"].attrs["units"] == "eV/Angstrom^2"
    assert ds["L"].attrs["units"] == "eV*fs/Angstrom^2"
    assert ds["bias"].attrs["units"] == "V"
    assert ds["bias"].values.tolist() == [0.0, 0.4, 0.8]
    # parts add up and the current-induced part vanishes at zero bias
    assert np.allclose(ds["renormalization"] + ds["nonconservative"], ds["K"], atol=0)
    assert np.allclose(ds["K_current"].sel(bias=0.0), 0.0, atol=1e-8)


def test_interrupted_sweep_resumes_to_identical_contents(full_run, tmp_path, monkeypatch):
    cfg, ref_path = full_run
    path = tmp_path / "run.nc"
    real = job_module.coefficients_at
    calls = []

    def interrupt_on_third(*args):
        calls.append(args[-1])
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C during the third bias
        return real(*args)

    monkeypatch.setattr(job_module, "coefficients_at", interrupt_on_third)
    with pytest.raises(KeyboardInterrupt):
        job_module.run_job(cfg, path, log=None)
    partial = read_dataset(path)
    assert partial.attrs["status"] == "partial"
    assert partial["bias"].values.tolist() == [0.0, 0.4]

    monkeypatch.setattr(job_module, "coefficients_at", real)
    messages = []
    res = job_module.run_job(cfg, path, log=messages.append)
    assert res.resumed and "2 of 3 biases already done" in messages[0]
    assert read_dataset(path).identical(read_dataset(ref_path))


def test_other_configuration_is_not_overwritten(full_run, tmp_path):
    cfg, ref_path = full_run
    other = validate_config({**json.loads(json.dumps(SMALL)), "bias": {"values": [0.0, 0.3]}})
    with pytest.raises(InputError, match="output.file"):
        job_module.run_job(other, ref_path, log=None)


# ---- one writer per output file (issue 10, item 4) --------------------------


def _lock_file(path):
    return path.with_name(path.name + ".lock")


def test_second_run_on_the_same_file_is_refused(full_run, tmp_path):
    """A run whose output file is being written by a live process refuses
    before computing anything; once that process is dead, the left-over lock
    is stale and the run proceeds."""
    import os
    import socket
    import subprocess
    import sys

    cfg, _ = full_run
    path = tmp_path / "run.nc"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # the lock a running `currentforces run` holds: its pid and host
        _lock_file(path).write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname()}))
        with pytest.raises(InputError, match=f"being written by process {sleeper.pid}"):
            job_module.run_job(cfg, path, log=None)
        assert not path.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    res = job_module.run_job(cfg, path, log=None)  # the pid is dead now: stale lock
    assert not res.resumed and not _lock_file(path).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nc"]
    assert os.path.getsize(path) > 0


def test_lock_is_held_during_the_run_and_released_on_interrupt(full_run, tmp_path, monkeypatch):
    cfg, _ = full_run
    path = tmp_path / "run.nc"
    seen = []

    def interrupt(*args):
        seen.append(_lock_file(path).exists())
        raise KeyboardInterrupt  # Ctrl-C during the first bias

    monkeypatch.setattr(job_module, "coefficients_at", interrupt)
    with pytest.raises(KeyboardInterrupt):
        job_module.run_job(cfg, path, log=None)
    assert seen == [True] and not _lock_file(path).exists()


# ---- resume keyed on contents (issue 10, item 5) ----------------------------


def _atoms_config(tmp_path, values):
    import ase.io

    from currentforces.models.presets import chain_atoms

    device, left, right = chain_atoms("Au", 2, 2.5, 2.88)
    for name, atoms in (("dev", device), ("left", left), ("right", right)):
        ase.io.write(tmp_path / f"{name}.xyz", atoms, format="extxyz")
    return validate_config(
        {
            "junction": {
                "preset": "atoms",
                "device": str(tmp_path / "dev.xyz"),
                "left": str(tmp_path / "left.xyz"),
                "right": str(tmp_path / "right.xyz"),
                "axes": "z",
            },
            "bias": {"values": values},
            "transmission": {"num": 5},
            "modes": {"enabled": False, "runaway": False},
        }
    )


def test_edited_structure_file_is_not_resumed(tmp_path, monkeypatch):
    """Killed after the first bias, the structure file edited, the same
    command again: resuming would mix biases of two geometries (the config
    text is unchanged, only the file contents differ), so it is refused and
    --overwrite recomputes everything from the new geometry."""
    import ase.io

    cfg = _atoms_config(tmp_path, [0.0, 0.5])
    path = tmp_path / "atoms.nc"
    real = job_module.coefficients_at
    calls = []

    def interrupt_on_second(*args):
        calls.append(args[-1])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(job_module, "coefficients_at", interrupt_on_second)
    with pytest.raises(KeyboardInterrupt):
        job_module.run_job(cfg, path, log=None)
    monkeypatch.setattr(job_module, "coefficients_at", real)
    assert read_dataset(path)["bias"].values.tolist() == [0.0]

    atoms = ase.io.read(tmp_path / "dev.xyz")
    atoms.positions[2, 2] += 0.1  # the chain atom Au2 moves 0.1 A along the chain
    ase.io.write(tmp_path / "dev.xyz", atoms, format="extxyz")
    with pytest.raises(InputError, match="junction.device"):
        job_module.run_job(cfg, path, log=None)
    assert read_dataset(path)["bias"].values.tolist() == [0.0]  # untouched

    res = job_module.run_job(cfg, path, overwrite=True, log=None)
    fresh = job_module.run_job(cfg, tmp_path / "fresh.nc", log=None)  # expected: a run on the new geometry only
    assert not res.resumed
    assert read_dataset(path)["K"].equals(read_dataset(tmp_path / "fresh.nc")["K"])
    assert fresh.dataset["bias"].values.tolist() == [0.0, 0.5]


def test_other_package_version_is_not_resumed(full_run, tmp_path, monkeypatch):
    import shutil

    cfg, ref_path = full_run
    path = tmp_path / "run.nc"
    shutil.copy(ref_path, path)
    monkeypatch.setattr(job_module, "__version__", "99.0")
    with pytest.raises(InputError, match=r"currentforces version .* -> 99.0"):
        job_module.run_job(cfg, path, log=None)


def test_corrupted_stored_value_is_not_resumed(full_run, tmp_path):
    """One flipped bit in the data region of a readable file: the value read
    back differs from the one computed, and resuming must refuse instead of
    reusing it."""
    cfg, ref_path = full_run
    ds = read_dataset(ref_path)
    value = ds["K"].values[1, 0, 1]  # K_01 at 0.4 V, stored as contiguous little-endian float64
    raw = bytearray(ref_path.read_bytes())
    needle = np.float64(value).astype("<f8").tobytes()
    assert raw.count(needle) == 1
    raw[raw.index(needle)] ^= 0x01  # lowest mantissa bit
    path = tmp_path / "run.nc"
    path.write_bytes(bytes(raw))
    back = read_dataset(path)["K"].values[1, 0, 1]
    assert back != value and abs(back - value) < 1e-12 * abs(value)  # readable, nearly right, wrong
    with pytest.raises(InputError, match="bias 0.4 V do not match their checksum"):
        job_module.run_job(cfg, path, log=None)


def test_stale_temporaries_removed_and_usual_permissions(full_run, tmp_path):
    """A SIGKILLed write leaves `.run.nc.<random>.tmp`; the next run removes
    it.  The result has mode 0o666 & ~umask like any new file (mkstemp gave
    0o600)."""
    import os

    cfg, _ = full_run
    path = tmp_path / "run.nc"
    stale = tmp_path / ".run.nc.0123456789ab.tmp"
    stale.write_bytes(b"CDF half a file")
    old = os.umask(0o022)
    try:
        job_module.run_job(cfg, path, log=None)
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nc"]
    assert path.stat().st_mode & 0o777 == 0o644
