"""currentforces: forces that an electric current exerts on atoms.

Five current-induced forces from one density-matrix calculation (Todorov,
Dundas, Lue, Brandbyge, Hedegaard, "Current-induced forces: a simple
derivation"): the mean force with the electron wind, the conservative
renormalisation, the non-conservative force, electronic friction, the
Berry-phase force, and the force noise.

Units: eV, Angstrom, amu, fs, K, V (see :mod:`currentforces.units`).
"""

from __future__ import annotations

__version__ = "0.1.0"

from .couplings import FiniteDifferenceCouplings, couplings_from_displacements, finite_difference_couplings
from .errors import (
    BoundStateError,
    InputError,
    IntegrationError,
    IntegrationWarning,
    NotRelaxedWarning,
    StepSizeWarning,
)
from .forces import FermiSeaPart, ForceCoefficients, electron_hole_spectrum, fermi_sea_part, force_coefficients
from .junction import Junction
from .junctionset import JunctionSet, spin_channels
from .kpoints import KPointJunction
from .leads import ChainLead, Lead, WideBandLead
from .low_bias import LinearCoefficients, LowBiasCoefficients, low_bias_coefficients
from .noise import JouleHeating, dissipation_spectrum, joule_heating, noise_spectrum
from .vibrations import ForceConstants, NormalModes, bare_force_constants

_SUBPACKAGES = ("dynamics", "models", "adapters", "greens", "parallel")


def __getattr__(name):
    # subpackages load on first use: `import currentforces` stays light
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "__version__",
    "dynamics",
    "models",
    "adapters",
    "greens",
    "parallel",
    "Junction",
    "JunctionSet",
    "spin_channels",
    "KPointJunction",
    "force_coefficients",
    "ForceCoefficients",
    "fermi_sea_part",
    "FermiSeaPart",
    "electron_hole_spectrum",
    "low_bias_coefficients",
    "LowBiasCoefficients",
    "LinearCoefficients",
    "noise_spectrum",
    "dissipation_spectrum",
    "joule_heating",
    "JouleHeating",
    "Lead",
    "ChainLead",
    "WideBandLead",
    "finite_difference_couplings",
    "couplings_from_displacements",
    "FiniteDifferenceCouplings",
    "bare_force_constants",
    "ForceConstants",
    "NormalModes",
    "InputError",
    "BoundStateError",
    "IntegrationError",
    "IntegrationWarning",
    "StepSizeWarning",
    "NotRelaxedWarning",
]
