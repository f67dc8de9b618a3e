"""Atomic dynamics under current: modes, runaway, Langevin and mean-force MD.

Works on given coefficient matrices (K, L in the sign convention
F = F0 - K X + L V of seed eq. 14) and noise spectra S(omega) (:ref:`theory-noise`,
:eq:`eq-noise`) only: this package never imports the electronic engine.
:mod:`currentforces.coupling`, the layer above both, builds them from a
junction (``coefficients_from_junction``, ``spectrum_from_junction``,
``from_junction``); the names of those functions here are deprecated
aliases.  :class:`PhononBath` adds the electrode phonons (Ohmic friction
with its quantum noise on the boundary atoms).  Both integrators
(:class:`LangevinDynamics` and the ASE adaptor in
:mod:`currentforces.dynamics.ase_md`, imported lazily so that the core
works without ASE) step with the one splitting of
:mod:`currentforces.dynamics.splitting`.
"""

from __future__ import annotations

from .bath import PhononBath, combined_spectrum
from .langevin import LangevinDynamics, MeanForceDynamics, stability_limit, stationary_covariance
from .modes import ModeAnalysis, RunawayThreshold, analyze_modes, coefficients_from_junction, runaway_threshold
from .noise_generation import NoiseGenerator, spectrum_from_junction, tabulated_spectrum, wide_band_spectrum
from .observables import (
    Trajectory,
    effective_temperature,
    line_integral_work,
    mode_energies,
    nonconservative_power,
    nonconservative_work,
    normal_modes,
    occupation,
    signed_area,
    total_energy,
    write_netcdf,
)

__all__ = [
    "LangevinDynamics",
    "MeanForceDynamics",
    "stability_limit",
    "stationary_covariance",
    "PhononBath",
    "combined_spectrum",
    "ModeAnalysis",
    "RunawayThreshold",
    "analyze_modes",
    "runaway_threshold",
    "coefficients_from_junction",
    "NoiseGenerator",
    "spectrum_from_junction",
    "tabulated_spectrum",
    "wide_band_spectrum",
    "Trajectory",
    "effective_temperature",
    "line_integral_work",
    "mode_energies",
    "nonconservative_power",
    "nonconservative_work",
    "normal_modes",
    "occupation",
    "signed_area",
    "total_energy",
    "write_netcdf",
    "CurrentInducedLangevin",
]


def __getattr__(name):
    if name == "CurrentInducedLangevin":
        from .ase_md import CurrentInducedLangevin

        return CurrentInducedLangevin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
