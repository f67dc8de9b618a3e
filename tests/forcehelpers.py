"""Independent reference routes for the force tests (plain loops and
real-axis integrals, sharing no kernel code with currentforces.forces)."""

import math

import numpy as np

from currentforces import Junction
from currentforces.integrate import fermi, integrate_adaptive
from currentforces.models.chain import chain_force_operators, chain_junction
from currentforces.units import HBAR


def trace_loop(forces, x, y):
    """Tr[f_a X f_b Y] by an explicit double loop (the 'direct' reference)."""
    m = len(forces)
    out = np.empty((m, m), dtype=complex)
    for a in range(m):
        for b in range(m):
            out[a, b] = np.trace(forces[a] @ x @ forces[b] @ y)
    return out


def disordered_chain_model(n=8, seed=0, fermi_level=0.3, solver="dense"):
    """A chain with weak disorder between chain leads (band [-2, 2], t = 1 eV),
    three movable atoms; real h and f (time-reversal symmetric).  ``solver``
    picks the Green's-function backend ("dense" or "rgf": one-site layers)."""
    j = chain_junction(n, 1.0, coupling=0.8)
    rng = np.random.default_rng(seed)
    h = j.hamiltonian + np.diag(0.1 * rng.standard_normal(n))
    junction = Junction(h, j.leads, solver=solver)
    forces = chain_force_operators(n, 0.5, atoms=[2, 3, 5])
    return junction, forces


def pi_real_axis(junction, forces, w, mus, temperature, band=(-2.0, 2.0), rtol=1e-10):
    """Seed eqs (20)-(21) in the form of docs/theory.rst eq-kernel, integrated on
    the real axis over the whole occupied band (chain leads: A_l = 0 outside the
    band, no bound states):

    Pi = int sum_l n_l/2pi {Tr[f G(E+w) f A_l(E)] + Tr[f A_l(E) f G^dagger(E-w)]}.
    Returns (K, L) with K = Re Pi, L = hbar Im Pi / w (per spin)."""
    f = np.array([np.asarray(x, dtype=complex) for x in forces])

    def integrand(e):
        gp = junction.green(e + w)
        gm = junction.green(e - w)
        a_l = junction.spectral_functions(e)
        occ = sum(fermi(e, mu, temperature)[:, None, None] * a for a, mu in zip(a_l, mus))
        t1 = np.einsum("aij,ejk,bkl,eli->eab", f, gp, f, occ)
        t2 = np.einsum("aij,ejk,bkl,eli->eab", f, occ, f, np.conj(np.swapaxes(gm, -1, -2)))
        return (t1 + t2) / (2 * math.pi)

    lo, hi = band
    pts = [lo, hi, *mus, *(m - w for m in mus), *(m + w for m in mus), lo + w, hi - w, lo - w, hi + w]
    pts = np.unique(np.clip(pts, lo, hi))
    pi = integrate_adaptive(integrand, pts, rtol=rtol, atol=1e-15).value
    return pi.real, HBAR * pi.imag / w


def principal_values(func, poles, a, b, breakpoints=(), rtol=1e-9):
    """P int_a^b func(x)/(x - c) dx for every c in ``poles``, by subtracting
    each pole: int [func(x) - func(c)]/(x - c) dx + func(c) ln((b - c)/(c - a)).

    All poles share one adaptive quadrature, so ``func`` (an expensive
    spectrum) is evaluated once per node for all of them.  Returns an array
    of shape (len(poles), ...)."""
    c = np.asarray(poles, dtype=float)
    fc = np.asarray(func(c))
    extra = (1,) * (fc.ndim - 1)

    def smooth(x):
        vals = np.asarray(func(x))
        dist = (x[:, None] - c[None, :]).reshape((x.size, c.size) + extra)
        return (vals[:, None] - fc[None]) / dist

    pts = np.unique([a, b, *c, *[p for p in breakpoints if a < p < b]])
    logs = np.log((b - c) / (c - a)).reshape((c.size,) + extra)
    return integrate_adaptive(smooth, pts, rtol=rtol, atol=1e-13).value + fc * logs


def polygamma(n, z):
    """psi^(n)(z), n = 0, 1, 2, for complex z with Re z > 0: recurrence up to
    Re z >= 20, then the asymptotic (Stirling) series, error < 1e-15."""
    z = complex(z)
    acc = 0.0
    while z.real < 20:
        # psi(z) = psi(z+1) - 1/z ; psi'(z) = psi'(z+1) + 1/z^2 ; psi''(z) = psi''(z+1) - 2/z^3
        acc += (-1.0 / z, 1.0 / z**2, -2.0 / z**3)[n]
        z += 1
    if n == 0:
        s = np.log(z) - 1 / (2 * z) - 1 / (12 * z**2) + 1 / (120 * z**4) - 1 / (252 * z**6) + 1 / (240 * z**8)
    elif n == 1:
        s = 1 / z + 1 / (2 * z**2) + 1 / (6 * z**3) - 1 / (30 * z**5) + 1 / (42 * z**7) - 1 / (30 * z**9)
    else:
        s = -1 / z**2 - 1 / z**3 - 1 / (2 * z**4) + 1 / (6 * z**6) - 1 / (6 * z**8) + 3 / (10 * z**10)
    return s + acc
