r"""The force kernel with a moving overlap: energy-dependent couplings on the real axis.

When the displacements move the overlap (D_a = dS/dX_a != 0) the coupling
between states at E and E' is f_a((E + E')/2) = F_a + ((E + E')/2) D_a
(:ref:`theory-overlap-forces`, :eq:`eq-overlap-moving`).  With the operators
F_1..F_M, D_1..D_M stacked into one
:class:`~currentforces.operators.ForceOperators`
(:func:`~currentforces.operators.stacked_operators`, on the union of their
supports, so the sparse support is kept), every trace with the coupling at
the pair energy e is a combination of the stacked traces with the energy
moments 1, e, e, e^2 (:func:`~currentforces.operators.combine`):

.. math::

    \mathrm{Tr}[f_a(e) X f_b(e) Y] = T_{F_aF_b} + e\,(T_{F_aD_b} + T_{D_aF_b})
        + e^2\,T_{D_aD_b}, \qquad T_{PQ} = \mathrm{Tr}[P X Q Y].

:func:`moving_overlap_coefficients` evaluates the kernel (:eq:`eq-kernel`)
with these couplings, written as (:eq:`eq-overlap-kernel-real`: the second
term of :eq:`eq-kernel` is the complex conjugate of the first at -omega)

.. math::

    \Pi_{ab}(\omega) = \int \frac{dE}{2\pi}\sum_l n_l(E)\,
      \big\{T_{ab}(E, \omega) + \overline{T_{ab}(E, -\omega)}\big\},
    \qquad T_{ab}(E, \omega) = \mathrm{Tr}\big[f_a(E + \tfrac{\hbar\omega}{2})\,
      G(E + \hbar\omega)\, f_b(E + \tfrac{\hbar\omega}{2})\, A_l(E)\big],

on the real axis over the lead bands, with the mean force
(:eq:`eq-overlap-mean-force`) as int dE/2pi sum_l n_l Tr[f_a(E) A_l(E)] and
the current-induced parts with n_l -> n_l - n_0 in the same integral.  At
omega = 0, L = hbar dIm Pi/domega: (hbar/pi) int sum_l n_l Im dT/domega with
dT/domega = Tr[f_a G' f_b A_l] + (Tr[D_a G f_b A_l] + Tr[f_a G D_b A_l])/2,
evaluated as its equilibrium symmetric part on the Fermi surface
(:eq:`eq-overlap-friction`), the antisymmetric equilibrium part over the
sea (zero with time-reversal symmetry) and the bias window with
n_l -> n_l - n_0.

This route needs leads of finite bands (with wide-band leads the energy
weights E and E^2 make the integrals over the Fermi sea diverge, as that of
rho_E does: :eq:`eq-energy-density`).  It covers the lead continua; the
bound states of the device are poles on the real axis, whose terms
:func:`currentforces.force_coefficients` adds in closed form at omega = 0
(``bound_states=True`` here); otherwise bound states within reach raise
:class:`~currentforces.errors.OverlapError`.

This module sits below :mod:`currentforces.forces`: it gets the
Green's-function blocks on the stacked support from its caller (``blocks``,
a :class:`~currentforces.forces.SpectralBlocks`).

Units: F_a eV/Angstrom, D_a 1/Angstrom, energies eV; F0 eV/A, K eV/A^2,
L eV*fs/A^2 (per spin).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import OverlapError
from .integrate import fermi, fermi_derivative, integrate_adaptive
from .operators import combine
from .units import HBAR, KB

__all__ = ["moving_overlap_coefficients"]


def _check_route(junction, mus, temperature, w, bound_states):
    """Named errors where the real-axis route does not apply (``bound_states``:
    the caller adds the bound states' terms, at omega = 0)."""
    for i, lead in enumerate(junction.leads):
        if not lead.band_edges:
            raise OverlapError(
                f"overlap_derivatives: leads[{i}] has no band edges (a wide-band lead?): with a moving overlap the "
                "couplings f_a(E) = forces[a] + E dS/dX_a weight the Fermi sea by E and E^2, and with a wide-band "
                "lead (A ~ Gamma/E^2) those integrals diverge, as that of the energy-weighted density matrix does; "
                "use leads of finite bands (Lead)"
            )
    if bound_states:
        return
    reach = float(np.max(mus)) + 40 * KB * temperature + w
    energies = junction.bound_states().energies
    if np.any(energies < reach):
        raise OverlapError(
            "overlap_derivatives: the device has bound states below the highest chemical potential + 40 k_B T "
            f"+ hbar_omega ({reach:.6g} eV), at {np.sort(energies[energies < reach])} eV; the kernel with a moving "
            "overlap is integrated on the real axis over the lead bands and does not include them"
        )


def moving_overlap_coefficients(
    blocks: Any,
    modes: int,
    mus: np.ndarray,
    mu0: float,
    temperature: float,
    w: float,
    rtol: float,
    bound_states: bool = False,
    time_reversal: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    r"""F0, K and L (and their current-induced parts) with a moving overlap, per spin.

    Parameters
    ----------
    blocks : SpectralBlocks
        On the stacked operators (:func:`~currentforces.operators.stacked_operators`): ``blocks.ops``
        holds F_1..F_M, D_1..D_M.
    modes : int
        M.
    mus : ndarray
        Chemical potentials of the leads (eV).
    mu0 : float
        Reference chemical potential of the zero-bias parts (eV).
    temperature : float
        K.
    w : float
        hbar*omega >= 0 in eV (0: adiabatic).
    rtol : float
        Relative tolerance of each quantity against its own size.
    bound_states : bool
        The lead continua alone, the caller adding the terms of the device's
        bound states (:func:`currentforces.forces.force_coefficients` at
        omega = 0); default False: bound states within reach raise.
    time_reversal : bool
        h, S, F, D real and the self-energies symmetric: at omega = 0 the
        antisymmetric (Berry) part of the equilibrium L vanishes and is not
        integrated.  At omega = 0, L is the Fermi-surface friction
        (:eq:`eq-overlap-friction`) plus that Berry part plus the bias-window
        term: no integral of dG/dE over the Fermi sea, where band-edge
        states of the device make it singular.

    Returns
    -------
    (values, errors)
        ``values``: ``mean_force``, ``mean_force_current`` (M,), ``K``,
        ``L``, ``K_current``, ``L_current`` (M, M); ``errors``: their
        estimated absolute errors.

    Raises
    ------
    OverlapError
        A lead without band edges, or bound states within reach
        (:func:`_check_route`).
    """
    junction = blocks.junction
    ops = blocks.ops
    m = modes
    mus = np.asarray(mus, dtype=float)
    _check_route(junction, mus, temperature, w, bound_states)
    kt = KB * temperature
    edges = np.asarray(junction.band_edges)
    lo = float(edges.min())
    hi = min(float(edges.max()), float(np.max(mus)) + 40 * kt)
    biased = mus.size > 1 and np.ptp(mus) > 0
    zero_v, zero_m = np.zeros(m), np.zeros((m, m))
    if not hi > lo:
        values = dict(mean_force=zero_v, mean_force_current=zero_v, K=zero_m, L=zero_m)
        values.update(K_current=zero_m, L_current=zero_m)
        return values, dict.fromkeys(values, 0.0)
    shifts = (w, -w) if w > 0 else ()
    pts = list(junction.window_breakpoints([lo, hi], 0.0, shifts=shifts))
    pts += [x for mu in mus for x in (mu - 4 * kt, mu, mu + 4 * kt)]
    pts += [x + s for x in edges for s in (w, -w)]  # band edges of G(E -+ hbar w)
    pts = [x for x in pts if lo <= x <= hi]

    def weights(e):
        occ = [fermi(e, mu, temperature) for mu in mus]
        n0 = fermi(e, mu0, temperature)
        return occ, [o - n0 for o in occ]

    def density(e, rho):
        x = ops.expectation(rho)  # (n, 2M): Tr[F_a rho], Tr[D_a rho]
        return (x[:, :m] + e[:, None] * x[:, m:]) / (2 * math.pi)

    def l_adiabatic(e, g, dg, rho):
        """(hbar/pi) Im dT/domega at omega = 0 for the occupied density ``rho``."""
        t = ops.traces(g, rho)
        dt = combine(ops.traces(dg, rho), e, m)
        dt = dt + 0.5 * (t[:, m:, :m] + t[:, :m, m:]) + e[:, None, None] * t[:, m:, m:]
        return t, HBAR * dt.imag / math.pi

    def integrand(e):
        occ, diff = weights(e)
        if w > 0:
            g_plus = blocks.green(e + w)
            g_minus = blocks.green(e - w)
            _, a_l = blocks.green_and_spectral(e)
        else:
            g, dg, a_l = blocks.green_derivative(e, spectral=True)
        rhos = [sum(o[:, None, None] * a for o, a in zip(occ, a_l))]
        if biased:
            rhos.append(sum(o[:, None, None] * a for o, a in zip(diff, a_l)))
        parts = [density(e, rho).real for rho in rhos]
        for i, rho in enumerate(rhos):
            if w > 0:
                up = combine(ops.traces(g_plus, rho), e + 0.5 * w, m)
                down = combine(ops.traces(g_minus, rho), e - 0.5 * w, m)
                pi = (up + np.conj(down)) / (2 * math.pi)
                # K = Re Pi and L = hbar Im Pi / w, each a group of its own
                # (Im Pi is O(w): judged against its own size)
                parts.append(pi.real)
                parts.append(HBAR * pi.imag / w)
            elif i == 0:
                # the whole sea: K; L only its antisymmetric equilibrium part
                # (without time-reversal symmetry), the symmetric one being
                # the Fermi-surface friction (eq-overlap-friction)
                t = ops.traces(g, rho)
                parts.append(combine(t, e, m).real / math.pi)  # K
                if not time_reversal:
                    _, l_eq = l_adiabatic(e, g, dg, rho - rhos[1] if biased else rho)
                    parts.append(0.5 * (l_eq - np.swapaxes(l_eq, -1, -2)))
            else:
                t, l_bias = l_adiabatic(e, g, dg, rho)  # the bias window
                parts.append(combine(t, e, m).real / math.pi)
                parts.append(l_bias)
        return np.concatenate([p.reshape(e.size, -1) for p in parts], axis=1)

    names = ["mean_force"] + (["mean_force_current"] if biased else [])
    if w > 0:
        names += ["K", "L"]
    else:
        names += ["K"] + ([] if time_reversal else ["L_berry"])
    names += ["K_current", "L_current"] if biased else []
    sizes = [m if n.startswith("mean") else m * m for n in names]
    res = integrate_adaptive(
        integrand,
        pts,
        edges=[x + s for x in edges for s in (0.0, w, -w)],
        rtol=rtol,
        atol=1e-14,
        groups=sizes,
        chunk=128,
        what="force kernel with a moving overlap (real axis)",
        on_fail="warn",
    )
    assert res.errors is not None  # integrate_adaptive gives every group's error
    got, err = {}, {}
    offset = 0
    for name, size, e in zip(names, sizes, res.errors):
        v = res.value[offset : offset + size]
        got[name] = v.real if name.startswith("mean") else v.real.reshape(m, m)
        err[name] = float(e)
        offset += size
    if not biased:
        got.update(mean_force_current=zero_v, K_current=zero_m, L_current=zero_m)
        err.update(mean_force_current=0.0, K_current=0.0, L_current=0.0)
    if w == 0:
        surface, e_surface = _fermi_surface_friction(blocks, m, mu0, temperature, rtol)
        got["L"] = surface + got.pop("L_berry", zero_m) + got["L_current"]
        err["L"] = e_surface + err.pop("L_berry", 0.0) + err["L_current"]
    return got, err


def _fermi_surface_friction(blocks, m, mu0, temperature, rtol):
    r"""-(hbar/4pi) int (-dn_0/dE) Re Tr[f_a(E) A f_b(E) A], A = sum_l A_l
    (:eq:`eq-overlap-friction`): the symmetric part of L at zero bias, and its
    estimated error; at T = 0 the integrand at mu_0."""
    ops = blocks.ops

    def kernel(e):
        _, a_l = blocks.green_and_spectral(e)
        a = sum(a_l)
        return -HBAR / (4 * math.pi) * combine(ops.traces(a, a), e, m).real

    if temperature == 0:
        return kernel(np.array([mu0]))[0], 0.0
    kt = KB * temperature
    lo, hi = mu0 - 40 * kt, mu0 + 40 * kt
    pts = list(blocks.junction.window_breakpoints([lo, hi], 0.0)) + [mu0 - 4 * kt, mu0, mu0 + 4 * kt]
    edges = [x for x in blocks.junction.band_edges if lo < x < hi]

    def integrand(e):
        return (fermi_derivative(e, mu0, temperature)[:, None, None] * kernel(e)).reshape(e.size, -1)

    res = integrate_adaptive(
        integrand, [x for x in pts if lo <= x <= hi], edges=edges, rtol=rtol, atol=1e-300, what="Fermi-surface friction"
    )
    return res.value.reshape(m, m), float(res.error)
