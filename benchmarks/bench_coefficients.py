"""Cost of the force coefficients against the bare Green's functions and a
plain double loop over mode pairs (issue: the five forces, performance).

For random tight-binding devices (N orbitals, ~6 neighbours each, wide-band
leads on the first and last four orbitals) with M sparse force operators
(the three Cartesian derivatives of M/3 'atoms', each touching an orbital's
bonds), on one fixed Fermi-window energy grid at finite bias:

* G      : the Green's functions alone, G(E) for every grid energy (dense
           inverse, what any dense route needs);
* all    : the whole real-axis integrand of force_coefficients at frequency
           0 (G, dG/dE, A_l, K and L window terms, mean force, Fermi-surface
           friction) on the same grid;
* loop   : the same traces by a plain double loop over mode pairs,
           Tr[f_a X f_b Y] per pair on the force support; timed on a subset
           of pairs and scaled to M^2 pairs (stated in the table).

Run:  python benchmarks/bench_coefficients.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from currentforces import Junction, WideBandLead
from currentforces.forces import SpectralBlocks, window_integrand
from currentforces.operators import ForceOperators


def random_device(n, n_modes, seed=0, degree=6):
    rng = np.random.default_rng(seed)
    h = np.zeros((n, n))
    for k in range(1, degree // 2 + 1):
        v = -1.0 + 0.3 * rng.standard_normal(n - k)
        h += np.diag(v, k)
    h = h + h.T + np.diag(0.2 * rng.standard_normal(n))
    g0 = np.zeros((n, n))
    g1 = np.zeros((n, n))
    g0[:4, :4] = 0.5 * np.eye(4)
    g1[-4:, -4:] = 0.5 * np.eye(4)
    junction = Junction(h, [WideBandLead(g0), WideBandLead(g1)])
    atoms = rng.choice(np.arange(8, n - 8), size=n_modes // 3, replace=False)
    forces = []
    for i in atoms:
        nb = np.flatnonzero(h[i])
        nb = nb[nb != i]
        for _ in range(3):
            f = np.zeros((n, n))
            vals = rng.standard_normal(nb.size)
            f[i, nb] = vals
            f[nb, i] = vals
            forces.append(f)
    return junction, forces


def loop_traces(fs, x, y, pairs):
    out = 0.0
    for a, b in pairs:
        out += np.trace(fs[a] @ x @ fs[b] @ y)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smallest case only")
    args = p.parse_args(argv)
    cases = [(100, 24, 16), (400, 120, 16), (2000, 300, 2)]
    if args.quick:
        cases = cases[:1]
    bias, temperature, ef = 0.5, 300.0, 0.0
    header = (f"{'N':>6} {'M':>5} {'s':>5} {'nE':>4} {'G (s)':>9} {'all (s)':>9} {'all/G':>7} "
              f"{'loop (s)':>11} {'loop/all':>9}")
    print(header)
    print("-" * len(header))
    for n, m, n_e in cases:
        junction, forces = random_device(n, m)
        ops = ForceOperators(forces, n)
        blocks = SpectralBlocks(junction, ops)
        mus = junction.chemical_potentials(bias, ef)
        energies = np.linspace(ef - bias / 2 - 0.1, ef + bias / 2 + 0.1, n_e)
        _, integrand = window_integrand(blocks, mus, temperature, 0.0)
        junction.green(energies[:1])  # warm-up
        t0 = time.perf_counter()
        junction.green(energies)
        t_g = time.perf_counter() - t0
        t0 = time.perf_counter()
        integrand(energies)
        t_all = time.perf_counter() - t0
        # plain loop: the traces of one energy (K window, L window, surface term:
        # three trace types per pair), on a random subset of pairs, scaled up
        g0, dg, a_l = blocks.green_derivative(energies[:1], spectral=True)
        x, dx, y = g0[0], dg[0], sum(a_l)[0]
        gd = g0[0].conj().T
        fs = list(ops.dense)
        rng = np.random.default_rng(1)
        n_pairs = min(m * m, 60)
        pairs = [tuple(rng.integers(0, m, 2)) for _ in range(n_pairs)]
        t0 = time.perf_counter()
        loop_traces(fs, x, y, pairs)
        loop_traces(fs, dx, y, pairs)
        loop_traces(fs, x, gd, pairs)
        t_pair = (time.perf_counter() - t0) / n_pairs
        t_loop = t_pair * m * m * n_e + t_g  # the loop still needs the Green's functions
        print(f"{n:6d} {m:5d} {ops.support.size:5d} {n_e:4d} {t_g:9.3f} {t_all:9.3f} {t_all / t_g:7.2f} "
              f"{t_loop:11.2f} {t_loop / t_all:9.1f}")
        sys.stdout.flush()
    print("\nloop: timed on 60 random pairs at one energy, scaled to M^2 pairs x nE energies, plus G.")


if __name__ == "__main__":
    main()
