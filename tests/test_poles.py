"""The explicit pole list of the Fermi-sea rule (currentforces.poles)."""

import numpy as np
import pytest

from currentforces.errors import InputError
from currentforces.integrate import fermi, fermi_sea_sum, gauss_legendre
from currentforces.poles import fermi_poles


def _resolvent(z):
    # two poles in the lower half plane, one close to mu: decays as 1/z^2
    return (1.0 / (z - 0.3 + 0.1j) - 1.0 / (z + 2j))[:, None]


@pytest.mark.parametrize("temperature", [0.0, 300.0, 2000.0])
def test_pole_list_reproduces_the_fermi_sea_sum(temperature):
    # Expected: fermi_sea_sum at rtol 1e-12 (its own nested, error-controlled loop over
    # the same rule); the list at step 1/4 is that rule at a fixed step, exact to ~1e-15.
    ref = fermi_sea_sum(_resolvent, 0.0, temperature, rtol=1e-12, energy_scale=2.0).value[0]
    poles = fermi_poles(0.0, temperature, energy_scale=2.0, step=0.25)
    assert abs(poles.apply(_resolvent)[0] - ref) < 1e-13
    assert np.all(poles.z.imag > 0)


def test_pole_list_integrates_the_fermi_function():
    # Independent route: int n_F(E) F(E) dE = -i pi S[F] (close the real axis in the upper
    # half plane) by Gauss-Legendre on [-60, 60] eV for F = 1/(E - e0 + i g)^2 at 1000 K,
    # plus the tails in closed form: n_F = 1 below -60 eV (to e^-700), where
    # int_{-inf}^{-60} F dE = 1/(60 + e0 - i g), and n_F = 0 above +60 eV.
    e0, g, t = 0.2, 0.5, 1000.0

    def f(z):
        return 1.0 / (z - e0 + 1j * g) ** 2

    x, w = gauss_legendre(40, np.linspace(-60.0, 60.0, 121))
    real_axis = np.sum(w * fermi(x, 0.0, t) * f(x)) + 1.0 / (60.0 + e0 - 1j * g)
    s = fermi_poles(0.0, t, energy_scale=1.0, step=0.25).apply(f)
    assert abs(-1j * np.pi * s - real_axis) < 1e-12


def test_bad_step_is_refused():
    # Bad input: a step that is not one of the nested powers of two raises InputError.
    with pytest.raises(InputError, match="step"):
        fermi_poles(0.0, 300.0, step=0.3)
