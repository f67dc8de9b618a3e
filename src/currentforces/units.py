"""Physical constants and unit conversions (CODATA 2018), nothing else.

Internal units of the whole package:

========================  ==========================
quantity                  unit
========================  ==========================
energy, hbar*omega, mu    eV
length, displacement      Angstrom
mass                      amu (atomic mass unit)
time                      fs
temperature               K
bias                      V (so e*V is in eV)
force, force operator f   eV/Angstrom
K (force constants)       eV/Angstrom^2
L (velocity coefficient)  eV*fs/Angstrom^2
noise spectrum S(omega)   eV^2*fs/Angstrom^2
current                   A
========================  ==========================

Every other module takes its constants from here; no bare physical constant
appears anywhere else in the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "HBAR",
    "KB",
    "E_CHARGE",
    "H_PLANCK",
    "H_PLANCK_SI",
    "CONDUCTANCE_QUANTUM_SPINLESS",
    "AMU",
    "M_ELECTRON",
    "EV",
    "ANGSTROM",
    "FS",
    "AMU_KG",
    "M_ELECTRON_KG",
    "HARTREE",
    "BOHR",
    "thermal_energy",
    "mass_to_internal",
]

# --- SI values (CODATA 2018, exact where the SI fixes them) -----------------
EV = 1.602176634e-19
"""One electronvolt in joule (exact)."""
E_CHARGE = 1.602176634e-19
"""Elementary charge in coulomb (exact)."""
H_PLANCK_SI = 6.62607015e-34
"""Planck constant in J*s (exact)."""
AMU_KG = 1.66053906660e-27
"""Atomic mass unit in kg."""
M_ELECTRON_KG = 9.1093837015e-31
"""Electron mass in kg."""
ANGSTROM = 1e-10
"""One Angstrom in metre."""
FS = 1e-15
"""One femtosecond in second."""

# --- Constants in internal units --------------------------------------------
HBAR = 0.6582119569
"""Reduced Planck constant in eV*fs."""
H_PLANCK = 2.0 * 3.141592653589793 * HBAR
"""Planck constant in eV*fs."""
KB = 8.617333262e-5
"""Boltzmann constant in eV/K."""

CONDUCTANCE_QUANTUM_SPINLESS = E_CHARGE**2 / H_PLANCK_SI
"""e^2/h in ampere per volt (siemens).

The Landauer current per spin, I = (e/h) * integral T(E) [n_L - n_R] dE, with
the energy integral in eV, is this number times the integral in eV: one eV
of window with unit transmission carries e^2/h * 1 V = 38.74 microampere.
"""

_MASS_UNIT_KG = EV * FS**2 / ANGSTROM**2
"""The mass unit implied by eV, Angstrom and fs: eV*fs^2/Angstrom^2 in kg."""

AMU = AMU_KG / _MASS_UNIT_KG
"""One amu in the internal mass unit eV*fs^2/Angstrom^2 (about 103.6).

Newton's law in internal units reads ``mass_amu * AMU * a = F`` with ``a``
in Angstrom/fs^2 and ``F`` in eV/Angstrom.
"""

M_ELECTRON = M_ELECTRON_KG / _MASS_UNIT_KG
"""Electron mass in eV*fs^2/Angstrom^2 (about 0.05686)."""

# --- Atomic units (CODATA 2018), for electronic-structure codes -------------
HARTREE = 27.211386245988
"""One Hartree in eV (CODATA 2018): energies of xTB (``tblite``) and most
quantum-chemistry codes."""
BOHR = 0.529177210903
"""One Bohr radius in Angstrom (CODATA 2018): lengths of ``tblite``."""


def thermal_energy(temperature: float) -> float:
    """k_B * T in eV for a temperature in K."""
    return KB * temperature


def mass_to_internal(mass_amu: float | NDArray[np.floating[Any]]) -> float | NDArray[np.floating[Any]]:
    """Convert a mass in amu to eV*fs^2/Angstrom^2."""
    return mass_amu * AMU
