r"""Electron-hole pairs between leads: one kernel for the spectra Xi, D, S and D_lm, S_lm.

A vibration of energy hbar*w scatters an electron of lead m at energy E
into an empty state of lead l at E + hbar w (it absorbs hbar w), or an
electron of l at E + hbar w back into an empty state of m at E (it emits
hbar w).  With the partial spectral functions A_l of the leads and their
occupations n_l the two processes have the weights
(:ref:`theory-pair-kernel`)

.. math::

    R^{+}_{lm}(\omega) = \int dE\, n_m(E)\,[1 - n_l(E+\hbar\omega)]\,
        \mathrm{Tr}[f_a A_l(E+\hbar\omega) f_b A_m(E)], \qquad
    R^{-}_{lm}(\omega) = \int dE\, n_l(E+\hbar\omega)\,[1 - n_m(E)]\,
        \mathrm{Tr}[f_a A_l(E+\hbar\omega) f_b A_m(E)],

and every lead-pair spectrum of the package is a combination of the two:

* the dissipative kernel D = (g_s/4pi) sum_lm (R+ - R-)
  (:func:`~currentforces.dissipation_spectrum`, :ref:`theory-dissipation`);
* the symmetrised force noise S = (g_s hbar/4pi) sum_lm (R+ + R-)
  (:func:`~currentforces.noise_spectrum`, :ref:`theory-noise`);
* the electron-hole spectrum of seed eqs 22, 27-32, Xi(w) = -D(w)^*/2pi
  (:func:`~currentforces.electron_hole_spectrum`, :ref:`theory-electron-hole`);
* the per lead-pair terms D_lm and S_lm
  (:func:`~currentforces.noise.channel_spectra`), and D and S together for
  :func:`~currentforces.joule_heating`.

Summed over the leads, with :math:`\rho_<(E) = \sum_m n_m(E) A_m(E)` and
:math:`\rho_>(E) = \sum_m [1 - n_m(E)] A_m(E)`, the totals need two traces
per energy, :math:`\sum R^+ = \int dE\,\mathrm{Tr}[f_a \rho_>(E + \hbar\omega)
f_b \rho_<(E)]` and :math:`\sum R^- = \int dE\,\mathrm{Tr}[f_a
\rho_<(E + \hbar\omega) f_b \rho_>(E)]`; the channels need one trace per
lead pair.

**Quadrature.**  :func:`pair_spectra` integrates whichever of D, S and the
channels are asked for in one adaptive integral per frequency, each
quantity a tolerance group of its own (judged against its own size), on the
breakpoints of :meth:`~currentforces.Junction.window_breakpoints`, which
grade the narrow resonances of G at E and at E - hbar w (the peaks of
A(E + hbar w)), so a level of width 1e-10 eV stays resolved; the lead
band edges E_edge and E_edge - hbar w, where A(E) and A(E + hbar w) have
their square roots, are integrated in u, E = E_edge -+ u^2
(``integrate_adaptive(edges=)``).  The Green's
functions at E and at E + hbar w come from one call of the backend, and at
w = 0 from one set of energies.  One energy grid shared by all frequencies
would put every frequency's shifted resonances into every integrand: on
the 100-orbital random device of ``benchmarks/bench_coefficients.py``
(300 K, 16 frequencies) the union grid has 1557 panels where each
frequency needs about 190, i.e. several times more Green's functions and
traces than one grid per frequency; and the grids of different frequencies
share only about a sixth of their energies exactly (where the resonances
at E alone set the panels), too few to pay for keeping their spectral
functions.

This module sits below :mod:`currentforces.forces` and
:mod:`currentforces.noise`: it gets the Green's-function blocks on the force
support from its caller (``blocks``, a
:class:`~currentforces.forces.SpectralBlocks`) and imports neither.

Units: hbar*w in eV; D and Xi in eV/Angstrom^2, S in eV^2*fs/Angstrom^2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import check_finite, check_leads, check_rtol, check_spin, check_temperature
from .errors import InputError
from .integrate import fermi, integrate_adaptive
from .operators import ForceOperators, combine
from .units import HBAR

if TYPE_CHECKING:
    from ._checks import ArrayLike, ComplexArray, OperatorsLike, RealArray, RealSequence

__all__ = ["QUANTITIES", "PairSpectra", "pair_arguments", "pair_spectra"]

QUANTITIES = ("dissipation", "noise", "channels")
"""What :func:`pair_spectra` can compute: D, S, and the per lead-pair D_lm and S_lm."""


@dataclass
class PairSpectra:
    r"""Lead-pair spectra at a set of frequencies (:func:`pair_spectra`).

    Attributes
    ----------
    hbar_omega : ndarray
        hbar*omega in eV, as given (any shape).
    dissipation : ndarray or None
        D(w), shape ``hbar_omega.shape + (M, M)``, complex, eV/Angstrom^2;
        None when not asked for.
    noise : ndarray or None
        S(w), shape ``hbar_omega.shape + (M, M)``, complex Hermitian,
        eV^2*fs/Angstrom^2.
    channel_dissipation, channel_noise : ndarray or None
        D_lm(w) and S_lm(w), shape ``hbar_omega.shape + (L, L, M, M)``
        (first lead index l: the state at E + hbar w).
    error : dict
        Estimated absolute integration error of each computed quantity
        (``"dissipation"``, ``"noise"``, ``"channel_dissipation"``,
        ``"channel_noise"``), an array of shape ``hbar_omega.shape`` in the
        quantity's units.
    """

    hbar_omega: np.ndarray
    dissipation: np.ndarray | None = None
    noise: np.ndarray | None = None
    channel_dissipation: np.ndarray | None = None
    channel_noise: np.ndarray | None = None
    error: dict = field(default_factory=dict)

    @property
    def electron_hole(self) -> ComplexArray:
        r"""Xi(w) = -D(w)^* / 2 pi in eV/Angstrom^2 (:ref:`theory-electron-hole`)."""
        if self.dissipation is None:
            raise InputError("electron_hole needs the dissipation: ask pair_spectra for 'dissipation'")
        return -np.conj(self.dissipation) / (2 * math.pi)


def pair_arguments(
    junction: Any,  # a Junction (pairs sits below junction and does not import it)
    forces: OperatorsLike,
    hbar_omega: ArrayLike,
    bias: float,
    temperature: float,
    fermi_level: float,
    spin: float,
    chemical_potentials: ArrayLike | None,
    rtol: float,
    caller: str,
) -> tuple[ForceOperators, RealArray, RealArray, float, float, float]:
    """Check the common arguments of the lead-pair spectra.

    Returns
    -------
    ops : ForceOperators
    mus : ndarray
        Chemical potentials of the leads (eV).
    hbar_omega : ndarray
        The frequencies (eV), finite.
    temperature, spin, rtol
        Checked values.
    """
    temperature = check_temperature(temperature)
    spin = check_spin(spin)
    rtol = check_rtol(rtol)
    check_leads(junction, caller)
    try:
        hw = np.asarray(hbar_omega, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"hbar_omega must be a number or an array of numbers in eV, got {hbar_omega!r}") from None
    check_finite("hbar_omega", hw)
    ops = ForceOperators(forces, junction.size)
    mus = junction.chemical_potentials(bias, fermi_level, chemical_potentials)
    return ops, mus, hw, temperature, spin, rtol


def pair_spectra(
    blocks: Any,
    chemical_potentials: RealSequence,
    hbar_omega: ArrayLike,
    temperature: float,
    spin: float,
    rtol: float,
    quantities: Sequence[str],
    what: str = "lead-pair spectrum",
    modes: int | None = None,
) -> PairSpectra:
    r"""D(w), S(w) and the channel spectra D_lm(w), S_lm(w) at every hbar*w.

    .. math::

        D = \frac{g_s}{4\pi}\sum_{lm}(R^+_{lm} - R^-_{lm}), \qquad
        S = \frac{g_s\hbar}{4\pi}\sum_{lm}(R^+_{lm} + R^-_{lm}),

    with the absorption and emission weights R+- of the module docstring
    (:ref:`theory-pair-kernel`); D_lm and S_lm are the (l, m) terms.

    Parameters
    ----------
    blocks : SpectralBlocks
        Green's-function blocks on the force support: ``blocks.junction``,
        ``blocks.ops`` (:class:`~currentforces.operators.ForceOperators`) and
        ``blocks.green_and_spectral(E) -> (G[S, S], [A_l[S, S]])``.
    chemical_potentials : sequence of float
        mu_l of the leads, eV.
    hbar_omega : array_like
        hbar*w in eV, finite, any sign and shape.
    temperature : float
        K (0 allowed).
    spin : int
        g_s.
    rtol : float
        Relative tolerance of each energy integral, for each quantity
        against its own largest element.
    quantities : sequence of str
        Any of :data:`QUANTITIES`.
    what : str
        Name used in error messages.
    modes : int, optional
        With a moving overlap: ``blocks.ops`` stacks F_1..F_M, D_1..D_M
        (:func:`~currentforces.operators.stacked_operators`) and
        ``modes`` is M; every trace then carries the coupling
        f_a(E + hbar w/2) = F_a + (E + hbar w/2) D_a at the mean energy of
        its pair (:eq:`eq-overlap-moving`;
        :func:`~currentforces.operators.combine`).

    Returns
    -------
    PairSpectra
        The quantities asked for, the others None.

    Raises
    ------
    IntegrationError
        When an energy integral misses its tolerance.
    """
    quantities = tuple(quantities)
    bad = [q for q in quantities if q not in QUANTITIES]
    if bad or not quantities:
        raise InputError(f"quantities must be a non-empty subset of {QUANTITIES}, got {quantities!r}")
    ops = blocks.ops
    mus = [float(m) for m in chemical_potentials]
    hw = np.asarray(hbar_omega, dtype=float)
    m, nl = ops.n_modes if modes is None else modes, len(mus)
    # the integrand's components, in order, each one tolerance group
    shapes = {
        "dissipation": (m, m),
        "noise": (m, m),
        "channel_dissipation": (nl, nl, m, m),
        "channel_noise": (nl, nl, m, m),
    }
    names: list[str] = [q for q in ("dissipation", "noise") if q in quantities]
    if "channels" in quantities:
        names += ["channel_dissipation", "channel_noise"]
    sizes = [int(np.prod(shapes[q])) for q in names]
    prefactor = {q: spin / (4 * math.pi) * (HBAR if q.endswith("noise") else 1.0) for q in names}
    values = {q: np.zeros(hw.shape + shapes[q], dtype=complex) for q in names}
    errors = {q: np.zeros(hw.shape) for q in names}
    for idx, w in np.ndenumerate(hw):
        w = float(w)
        # resonances graded at E and at E - w (the peaks of A(E + w))
        pts = blocks.junction.window_breakpoints(mus + [mu - w for mu in mus], temperature, shifts=(w,))
        if pts[-1] <= pts[0]:
            continue  # no window: zero (T = 0 and w = 0 at zero bias)
        integrand = _integrand(blocks, mus, temperature, w, names, modes)
        # G at E and E + w in one call: half the energies per chunk (as many
        # Green's functions per call as a one-sided integrand)
        res = integrate_adaptive(
            integrand,
            pts,
            rtol=rtol,
            atol=1e-14,
            groups=sizes,
            chunk=256 if w == 0 else 128,
            what=f"{what} at hbar*omega = {w!r} eV",
            # A_l(E) goes as |E - E_edge|^(+-1/2) at a lead band edge, A_l(E + w)
            # at E_edge - w: square-root branch points, E = E_edge -+ u^2 there
            edges=[e - s for e in blocks.junction.band_edges for s in {0.0, w}],
        )
        assert res.errors is not None  # integrate_adaptive gives every group's error
        offset = 0
        for q, size, err in zip(names, sizes, res.errors):
            values[q][idx] = prefactor[q] * res.value[offset : offset + size].reshape(shapes[q])
            errors[q][idx] = prefactor[q] * float(err)
            offset += size
    return PairSpectra(hbar_omega=hw, error=errors, **values)


def _occupations(energy, mus, temperature):
    """n_l(E) and 1 - n_l(E) = n_F(mu_l - E) (no cancellation far above mu_l), each (L, n).

    ``fermi(-E, -mu)`` is n_F(-E + mu)."""
    occ = np.array([fermi(energy, mu, temperature) for mu in mus])
    empty = np.array([fermi(-energy, -mu, temperature) for mu in mus])
    return occ, empty


def _integrand(blocks, mus, temperature, w, names, modes=None):
    """The integrand of :func:`pair_spectra` at hbar*w = ``w``: for energies E
    (1-d) the components ``names`` stacked, shape (len(E), n_components);
    with ``modes``, the stacked traces combined at the pair energy E + w/2."""
    ops = blocks.ops
    channels = "channel_dissipation" in names
    if modes is None:

        def pair(t, e):
            return t
    else:

        def pair(t, e):
            return combine(t, e + 0.5 * w, modes)

    def integrand(e):
        n = e.size
        energies = e if w == 0 else np.concatenate([e, e + w])
        _, a = blocks.green_and_spectral(energies)  # A_l at E, then at E + w
        occ, empty = _occupations(energies, mus, temperature)
        low = slice(0, n)
        high = low if w == 0 else slice(n, 2 * n)
        parts = []
        if "dissipation" in names or "noise" in names:
            filled = sum(o[:, None, None] * al for o, al in zip(occ, a))  # rho_< = sum_l n_l A_l
            holes = sum(h[:, None, None] * al for h, al in zip(empty, a))  # rho_> = sum_l (1 - n_l) A_l
            absorb, emit = (
                pair(t, e) for t in ops.traces_many([(holes[high], filled[low]), (filled[high], holes[low])])
            )
            if "dissipation" in names:
                parts.append(absorb - emit)
            if "noise" in names:
                parts.append(absorb + emit)
        if channels:
            # per lead pair: one trace Tr[f_a A_l(E + w) f_b A_m(E)] each, weighted by
            # n_m (1 - n_l') (absorption) and n_l' (1 - n_m) (emission)
            nl = len(mus)
            upper = [a[k][high] for k in range(nl)]  # A_l(E + w)
            lower = [a[k][low] for k in range(nl)]  # A_m(E)
            t = ops.traces_many([(upper[l], lower[k]) for l in range(nl) for k in range(nl)])
            t = pair(np.stack(t, axis=1).reshape(n, nl, nl, ops.n_modes, ops.n_modes), e)
            up = np.einsum("ln,mn->nlm", empty[:, high], occ[:, low])[..., None, None]
            down = np.einsum("ln,mn->nlm", occ[:, high], empty[:, low])[..., None, None]
            parts.append((up - down) * t)
            parts.append((up + down) * t)
        return np.concatenate([p.reshape(n, -1) for p in parts], axis=1)

    return integrand
