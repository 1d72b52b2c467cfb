"""The grid runner: dataset × split × method(params) → cells → run folder → tables."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from benchmark.contract.domain import DEFAULT_GROUP_EDGES
from benchmark.contract.registry import get_method_class, method_info, method_source_digest
from benchmark.data.cohort import Cohort
from benchmark.data.sources import resolve_dataset
from benchmark.data.splits import make_splits
from benchmark.execution import provenance
from benchmark.execution.backends import create_backend
from benchmark.execution.cell import CellSpec, declared_roles
from benchmark.execution.fallbacks import FALLBACK_MODES
from benchmark.execution.gridspec import expand
from benchmark.execution.isolation import Limits
from benchmark.execution.progress import CellProgressDisplay
from benchmark.execution.store import RunLock, RunStore, run_log, write_csv, write_run_record

log = logging.getLogger("benchmark")


@dataclass
class RunConfig:
    dataset: str = "synthetic"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    methods: Sequence[str] = ("all",)
    split: str = "paper"
    seeds: Sequence[int] = (0,)
    group_edges: tuple[float, ...] = DEFAULT_GROUP_EDGES
    runs_dir: str = "runs"
    run_dir: str | None = None
    backend: str = "sequential"
    n_jobs: int = 1
    device: str = "auto"
    resume: bool = True
    #: leave out rows/patients with validation errors (listed in run.json and
    #: skipped_inputs.csv) instead of refusing the run
    skip_invalid: bool = False
    backend_options: dict[str, Any] = field(default_factory=dict)
    #: per-cell wall-clock limit in seconds; set → each cell runs in a killable child
    timeout: float | None = None
    #: per-cell address-space allowance in MiB above the child's start size (RLIMIT_AS)
    memory_limit_mb: float | None = None
    #: images a method predicts by a documented fallback: "predict" keeps them (marked in
    #: the ``provenance`` column), "exclude" leaves them out (listed in excluded.csv)
    fallback: str = "predict"


@dataclass
class RunResult:
    run_dir: Path
    cells: pd.DataFrame
    n_cached: int
    n_computed: int

    @property
    def n_failed(self) -> int:
        return int((self.cells.get("status", pd.Series(dtype=str)) == "failed").sum())


def run_folder(config: RunConfig, cohort: Cohort) -> Path:
    if config.run_dir:
        return Path(config.run_dir)
    key = json.dumps(
        [
            cohort.name,
            config.dataset_options,
            config.split,
            list(config.seeds),
            list(config.group_edges),
        ],
        sort_keys=True,
        default=str,
    )
    suffix = hashlib.sha256(key.encode()).hexdigest()[:6]
    split = config.split.replace(":", "")
    return Path(config.runs_dir) / f"{cohort.name}_{split}_{suffix}"


def _capture_library_chatter() -> None:
    """INFO records and Python warnings go through logging, i.e. into RUN/log.txt."""
    logging.getLogger().setLevel(logging.INFO)
    logging.captureWarnings(True)
    warnings.simplefilter("default")


def build_specs(config: RunConfig, cohort: Cohort, root: Path) -> tuple[list[CellSpec], list[dict]]:
    """Every cell of the grid, plus records for methods that cannot run at all."""
    fingerprint = cohort.fingerprint()
    linked = _linked_patients(root, cohort)
    splits = make_splits(cohort.patients, config.split, config.seeds, linked)
    specs, unavailable = [], []
    for name, params, label in expand(config.methods):
        try:
            info = method_info(name)
        except LookupError as exc:
            unavailable.append(
                {
                    "method": name,
                    "label": label,
                    "status": "unavailable",
                    "error": str(exc),
                    **declared_roles(name, label),
                }
            )
            continue
        if not info.available:
            unavailable.append(
                {
                    "method": name,
                    "label": label,
                    "status": "unavailable",
                    "error": info.reason,
                    **declared_roles(name, label),
                }
            )
            continue
        digest = method_source_digest(name)
        for split in splits:
            specs.append(
                CellSpec(
                    str(root),
                    cohort.name,
                    fingerprint,
                    split,
                    name,
                    params,
                    label,
                    config.device,
                    tuple(config.group_edges),
                    config.fallback,
                    digest,
                )
            )
    return specs, unavailable


def _linked_patients(root: Path, cohort: Cohort) -> list[tuple[str, ...]]:
    """validate's look-alike clusters spanning patients: the split keeps each on one side."""
    from benchmark.contract.errors import InputError
    from benchmark.data.validate import cached_report

    try:
        groups = cached_report(root).linked_patients
    except (InputError, OSError):
        return []  # not a dataset folder validate can read: nothing linked
    groups = [g for g in groups if sum(p in cohort.patients.index for p in g) > 1]
    if groups:
        shown = "; ".join(" + ".join(g) for g in groups[:3]) + (" ..." if len(groups) > 3 else "")
        tqdm.write(
            f"WARNING split: patients with look-alike images (validate: near-duplicate) kept "
            f"on one side: {shown}"
        )
    return groups


