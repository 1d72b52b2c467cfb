"""Build every table/figure of a run folder from its stored predictions."""

from __future__ import annotations

from pathlib import Path

from benchmark.summary import write_tables


def build_report(run_dir: str | Path) -> str:
    """Regenerate the outputs of ``run_dir``; returns the text to print."""
    return write_tables(Path(run_dir))
