"""``python -m benchmark validate PATH``: check a dataset folder and print a report."""

from __future__ import annotations

import argparse
import sys

HELP = "Check a dataset folder (manifest, images, masks, spacing, GA) and report every problem."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="dataset folder (docs/byo-data.md)")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    parser.add_argument(
        "--tables-only",
        action="store_true",
        help="check the manifest and file presence only (do not read images)",
    )


def main(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from benchmark.data.validate import validate_dataset

    report = validate_dataset(args.path, read_files=not args.tables_only)
    print(report.format())
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2))
    if report.errors:
        first = report.errors[0]
        print(
            f"error: {len(report.errors)} error(s) block a run; first: {first.where}: {first.what}",
            file=sys.stderr,
        )
        return 1
    return 0
