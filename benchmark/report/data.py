"""Everything a report needs, read from a run folder (or a folder exported to results/).

A run folder keeps per-cell files (``cells/<id>/dsc.csv``, ``curves.csv``,
``lung_maps/``); an exported folder keeps their concatenations (``dsc.csv``,
``curves.csv``) and the patient table of Table 1 (``table1_patients.csv``), so tables can
be rebuilt from either without the cohort or any method.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.contract.domain import DEFAULT_GROUP_EDGES, GA_RANGE
from benchmark.data.splits import AgeGroups

ID_DTYPES = {"patient_id": str, "image_id": str, "cell_id": str}
TABLE1_COLUMNS = (
    "patient_id",
    "side",
    "group",
    "ga_weeks",
    "maternal_age",
    "parity",
    "delivery_ga_weeks",
    "apgar",
    # for the clinical tables: simulated maturity (synthetic cohorts only),
    # the optional outcome and the site; they reach the statistics, no method
    "truth_maturity",
    "outcome",
    "site",
)


class NotARunError(FileNotFoundError):
    """The folder has no predictions.csv."""


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file() or path.stat().st_size <= 1:
        return pd.DataFrame()
    frame = pd.read_csv(path, dtype=ID_DTYPES, keep_default_na=True)
    for col in ("image_id",):
        if col in frame:
            frame[col] = frame[col].fillna("")
    return frame


@dataclass
class RunData:
    root: Path
    predictions: pd.DataFrame
    cells: pd.DataFrame
    run: dict[str, Any]
    dsc: pd.DataFrame
    curves: pd.DataFrame
    lung_maps: dict[str, list[Path]] = field(default_factory=dict)  # label -> PNG files
    table1_patients: pd.DataFrame | None = None
    skips: list[str] = field(default_factory=list)  # what could not be built, and why
    _pooled: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    #: results shared by several tables/figures of one report (key -> value), computed once
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def pooled_metrics(self, level: str = "patient") -> pd.DataFrame:
        """Seed-pooled agreement per method × group (with bootstrap CIs), computed once."""
        if level not in self._pooled:
            from benchmark.stats import pooled_metrics

            self._pooled[level] = pooled_metrics(self.predictions, level)
        return self._pooled[level]

    def _cell_attribute(self, column: str) -> dict[str, str | None]:
        """label -> a per-cell declared attribute (``role``, ``control_of``: docs/methods.md); a
        cells table without the column (older runs) gives None for every method."""
        cells = self.cells
        if cells.empty or "label" not in cells:
            return {}
        if column not in cells:
            return {str(label): None for label in cells["label"].dropna().unique()}
        out: dict[str, str | None] = {}
        for label, value in zip(cells["label"].astype(str), cells[column]):
            if isinstance(value, str) and value:
                out[label] = value
            else:
                out.setdefault(label, None)
        return out

    @property
    def roles(self) -> dict[str, str | None]:
        """label -> declared role (``ceiling``, ``floor``, ``reference`` or None)."""
        return self._cell_attribute("role")

    @property
    def cell_methods(self) -> dict[str, str | None]:
        """label -> registered method name of its cells (e.g. ``unet-transfer[norm=image]``
        -> ``unet-transfer``)."""
        return self._cell_attribute("method")

    def labels_with_role(self, role: str) -> list[str]:
        present = set(self.labels)
        return sorted(label for label, r in self.roles.items() if r == role and label in present)

    @property
    def control_pairs(self) -> list[tuple[str, str]]:
        """(method, its control) label pairs, both with predictions: the control's cell
        declares ``control_of`` = the method's label (e.g. a net trained from scratch)."""
        present = set(self.labels)
        return sorted(
            (target, control)
            for control, target in self._cell_attribute("control_of").items()
            if target is not None and control in present and target in present
        )

    @property
    def group_edges(self) -> tuple[float, ...]:
        return tuple(
            float(e) for e in self.run.get("config", {}).get("group_edges", DEFAULT_GROUP_EDGES)
        )

    @property
    def group_labels(self) -> list[str]:
        return AgeGroups(self.group_edges).labels

    @property
    def dataset_root(self) -> Path | None:
        root = self.run.get("config", {}).get("dataset_root")
        return Path(root) if root else None

    @property
    def labels(self) -> list[str]:
        return sorted(self.predictions["label"].unique()) if len(self.predictions) else []

    def first_split(self) -> tuple[int, int]:
        first = self.predictions.sort_values(["seed", "fold"]).iloc[0]
        return int(first["seed"]), int(first["fold"])


