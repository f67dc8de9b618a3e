"""Figures (PNG) of a run's NetCDF results, with matplotlib (Agg backend).

One function per figure, each taking the results dataset and an output
folder and returning the path written:

* :func:`plot_coefficients` - friction, non-conservative and Berry
  magnitudes and the mean force versus bias;
* :func:`plot_modes` - mode energies and growth rates versus bias, runaway
  threshold marked;
* :func:`plot_transmission` - T(E);
* :func:`plot_trajectory` - displacements and energy of the Langevin run.

:func:`make_figures` writes every figure the dataset has data for.
matplotlib is imported when a function runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import os

    import xarray as xr

__all__ = ["make_figures", "plot_coefficients", "plot_modes", "plot_transmission", "plot_trajectory"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out, name):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


SINGLE_CURVE = "k"
"""Colour of a panel's only curve: black, never one of the per-coordinate
colours of the legend next to it."""


def _coefficients_figure(ds):
    from .report import asymmetry_vanishes

    plt = _pyplot()
    v = ds["bias"].values
    fig, ax = plt.subplots(2, 2, figsize=(9, 6.5), sharex=True)
    labels = [str(x) for x in ds["mode_label"].values]
    fr = -np.diagonal(ds["friction"].values, axis1=1, axis2=2)
    for i, lab in enumerate(labels):
        ax[0, 0].plot(v, fr[:, i], "o-", ms=3, label=lab)
        ax[1, 1].plot(v, ds["mean_force"].values[:, i], "o-", ms=3, label=lab)
    ax[0, 0].set_ylabel(r"friction $-L^{sym}_{aa}$ (eV fs/$\AA^2$)")
    ax[0, 0].legend(fontsize=7)
    zero = asymmetry_vanishes(ds)
    for a, name, ylabel in (
        (ax[0, 1], "nonconservative", r"max $|K^{asym}|$ (eV/$\AA^2$)"),
        (ax[1, 0], "berry", r"max $|L^{asym}|$ (eV fs/$\AA^2$)"),
    ):
        a.plot(v, np.abs(ds[name].values).max(axis=(1, 2)), "o-", ms=3, color=SINGLE_CURVE)
        a.set_ylabel(ylabel)
        if zero is not None:
            a.text(
                0.5,
                0.5,
                "zero to round-off at every bias:\na symmetry (see the run summary)",
                transform=a.transAxes,
                ha="center",
                va="center",
                fontsize=9,
                bbox={"facecolor": "white", "edgecolor": "0.7"},
            )
    ax[1, 1].set_ylabel(r"mean force $F^{(0)}$ (eV/$\AA$)")
    for a in ax[1]:
        a.set_xlabel("bias (V)")
    fig.suptitle("current-induced force coefficients")
    return fig


def plot_coefficients(ds: xr.Dataset, out: str | os.PathLike[str], prefix: str = "") -> Path:
    """Coefficients versus bias: diagonal friction -L_sym (eV fs/A^2),
    largest ``|K_asym|`` (eV/A^2), largest ``|L_asym|`` (eV fs/A^2), mean force F0 (eV/A)."""
    return _save(_coefficients_figure(ds), out, f"{prefix}coefficients.png")


def _runaway(ds, axes):
    """Dashed line and label at the runaway threshold on every panel; the
    label sits inside the axes, on the side of the line with more room."""
    if "runaway_bias" in ds and np.isfinite(float(ds["runaway_bias"])):
        vr = float(ds["runaway_bias"])
        for a in axes:
            a.axvline(vr, color="k", ls="--", lw=1)
            lo, hi = a.get_xlim()
            right = (vr - lo) < 0.5 * (hi - lo)
            a.text(
                vr,
                0.97,
                f" runaway {vr:.3f} V ",
                transform=a.get_xaxis_transform(),
                ha="left" if right else "right",
                va="top",
                fontsize=8,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
            )


def _modes_figure(ds):
    plt = _pyplot()
    v = ds["bias"].values
    e = ds["mode_energy"].values
    g = ds["growth_rate"].values
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.8))
    for k in range(e.shape[1]):
        sel = e[:, k] >= 0
        ax[0].plot(v[sel], 1e3 * e[sel, k], ".", color="C0")
        ax[1].plot(v, 1e3 * g[:, k], ".", color="C1")
    ax[1].axhline(0.0, color="0.6", lw=0.8)
    ax[0].set_ylabel(r"mode energy $\hbar\,\mathrm{Im}\,\lambda$ (meV)")
    ax[1].set_ylabel(r"growth rate $\mathrm{Re}\,\lambda$ (1/ps)")
    for a in ax:
        a.set_xlabel("bias (V)")
    _runaway(ds, ax)
    fig.suptitle("mode analysis")
    return fig


def plot_modes(ds: xr.Dataset, out: str | os.PathLike[str], prefix: str = "") -> Path:
    """Mode energies hbar Im(lambda) (meV) and growth rates Re(lambda) (1/ps)
    versus bias, with the runaway threshold as a dashed line."""
    return _save(_modes_figure(ds), out, f"{prefix}modes.png")


def plot_transmission(ds: xr.Dataset, out: str | os.PathLike[str], prefix: str = "") -> Path:
    """Transmission T(E) with the Fermi level marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(ds["energy"].values, ds["transmission"].values)
    ax.axvline(float(ds.attrs.get("fermi_level_eV", 0.0)), color="k", ls=":", lw=1, label="$E_F$")
    ax.set_xlabel("E (eV)")
    ax.set_ylabel("T(E)")
    ax.legend()
    return _save(fig, out, f"{prefix}transmission.png")


