r"""Bias-window integrals of the adiabatic K and L off the real axis.

The current-induced parts of the adiabatic coefficients are window integrals
(:ref:`theory-kernel-split`, :ref:`theory-adiabatic`)

.. math::

    P_X = \int dE \sum_l [n_l(E) - n_0(E)]\, \mathrm{Tr}[f_a X(E) f_b A_l(E)],
    \qquad X = G \ (K_{bias} = \mathrm{Re}\,P_G/\pi), \quad
    X = G' \ (L_{bias} = \hbar\,\mathrm{Im}\,P_{G'}/\pi).

Near a narrow resonance (a pole z_k = eps_k - i w_k of G) the integrand is
of order 1/w^2 and odd about eps_k: its two halves cancel to a result of
order w, far below the rounding error eps/w of any real-axis quadrature of
it.  With energy-independent self-energies (wide-band leads) every factor
continues off the axis: G(z) = [z - h - Sigma]^{-1} and
G'(z) = -G(z)^2 are analytic in the upper half plane, and
A_l(z) = G(z) Gamma_l G^A(z) with G^A(z) = [z - h - Sigma^dagger]^{-1},
whose only poles there are the conjugates z_k^*.  The real-axis integral
over each interval [a, b] then equals the integral over the three other
sides of the rectangle [a, b] x [0, Y] plus 2 pi i times the residues at the
poles z_k^* inside it,

.. math::

    \mathrm{Res}_{z_k^*} = [n_l - n_0](z_k^*)\,
        \mathrm{Tr}[f_a X(z_k^*) f_b G(z_k^*) \Gamma_l R^A_k], \qquad
    R^A_k = \frac{l_k r_k^\dagger}{r_k^\dagger l_k},

(r_k, l_k the right and left eigenvectors of h + Sigma; in a non-orthogonal
basis with overlap S, G(z) = [z S - h - Sigma]^{-1}, G' = -G S G, the
eigenvectors are those of the pencil (h + Sigma, S) and the denominator is
r_k^\dagger S l_k), which carry the
narrow resonances exactly, while the path stays a distance ~Y from every
pole.  At T = 0 the weights n_l - n_0 = +-1 are constant on [mu_0, mu_l]
(one rectangle per lead); at T > 0 the path runs over the whole thermal
window and its vertical sides, where ``|n_l - n_0|`` < e^-c (c = ``cutoff``,
at most 40) at any height, are dropped.  The weights have simple poles at
the Matsubara energies z = mu + i pi k_B T (2n + 1) of each chemical
potential, where n_F(z - mu) ~ -k_B T / (z - z_n).  Where the window allows
a height of at least 2 pi k_B T the top side is lifted to Y = 2 pi k_B T N
(N <= ``MAX_MATSUBARA``, midway between two Matsubara poles, where the weights
equal their real-axis values) and the enclosed Matsubara poles add

.. math::

    2\pi i\,\mathrm{Res}_{z_n} = 2\pi i\,k_B T\,\Big(
        \sum_{l:\,\mu_l \ne \mu_0} \mathrm{Tr}[f_a X f_b A_l](\mu_0 + i\pi k_B T(2n+1))
        - \mathrm{Tr}[f_a X f_b A_l](\mu_l + i\pi k_B T(2n+1)) \Big),

summed over n < N, so that the height is set by the window and the poles
of G, as at T = 0, not by k_B T (a level of width 1e-8 eV in a 0.1 eV
window at 1 K, rtol 1e-6: 4,830 complex energies below the first pole, 666
lifted, 300 at T = 0).  Otherwise the path runs at Y < pi k_B T, below
every Matsubara pole.

With energy-independent self-energies h_eff = h + Sigma is one constant
matrix: from its eigenvectors (h_eff V = S V diag(lambda)),
G(z) = V diag(1/(z - lambda)) W with W = (S V)^{-1}, G' = -V diag(1/(z -
lambda)^2) W and G^A(z) = G(z^*)^dagger, so every point of the path needs
only the rows of V on the force support and the columns of W on the force
and lead supports, O(N n_S^2) instead of two N x N inverses.  The route is
taken where V is well conditioned (``EIG_COND_RTOL``); near an exceptional
point of h_eff the inverses stay.

Units: energies eV; P in the units of f^2 (eV^2/Angstrom^2) per eV.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as la

from .integrate import THERMAL_CUTOFF, graded_breakpoints, integrate_adaptive, window_bounds
from .units import KB

if TYPE_CHECKING:
    from ._checks import RealArray, RealSequence
    from .junction import Junction
    from .operators import ForceOperators
    from .spectral import Eigenbasis

__all__ = ["applies", "adiabatic_bias_window"]

MAX_DENSE = 3000
"""Largest device (orbitals) treated: every evaluation inverts N x N matrices."""


NEEDED = 1e-5
"""The contour is used when a pole in the window is narrower than this
fraction of the energy scale: the real-axis integrand of a level of width w
cancels to ~eps E / w of its size, far from rtol only below ~1e-8 E / rtol."""


EIG_COND_RTOL = 1e-2
"""The eigenvector route G(z) = V diag(1/(z - lambda)) V^{-1} of the
contour is taken where cond(V) eps <= EIG_COND_RTOL rtol: its rounding
error, ~cond(V) eps of ``|G|``, then stays a hundredth of the tolerance
(rtol 1e-6: cond(V) <= 4.5e7); near an exceptional point of h + Sigma
(V close to singular) the contour inverts z S - h - Sigma instead."""

MAX_MATSUBARA = 32
"""Most Matsubara poles of each n_l enclosed by the lifted bias-window
contour (each costs one complex energy)."""


def applies(
    junction: Junction,
    chemical_potentials: RealSequence = (),
    temperature: float = 0.0,
    rtol: float = 1e-8,
    cutoff: float = THERMAL_CUTOFF,
) -> bool:
    """Whether the bias window needs the contour and allows it.

    Needs: a pole in the window of half-width w with eps (E/w)^2 > rtol/10
    (E the energy scale): the real-axis integrand of the L window, of order
    E/w^3 near such a pole, cancels to its result only to ~eps (E/w)^2.
    Allows: energy-independent self-energies (wide-band leads) and a dense
    Green's function.  ``cutoff``: half-width of the thermal window in
    units of k_B T.
    """
    if not junction.solver.dense or junction.size > MAX_DENSE or not junction.leads:
        return False
    e = np.array([-0.37 * junction.energy_scale, 0.61 * junction.energy_scale])
    for lead in junction.leads:
        if lead.band_edges:
            return False
        s = np.asarray(lead.self_energy_block(e))
        if not np.array_equal(s[0], s[1]):
            return False
    if len(chemical_potentials):
        lo, hi = window_bounds(chemical_potentials, temperature, cutoff=cutoff)
        _, widths = junction.resonances(lo, hi)
        limit = max(1.0, junction.energy_scale) * math.sqrt(10 * np.finfo(float).eps / rtol)
        return bool(np.any(widths < limit))
    return True


def _fermi(z, mu, temperature):
    """n_F(z - mu) for complex z with ``|Im z| < pi k_B T`` (no overflow)."""
    x = (np.asarray(z) - mu) / (KB * temperature)
    pos = x.real > 0
    e = np.exp(np.where(pos, -x, x))
    return np.where(pos, e / (1.0 + e), 1.0 / (1.0 + e))


class _Device:
    """Dense G(z), G'(z) and A_l(z) on the force support for complex z."""

    def __init__(self, junction, ops):
        n = junction.size
        h = junction.hamiltonian
        h = np.asarray(h.toarray() if hasattr(h, "toarray") else h, dtype=complex)
        z0 = np.array([0.0])
        self.gammas, self.sups = [], []
        sigma = np.zeros((n, n), dtype=complex)
        for lead in junction.leads:
            sigma += np.asarray(lead.self_energy(z0))[0]
            self.sups.append(np.asarray(lead.support, dtype=int))
            self.gammas.append(np.asarray(lead.broadening_block(z0))[0])
        self.heff = h + sigma
        s = getattr(junction, "overlap", None)
        self.overlap = None if s is None else np.asarray(s.toarray() if hasattr(s, "toarray") else s, dtype=complex)
        self.eye = np.eye(n) if self.overlap is None else self.overlap
        self.s = ops.support
        self.ops = ops

    modal = None
    """(lambda, V[S], W[:, S], [W[:, lead support] per lead]) when the
    eigenvector route is used (:meth:`use_eigenvectors`), else None."""

    def use_eigenvectors(self, lam, v, rtol, inverse=None, cond=None):
        """Take G(z) = V diag(1 / (z - lambda)) W, W = (S V)^{-1} (h_eff V = S V
        diag(lambda)), for every later :meth:`pieces` call: O(N n_S^2) a point
        instead of two N x N inverses.  Only where cond(V) eps <=
        ``EIG_COND_RTOL`` rtol (the rounding error of the route, relative to
        ``|G|``); otherwise the inverses stay.  Returns whether it is used.
        ``inverse`` (W) and ``cond`` (cond(V)), when already known, are reused."""
        if not (np.all(np.isfinite(v)) and np.all(np.isfinite(lam))):
            return False
        if (np.linalg.cond(v) if cond is None else cond) * np.finfo(float).eps > EIG_COND_RTOL * rtol:
            return False
        wmat = np.linalg.inv(v if self.overlap is None else self.overlap @ v) if inverse is None else inverse
        self.modal = (np.asarray(lam), v[self.s], wmat[:, self.s], [wmat[:, sup] for sup in self.sups])
        return True

    def green(self, z):
        """G(z) full, (nz, N, N), for z anywhere off the poles."""
        z = np.asarray(z, dtype=complex).reshape(-1)
        return np.linalg.inv(z[:, None, None] * self.eye - self.heff)

    def _modal_pieces(self, z):
        """:meth:`pieces` by the eigenvector route: G = V D W, G' = -G S G =
        -V D^2 W (W S V = 1), G^A(z) = G(z^*)^dagger, D = diag(1/(z - lambda))."""
        lam, vs, ws, wsup = self.modal
        d = 1.0 / (z[:, None] - lam[None, :])
        dc = 1.0 / (np.conj(z)[:, None] - lam[None, :])
        vd = vs[None] * d[:, None, :]
        vdc = vs[None] * dc[:, None, :]
        gss = vd @ ws
        dg = -((vd * d[:, None, :]) @ ws)
        a_l = []
        for wl, gam in zip(wsup, self.gammas):
            g_sl = vd @ wl  # G[S, lead]
            ga_ls = np.conj(np.swapaxes(vdc @ wl, -1, -2))  # G^A[lead, S] = G(z^*)[S, lead]^dagger
            a_l.append(g_sl @ gam @ ga_ls)
        return gss, dg, a_l

    def pieces(self, z, g=None):
        """G[S,S], G'[S,S] and the list A_l[S,S] at complex z (1-d)."""
        if g is None and self.modal is not None:
            return self._modal_pieces(np.asarray(z, dtype=complex).reshape(-1))
        g = self.green(z) if g is None else g
        ga = np.conj(np.swapaxes(self.green(np.conj(z)), -1, -2))  # G^A(z) = G(z*)^dagger
        s = self.s
        gss = g[:, s[:, None], s[None, :]]
        dg = -(g[:, s, :] @ g[:, :, s]) if self.overlap is None else -(g[:, s, :] @ self.overlap @ g[:, :, s])
        a_l = [
            g[:, s[:, None], sup[None, :]] @ gam @ ga[:, sup[:, None], s[None, :]]
            for sup, gam in zip(self.sups, self.gammas)
        ]
        return gss, dg, a_l

    def traces(self, z, weights, coef=1.0):
        """Re of coef sum_l weights_l Tr[f_a G f_b A_l] and Im of the same
        with G': the parts that K and L use, (nz, 2, M, M) real."""
        gss, dg, a_l = self.pieces(z)
        aw = sum(weights[:, i, None, None] * a for i, a in enumerate(a_l))
        tr = self.ops.traces_many([(gss, aw), (dg, aw)])
        return np.stack([(coef * tr[0]).real, (coef * tr[1]).imag], axis=1)


