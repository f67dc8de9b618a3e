"""Results on disk: one NetCDF file per run, through xarray.

* Named dimensions: ``bias``, ``mode``, ``mode2`` (the two indices of a
  coefficient matrix), ``eigenmode`` (the 2M eigenvalues of the mode
  analysis), ``energy``, ``omega``, ``time``, ``realization``.
* Every variable carries ``units`` and ``long_name`` attributes; the file
  carries the package version and the full input configuration
  (``config_json``).
* Writes are atomic (:func:`currentforces.outfile.atomic_write`): a
  temporary file in the same folder, then :func:`os.replace`, so an
  interrupted run never leaves a half-written file under the output name.
* No time stamps are stored, so the same inputs give the same file
  contents (a resumed sweep equals an uninterrupted one).

xarray and netCDF4 are imported when a function is called.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError
from .outfile import atomic_write

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    import xarray as xr
    from ase import Atoms

__all__ = [
    "write_dataset",
    "read_dataset",
    "UNITS",
    "describe_dataset",
    "atoms_variables",
    "atoms_from_dataset",
    "write_trajectory",
]

UNITS = {
    "bias": ("V", "bias voltage V (mu_0 - mu_1 = eV)"),
    "energy": ("eV", "electron energy"),
    "transmission": ("1", "transmission T(E) from lead 0 to lead 1"),
    "current": ("A", "Landauer current"),
    "mean_force": ("eV/Angstrom", "mean force F0 (seed eqs 6, 13)"),
    "mean_force_current": ("eV/Angstrom", "current-induced part of the mean force, F0(V) - F0(0)"),
    "K": ("eV/Angstrom^2", "position coefficient K, F = -K X (seed eq 20)"),
    "L": ("eV*fs/Angstrom^2", "velocity coefficient L, F = L V (seed eq 21)"),
    "K_current": ("eV/Angstrom^2", "current-induced part of K, K(V) - K(0)"),
    "L_current": ("eV*fs/Angstrom^2", "current-induced part of L, L(V) - L(0)"),
    "renormalization": ("eV/Angstrom^2", "symmetric part of K"),
    "nonconservative": ("eV/Angstrom^2", "antisymmetric part of K (waterwheel force)"),
    "friction": ("eV*fs/Angstrom^2", "symmetric part of L (friction is -L_sym)"),
    "berry": ("eV*fs/Angstrom^2", "antisymmetric part of L (Berry force)"),
    "K_error": ("eV/Angstrom^2", "estimated integration error of K"),
    "L_error": ("eV*fs/Angstrom^2", "estimated integration error of L"),
    "masses": ("amu", "mass of the atom of each coordinate"),
    "spring_constants": ("eV/Angstrom^2", "bare (mechanical) force-constant matrix"),
    "growth_rate": ("1/fs", "Re lambda of the mode analysis (amplitude growth rate)"),
    "mode_energy": ("eV", "hbar Im lambda of the mode analysis"),
    "runaway_bias": ("V", "smallest bias at which a mode grows (NaN: none found)"),
    "runaway_bias_lower": ("V", "largest scanned bias known stable: lower end of the runaway bracket"),
    "runaway_bias_upper": ("V", "smallest bias known unstable: upper end of the runaway bracket (NaN: none)"),
    "runaway_character": (
        "1",
        "character of the mode that goes unstable first: waterwheel, negative friction, "
        "static softening, or stable (none found)",
    ),
    "dynamics_bias": ("V", "bias of the Langevin trajectory"),
    "dynamics_max_growth_rate": (
        "1/fs",
        "largest Re lambda of the mode analysis at the dynamics bias, with "
        "the phonon bath's friction when it is on (negative: minus the "
        "slowest relaxation rate)",
    ),
    "bath_friction": ("1/fs", "phonon-bath friction rate gamma of each coordinate (0: not coupled to the bath)"),
    "bath_temperature": ("K", "phonon-bath (electrode) temperature"),
    "mode": ("1", "index of a movable coordinate (atom, Cartesian axis)"),
    "mode2": ("1", "second index of a coefficient matrix (same coordinates as mode)"),
    "mode_label": ("1", "name of the coordinate: element, device atom index and axis"),
    "time": ("fs", "time"),
    "positions": ("Angstrom", "displacements X"),
    "velocities": ("Angstrom/fs", "velocities"),
    "kinetic_energy": ("eV", "kinetic energy"),
    "potential_energy": ("eV", "potential energy of the springs and K_sym"),
    "atom_symbol": ("1", "chemical symbol of each device atom"),
    "atom_positions": ("Angstrom", "device atom positions at X = 0"),
    "atom_masses": ("amu", "mass of each device atom"),
    "atom_cell": ("Angstrom", "cell vectors of the device structure (rows)"),
    "atom_pbc": ("1", "periodic boundary condition along each cell vector (0/1)"),
    "mode_atom": ("1", "device atom of each coordinate"),
    "mode_axis": ("1", "Cartesian axis (0: x, 1: y, 2: z) of each coordinate"),
    "normal_mode_vectors": ("1", "mass-weighted orthonormal eigenvectors of the spring matrix (columns)"),
    "normal_mode_hbar_omega": ("eV", "hbar omega of each bare normal mode (negative: unstable direction)"),
}
"""Variable or coordinate -> (units, long_name)."""


def _annotate(ds):
    for name in list(ds.variables):
        if name in UNITS:
            ds[name].attrs.setdefault("units", UNITS[name][0])
            ds[name].attrs.setdefault("long_name", UNITS[name][1])
    return ds


def write_dataset(ds: xr.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``ds`` to NetCDF at ``path`` atomically.

    Parameters
    ----------
    ds : xarray.Dataset
    path : str or Path
        Destination; its folder is created if needed.

    Notes
    -----
    Through :func:`currentforces.outfile.atomic_write`: the data go to a
    temporary file in the destination folder, are flushed to disk, and the
    file is renamed over ``path`` with :func:`os.replace` (atomic on POSIX
    and Windows).  A crash leaves either the old file or the new one, never
    a mixture; the temporary file is removed on error.  The new file has
    the usual permissions (0o666 masked by the umask).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _annotate(ds)
    return atomic_write(path, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4"))


def read_dataset(path: str | os.PathLike[str]) -> xr.Dataset:
    """Load a NetCDF results file fully into memory and close it.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    xarray.Dataset
    """
    import xarray as xr

    path = Path(path)
    if not path.exists():
        raise InputError(f"FILE: {str(path)!r} does not exist")
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            return ds.load()
    except (OSError, ValueError) as exc:
        raise InputError(f"FILE: {str(path)!r} is not a readable NetCDF file: {exc}") from None


def describe_dataset(ds: xr.Dataset) -> str:
    """A short text summary of a results dataset (what ``currentforces info`` prints)."""
    lines = []
    a = ds.attrs
    lines.append(f"currentforces {a.get('currentforces_version', '?')} results, status: {a.get('status', '?')}")
    if "description" in a:
        lines.append(a["description"])
    lines.append("dimensions: " + ", ".join(f"{k}={v}" for k, v in ds.sizes.items()))
    if "bias" in ds.coords:
        lines.append(summary_table(ds))
    if "runaway_bias" in ds:
        v = float(ds["runaway_bias"])
        lines.append("runaway threshold: " + ("none below the largest bias" if np.isnan(v) else f"{v:.4f} V"))
    lines.append("variables: " + ", ".join(f"{k} [{ds[k].attrs.get('units', '')}]" for k in ds.data_vars))
    return "\n".join(lines)


def summary_table(ds: xr.Dataset) -> str:
    """Per-bias table: current, largest mean force, friction, NC and Berry
    magnitudes, and the largest growth rate if modes were analysed."""
    head = (
        f"{'bias (V)':>9} {'I (uA)':>10} {'max|F0| eV/A':>13} {'max|K_asym|':>12} "
        f"{'min eig L_sym':>14} {'max|L_asym|':>12}"
    )
    has_modes = "growth_rate" in ds
    if has_modes:
        head += f" {'max growth (1/ps)':>18}"
    rows = [head]
    for i, v in enumerate(ds["bias"].values):
        k = ds["K"].values[i]
        lm = ds["L"].values[i]
        row = (
            f"{v:9.3f} {ds['current'].values[i] * 1e6:10.4f} {np.abs(ds['mean_force'].values[i]).max():13.5f} "
            f"{np.abs(0.5 * (k - k.T)).max():12.5f} {np.linalg.eigvalsh(0.5 * (lm + lm.T)).min():14.5f} "
            f"{np.abs(0.5 * (lm - lm.T)).max():12.5f}"
        )
        if has_modes:
            row += f" {1e3 * np.nanmax(ds['growth_rate'].values[i]):18.5f}"
        rows.append(row)
    return "\n".join(rows)


def atoms_variables(
    atoms: Atoms, coordinates: Sequence[tuple[int, int]]
) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    """The structure and the coordinate map as dataset variables.

    Parameters
    ----------
    atoms : ase.Atoms
        The device at X = 0.
    coordinates : sequence of (int, int)
        (atom index, Cartesian axis) of each ``mode`` (coordinate) of the
        dataset.

    Returns
    -------
    dict
        ``name -> (dims, values)`` for ``atom_symbol``, ``atom_positions``,
        ``atom_masses`` (dimension ``atom``), ``atom_cell``, ``atom_pbc``
        (``cell_vector``, ``xyz``) and ``mode_atom``, ``mode_axis``
        (``mode``): enough for :func:`atoms_from_dataset` to rebuild the
        ``ase.Atoms``.
    """
    cell = np.asarray(atoms.get_cell(), dtype=float).reshape(3, 3)
    return {
        "atom_symbol": (("atom",), np.array(atoms.get_chemical_symbols(), dtype=object)),
        "atom_positions": (("atom", "xyz"), np.asarray(atoms.get_positions(), dtype=float)),
        "atom_masses": (("atom",), np.asarray(atoms.get_masses(), dtype=float)),
        "atom_cell": (("cell_vector", "xyz"), cell),
        "atom_pbc": (("cell_vector",), np.asarray(atoms.get_pbc(), dtype=np.int8)),
        "mode_atom": (("mode",), np.array([int(a) for a, _ in coordinates], dtype=np.int64)),
        "mode_axis": (("mode",), np.array([int(c) for _, c in coordinates], dtype=np.int64)),
    }


def atoms_from_dataset(ds: xr.Dataset) -> tuple[Atoms, list[tuple[int, int]]]:
    """The ``ase.Atoms`` stored by :func:`atoms_variables` (symbols,
    positions in Angstrom, masses, cell, pbc), and its coordinate map.

    Returns
    -------
    atoms : ase.Atoms
    coordinates : list of (int, int)
    """
    from ase import Atoms  # lazy: optional dependency

    missing = [k for k in ("atom_symbol", "atom_positions", "mode_atom", "mode_axis") if k not in ds]
    if missing:
        raise InputError(f"the dataset stores no structure (missing {', '.join(missing)}); rerun to store it")
    atoms = Atoms(
        symbols=[str(s) for s in ds["atom_symbol"].values],
        positions=ds["atom_positions"].values,
        cell=ds["atom_cell"].values if "atom_cell" in ds else None,
        pbc=ds["atom_pbc"].values.astype(bool) if "atom_pbc" in ds else False,
    )
    if "atom_masses" in ds:
        atoms.set_masses(ds["atom_masses"].values)
    coordinates = [(int(a), int(c)) for a, c in zip(ds["mode_atom"].values, ds["mode_axis"].values)]
    return atoms, coordinates


def write_trajectory(ds: xr.Dataset, path: str | os.PathLike[str], format: str | None = None) -> None:
    """Write the Langevin trajectory of a results dataset as an extended XYZ
    (``.extxyz``/``.xyz``) or ASE trajectory (``.traj``) file.

    The frames are the stored structure (:func:`atoms_from_dataset`) with the
    displacements ``positions`` (time, mode) added; ``ase gui PATH`` opens
    the file.

    Parameters
    ----------
    ds : xarray.Dataset
        A run with ``[dynamics]`` enabled (``read_dataset``).
    path : str or Path
    format : str, optional
        An :func:`ase.io.write` format name (default from the suffix).
    """
    from .dynamics.observables import displaced_frames, write_frames

    if "positions" not in ds or "time" not in ds["positions"].dims:
        raise InputError("the dataset holds no trajectory (enable [dynamics] in the configuration)")
    atoms, coordinates = atoms_from_dataset(ds)
    write_frames(path, displaced_frames(atoms, coordinates, ds["positions"].values), format)
