from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Rebuild a run's tables and figures from its stored predictions (no method re-runs)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run folder (runs/<...>)")


def main(args: argparse.Namespace) -> int:
    from benchmark.report_hook import build_report

    run_dir = Path(args.run_dir)
    if not (run_dir / "predictions.csv").is_file():
        raise FileNotFoundError(f"{run_dir}: not a run folder (no predictions.csv)")
    print(build_report(run_dir))
    return 0