def adiabatic_bias_window(
    junction: Junction,
    ops: ForceOperators,
    chemical_potentials: RealSequence,
    temperature: float,
    rtol: float,
    on_fail: str = "warn",
    cutoff: float = THERMAL_CUTOFF,
    eigen: Eigenbasis | None = None,
) -> tuple[RealArray, RealArray, float, float]:
    r"""P_G and P_G' of the module docstring by contour deformation.

    Parameters
    ----------
    junction : Junction
        With energy-independent self-energies (:func:`applies`).
    ops : ForceOperators
    chemical_potentials : sequence of float
        eV; the reference is their mean mu_0.
    temperature : float
        K.
    rtol : float
        Relative tolerance of each of P_G, P_G' (against its own size).
    on_fail : {"warn", "raise"}
        What a side integral that misses ``rtol`` does.
    cutoff : float
        Half-width of the thermal window beyond the chemical potentials in
        units of k_B T (:func:`~currentforces.integrate.thermal_cutoff`): the
        vertical sides there, where n_l - n_0 < e^-cutoff, are dropped.
    eigen : currentforces.spectral.Eigenbasis, optional
        The eigendecomposition of h + Sigma when already made (its W = (S V)^{-1}
        gives the left eigenvectors, W^dagger), instead of a second one.

    Returns
    -------
    (Re P_G, Im P_G', error of Re P_G, error of Im P_G')
        Real (M, M) arrays in eV/Angstrom^2 and their estimated absolute
        errors: only the parts that K and L use are integrated, each to
        ``rtol`` of its own size (the contour integral of a real part is the
        real part of the contour integral).
    """
    mus = np.asarray(chemical_potentials, dtype=float)
    mu0 = float(np.mean(mus))
    nl = len(mus)
    m = ops.n_modes
    if eigen is None:
        dev = _Device(junction, ops)
        w, vl, vr = la.eig(dev.heff, dev.overlap, left=True, right=True)
        dev.use_eigenvectors(w, vr, rtol)
    else:
        # rows of W are left eigenvectors normalised so that l^dagger S r = 1
        dev, w, vr, vl = eigen.device, eigen.lam, eigen.v, np.conj(eigen.w.T)
        dev.use_eigenvectors(w, vr, rtol, inverse=eigen.w, cond=eigen.cond)
    gam = np.maximum(-w.imag, 0.0)
    kt = KB * temperature
    scale = max(1.0, junction.energy_scale)
    total = np.zeros((2, m, m))
    errors = np.zeros(2)

    def add(value, err):
        nonlocal total, errors
        total = total + value
        errors = errors + err

    if temperature == 0:
        leads = [i for i in range(nl) if mus[i] != mu0]
        if not leads:
            return total[0], total[1], 0.0, 0.0
        width = min(abs(mus[i] - mu0) for i in leads)
        y_top = _clear_height(min(0.5 * width, 0.25 * scale), w, min(mus), max(mus))
        for i in leads:
            a, b = sorted((mu0, float(mus[i])))
            sign = 1.0 if mus[i] > mu0 else -1.0
            weights = np.zeros(nl)
            weights[i] = sign
            add(
                *_rectangle(
                    dev,
                    w,
                    vl,
                    vr,
                    gam,
                    a,
                    b,
                    y_top,
                    lambda z, wt=weights: np.broadcast_to(wt, (z.size, nl)),
                    rtol,
                    on_fail,
                    vertical=True,
                )
            )
    else:
        lo, hi = window_bounds(mus, temperature, cutoff=cutoff)
        y_max = min(0.5 * (hi - lo), 0.25 * scale)
        step = 2 * math.pi * kt  # spacing of the Matsubara poles mu + i pi k_B T (2n + 1) of each n_l
        y_top, n_poles = 0.0, 0
        n_max = min(MAX_MATSUBARA, int(y_max / step))
        if n_max >= 1:
            # lifted: the top side at a multiple N of 2 pi k_B T, midway between two Matsubara poles,
            # above the first N poles of every n_l, whose residues are added
            y_top = _clear_height(n_max * step, w, lo, hi, quantum=step)
            n_poles = round(y_top / step)
            if _matsubara_hits(w, mus, mu0, kt, n_poles):
                y_top, n_poles = 0.0, 0
        if n_poles == 0:  # below the first Matsubara pole
            y_top = _clear_height(min(0.8 * math.pi * kt, y_max), w, lo, hi)

        def n_diffs(z):  # occupation differences n_l - n_0, the weights of the rectangle
            n0 = _fermi(z, mu0, temperature)
            return np.stack([_fermi(z, mu, temperature) - n0 for mu in mus], axis=1)

        if n_poles:
            add(*_matsubara_residues(dev, mus, mu0, kt, n_poles))
        add(
            *_rectangle(
                dev,
                w,
                vl,
                vr,
                gam,
                lo,
                hi,
                y_top,
                n_diffs,
                rtol,
                on_fail,
                vertical=False,
                marks=[*mus, mu0],
                steps=(mus, kt) if n_poles else None,
            )
        )
    return total[0], total[1], errors[0], errors[1]


