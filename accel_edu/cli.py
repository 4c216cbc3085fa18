"""The ``accel-edu`` command. Each subcommand lives beside the code it drives and registers
itself here through a ``register(subparsers)`` function."""
from __future__ import annotations

import argparse
import importlib
import sys

# module -> where its subcommands come from; a module that is missing is skipped.
SUBCOMMAND_MODULES = [
    "accel_edu.runtime.devices",      # accel-edu devices
    "accel_edu.bench.cli",            # accel-edu bench
    "accel_edu.grading.cli",          # accel-edu grade / make-exercises / autograder-bundle
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accel-edu",
        description="accel_edu: the same deep-learning kernels on NumPy, Numba and OpenCL.\n"
                    "See what this machine can run, measure kernels, and grade exercises.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `accel-edu COMMAND --help` for the options of each command.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # that part of the project is not there yet
            raise
        module.register(sub)
    return parser


def _version() -> str:
    from . import __version__
    return f"accel-edu {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:  # bad input: a message, not a traceback
        print(f"accel-edu {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
