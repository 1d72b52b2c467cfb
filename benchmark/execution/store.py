"""The run folder: one directory per run, one sub-directory per finished cell.

A cell directory appears only when complete (written to a temporary sibling, then renamed),
so a crash never leaves a half-written result and ``--resume`` trusts what it finds.
Failed cells go to ``failures/`` and are retried on the next run.

    RUN/
      store.json              layout version (folders of another version are refused)
      .lock                   held (flock) by the run writing this folder; holds its pid
      run.json                config and provenance of the latest invocation
      log.txt                 library warnings and tracebacks (not the terminal)
      cells/<cell_id>/        predictions.csv, cell.json, [curves.csv, dsc.csv, ...]
      failures/<cell_id>.json failed or skipped cells with the reason
      predictions.csv         every cell's predictions, long format
      cells.csv               one row per cell: status, costs
      tables/                 results tables (Markdown, CSV, LaTeX)
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

# the file helpers live low in the layers (report/ and kits/ write files too); re-exported
# here for the run store's own callers
from benchmark.contract.files import atomic_write_text, honour_umask, write_csv  # noqa: F401

#: Bump when the cell layout changes incompatibly; old run folders are then refused.
STORE_VERSION = 1
#: the run's configuration and provenance, in the run folder
RUN_RECORD = "run.json"


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextmanager
def run_log(run_dir: str | Path) -> Iterator[None]:
    """Route this process's log records (tracebacks, library warnings) into ``RUN/log.txt``
    for the duration; a no-op where that file is already a handler (the runner's process)."""
    path = os.path.abspath(Path(run_dir) / "log.txt")  # as FileHandler.baseFilename
    root = logging.getLogger()
    if any(getattr(h, "baseFilename", None) == path for h in root.handlers):
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()


def write_run_record(run_dir: str | Path, record: dict[str, Any]) -> None:
    """Write ``RUN/run.json``: the one writer of that file (the runner, and a study keeping
    a reused run's provenance), so its bytes never depend on who wrote it."""
    atomic_write_text(
        Path(run_dir) / RUN_RECORD, json.dumps(record, indent=2, sort_keys=True, default=str)
    )


class IncompatibleRunError(RuntimeError):
    pass


class RunLockedError(RuntimeError):
    pass


class RunLock:
    """Exclusive ``flock`` on ``RUN/.lock`` so two runs never write the same folder.

    The kernel drops the lock when its holder dies (even by SIGKILL), so a lock left by a
    crashed run is never stale: the next run simply acquires it.  The file keeps the
    holder's pid and host for the error message only.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / ".lock"
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunLockedError(
                f"{self.path.parent}: run folder is in use by {holder}; wait for that run "
                f"to finish or choose another --run-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(
            fd,
            f"pid {os.getpid()} on {socket.gethostname()} since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')}".encode(),
        )
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class RunStore:
    def __init__(self, run_dir: str | Path) -> None:
        self.root = Path(run_dir)
        self.cells_dir = self.root / "cells"
        self.failures_dir = self.root / "failures"

    def prepare(self) -> RunStore:
        stamp = self.root / "store.json"
        if stamp.is_file():
            try:
                info = json.loads(stamp.read_text())
            except ValueError:
                info = {}
            version = info.get("store_version")
            if version != STORE_VERSION:
                writer = info.get("package_version", "an unknown version")
                raise IncompatibleRunError(
                    f"{self.root}: run folder written by fetal-lung-bench {writer} "
                    f"(store layout {version}); this version reads layout {STORE_VERSION}. "
                    f"Use a new --run-dir (or re-run that version to finish it)"
                )
        elif self.cells_dir.is_dir() and any(self.cells_dir.iterdir()):
            raise IncompatibleRunError(
                f"{self.root}: has cells/ but no store.json (not written by this tool, or by "
                f"a version before layout {STORE_VERSION}); use a new --run-dir"
            )
        else:
            atomic_write_text(
                stamp,
                json.dumps({"store_version": STORE_VERSION, "package_version": _package_version()}),
            )
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        self.failures_dir.mkdir(parents=True, exist_ok=True)
        return self

    def cell_dir(self, cell_id: str) -> Path:
        return self.cells_dir / cell_id

    def is_done(self, cell_id: str) -> bool:
        return (self.cell_dir(cell_id) / "cell.json").is_file()

    def staging_dir(self, cell_id: str) -> Path:
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.cells_dir, prefix=f".{cell_id}."))
        honour_umask(staging, directory=True)  # renamed into cells/<id>/: readable by others
        return staging

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
        done = {m.get("cell_id") for m in metas}
        # a crash between commit's rename and unlink can leave a stale failure beside a
        # finished cell: the finished cell wins
        metas += [
            meta
            for meta in (
                json.loads(p.read_text()) for p in sorted(self.failures_dir.glob("*.json"))
            )
            if meta.get("cell_id") not in done
        ]
        return metas

    def read_cell_tables(self, name: str) -> pd.DataFrame:
        """Concatenate ``name`` (e.g. ``predictions.csv``) over finished cells."""
        frames = [
            pd.read_csv(p, dtype={"image_id": str, "patient_id": str})
            for p in sorted(self.cells_dir.glob(f"*/{name}"))
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def clean_staging(self, cell_id: str | None = None) -> None:
        """Remove temporary directories/files left by a killed run (or one killed cell)."""
        for stale in self.cells_dir.glob(f".{cell_id}.*" if cell_id else ".*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
        for tmp in self.root.glob(".*.tmp"):  # half-written atomic_write_text files
            tmp.unlink(missing_ok=True)


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("fetal-lung-bench")
    except metadata.PackageNotFoundError:
        return "unknown"
