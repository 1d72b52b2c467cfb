from __future__ import annotations

import argparse
import sys

from benchmark.cli.commands.run import add_execution_arguments, execution_from_args

HELP = (
    "Run a study file (studies/NAME.toml: datasets, methods, split, seeds and the study "
    "tables/figures built from them), with resume, like run."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="a study file, e.g. studies/scenarios.toml (docs/studies.md)")
    parser.add_argument("--out", help="folder for its outputs (default: the file's study.out)")
    add_execution_arguments(parser)


def finish(result) -> int:
    """Print what a study built; 1 when a cell failed or an output says the study did."""
    for message in result.build.messages:
        print(message)
    if result.build.written:
        print(f"written: {result.out}/" + ", ".join(result.build.written))
    print(f"{result.n_computed} cell(s) computed, {result.n_cached} reused", file=sys.stderr)
    if result.n_failed:
        print(
            f"{result.n_failed} cell(s) failed; reasons in each run folder's cells.csv "
            f"({', '.join(str(p) for p in result.run_dirs.values())})",
            file=sys.stderr,
        )
    return 1 if result.n_failed or result.build.failed else 0


def main(args: argparse.Namespace) -> int:
    from benchmark.execution.study import run_study
    from benchmark.report.studies.spec import load_study

    study = load_study(args.study)
    return finish(run_study(study, execution_from_args(args), args.out))
