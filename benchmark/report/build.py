"""Build a run's tables, figures and HTML report; export a run into ``results/``; check it.

Tables are rebuilt byte-identically from the files a run folder (or an exported results
folder) holds, which is what :func:`check_results` verifies in CI.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmark.report.data import RunData, load_run
from benchmark.report.formatting import CSV_FLOAT, Table
from benchmark.report.registry import (
    ReportContext,
    ReportOptions,
    build_all_figures,
    build_all_tables,
)
from benchmark.store import atomic_write_text

#: Files an export copies beside the tables, figures and report (no per-cell intermediates).
EXPORTED_INPUTS = ("predictions.csv", "cells.csv", "dsc.csv", "curves.csv",
                   "table1_patients.csv", "run.json")


@dataclass
class ReportResult:
    out: Path
    tables: list[Table]
    figures: list[tuple[str, str]]
    skips: list[str]

    @property
    def html(self) -> Path:
        return self.out / "report.html"


def write_tables(tables: list[Table], out: Path, data: RunData | None = None) -> None:
    """tables/<name>.{md,csv,tex}, tables/all.md (every table in order) and the short
    tables/results.{md,csv} that the terminal shows."""
    folder = out / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in [*folder.glob("*.md"), *folder.glob("*.csv"), *folder.glob("*.tex")]:
        stale.unlink()  # a table that can no longer be built must not linger
    if data is not None:
        from benchmark.summary import summary_frame, terminal_summary

        frame = None
        if len(data.predictions):
            frame = summary_frame(data.predictions, data.cells, data.pooled_metrics("patient"))
            atomic_write_text(folder / "results.csv", frame.to_csv(
                index=False, lineterminator="\n", float_format=CSV_FLOAT))
        atomic_write_text(folder / "results.md",
                          terminal_summary(data.predictions, data.cells, frame))
    for table in tables:
        atomic_write_text(folder / f"{table.name}.csv", table.to_csv())
        atomic_write_text(folder / f"{table.name}.md", table.to_markdown())
        atomic_write_text(folder / f"{table.name}.tex", table.to_latex())
    atomic_write_text(folder / "all.md", "\n".join(t.to_markdown() for t in tables))


def build_tables(data: RunData, options: ReportOptions | None = None) -> list[Table]:
    """Every registered table this run's files allow, in registration order."""
    if not len(data.predictions):
        return []
    return build_all_tables(ReportContext(data, options or ReportOptions()))


def build(
    source: str | Path, out: str | Path | None = None, level: str = "patient",
    reference: str | None = None, figures: bool = True,
    figure_source: RunData | None = None, options: ReportOptions | None = None,
) -> ReportResult:
    """Tables from ``source`` (run or exported folder) into ``out`` (default: ``source``)."""
    from benchmark.report.html import render_html

    options = options or ReportOptions(level=level, reference=reference)
    data = load_run(source)
    out = Path(out) if out is not None else Path(source)
    tables = build_tables(data, options)
    write_tables(tables, out, data)
    fig_data = figure_source or data
    made = []
    if figures and len(fig_data.predictions):
        made = build_all_figures(ReportContext(fig_data, options), out / "figures")
    skips = sorted(set(data.skips) | set(fig_data.skips))
    data.skips = skips
    atomic_write_text(out / "report.html", render_html(
        ReportContext(data, options), tables, made, out / "figures"))
    return ReportResult(out, tables, made, skips)


def _portable_run_json(run: dict) -> dict:
    """run.json without machine-specific paths (the dataset is named by its source)."""
    run = json.loads(json.dumps(run))
    cfg = run.get("config", {})
    for key in ("dataset_root", "runs_dir", "run_dir"):
        if cfg.get(key) and Path(str(cfg[key])).is_absolute():
            cfg[key] = None
    if cfg.get("dataset") and Path(str(cfg["dataset"])).is_absolute():
        cfg["dataset"] = Path(str(cfg["dataset"])).name  # a folder: keep its name only
    return run


def export(run_dir: str | Path, out: str | Path, level: str = "patient",
           reference: str | None = None, figures: bool = True,
           options: ReportOptions | None = None) -> ReportResult:
    """Copy a run's small inputs into ``out`` and rebuild everything there.

    Tables are built from the exported copy (so CI can regenerate them bit for bit);
    figures from the run folder (overlays need its lung maps and the cohort's images).
    """
    run_dir, out = Path(run_dir), Path(out)
    data = load_run(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("tables", "figures"):
        shutil.rmtree(out / stale, ignore_errors=True)
    shutil.copyfile(run_dir / "predictions.csv", out / "predictions.csv")
    for name, frame in (("cells.csv", data.cells), ("dsc.csv", data.dsc),
                        ("curves.csv", data.curves), ("table1_patients.csv",
                                                       data.table1_patients)):
        if frame is not None and len(frame):
            atomic_write_text(out / name, frame.to_csv(index=False, lineterminator="\n"))
        else:
            (out / name).unlink(missing_ok=True)
    atomic_write_text(out / "run.json",
                      json.dumps(_portable_run_json(data.run), indent=2, sort_keys=True) + "\n")
    return build(out, out, level, reference, figures, figure_source=data, options=options)


def check_results(results: str | Path, options: ReportOptions | None = None) -> list[str]:
    """Rebuild the tables of an exported folder in a temp dir; list every difference."""
    results = Path(results)
    committed = results / "tables"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in EXPORTED_INPUTS:
            if (results / name).is_file():
                shutil.copyfile(results / name, work / name)
        data = load_run(work)
        write_tables(build_tables(data, options), work, data)
        fresh = work / "tables"
        problems = []
        old = {p.name for p in committed.glob("*")} if committed.is_dir() else set()
        new = {p.name for p in fresh.glob("*")}
        for name in sorted(old - new):
            problems.append(f"{committed / name}: committed but no longer generated")
        for name in sorted(new - old):
            problems.append(f"{committed / name}: generated but not committed")
        for name in sorted(old & new):
            if (committed / name).read_bytes() != (fresh / name).read_bytes():
                problems.append(f"{committed / name}: differs from the regenerated table")
        return problems
