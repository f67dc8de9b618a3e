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
    assert json.loads(ds.attrs["config_json"]) == cfg
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