def schedule(specs: Sequence[CellSpec]) -> list[CellSpec]:
    """Costly cells first, and one family at a time per round (``glcm-*``, ``unet-*``, ...):
    cells of one family share a feature or patch cache, so spreading them keeps parallel
    workers from waiting on each other's extraction.  Results never depend on the order.

    Among cells of one declared cost, a declared control (``control_of``: the same model
    with part of its protocol taken away, e.g. no transfer stage) comes after the rest: it
    is the cheaper of its pair, and a run never ends before its longest cell, so that cell
    must not wait for a free worker (measured: ``unet-transfer`` queued behind
    ``unet-scratch`` cost the idle 19-cell run 3 of its 11 minutes, results/performance.md)."""

    def cost(spec: CellSpec) -> tuple[float, bool]:
        try:
            cls = get_method_class(spec.method)
        except LookupError:
            return 0.0, False
        return cls.relative_cost, cls.control_of is None

    families: dict[str, list[CellSpec]] = {}
    for spec in sorted(specs, key=cost, reverse=True):  # stable: keeps the grid order
        families.setdefault(spec.method.split("-")[0], []).append(spec)
    rounds = itertools.zip_longest(*families.values())
    return [spec for round_ in rounds for spec in round_ if spec is not None]


def run(config: RunConfig) -> RunResult:
    from benchmark.data.validate import check_dataset

    if config.fallback not in FALLBACK_MODES:
        raise ValueError(
            f"fallback must be one of {', '.join(FALLBACK_MODES)}, got {config.fallback!r}"
        )
    root = resolve_dataset(config.dataset, **config.dataset_options)
    root, cohort, warnings_, skipped = _load_checked(config, root, check_dataset)
    run_dir = run_folder(config, cohort)
    run_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(run_dir):  # refuses a folder another live run is writing
        write_skipped(skipped, run_dir)
        return _run_locked(
            config,
            root,
            cohort,
            run_dir,
            warnings_,
            skipped.astype(object).where(skipped.notna(), None).to_dict("records"),
        )


def _load_checked(config: RunConfig, root: Path, check_dataset):
    """The dataset's valid part (all of it without --skip-invalid), said on the terminal.

    Errors (a bad row or file) block the run with one line; warnings go into run.json.
    """
    from benchmark.contract.errors import InputError
    from benchmark.data.ingest.skip import (
        SKIPPED_COLUMNS,
        skip_summary,
        skipped_lines,
        valid_subset,
    )
    from benchmark.data.sources import cache_root

    skipped = pd.DataFrame(columns=SKIPPED_COLUMNS)
    if config.skip_invalid:  # every left-out row is listed: terminal, run.json, a CSV
        tqdm.write(f"dataset: {root}: leaving out rows with errors (--skip-invalid) ...")
        root, skipped = valid_subset(root, cache_root())
        for line in skipped_lines(skipped):
            tqdm.write(line)
    tqdm.write(f"dataset: {root}: validating (cached per file state) ...")
    try:
        cohort = Cohort.load(root)
        warnings_ = check_dataset(root)
    except InputError as exc:
        if config.skip_invalid:
            raise
        raise InputError(f"{exc}; --skip-invalid runs the other rows", exc.code, exc.fix) from None
    tqdm.write(
        f"dataset: {len(cohort.patients)} patient(s), {len(cohort.images)} image(s), "
        f"{len(warnings_)} warning(s)" + (f"; {skip_summary(skipped)}" if len(skipped) else "")
    )
    return root, cohort, warnings_, skipped


def write_skipped(skipped: pd.DataFrame, run_dir: Path) -> None:
    from benchmark.data.ingest.skip import SKIPPED_FILE

    write_csv(skipped, run_dir / SKIPPED_FILE)