def _clear_height(y_max, poles, lo, hi, quantum=0.0):
    """A height in [y_max/8, y_max] far, in ratio, from the imaginary parts of
    the poles near [lo, hi]: the top side then stays clear of all of them.
    With ``quantum`` > 0 the height is a positive multiple of it (at most
    y_max when y_max >= quantum)."""
    ys = np.geomspace(y_max / 8, y_max, 25)
    if quantum > 0:
        ys = np.unique(np.maximum(np.floor(ys / quantum), 1.0)) * quantum
    near = (poles.real > lo - y_max) & (poles.real < hi + y_max)
    gam = np.abs(poles.imag[near])
    gam = gam[gam > 0]
    if gam.size == 0:
        return float(ys[-1])
    clearance = np.abs(np.log(gam[None, :] / ys[:, None])).min(axis=1)
    return float(ys[np.argmax(clearance)])


def _matsubara_hits(poles, mus, mu0, kt, n_poles):
    """Whether one of the first ``n_poles`` Matsubara poles of some n_l comes
    within 1e-3 pi k_B T of a pole z_k^* of G^A: the residues there would no
    longer be simple."""
    zs = _matsubara_poles(mus, mu0, kt, n_poles)[0]
    if zs.size == 0 or poles.size == 0:
        return False
    return bool(np.min(np.abs(zs[:, None] - np.conj(poles)[None, :])) < 1e-3 * math.pi * kt)


