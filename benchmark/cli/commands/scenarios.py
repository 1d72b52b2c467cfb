"""``scenarios``: the scenario study (``studies/scenarios.toml``) with its runs' options
taken from the command line; it writes the same files as that study, without storing its
inputs (``study studies/scenarios.toml`` does, for ``check-results``)."""

from __future__ import annotations

import argparse

from benchmark.cli.commands.run import add_grid_arguments, execution_from_args

HELP = (
    "Run a method selection on every synthetic scenario (default world, texture-only "
    "positive control, anatomy-only, null) and tabulate r and MAE per scenario."
)
STUDY = "studies/scenarios.toml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_grid_arguments(
        parser,
        methods_default=["all"],
        methods_help=(
            "names or globs (default: all); the methods that read the simulated truth (the "
            "oracle) are always added: their r is each scenario's ceiling"
        ),
    )
    parser.add_argument(
        "--scenarios",
        nargs="+",
        metavar="NAME",
        help="dataset sources to run (default: every source tagged "
        "'scenario', in registration order)",
    )
    parser.add_argument("--dataset-seed", type=int, help="generator seed of every scenario")
    parser.add_argument(
        "--out",
        default="results/scenarios",
        help="folder for summary.csv, summary.md and scenarios.png (default: results/scenarios)",
    )


def grid_changes(args: argparse.Namespace) -> dict:
    """The study fields the shared grid options set (methods, split, seeds, cohort)."""
    options = {
        key: value
        for key, value in (
            ("patients", args.patients),
            ("images_per_patient", args.images_per_patient),
            ("sites", getattr(args, "sites", None)),
        )
        if value
    }
    return {
        "methods": tuple(args.methods) if args.methods is not None else None,
        "split": args.split,
        "seeds": tuple(args.seeds),
        "groups": tuple(args.groups),
        "fallback": args.fallback,
        "options": options,
    }


def main(args: argparse.Namespace) -> int:
    from benchmark.cli.commands.study import finish
    from benchmark.contract.plugins import REPO_ROOT
    from benchmark.execution.study import run_study
    from benchmark.report.studies.spec import load_study

    study = load_study(REPO_ROOT / STUDY)
    changes = grid_changes(args)
    if args.dataset_seed is not None:
        changes["options"] = {**changes["options"], "seed": args.dataset_seed}
    if args.scenarios:
        changes["datasets"] = tuple(args.scenarios)
    study = study.with_changes(store_inputs=False, dataset_seeds=None, **changes)
    return finish(run_study(study, execution_from_args(args), args.out))
