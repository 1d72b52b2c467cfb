from __future__ import annotations

import argparse
from pathlib import Path

HELP = ("Rebuild a run's tables, figures and HTML report from its stored predictions "
        "(no method re-runs); --out exports them, e.g. into results/.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run folder (runs/<...>) or an exported folder")
    parser.add_argument("--out", help="export into this folder (tables, figures, report.html, "
                        "predictions.csv, cells.csv, run.json; no per-cell intermediates)")
    parser.add_argument("--level", choices=["patient", "image"], default="patient",
                        help="unit of analysis (default: patient, as the paper)")
    parser.add_argument("--reference", default="biometry-hadlock",
                        help="Table 2 reference method (default: biometry-hadlock)")
    parser.add_argument("--no-figures", dest="figures", action="store_false",
                        help="tables and report only")


def main(args: argparse.Namespace) -> int:
    from benchmark.report_hook import build_report

    run_dir = Path(args.run_dir)
    if not (run_dir / "predictions.csv").is_file():
        raise FileNotFoundError(f"{run_dir}: not a run folder (no predictions.csv)")
    print(build_report(run_dir, args.out, args.level, args.reference, args.figures))
    return 0