def _matsubara_poles(mus, mu0, kt, n_poles):
    """The enclosed Matsubara poles z = mu + i pi k_B T (2n + 1), n < n_poles,
    of the weights n_l - n_0, and the residues of the weights there,
    (nz,) complex and (nz, n_leads) real: -k_B T on lead l at the poles of
    n_l, +k_B T on every lead l with mu_l != mu_0 at the poles of n_0
    (n_F(z - mu) ~ -k_B T / (z - z_n) near each)."""
    active = np.asarray(mus) != mu0
    centers: dict[float, np.ndarray] = {}
    for i, mu in enumerate(mus):
        if active[i]:
            centers.setdefault(float(mu), np.zeros(len(mus)))[i] -= kt
    if active.any():
        centers.setdefault(float(mu0), np.zeros(len(mus)))[active] += kt
    heights = math.pi * kt * (2 * np.arange(n_poles) + 1)
    zs = np.array([mu + 1j * y for mu in centers for y in heights], dtype=complex)
    res = np.array([centers[mu] for mu in centers for _ in heights]).reshape(zs.size, len(mus))
    return zs, res


def _matsubara_residues(dev, mus, mu0, kt, n_poles, chunk=16):
    """2 pi i times the residues of the bias-window integrand at the enclosed
    Matsubara poles (:func:`_matsubara_poles`), the parts that K and L use,
    (2, M, M), and a zero error (exact up to rounding)."""
    zs, res = _matsubara_poles(mus, mu0, kt, n_poles)
    m = dev.ops.n_modes
    total = np.zeros((2, m, m))
    for start in range(0, zs.size, chunk):
        part = slice(start, start + chunk)
        total = total + dev.traces(zs[part], res[part], 2j * math.pi).reshape(-1, 2, m, m).sum(axis=0)
    return total, np.zeros(2)


