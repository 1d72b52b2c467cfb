"""Helpers the study sections share: a registered Table's files, per-seed summaries."""

from __future__ import annotations

import json

import pandas as pd

from benchmark.report.formatting import Table
from benchmark.report.studies.registry import StudyContext, StudyFiles


def table_files(ctx: StudyContext, data: pd.DataFrame, display: pd.DataFrame) -> StudyFiles:
    """``<name>.md/.csv/.tex`` of a study table, captioned by its declaration."""
    out = ctx.output
    table = Table(out.name, out.title, out.caption_line(), data, display)
    md = table.to_markdown()
    return StudyFiles(
        {
            f"{out.name}.md": md,
            f"{out.name}.csv": table.to_csv(),
            f"{out.name}.tex": table.to_latex(),
        },
        message=md,
    )


def summary_by_seed(predictions: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Patient-level n, r [CI], MAE and fit seconds of every label on every fit seed."""
    from benchmark.report.summary import summary_frame

    frames = []
    if not len(predictions):
        return pd.DataFrame(columns=["seed", "method"])
    for seed, sub in predictions.groupby("seed", sort=True):
        mine = cells[cells["seed"] == seed] if "seed" in cells else cells
        frames.append(summary_frame(sub, mine).assign(seed=int(seed)))
    return pd.concat(frames, ignore_index=True)


def params_of(value: object) -> dict:
    """A cell's parameters, whether read back from CSV (JSON text) or live (a dict)."""
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(str(value))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
