"""``python -m benchmark VERB``: each verb is a module in ``benchmark/cli/commands/``.

A command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``main(args) -> int``.  Heavy libraries are imported inside ``main`` so ``--help`` and
``list`` answer instantly.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from benchmark.cli import commands
from benchmark.contract.naming import claim

EXAMPLES = """examples:
  python -m benchmark run --methods all            # every method, embedded synthetic cohort
  python -m benchmark run --dataset ./my-cohort --methods 'unet*' glcm-ridge
  python -m benchmark list                         # methods and whether they can run here
  python -m benchmark validate ./my-cohort         # check a cohort before running
  python -m benchmark report runs/<run>            # rebuild tables/figures from predictions
"""


def command_modules() -> dict[str, object]:
    """``{verb: module}``; two modules claiming one verb (``NAME``) is an error naming both."""
    found: dict[str, object] = {}
    for info in pkgutil.iter_modules(commands.__path__):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"benchmark.cli.commands.{info.name}")
            verb = getattr(module, "NAME", info.name.rstrip("_").replace("_", "-"))
            claim(found, verb, module, "CLI verb")
    return dict(sorted(found.items()))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmark",
        description="fetal-lung-bench: compare gestational-age estimators from fetal lung "
        "ultrasound on identical patient-level splits.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in command_modules().items():
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_main=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except ValueError as exc:  # a broken verb plugin (e.g. a duplicate NAME): one line
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if not getattr(args, "_main", None):
        parser.print_help()
        return 0
    try:
        return int(args._main(args) or 0)
    except KeyboardInterrupt:
        print(
            "interrupted; finished cells are kept, re-run the same command to resume",
            file=sys.stderr,
        )
        return 130
    except (ValueError, LookupError, OSError, RuntimeError) as exc:
        # bad input or configuration: one line, no traceback
        print(
            f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            file=sys.stderr,
        )
        return 2
