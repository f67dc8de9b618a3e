r"""The pole expansion of the Fermi function as an explicit list of poles.

:func:`~currentforces.integrate.fermi_sea_sum` evaluates the Fermi-sea
functional

.. math::

    S[F] = 2 k_B T \sum_{n \ge 0} F(\mu + i\omega_n), \qquad
    \int n_F(E - \mu) F(E)\, dE = -i\pi\, S[F],

of a function F analytic in the upper half plane (decaying as ``1/|z|^2``)
by a fixed rule: N exact Matsubara poles, a Fermi-weight Gauss rule for the
thermal correction on the line Im z = 2 pi k_B T N, and a trapezoidal rule
in ln y above it (:ref:`theory-poles`).  Every piece is a sum of
values of F at points of the upper half plane, so the whole rule is a list
of poles z_p and weights c_p with

.. math:: S[F] \approx \sum_p c_p F(z_p)

(:eq:`eq-pole-list`).

:func:`fermi_poles` returns that list for one trapezoidal step, the form a
time-dependent scheme needs (one auxiliary matrix per pole; see
:mod:`currentforces.ehrenfest`).  ``fermi_sea_sum`` keeps its own nested,
error-controlled loop over steps; the list here is the same rule at a fixed
step (a test checks that the two agree).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import check_number, check_temperature
from .errors import InputError
from .integrate import (
    _LOWEST_SCALE,
    _TAU_HIGH,
    FERMI_SEA_POLES,
    _tau_grid,
    fermi_weight_rule,
)
from .units import KB

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike, NDArray

__all__ = ["FermiPoles", "fermi_poles"]

CORRECTION_NODES = 6
"""Nodes of the Fermi-weight Gauss rule of the thermal correction (the larger
of the two rules :func:`~currentforces.integrate.fermi_sea_sum` uses)."""


@dataclass
class FermiPoles:
    r"""Poles z_p (eV, Im z_p > 0 or on the imaginary axis above mu) and weights c_p (eV) with
    S[F] ~ sum_p c_p F(z_p) (:eq:`eq-pole-list`).

    Attributes
    ----------
    z : ndarray (P,) complex
        Poles in eV.
    weights : ndarray (P,) complex
        Weights c_p in eV (real on the imaginary axis through mu, imaginary
        for the pairs of the thermal correction).
    mu, temperature, step : float
        Chemical potential (eV), temperature (K) and trapezoidal step of the
        line rule.
    """

    z: np.ndarray
    weights: np.ndarray
    mu: float
    temperature: float
    step: float

    def __len__(self) -> int:
        return int(self.z.size)

    def apply(self, func: Callable[[NDArray[np.complexfloating[Any, Any]]], ArrayLike]) -> NDArray[Any]:
        """sum_p c_p func(z_p) for ``func`` of a 1-d complex array returning (P, ...)."""
        vals = np.asarray(func(self.z))
        return np.tensordot(self.weights, vals, axes=(0, 0))


def fermi_poles(mu: float, temperature: float, energy_scale: float = 1.0, step: float = 0.25) -> FermiPoles:
    r"""The pole list of the Fermi-sea rule at trapezoidal step ``step``.

    Parameters
    ----------
    mu : float
        Chemical potential in eV.
    temperature : float
        Temperature in K (0 allowed: the line rule from the real axis).
    energy_scale : float
        Energy scale W in eV of the functions the rule will sum (spectral
        radius or bandwidth): it places the linear-in-ln y part of the line.
    step : float
        Trapezoidal step h in the mapped variable tau; a power of two
        between 1/32 and 2 (the nested steps of ``fermi_sea_sum``).  The
        error falls as exp(-pi^2/h): halving h roughly squares it.

    Returns
    -------
    FermiPoles

    Notes
    -----
    For T > 0, with y_0 = 2 pi k_B T N (N = ``FERMI_SEA_POLES``) and the
    m-point Fermi-weight rule (t_j, w_j) (:func:`~currentforces.integrate.fermi_weight_rule`):

    * z = mu + i omega_n, c = 2 k_B T for n < N;
    * z = mu +- k_B T t_j + i y_0, c = +- i k_B T w_j / pi;
    * z = mu + i(y_0 + u(tau_k)), c = h u'(tau_k)/pi on the grid tau_k = k h,
      with u(tau) = s exp(tau - e^(-tau) + e^(tau - Lambda)),
      s = max(y_0, 1e-8 W), Lambda = ln((W + ``|mu|``)/s) + 1.
    """
    temperature = check_temperature(temperature)
    mu = check_number("mu", mu, "eV")
    energy_scale = check_number("energy_scale", energy_scale, "eV")
    if not energy_scale > 0:
        raise InputError(f"energy_scale must be a positive number of eV, got {energy_scale!r}")
    step = float(step)
    if not (math.isfinite(step) and step > 0 and math.log2(step).is_integer() and 1.0 / 32 <= step <= 2.0):
        raise InputError(f"step must be a power of two between 1/32 and 2, got {step!r}")
    kt = KB * temperature
    zs, cs = [], []
    y0 = 0.0
    if kt > 0:
        n = FERMI_SEA_POLES
        y0 = 2.0 * math.pi * kt * n
        zs.append(mu + 1j * math.pi * kt * (2 * np.arange(n) + 1))
        cs.append(np.full(n, 2.0 * kt, dtype=complex))
        t, w = fermi_weight_rule(CORRECTION_NODES)
        zs.append(np.concatenate([mu + kt * t + 1j * y0, mu - kt * t + 1j * y0]))
        cs.append(np.concatenate([1j * kt / math.pi * w, -1j * kt / math.pi * w]))
    s = max(y0, energy_scale * _LOWEST_SCALE)
    # as in fermi_sea_sum: the double-exponential end beyond W + |mu|
    lam = max(math.log((energy_scale + abs(mu)) / s), 0.0) + 1.0
    tau = _tau_grid(step, 0, lam + _TAU_HIGH)
    u = s * np.exp(tau - np.exp(-tau) + np.exp(tau - lam))
    jac = u * (1.0 + np.exp(-tau) + np.exp(tau - lam))
    zs.append(mu + 1j * (y0 + u))
    cs.append((step * jac / math.pi).astype(complex))
    return FermiPoles(np.concatenate(zs), np.concatenate(cs), float(mu), float(temperature), step)
