"""Progress inside a cell: a method says how far its fit has got; the engine shows it.

A method (or its kit) calls :func:`report` as often as it likes — after every optimiser
step, say — with the task it is on (``"stage1"``), the work done and the work planned, and
any current figures (``val_loss=0.12``).  Without a listener this is a no-op costing one
global lookup, so a method never needs to know whether, where or how progress is shown.
The engine installs a listener around ``fit`` with :func:`reporting_to` (the cell writes
the latest report to a small file that the runner's display polls, which works the same
whether the cell runs in the runner's process, a joblib worker or an isolated child).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

Report = dict[str, Any]
_listener: Callable[[Report], None] | None = None


def report(task: str, done: int, total: int, **figures: float) -> None:
    """``done`` of ``total`` units of ``task`` (e.g. optimiser steps of ``"stage2"``);
    ``figures``: the latest values worth showing (a validation loss, ...)."""
    if _listener is not None:
        _listener(
            {
                "task": task,
                "done": int(done),
                "total": int(total),
                "figures": {k: float(v) for k, v in figures.items()},
                "time": time.time(),
            }
        )


@contextlib.contextmanager
def reporting_to(listener: Callable[[Report], None]) -> Iterator[None]:
    """Send every :func:`report` of this process to ``listener`` for the block."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous
