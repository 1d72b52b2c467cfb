"""``null-check``: the null-pooling study (``studies/null-check.toml``) with its cohort,
methods and seeds taken from the command line, written to a folder named by them."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from benchmark.cli.commands.run import add_grid_arguments, execution_from_args
from benchmark.cli.commands.scenarios import grid_changes

NAME = "null-check"
HELP = (
    "Leak detector: run image methods on several independent synthetic-null cohorts "
    "and pool their r (every learned method's r must be indistinguishable from 0)."
)
STUDY = "studies/null-check.toml"


def select_methods(selections: list[str] | None) -> tuple[list[str], list[str], list[str]]:
    """(selections to run, labels refused, control labels): the null pooling's rule."""
    from benchmark.report.studies.sections import null_pooling

    return null_pooling.select_methods(selections)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        default="synthetic-null",
        help="a generated null source (default: synthetic-null); each dataset "
        "seed must give a different cohort",
    )
    add_grid_arguments(
        parser,
        methods_default=None,
        methods_help=(
            "image methods to check, names or globs (default: every available image method; "
            "methods declaring the ceiling role, e.g. the oracle, are added as the cohort's "
            "controls)"
        ),
    )
    parser.add_argument(
        "--dataset-seeds",
        nargs="+",
        type=int,
        default=[0, 1, 2, 3, 4],
        metavar="SEED",
        help="one independent null cohort per generator seed (default: 0 1 2 3 4)",
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="family-wise error rate of the verdicts (Holm; default 0.05)",
    )


def main(args: argparse.Namespace) -> int:
    from benchmark.cli.commands.study import finish
    from benchmark.contract.plugins import REPO_ROOT
    from benchmark.execution.study import prepare_study, run_study
    from benchmark.report.studies.spec import load_study

    study = load_study(REPO_ROOT / STUDY).with_changes(
        datasets=(args.dataset,),
        dataset_seeds=tuple(args.dataset_seeds),
        store_inputs=False,
        parameters={"alpha": args.alpha},
        **grid_changes(args),
    )
    prepared = prepare_study(study)
    out = _out_dir(args, list(prepared[0].methods))
    return finish(run_study(study, execution_from_args(args), out, prepared=prepared))


def _out_dir(args: argparse.Namespace, selections: list[str] | None = None) -> Path:
    """Named by the cohort, the methods run (after selection), seeds and options."""
    methods = args.methods if selections is None else selections
    key = [
        args.dataset,
        methods,
        args.dataset_seeds,
        args.split,
        args.seeds,
        args.patients,
        args.images_per_patient,
    ]
    if getattr(args, "sites", None):  # appended only when set: older folders keep their key
        key.append({"sites": args.sites})
    key = json.dumps(key, sort_keys=True)
    return Path(args.runs_dir) / f"null-check_{hashlib.sha256(key.encode()).hexdigest()[:6]}"
