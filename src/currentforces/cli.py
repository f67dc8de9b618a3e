"""The ``currentforces`` command line.

One small function per subcommand, imports deferred until the subcommand
runs so that ``currentforces --help`` stays fast.

Subcommands::

    currentforces run CONFIG.toml      coefficients over a bias sweep, modes, runaway, dynamics -> .nc
    currentforces info FILE.nc         what a results file holds, with its summary table
    currentforces figures [FILE.nc]    PNG figures of a results file (or the paper's figures)
    currentforces demo                 the built-in gold-chain job into demo-output/
    currentforces config               every configuration key with its type and default

Bad input exits with status 2 and one line naming the key, argument or
path and what to do; a failed computation (an energy integral that misses
its tolerance) or file-system error exits with status 1 and one line.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main", "build_parser", "DEMO_CONFIG"]

DEMO_CONFIG = {
    "junction": {
        "preset": "gold_chain",
        "n_atoms": 4,
        "bond": 2.5,
        "lead_bond": 2.88,
        "movable": [1, 2, 3, 4],
        "axes": "z",
        "spring_constant": 2.0,
    },
    "electrons": {"temperature": 300.0, "fermi_level": 1.0, "spin": 2},
    "bias": {"values": [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]},
    "transmission": {"emin": -4.0, "emax": 4.0, "num": 201},
    "modes": {"enabled": True, "runaway": True, "n_scan": 9, "tolerance": 1e-3},
    "dynamics": {
        "enabled": True,
        "bias": 0.5,
        "timestep": 2.0,
        "steps": 20000,
        "record_every": 20,
        "seed": 7,
        "phonon_bath": True,
        "bath_friction": 0.01,
    },
    "output": {"file": "demo-output/demo.nc", "figures": True},
}
"""The built-in default job run by ``currentforces demo`` (the same as
``examples/gold_chain.toml``).

