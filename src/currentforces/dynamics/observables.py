"""Observables of atomic trajectories: energies, occupations, temperatures, NC work.

Conventions: displacements in Angstrom, velocities in Angstrom/fs, masses in
amu, energies in eV, time in fs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..outfile import atomic_write
from ..units import AMU, HBAR, KB

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from ase import Atoms
    from numpy.typing import NDArray

    from .._checks import ArrayLike, RealArray

__all__ = [
    "Trajectory",
    "normal_modes",
    "mode_energies",
    "total_energy",
    "occupation",
    "effective_temperature",
    "signed_area",
    "nonconservative_work",
    "nonconservative_power",
    "line_integral_work",
    "write_netcdf",
    "displaced_frames",
    "write_frames",
]


def normal_modes(masses: ArrayLike, force_constants: ArrayLike) -> tuple[RealArray, RealArray]:
    """Normal modes of the symmetric part of a spring matrix.

    Returns ``(hbar_omega, vectors)``: hbar*omega_k in eV (negative values
    flag unstable, omega^2 < 0, directions) and the orthonormal eigenvectors
    e_k of M^-1/2 K^sym M^-1/2 as columns, so Q_k = sum_a e_ka sqrt(M_a) X_a
    (:ref:`theory-observables`, :eq:`eq-mode-energy`).
    """
    m = np.asarray(masses, dtype=float) * AMU
    k = np.asarray(force_constants, dtype=float)
    ks = 0.5 * (k + k.T)
    w2, e = np.linalg.eigh(ks / np.sqrt(np.outer(m, m)))
    return HBAR * np.sign(w2) * np.sqrt(np.abs(w2)), e


def mode_energies(
    positions: NDArray[Any], velocities: NDArray[Any], masses: ArrayLike, force_constants: ArrayLike
) -> RealArray:
    """Energies of the normal modes, E_k = (Q'_k^2 + omega_k^2 Q_k^2)/2 (eV).

    ``positions`` and ``velocities`` have shape (..., M); the result has shape
    (..., M), ordered as :func:`normal_modes`.  Their sum is the mechanical
    energy in the symmetric part of the springs.
    """
    m = np.asarray(masses, dtype=float) * AMU
    hw, e = normal_modes(masses, force_constants)
    w2 = np.sign(hw) * (hw / HBAR) ** 2
    q = (np.asarray(positions) * np.sqrt(m)) @ e
    p = (np.asarray(velocities) * np.sqrt(m)) @ e
    return 0.5 * (p * p + w2 * q * q)


def total_energy(
    positions: NDArray[Any], velocities: NDArray[Any], masses: ArrayLike, force_constants: ArrayLike
) -> RealArray:
    """Mechanical energy M V^2/2 + X.K^sym X/2 in eV, shape (...)."""
    m = np.asarray(masses, dtype=float) * AMU
    x = np.asarray(positions)
    v = np.asarray(velocities)
    k = np.asarray(force_constants, dtype=float)
    ks = 0.5 * (k + k.T)
    return 0.5 * np.sum(m * v * v, axis=-1) + 0.5 * np.einsum("...a,ab,...b->...", x, ks, x)


def occupation(energy: ArrayLike, hbar_omega: ArrayLike) -> NDArray[Any]:
    """Phonon occupation n = E/(hbar omega) - 1/2 (:eq:`eq-joule`); eV in, number out."""
    return np.asarray(energy) / np.asarray(hbar_omega) - 0.5


def effective_temperature(energy: ArrayLike, hbar_omega: ArrayLike) -> NDArray[Any]:
    """T_eff in K from (hbar w/2) coth(hbar w/(2 k_B T_eff)) = E (:eq:`eq-joule`).

    Returns 0 for E <= hbar w/2 (no thermal excitation above zero point).
    """
    e = np.asarray(energy, dtype=float)
    hw = np.asarray(hbar_omega, dtype=float)
    r = 2.0 * e / hw
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(r > 1.0, hw / (2.0 * KB * np.arctanh(1.0 / np.where(r > 1.0, r, 2.0))), 0.0)
    return t


def signed_area(x1: ArrayLike, x2: ArrayLike, axis: int = -1) -> NDArray[Any]:
    """Signed area enclosed by the path (x1, x2) (shoelace formula), Angstrom^2.

    Positive for counter-clockwise circulation in the (x1, x2) plane.  The
    path is closed by joining its last point to its first.
    """
    a = np.asarray(x1)
    b = np.asarray(x2)
    return 0.5 * np.sum(a * np.roll(b, -1, axis=axis) - np.roll(a, -1, axis=axis) * b, axis=axis)


def nonconservative_work(K: ArrayLike, x: ArrayLike, alpha: int, beta: int) -> NDArray[Any]:
    """Work of the NC force around a closed orbit, W = 2 K^asym_ab * area (eV).

    :ref:`theory-waterwheel` (:eq:`eq-nc-work`; the waterwheel energetics of
    Dundas et al., Nat. Nanotechnol. 4, 99 (2009)): for F = -K^asym X
    restricted to the (X_a, X_b) plane, the closed line integral is
    2 K^asym_ab times the signed area of the orbit in that plane.  ``x`` has
    the coordinate axis ``axis`` (default: shape (..., n_t, M) with time
    along -2 and coordinates along -1).
    """
    k = np.asarray(K, dtype=float)
    kasym = 0.5 * (k[alpha, beta] - k[beta, alpha])
    xa = np.take(x, alpha, axis=-1)
    xb = np.take(x, beta, axis=-1)
    return 2.0 * kasym * signed_area(xa, xb, axis=-1)


def nonconservative_power(K: ArrayLike, positions: ArrayLike, velocities: ArrayLike) -> NDArray[Any]:
    """Instantaneous power of the NC force, P = -V . K^asym X (eV/fs).

    Shapes (..., M); K in eV/Angstrom^2, X in Angstrom, V in Angstrom/fs.
    Its time integral over a closed orbit is :func:`nonconservative_work`.
    """
    k = np.asarray(K, dtype=float)
    kasym = 0.5 * (k - k.T)
    return -np.einsum("...a,ab,...b->...", np.asarray(velocities), kasym, np.asarray(positions))


def line_integral_work(force: ArrayLike, x: ArrayLike) -> float:
    """Trapezoid line integral sum F.dX along a sampled path (eV).

    ``force`` and ``x`` have shape (n_t, M); used to check
    :func:`nonconservative_work` independently.
    """
    f = np.asarray(force)
    dx = np.diff(np.asarray(x), axis=0)
    return float(np.sum(0.5 * (f[1:] + f[:-1]) * dx))


@dataclass
class Trajectory:
    """Recorded frames of a dynamics run.

    Attributes
    ----------
    time : ndarray (n_t,), fs
    positions : ndarray (n_t, R, M), displacements in Angstrom
    velocities : ndarray (n_t, R, M), Angstrom/fs
    masses : ndarray (M,), amu
    force_constants : ndarray (M, M), eV/Angstrom^2 (K^b + K)
    L : ndarray (M, M), eV*fs/Angstrom^2
    """

    time: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    masses: np.ndarray
    force_constants: np.ndarray
    L: np.ndarray

    def energy(self) -> RealArray:
        """Mechanical energy per frame and realisation, (n_t, R), eV."""
        return total_energy(self.positions, self.velocities, self.masses, self.force_constants)

    def mode_energies(self) -> RealArray:
        """Normal-mode energies (n_t, R, M) in eV (see :func:`mode_energies`)."""
        return mode_energies(self.positions, self.velocities, self.masses, self.force_constants)

    def hbar_omega(self) -> RealArray:
        """Normal-mode energies hbar*omega_k (eV) of K^sym."""
        return normal_modes(self.masses, self.force_constants)[0]

    def occupations(self) -> NDArray[Any]:
        """n_k(t) = E_k/(hbar omega_k) - 1/2, shape (n_t, R, M)."""
        return occupation(self.mode_energies(), self.hbar_omega())

    def effective_temperatures(self, average_realizations: bool = True) -> NDArray[Any]:
        """T_eff (K) of each normal mode from its energy (:eq:`eq-joule`).

        With ``average_realizations`` the mode energies are first averaged
        over realisations (the ensemble definition, shape (n_t, M));
        otherwise per realisation (n_t, R, M).
        """
        e = self.mode_energies()
        if average_realizations:
            e = e.mean(axis=1)
        return effective_temperature(e, self.hbar_omega())

    def nonconservative_power(self) -> NDArray[Any]:
        """Instantaneous NC power -V.K^asym X, shape (n_t, R), eV/fs."""
        return nonconservative_power(self.force_constants, self.positions, self.velocities)

    def to_xarray(self) -> Any:
        """The trajectory as an :class:`xarray.Dataset` (units in attributes)."""
        import xarray as xr  # lazy: optional dependency

        r, m = self.positions.shape[1:]
        ds = xr.Dataset(
            {
                "positions": (("time", "realization", "dof"), self.positions, {"units": "Angstrom"}),
                "velocities": (("time", "realization", "dof"), self.velocities, {"units": "Angstrom/fs"}),
                "energy": (("time", "realization"), self.energy(), {"units": "eV"}),
                "masses": (("dof",), np.asarray(self.masses), {"units": "amu"}),
                "force_constants": (("dof", "dof2"), np.asarray(self.force_constants), {"units": "eV/Angstrom^2"}),
                "L": (("dof", "dof2"), np.asarray(self.L), {"units": "eV*fs/Angstrom^2"}),
            },
            coords={
                "time": ("time", self.time, {"units": "fs"}),
                "realization": np.arange(r),
                "dof": np.arange(m),
                "dof2": np.arange(m),
            },
            attrs={"title": "currentforces Langevin trajectory"},
        )
        return ds

    def write_netcdf(self, path: str | os.PathLike[str]) -> None:
        """Write to NetCDF atomically (temporary file, then ``os.replace``)."""
        write_netcdf(self.to_xarray(), path)

    def write_ase(
        self,
        path: str | os.PathLike[str],
        atoms: Atoms,
        coordinates: Sequence[tuple[int, int]],
        realization: int = 0,
        format: str | None = None,
    ) -> None:
        """Write the frames as an extended XYZ or ASE trajectory file (``ase gui`` opens both).

        Parameters
        ----------
        path : str or Path
            Destination; ``.extxyz``/``.xyz`` or ``.traj`` (or give ``format``).
        atoms : ase.Atoms
            The structure at X = 0 (positions in Angstrom).
        coordinates : sequence of (int, int)
            (atom index, Cartesian axis) of each degree of freedom, in the
            order of the trajectory's ``dof`` axis.
        realization : int
            Which realisation to write.
        format : str, optional
            An :func:`ase.io.write` format name.
        """
        if not 0 <= int(realization) < self.positions.shape[1]:
            raise InputError(f"realization must be in [0, {self.positions.shape[1]}), got {realization!r}")
        frames = displaced_frames(atoms, coordinates, self.positions[:, int(realization), :])
        write_frames(path, frames, format)

    @classmethod
    def read_netcdf(cls, path: str | os.PathLike[str]) -> Trajectory:
        """Read a file written by :meth:`write_netcdf`."""
        import xarray as xr

        with xr.open_dataset(path) as ds:
            ds = ds.load()
        return cls(
            time=ds["time"].values,
            positions=ds["positions"].values,
            velocities=ds["velocities"].values,
            masses=ds["masses"].values,
            force_constants=ds["force_constants"].values,
            L=ds["L"].values,
        )


def write_netcdf(dataset: Any, path: str | os.PathLike[str]) -> None:
    """Write an xarray Dataset to NetCDF atomically (temp file + ``os.replace``)."""
    if not hasattr(dataset, "to_netcdf"):
        raise InputError("dataset must be an xarray.Dataset")
    atomic_write(path, dataset.to_netcdf)


def displaced_frames(atoms: Atoms, coordinates: Sequence[tuple[int, int]], displacements: ArrayLike) -> list[Atoms]:
    """``ase.Atoms`` frames with the displacements X (Angstrom) added to ``atoms``.

    Parameters
    ----------
    atoms : ase.Atoms
        The structure at X = 0.
    coordinates : sequence of (int, int)
        (atom index, Cartesian axis 0/1/2) of each column of ``displacements``.
    displacements : array_like, shape (n_frames, M)
        X in Angstrom.

    Returns
    -------
    list of ase.Atoms
        One copy per frame, without calculator.
    """
    x = np.asarray(displacements, dtype=float)
    n = len(atoms)
    coords = [(int(a), int(c)) for a, c in coordinates]
    if x.ndim != 2 or x.shape[1] != len(coords):
        raise InputError(f"displacements must have shape (n_frames, {len(coords)}), got {x.shape}")
    if any(not 0 <= a < n or c not in (0, 1, 2) for a, c in coords):
        raise InputError(f"coordinates must be (atom, axis) pairs with atoms in [0, {n}) and axes 0, 1, 2")
    rows = np.array([a for a, _ in coords], dtype=int)
    cols = np.array([c for _, c in coords], dtype=int)
    reference = np.asarray(atoms.get_positions(), dtype=float)
    frames = []
    for xt in x:
        frame = atoms.copy()
        frame.calc = None
        pos = reference.copy()
        pos[rows, cols] += xt
        frame.set_positions(pos, apply_constraint=False)
        frames.append(frame)
    return frames


def write_frames(path: str | os.PathLike[str], frames: Sequence[Atoms], format: str | None = None) -> None:
    """Write ``ase.Atoms`` frames through :func:`ase.io.write` atomically
    (``.extxyz``/``.xyz`` or ``.traj`` from the suffix, or ``format``)."""
    from ase.io import write  # lazy: optional dependency

    fmt = format
    if fmt is None:
        suffix = str(path).rsplit(".", 1)[-1].lower()
        fmt = {"xyz": "extxyz", "extxyz": "extxyz", "traj": "traj"}.get(suffix)
        if fmt is None:
            raise InputError(f"path: give a .extxyz, .xyz or .traj file (or format=...), got {str(path)!r}")
    atomic_write(path, lambda tmp: write(tmp, frames, format=fmt))
