"""Build a run's tables, figures and HTML report; export a run into ``results/``; check it.

Tables are rebuilt byte-identically from the files a run folder (or an exported results
folder) holds, which is what :func:`check_results` verifies in CI.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmark.contract.files import atomic_write_text
from benchmark.report.data import RunData, load_run
from benchmark.report.formatting import CSV_FLOAT, Table
from benchmark.report.registry import (
    ReportContext,
    ReportOptions,
    build_all_figures,
    build_all_tables,
)

#: Files an export copies beside the tables, figures and report (no per-cell intermediates).
EXPORTED_INPUTS = (
    "predictions.csv",
    "cells.csv",
    "dsc.csv",
    "curves.csv",
    "table1_patients.csv",
    "run.json",
)


@dataclass
class ReportResult:
    out: Path
    tables: list[Table]
    figures: list[tuple[str, str]]
    skips: list[str]
    #: True when the outputs were already those of these inputs and nothing was rebuilt
    reused: bool = False

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
        from benchmark.report.summary import summary_frame, terminal_summary

        frame = None
        if len(data.predictions):
            frame = summary_frame(data.predictions, data.cells, data.pooled_metrics("patient"))
            atomic_write_text(
                folder / "results.csv",
                frame.to_csv(index=False, lineterminator="\n", float_format=CSV_FLOAT),
            )
        atomic_write_text(
            folder / "results.md", terminal_summary(data.predictions, data.cells, frame)
        )
    for table in tables:
        atomic_write_text(folder / f"{table.name}.csv", table.to_csv())
        if table.csv_only:
            continue
        atomic_write_text(folder / f"{table.name}.md", table.to_markdown())
        atomic_write_text(folder / f"{table.name}.tex", table.to_latex())
    atomic_write_text(
        folder / "all.md", "\n".join(t.to_markdown() for t in tables if not t.csv_only)
    )


def build_tables(data: RunData, options: ReportOptions | None = None) -> list[Table]:
    """Every registered table this run's files allow, in registration order."""
    if not len(data.predictions):
        return []
    return build_all_tables(ReportContext(data, options or ReportOptions()))


#: Written beside report.html: what the outputs were built from (see :func:`_fingerprint`).
FINGERPRINT = "report_inputs.json"
#: Inputs whose bytes decide a report (a run folder's per-cell files are added below).
REPORT_INPUTS = (*EXPORTED_INPUTS,)


