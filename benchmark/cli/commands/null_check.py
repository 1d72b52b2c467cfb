from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

from benchmark.cli.commands.run import add_grid_arguments, config_from_args

NAME = "null-check"
HELP = ("Leak detector: run image methods on several independent synthetic-null cohorts "
        "and pool their r (every learned method's r must be indistinguishable from 0).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="synthetic-null",
                        help="a generated null source (default: synthetic-null); each dataset "
                        "seed must give a different cohort")
    add_grid_arguments(parser, methods_default=None, methods_help=(
        "image methods to check, names or globs (default: every available image method; "
        "methods declaring the ceiling role, e.g. the oracle, are added as the cohort's "
        "controls)"))
    parser.add_argument("--dataset-seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4],
                        metavar="SEED", help="one independent null cohort per generator seed "
                        "(default: 0 1 2 3 4)")
    parser.add_argument("--alpha", type=float, default=0.05,
                        help="family-wise error rate of the verdicts (Holm; default 0.05)")


def select_methods(selections: list[str] | None) -> tuple[list[str], list[str], list[str]]:
    """(selections to run, labels refused, control labels).

    Only methods that read pixels can leak GA here; tabular methods read columns that
    carry GA in a null cohort by design. A selection keeps its ``[params]`` text, so the
    runner expands exactly what the user asked for. Controls are the methods that read
    simulation truth (``reads_truth``) or declare the ``ceiling`` role; by default every
    available one is run beside the image methods.
    """
    from benchmark.contract.registry import get_method_class, list_methods
    from benchmark.execution.gridspec import split_selection

    explicit = selections is not None
    available = set(list_methods("all", available_only=True))
    run, refused, controls = [], [], []
    for selection in selections or ["all"]:
        pattern, params = split_selection(selection)
        suffix = f"[{params}]" if params else ""
        for name in list_methods(pattern):
            try:
                cls = get_method_class(name)
            except LookupError:  # unknown or broken: the runner reports why
                run.append(name + suffix)
                continue
            if not (cls.uses_images or cls.reads_truth):
                if explicit:
                    refused.append(name)
                continue
            if explicit or name in available:
                run.append(name + suffix)
            if cls.reads_truth or cls.role == "ceiling":
                controls.append(name)
    if not explicit:
        for name in sorted(available):
            cls = get_method_class(name)
            if cls.role == "ceiling" and name not in controls:
                run.append(name)
                controls.append(name)
    return list(dict.fromkeys(run)), refused, controls


def main(args: argparse.Namespace) -> int:
    import pandas as pd

    from benchmark.execution import runner
    from benchmark.stats.null_check import NO_LEAK, NULL_OK, fold_r, null_check, per_cohort

    if not 0 < args.alpha < 1:
        raise ValueError(f"--alpha must be between 0 and 1, got {args.alpha:g}")
    if len(set(args.dataset_seeds)) != len(args.dataset_seeds):
        raise ValueError("--dataset-seeds repeats a seed: pooled cohorts must be independent")
    if len(args.seeds) != 1:
        raise ValueError("null-check uses one split seed (--seeds): its independent cohorts "
                         "come from --dataset-seeds")
    selections, refused, controls = select_methods(args.methods)
    for name in refused:
        print(f"not checked: {name} reads no pixels; its tabular inputs carry GA in a null "
              "cohort by design", file=sys.stderr)
    if not selections:
        raise ValueError("null-check: no image method selected")
    args.methods = selections
    configs = {}
    for seed in args.dataset_seeds:
        args.dataset_seed = seed
        configs[seed] = config_from_args(args)
    _refuse_repeated_cohorts(args.dataset, configs.values())
    frames, problems, runs = [], [], []
    for seed, config in configs.items():
        result = runner.run(config)
        runs.append((seed, result.run_dir))
        for cell in result.cells.itertuples():
            if cell.status != "done":
                problems.append(f"dataset seed {seed}: {cell.label} {cell.status}: "
                                f"{getattr(cell, 'error', '')}")
        if (result.run_dir / "predictions.csv").stat().st_size > 1:
            frames.append(pd.read_csv(result.run_dir / "predictions.csv")
                          .assign(dataset_seed=seed))
    preds = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["label", "dataset_seed", "seed", "fold", "level", "ga_true", "ga_pred"]))
    folds = fold_r(preds)
    table = null_check(folds, args.alpha, frozenset(controls))
    cohorts = per_cohort(folds)
    out = _out_dir(args)
    out.mkdir(parents=True, exist_ok=True)
    cohorts.to_csv(out / "per_cohort.csv", index=False, float_format="%.6g")
    table.to_csv(out / "null_check.csv", index=False, float_format="%.6g")
    text = _markdown(table, cohorts, args, runs, problems)
    (out / "null_check.md").write_text(text, encoding="utf-8")
    print(text)
    flagged = table.loc[~table["verdict"].isin([NO_LEAK, NULL_OK]), "method"].tolist()
    summary = (f"{len(table) - len(flagged)} of {len(table)} checked clean"
               + (f"; flagged or not testable: {', '.join(flagged)}" if flagged else "")
               + (f"; {len(problems)} cell(s) not done" if problems else ""))
    print(f"{summary}\nwritten: {out}/null_check.md, null_check.csv, per_cohort.csv")
    return 1 if flagged or problems else 0


