"""The run folder: one directory per run, one sub-directory per finished cell.

A cell directory appears only when complete (written to a temporary sibling, then renamed),
so a crash never leaves a half-written result and ``--resume`` trusts what it finds.
Failed cells go to ``failures/`` and are retried on the next run.

    RUN/
      run.json                config and provenance of the latest invocation
      log.txt                 library warnings and tracebacks (not the terminal)
      cells/<cell_id>/        predictions.csv, cell.json, [curves.csv, dsc.csv, ...]
      failures/<cell_id>.json failed or skipped cells with the reason
      predictions.csv         every cell's predictions, long format
      cells.csv               one row per cell: status, costs
      tables/                 results tables (Markdown, CSV, LaTeX)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

#: Bump when the cell layout changes incompatibly; old run folders are then refused.
STORE_VERSION = 1


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))


class IncompatibleRunError(RuntimeError):
    pass


class RunStore:
    def __init__(self, run_dir: str | Path) -> None:
        self.root = Path(run_dir)
        self.cells_dir = self.root / "cells"
        self.failures_dir = self.root / "failures"

    def prepare(self) -> RunStore:
        stamp = self.root / "store.json"
        if stamp.is_file():
            version = json.loads(stamp.read_text()).get("store_version")
            if version != STORE_VERSION:
                raise IncompatibleRunError(
                    f"{self.root}: run folder from store version {version}, this is "
                    f"{STORE_VERSION}; use a new --run-dir"
                )
        else:
            atomic_write_text(stamp, json.dumps({"store_version": STORE_VERSION}))
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        self.failures_dir.mkdir(parents=True, exist_ok=True)
        return self

    def cell_dir(self, cell_id: str) -> Path:
        return self.cells_dir / cell_id

    def is_done(self, cell_id: str) -> bool:
        return (self.cell_dir(cell_id) / "cell.json").is_file()

    def staging_dir(self, cell_id: str) -> Path:
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=self.cells_dir, prefix=f".{cell_id}."))

    def commit(self, cell_id: str, staging: Path, meta: dict[str, Any]) -> None:
        """Finish a cell: cell.json last, then one rename makes it visible."""
        (staging / "cell.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
        try:
            os.rename(staging, self.cell_dir(cell_id))
        except OSError:  # another worker finished the same cell first: keep theirs
            shutil.rmtree(staging, ignore_errors=True)
        (self.failures_dir / f"{cell_id}.json").unlink(missing_ok=True)

    def record_failure(self, cell_id: str, meta: dict[str, Any]) -> None:
        atomic_write_text(
            self.failures_dir / f"{cell_id}.json",
            json.dumps(meta, indent=2, sort_keys=True, default=str),
        )

    def cell_meta(self) -> list[dict[str, Any]]:
        metas = [json.loads(p.read_text()) for p in sorted(self.cells_dir.glob("*/cell.json"))]
        metas += [json.loads(p.read_text()) for p in sorted(self.failures_dir.glob("*.json"))]
        return metas

    def read_cell_tables(self, name: str) -> pd.DataFrame:
        """Concatenate ``name`` (e.g. ``predictions.csv``) over finished cells."""
        frames = [
            pd.read_csv(p, dtype={"image_id": str, "patient_id": str})
            for p in sorted(self.cells_dir.glob(f"*/{name}"))
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def clean_staging(self) -> None:
        """Remove temporary directories left by a killed run."""
        for stale in self.cells_dir.glob(".*"):
            shutil.rmtree(stale, ignore_errors=True)