def _rectangle(dev, w, vl, vr, gam, a, b, y_top, weights, rtol, on_fail, vertical, marks=(), steps=None):
    """Integral over [a, b] of sum_l weights_l Tr[f X f A_l] via the rectangle
    [a, b] x [0, y_top]: residues at the enclosed conjugate poles plus the
    other three sides (the vertical ones when ``vertical``).  ``steps`` =
    (mus, k_B T): Fermi steps of width k_B T on the top side (a lifted
    contour, whose weights there equal the real-axis ones), graded around."""
    m = dev.ops.n_modes
    total = np.zeros((2, m, m))
    err = np.zeros(2)
    eps_k = w.real
    # residues at z_k^* inside the rectangle
    inside = np.flatnonzero((eps_k > a) & (eps_k < b) & (gam < y_top) & (gam > 0))
    if inside.size:
        zc = np.conj(w[inside])
        g = dev.green(zc)
        s = dev.s
        gss = g[:, s[:, None], s[None, :]]
        dg = -(g[:, s, :] @ g[:, :, s]) if dev.overlap is None else -(g[:, s, :] @ dev.overlap @ g[:, :, s])
        wt = weights(zc)
        for j, k in enumerate(inside):
            l_k, r_k = vl[:, k], vr[:, k]
            norm = np.vdot(r_k, l_k) if dev.overlap is None else np.vdot(r_k, dev.overlap @ l_k)  # r^dagger S l
            ra = np.outer(l_k, np.conj(r_k)) / norm  # R^A_k = l r^dagger / (r^dagger l)
            aw = 0.0
            for i, (sup, gmat) in enumerate(zip(dev.sups, dev.gammas)):
                if wt[j, i] != 0:
                    aw = aw + wt[j, i] * (g[j][np.ix_(s, sup)] @ gmat @ ra[np.ix_(sup, s)])
            if np.isscalar(aw):
                continue
            tr = dev.ops.traces_many([(gss[j : j + 1], aw[None]), (dg[j : j + 1], aw[None])])
            total = total + np.stack([(2j * math.pi * tr[0][0]).real, (2j * math.pi * tr[1][0]).imag])
    # the top side, graded where a pole comes close to it
    near_top = np.abs(gam - y_top) < 0.05 * (b - a)
    pts = [a, b, *[x for x in marks if a < x < b]]
    pts += list(graded_breakpoints(a, b, eps_k[near_top], np.abs(gam[near_top] - y_top) + 1e-15 * (b - a), 4.0))
    if steps is not None:
        centers = np.asarray(steps[0], dtype=float)
        pts += list(graded_breakpoints(a, b, centers, np.full(centers.size, steps[1]), 8.0))

    def top(x):
        z = x + 1j * y_top
        return dev.traces(z, weights(z)).reshape(x.size, -1)

    def integral(f, points, side):
        """(value (2, M, M), error estimates) of one side of the rectangle."""
        res = integrate_adaptive(
            f,
            np.unique(points),
            rtol=rtol,
            atol=1e-300,
            groups=[m * m, m * m],
            what=f"bias-window contour ({side})",
            on_fail=on_fail,
        )
        return res.value.reshape(2, m, m), res.errors

    value, error = integral(top, pts, "top side")
    total, err = total + value, err + error
    if vertical:
        for x0, orient in ((a, 1.0), (b, -1.0)):
            # i * integral_0^Y of the integrand at x0 + iy, oriented up at a, down at b;
            # graded at the heights of the poles close to the side
            d = np.abs(eps_k - x0)
            close = d < 0.05 * y_top + gam
            ys = [0.0, y_top]
            ys += list(graded_breakpoints(0.0, y_top, gam[close], d[close] + 1e-15 * y_top, 4.0))
            ys += list(graded_breakpoints(0.0, y_top, -gam[close], d[close] + gam[close] + 1e-15 * y_top, 4.0))

            def side(y, x0=x0, orient=orient):
                z = x0 + 1j * y
                return dev.traces(z, weights(z), orient * 1j).reshape(y.size, -1)

            value, error = integral(side, ys, "side")
            total, err = total + value, err + error
    return total, err