def _cell_labels(cells: pd.DataFrame) -> dict[str, str]:
    if cells.empty or "cell_id" not in cells:
        return {}
    done = cells.dropna(subset=["cell_id"])
    return dict(zip(done["cell_id"].astype(str), done["label"].astype(str)))


def _gather(root: Path, name: str, labels: dict[str, str]) -> pd.DataFrame:
    """Concatenate ``cells/*/name`` with the cell id and method label."""
    frames = []
    for path in sorted((root / "cells").glob(f"*/{name}")):
        cell_id = path.parent.name
        if cell_id not in labels:  # a cell of another grid in the same folder
            continue
        frame = _read_csv(path)
        if frame.empty:
            continue
        frame.insert(0, "cell_id", cell_id)
        frame["label"] = labels[cell_id]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _table1_from_cohort(data: RunData) -> pd.DataFrame | None:
    root = data.dataset_root
    if root is None or not root.is_dir():
        data.skips.append(
            f"Table 1: the cohort folder {root} recorded in run.json is not available here, "
            "so maternal characteristics were not tabulated"
        )
        return None
    from benchmark.data.cohort import Cohort

    try:
        cohort = Cohort.load(root)
    except Exception as exc:  # an unreadable cohort is reported, the rest still builds
        data.skips.append(f"Table 1: could not read the cohort at {root}: {exc}")
        return None
    seed, fold = data.first_split()
    preds = data.predictions
    test_ids = set(
        preds[(preds["seed"] == seed) & (preds["fold"] == fold) & (preds["level"] == "patient")][
            "patient_id"
        ]
    )
    patients = cohort.patients.copy()
    patients["side"] = np.where(patients.index.isin(test_ids), "test", "train")
    edges = tuple(data.run.get("config", {}).get("group_edges", DEFAULT_GROUP_EDGES))
    patients["group"] = AgeGroups(edges).assign(patients["ga_weeks"].to_numpy()).to_numpy()
    patients = patients.rename_axis("patient_id").reset_index()
    keep = [c for c in TABLE1_COLUMNS if c in patients]
    return patients[keep].sort_values("patient_id", kind="stable").reset_index(drop=True)


def _outside_ga_range(predictions: pd.DataFrame) -> list[str]:
    """A note when estimates fall outside the accepted GA range: kept as estimated (never
    clipped into the range), flagged in predictions.csv's ``ga_flag``."""
    if "ga_pred" not in predictions or predictions.empty:
        return []
    low, high = GA_RANGE
    out = predictions[(predictions["ga_pred"] < low) | (predictions["ga_pred"] > high)]
    if out.empty:
        return []
    first = out.iloc[0]
    image = first.get("image_id")
    where = image if isinstance(image, str) and image else f"patient {first.get('patient_id')}"
    return [
        f"{len(out)} estimate(s) outside the accepted GA range {low:g}-{high:g} wk "
        f"(e.g. {first.get('label', '')} {where}: {first['ga_pred']:.1f} wk): kept as "
        "estimated, not clipped; flagged in predictions.csv (ga_flag)"
    ]


def load_run(root: str | Path) -> RunData:
    """Read a run folder or an exported results folder (see module docstring)."""
    root = Path(root)
    if not (root / "predictions.csv").is_file():
        raise NotARunError(f"{root}: not a run folder (no predictions.csv)")
    predictions = _read_csv(root / "predictions.csv")
    cells = _read_csv(root / "cells.csv")
    run = json.loads((root / "run.json").read_text()) if (root / "run.json").is_file() else {}
    labels = _cell_labels(cells)
    exported = (root / "cells").is_dir() is False
    dsc = _read_csv(root / "dsc.csv") if exported else _gather(root, "dsc.csv", labels)
    curves = _read_csv(root / "curves.csv") if exported else _gather(root, "curves.csv", labels)
    if not curves.empty and "label" in curves and "cell_id" in curves:
        curves = curves.sort_values(["label", "cell_id"], kind="stable")
    data = RunData(root, predictions, cells, run, dsc, curves)
    data.skips += _outside_ga_range(predictions)
    if not exported:
        for cell_id, label in sorted(labels.items()):
            maps = sorted((root / "cells" / cell_id / "lung_maps").glob("*.png"))
            if maps and label not in data.lung_maps:
                data.lung_maps[label] = maps
    if (root / "table1_patients.csv").is_file():
        data.table1_patients = _read_csv(root / "table1_patients.csv")
    elif len(predictions):
        data.table1_patients = _table1_from_cohort(data)
    return data
