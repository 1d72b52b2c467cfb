from __future__ import annotations

import argparse
import sys

from benchmark.cli.commands.run import add_execution_arguments, execution_from_args

NAME = "check-results"
HELP = (
    "Rebuild every folder under results/ from what it stores (the reference run's "
    "tables, every study's folder) and fail on any byte difference; --update rewrites "
    "what changed, --recompute K reruns K reference cells from scratch."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results", nargs="?", default="results", help="the results folder (default: results)"
    )
    parser.add_argument(
        "--studies",
        help="folder of study files that name folders under "
        "results/ (default: the repository's studies/)",
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="write what the code computes now over what differs, and list it",
    )
    parser.add_argument(
        "--recompute",
        type=int,
        metavar="K",
        help="also rerun K cells of the reference run (one per method family "
        "that runs in under a minute, a net among them) and compare their "
        "predictions with predictions.csv",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.0,
        metavar="WEEKS",
        help="largest |difference| of a recomputed prediction (default 0: "
        "CPU runs are deterministic)",
    )
    parser.add_argument(
        "--device-tolerance",
        nargs=2,
        type=float,
        metavar=("R", "MAE"),
        default=None,
        help="torch cells whose predictions differ (other CPU "
        "kernels): largest patient-level |Δr| and |ΔMAE| in weeks "
        "(default 0.05 0.10)",
    )
    add_execution_arguments(parser)


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from benchmark.contract.plugins import REPO_ROOT
    from benchmark.execution.results_check import apply_fixes, check_all

    checks = check_all(args.results, args.studies or REPO_ROOT / "studies")
    problems = [p for c in checks for p in c.problems]
    for check in checks:
        where = _short(check.folder, Path(args.results))
        state = "DIFFERS" if check.problems else "ok" if check.checked else "not rebuilt"
        print(f"{where:<34} {check.what}: {state}")
        for item in check.checked:
            print(f"    rebuilt and compared: {item}")
        if check.not_rebuilt:
            print(f"    {check.not_rebuilt}")
        print(f"    {check.provenance()}")
        for line in check.stale:
            print(f"    STALE (re-run the study): {line}")
    code = 0
    if args.update:
        for line in apply_fixes(checks):
            print(line)
        print(f"updated: {sum(len(c.fixes) for c in checks)} file(s)")
    elif problems:
        print("\n".join(problems), file=sys.stderr)
        print(
            f"{len(problems)} file(s) differ: `python -m benchmark check-results --update` "
            "rewrites them, if the change is intended",
            file=sys.stderr,
        )
        code = 1
    if args.recompute is not None:
        code = max(code, _recompute(args))
    return code


def _recompute(args: argparse.Namespace) -> int:
    from benchmark.execution.recompute import DEVICE_MAE, DEVICE_R, recompute

    device_r, device_mae = args.device_tolerance or (DEVICE_R, DEVICE_MAE)
    result = recompute(
        args.results,
        args.recompute,
        args.tolerance,
        execution_from_args(args),
        device_r,
        device_mae,
    )
    print(
        f"\nrecomputed {len(result.cells)} cell(s) of {args.results}/ in "
        f"{result.seconds:.0f} s (tolerance {args.tolerance:g} wk):"
    )
    for cell in result.cells:
        verdict = cell.problem or cell.note or f"identical (max |Δ| {cell.max_abs_diff:.3g})"
        print(
            f"    {cell.label:<32} {cell.family:<18} {cell.rows:>4} rows  "
            f"{cell.seconds:6.1f} s (committed {cell.committed_seconds:.1f} s)  {verdict}"
        )
    for family in result.uncovered:
        print(f"    not recomputed: {family}")
    if result.problems:
        print("\n".join(result.problems), file=sys.stderr)
        return 1
    return 0


def _short(path, results) -> str:
    try:
        return path.resolve().relative_to(results.resolve().parent).as_posix() + "/"
    except ValueError:
        return str(path)
