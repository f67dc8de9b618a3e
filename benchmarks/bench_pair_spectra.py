"""Cost of the lead-pair spectra (noise, dissipation, electron-hole) over a set of frequencies.

On the random wide-band device of ``bench_coefficients.py`` (N = 100
orbitals, M = 24 modes by default) at V = 0.1 V, it times
``noise_spectrum`` and ``electron_hole_spectrum`` at ``--omegas`` values of
hbar*omega equally spaced in [0, ``--max``] eV (and ``joule_heating`` of the
first mode at the first four non-zero ones) and prints the wall time and
the number of energies at which the Green's function was formed
(``Junction.count_energies`` where the junction has it, otherwise counted
by wrapping the dense backend's ``E - h - Sigma``).

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_pair_spectra.py [--temperature T] [--rtol R]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

import numpy as np

from currentforces import electron_hole_spectrum, joule_heating, noise_spectrum

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench_coefficients import random_device  # noqa: E402


@contextlib.contextmanager
def counting(junction):
    """Yields an object whose ``energies`` is the number of G energies so far:
    ``Junction.count_energies`` where the junction has it, otherwise the
    energies of every outermost call of the junction's Green's-function
    methods (wrapped on this instance)."""
    if hasattr(junction, "count_energies"):
        with junction.count_energies() as counter:
            yield counter
        return

    class Counter:
        energies = 0
        depth = 0

    counter = Counter()
    names = ("green", "green_submatrix", "green_derivative_submatrix")

    def wrap(method):
        def counted(energy, *args, **kwargs):
            if counter.depth == 0:
                counter.energies += int(np.size(energy))
            counter.depth += 1
            try:
                return method(energy, *args, **kwargs)
            finally:
                counter.depth -= 1

        return counted

    for name in names:
        setattr(junction, name, wrap(getattr(junction, name)))
    try:
        yield counter
    finally:
        for name in names:
            delattr(junction, name)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--modes", type=int, default=24)
    p.add_argument("--omegas", type=int, default=16)
    p.add_argument("--max", type=float, default=0.15, help="largest hbar*omega, eV")
    p.add_argument("--bias", type=float, default=0.1)
    p.add_argument("--temperature", type=float, default=300.0)
    p.add_argument("--rtol", type=float, default=1e-8)
    p.add_argument("--save", help="write the spectra to this .npz file (to compare two versions)")
    args = p.parse_args(argv)
    junction, forces = random_device(args.size, args.modes)
    hw = np.linspace(0.0, args.max, args.omegas)
    kw = dict(bias=args.bias, temperature=args.temperature, fermi_level=0.0, rtol=args.rtol)
    print(
        f"N = {args.size}, M = {args.modes}, {args.omegas} values of hbar*omega in [0, {args.max}] eV, "
        f"V = {args.bias} V, T = {args.temperature} K, rtol = {args.rtol}"
    )
    header = f"{'call':>24} {'wall s':>9} {'G energies':>11}"
    print(header)
    print("-" * len(header))
    out = {}
    for name, func in (("noise_spectrum", noise_spectrum), ("electron_hole_spectrum", electron_hole_spectrum)):
        with counting(junction) as c:
            t0 = time.perf_counter()
            out[name] = func(junction, forces, hw, **kw)
            wall = time.perf_counter() - t0
        print(f"{name:>24} {wall:9.2f} {c.energies:11d}")
        sys.stdout.flush()
    # one mode at four frequencies (positional hbar*omega: runs on every version)
    with counting(junction) as c:
        t0 = time.perf_counter()
        out["joule_energy"] = [joule_heating(junction, forces[0], w, **kw).energy for w in hw[1:5]]
        wall = time.perf_counter() - t0
    print(f"{'joule_heating x 4':>24} {wall:9.2f} {c.energies:11d}")
    if args.save:
        np.savez(args.save, hbar_omega=hw, **out)


if __name__ == "__main__":
    main()
