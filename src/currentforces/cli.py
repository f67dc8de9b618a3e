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


def build_parser():
    parser = argparse.ArgumentParser(
        prog="currentforces",
        description=(
            "Forces that an electric current exerts on the atoms of a nanoscale "
            "conductor (units: eV, Angstrom, amu, fs, K, V)."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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
