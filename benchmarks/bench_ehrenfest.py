"""Benchmark: open-boundary Ehrenfest dynamics (currentforces.ehrenfest).

An N-site chain (hopping -1 eV) between wide-band leads (Gamma = 1 eV on the
end sites), V = 0.1 V, T = 300 K, E_F = 0.3 eV; two atoms in the middle move
(force operators of the chain, beta = 0.5 eV/Angstrom, mass 10 amu) on
bare springs that put their modes at hbar w = 0.05 eV (period 82.7 fs),
started with 0.001 Angstrom/fs of velocity.  The atoms take ``--steps-per-period`` velocity-Verlet steps per
period; the electrons are integrated by DOP853 at ``--rtol``.

For each N the script runs ``--periods`` periods and prints

* ``s/step``: wall time per atom step;
* ``rhs/step``: right-hand-side evaluations of the electron equations per atom step;
* ``e-steps/period``: DOP853 steps of the electrons per oscillation period;
* ``100 periods``: the projected wall time of a 100-period run;
* ``cpu`` columns: the same in CPU time of the process (single-threaded BLAS:
  the wall time on an idle core; on a shared machine the wall time is longer).

Usage::

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bench_ehrenfest.py [--sizes 50 200] [--periods 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from currentforces import Junction, WideBandLead, force_coefficients
from currentforces.ehrenfest import EhrenfestDynamics
from currentforces.models.chain import chain_force_operators
from currentforces.units import AMU, HBAR

OPTIONS = dict(bias=0.1, temperature=300.0, fermi_level=0.3)
HBAR_OMEGA = 0.05
MASS = 10.0


def chain(n):
    h = -1.0 * (np.eye(n, k=1) + np.eye(n, k=-1))
    gl, gr = np.zeros((n, n)), np.zeros((n, n))
    gl[0, 0] = gr[-1, -1] = 1.0
    return Junction(h, [WideBandLead(gl), WideBandLead(gr)])


def run(n, periods, steps_per_period, rtol, far):
    j = chain(n)
    f = chain_force_operators(n, 0.5, atoms=[n // 2 - 1, n // 2])
    c = force_coefficients(j, f, hbar_omega=HBAR_OMEGA, **OPTIONS)
    kb = MASS * AMU * (HBAR_OMEGA / HBAR) ** 2 * np.eye(2) - 0.5 * (c.K + c.K.T)
    period = 2 * np.pi * HBAR / HBAR_OMEGA
    dt = period / steps_per_period
    t0 = time.perf_counter()
    dyn = EhrenfestDynamics(
        j,
        f,
        [MASS, MASS],
        dt,
        bare_force_constants=kb,
        bare_mean_force=-c.mean_force,
        velocities=[0.001, 0.0],
        rtol=rtol,
        atol=1e-3 * rtol,
        far=far,
        **OPTIONS,
    )
    setup = time.perf_counter() - t0
    n_steps = int(round(periods * steps_per_period))
    t0, c0 = time.perf_counter(), time.process_time()
    dyn.run(n_steps, record_every=steps_per_period)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    el = dyn.electrons
    per_step = wall / n_steps
    return {
        "N": n,
        "aux": el.n_aux,
        "setup s": setup,
        "s/step": per_step,
        "cpu s/step": cpu / n_steps,
        "rhs/step": el.nfev / n_steps,
        "e-steps/period": el.nfev / 12.0 / periods,
        "100 periods s": 100 * steps_per_period * per_step,
        "100 periods cpu s": 100 * steps_per_period * cpu / n_steps,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--periods", type=float, default=1.0)
    parser.add_argument("--steps-per-period", type=int, default=80)
    parser.add_argument("--rtol", type=float, default=1e-8)
    parser.add_argument("--far", type=float, default=4.0)
    args = parser.parse_args()
    rows = [run(n, args.periods, args.steps_per_period, args.rtol, args.far) for n in args.sizes]
    keys = list(rows[0])
    print("  ".join(f"{k:>14}" for k in keys))
    for r in rows:
        print("  ".join(f"{r[k]:>14.4g}" if isinstance(r[k], float) else f"{r[k]:>14}" for k in keys))


if __name__ == "__main__":
    main()
