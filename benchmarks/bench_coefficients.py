"""Cost of the public force-coefficient calls, in Green's functions.

For random tight-binding devices (N orbitals, ~6 neighbours each, wide-band
leads on the first and last four orbitals) with M sparse force operators
(the three Cartesian derivatives of M/3 'atoms', each touching an orbital's
bonds), at a bias of 0.1 V and 300 K, the script times what a user calls:

* ``force_coefficients(..., hbar_omega=0)`` (adiabatic F0, K, L) and
  ``force_coefficients(..., hbar_omega=0.01)`` (finite frequency), rtol 1e-6;
* ``nE``: the energies at which the Green's function was evaluated
  (``Junction.count_energies``);
* ``G-eq``: wall time / the time of one G(E) on the force support at one
  energy, the cost in Green's functions;
* ``per E``: wall time / (nE x one G), the cost of one energy of the
  quadrature relative to a bare G (traces, dG/dE, spectral functions,
  batching gains included).

``benchmarks/bench_quadrature.py`` has the same measurement with true errors
for more cases and temperatures.

Run:  python benchmarks/bench_coefficients.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from currentforces import Junction, WideBandLead, force_coefficients
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


def one_green_time(junction, forces, energy, repeat=7):
    """Best time of G[S, S] at one energy (S the force support)."""
    s = ForceOperators(forces, junction.size).support
    e = np.array([energy])
    junction.green_submatrix(e, s, s)
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        junction.green_submatrix(e, s, s)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smallest case only")
    p.add_argument("--temperature", type=float, default=300.0)
    args = p.parse_args(argv)
    cases = [(100, 24), (400, 120), (2000, 300)]
    if args.quick:
        cases = cases[:1]
    bias, ef, rtol = 0.1, 0.0, 1e-6
    print(f"force_coefficients at V = {bias} V, T = {args.temperature} K, rtol = {rtol}")
    header = f"{'N':>6} {'M':>5} {'s':>5} {'hbar w':>7} {'nE':>7} {'wall s':>9} {'G ms':>8} {'G-eq':>8} {'per E':>6}"
    print(header)
    print("-" * len(header))
    for n, m in cases:
        junction, forces = random_device(n, m)
        s = ForceOperators(forces, n).support.size
        t_g = one_green_time(junction, forces, ef)
        for w in (0.0, 0.01):
            with junction.count_energies() as c:
                t0 = time.perf_counter()
                force_coefficients(
                    junction, forces, bias=bias, temperature=args.temperature, fermi_level=ef, hbar_omega=w, rtol=rtol
                )
                wall = time.perf_counter() - t0
            print(
                f"{n:6d} {m:5d} {s:5d} {w:7.3f} {c.energies:7d} {wall:9.2f} {1e3 * t_g:8.3f} "
                f"{wall / t_g:8.0f} {wall / (c.energies * t_g):6.2f}"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
