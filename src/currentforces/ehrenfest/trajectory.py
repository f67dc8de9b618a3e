"""Recorded frames of an Ehrenfest run, and their NetCDF form.

Written with :func:`currentforces.dynamics.observables.write_netcdf` (the
atomic write of the Langevin trajectories); the layout follows theirs, with
one realisation and the electronic observables added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..dynamics.observables import write_netcdf

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping, Sequence

    from .._checks import RealSequence

__all__ = ["EhrenfestTrajectory"]

_UNITS = {
    "positions": ("Angstrom", ("time", "dof")),
    "velocities": ("Angstrom/fs", ("time", "dof")),
    "forces": ("eV/Angstrom", ("time", "dof")),
    "kinetic": ("eV", ("time",)),
    "potential": ("eV", ("time",)),
    "electronic": ("eV", ("time",)),
    "currents": ("A", ("time", "lead")),
    "energy_flows": ("eV/fs", ("time", "lead")),
    "electrons": ("1", ("time",)),
}


@dataclass
class EhrenfestTrajectory:
    """Frames of :meth:`EhrenfestDynamics.run <currentforces.ehrenfest.EhrenfestDynamics.run>`.

    Attributes
    ----------
    time : ndarray (n_t,), fs
    positions, velocities : ndarray (n_t, M), Angstrom and Angstrom/fs
    forces : ndarray (n_t, M), electronic force g_s Tr[f sigma] in eV/Angstrom
    kinetic, potential, electronic : ndarray (n_t,), eV
        M V^2/2, the bare potential U_b(X) and the band energy g_s Tr[h sigma].
    currents : ndarray (n_t, n_leads), A, from each lead into the device
    energy_flows : ndarray (n_t, n_leads), eV/fs, power from each lead into the device electrons
    electrons : ndarray (n_t,), number of electrons in the device
    masses : ndarray (M,), amu
    """

    time: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    forces: np.ndarray
    kinetic: np.ndarray
    potential: np.ndarray
    electronic: np.ndarray
    currents: np.ndarray
    energy_flows: np.ndarray
    electrons: np.ndarray
    masses: np.ndarray

    @classmethod
    def from_frames(cls, frames: Sequence[Mapping[str, Any]], masses: RealSequence) -> EhrenfestTrajectory:
        m = len(masses)
        fields = {}
        for name in ["time", *_UNITS]:
            vals = [f[name] for f in frames]
            arr = np.array(vals, dtype=float)
            if not frames:
                arr = arr.reshape((0,) + ((m,) if name in ("positions", "velocities", "forces") else ()))
            fields[name] = arr
        return cls(masses=np.asarray(masses, dtype=float), **fields)

    def total_energy(self) -> np.ndarray:
        """Kinetic + bare potential + band energy, (n_t,), eV (conserved without leads)."""
        return self.kinetic + self.potential + self.electronic

    def to_xarray(self) -> Any:
        """The trajectory as an :class:`xarray.Dataset` (units in attributes)."""
        import xarray as xr  # lazy: optional dependency

        data = {name: (dims, getattr(self, name), {"units": unit}) for name, (unit, dims) in _UNITS.items()}
        data["masses"] = (("dof",), self.masses, {"units": "amu"})
        return xr.Dataset(
            data,
            coords={"time": ("time", self.time, {"units": "fs"}), "dof": np.arange(len(self.masses))},
            attrs={"title": "currentforces Ehrenfest trajectory"},
        )

    def write_netcdf(self, path: str | os.PathLike[str]) -> None:
        """Write to NetCDF atomically."""
        write_netcdf(self.to_xarray(), path)

    @classmethod
    def read_netcdf(cls, path: str | os.PathLike[str]) -> EhrenfestTrajectory:
        """Read a file written by :meth:`write_netcdf`."""
        import xarray as xr

        with xr.open_dataset(path) as ds:
            ds = ds.load()
        fields = {name: ds[name].values for name in _UNITS}
        return cls(time=ds["time"].values, masses=ds["masses"].values, **fields)
