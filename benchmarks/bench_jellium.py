"""Time the Fig-5 curl on a 200 x 200 grid for S = 20 lambda_F (and the A_z map).

Run: PYTHONPATH=src python benchmarks/bench_jellium.py
"""

from __future__ import annotations

import time

import numpy as np

from currentforces.models import jellium


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    for side in (10.0, 20.0):
        x = np.linspace(0.0, side, 200)
        t = best_of(lambda: jellium.curl_nonconservative(side, x[:, None], x[None, :]))
        print(f"curl_nonconservative, 200 x 200 grid, S = {side:g} lambda_F: {t * 1e3:.1f} ms")
    x = np.linspace(0.0, 20.0, 200)
    t = best_of(lambda: jellium.vector_potential_dimensionless(20.0, x[:, None], x[None, :], 0.004))
    print(f"vector_potential_dimensionless (eq. 51), 200 x 200 grid, S = 20 lambda_F: {t * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