def _run_locked(
    config: RunConfig,
    root: Path,
    cohort: Cohort,
    run_dir: Path,
    validation_warnings: Sequence[dict] = (),
    skipped: Sequence[dict] = (),
) -> RunResult:
    from benchmark.data.ingest.skip import SKIPPED_COLUMNS, skip_counts

    store = RunStore(run_dir).prepare()
    store.clean_staging()
    _capture_library_chatter()
    with run_log(run_dir):
        specs, unavailable = build_specs(config, cohort, root)
        write_run_record(
            run_dir,
            {
                "config": {**config.__dict__, "dataset_root": str(root)},
                "dataset_fingerprint": cohort.fingerprint(),
                "dataset_meta": cohort.meta,
                "versions": provenance.versions(),
                "git_commit": provenance.git_commit(),
                "machine": provenance.machine(),
                "unavailable": unavailable,
                "validation_warnings": list(validation_warnings),
                "skipped_inputs": list(skipped),
                "skipped_counts": skip_counts(pd.DataFrame(list(skipped), columns=SKIPPED_COLUMNS)),
            },
        )
        pending = schedule([s for s in specs if not (config.resume and store.is_done(s.cell_id))])
        n_cached = len(specs) - len(pending)
        if n_cached:
            tqdm.write(f"{n_cached} cell(s) already done in {run_dir} (resumed, not recomputed)")
        limits = Limits(config.timeout, config.memory_limit_mb)
        if config.backend == "joblib" and len(pending) <= 1:
            config = replace(config, backend="sequential")  # no workers for a single cell
        tqdm.write(f"starting {config.backend} backend for {len(pending)} cell(s) ...")
        backend = create_backend(
            config.backend, n_jobs=config.n_jobs, limits=limits, **config.backend_options
        )
        with (
            tqdm(total=len(pending), desc="cells", unit="cell", dynamic_ncols=True) as bar,
            CellProgressDisplay(run_dir),
        ):  # one line per running cell, under the bar
            # absolute, so workers with another working directory (Dask) write here too
            for record in backend.run(pending, str(run_dir.resolve())):
                bar.update()
                bar.write(_one_line(record))
        cells = collect(run_dir, [s.cell_id for s in specs], unavailable)
        return RunResult(run_dir, cells, n_cached, len(pending))


def _one_line(record: dict[str, Any]) -> str:
    label = record.get("label", record.get("method"))
    if record["status"] == "done":
        measured = f"measured {record['n_measured']}/{record['n_images']}"
        if record.get("n_excluded"):
            measured += f" ({record['n_excluded']} excluded)"
        if record.get("n_no_lung_found"):
            measured += f"  no lung found on {record['n_no_lung_found']} traced image(s)"
        capped = [
            s.split(":")[0]
            for s in str(record.get("stopped_by") or "").split(";")
            if s.endswith(":cap")
        ]
        return (
            f"  ✓ {label:<34} fit {record['fit_seconds']:7.1f}s  "
            f"predict {record['predict_seconds']:6.1f}s  peak {record['peak_rss_mb']:.0f} MB"
            f"  {measured}"
            + (f"  not converged ({', '.join(capped)} at its cap)" if capped else "")
        )
    return f"  ✗ {label:<34} {record['status']}: {record.get('error', '')}"


def collect(run_dir: Path, cell_ids: Sequence[str], unavailable: Sequence[dict]) -> pd.DataFrame:
    """Write the run's combined predictions and cell table (only this grid's cells)."""
    store = RunStore(run_dir)
    wanted = set(cell_ids)
    metas = [m for m in store.cell_meta() if m.get("cell_id") in wanted]
    cells = pd.DataFrame(metas + list(unavailable))
    if len(cells):
        cells = cells.drop(columns=["traceback", "versions"], errors="ignore")
        order = [c for c in ("label", "split", "seed", "fold") if c in cells]
        cells = cells.sort_values(order, kind="stable").reset_index(drop=True)
    write_csv(cells, run_dir / "cells.csv")
    predictions = store.read_cell_tables("predictions.csv")
    if len(predictions):
        predictions = predictions[predictions["cell_id"].isin(wanted)]
        predictions = predictions.sort_values(
            ["label", "seed", "fold", "level", "patient_id", "image_id"], kind="stable"
        )
    if len(predictions):  # an estimate outside the accepted GA range is kept, and flagged
        from benchmark.execution.predict import ga_range_flag

        predictions["ga_flag"] = predictions["ga_pred"].map(ga_range_flag)
    write_csv(predictions, run_dir / "predictions.csv")
    excluded = store.read_cell_tables("excluded.csv")
    if len(excluded):  # images/patients left out by --fallback exclude, listed, never dropped
        write_csv(excluded[excluded["cell_id"].isin(wanted)], run_dir / "excluded.csv")
    else:
        (run_dir / "excluded.csv").unlink(missing_ok=True)
    return cells
