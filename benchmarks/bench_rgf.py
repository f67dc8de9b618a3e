"""Benchmark: all force coefficients of a long gold-like wire, dense versus
block-tridiagonal (RGF) Green's functions.

For each size the script runs one subprocess per (size, solver), so the peak
resident memory (``resource.getrusage``) belongs to that case alone, and
prints a table:

* ``total s``: wall time of ``force_coefficients`` (F0, K, L and their
  current-induced parts) at one bias;
* ``G s``: the part of it spent inside the junction's Green's-function
  calls (``green_submatrix``, ``green_derivative_submatrix``, lead
  self-energies included), i.e. the bare Green's functions at the energy
  points the coefficients need;
* ``overhead``: total / G, the cost of turning Green's functions into
  coefficients (target: below 2 at every size);
* ``points``: energies at which G was evaluated;
* ``peak MiB``: peak resident memory of the process; ``base MiB`` the
  resident memory after the junction was built.

Usage::

    PYTHONPATH=src python benchmarks/bench_rgf.py [--sizes 1000 10000 100000] [--dense-max 1000]

Timings on a shared machine are noisy; run it on an idle one for numbers
to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

OPTIONS = dict(bias=0.1, temperature=300.0, fermi_level=-1.2, hbar_omega=0.0, spin=2)


def _rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_case(n, solver, rtol, width, modes):
    from wire import wire

    from currentforces import force_coefficients

    t0 = time.perf_counter()
    junction, forces, info = wire(n, width=width, n_modes=modes, solver=solver)
    build = time.perf_counter() - t0
    base = _rss_mib()
    spent = {"G": 0.0, "points": 0, "depth": 0}

    def timed(method):
        # time only the outermost call (the dense dG/dE calls green_submatrix)
        def wrapper(energy, *args, **kwargs):
            spent["depth"] += 1
            t = time.perf_counter()
            try:
                return method(energy, *args, **kwargs)
            finally:
                spent["depth"] -= 1
                if spent["depth"] == 0:
                    spent["G"] += time.perf_counter() - t
                    spent["points"] += int(getattr(energy, "size", 1))

        return wrapper

    junction.green_submatrix = timed(junction.green_submatrix)
    junction.green_derivative_submatrix = timed(junction.green_derivative_submatrix)
    t0 = time.perf_counter()
    c = force_coefficients(junction, forces, rtol=rtol, **OPTIONS)
    total = time.perf_counter() - t0
    return dict(
        info,
        solver=solver,
        build=build,
        total=total,
        green=spent["G"],
        points=spent["points"],
        peak=_rss_mib(),
        base=base,
        K00=float(c.K[0, 0]),
        L00=float(c.L[0, 0]),
        NC01=float(c.nonconservative[0, 1]),
        F0=float(c.mean_force[0]),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--dense-max", type=int, default=1000, help="largest size also run with the dense solver")
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--width", type=int, default=2, help="atoms across the wire (width x width)")
    parser.add_argument("--modes", type=int, default=60)
    parser.add_argument("--case", nargs=2, metavar=("N", "SOLVER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(int(args.case[0]), args.case[1], args.rtol, args.width, args.modes)))
        return
    env = dict(os.environ)
    rows = []
    print(
        f"force_coefficients at V = {OPTIONS['bias']} V, T = {OPTIONS['temperature']} K, "
        f"E_F = {OPTIONS['fermi_level']} eV, rtol = {args.rtol}; {args.modes} modes; "
        f"{args.width}x{args.width} s-band wire; {os.cpu_count()} CPUs"
    )
    header = (
        f"{'N':>7} {'layers':>6} {'solver':>6} {'total s':>8} {'G s':>8} {'overhead':>8} "
        f"{'points':>6} {'base MiB':>8} {'peak MiB':>8} {'K_00 eV/A^2':>12} {'L_00 eV fs/A^2':>14}"
    )
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        for solver in ["rgf"] + (["dense"] if n <= args.dense_max else []):
            cmd = [
                sys.executable,
                __file__,
                "--case",
                str(n),
                solver,
                "--rtol",
                str(args.rtol),
                "--width",
                str(args.width),
                "--modes",
                str(args.modes),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode:
                print(f"{n:>7} {solver:>6} failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(r)
            print(
                f"{r['n']:>7} {r['slabs']:>6} {solver:>6} {r['total']:>8.1f} {r['green']:>8.1f} "
                f"{r['total'] / r['green']:>8.2f} {r['points']:>6} {r['base']:>8.0f} {r['peak']:>8.0f} "
                f"{r['K00']:>12.6f} {r['L00']:>14.6e}",
                flush=True,
            )
    return rows


if __name__ == "__main__":
    main()