def _code_digest() -> str:
    """The source of everything that computes or draws a report: a changed statistic or
    caption invalidates cached outputs."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    files = [
        *sorted((package / "report").rglob("*.py")),
        *sorted((package / "stats").rglob("*.py")),
    ]
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _fingerprint(
    source: Path, options: ReportOptions, figures: bool, figure_source: Path | None
) -> str:
    """Hash of the report's inputs: the run's files (bytes), the per-cell files it gathers
    (name, size, mtime), the options and the code. Equal hash = identical outputs."""
    digest = hashlib.sha256(_code_digest().encode())
    digest.update(
        json.dumps(
            [dataclasses.asdict(options), figures, str(figure_source)], sort_keys=True
        ).encode()
    )
    for root in filter(None, (source, figure_source)):
        for name in REPORT_INPUTS:
            path = root / name
            digest.update(name.encode() + (path.read_bytes() if path.is_file() else b"-"))
        for path in sorted((root / "cells").glob("*/*")) if (root / "cells").is_dir() else []:
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _outputs(out: Path) -> dict[str, int]:
    """Every output file of a build (tables, figures, report) with its size."""
    files = [
        out / "report.html",
        out / "tripod_ai.md",
        *(out / "tables").glob("*"),
        *(out / "figures").glob("*"),
    ]
    return {p.relative_to(out).as_posix(): p.stat().st_size for p in files if p.is_file()}


def _up_to_date(out: Path, key: str) -> list[str] | None:
    """The skips of the previous build if ``out`` still holds exactly the outputs it wrote
    for ``key`` (same names and sizes: a deleted or truncated file forces a rebuild)."""
    stamp = out / FINGERPRINT
    if not stamp.is_file():
        return None
    try:
        saved = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return None
    if saved.get("inputs") != key or saved.get("outputs") != _outputs(out):
        return None
    return list(saved.get("skips", []))


def build(
    source: str | Path,
    out: str | Path | None = None,
    level: str = "patient",
    reference: str | None = None,
    figures: bool = True,
    figure_source: RunData | None = None,
    options: ReportOptions | None = None,
) -> ReportResult:
    """Tables from ``source`` (run or exported folder) into ``out`` (default: ``source``).

    When ``out`` already holds the outputs of the same inputs, options and code (a cached
    re-run), nothing is rebuilt and no statistics library is even imported."""
    options = options or ReportOptions(level=level, reference=reference)
    out = Path(out) if out is not None else Path(source)
    key = _fingerprint(
        Path(source), options, figures, figure_source.root if figure_source is not None else None
    )
    skips = _up_to_date(out, key)
    if skips is not None:  # nothing changed since the last build: nothing to redo
        return ReportResult(out, [], [], skips, reused=True)
    (out / FINGERPRINT).unlink(missing_ok=True)  # a build cut short is never trusted
    from benchmark.report.html import render_html  # imports scipy/statsmodels (~3 s)

    data = load_run(source)
    tables = build_tables(data, options)
    write_tables(tables, out, data)
    fig_data = figure_source or data
    made = []
    if figures and len(fig_data.predictions):
        made = build_all_figures(ReportContext(fig_data, options), out / "figures")
    skips = sorted(set(data.skips) | set(fig_data.skips))
    data.skips = skips
    atomic_write_text(
        out / "report.html",
        render_html(ReportContext(data, options), tables, made, out / "figures"),
    )
    from benchmark.report import tripod

    atomic_write_text(
        out / "tripod_ai.md", tripod.render(tripod.checklist(data, tables, made, options.level))
    )
    if (out / "cells").is_dir():  # a run folder; an exported results/ holds no stamp
        atomic_write_text(
            out / FINGERPRINT,
            json.dumps({"inputs": key, "skips": skips, "outputs": _outputs(out)}, indent=1) + "\n",
        )
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


def export(
    run_dir: str | Path,
    out: str | Path,
    level: str = "patient",
    reference: str | None = None,
    figures: bool = True,
    options: ReportOptions | None = None,
) -> ReportResult:
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
    for name, frame in (
        ("cells.csv", data.cells),
        ("dsc.csv", data.dsc),
        ("curves.csv", data.curves),
        ("table1_patients.csv", data.table1_patients),
    ):
        if frame is not None and len(frame):
            atomic_write_text(out / name, frame.to_csv(index=False, lineterminator="\n"))
        else:
            (out / name).unlink(missing_ok=True)
    atomic_write_text(
        out / "run.json", json.dumps(_portable_run_json(data.run), indent=2, sort_keys=True) + "\n"
    )
    return build(out, out, level, reference, figures, figure_source=data, options=options)


def fresh_tables(results: str | Path, options: ReportOptions | None = None) -> dict[str, bytes]:
    """The ``tables/`` files an exported folder's inputs give today (name → bytes)."""
    results = Path(results)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in EXPORTED_INPUTS:
            if (results / name).is_file():
                shutil.copyfile(results / name, work / name)
        data = load_run(work)
        write_tables(build_tables(data, options), work, data)
        return {p.name: p.read_bytes() for p in sorted((work / "tables").glob("*"))}


def compare_files(committed: Path, fresh: dict[str, bytes], what: str = "table") -> list[str]:
    """One line per file of ``committed`` that is missing, extra or differs from ``fresh``."""
    old = {p.name for p in committed.glob("*") if p.is_file()} if committed.is_dir() else set()
    problems = []
    for name in sorted(old - set(fresh)):
        problems.append(f"{committed / name}: committed but no longer generated")
    for name in sorted(set(fresh) - old):
        problems.append(f"{committed / name}: generated but not committed")
    for name in sorted(old & set(fresh)):
        if (committed / name).read_bytes() != fresh[name]:
            problems.append(f"{committed / name}: differs from the regenerated {what}")
    return problems


def check_results(results: str | Path, options: ReportOptions | None = None) -> list[str]:
    """Rebuild the tables of an exported folder in a temp dir; list every difference."""
    results = Path(results)
    return compare_files(results / "tables", fresh_tables(results, options))
