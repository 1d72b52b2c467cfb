"""One cell of the grid — dataset × split × method(params) — run and stored atomically.

:func:`run_cell` is a pure function of its :class:`CellSpec` (plus the dataset files), so
any backend (in-process, joblib workers, Dask workers) can execute it.  It never raises:
a failure becomes a record with the reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import sys
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.contract.base import MEASURED, BaseMethod
from benchmark.contract.domain import DEFAULT_GROUP_EDGES
from benchmark.contract.errors import first_line
from benchmark.contract.registry import create_method, get_method_class
from benchmark.data.cohort import Cohort, TestView
from benchmark.data.io import InputError
from benchmark.data.splits import AgeGroups, Split, check_disjoint
from benchmark.execution import provenance
from benchmark.execution.fallbacks import check_predictions, predict_with_provenance
from benchmark.execution.progress import cell_progress
from benchmark.execution.store import RunStore, run_log, write_csv

log = logging.getLogger("benchmark")
_COHORTS: dict[str, Cohort] = {}
__all__ = ["CellSpec", "check_predictions", "run_cell"]


@dataclass(frozen=True)
class CellSpec:
    dataset_root: str
    dataset_name: str
    fingerprint: str
    split: Split
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    device: str = "auto"
    group_edges: tuple[float, ...] = DEFAULT_GROUP_EDGES
    fallback: str = "predict"
    #: digest of the method's source files (registry.method_source_digest): a finished
    #: cell is never reused after the method's code changed
    method_digest: str = ""

    @property
    def cell_id(self) -> str:
        ids = hashlib.sha256("|".join(self.split.train_ids + ("#",) + self.split.test_ids).encode())
        key = {
            "dataset": self.fingerprint,
            "split": [self.split.scheme, self.split.seed, self.split.fold, ids.hexdigest()],
            "method": self.method,
            "params": self.params,
            "method_digest": self.method_digest,
            "fallback": self.fallback,
        }
        digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        return {
            "cell_id": self.cell_id,
            "method": self.method,
            "label": self.label or self.method,
            "params": json.dumps(self.params, sort_keys=True, default=str),
            "dataset": self.dataset_name,
            "dataset_fingerprint": self.fingerprint,
            "split": self.split.scheme,
            "seed": self.split.seed,
            "fold": self.split.fold,
        }


def declared_roles(method: str, label: str = "") -> dict[str, str | None]:
    """``role`` of a cell's method and ``control_of``: the label of the controlled cell with
    the same parameters (``unet-scratch[lr=0.001]`` → ``unet-transfer[lr=0.001]``)."""
    try:
        cls = get_method_class(method)
    except LookupError:
        return {"role": None, "control_of": None}
    label = label or method
    control = None
    if cls.control_of:
        control = cls.control_of + (label[len(method) :] if label.startswith(method) else "")
    return {"role": cls.role, "control_of": control}


def cohort_for(root: str) -> Cohort:
    """Per-process cache: workers load each dataset once."""
    if root not in _COHORTS:
        _COHORTS[root] = Cohort.load(root)
    return _COHORTS[root]


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def _prediction_rows(
    spec: CellSpec,
    cohort: Cohort,
    image_pred: pd.Series,
    patient_pred: pd.Series,
    image_prov: pd.Series,
    patient_prov: pd.Series,
) -> pd.DataFrame:
    groups = AgeGroups(spec.group_edges)
    images = cohort.images.loc[image_pred.index]
    img = pd.DataFrame(
        {
            "level": "image",
            "image_id": image_pred.index,
            "patient_id": images["patient_id"].to_numpy(),
            "ga_true": images["ga_weeks"].to_numpy(),
            "ga_pred": image_pred.to_numpy(),
            "provenance": image_prov.reindex(image_pred.index).to_numpy(),
        }
    )
    pat_true = cohort.patients.loc[patient_pred.index, "ga_weeks"]
    pat = pd.DataFrame(
        {
            "level": "patient",
            "image_id": "",
            "patient_id": patient_pred.index,
            "ga_true": pat_true.to_numpy(),
            "ga_pred": patient_pred.to_numpy(),
            "provenance": patient_prov.reindex(patient_pred.index).to_numpy(),
        }
    )
    rows = pd.concat([img, pat], ignore_index=True)
    # group by the patient's GA so an image and its patient always share a group
    rows["group"] = groups.assign(
        rows["patient_id"].map(cohort.patients["ga_weeks"]).to_numpy()
    ).to_numpy()
    for key, value in reversed(spec.describe().items()):
        rows.insert(0, key, value)
    return rows


def training_stage_columns(method: BaseMethod) -> dict[str, str]:
    """A method's declared ``training_stages_`` (one mapping per training stage with its
    ``stage``, ``steps`` and ``stopped_by``) as cells.csv columns, e.g. ``stopped_by`` =
    ``"stage1:cap;stage2:criterion"``, ``stage_steps`` = ``"stage1:500;stage2:402"``, and
    ``stage_patches_per_s`` / ``stage_pct_of_peak`` where the stages carry them; nothing
    for a method without training stages."""
    stages = method.training_stages_ or []
    if not stages:
        return {}
    return {
        "stopped_by": ";".join(f"{s['stage']}:{s['stopped_by']}" for s in stages),
        "stage_steps": ";".join(f"{s['stage']}:{int(s['steps'])}" for s in stages),
        # throughput per stage where the method measured it (patches/s, % of fp32 peak)
        **{
            f"stage_{key}": ";".join(f"{s['stage']}:{s[key]}" for s in stages)
            for key in ("patches_per_s", "pct_of_peak")
            if any(s.get(key) is not None for s in stages)
        },
    }


def _dice(prob: np.ndarray, mask: np.ndarray, threshold: float = 0.5) -> float:
    pred = prob >= threshold
    denom = pred.sum() + mask.sum()
    return float(2.0 * np.logical_and(pred, mask).sum() / denom) if denom else 1.0


def _segmentation_rows(method: BaseMethod, test: TestView, staging: Path) -> pd.DataFrame:
    rows = []
    saved = 0
    for record in test.iter_images():
        if record.mask is None:
            continue
        prob = np.asarray(method.segment(record), dtype=np.float32)
        rows.append(
            {
                "image_id": record.image_id,
                "patient_id": record.patient_id,
                "dsc": _dice(prob, record.mask),
                "lung_found": bool((prob >= 0.5).any()),  # False: an empty map, said so
            }
        )
        if saved < 4:  # a few lung maps for the report's overlay figure
            from PIL import Image

            (staging / "lung_maps").mkdir(exist_ok=True)
            Image.fromarray(np.clip(prob * 255, 0, 255).astype(np.uint8)).save(
                staging / "lung_maps" / f"{record.image_id}.png"
            )
            saved += 1
    return pd.DataFrame(rows, columns=["image_id", "patient_id", "dsc", "lung_found"])


def run_cell(spec: CellSpec, run_dir: str) -> dict[str, Any]:
    """Fit, predict, score and store one cell; returns its summary record.

    Whatever process runs it (the runner, a joblib or Dask worker, an isolated child), its
    log records and tracebacks go to the run's ``log.txt``, never to the terminal."""
    with run_log(run_dir):
        return _run_cell(spec, run_dir)


