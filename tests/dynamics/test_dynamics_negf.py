"""Dynamics driven by the NEGF engine end to end: the waterwheel runaway of
two neighbouring atoms in a perfect chain."""

import math

import numpy as np

from currentforces import force_coefficients, noise_spectrum
from currentforces.coupling import coefficients_from_junction, spectrum_from_junction
from currentforces.dynamics import runaway_threshold
from currentforces.models.chain import chain_force_operators, chain_junction
from currentforces.units import AMU, HBAR


def test_wrappers_return_the_engine_numbers():
    j = chain_junction(8, 1.0)
    f = chain_force_operators(8, 0.3, atoms=[3, 4])
    k, l = coefficients_from_junction(j, f, temperature=300.0, fermi_level=0.2)(0.1)
    c = force_coefficients(j, f, bias=0.1, temperature=300.0, fermi_level=0.2)
    assert np.array_equal(k, c.K) and np.array_equal(l, c.L)
    spec = spectrum_from_junction(j, f, 0.1, n_omega=3, bias=0.1, temperature=300.0, fermi_level=0.2)
    ref = noise_spectrum(j, f, 0.05, bias=0.1, temperature=300.0, fermi_level=0.2)
    assert np.allclose(spec(np.array([0.05]))[0], ref, atol=1e-14, rtol=0)


def test_chain_waterwheel_threshold():
    # Two neighbouring atoms of a perfect chain (t = 1 eV, k_F = pi/4), bare springs
    # chosen so that both modes sit at hbar w = 10 meV at zero bias (K^b = M w^2 - K_eq).
    # docs/theory.rst eq-chain-friction: friction eta = 2 g_s hbar beta^2/(pi t^2)
    # on each atom and K^asym_12 = 2 g_s eV beta^2 sin(2 k_F)/(pi t^2);
    # eq-threshold-degenerate: two degenerate modes
    # with equal friction run away when |K^asym| > eta w, i.e. at eV* = hbar w / |sin 2 k_F|
    # = 10 mV.  The small Berry term and the bias-induced renormalisation shift it by
    # a fraction of a percent (the eta b kappa term of eq-threshold-degenerate), so 2 % is
    # the tolerance.
    t, beta, n, mass, w = 1.0, 0.2, 10, 10.0, 0.01
    ef = -math.sqrt(2) * t  # E = -2t cos k  ->  k_F = pi/4
    j = chain_junction(n, t)
    f = chain_force_operators(n, beta, atoms=[4, 5])
    k_eq = force_coefficients(j, f, temperature=0.0, fermi_level=ef).K
    kb = mass * AMU * (w / HBAR) ** 2 * np.eye(2) - k_eq
    coefficients = coefficients_from_junction(j, f, temperature=0.0, fermi_level=ef)
    r = runaway_threshold(coefficients, [mass, mass], kb, 0.05, n_scan=11, tolerance=1e-5)
    assert r.character == "waterwheel"
    assert abs(r.bias - w / abs(math.sin(2 * math.pi / 4))) < 0.02 * w
