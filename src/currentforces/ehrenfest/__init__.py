r"""Real-time Ehrenfest dynamics with open boundaries (:ref:`theory-ehrenfest`).

The time-domain route to the current-induced forces: the device density
matrix evolves under a Hamiltonian h(X(t)) that changes as the atoms move,
with wide-band leads held at their chemical potentials by the auxiliary-mode
scheme (:mod:`~currentforces.ehrenfest.propagator`), and the atoms move in
the mean force g_s Tr[f sigma(t)] (:mod:`~currentforces.ehrenfest.atoms`).
For small, slow motion the force reproduces F0 - K X + L V of seed eq (14)
with the coefficients of :func:`~currentforces.force_coefficients`; beyond
it the non-linear, large-amplitude regime is open.  What this mean-force
picture misses is the noise (seed section V): compare with the Langevin
runs of :mod:`currentforces.dynamics`.

Modules: :mod:`.propagator` (electrons), :mod:`.models` (h(X), f(X), bare
forces), :mod:`.atoms` (the coupled integrator), :mod:`.trajectory`
(output), :mod:`.lorentzian` (energy-dependent leads), :mod:`.compare` (the side-by-side driver).
"""

from .atoms import EhrenfestDynamics
from .compare import Comparison, compare_dynamics, plot_mode_energies
from .lorentzian import LorentzianFit, embed_lorentzian_leads, fit_lorentzians
from .models import AtomisticModel, HarmonicBareForce, LinearModel
from .propagator import ElectronState, WideBandElectrons
from .trajectory import EhrenfestTrajectory

__all__ = [
    "AtomisticModel",
    "Comparison",
    "compare_dynamics",
    "plot_mode_energies",
    "EhrenfestDynamics",
    "EhrenfestTrajectory",
    "ElectronState",
    "HarmonicBareForce",
    "LinearModel",
    "LorentzianFit",
    "embed_lorentzian_leads",
    "fit_lorentzians",
    "WideBandElectrons",
]
