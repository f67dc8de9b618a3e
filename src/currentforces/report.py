r"""The run summary in words: the per-bias table, the runaway threshold and
notes on what the numbers mean.

A run's numbers can mislead without a word of context.  :func:`run_notes`
reads a results dataset (from :func:`currentforces.job.run_job` or a file)
and says

* what replaced the structure's zero-bias forces: the structure is taken
  as the mechanical equilibrium, so the zero-bias mean force F0(0) and the
  electronic K(0) are replaced by the bare springs (modes and dynamics use
  springs + K(V) - K(0), L(V) and F0(V) - F0(0));
* which directions the bare springs do not hold (zero-frequency modes);
* that the non-conservative and Berry forces vanish by symmetry, when they
  are zero to round-off at every bias;
* whether the Langevin trajectory reaches a steady state: when a phonon
  bath damps the boundary atoms, which atoms, how strongly and at which
  temperature; and, when the slowest mode relaxes more slowly than the run
  lasts, that its averages are not steady-state averages.

:func:`run_report` is what ``currentforces run`` and ``currentforces demo``
print after the description line.
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

    from ._checks import RealArray

__all__ = ["run_report", "run_notes", "steady_state_caveat", "asymmetry_vanishes", "phonon_bath"]

ROUNDOFF = 1e-10
"""K_asym and L_asym count as zero when below ROUNDOFF times the largest
|K| and |L| of the run (double precision leaves ~1e-16 relative)."""

STEADY_RELAXATIONS = 5.0
"""A trajectory counts as steady once it lasts this many relaxation times
of its slowest mode (amplitude memory e^-5 < 1 %)."""


def run_report(ds: xr.Dataset) -> str:
    """Table, runaway threshold and notes of a results dataset (text).

    Parameters
    ----------
    ds : xarray.Dataset
        A run's results.

    Returns
    -------
    str
        What ``currentforces run`` prints after the description line, with
        a trailing newline.
    """
    from .io import summary_table

    lines = [summary_table(ds)]
    if "runaway_bias" in ds:
        v = float(ds["runaway_bias"])
        what = str(ds["runaway_character"].values) if "runaway_character" in ds else ""
        lines.append(
            "runaway threshold: " + ("none found up to the largest bias" if math.isnan(v) else f"{v:.4f} V ({what})")
        )
    lines += run_notes(ds)
    return "\n".join(lines) + "\n"


def run_notes(ds: xr.Dataset) -> list[str]:
    """Notes on what a run's numbers mean (list of wrapped paragraphs,
    each starting with ``note:``)."""
    notes = []
    for make in (_springs_note, _free_directions_note, _symmetry_note, _steady_state_note):
        text = make(ds)
        if text:
            notes.append(textwrap.fill("note: " + text, width=100, subsequent_indent="  "))
    return notes


def _has_biases(ds):
    return "bias" in ds.coords and ds.sizes.get("bias", 0) > 0


def _springs_note(ds):
    if not _has_biases(ds) or "spring_constants" not in ds:
        return None
    # F0(0) = F0(V) - [F0(V) - F0(0)] and K(0) = K(V) - [K(V) - K(0)] at any stored bias
    f0 = ds["mean_force"].values[0] - ds["mean_force_current"].values[0]
    k0 = ds["K"].values[0] - ds["K_current"].values[0]
    k0_eig = np.linalg.eigvalsh(0.5 * (k0 + k0.T))
    springs_eig = np.linalg.eigvalsh(ds["spring_constants"].values)
    a = int(np.argmax(np.abs(f0)))
    label = str(ds["mode_label"].values[a])
    source = (
        "force constants of the structure's own calculator"
        if str(ds.attrs.get("vibrations", "")).startswith("spring_constants: finite differences")
        else "springs"
    )
    used = "springs" if source == "springs" else "them"
    return (
        f"the structure is taken as the mechanical equilibrium: its zero-bias mean force F0(0) "
        f"(largest |F0(0)| {abs(f0[a]):.3f} eV/A, on {label}) and the electronic K(0) (symmetric "
        f"part, eigenvalues {k0_eig[0]:.3f} to {k0_eig[-1]:.3f} eV/A^2) are replaced by the bare "
        f"{source} (spring_constants, eigenvalues {springs_eig[0]:.3f} to {springs_eig[-1]:.3f} "
        f"eV/A^2). Modes and dynamics use {used} + K(V) - K(0), L(V) and F0(V) - F0(0); the "
        "table's F0 is the full F0(V)."
    )


def _free_directions_note(ds):
    if "spring_constants" not in ds:
        return None
    eig = np.linalg.eigvalsh(ds["spring_constants"].values)
    free = int(np.sum(eig <= ROUNDOFF * max(np.abs(eig).max(), 1e-300)))
    if free == 0:
        return None
    return (
        f"the bare springs exert no force along {free} of the {eig.size} displacement directions "
        "(zero eigenvalues of spring_constants), e.g. transverse motion of a straight chain held "
        "by central springs: those modes have zero frequency, and a current-induced K can make "
        "them run away. Restrict junction.axes to the directions the springs hold."
    )


def asymmetry_vanishes(ds: xr.Dataset) -> tuple[float, float] | None:
    """(largest |K_asym| in eV/A^2, largest |L_asym| in eV fs/A^2) when both
    are zero to round-off (:data:`ROUNDOFF`) at every bias of a run with a
    non-zero bias and at least two coordinates; ``None`` otherwise."""
    if not _has_biases(ds) or not np.any(ds["bias"].values != 0) or ds.sizes.get("mode", 0) < 2:
        return None  # (a single coordinate has no antisymmetric part at all)
    k, lm = ds["K"].values, ds["L"].values
    k_asym = np.abs(k - np.swapaxes(k, -1, -2)).max() / 2
    l_asym = np.abs(lm - np.swapaxes(lm, -1, -2)).max() / 2
    k_max, l_max = np.abs(k).max(), np.abs(lm).max()
    if k_max > 0 and l_max > 0 and k_asym <= ROUNDOFF * k_max and l_asym <= ROUNDOFF * l_max:
        return float(k_asym), float(l_asym)
    return None


def _symmetry_note(ds):
    zero = asymmetry_vanishes(ds)
    if zero is None:
        return None
    return (
        f"K_asym and L_asym vanish to round-off at every bias (largest {zero[0]:.1e} eV/A^2 and "
        f"{zero[1]:.1e} eV fs/A^2): a symmetry, not a bug. The non-conservative and Berry forces "
        "need electron-hole asymmetry of the states in the bias window around E_F. A "
        "nearest-neighbour (bipartite) band at its centre has none: the s band of a half-filled "
        'gold chain, the pi bands of a carbon chain at fermi_level = "auto" (E_F = e_p; its sigma '
        "bands are gapped there). Move E_F off the band centre to see them."
    )


def _duration(fs):
    if fs >= 1e6:
        return f"{fs * 1e-6:.3g} ns"
    if fs >= 1e3:
        return f"{fs * 1e-3:.3g} ps"
    return f"{fs:.3g} fs"


def _steady_state(ds):
    """(rate in 1/fs, relaxation time in fs or inf, run length in fs) of the
    Langevin run, or None without one."""
    if "dynamics_max_growth_rate" not in ds or "time" not in ds.coords or ds.sizes.get("time", 0) < 2:
        return None
    rate = float(ds["dynamics_max_growth_rate"])
    t = ds["time"].values
    tau = -1.0 / rate if rate < 0 else math.inf
    return rate, tau, float(t[-1] - t[0])


def phonon_bath(ds: xr.Dataset) -> tuple[list[str], RealArray, float] | None:
    """(labels of the coordinates in the bath, friction rates in 1/fs,
    temperature in K) of a run whose Langevin trajectory had a phonon bath;
    ``None`` otherwise."""
    if "bath_friction" not in ds or "bath_temperature" not in ds:
        return None
    gamma = np.asarray(ds["bath_friction"].values, dtype=float)
    on = gamma > 0
    if not np.any(on):
        return None
    labels = [str(x) for x in np.asarray(ds["mode_label"].values)[on]]
    return labels, gamma[on], float(ds["bath_temperature"])


def _bath_words(bath):
    labels, gamma, temperature = bath
    rate = f"{gamma[0]:g} /fs" if np.all(gamma == gamma[0]) else f"{gamma.min():g} to {gamma.max():g} /fs"
    return (
        f"a phonon bath on {', '.join(labels)} (the electrode phonons: Ohmic friction {rate} with its "
        f"quantum noise at {temperature:g} K)"
    )


def steady_state_caveat(ds: xr.Dataset) -> str | None:
    """Two short lines for the trajectory figure when the Langevin run is not
    in a steady state (``None`` otherwise)."""
    s = _steady_state(ds)
    if s is None or s[2] >= STEADY_RELAXATIONS * s[1]:
        return None
    rate, tau, length = s
    if rate >= 0:
        return "not a steady state: a mode does not decay at this bias"
    damping = (
        "electronic friction and a phonon bath"
        if phonon_bath(ds)
        else "electronic friction is the only damping; no phonon bath"
    )
    return (
        f"not a steady state: the slowest mode relaxes in {_duration(tau)}, the run lasts "
        f"{_duration(length)}\n({damping})"
    )


def _steady_state_note(ds):
    s = _steady_state(ds)
    if s is None:
        return None
    rate, tau, length = s
    v = float(ds["dynamics_bias"])
    bath = phonon_bath(ds)
    if s[2] >= STEADY_RELAXATIONS * s[1]:
        if bath is None:
            return None
        return (
            f"the Langevin run at {v:.2f} V has {_bath_words(bath)}. Its slowest mode relaxes in "
            f"{_duration(tau)} and the run lasts {_duration(length)}: after the first "
            f"{_duration(STEADY_RELAXATIONS * tau)} the trajectory samples the steady state. (The "
            "table's growth rates are those of the electrons and springs alone.)"
        )
    if rate >= 0:
        return (
            f"the Langevin run at {v:.2f} V is not in a steady state: a mode does not decay "
            f"(largest Re lambda {rate * 1e3:.2e} /ps), so no steady state exists at this bias."
        )
    if bath is not None:
        return (
            f"the Langevin run at {v:.2f} V is not in a steady state: with {_bath_words(bath)} its "
            f"slowest mode relaxes in {_duration(tau)} (Re lambda = {rate * 1e3:.2e} /ps) and the run "
            f"lasts {_duration(length)}, so averages over this trajectory are not steady-state averages. "
            "Run longer or strengthen dynamics.bath_friction."
        )
    return (
        f"the Langevin run at {v:.2f} V is not in a steady state: its slowest mode relaxes in "
        f"{_duration(tau)} (Re lambda = {rate * 1e3:.2e} /ps) and the run lasts {_duration(length)}. "
        "Electronic friction is the only damping in this model (no phonon bath) and it barely damps "
        "that mode, so averages over this trajectory are not steady-state averages; "
        "dynamics.phonon_bath = true couples the boundary atoms to the electrode phonons."
    )
