from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from benchmark.commands.run import add_grid_arguments, config_from_args

NAME = "null-check"
HELP = ("Leak detector: run image methods on several independent synthetic-null cohorts "
        "and pool their r (every learned method's r must be indistinguishable from 0).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="synthetic-null",
                        help="a null source whose images carry no GA (default: synthetic-null)")
    add_grid_arguments(parser)
    parser.add_argument("--dataset-seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4],
                        metavar="SEED", help="one independent null cohort per generator seed "
                        "(default: 0 1 2 3 4)")
    parser.add_argument("--alpha", type=float, default=0.05,
                        help="family-wise error rate of the verdicts (Holm; default 0.05)")
    parser.set_defaults(methods=None)
    for action in parser._actions:  # the grid's help says "default: all"
        if action.dest == "methods":
            action.help = "image methods to check (default: every image method, and oracle)"


def select_methods(patterns: list[str] | None) -> tuple[list[str], list[str]]:
    """(checked, refused): only methods that read pixels or simulated truth can leak here;
    tabular methods read biometry, which carries GA in the null cohort by design."""
    from benchmark.gridspec import expand
    from benchmark.registry import get_method_class, list_methods

    checked, refused = [], []
    for name, _params, label in expand(patterns or ["all"]):
        try:
            cls = get_method_class(name)
        except LookupError:
            checked.append(label)  # unknown: the runner reports it as unavailable
            continue
        if cls.uses_images or cls.reads_truth:
            checked.append(label)
        elif patterns is not None:
            refused.append(label)
    if patterns is None:
        checked = [m for m in checked if m in list_methods("all", available_only=True)]
    return checked, refused


def main(args: argparse.Namespace) -> int:
    import pandas as pd

    from benchmark import runner
    from benchmark.stats.null_check import null_check, per_cohort_r

    checked, refused = select_methods(args.methods)
    for label in refused:
        print(f"not checked: {label} reads tabular columns (biometry), which carry GA in the "
              "null cohort by design", file=sys.stderr)
    if not checked:
        raise ValueError("null-check: no image method selected")
    args.methods = checked
    frames, failed, run_dirs = [], 0, []
    for seed in args.dataset_seeds:
        args.dataset_seed = seed
        result = runner.run(config_from_args(args))
        failed += result.n_failed
        run_dirs.append(str(result.run_dir))
        preds = pd.read_csv(result.run_dir / "predictions.csv")
        frames.append(preds.assign(dataset_seed=seed))
    cohorts = per_cohort_r(pd.concat(frames, ignore_index=True))
    table = null_check(cohorts, args.alpha)
    out = _out_dir(args)
    out.mkdir(parents=True, exist_ok=True)
    cohorts.to_csv(out / "per_cohort.csv", index=False, float_format="%.6g")
    table.to_csv(out / "null_check.csv", index=False, float_format="%.6g")
    text = _markdown(table, cohorts, args, run_dirs)
    (out / "null_check.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"written: {out}/null_check.md, null_check.csv, per_cohort.csv")
    if failed:
        print(f"{failed} cell(s) failed; see the run folders' cells.csv", file=sys.stderr)
    return 1 if failed or (table["verdict"] != "no evidence of a leak").any() else 0


def _out_dir(args: argparse.Namespace) -> Path:
    key = json.dumps([args.dataset, args.methods, args.dataset_seeds, args.split, args.seeds,
                      args.patients, args.images_per_patient], sort_keys=True)
    return Path(args.runs_dir) / f"null-check_{hashlib.sha256(key.encode()).hexdigest()[:6]}"


def _markdown(table, cohorts, args: argparse.Namespace, run_dirs: list[str]) -> str:
    seeds = " ".join(str(s) for s in args.dataset_seeds)
    lines = [
        f"# Null check: {args.dataset}, dataset seeds {seeds}, split {args.split}",
        "",
        "Patient-level Pearson r of each method on each independent null cohort, pooled by "
        "inverse-variance Fisher z. `alone` counts cohorts where r was significant by itself "
        f"(expected: {args.alpha:g} × cohorts by chance). `detectable` is the smallest |r| "
        "the pooled test finds with 80 % power.",
        "",
        "| method | cohorts | patients | r per cohort | alone | pooled r [95 % CI] | "
        "p (Holm) | detectable | verdict |",
        "|---|---:|---:|---|---:|---|---:|---:|---|",
    ]
    for row in table.itertuples():
        per = cohorts.loc[cohorts["method"] == row.method, "r"]
        lines.append(
            f"| {row.method} | {row.cohorts} | {row.patients} | "
            f"{' '.join(f'{r:+.2f}' for r in per)} | {row.significant_alone} | "
            f"{row.r_pooled:+.3f} [{row.lo:+.3f}, {row.hi:+.3f}] | {row.p_holm:.3g} | "
            f"{row.detectable_r:.3f} | {row.verdict} |"
        )
    lines += ["", "Run folders:", *[f"- {d}" for d in run_dirs], ""]
    return "\n".join(lines)
