from __future__ import annotations

import argparse

HELP = (
    "Sample size for the next study from a run: power of the report's paired test by "
    "resampling the run's paired patients, CI half-width, n for 80 %% power; the "
    "outcome model's minimum n (Riley 2020)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run folder or an exported folder (results/)")
    parser.add_argument(
        "--compare",
        nargs=2,
        action="append",
        metavar=("A", "B"),
        required=True,
        help="two methods' labels (repeatable)",
    )
    parser.add_argument(
        "--metric",
        nargs="+",
        choices=["mae", "r", "auc"],
        default=["mae"],
        help="one or more: mae: paired t of absolute errors; r: Williams' t; auc: "
        "DeLong (needs an outcome column)",
    )
    parser.add_argument("--group", help="one GA group (e.g. '24–30'; default: all patients)")
    parser.add_argument(
        "--n", nargs="+", type=int, default=[50, 100, 150, 200, 400], help="study sizes to evaluate"
    )
    parser.add_argument("--n-sim", type=int, default=1000, help="simulated studies per n")
    parser.add_argument(
        "--published-r",
        nargs=2,
        type=float,
        metavar=("R_A", "R_B"),
        help="also: power of Williams' t from a paper's two correlations "
        "alone (e.g. 0.773 0.521, the seed paper's transfer vs scratch)",
    )
    parser.add_argument(
        "--r-between",
        nargs="+",
        type=float,
        default=[0.5, 0.7, 0.9],
        help="assumed correlations between the two methods' estimates for "
        "--published-r (default 0.5 0.7 0.9)",
    )
    parser.add_argument(
        "--simulate",
        type=int,
        metavar="STUDIES",
        help="also: power from STUDIES fresh cohorts per n of the run's synthetic "
        "generator, both methods refitted (only methods that read no pixels and "
        "cost no more than a table lookup: biometry-*, dummy-mean, oracle)",
    )
    parser.add_argument("--out", help="output folder (default: RUN/plan)")


def main(args: argparse.Namespace) -> int:
    from benchmark.report.plan import plan

    if min(args.n) < 4:
        raise ValueError(f"--n {min(args.n)}: every study size must be at least 4")
    simulated = _simulate(args) if args.simulate else None
    result = plan(
        args.run_dir,
        [tuple(c) for c in args.compare],
        args.metric,
        args.group,
        args.n,
        args.n_sim,
        args.out,
        tuple(args.published_r) if args.published_r else None,
        args.r_between,
        simulated,
    )
    for table in result.tables:
        print(table.to_markdown())
    print(f"plan: {result.out}")
    return 0


def _simulate(args: argparse.Namespace) -> dict:
    import json
    from pathlib import Path

    import pandas as pd

    from benchmark.execution.plan_simulate import simulate

    if "auc" in args.metric or args.group:
        raise ValueError("--simulate: metrics mae and r over all patients (no --group, no auc)")
    root = Path(args.run_dir)
    config = json.loads((root / "run.json").read_text(encoding="utf-8"))["config"]
    cells = pd.read_csv(root / "cells.csv")
    test = cells["n_test_patients"].astype(float)
    fraction = float((test / (test + cells["n_train_patients"].astype(float))).median())
    if str(config.get("split", "")).startswith("kfold"):
        fraction = 1.0  # every patient is tested once, in its fold
    compare = [tuple(c) for c in args.compare]
    return {m: simulate(config, fraction, compare, m, args.n, args.simulate) for m in args.metric}
