"""hbar*omega is the keyword ``hbar_omega`` (eV) in every public signature.

The earlier names (``frequency`` in force_coefficients, joule_heating,
coefficients_from_junction and bias_sweep; ``omega`` in the lead-pair
spectra and LowBiasCoefficients.noise) still work for now: they warn with a
DeprecationWarning that names the new keyword and give exactly the result of
the new name (the expected values below are those calls: an alias is a pure
rename).  These are API checks on one small junction, not physics, so they
run on the dense backend only."""

import numpy as np
import pytest

import currentforces as cf
from currentforces import InputError
from currentforces.coupling import coefficients_from_junction
from currentforces.models.chain import chain_force_operators, chain_junction
from currentforces.noise import channel_spectra
from currentforces.parallel import bias_sweep

J = chain_junction(4)
F = chain_force_operators(4, 0.2, atoms=[1, 2])
KW = dict(bias=0.1, temperature=0.0, fermi_level=0.1)
HW = 0.02

CASES = {
    "force_coefficients": (lambda **k: cf.force_coefficients(J, F, **KW, **k), "frequency"),
    "electron_hole_spectrum": (lambda **k: cf.electron_hole_spectrum(J, F, **KW, **k), "omega"),
    "noise_spectrum": (lambda **k: cf.noise_spectrum(J, F, **KW, **k), "omega"),
    "dissipation_spectrum": (lambda **k: cf.dissipation_spectrum(J, F, **KW, **k), "omega"),
    "channel_spectra": (lambda **k: channel_spectra(J, F, **KW, **k), "omega"),
    "joule_heating": (lambda **k: cf.joule_heating(J, F[0], **KW, **k), "frequency"),
    "coefficients_from_junction": (
        lambda **k: coefficients_from_junction(J, F, temperature=0.0, **k)(0.1),
        "frequency",
    ),
    "bias_sweep": (lambda **k: bias_sweep(J, F, [0.1], temperature=0.0, **k), "frequency"),
    "LowBiasCoefficients.noise": (
        lambda **k: cf.low_bias_coefficients(J, F, fermi_level=0.1).noise(bias=0.1, **k),
        "omega",
    ),
}


def _arrays(result):
    """The numbers of a result, whatever its type, as a list of arrays."""
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in _arrays(r)]
    if hasattr(result, "K"):
        return [np.asarray(result.K), np.asarray(result.L), np.asarray(result.mean_force)]
    if hasattr(result, "energy"):
        return [np.array([result.noise, result.damping, result.energy])]
    return [np.asarray(result)]


@pytest.mark.parametrize("name", list(CASES))
def test_old_keyword_warns_naming_hbar_omega_and_gives_the_same_result(name):
    call, old = CASES[name]
    new = call(hbar_omega=HW)
    with pytest.warns(DeprecationWarning, match=rf"'{old}' is deprecated.*use 'hbar_omega'"):
        got = call(**{old: HW})
    for a, b in zip(_arrays(got), _arrays(new), strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("name", ["noise_spectrum", "force_coefficients", "joule_heating"])
def test_old_and_new_keyword_together_raise(name):
    call, old = CASES[name]
    with pytest.raises(InputError, match=f"hbar_omega only; {old}"):
        call(hbar_omega=HW, **{old: HW})


def test_positional_value_and_old_keyword_raise():
    with pytest.raises(InputError, match="hbar_omega only; omega"):
        cf.noise_spectrum(J, F, HW, omega=HW)


def test_signatures_show_the_new_name_only():
    import inspect

    for func in (
        cf.force_coefficients,
        cf.electron_hole_spectrum,
        cf.noise_spectrum,
        cf.dissipation_spectrum,
        channel_spectra,
        cf.joule_heating,
        coefficients_from_junction,
        cf.LowBiasCoefficients.noise,
    ):
        params = inspect.signature(func).parameters
        assert "hbar_omega" in params and "omega" not in params and "frequency" not in params, func.__name__
