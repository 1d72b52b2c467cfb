"""``python -m benchmark init-dataset PATH``: write a template dataset folder to fill in."""

from __future__ import annotations

import argparse

NAME = "init-dataset"
HELP = "Write a template dataset folder (manifest CSVs, README, two example images)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="new folder to create (must not exist or be empty)")


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from benchmark.data.ingest.template import write_template

    root = write_template(Path(args.path))
    print(f"template dataset written to {root}")
    print("  fill in patients.csv and images.csv, put files under images/ and masks/,")
    print(f"  delete the EXAMPLE rows and files, then: python -m benchmark validate {root}")
    return 0
