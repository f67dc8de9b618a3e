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

    import xarray as xr

__all__ = ["write_dataset", "read_dataset", "UNITS", "describe_dataset"]

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
