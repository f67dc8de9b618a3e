"""Regenerate the seed paper's free-electron figures (Figs 5, 6 and a Lorentz map).

``currentforces figures --out DIR`` calls :func:`make_paper_figures`, which
writes, for each figure, a PNG and its data beside it:

* ``fig5_curl_S10.png`` / ``.nc``: vector plot of the curl of the
  non-conservative force over the cross-section of a square jellium wire,
  ``S = 10 lambda_F`` (seed Fig. 5, eq. 37), small bias and frequency, T = 0;
* ``fig6_curl_y_profile.png`` / ``.csv``: the y component of the curl along
  ``y = S/2`` over the last ``5 lambda_F`` before the surface ``x = S``, for
  ``S = 10`` and ``20 lambda_F`` (seed Fig. 6); the abscissa is the distance
  ``S - x`` from the surface, so the plot runs in the ``-x`` direction as in
  the paper;
* ``lorentz_Az_S10.png`` / ``.nc``: the vector potential ``A_z(R)`` of the
  Berry ("Lorentz") force, seed eq. (51) to first order in the bias, for
  ``S = 10 lambda_F`` and ``hbar omega_0 = 0.004 epsilon_F``.

The curl is in units of ``k_F F_w^bulk`` (:eq:`eq-curl-dimensionless`), ``A_z`` in units
of ``(eV / epsilon_F) p_F sigma_tr rho / k_F`` (bulk friction of seed eq. 48
per ``k_F``, per unit bias); positions in units of ``lambda_F``.  Subbands
exactly at ``E_F`` (present for ``S = 10, 20 lambda_F``) are excluded, see
:mod:`currentforces.models.jellium`.  Data go to NetCDF through xarray when
it is installed, otherwise to CSV.
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import numpy as np

from . import jellium

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from .._checks import RealArray

__all__ = [
    "FIG5_SIDE",
    "FIG6_SIDES",
    "LORENTZ_SIDE",
    "LORENTZ_HBAR_OMEGA",
    "fig5_data",
    "fig6_data",
    "lorentz_data",
    "make_paper_figures",
]

FIG5_SIDE = 10.0
"""Side of the wire in Fig. 5, in lambda_F."""
FIG6_SIDES = (10.0, 20.0)
"""Sides compared in Fig. 6, in lambda_F."""
LORENTZ_SIDE = 10.0
"""Side of the wire for the A_z map, in lambda_F."""
LORENTZ_HBAR_OMEGA = 0.004
"""hbar omega_0 / epsilon_F for the A_z map (= 1.6 epsilon_t at S = 10 lambda_F: no
subband edge at E_F +- hbar omega_0)."""


def fig5_data(side: float = FIG5_SIDE, points: int = 200) -> tuple[RealArray, RealArray, RealArray]:
    """Grid ``x, y`` (lambda_F, ``points`` each) and the curl, shape ``(points, points, 2)``."""
    x = np.linspace(0.0, side, int(points))
    curl = jellium.curl_nonconservative(side, x[:, None], x[None, :])
    return x, x.copy(), curl


def fig6_data(
    sides: Sequence[float] = FIG6_SIDES, depth: float = 5.0, points: int = 1001
) -> tuple[RealArray, dict[float, RealArray]]:
    """Distance ``d = S - x`` from the surface (lambda_F) and ``curl_y(S - d, S/2)`` per side."""
    d = np.linspace(0.0, depth, int(points))
    profiles = {}
    for s in sides:
        profiles[s] = jellium.curl_nonconservative(s, s - d, 0.5 * s)[..., 1]
    return d, profiles


def lorentz_data(
    side: float = LORENTZ_SIDE, hbar_omega: float = LORENTZ_HBAR_OMEGA, points: int = 200
) -> tuple[RealArray, RealArray, RealArray]:
    """Grid ``x, y`` (lambda_F) and dimensionless ``A_z`` (linear response in the bias)."""
    x = np.linspace(0.0, side, int(points))
    a = jellium.vector_potential_dimensionless(side, x[:, None], x[None, :], hbar_omega)
    return x, x.copy(), a


def _write_grid(path_stem, x, y, fields, attrs):
    """NetCDF via xarray if available, else CSV (long format); returns the path."""
    try:
        import xarray as xr
    except ImportError:  # pragma: no cover - depends on the installation
        xr = None
    if xr is not None:
        ds = xr.Dataset(
            {name: (("x", "y"), val, {"units": unit}) for name, (val, unit) in fields.items()},
            coords={"x": ("x", x, {"units": "lambda_F"}), "y": ("y", y, {"units": "lambda_F"})},
            attrs=attrs,
        )
        path = path_stem.with_suffix(".nc")
        ds.to_netcdf(path)
        return path
    xx, yy = np.meshgrid(x, y, indexing="ij")
    cols = [xx.ravel(), yy.ravel()] + [val.ravel() for val, _ in fields.values()]
    header = ",".join(["x_lambdaF", "y_lambdaF"] + [f"{n} [{u}]" for n, (_, u) in fields.items()])
    path = path_stem.with_suffix(".csv")
    np.savetxt(path, np.column_stack(cols), delimiter=",", header=header, comments="# ")
    return path


def _map_png(plt, path, x, y, values, *, cmap, label, title, vmin=None, vmax=None, decorate=None):
    """A colour map of ``values[x, y]`` over the cross-section (lambda_F) saved as PNG."""
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    im = ax.pcolormesh(x, y, values.T, shading="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    fig.colorbar(im, ax=ax, label=label)
    if decorate is not None:
        decorate(ax)
    ax.set_xlabel(r"$x$  [$\lambda_F$]")
    ax.set_ylabel(r"$y$  [$\lambda_F$]")
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def make_paper_figures(out_dir: str | os.PathLike[str], points: int = 200) -> list[pathlib.Path]:
    """Write Figs 5, 6 and the ``A_z`` map (PNG) with their data into ``out_dir``.

    Parameters
    ----------
    out_dir : str or path-like
        Output directory, created if missing.
    points : int
        Grid points per axis for the 2D maps (Fig. 5 colour map, ``A_z``).

    Returns
    -------
    list of pathlib.Path
        The files written (PNG and data files).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    curl_unit = "k_F F_w^bulk"

    # ---- Fig. 5 -----------------------------------------------------------
    x, y, curl = fig5_data(FIG5_SIDE, points)
    mag = np.hypot(curl[..., 0], curl[..., 1])

    def arrows(ax):
        step = max(1, len(x) // 40)
        cq = curl[::step, ::step]
        ax.quiver(
            x[::step], y[::step], cq[..., 0].T, cq[..., 1].T, color="white", pivot="mid", scale=None, width=0.0025
        )

    png = _map_png(
        plt,
        out / "fig5_curl_S10.png",
        x,
        y,
        mag,
        cmap="viridis",
        label=r"$|\nabla\times\mathbf{F}|$  [$k_F F_w^{\rm bulk}$]",
        title=rf"Fig. 5: curl of the non-conservative force, $S = {FIG5_SIDE:g}\,\lambda_F$"
        "\n(electrons flow out of the page; small bias and frequency, T = 0)",
        decorate=arrows,
    )
    written.append(png)
    written.append(
        _write_grid(
            out / "fig5_curl_S10",
            x,
            y,
            {"curl_x": (curl[..., 0], curl_unit), "curl_y": (curl[..., 1], curl_unit)},
            {
                "description": "curl of the non-conservative force on a weak delta scatterer in a "
                "square jellium wire (seed eq. 37, Fig. 5), small-bias small-frequency T = 0 limit",
                "side_lambdaF": FIG5_SIDE,
                "subbands_at_EF": "excluded (strict inequality n^2 + m^2 < (2S/lambda_F)^2)",
            },
        )
    )

    # ---- Fig. 6 -----------------------------------------------------------
    d, profiles = fig6_data(FIG6_SIDES)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for s, colour in zip(FIG6_SIDES, ("tab:blue", "tab:red")):
        ax.plot(d, profiles[s], color=colour, label=rf"$S = {s:g}\,\lambda_F$")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel(r"distance from the surface $S - x$  [$\lambda_F$]  (along $y = S/2$, running in $-x$)")
    ax.set_ylabel(r"$(\nabla\times\mathbf{F})_y$  [$k_F F_w^{\rm bulk}$]")
    ax.set_title("Fig. 6: y-component of the curl near the surface", fontsize=9)
    ax.legend()
    png = out / "fig6_curl_y_profile.png"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    plt.close(fig)
    written.append(png)
    csv = out / "fig6_curl_y_profile.csv"
    header = "distance_from_surface_lambdaF," + ",".join(f"curl_y_S{s:g} [{curl_unit}]" for s in FIG6_SIDES)
    np.savetxt(
        csv, np.column_stack([d] + [profiles[s] for s in FIG6_SIDES]), delimiter=",", header=header, comments="# "
    )
    written.append(csv)

    # ---- A_z map ----------------------------------------------------------
    x, y, a = lorentz_data(LORENTZ_SIDE, LORENTZ_HBAR_OMEGA, points)
    lim = np.max(np.abs(a))
    png = _map_png(
        plt,
        out / "lorentz_Az_S10.png",
        x,
        y,
        a,
        cmap="RdBu_r",
        vmin=-lim,
        vmax=lim,
        label=r"$A_z$  [$(eV/\epsilon_F)\,p_F\sigma_{\rm tr}\rho/k_F$]",
        title=rf"Vector potential of the Lorentz force (eq. 51), $S = {LORENTZ_SIDE:g}\,\lambda_F$, "
        rf"$\hbar\omega_0 = {LORENTZ_HBAR_OMEGA:g}\,\epsilon_F$",
    )
    written.append(png)
    written.append(
        _write_grid(
            out / "lorentz_Az_S10",
            x,
            y,
            {"A_z": (a, "(eV/epsilon_F) p_F sigma_tr rho / k_F")},
            {
                "description": "vector potential A_z of the Berry ('Lorentz') force, seed eq. (51) "
                "to first order in the bias, T = 0",
                "side_lambdaF": LORENTZ_SIDE,
                "hbar_omega_over_epsF": LORENTZ_HBAR_OMEGA,
            },
        )
    )
    return written
