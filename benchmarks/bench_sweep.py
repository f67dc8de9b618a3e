"""Benchmark: a 64-bias sweep of all force coefficients on 1 versus 2 Dask workers.

Each bias is one :func:`currentforces.force_coefficients` call on a
block-tridiagonal gold-like wire (``benchmarks/wire.py``); the sweep goes
through :func:`currentforces.parallel.bias_sweep` on a ``LocalCluster``
(processes, one thread and one BLAS thread per worker).  Printed: wall time
of the sweep after a warm-up (worker imports, scattering the junction),
speed-up over one worker, and whether the results equal the serial loop
bit for bit.

Usage::

    PYTHONPATH=src python benchmarks/bench_sweep.py [--biases 64] [--size 400] [--workers 1 2]

The target is a speed-up of at least 1.8x on 2 workers; it needs two idle
cores (on a shared machine the number measures the load of the others too).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

OPTIONS = dict(temperature=300.0, fermi_level=-1.2, hbar_omega=0.0, spin=2, rtol=1e-6)


def stacked(coefficients):
    return np.array([np.concatenate([c.mean_force, c.K.ravel(), c.L.ravel()]) for c in coefficients])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--biases", type=int, default=64)
    parser.add_argument("--size", type=int, default=400, help="wire orbitals")
    parser.add_argument("--modes", type=int, default=24)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-serial", action="store_true", help="skip the in-process serial reference")
    args = parser.parse_args()

    import dask
    from distributed import Client, LocalCluster
    from wire import wire

    from currentforces.parallel import bias_sweep

    junction, forces, info = wire(args.size, n_modes=args.modes)
    biases = np.linspace(-0.5, 0.5, args.biases)
    print(
        f"{args.biases}-bias sweep, wire of {info['n']} orbitals ({info['slabs']} layers, RGF), "
        f"{info['modes']} modes, rtol {OPTIONS['rtol']}; {os.cpu_count()} CPUs"
    )
    reference = None
    serial_time = None
    if not args.no_serial:
        t0 = time.perf_counter()
        reference = stacked(bias_sweep(junction, forces, biases, **OPTIONS))
        serial_time = time.perf_counter() - t0
    header = f"{'backend':>22} {'wall s':>8} {'speed-up':>9} {'== serial':>9}"
    print(header)
    print("-" * len(header))
    if serial_time is not None:
        print(f"{'serial (in process)':>22} {serial_time:>8.1f} {'':>9} {'':>9}")
    base = None
    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which
    # switches off glibc's adaptive mmap threshold: every temporary array
    # above 128 kB is then mmapped and page-faulted afresh, and these
    # small-matrix numerics run about 40 % slower than in a plain process.
    # Keep the BLAS pinning variables, drop the malloc setting.
    environ = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}
    for n in args.workers:
        with (
            dask.config.set({"distributed.nanny.pre-spawn-environ": environ}),
            LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            ) as cluster,
            Client(cluster) as client,
        ):
            bias_sweep(junction, forces, biases[:n], backend=client, **OPTIONS)  # warm-up
            t0 = time.perf_counter()
            got = stacked(bias_sweep(junction, forces, biases, backend=client, **OPTIONS))
            wall = time.perf_counter() - t0
        base = wall if base is None else base
        same = "n/a" if reference is None else str(bool(np.array_equal(got, reference)))
        print(f"{f'dask, {n} worker(s)':>22} {wall:>8.1f} {base / wall:>8.2f}x {same:>9}", flush=True)


if __name__ == "__main__":
    main()
