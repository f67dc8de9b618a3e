"""The units module: internal units eV, Angstrom, amu, fs."""

import numpy as np

from currentforces import units


def test_amu_in_internal_units():
    # 1 amu = 1.66053906660e-27 kg; the internal mass unit is
    # eV*fs^2/A^2 = 1.602176634e-19 J * 1e-30 s^2 / 1e-20 m^2 = 1.602176634e-29 kg.
    assert np.isclose(units.AMU, 1.66053906660e-27 / 1.602176634e-29, rtol=1e-14)
    assert 103.6 < units.AMU < 103.7


def test_hbar_consistent_with_planck():
    # hbar = h / 2pi with h = 6.62607015e-34 J s = 4.135667696e-15 eV s.
    h_evfs = units.H_PLANCK_SI / units.EV / units.FS
    assert np.isclose(units.H_PLANCK, h_evfs, rtol=1e-9)


def test_conductance_quantum():
    # e^2/h = 3.874045846e-5 S (CODATA 2018, exact in the 2019 SI).
    assert np.isclose(units.CONDUCTANCE_QUANTUM_SPINLESS, 3.874045846e-5, rtol=1e-9)
