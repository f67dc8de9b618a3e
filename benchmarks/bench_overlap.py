"""Benchmark: the cost of an overlap matrix per energy, dense and RGF backends.

A multi-orbital non-orthogonal wire (``width`` orbitals per layer, nearest-
layer hopping and overlap, periodic non-orthogonal leads with overlap
coupling) is built with and without its overlap (S = 1 when omitted; the
same H), and the Green's-function work per energy that the force
coefficients do is timed:

* ``G``: ``green_submatrix`` on a few central orbitals and the lead
  supports;
* ``dG``: ``green_derivative_submatrix`` on the same orbitals;

each per energy, over a batch of real energies inside the band (lead
self-energies included, cached leads cleared between runs).  ``ratio`` is
with/without overlap (target <= 1.3); for the RGF backend the time per
energy and per layer shows the linear scaling in length.

Usage::

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/bench_overlap.py [--layers 50 200 800] [--width 4]

Timings on a shared machine are noisy; the table reports the best of
``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from currentforces import Junction, Lead


def wire(layers, width, overlap, seed=0):
    """H, S (or None) and the two leads of a non-orthogonal multi-orbital wire."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((width, width))
    onsite = 0.3 * (a + a.T)
    hop = -np.eye(width) + 0.1 * rng.standard_normal((width, width))
    s00 = np.eye(width) + 0.02 * (np.eye(width, k=1) + np.eye(width, k=-1))
    s01 = 0.15 * np.eye(width)
    n = layers * width
    h = sp.kron(sp.eye(layers), onsite) + sp.kron(sp.eye(layers, k=1), hop) + sp.kron(sp.eye(layers, k=-1), hop.T)
    s = sp.kron(sp.eye(layers), s00) + sp.kron(sp.eye(layers, k=1), s01) + sp.kron(sp.eye(layers, k=-1), s01.T)
    leads = []
    for end in (0, layers - 1):
        c = np.zeros((n, width))
        sc = np.zeros((n, width))
        rows = slice(end * width, (end + 1) * width)
        c[rows] = hop.T if end == 0 else hop
        sc[rows] = s01.T if end == 0 else s01
        kw = {"onsite_overlap": s00, "hopping_overlap": s01, "coupling_overlap": sc} if overlap else {}
        leads.append(Lead(onsite, hop, c, **kw))
    return h.tocsr(), (s.tocsr() if overlap else None), leads


def time_case(layers, width, solver, overlap, energies, repeat):
    h, s, leads = wire(layers, width, overlap)
    if solver == "dense":
        h = h.toarray()
        s = None if s is None else s.toarray()
    j = Junction(h, leads, overlap=s, solver=solver)
    mid = (layers // 2) * width
    orbitals = np.arange(mid, mid + width)
    cols = np.concatenate([lead.support for lead in leads])
    best = {"G": np.inf, "dG": np.inf}
    for _ in range(repeat):
        for lead in leads:
            lead._cache = None
        t0 = time.perf_counter()
        j.green_submatrix(energies, orbitals, cols)
        best["G"] = min(best["G"], (time.perf_counter() - t0) / energies.size)
        for lead in leads:
            lead._cache = None
        t0 = time.perf_counter()
        j.green_derivative_submatrix(energies, orbitals)
        best["dG"] = min(best["dG"], (time.perf_counter() - t0) / energies.size)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[50, 200, 800])
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--dense-max", type=int, default=800, help="largest device (orbitals) on the dense backend")
    parser.add_argument("--energies", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    energies = np.linspace(-0.8, 0.8, args.energies)
    print(
        f"{'solver':>6} {'layers':>7} {'N':>6} {'G ms':>9} {'G+S ms':>9} {'ratio':>6} "
        f"{'dG ms':>9} {'dG+S ms':>9} {'ratio':>6}"
    )
    for solver in ("dense", "rgf"):
        for layers in args.layers:
            n = layers * args.width
            if solver == "dense" and n > args.dense_max:
                continue
            plain = time_case(layers, args.width, solver, False, energies, args.repeat)
            over = time_case(layers, args.width, solver, True, energies, args.repeat)
            print(
                f"{solver:>6} {layers:>7} {n:>6} {1e3 * plain['G']:9.3f} {1e3 * over['G']:9.3f} "
                f"{over['G'] / plain['G']:6.2f} {1e3 * plain['dG']:9.3f} {1e3 * over['dG']:9.3f} "
                f"{over['dG'] / plain['dG']:6.2f}"
            )


if __name__ == "__main__":
    main()
