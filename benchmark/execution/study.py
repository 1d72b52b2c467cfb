"""Run a study: every run of a study file through the runner (resume, backends, the run
lock, exactly as ``run``), then its registered outputs from those runs' predictions.

``python -m benchmark study studies/NAME.toml``; the ``scenarios`` and ``null-check`` verbs
build their study from their options and call :func:`run_study` too.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark.execution import runner
from benchmark.execution.store import RUN_RECORD, write_run_record
from benchmark.report.studies.build import (
    RECORD,
    StudyBuild,
    build_outputs,
    inputs_dir,
    read_cells,
    read_predictions,
)
from benchmark.report.studies.registry import StudyContext, StudyRunData, study_output
from benchmark.report.studies.spec import Study


@dataclass
class StudyResult:
    out: Path
    build: StudyBuild
    n_computed: int = 0
    n_cached: int = 0
    n_failed: int = 0
    run_dirs: dict[str, Path] = field(default_factory=dict)


def duplicate_selections(study: Study) -> list[str]:
    """One WARNING line per selection of ``runs.methods`` that adds no cell beyond the
    selections before it, or spells a method's default out (the same cell twice):
    :func:`benchmark.execution.gridspec.duplicate_selections`."""
    from benchmark.execution.gridspec import duplicate_selections as duplicates

    where = f"{study.source or study.name}: runs.methods"
    return duplicates(study.methods or (), where, "the file")


def prepare_study(study: Study) -> tuple[Study, list[str]]:
    """Apply each named output's ``prepare`` (methods it adds, checks it makes), in order."""
    notes: list[str] = duplicate_selections(study)
    for name in (*study.tables, *study.figures):
        prepare = study_output(name).prepare
        if prepare is not None:
            study, more = prepare(study)
            notes += more
    return study, notes


def run_config(study: Study, run, execution: dict[str, Any]) -> runner.RunConfig:
    options = dict(study.options)
    if run.dataset_seed is not None:
        options["seed"] = run.dataset_seed
    return runner.RunConfig(
        dataset=run.dataset,
        dataset_options=options,
        methods=list(study.methods),
        split=study.split,
        seeds=list(study.seeds),
        group_edges=tuple(study.groups),
        fallback=study.fallback,
        **execution,
    )


def run_study(
    study: Study,
    execution: dict[str, Any],
    out: str | Path | None = None,
    prepared: tuple[Study, list[str]] | None = None,
) -> StudyResult:
    """Run every run of ``study`` and build its outputs into ``out`` (default: its own).

    ``execution`` holds the RunConfig fields that say *how* cells run (runs_dir, backend,
    n_jobs, device, resume, timeout, memory_limit_mb, backend_options): they never change
    a prediction, so they are options of the command, not of the study file."""
    study, notes = prepared or prepare_study(study)
    for note in notes:
        print(note, file=sys.stderr)
    out = Path(out if out is not None else study.out)
    result = StudyResult(out, StudyBuild())
    started = time.perf_counter()
    runs, outcome = [], []
    for k, run in enumerate(study.runs, 1):
        print(f"\n[{k}/{len(study.runs)}] {study.name}: {run.key}", file=sys.stderr)
        done = runner.run(run_config(study, run, execution))
        result.n_computed += done.n_computed
        result.n_cached += done.n_cached
        result.n_failed += done.n_failed
        result.run_dirs[run.key] = done.run_dir
        outcome.append((run, done))
    for run, done in outcome:
        runs.append(_stored_or_live(study, out, run, done))
    record = {
        "study": study.name,
        "file": study.source,
        "seconds": round(time.perf_counter() - started, 1),
        "runs": {key: str(path) for key, path in result.run_dirs.items()},
    }
    stored = out / RECORD
    if result.n_computed == 0 and result.n_failed == 0 and stored.is_file():
        # every cell reused: the record (its minutes) stays that of the invocation that
        # computed them, so a re-run reproduces the folder byte for byte
        record = json.loads(stored.read_text(encoding="utf-8"))
    elif study.store_inputs or study.export is not None:
        out.mkdir(parents=True, exist_ok=True)
        stored.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    ctx = StudyContext(study, runs, record)
    result.build = build_outputs(ctx, out) if study.tables or study.figures else StudyBuild()
    return result


def _keep_provenance(done, folder: Path) -> None:
    """A run whose every cell was reused computed nothing: its provenance (commit, machine,
    versions in run.json, which the report and tripod_ai.md print) stays that of the
    invocation that computed the stored predictions, so the folder is reproduced byte for
    byte.  Only where the stored run.json has the same configuration and cohort."""
    stored, fresh = folder / RUN_RECORD, done.run_dir / RUN_RECORD
    if done.n_computed or done.n_failed or not stored.is_file() or not fresh.is_file():
        return
    old, new = (json.loads(p.read_text(encoding="utf-8")) for p in (stored, fresh))
    grid = ("dataset", "dataset_options", "methods", "split", "seeds", "group_edges", "fallback")
    same_grid = all(old["config"].get(k) == new["config"].get(k) for k in grid)
    if same_grid and old.get("dataset_fingerprint") == new.get("dataset_fingerprint"):
        new.update({key: old[key] for key in ("git_commit", "machine", "versions") if key in old})
        write_run_record(done.run_dir, new)  # the runner's own writer: the same bytes


def _stored_or_live(study: Study, out: Path, run, done) -> StudyRunData:
    """Store the run's inputs where the study keeps them and read them back from there,
    so the outputs are those ``check-results`` rebuilds; else use the live run."""
    folder = inputs_dir(study, out, run)
    if folder is None:
        return StudyRunData(
            run, read_predictions(done.run_dir / "predictions.csv"), done.cells, str(done.run_dir)
        )
    if study.export is not None:
        from benchmark.report.hook import build_report

        _keep_provenance(done, folder)
        build_report(done.run_dir, folder, figures=study.export_figures)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(done.run_dir / "predictions.csv", folder / "predictions.csv")
        (folder / "cells.csv").write_text(
            done.cells.to_csv(index=False, lineterminator="\n"), encoding="utf-8"
        )
    return StudyRunData(
        run,
        read_predictions(folder / "predictions.csv"),
        read_cells(folder / "cells.csv"),
        str(done.run_dir),
    )
