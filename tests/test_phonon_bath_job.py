"""The phonon bath in a run: the [dynamics] keys, the bath on the boundary
atoms of the junction, what the results file stores and what the summary
says; configurations without a bath keep their stored text and digest."""

import hashlib
import json

import numpy as np
import pytest

pytest.importorskip("xarray")
pytest.importorskip("ase")
pytest.importorskip("netCDF4")  # run_job writes its results file

from currentforces import InputError  # noqa: E402
from currentforces.config import ConfigError, config_to_json, validate_config  # noqa: E402
from currentforces.dynamics import LangevinDynamics, PhononBath  # noqa: E402
from currentforces.job import run_job  # noqa: E402
from currentforces.models.presets import gold_chain  # noqa: E402
from currentforces.report import phonon_bath, run_notes  # noqa: E402

SMALL = {
    "junction": {"preset": "gold_chain", "n_atoms": 3, "axes": "z"},
    "electrons": {"fermi_level": 1.0},
    "bias": {"values": [0.0, 0.3]},
    "transmission": {"num": 11},
    "modes": {"enabled": False, "runaway": False},
    "dynamics": {
        "enabled": True,
        "bias": 0.3,
        "steps": 300,
        "record_every": 10,
        "noise": False,
        "phonon_bath": True,
        "bath_friction": 0.02,
        "bath_temperature": 100.0,
    },
    "output": {"figures": False},
}


def config(**dynamics):
    raw = json.loads(json.dumps(SMALL))
    raw["dynamics"].update(dynamics)
    return validate_config(raw)


@pytest.fixture(scope="module")
def bath_run(tmp_path_factory):
    return run_job(config(), tmp_path_factory.mktemp("bath") / "run.nc", log=None).dataset


def test_configuration_without_a_bath_keeps_its_stored_text_and_digest():
    """The bath keys are left out of the canonical text while phonon_bath is
    off: the text and SHA-256 of the default configuration are those that
    main computed before the bath existed (917afdb), so its files resume."""
    text = config_to_json(validate_config({"junction": {"preset": "gold_chain"}}))
    assert "bath" not in text
    assert (
        hashlib.sha256(text.encode()).hexdigest() == "f2f631910e8a50085f16cf2522a1967722e27aba0f353dde0f2a82491d675997"
    )
    on = json.loads(config_to_json(config()))["dynamics"]
    assert on["phonon_bath"] is True and on["bath_friction"] == 0.02 and on["bath_atoms"] is None


def test_bath_keys_are_checked():
    for key, value, message in [
        ("bath_friction", 0.0, "must be > 0"),
        ("bath_temperature", -1.0, "must be >= 0"),
        ("phonon_bath", 1, "true or false"),
        ("bath_atoms", [1.5], "integer"),
    ]:
        with pytest.raises(ConfigError, match=message) as err:
            config(**{key: value})
        assert err.value.key.startswith(f"dynamics.{key}")


def test_the_run_couples_the_boundary_atoms_to_the_bath(bath_run, tmp_path):
    """Default bath_atoms: the moving atoms within hopping range of a fixed
    (electrode) atom, Au1 and Au3 of a 3-atom chain; the trajectory is that
    of LangevinDynamics with that PhononBath (same seed), and differs from
    the run without it."""
    ds = bath_run
    assert list(ds["bath_friction"].values) == [0.02, 0.0, 0.02]
    assert float(ds["bath_temperature"]) == 100.0
    assert ds["bath_friction"].attrs["units"] == "1/fs"
    pre = gold_chain(n_atoms=3)
    assert pre.system.boundary_atoms() == [1, 3]
    sel = ds.sel(bias=0.3)
    d = config()["dynamics"]
    bath = PhononBath([0, 2], 0.02, 100.0, cutoff=d["hbar_omega_max"])
    md = LangevinDynamics(
        ds["masses"].values,
        ds["spring_constants"].values,
        d["timestep"],
        K=sel["K_current"].values,
        L=sel["L"].values,
        mean_force=sel["mean_force_current"].values,
        seed=d["seed"],
        bath=bath,
    )
    tr = md.run(d["steps"], record_every=d["record_every"])
    assert np.allclose(ds["positions"].values, tr.positions[:, 0, :], rtol=0, atol=1e-12)
    off = run_job(config(phonon_bath=False), tmp_path / "off.nc", log=None).dataset
    assert "bath_friction" not in off
    assert np.abs(off["positions"].values - ds["positions"].values).max() > 1e-3 * np.abs(off["positions"]).max()


def test_bath_atoms_must_move(tmp_path):
    with pytest.raises(InputError, match=r"dynamics.bath_atoms: atom\(s\) \[0\] do not move"):
        run_job(config(bath_atoms=[0, 1]), tmp_path / "a.nc", log=None)
    with pytest.raises(InputError, match="dynamics.bath_atoms: atom index 9 is out of range"):
        run_job(config(bath_atoms=[9]), tmp_path / "b.nc", log=None)
    ds = run_job(config(bath_atoms=[-3]), tmp_path / "c.nc", log=None).dataset  # device atom 2 of 5
    assert list(ds["bath_friction"].values) == [0.0, 0.02, 0.0]


def test_summary_says_the_bath_is_on(bath_run):
    """Not yet steady (600 fs against a relaxation of ~1 ps): the note says
    so, names the bath and what to do; many relaxation times long (a
    synthetic rate): the note says the bath is on and the run is steady;
    without a bath the note points to it."""
    assert phonon_bath(bath_run)[0] == ["Au1 z", "Au3 z"]
    notes = " ".join(" ".join(run_notes(bath_run)).split())
    assert "is not in a steady state: with a phonon bath on Au1 z, Au3 z" in notes
    assert "Ohmic friction 0.02 /fs with its quantum noise at 100 K" in notes
    steady = bath_run.copy()
    steady["dynamics_max_growth_rate"] = ((), -0.1)
    notes = " ".join(" ".join(run_notes(steady)).split())
    assert "the Langevin run at 0.30 V has a phonon bath on Au1 z, Au3 z" in notes
    assert "the trajectory samples the steady state" in notes and "not in a steady state" not in notes
    none = bath_run.drop_vars(["bath_friction", "bath_temperature"])
    notes = " ".join(" ".join(run_notes(none)).split())
    assert "no phonon bath" in notes and "dynamics.phonon_bath = true" in notes
