"""Write a study's outputs, and rebuild them from the inputs a study folder stores.

A study folder holds what its outputs are computed from: each run's ``predictions.csv``
and ``cells.csv`` (under ``runs/<key>/``, or the run's exported report folder) and the
invocation record ``study.json`` (seconds, run folders).  :func:`stored_context` reads
them back, so ``check-results`` rebuilds a study's tables from the folder alone.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from benchmark.report.studies.registry import (
    StudyContext,
    StudyRunData,
    build_study_figure,
    build_study_table,
)
from benchmark.report.studies.spec import RunSpec, Study

#: the invocation record a study writes beside its outputs (an input, never compared)
RECORD = "study.json"
#: inputs of an aggregating study (``outputs.store_inputs``), one folder per run
RUNS_FOLDER = "runs"


@dataclass
class StudyBuild:
    written: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    failed: bool = False


def inputs_dir(study: Study, out: Path, run: RunSpec) -> Path | None:
    """Where a study folder keeps one run's predictions and cells (None: it keeps none)."""
    if study.export is not None:
        return out / study.export_dir(run)
    if study.store_inputs:
        return out / RUNS_FOLDER / run.key
    return None


def read_predictions(path: Path) -> pd.DataFrame:
    """A run's predictions; an empty file (no cell finished) is an empty frame."""
    return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()


def read_cells(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()


def build_outputs(ctx: StudyContext, out: Path) -> StudyBuild:
    """Every study table and figure the study names, written into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    result = StudyBuild()
    for name in ctx.study.tables:
        files = build_study_table(name, ctx)
        if files is None:
            result.messages.append(f"study table {name}: nothing to show for these runs")
            continue
        for file, text in files.files.items():
            (out / file).write_text(text, encoding="utf-8")
            result.written.append(file)
        if files.message:
            result.messages.append(files.message)
        result.failed |= files.failed
    for name in ctx.study.figures:
        result.written += build_study_figure(name, ctx, out)
    return result


def stored_context(study: Study, out: Path) -> StudyContext | str:
    """The study's runs read back from its folder, or why they cannot be (one line)."""
    runs, missing = [], []
    for run in study.runs:
        folder = inputs_dir(study, out, run)
        if folder is None:
            return "the study stores no per-run inputs (outputs.store_inputs is false)"
        if not (folder / "predictions.csv").is_file():
            missing.append(f"{folder.relative_to(out).as_posix()}/predictions.csv")
            continue
        runs.append((run, folder))
    if missing:
        return (
            f"the folder stores only outputs, not the predictions they come from "
            f"({len(missing)} of {len(study.runs)} runs missing, e.g. {missing[0]})"
        )
    record = {}
    if (out / RECORD).is_file():
        record = json.loads((out / RECORD).read_text(encoding="utf-8"))
    else:
        needs = [n for n in (*study.tables, *study.figures) if _uses_record(n)]
        if needs:
            return f"stores no {RECORD} (the invocation record {', '.join(needs)} prints)"
    runs = [
        StudyRunData(
            run,
            read_predictions(folder / "predictions.csv"),
            read_cells(folder / "cells.csv"),
            str(record.get("runs", {}).get(run.key, "")),
        )
        for run, folder in runs
    ]
    return StudyContext(study, runs, record)


def _uses_record(name: str) -> bool:
    from benchmark.report.studies.registry import study_output

    return study_output(name).uses_record


def fresh_outputs(study: Study, out: Path) -> dict[str, bytes] | str:
    """The study outputs rebuilt from ``out``'s stored inputs (file → bytes), or why not."""
    ctx = stored_context(study, out)
    if isinstance(ctx, str):
        return ctx
    with tempfile.TemporaryDirectory() as tmp:
        built = build_outputs(ctx, Path(tmp))
        return {name: (Path(tmp) / name).read_bytes() for name in built.written}
