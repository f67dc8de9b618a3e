"""Benchmark: T(E) on an energy grid, dense and block-tridiagonal backends.

Two devices:

* ``chain``: a perfect 40-site chain between chain leads (t = -1 eV), T(E)
  on 2001 energies in [-2.5, 2.5] eV (the grid of ``job``'s transmission
  output);
* ``random``: a random Hermitian N = 200 device, every orbital coupled to
  every other (one dense layer), with two wide-band leads of 4 orbitals
  each at its two ends, T(E) on ``--random-energies`` energies.

Each case prints the wall time of ``Junction.transmission`` (best of
``--repeat``), the time per energy and a checksum (the sum of T over the
grid) that must not change between code versions.

Usage::

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bench_transmission.py [--random-energies 21]

Timings on a shared machine are noisy; run it on an idle one for numbers
to quote.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from currentforces import ChainLead, Junction, WideBandLead
from currentforces.errors import BandEdgeWarning


def chain(n=40, t=-1.0, solver="dense"):
    h = t * (np.eye(n, k=1) + np.eye(n, k=-1))
    cl, cr = np.zeros(n), np.zeros(n)
    cl[0], cr[-1] = t, t
    return Junction(h, [ChainLead(t, cl), ChainLead(t, cr)], solver=solver)


def random_device(n=200, width=4, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    h = (a + a.conj().T) / (2 * np.sqrt(n))
    g0, g1 = np.zeros((n, n)), np.zeros((n, n))
    b = rng.standard_normal((width, width))
    g0[:width, :width] = 0.5 * (b @ b.T) / width
    b = rng.standard_normal((width, width))
    g1[n - width :, n - width :] = 0.5 * (b @ b.T) / width
    return Junction(h, [WideBandLead(g0), WideBandLead(g1)])


def best(func, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random-energies", type=int, default=21)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    warnings.simplefilter("ignore", BandEdgeWarning)  # the chain grid hits the band edges +-2 eV
    cases = [
        ("chain N=40 dense", chain(), np.linspace(-2.5, 2.5, 2001)),
        ("chain N=40 rgf", chain(solver="rgf"), np.linspace(-2.5, 2.5, 2001)),
        ("random N=200 dense", random_device(), np.linspace(-2.0, 2.0, args.random_energies)),
    ]
    print(f"{'case':>20} {'energies':>9} {'total s':>9} {'ms/energy':>10} {'sum T':>22}")
    for name, j, e in cases:
        t, out = best(lambda: j.transmission(e), args.repeat)
        print(f"{name:>20} {e.size:>9} {t:>9.3f} {1e3 * t / e.size:>10.3f} {float(np.sum(out)):>22.15e}")


if __name__ == "__main__":
    main()
