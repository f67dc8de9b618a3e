"""Cost of the low-bias fast path against the full force coefficients (issue 11, item 6).

For two dense models,

* a 100-orbital chain (hopping -1 eV) with wide-band leads on its end sites
  and 24 longitudinal modes of the middle atoms (the size of sclmd's
  ``wbLambda`` test case; wbLambda took 1.75 s there, issue 11),
* the random device of ``bench_coefficients.py`` with N = 200, M = 30,

it times ``low_bias_coefficients`` and ``force_coefficients`` at bias 1e-3 V
(T = 0 and 300 K, default tolerances, E_F = 0.3 eV off any symmetry point)
and prints: wall time (best of ``--repeat`` runs of the T = 0 low-bias call, of 3 of
the T = 0 full call, one run otherwise), the number of energies at
which a Green's function was evaluated (``Junction.count_energies``:
every Green's-function call of the junction, the pole sums of
``force_coefficients`` included), and G-equivalents = wall
time / time of one ``junction.green(E)`` at one energy (best of 50).
Where a bias of 1e-3 V is still in the linear regime (the chain; the random
device has resonances 0.3-2 meV wide at E_F, so it is not) the last column
is the largest relative gap between ``.at(1e-3)`` and ``force_coefficients``
in K_current, L_current and the friction, O(V).  ``--thermal`` adds 300 K
(minutes for the random device: dozens of resonances narrower than k_B T
in the thermal window make both calls integrate adaptively).

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_low_bias.py [--quick] [--thermal]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from currentforces import Junction, WideBandLead, force_coefficients, low_bias_coefficients
from currentforces.models.chain import chain_force_operators

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench_coefficients import random_device  # noqa: E402

BIAS = 1e-3
EF = 0.3


def wide_band_chain(n=100, n_modes=24, t=1.0):
    """Chain of n sites between wide-band leads (Gamma = 2 t on the end sites:
    reflectionless at the band centre), modes of the middle atoms."""
    h = -t * (np.eye(n, k=1) + np.eye(n, k=-1))
    g0 = np.zeros((n, n))
    g1 = np.zeros((n, n))
    g0[0, 0] = g1[-1, -1] = 2 * t
    junction = Junction(h, [WideBandLead(g0), WideBandLead(g1)])
    first = (n - n_modes) // 2
    forces = chain_force_operators(n, 0.5, atoms=list(range(first, first + n_modes)))
    return junction, forces


def best_time(func, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the chain only")
    p.add_argument("--thermal", action="store_true", help="also 300 K")
    p.add_argument("--repeat", type=int, default=30, help="repetitions of the T = 0 low-bias call")
    args = p.parse_args(argv)
    repeat = args.repeat
    temperatures = (0.0, 300.0) if args.thermal else (0.0,)
    cases = [("chain, wide-band leads", *wide_band_chain(), True)]
    if not args.quick:
        cases.append(("random device", *random_device(200, 30), False))
    header = (
        f"{'model':>22} {'N':>4} {'M':>3} {'T K':>5} {'call':>19} {'wall s':>9} {'G energies':>10} "
        f"{'G-equiv':>9} {'gap at 1 mV':>12}"
    )
    print(header)
    print("-" * len(header))
    for name, junction, forces, linear in cases:
        n, m = junction.size, len(forces)
        e = np.array([EF])
        junction.green(e)
        t_g, _ = best_time(lambda: junction.green(e), 200)
        for temperature in temperatures:
            rows = []
            reps = repeat if temperature == 0 else 1
            with junction.count_energies() as counter:
                t_lb, lb = best_time(
                    lambda: low_bias_coefficients(junction, forces, fermi_level=EF, temperature=temperature), reps
                )
            rows.append(("low_bias_coefficients", t_lb, counter.energies // reps))
            reps = 3 if temperature == 0 and not args.quick else 1
            with junction.count_energies() as counter:
                t_fc, fc = best_time(
                    lambda: force_coefficients(junction, forces, bias=BIAS, fermi_level=EF, temperature=temperature),
                    reps,
                )
            rows.append(("force_coefficients", t_fc, counter.energies // reps))
            lin = lb.at(BIAS)
            diff = (
                np.nan
                if not linear
                else max(
                    np.abs(lin.K_current - fc.K_current).max() / np.abs(fc.K_current).max(),
                    np.abs(lin.L_current - fc.L_current).max() / np.abs(fc.L_current).max(),
                    np.abs(lin.friction - fc.friction).max() / np.abs(fc.friction).max(),
                )
            )
            for call, t, count in rows:
                extra = f"{diff:12.1e}" if call == "low_bias_coefficients" and linear else ""
                print(
                    f"{name:>22} {n:4d} {m:3d} {temperature:5.0f} {call:>19} {t:9.4f} {count:10d} "
                    f"{t / t_g:9.1f} {extra}"
                )
            sys.stdout.flush()
        print(f"{'':>22} one G(E) at one energy: {t_g * 1e3:.3f} ms")
    print(
        "\nG-equiv = wall time / one junction.green(E); sclmd wbLambda on its N = 100, M = 24 chain: 1.75 s (issue 11)."
    )


if __name__ == "__main__":
    main()