The Fermi level sits 1 eV above the centre of the half-filled s band (a
doped chain): at exact half filling the bipartite s-band chain is
particle-hole symmetric and its non-conservative and Berry forces vanish
identically (run with ``fermi_level = "auto"`` to see it).  The chain atoms
next to the electrodes couple to the electrode phonons (a phonon bath of
0.01/fs, about the acoustic impedance sqrt(k/M) of a gold chain), so that
the trajectory reaches its steady state: electronic friction alone barely
damps two of the modes (nanoseconds)."""


def _progress_wanted(args):
    return not getattr(args, "no_progress", False) and sys.stderr.isatty()


def _figures_for(ds, out, prefix=""):
    from .plot import make_figures

    return make_figures(ds, out, prefix)


def _run_config(cfg, out, args):
    from .job import run_job
    from .report import run_report

    res = run_job(cfg, out, progress=_progress_wanted(args), overwrite=getattr(args, "overwrite", False))
    print(f"wrote {res.path}")
    print()
    print(res.dataset.attrs["description"])
    print(run_report(res.dataset), end="")
    if cfg.output.figures and not getattr(args, "no_figures", False):
        stem = res.path.stem
        for p in _figures_for(res.dataset, res.path.parent, prefix=f"{stem}-"):
            print(f"wrote {p}")
    return 0


def _cmd_run(args):
    from .config import load_config

    cfg = load_config(args.config)
    return _run_config(cfg, args.out, args)


def _cmd_info(args):
    from .io import describe_dataset, read_dataset
    from .report import run_notes

    ds = read_dataset(args.file)
    print(describe_dataset(ds))
    for note in run_notes(ds):
        print(note)
    if args.config:
        import json

        print(json.dumps(json.loads(ds.attrs.get("config_json", "{}")), indent=2))
    return 0


def _cmd_figures(args):
    if args.file:
        from .io import read_dataset

        ds = read_dataset(args.file)
        paths = _figures_for(ds, args.out)
    else:
        from .models.paper_figures import make_paper_figures

        paths = make_paper_figures(args.out)
    for p in paths:
        print(p)
    return 0


def _cmd_demo(args):
    """Built-in default job: a gold atomic chain between gold electrodes."""
    from pathlib import Path

    from .config import validate_config

    cfg = validate_config(DEMO_CONFIG)
    out = Path(args.out) / "demo.nc"
    print("currentforces demo: gold atomic chain (s-band tight binding) between gold chain electrodes")
    return _run_config(cfg, out, args)


def _cmd_config(args):
    from .config import describe_schema

    print(describe_schema())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="currentforces",
        description=(
            "Forces that an electric current exerts on the atoms of a nanoscale conductor: "
            "mean force, friction, non-conservative and Berry forces, noise, and the atomic "
            "motion they drive (units: eV, Angstrom, amu, fs, K, V)."
        ),
        epilog=(
            "Start with `currentforces demo`, then copy examples/gold_chain.toml, edit it and "
            "`currentforces run my.toml`. `currentforces config` lists every configuration key. "
            "`currentforces COMMAND --help` explains each command."
        ),
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"currentforces {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "run",
        help="compute coefficients over a bias sweep (+ modes, runaway, dynamics) from a TOML config",
        description=(
            "Build the junction of CONFIG, compute the force coefficients at every bias, analyse "
            "the modes, search the runaway threshold and (optionally) run Langevin dynamics. "
            "Results go to one NetCDF file (output.file); figures next to it. The file is "
            "checkpointed after every bias: run the same command again to resume."
        ),
    )
    p.add_argument("config", metavar="CONFIG.toml", help="run configuration (see `currentforces config`)")
    p.add_argument("--out", default=None, help="output NetCDF file (default: output.file of the config)")
    p.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming an existing file")
    p.add_argument("--no-figures", action="store_true", help="do not write PNG figures")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (they are off when not a terminal)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "info",
        help="summarise a results file (.nc)",
        description="Print the dimensions, the per-bias summary table, the runaway threshold "
        "and the variables (with units) of a results file.",
    )
    p.add_argument("file", metavar="FILE.nc", help="results file written by `currentforces run`")
    p.add_argument("--config", action="store_true", help="also print the input configuration stored in the file")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser(
        "figures",
        help="PNG figures of a results file, or (without FILE) the founding paper's free-electron figures",
    )
    p.add_argument(
        "file",
        metavar="FILE.nc",
        nargs="?",
        default=None,
        help="results file; omit to regenerate the paper's Figs 5, 6 and the Lorentz A_z",
    )
    p.add_argument("--out", default="figures", help="output directory (default: ./figures)")
    p.set_defaults(func=_cmd_figures)

    p = sub.add_parser("demo", help="run the built-in gold-chain job into demo-output/ and print a summary")
    p.add_argument("--out", default="demo-output", help="output directory (default: ./demo-output)")
    p.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("config", help="list every configuration key with its type, default and meaning")
    p.set_defaults(func=_cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return _report_errors(args.func, args)


def _one_line(text):
    return " ".join(str(text).split())


def _report_errors(func, args):
    """Run a subcommand; turn the package's named errors into one line on
    stderr and a non-zero exit status (2: bad input, 1: a computation or
    the file system failed), never a traceback."""
    from .errors import InputError, IntegrationError

    def fail(message, code):
        print(f"currentforces: error: {_one_line(message)}", file=sys.stderr)
        return code

    try:
        code = func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except InputError as exc:
        return fail(exc, 2)
    except IntegrationError as exc:
        hint = (
            "check electrons.temperature, electrons.fermi_level and bias.values, or loosen electrons.rtol"
            if getattr(args, "command", None) in ("run", "demo")
            else "please report it"
        )
        return fail(f"{exc}; an energy integral did not converge: {hint}", 1)
    except BrokenPipeError:  # the reader went away (`currentforces info x.nc | head`)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what the shell reports for a command stopped by a closed pipe
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return fail(f"{where}{exc.strerror or exc}; check that the path exists and that you may write there", 1)
    except KeyboardInterrupt:
        print("currentforces: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