def _run_cell(spec: CellSpec, run_dir: str) -> dict[str, Any]:
    store = RunStore(run_dir)
    record: dict[str, Any] = {
        **spec.describe(),
        **declared_roles(spec.method, spec.label),
        "status": "running",
    }
    record.update(versions=provenance.versions(), git_commit=provenance.git_commit())
    staging = None
    try:
        cohort = cohort_for(spec.dataset_root)
        check_disjoint(spec.split.train_ids, spec.split.test_ids)
        method = create_method(spec.method, **spec.params)
        method.random_state = spec.split.seed
        method.device = spec.device
        skip, reason = method.skip(cohort.describe())
        if skip:
            record.update(status="skipped", error=reason or "declined this dataset")
            store.record_failure(spec.cell_id, record)
            return record
        truth = method.reads_truth
        train = cohort.train_view(spec.split.train_ids, include_truth=truth)
        test = cohort.test_view(spec.split.test_ids, include_truth=truth)
        _seed_everything(spec.split.seed)
        staging = store.staging_dir(spec.cell_id)
        with provenance.PeakMemory() as memory, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # library chatter belongs in the log, not the bar
            t0 = time.perf_counter()
            with cell_progress(run_dir, spec.cell_id, spec.label or spec.method):
                method.fit(train)
            t1 = time.perf_counter()
            image_pred, patient_pred, image_prov, patient_prov, excluded = predict_with_provenance(
                method, test, spec.fallback
            )
            t2 = time.perf_counter()
            dsc = _segmentation_rows(method, test, staging) if method.segments else None
        write_csv(
            _prediction_rows(spec, cohort, image_pred, patient_pred, image_prov, patient_prov),
            staging / "predictions.csv",
        )
        if len(excluded):
            write_csv(
                excluded.assign(cell_id=spec.cell_id, label=spec.label or spec.method),
                staging / "excluded.csv",
            )
        if dsc is not None:
            write_csv(dsc, staging / "dsc.csv")
        curves = method.training_curves_  # optional outputs: declared on BaseMethod
        if curves is not None and len(curves):
            write_csv(curves.assign(label=spec.label or spec.method), staging / "curves.csv")
        for name, frame in (method.artifacts_ or {}).items():
            write_csv(frame, staging / name)
        if method.saves:
            method.save(staging / "model")
        record.update(
            status="done",
            fit_seconds=round(t1 - t0, 3),
            predict_seconds=round(t2 - t1, 3),
            peak_rss_mb=memory.peak_mb,
            n_train_patients=len(train.patients),
            n_test_patients=len(test.patients),
            n_images=len(test.images),
            n_measured=int((image_prov == MEASURED).sum()),
            n_excluded=int((excluded["level"] == "image").sum()),
            fallback=spec.fallback,
            cost=method.cost_ or {},
            # traced test images whose lung map has no pixel >= 0.5 ("no lung found")
            **({"n_no_lung_found": int((~dsc["lung_found"]).sum())} if dsc is not None else {}),
            **training_stage_columns(method),
        )
        store.commit(spec.cell_id, staging, record)
        return record
    except Exception as exc:  # a failing method must not stop the grid
        first = first_line(exc)
        kind = "" if isinstance(exc, InputError) else f"{type(exc).__name__}: "
        record.update(status="failed", error=f"{kind}{first}", traceback=traceback.format_exc())
        log.error("cell %s (%s) failed:\n%s", spec.cell_id, spec.label, record["traceback"])
        store.record_failure(spec.cell_id, record)
        if staging is not None:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
        return record


def spec_from_dict(data: dict[str, Any]) -> CellSpec:
    data = dict(data)
    data["split"] = Split(**data["split"])
    return CellSpec(**data)


def spec_to_dict(spec: CellSpec) -> dict[str, Any]:
    return asdict(spec)
