from __future__ import annotations

import argparse
from pathlib import Path

HELP = (
    "Rebuild a run's tables, figures and HTML report from its stored predictions "
    "(no method re-runs); --out exports them, e.g. into results/."
)


def _level(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text}: a coverage level between 0 and 1, e.g. 0.9")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run folder (runs/<...>) or an exported folder")
    parser.add_argument(
        "--out",
        help="export into this folder (tables, figures, report.html, "
        "predictions.csv, cells.csv, run.json; no per-cell intermediates)",
    )
    parser.add_argument(
        "--level",
        choices=["patient", "image"],
        default="patient",
        help="unit of analysis (default: patient, as the paper)",
    )
    parser.add_argument(
        "--reference",
        default=None,
        help="Table 2 reference method (default: the method declaring the "
        "role 'reference', biometry-hadlock)",
    )
    parser.add_argument(
        "--paper-check",
        dest="paper_check",
        action="store_true",
        default=None,
        help="add the paper's own t-values recomputed from its "
        "published summaries (default: only in the reference run's report)",
    )
    parser.add_argument(
        "--interval-level",
        type=_level,
        default=0.9,
        help="nominal coverage of the conformal prediction intervals (default 0.9)",
    )
    parser.add_argument(
        "--preterm-weeks",
        type=float,
        default=34.0,
        help="binary preterm-lung threshold of the maturity-class table (default 34)",
    )
    parser.add_argument(
        "--equivalence-days",
        type=float,
        default=2.0,
        help="equivalence margin (days) of the TOST against the reference (default 2)",
    )
    parser.add_argument(
        "--subgroup",
        action="append",
        default=[],
        metavar="COLUMN",
        help="report performance per value of this categorical patient column (repeatable)",
    )
    parser.add_argument(
        "--no-figures", dest="figures", action="store_false", help="tables and report only"
    )


def main(args: argparse.Namespace) -> int:
    from benchmark.report.hook import build_report
    from benchmark.report.registry import ReportOptions

    run_dir = Path(args.run_dir)
    if not (run_dir / "predictions.csv").is_file():
        raise FileNotFoundError(f"{run_dir}: not a run folder (no predictions.csv)")
    options = ReportOptions(
        level=args.level,
        reference=args.reference,
        paper_check=args.paper_check,
        interval_level=args.interval_level,
        preterm_weeks=args.preterm_weeks,
        equivalence_days=args.equivalence_days,
        subgroups=tuple(args.subgroup),
    )
    print(build_report(run_dir, args.out, figures=args.figures, options=options))
    return 0
