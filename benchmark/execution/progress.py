"""Progress inside running cells: one tqdm line per running cell, from any process.

The cell (whatever process runs it) writes the latest
:func:`benchmark.contract.progress.report` of its method to
``RUN/cells/.<cell_id>.progress.json`` (:class:`ProgressFile`, at most a few writes per
second, removed when the cell ends).  The runner's :class:`CellProgressDisplay` polls
those files from a thread and draws one line per running cell under the ``cells`` bar::

    unet-transfer stage2 █▌ 312/8000 steps val_one_minus_r_ema 0.47 · lr_cuts_of_2 1 · ≤ 9:41 to cap

Files rather than a queue because a cell may run in the runner's process, a loky worker,
an isolated child or a Dask worker: all of them can write into the run folder, and a
crashed cell's file is removed with its staging directory (``RunStore.clean_staging``).
The ETA is an upper bound, shown as such ("to cap"): the step budget at the current rate,
while the stopping rule usually ends the stage sooner (a net's plateau rule after its last
lr cut, which the line counts).  The display is off where nobody watches a terminal: when
stderr is not a TTY (CI logs, files) or ``$CI`` is set.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmark.contract import progress

SUFFIX = ".progress.json"
#: seconds between two writes of a cell's progress file (the last report always lands)
WRITE_EVERY_S = 0.5
POLL_EVERY_S = 0.5


def progress_path(run_dir: str | Path, cell_id: str) -> Path:
    return Path(run_dir) / "cells" / f".{cell_id}{SUFFIX}"


class ProgressFile:
    """A :func:`benchmark.contract.progress.reporting_to` listener writing a cell's latest
    report (with its label and when the task started) to its progress file."""

    def __init__(self, path: Path, label: str) -> None:
        self.path, self.label = path, label
        self._last_write, self._task, self._task_start = 0.0, None, 0.0

    def __call__(self, rep: dict[str, Any]) -> None:
        now = rep["time"]
        if rep["task"] != self._task:
            self._task, self._task_start = rep["task"], now
        finished = rep["done"] >= rep["total"]
        if now - self._last_write < WRITE_EVERY_S and not finished:
            return
        self._last_write = now
        body = json.dumps({**rep, "label": self.label, "task_start": self._task_start})
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        try:
            tmp.write_text(body, encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # progress is a courtesy: never fail a cell over it

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def cell_progress(run_dir: str | Path, cell_id: str, label: str) -> Iterator[None]:
    """Around a cell's fit: the method's reports go to its progress file."""
    sink = ProgressFile(progress_path(run_dir, cell_id), label)
    try:
        with progress.reporting_to(sink):
            yield
    finally:
        sink.remove()


def display_wanted(stream: Any = None) -> bool:
    stream = stream if stream is not None else sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("CI")


def _eta(rep: dict[str, Any]) -> str:
    done, total = rep.get("done", 0), rep.get("total", 0)
    elapsed = rep.get("time", 0.0) - rep.get("task_start", 0.0)
    if done <= 0 or total <= done or elapsed <= 0:
        return ""
    left = int(elapsed / done * (total - done))
    return f"≤ {left // 60}:{left % 60:02d} to cap"


def describe(rep: dict[str, Any]) -> str:
    """The postfix of a cell's line: current figures and the ETA bound."""
    parts = [f"{k} {v:.3g}" for k, v in rep.get("figures", {}).items()]
    eta = _eta(rep)
    return " · ".join(parts + ([eta] if eta else []))


class CellProgressDisplay:
    """Polls the run's progress files and draws one tqdm line per running cell."""

    def __init__(self, run_dir: str | Path, enabled: bool | None = None) -> None:
        self.cells_dir = Path(run_dir) / "cells"
        self.enabled = display_wanted() if enabled is None else enabled
        self._bars: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> CellProgressDisplay:
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, name="cell-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()

    def _loop(self) -> None:
        while not self._stop.wait(POLL_EVERY_S):
            self.poll()

    def poll(self) -> None:
        """One refresh: new lines for new files, updated ones, closed ones for gone files."""
        from tqdm.auto import tqdm

        seen = set()
        for path in sorted(self.cells_dir.glob(f".*{SUFFIX}")):
            try:
                rep = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # replaced or removed between glob and read
            key = path.name
            seen.add(key)
            bar = self._bars.get(key)
            if bar is None:
                bar = self._bars[key] = tqdm(
                    total=rep["total"],
                    leave=False,
                    dynamic_ncols=True,
                    bar_format="  {desc} {bar} {n_fmt}/{total_fmt} steps{postfix}",
                )
            if bar.total != rep["total"] or bar.n > rep["done"]:
                bar.reset(total=rep["total"])  # the next stage
            bar.set_description_str(f"{rep.get('label', '')} {rep['task']}", refresh=False)
            bar.set_postfix_str(describe(rep), refresh=False)
            bar.n = rep["done"]
            bar.refresh()
        for key in set(self._bars) - seen:
            self._bars.pop(key).close()
