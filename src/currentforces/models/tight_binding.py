r"""Distance-dependent two-centre tight-binding models and their derivatives.

A model gives, for two atoms i and j with separation vector r = R_j - R_i
(Angstrom), the hopping block ``H_ij`` (eV, shape (n_orb, n_orb)) and its
gradient with respect to r (eV/Angstrom, shape (3, n_orb, n_orb)).  Since
``H_ij`` depends on R_i and R_j only through r,

.. math::

    \frac{\partial H_{ij}}{\partial R_j} = \nabla_r H_{ij}(r), \qquad
    \frac{\partial H_{ij}}{\partial R_i} = -\nabla_r H_{ij}(r),

which is all :mod:`currentforces.models.atomistic` needs to build the force
operators f = -dh/dR analytically.

Two models:

* :class:`SBandModel`: one s orbital per atom,
  t(d) = -t0 exp(-beta (d - d0)) for d < cutoff, 0 beyond;
* :class:`SlaterKosterSP`: s, px, py, pz per atom with the Slater-Koster
  two-centre table (J. C. Slater and G. F. Koster, Phys. Rev. 94, 1498
  (1954), Table I) and radial integrals V_x(d) = V_x(d0) s(d), with s(d)
  either Harrison's (d0/d)^2 law or exp(-beta (d - d0)).

Both cut off hard at ``cutoff``: pick it between neighbour shells, never at
a distance that occurs in the structure (the derivative is discontinuous
there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import check_number, check_positive
from ..errors import InputError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._checks import ArrayLike

__all__ = ["SBandModel", "SlaterKosterSP", "TightBindingModel"]


class TightBindingModel:
    """Interface of a two-centre model: ``n_orbitals``, ``cutoff`` (Angstrom),
    ``onsite_block()`` (eV), ``hopping_block(r)`` (eV) and
    ``hopping_gradient(r)`` (eV/Angstrom), ``orbital_names``."""

    n_orbitals: int
    cutoff: float
    orbital_names: tuple

    def onsite_block(self) -> NDArray[Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def hopping_block(self, r: NDArray[Any]) -> NDArray[Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def hopping_gradient(self, r: NDArray[Any]) -> NDArray[Any]:  # pragma: no cover - interface
        raise NotImplementedError


_positive = check_positive


_finite = check_number


@dataclass(frozen=True)
class SBandModel(TightBindingModel):
    r"""One s orbital per atom with an exponential hopping.

    .. math:: t(d) = -t_0\, e^{-\beta (d - d_0)} \quad (d < d_c)

    Parameters
    ----------
    t0 : float
        Hopping magnitude at the reference distance, eV (> 0: the matrix
        element is -t0, band bottom at k = 0).
    beta : float
        Decay constant in 1/Angstrom (>= 0).
    d0 : float
        Reference distance in Angstrom.
    cutoff : float
        Hard cutoff distance d_c in Angstrom.
    onsite : float
        On-site energy in eV.
    """

    t0: float = 1.0
    beta: float = 1.0
    d0: float = 2.5
    cutoff: float = 3.5
    onsite: float = 0.0

    n_orbitals = 1
    orbital_names = ("s",)

    def __post_init__(self):
        _positive("t0", self.t0, "eV")
        _finite("beta", self.beta, "1/Angstrom")
        if self.beta < 0:
            raise InputError(f"beta must be >= 0 1/Angstrom, got {self.beta!r}")
        _positive("d0", self.d0, "Angstrom")
        _positive("cutoff", self.cutoff, "Angstrom")
        _finite("onsite", self.onsite, "eV")

    def onsite_block(self) -> NDArray[Any]:
        return np.array([[self.onsite]])

    def hopping(self, d: ArrayLike) -> NDArray[Any]:
        """t(d) in eV for distances d in Angstrom (0 at d >= cutoff)."""
        d = np.asarray(d, dtype=float)
        return np.where(d < self.cutoff, -self.t0 * np.exp(-self.beta * (d - self.d0)), 0.0)

    def hopping_block(self, r: NDArray[Any]) -> NDArray[Any]:
        d = float(np.linalg.norm(r))
        return np.array([[float(self.hopping(d))]])

    def hopping_gradient(self, r: NDArray[Any]) -> NDArray[Any]:
        r = np.asarray(r, dtype=float)
        d = float(np.linalg.norm(r))
        # dt/dd = -beta t; grad_r t = dt/dd * r/d
        return (-self.beta * float(self.hopping(d)) * r / d)[:, None, None]


@dataclass(frozen=True)
class SlaterKosterSP(TightBindingModel):
    r"""s, px, py, pz per atom: Slater-Koster two-centre hoppings.

    With direction cosines l = r/d (from atom i to atom j), the block
    H_ij (rows: orbitals of i, columns: orbitals of j) is

    .. math::

        H_{ss} = V_{ss\sigma},\quad H_{s p_a} = l_a V_{sp\sigma},\quad
        H_{p_a s} = -l_a V_{sp\sigma},\quad
        H_{p_a p_b} = l_a l_b V_{pp\sigma} + (\delta_{ab} - l_a l_b) V_{pp\pi}

    (Slater and Koster 1954, Table I), each V_x(d) = V_x s(d) with
    s(d) = (d0/d)^2 (``scaling="harrison"``, W. A. Harrison, *Electronic
    Structure and the Properties of Solids*, 1980, ch. 2) or
    s(d) = exp(-beta (d - d0)) (``scaling="exponential"``).

    Parameters
    ----------
    e_s, e_p : float
        On-site energies of the s and p orbitals, eV.
    v_sss, v_sps, v_pps, v_ppp : float
        V_ss sigma, V_sp sigma, V_pp sigma, V_pp pi at d0, eV.
    d0 : float
        Reference distance, Angstrom.
    cutoff : float
        Hard cutoff, Angstrom.
    scaling : {"harrison", "exponential"}
        Radial law s(d).
    beta : float
        Decay constant of the exponential law, 1/Angstrom (unused for
        ``"harrison"``).
    """

    e_s: float = 0.0
    e_p: float = 0.0
    v_sss: float = -1.0
    v_sps: float = 1.0
    v_pps: float = 1.0
    v_ppp: float = -0.5
    d0: float = 1.3
    cutoff: float = 1.9
    scaling: str = "harrison"
    beta: float = 0.0

    n_orbitals = 4
    orbital_names = ("s", "px", "py", "pz")

    def __post_init__(self):
        for name in ("e_s", "e_p", "v_sss", "v_sps", "v_pps", "v_ppp"):
            _finite(name, getattr(self, name), "eV")
        _positive("d0", self.d0, "Angstrom")
        _positive("cutoff", self.cutoff, "Angstrom")
        if self.scaling not in ("harrison", "exponential"):
            raise InputError(f"scaling must be 'harrison' or 'exponential', got {self.scaling!r}")
        _finite("beta", self.beta, "1/Angstrom")

    def onsite_block(self) -> NDArray[Any]:
        return np.diag([self.e_s, self.e_p, self.e_p, self.e_p])

    def _radial(self, d):
        """s(d) and ds/dd (1/Angstrom)."""
        if d >= self.cutoff:
            return 0.0, 0.0
        if self.scaling == "harrison":
            s = (self.d0 / d) ** 2
            return s, -2.0 * s / d
        s = float(np.exp(-self.beta * (d - self.d0)))
        return s, -self.beta * s

    def _table(self, l, s):
        """SK block for unit vector l and radial factor s."""
        ss, sp, pps, ppp = (s * v for v in (self.v_sss, self.v_sps, self.v_pps, self.v_ppp))
        h = np.empty((4, 4))
        h[0, 0] = ss
        h[0, 1:] = l * sp
        h[1:, 0] = -l * sp
        h[1:, 1:] = np.outer(l, l) * (pps - ppp) + np.eye(3) * ppp
        return h

    def hopping_block(self, r: NDArray[Any]) -> NDArray[Any]:
        r = np.asarray(r, dtype=float)
        d = float(np.linalg.norm(r))
        s, _ = self._radial(d)
        return self._table(r / d, s)

    def hopping_gradient(self, r: NDArray[Any]) -> NDArray[Any]:
        r = np.asarray(r, dtype=float)
        d = float(np.linalg.norm(r))
        s, ds = self._radial(d)
        l = r / d
        dl = (np.eye(3) - np.outer(l, l)) / d  # dl_a / dr_c  -> dl[c, a]
        out = np.empty((3, 4, 4))
        vs = np.array([self.v_sss, self.v_sps, self.v_pps, self.v_ppp])
        for c in range(3):
            # product rule: d/dr_c [table(l, s)] = table'(l; dl) * s + table(l, 1) * ds * l_c
            g = np.zeros((4, 4))
            ss, sp, pps, ppp = s * vs
            g[0, 1:] = dl[c] * sp
            g[1:, 0] = -dl[c] * sp
            g[1:, 1:] = (np.outer(dl[c], l) + np.outer(l, dl[c])) * (pps - ppp)
            out[c] = g + self._table(l, 1.0) * ds * l[c]
        return out