def _trajectory_figure(ds):
    from .report import steady_state_caveat

    plt = _pyplot()
    t = ds["time"].values * 1e-3
    fig, ax = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
    for i, lab in enumerate(ds["mode_label"].values):
        ax[0].plot(t, ds["positions"].values[:, i], lw=0.8, label=str(lab))
    ax[0].set_ylabel(r"displacement ($\AA$)")
    ax[0].legend(fontsize=7)
    ke, pe = ds["kinetic_energy"].values * 1e3, ds["potential_energy"].values * 1e3
    ax[1].plot(t, ke, lw=0.8, label="kinetic")
    ax[1].plot(t, pe, lw=0.8, label="potential")
    ax[1].plot(t, ke + pe, lw=1.0, color="k", label="total")
    ax[1].set_ylabel("energy (meV)")
    ax[1].set_xlabel("time (ps)")
    ax[1].legend(fontsize=7)
    title = f"Langevin run at {float(ds['dynamics_bias']):.2f} V"
    caveat = steady_state_caveat(ds)
    fig.suptitle(title if caveat is None else f"{title}\n{caveat}", fontsize=10 if caveat else None)
    return fig


def plot_trajectory(ds: xr.Dataset, out: str | os.PathLike[str], prefix: str = "") -> Path:
    """Displacements (Angstrom) and kinetic/potential/total energy (meV)
    of the Langevin run versus time (ps); the title says when the run is not
    in a steady state."""
    return _save(_trajectory_figure(ds), out, f"{prefix}trajectory.png")


def make_figures(ds: xr.Dataset, out: str | os.PathLike[str], prefix: str = "") -> list[Path]:
    """Write every figure the dataset has data for; returns the paths."""
    paths = []
    if "bias" in ds.coords and ds.sizes.get("bias", 0):
        paths.append(plot_coefficients(ds, out, prefix))
    if "growth_rate" in ds:
        paths.append(plot_modes(ds, out, prefix))
    if "transmission" in ds:
        paths.append(plot_transmission(ds, out, prefix))
    if "time" in ds.coords and "positions" in ds:
        paths.append(plot_trajectory(ds, out, prefix))
    return paths
