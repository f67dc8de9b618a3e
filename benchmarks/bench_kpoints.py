"""Benchmark: k-point sampling costs (irreducible k-points) x (one k) and parallelises over k.

A square-lattice strip periodic across the transport direction (``width``
sites per transverse cell, ``columns`` columns, a diagonal hopping that
breaks the y -> -y mirror so that k and -k are related by time reversal
only), force operators of two bonds (one across the cell boundary).  For
each Gamma-centred grid of n points the script times, at zero bias,

* ``one k``: ``force_coefficients`` of a single k-point junction;
* ``reduced``: the :class:`~currentforces.kpoints.KPointJunction` with
  time-reversal folding (n // 2 + 1 irreducible points), serial;
* ``full``: the same grid without folding (n points), serial;
* ``threads`` / ``processes``: the reduced grid with ``workers`` workers;

and prints ``reduced / (n_irr * one k)`` (target: about 1) and the
parallel speed-ups.

Usage::

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bench_kpoints.py [--grids 4 8 16] [--workers 2]

Timings on a shared machine are noisy; run it on an idle one for numbers
to quote.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from currentforces import Junction, Lead, force_coefficients
from currentforces.kpoints import KPointJunction, bloch_sum


class Strip:
    """``make(k)``: the strip's Bloch junction at transverse k (picklable)."""

    def __init__(self, columns=6, width=3, t=-1.0, diagonal=0.3, seed=1):
        rng = np.random.default_rng(seed)
        n = columns * width
        idx = np.arange(n).reshape(columns, width)
        d0, d1 = np.diag(0.3 * rng.standard_normal(n)), np.zeros((n, n))
        for c in range(columns):
            for j in range(width - 1):
                d0[idx[c, j], idx[c, j + 1]] = d0[idx[c, j + 1], idx[c, j]] = t
            d1[idx[c, -1], idx[c, 0]] += t
            if c + 1 < columns:
                for j in range(width):
                    d0[idx[c, j], idx[c + 1, j]] = d0[idx[c + 1, j], idx[c, j]] = t
                d1[idx[c, -1], idx[c + 1, 0]] += diagonal
        self.device = {(0,): d0, (1,): d1, (-1,): d1.T}
        c0 = t * (np.eye(width, k=1) + np.eye(width, k=-1))
        c1 = np.zeros((width, width))
        c1[-1, 0] = t
        self.onsite = {(0,): c0, (1,): c1, (-1,): c1.T}
        tx1 = np.zeros((width, width))
        tx1[-1, 0] = diagonal
        self.right = {(0,): t * np.eye(width), (1,): tx1}
        self.left = {(0,): t * np.eye(width), (-1,): tx1.T}
        self.rows = (idx[0], idx[-1])
        self.n = n
        f1 = np.zeros((n, n))
        f1[idx[1, 0], idx[2, 0]] = f1[idx[2, 0], idx[1, 0]] = -0.7
        f2 = np.zeros((n, n))
        f2[idx[2, -1], idx[2, 0]] = -0.7
        self.forces = {(0,): np.stack([f1, 0 * f1]), (1,): np.stack([0 * f1, f2]), (-1,): np.stack([0 * f1, f2.T])}

    def _coupling(self, rows, hop, k):
        c = np.zeros((self.n, hop.shape[1]), dtype=complex)
        c[rows] = hop
        return c

    def __call__(self, k):
        on = bloch_sum(self.onsite, k)
        left, right = bloch_sum(self.left, k), bloch_sum(self.right, k)
        leads = [
            Lead(on, left, self._coupling(self.rows[0], left, k)),
            Lead(on, right, self._coupling(self.rows[1], right, k)),
        ]
        return Junction(bloch_sum(self.device, k), leads)

    def force_operators(self, k):
        return list(bloch_sum(self.forces, k))


OPTIONS = dict(temperature=300.0, fermi_level=0.4, rtol=1e-6)


def timed(func):
    t0 = time.perf_counter()
    out = func()
    return time.perf_counter() - t0, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grids", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument("--width", type=int, default=3)
    args = parser.parse_args(argv)
    model = Strip(args.columns, args.width)
    forces = model.force_operators
    one, _ = timed(lambda: force_coefficients(model(np.array([0.1])), forces((0.1,)), **OPTIONS))
    print(f"strip {args.columns} columns x {args.width} sites ({model.n} orbitals), force_coefficients at zero bias")
    print(f"one k: {one:.2f} s")
    names = [("n_k", 4), ("n_irr", 5), ("reduced s", 9), ("ratio", 6), ("full s", 7), ("threads s", 9)]
    head = " ".join(f"{a:>{w}}" for a, w in names + [("procs s", 8), ("max|dK|", 8)])
    print(head)
    print("-" * len(head))
    for n in args.grids:
        red = KPointJunction(model, kgrid=(n,))
        full = KPointJunction(model, kgrid=(n,), time_reversal=False)
        t_red, c_red = timed(lambda: force_coefficients(red, forces, **OPTIONS))
        t_full, c_full = timed(lambda: force_coefficients(full, forces, **OPTIONS))
        thr = KPointJunction(model, kgrid=(n,), backend="threads", workers=args.workers)
        t_thr, _ = timed(lambda: force_coefficients(thr, forces, **OPTIONS))
        prc = KPointJunction(model, kgrid=(n,), backend="processes", workers=args.workers)
        t_prc, _ = timed(lambda: force_coefficients(prc, forces, **OPTIONS))
        d = float(np.abs(c_red.K - c_full.K).max())
        print(
            f"{n:>4} {len(red):>5} {t_red:>9.2f} {t_red / (len(red) * one):>6.2f} {t_full:>7.2f} "
            f"{t_thr:>9.2f} {t_prc:>8.2f} {d:>8.1e}"
        )


if __name__ == "__main__":
    main()
