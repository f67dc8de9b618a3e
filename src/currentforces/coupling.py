r"""Coupling of the electronic calculation to the atomic dynamics.

The current-induced forces enter the equation of motion of the atoms
(seed eq. 14, with the force noise of seed eq. 58)

.. math::

    M \ddot X = F^{(0)} - (K^b + K) X + L \dot X + \xi(t),

through three electronic results: the mean force F^(0) and the
coefficient matrices K and L (:func:`currentforces.force_coefficients`),
and the noise spectrum S(omega) (:func:`currentforces.noise_spectrum`).
This module is the one place that knows both sides: it evaluates those
electronic quantities for a junction and hands the numbers to
:mod:`currentforces.dynamics`, which itself works on given matrices and
spectra only and never imports the electronic engine.

Layers, lowest first: the electronic engine (junction, leads, Green's
functions, ``forces``, ``noise``) and the dynamics side by side; this
module above both.

Units: bias V, temperature K, energies (``fermi_level``, hbar*omega) eV,
masses amu, force constants eV/Angstrom^2, time step fs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import check_nonnegative, check_number, check_positive, check_spin, check_temperature, renamed_keywords
from .dynamics.langevin import LangevinDynamics
from .dynamics.noise_generation import tabulated_spectrum
from .errors import InputError
from .forces import FermiSeaPart, fermi_sea_part, force_coefficients
from .noise import noise_spectrum

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from ._checks import ArrayLike, OperatorsLike, RealArray
    from .junction import Junction

__all__ = ["coefficients_from_junction", "spectrum_from_junction", "from_junction"]


@renamed_keywords(frequency="hbar_omega")
def coefficients_from_junction(
    junction: Junction,
    forces: OperatorsLike,
    *,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    hbar_omega: float = 0.0,
    spin: float = 2,
) -> Callable[[float], tuple[RealArray, RealArray]]:
    """``coefficients(bias) -> (K, L)`` of a junction, for the mode analysis.

    The callable that :func:`currentforces.dynamics.runaway_threshold`
    scans over the bias: each call evaluates
    :func:`currentforces.force_coefficients` at that bias, with the
    bias-independent Fermi-sea part (:func:`currentforces.fermi_sea_part`)
    computed at the first call and reused at every later one.

    Parameters
    ----------
    junction, forces
        The junction and its force operators (eV/Angstrom).
    temperature, fermi_level, hbar_omega, spin
        Electron temperature (K), E_F (eV), hbar*omega_0 (eV; 0 is the
        adiabatic, Markov limit; ``frequency`` is a deprecated alias) and
        g_s, as for :func:`currentforces.force_coefficients`.

    Returns
    -------
    callable
        ``coefficients(bias)`` with ``bias`` in V, returning the real
        matrices K (eV/Angstrom^2) and L (eV*fs/Angstrom^2).
    """
    check_temperature(temperature)
    check_number("fermi_level", fermi_level, "eV")
    check_nonnegative("hbar_omega", hbar_omega, "eV")
    check_spin(spin)

    sea: list[FermiSeaPart] = []

    def coefficients(bias):
        if not sea:
            sea.append(
                fermi_sea_part(
                    junction, forces, fermi_level=fermi_level, temperature=temperature, hbar_omega=hbar_omega
                )
            )
        c = force_coefficients(
            junction,
            forces,
            bias=bias,
            temperature=temperature,
            fermi_level=fermi_level,
            hbar_omega=hbar_omega,
            spin=spin,
            fermi_sea=sea[0],
        )
        return np.asarray(c.K, dtype=float), np.asarray(c.L, dtype=float)

    return coefficients


def spectrum_from_junction(
    junction: Junction,
    forces: OperatorsLike,
    hbar_omega_max: float,
    *,
    n_omega: int = 201,
    bias: float = 0.0,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    spin: float = 2,
) -> Callable[[ArrayLike], NDArray[Any]]:
    """The force-noise spectrum S(omega) of a junction as a spectrum callable.

    Evaluates :func:`currentforces.noise_spectrum` at ``n_omega`` equally
    spaced hbar*omega in [0, ``hbar_omega_max``] and interpolates linearly
    between them (:func:`currentforces.dynamics.tabulated_spectrum`); above
    ``hbar_omega_max`` the spectrum is zero, so that energy acts as the
    electronic bandwidth cutoff of the noise.

    Parameters
    ----------
    junction, forces
        The junction and its force operators (eV/Angstrom).
    hbar_omega_max : float
        Largest hbar*omega of the table in eV (> 0).
    n_omega : int
        Number of table points (>= 2).
    bias, temperature, fermi_level, spin
        V, K, eV and g_s, as for :func:`currentforces.noise_spectrum`.

    Returns
    -------
    callable
        ``spectrum(hbar_omega) -> (n, M, M)`` in eV^2*fs/Angstrom^2, the
        input of :class:`currentforces.dynamics.LangevinDynamics` and
        :class:`currentforces.dynamics.NoiseGenerator`.
    """
    hbar_omega_max = check_positive("hbar_omega_max", hbar_omega_max, "eV")
    if int(n_omega) != n_omega or n_omega < 2:
        raise InputError(f"n_omega must be an integer >= 2, got {n_omega!r}")
    grid = np.linspace(0.0, hbar_omega_max, int(n_omega))
    values = np.array(
        [
            noise_spectrum(junction, forces, w, bias=bias, temperature=temperature, fermi_level=fermi_level, spin=spin)
            for w in grid
        ]
    )
    return tabulated_spectrum(grid, values)


def from_junction(
    junction: Junction,
    forces: OperatorsLike,
    masses: ArrayLike,
    bare_force_constants: ArrayLike,
    timestep: float,
    *,
    bias: float = 0.0,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    spin: float = 2,
    hbar_omega_max: float = 1.0,
    n_omega: int = 201,
    noise: bool = True,
    dynamics: type[LangevinDynamics] = LangevinDynamics,
    **kwargs: Any,
) -> LangevinDynamics:
    """Langevin dynamics of the atoms of a junction under current.

    Evaluates the adiabatic F^(0), K and L at ``bias``
    (:func:`currentforces.force_coefficients`, hbar*omega_0 = 0) and, if
    ``noise``, the noise spectrum on [0, ``hbar_omega_max``]
    (:func:`spectrum_from_junction`), and builds the integrator from them.

    Parameters
    ----------
    junction, forces
        The junction and its force operators (eV/Angstrom).
    masses : array_like, shape (M,)
        amu.
    bare_force_constants : array_like, shape (M, M)
        Bare spring matrix K^b in eV/Angstrom^2.
    timestep : float
        fs.
    bias, temperature, fermi_level, spin
        V, K, eV and g_s, as for :func:`currentforces.force_coefficients`.
    hbar_omega_max : float
        Bandwidth cutoff of the noise table in eV.
    n_omega : int
        Points of the noise table.
    noise : bool
        Evaluate and pass the noise spectrum; ``False`` gives mean-force
        dynamics (no ``spectrum`` argument is passed).
    dynamics : type
        The integrator class, :class:`~currentforces.dynamics.LangevinDynamics`
        or a subclass; called as ``dynamics(masses, bare_force_constants,
        timestep, K=, L=, mean_force=, [spectrum=,] **kwargs)``.
    **kwargs
        Further constructor arguments (``n_realizations``, ``seed``, ``bath``:
        a :class:`~currentforces.dynamics.PhononBath` on the atoms at the
        device boundary, ...).
    """
    check_positive("timestep", timestep, "fs")
    if noise:
        check_positive("hbar_omega_max", hbar_omega_max, "eV")
    c = force_coefficients(
        junction, forces, bias=bias, temperature=temperature, fermi_level=fermi_level, hbar_omega=0.0, spin=spin
    )
    if noise:
        kwargs["spectrum"] = spectrum_from_junction(
            junction,
            forces,
            hbar_omega_max,
            n_omega=n_omega,
            bias=bias,
            temperature=temperature,
            fermi_level=fermi_level,
            spin=spin,
        )
    return dynamics(
        masses,
        bare_force_constants,
        timestep,
        K=np.asarray(c.K, dtype=float),
        L=np.asarray(c.L, dtype=float),
        mean_force=np.asarray(c.mean_force, dtype=float),
        **kwargs,
    )
