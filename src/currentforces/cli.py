"""The ``currentforces`` command line.

One small function per subcommand, imports deferred until the subcommand
runs so that ``currentforces --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _cmd_figures(args):
    from .models.paper_figures import make_paper_figures

    paths = make_paper_figures(args.out)
    for p in paths:
        print(p)
    return 0


def _cmd_demo(args):
    """Built-in default job: a gold-like atomic chain junction."""
    import numpy as np

    from .models.chain import chain_junction

    junction = chain_junction(n_sites=6, hopping=1.0, coupling=0.8)
    print("currentforces demo: 6-site chain (t = 1 eV) between chain leads, device-lead hopping 0.8 eV")
    print()
    print(f"{'E (eV)':>8} {'T(E)':>10}")
    for e in np.linspace(-1.5, 1.5, 7):
        print(f"{e:8.2f} {float(junction.transmission(e)):10.6f}")
    print()
    print(f"{'bias (V)':>8} {'I (uA), T = 300 K':>20}")
    for v in (0.1, 0.5, 1.0):
        print(f"{v:8.2f} {junction.current(v, 300.0) * 1e6:20.4f}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="currentforces",
        description=(
            "Forces that an electric current exerts on the atoms of a nanoscale "
            "conductor (units: eV, Angstrom, amu, fs, K, V)."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="run the built-in default job and print a summary")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "figures",
        help="regenerate the founding paper's free-electron figures (Figs 5, 6, Lorentz A_z)",
    )
    p.add_argument("--out", default="figures", help="output directory (default: ./figures)")
    p.set_defaults(func=_cmd_figures)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
