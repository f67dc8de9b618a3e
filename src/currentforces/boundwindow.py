r"""Bound states on the real-axis window integrals at finite frequency.

At hbar*omega = w > 0 the window terms of :func:`~currentforces.forces.force_coefficients`
(:func:`~currentforces.forces.window_integrand`) pair G(E + w) or G(E - w)
with a spectral function at E:

* the equilibrium omega-window ("mixed") term
  (1/2pi) [n_0(E) - n_0(E + w)] Tr[f_a G(E + w) f_b A(E)], A = i(G - G^dagger);
* the bias term (1/2pi) {Tr[f_a G(E + w) f_b A_w(E)] + conj Tr[f_a G(E - w) f_b A_w(E)]},
  A_w = sum_l (n_l - n_0) A_l.

A bound state at E_b (:mod:`currentforces.boundstates`, residue R_b on the
force support) is a real pole of G, G(z) = R_b/(z - E_b) + regular, and
A(E) holds its delta function 2 pi R_b delta(E - E_b) (A_l does not: no lead
couples to it).  Both are treated exactly (:ref:`theory-bound-frequency`,
:eq:`eq-bound-pv`):

* the delta of A at E_b in the mixed term gives the constant
  [n_0(E_b) - n_0(E_b + w)] Tr[f_a G(E_b + w) f_b R_b];
* at the pole E_0 = E_b -+ w of G(E +- w) the integrand is
  c(E)/(E - E_0 + i0) + regular; with 1/(x + i0) = P(1/x) - i pi delta(x)
  the integral is a principal value plus -+ i pi c(E_0) (the conjugated
  term of the bias piece has the advanced prescription: + i pi).  The
  principal value is integrated after subtracting c(E_0)/(E - E_0) on a
  symmetric interval (E_0 - h, E_0 + h), whose principal value is zero: the
  remainder [c(E) - c(E_0)]/(E - E_0) + regular is analytic there (h is half
  the distance to the nearest breakpoint or band edge), so a fixed
  Gauss-Legendre rule of :data:`NODES` points integrates it, its error
  estimated against half as many; the adaptive window integral skips that
  interval for the piece.  (An adaptive rule would refine towards E_0, where
  G(E +- w) computed near its pole carries a rounding error
  ~ eps E_scale R_b/(E - E_0)^2 that no subtraction removes.)

The imaginary parts -+ i pi c(E_0) are real absorption of hbar*omega by a
continuum electron into the bound state and emission from it (friction, a
golden-rule rate); they vanish where E_b -+ w lies outside every lead
continuum (A(E_0) = 0).

Two bound states hbar*omega apart (the delta of one on the pole of the
other: a discrete absorption line, infinite at that frequency), a pole E_0
on a lead band edge (the threshold, where a one-dimensional lead's density
of states diverges), and at T = 0 a pole E_0 on a Fermi step of c (a
logarithmic divergence of the principal value) or E_b + w on mu_0, raise
:class:`~currentforces.errors.BoundStateError`.

Units: energies eV; the returned coefficients are those of the window
pieces (eV/Angstrom)^2/eV per spin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .boundstates import BOUND_STATE_COINCIDENCE
from .errors import BoundStateError
from .integrate import fermi, gauss_legendre
from .leads import EDGE_RTOL, broadening_from_self_energy

if TYPE_CHECKING:
    from ._checks import ComplexArray

__all__ = [
    "PoleSubtraction",
    "WindowPoleTerms",
    "occupied_spectral",
    "window_pole_terms",
    "subtract_poles",
    "interval_integrals",
    "in_continuum",
    "NODES",
]

NODES = 32
"""Gauss-Legendre points on each pole interval (E_0 - h, E_0 + h); its
error is estimated against the NODES/2-point rule.  The remainder is
analytic in a disc of radius 2h around E_0, so the error decays like
(2 + sqrt 3)^(-2 NODES)."""


def occupied_spectral(a_l: Sequence[ComplexArray], energy: Any, mus: Any, mu0: float, temperature: float) -> Any:
    """A_w(E) = sum_l (n_l(E) - n_0(E)) A_l(E) for a batch of energies (eV):
    the occupation-weighted spectral function of the bias terms."""
    n0 = fermi(energy, mu0, temperature)
    return sum((fermi(energy, mu, temperature) - n0)[:, None, None] * a for a, mu in zip(a_l, mus))


@dataclass(frozen=True)
class PoleSubtraction:
    """c/(E - E_0) subtracted from window piece ``piece`` on (E_0 - h, E_0 + h)."""

    piece: str
    energy: float
    half_width: float
    coefficient: np.ndarray


@dataclass
class WindowPoleTerms:
    """The bound states' exact terms of the window integrals at w > 0.

    Attributes
    ----------
    constants : dict
        Per window piece ("mixed", "pi_bias"), the (M, M) complex matrix
        added to its integral: delta terms and -+ i pi c(E_0).
    subtractions : list of PoleSubtraction
        What the integrand subtracts near each pole.
    points : list of float
        Breakpoints (eV) the window integral needs in addition.
    """

    constants: dict = field(default_factory=dict)
    subtractions: list = field(default_factory=list)
    points: list = field(default_factory=list)


def in_continuum(junction: Any, energy: float) -> bool:
    """Whether any lead has a non-zero broadening at ``energy`` (eV)."""
    for lead in junction.leads:
        sig = np.asarray(lead.self_energy_block(np.array([energy])))
        gam = broadening_from_self_energy(sig)
        if np.abs(gam).max() > 1e-10 * max(1.0, np.abs(sig).max()):
            return True
    return False


def subtract_poles(
    piece: str, values: Any, energy: Any, subtractions: Sequence[PoleSubtraction], subtract: bool = False
) -> None:
    """In place on ``values`` (n, M, M) of window piece ``piece`` at the
    energies (n,) inside each subtraction's interval: set to zero (the
    adaptive integral, which leaves the interval to :func:`interval_integrals`),
    or with ``subtract`` subtract c/(E - E_0) (what that function integrates)."""
    for s in subtractions:
        if s.piece != piece:
            continue
        x = energy - s.energy
        inside = np.abs(x) < s.half_width
        if np.any(inside):
            if subtract:
                values[inside] -= s.coefficient[None] / x[inside][:, None, None]
            else:
                values[inside] = 0.0


def interval_integrals(
    subtractions: Sequence[PoleSubtraction], integrand: Any, pieces: Sequence[tuple[str, tuple]]
) -> tuple[dict, dict, int]:
    """The pole-subtracted window pieces over their intervals (E_0 - h, E_0 + h).

    Parameters
    ----------
    subtractions : sequence of PoleSubtraction
    integrand : callable
        ``integrand(E)`` (window_integrand with the poles subtracted) for
        a 1-d array of energies, (len(E), sum of piece sizes) complex.
    pieces : list of (name, shape)
        The pieces the integrand stacks, in order.

    Returns
    -------
    values : dict
        Piece name -> its integral over the intervals of its poles, complex.
    errors : dict
        Piece name -> error estimate of the real part, name + "_im" -> of
        the imaginary part (``|I_NODES - I_NODES/2|``, max over elements, summed over intervals).
    evaluations : int
    """
    values: dict = {}
    errors: dict = {}
    offsets, start = {}, 0
    for name, shape in pieces:
        size = int(np.prod(shape))
        offsets[name] = (start, size, shape)
        start += size
    intervals: dict = {}
    for s in subtractions:
        intervals.setdefault((s.energy, s.half_width), set()).add(s.piece)
    count = 0
    for (e0, h), names in intervals.items():
        x, wt = gauss_legendre(NODES, (e0 - h, e0 + h))
        xh, wh = gauss_legendre(NODES // 2, (e0 - h, e0 + h))
        f = integrand(np.concatenate([x, xh]))
        count += x.size + xh.size
        fine, coarse = wt @ f[: x.size], wh @ f[x.size :]
        for name in names:
            a, size, shape = offsets[name]
            v = fine[a : a + size]
            d = np.abs(v - coarse[a : a + size])
            values[name] = values.get(name, 0.0) + v.reshape(shape)
            errors[name] = errors.get(name, 0.0) + float(np.max(np.abs(d.real)))
            errors[name + "_im"] = errors.get(name + "_im", 0.0) + float(np.max(np.abs(d.imag)))
    return values, errors, count


def window_pole_terms(
    blocks: Any,
    levels: Sequence[tuple],
    mus: Any,
    mu0: float,
    temperature: float,
    w: float,
    points: Any,
    edges: Sequence[float],
) -> WindowPoleTerms:
    r"""The exact bound-state terms of the finite-frequency window integrals
    (:eq:`eq-bound-pv`).

    Parameters
    ----------
    blocks : SpectralBlocks
        G and A_l on the force support (``blocks.ops`` the force operators).
    levels : sequence of (E_b, R_b, decoupled, amplitudes)
        The bound levels the force operators see (energies eV, residues on
        the support), from ``forces._bound_state_data``.
    mus : array (n_leads,)
        Chemical potentials (eV); mu0 their mean.
    temperature : float
        K.
    w : float
        hbar*omega (eV), > 0.
    points : array
        The window integral's breakpoints (eV), sorted: its interval is
        [points[0], points[-1]].
    edges : sequence of float
        The square-root branch points of the integrand (eV).

    Returns
    -------
    WindowPoleTerms

    Raises
    ------
    BoundStateError
        Two bound states hbar*omega apart; a pole E_b -+ w inside the window
        on a lead band edge; at T = 0, a pole inside a continuum on a Fermi
        step, or E_b + w on mu_0.
    """
    ops = blocks.ops
    m = ops.n_modes
    junction = blocks.junction
    scale = float(junction.energy_scale)
    tol = BOUND_STATE_COINCIDENCE * max(1.0, scale)
    edge_tol = max(tol, 4 * EDGE_RTOL * scale)  # energies that close to an edge count as on it
    mus = np.asarray(mus, dtype=float)
    biased = mus.size > 1 and np.ptp(mus) > 0
    lo, hi = float(points[0]), float(points[-1])
    energies = [lv[0] for lv in levels]
    out = WindowPoleTerms()

    def add(piece, value):
        out.constants[piece] = out.constants.get(piece, np.zeros((m, m), complex)) + value

    def n0(e):
        return float(fermi(np.array([e]), mu0, temperature)[0])

    # breakpoints where G(E), G(E +- w) have their poles (no node lands on them)
    for e in energies:
        out.points += [e] if lo < e < hi else []
    poles = []  # (piece, E_0, sign of i pi, coefficient)
    for e, r, _, _ in levels:
        weight = n0(e) - n0(e + w)
        # the delta of A(E) at E_b in the mixed term, paired with G(E_b + w)
        # (and the pole of G(E + w) at E_b on the path where A holds that delta)
        for e2 in energies:
            if abs(e2 - (e + w)) <= tol and (weight != 0.0 or lo < e < hi):
                raise BoundStateError(
                    f"the bound states at {e!r} eV and {e2!r} eV are hbar_omega = {w!r} eV apart: a discrete "
                    "absorption line, whose coefficients diverge at this frequency; change hbar_omega"
                )
        if temperature == 0 and abs(e + w - mu0) <= tol:
            raise BoundStateError(
                f"E_b + hbar_omega = {e + w!r} eV coincides with mu_0 = {mu0!r} eV at temperature 0 (bound state at "
                f"E_b = {e!r} eV): the absorption threshold, where the coefficients jump; change hbar_omega or give "
                "a temperature > 0"
            )
        for x in (e - w, e + w):
            if (weight != 0.0 or lo < x < hi) and any(abs(x - b) <= edge_tol for b in junction.band_edges):
                raise BoundStateError(
                    f"E_b {'-' if x < e else '+'} hbar_omega = {x!r} eV (bound state at E_b = {e!r} eV) lies on a "
                    "lead band edge: the absorption threshold, where the lead's density of states has its "
                    "square-root (one-dimensional lead: divergent) onset; change hbar_omega"
                )
        if weight != 0.0:
            g = blocks.green(np.array([e + w]))
            add("mixed", weight * ops.traces(g, r[None])[0])
        # the pole of G(E + w) at E_b - w (mixed, bias) and of G(E - w) at E_b + w (bias)
        candidates = [("mixed", e - w, -1.0)]
        if biased:
            candidates += [("pi_bias", e - w, -1.0), ("pi_bias", e + w, 1.0)]
        for piece, e0, sign in candidates:
            if not lo < e0 < hi:
                continue  # outside the window: its occupation factors are below the tolerance
            if not in_continuum(junction, e0):
                continue  # A(E_0) = 0 in a gap: the pole meets no spectral weight
            g0, a_l = blocks.green_and_spectral(np.array([e0]))
            if piece == "mixed":
                a = 1j * (g0 - np.conj(np.swapaxes(g0, -1, -2)))
                a = (n0(e0) - n0(e0 + w)) * a
                steps = (mu0, mu0 - w)
            else:
                a = occupied_spectral(a_l, np.array([e0]), mus, mu0, temperature)
                steps = (*mus, mu0)
            c = ops.traces(r[None], a)[0] / (2 * math.pi)
            if sign > 0:
                c = np.conj(c)
            if temperature == 0 and any(abs(e0 - x) <= tol for x in steps):
                raise BoundStateError(
                    f"the pole of G(E {'+' if sign < 0 else '-'} hbar_omega) of the bound state at E_b = {e!r} eV "
                    f"lies on a Fermi step ({e0!r} eV) at temperature 0: its principal value diverges "
                    "logarithmically; change hbar_omega or the bias, or give a temperature > 0"
                )
            poles.append((piece, e0, sign, c))
    out.points += [p[1] for p in poles]
    # half-widths of the subtraction intervals: half the distance to the nearest other breakpoint or edge
    others = np.unique(np.concatenate([np.asarray(points, float), np.asarray(out.points, float), np.asarray(edges)]))
    for piece, e0, sign, c in poles:
        d = np.abs(others - e0)
        d = d[d > tol]
        h = 0.5 * float(d.min()) if d.size else 0.5 * (hi - lo)
        out.subtractions.append(PoleSubtraction(piece, e0, h, c))
        out.points += [e0 - h, e0 + h]
        # the delta part of 1/(x +- i0): -+ i pi c(E_0); the principal value
        # of c(E_0)/(E - E_0) over (E_0 - h, E_0 + h) is zero
        add(piece, sign * 1j * math.pi * c)
    return out