def _refuse_repeated_cohorts(dataset: str, configs) -> None:
    """Before any method runs: each seed must give other data (a folder ignores the seed),
    or pooling would count one cohort several times as if independent."""
    from benchmark.data.cohort import Cohort
    from benchmark.data.sources import resolve_dataset

    fingerprints = [Cohort.load(resolve_dataset(c.dataset, **c.dataset_options)).fingerprint()
                    for c in configs]
    if len(set(fingerprints)) < len(fingerprints):
        raise ValueError(f"{dataset}: different dataset seeds gave the same cohort (a folder "
                         "ignores the seed); pooling it would fake independence")


def _out_dir(args: argparse.Namespace) -> Path:
    key = [args.dataset, args.methods, args.dataset_seeds, args.split, args.seeds,
           args.patients, args.images_per_patient]
    if getattr(args, "sites", None):  # appended only when set: older folders keep their key
        key.append({"sites": args.sites})
    key = json.dumps(key, sort_keys=True)
    return Path(args.runs_dir) / f"null-check_{hashlib.sha256(key.encode()).hexdigest()[:6]}"


def _fmt(value: float, spec: str) -> str:
    return "—" if math.isnan(value) else format(value, spec)


def _markdown(table, cohorts, args: argparse.Namespace, runs, problems: list[str]) -> str:
    seeds = args.dataset_seeds
    n_methods = int((table["role"] == "method").sum())
    lines = [
        f"# Null check: {args.dataset}, dataset seeds {' '.join(map(str, seeds))}, "
        f"split {args.split}",
        "",
        "Each dataset seed is an independent cohort whose images carry no GA. A method's "
        "patient-level r with GA is taken on each test set and pooled by inverse-variance "
        f"Fisher z. `alone`: cohorts where r was significant by itself (chance alone gives "
        f"{args.alpha * len(seeds):.2g} of {len(seeds)}). Verdicts are Holm-adjusted over the "
        f"{n_methods} method(s); the CI and `detectable` (smallest |r| found with 80 % power) "
        "use the matching Bonferroni level. Controls (the oracle reads the simulated "
        "maturity) check the cohort itself, outside that family.",
        "",
        "| method | role | r per cohort (seed: r) | alone | pooled r [CI] | p adj. | "
        "detectable | verdict |",
        "|---|---|---|---:|---|---:|---:|---|",
    ]
    for row in table.itertuples():
        mine = cohorts[cohorts["method"] == row.method].set_index("dataset_seed")["r"]
        per = " ".join(f"{s}: {_fmt(mine.get(s, float('nan')), '+.2f')}" for s in seeds)
        lines.append(
            f"| {row.method} | {row.role} | {per} | {row.significant_alone} | "
            f"{_fmt(row.r_pooled, '+.3f')} [{_fmt(row.lo, '+.3f')}, {_fmt(row.hi, '+.3f')}] "
            f"| {_fmt(row.p_adjusted, '.3g')} | {_fmt(row.detectable_r, '.3f')} | "
            f"{row.verdict} |")
    if problems:
        lines += ["", "Cells that did not finish (their cohorts are missing above):",
                  *[f"- {p}" for p in problems]]
    lines += ["", "Run folders:", *[f"- seed {s}: {d}" for s, d in runs], ""]
    return "\n".join(lines)
