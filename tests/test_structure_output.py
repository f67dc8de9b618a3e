"""The results file stores the structure (symbols, positions, cell), the
masses and the bare normal modes; trajectories are written as extended XYZ
and ASE trajectory files that ase.io reads back."""

import json

import numpy as np
import pytest

pytest.importorskip("xarray")
pytest.importorskip("netCDF4")
pytest.importorskip("ase")
import ase.io  # noqa: E402

from currentforces import InputError  # noqa: E402
from currentforces.config import validate_config  # noqa: E402
from currentforces.dynamics import Trajectory  # noqa: E402
from currentforces.io import atoms_from_dataset, read_dataset, write_trajectory  # noqa: E402
from currentforces.job import run_job  # noqa: E402
from currentforces.models.presets import gold_chain  # noqa: E402
from currentforces.units import AMU, HBAR  # noqa: E402

SMALL = {
    "junction": {"preset": "gold_chain", "n_atoms": 2, "axes": "xz"},
    "electrons": {"fermi_level": 1.0},
    "bias": {"values": [0.0, 0.3]},
    "transmission": {"num": 5},
    "modes": {"enabled": False, "runaway": False},
    "dynamics": {"enabled": True, "bias": 0.3, "steps": 40, "record_every": 10, "noise": False},
    "output": {"figures": False},
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("structure") / "run.nc"
    run_job(validate_config(json.loads(json.dumps(SMALL))), path, log=None)
    return read_dataset(path)


def test_results_file_stores_atoms_masses_and_modes(run):
    # expected: the preset's own device atoms and springs, built directly
    preset = gold_chain(n_atoms=2, axes="xz")
    device = preset.system.device
    atoms, coordinates = atoms_from_dataset(run)
    assert atoms.get_chemical_symbols() == device.get_chemical_symbols()
    assert np.array_equal(atoms.get_positions(), device.get_positions())
    assert np.array_equal(atoms.get_cell()[:], device.get_cell()[:])
    assert np.array_equal(atoms.get_masses(), device.get_masses())
    assert coordinates == preset.system.coordinates
    assert run["atom_positions"].attrs["units"] == "Angstrom"
    # the stored modes solve the mass-weighted eigenproblem of the springs:
    # M^-1/2 K M^-1/2 e_k = omega_k^2 e_k, orthonormal
    m = run["masses"].values * AMU
    k = run["spring_constants"].values
    e = run["normal_mode_vectors"].values
    w2 = np.sign(run["normal_mode_hbar_omega"].values) * (run["normal_mode_hbar_omega"].values / HBAR) ** 2
    dyn = k / np.sqrt(np.outer(m, m))
    assert np.allclose(dyn @ e, e * w2, rtol=0, atol=1e-12 * np.abs(dyn).max())
    assert np.allclose(e.T @ e, np.eye(len(m)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("suffix", ["extxyz", "traj"])
def test_trajectory_file_reads_back(run, tmp_path, suffix):
    path = tmp_path / f"md.{suffix}"
    write_trajectory(run, path)
    frames = ase.io.read(path, index=":")
    x = run["positions"].values
    assert len(frames) == x.shape[0] > 1
    atoms, coordinates = atoms_from_dataset(run)
    for frame, xt in zip(frames, x):
        # expected: the stored structure with each displacement added by hand
        expected = atoms.get_positions()
        for (a, c), d in zip(coordinates, xt):
            expected[a, c] += d
        # extxyz prints positions with 8 decimals (1e-8 A); traj stores doubles
        assert np.allclose(frame.get_positions(), expected, rtol=0, atol=1e-7)
        assert frame.get_chemical_symbols() == atoms.get_chemical_symbols()
    assert np.max(np.abs(x)) > 1e-5  # the frames differ from the structure


def test_trajectory_object_writes_ase_files(tmp_path):
    device = gold_chain(n_atoms=2, axes="z").system.device
    coordinates = [(1, 2), (2, 2)]
    x = np.array([[[0.01, -0.02]], [[0.03, 0.0]]])  # (time, realization, dof)
    tr = Trajectory(np.array([0.0, 1.0]), x, 0 * x, np.ones(2), np.eye(2), np.zeros((2, 2)))
    path = tmp_path / "t.extxyz"
    tr.write_ase(path, device, coordinates)
    frames = ase.io.read(path, index=":")
    # expected: z of atoms 1 and 2 moved by the displacements
    assert np.allclose(frames[1].positions[1:3, 2] - device.positions[1:3, 2], [0.03, 0.0], rtol=0, atol=1e-7)
    assert np.allclose(frames[0].positions[1:3, 2] - device.positions[1:3, 2], [0.01, -0.02], rtol=0, atol=1e-7)
    with pytest.raises(InputError, match="extxyz"):
        tr.write_ase(tmp_path / "t.pdf", device, coordinates)
    with pytest.raises(InputError, match="realization"):
        tr.write_ase(path, device, coordinates, realization=3)
    with pytest.raises(InputError, match="displacements"):
        tr.write_ase(path, device, coordinates[:1])


def test_run_writes_the_trajectory_file_it_is_asked_for(tmp_path, monkeypatch):
    from currentforces.cli import main

    monkeypatch.chdir(tmp_path)
    raw = json.loads(json.dumps(SMALL))
    raw["output"].update({"file": "run.nc", "trajectory": "md.extxyz"})
    cfg = validate_config(raw)
    res = run_job(cfg, log=None)
    frames = ase.io.read(tmp_path / "md.extxyz", index=":")
    # expected: the frames write_trajectory makes from the stored dataset
    write_trajectory(res.dataset, tmp_path / "again.extxyz")
    again = ase.io.read(tmp_path / "again.extxyz", index=":")
    assert len(frames) == len(again) == res.dataset.sizes["time"]
    assert all(np.array_equal(a.positions, b.positions) for a, b in zip(frames, again))
    # the key leaves the stored configuration text (and the resume digest) alone when it is ''
    assert (
        "trajectory"
        not in json.loads(run_job(validate_config(SMALL), tmp_path / "b.nc", log=None).dataset.attrs["config_json"])[
            "output"
        ]
    )
    assert main(["config"]) == 0  # the schema lists the new key without error


def test_trajectory_key_is_checked():
    from currentforces.config import ConfigError

    raw = json.loads(json.dumps(SMALL))
    raw["output"]["trajectory"] = "md.pdb"
    with pytest.raises(ConfigError, match="output.trajectory"):
        validate_config(raw)
    raw["output"]["trajectory"] = "md.traj"
    raw["dynamics"]["enabled"] = False
    with pytest.raises(ConfigError, match=r"output.trajectory.*\[dynamics\]"):
        validate_config(raw)
