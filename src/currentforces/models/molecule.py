"""Small molecules between wide-band leads: closed-form test beds
(:ref:`theory-single-level`, :ref:`theory-two-site`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..junction import Junction
from ..leads import WideBandLead

if TYPE_CHECKING:
    from .._checks import RealArray

__all__ = ["single_level", "two_site_molecule"]


def single_level(
    level: float = 0.0, gamma_left: float = 0.1, gamma_right: float = 0.1, coupling: float = 0.1
) -> tuple[Junction, list[RealArray]]:
    """One level between wide-band leads, h = level - coupling * X.

    Parameters
    ----------
    level : float
        epsilon_0 in eV.
    gamma_left, gamma_right : float
        Broadenings Gamma_L, Gamma_R in eV.
    coupling : float
        lambda in eV/Angstrom; the force operator is f = lambda (:eq:`eq-single-level`).

    Returns
    -------
    junction : Junction
    forces : list with one (1, 1) force operator in eV/Angstrom
    """
    j = Junction([[level]], [WideBandLead([[gamma_left]]), WideBandLead([[gamma_right]])])
    return j, [np.array([[coupling]], dtype=float)]


def two_site_molecule(
    e1: float = 0.0,
    e2: float = 0.0,
    hopping: float = 0.5,
    gamma_left: float = 0.2,
    gamma_right: float = 0.2,
    coupling1: float = 0.05,
    coupling2: float = 0.05,
) -> tuple[Junction, list[RealArray]]:
    """Two sites, h = [[e1, -t], [-t, e2]], Gamma_L on site 1, Gamma_R on site 2,
    ``f_1 = lambda_1 |1><1|``, ``f_2 = lambda_2 |2><2|`` (:eq:`eq-two-site`).

    Energies in eV, couplings lambda in eV/Angstrom.

    Returns
    -------
    junction : Junction
    forces : list of two (2, 2) force operators
    """
    h = np.array([[e1, -hopping], [-hopping, e2]], dtype=float)
    j = Junction(h, [WideBandLead(np.diag([gamma_left, 0.0])), WideBandLead(np.diag([0.0, gamma_right]))])
    return j, [np.diag([coupling1, 0.0]), np.diag([0.0, coupling2])]
