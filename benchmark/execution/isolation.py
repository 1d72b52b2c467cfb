"""Run one cell in a killable child process: per-cell timeout and memory cap.

Without limits, :func:`execute_cell` calls :func:`benchmark.execution.cell.run_cell` in the calling
process (the fast path).  With ``timeout`` or ``memory_mb`` it forks a child from a
``forkserver`` (the engine is imported once there, so a child starts in milliseconds,
and no thread state of the runner is inherited).  The child:

- starts its own process group, so a timeout kills the method's own helpers too;
- caps its address space (``RLIMIT_AS``) at its size on start + ``memory_mb``, so an
  allocation beyond it raises ``MemoryError`` inside the method (a normal failed cell);
- watches the runner's pid and kills itself if the runner dies (no orphan keeps writing
  into a run folder after ``kill -9``).

A child that dies (OOM killer, segfault, ``os._exit``) or outlives its timeout becomes a
failed cell with the reason; its staging directory is removed.  Inside a daemonic process
(a Dask worker), where :mod:`multiprocessing` may not start children, the child is a
plain ``python -m benchmark.execution.isolation`` subprocess instead (slower start, same contract).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import pickle
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.execution.cell import CellSpec, run_cell
from benchmark.execution.store import RunStore, atomic_write_text

_ENV_PREFIX = "FLB_"  # plugin folders, caches: the child must see the runner's settings
#: a child gets this long to import the engine before its timeout starts counting (a fresh
#: interpreter on a loaded machine can take many seconds; that is not the method's time)
STARTUP_LIMIT_S = 300.0


@dataclass(frozen=True)
class Limits:
    """Per-cell resource limits; any set limit runs the cell in a child process."""

    timeout: float | None = None
    memory_mb: float | None = None

    @property
    def isolated(self) -> bool:
        return self.timeout is not None or self.memory_mb is not None


def execute_cell(
    spec: CellSpec,
    run_dir: str,
    limits: Limits | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run one cell under ``limits``; never raises, returns the cell's record."""
    if env:  # a remote or reused worker may lack the runner's plugin path
        for key, value in env.items():
            os.environ.setdefault(key, value)
        # the method names of this run resolve against the runner's plugin folders
        os.environ["FLB_METHODS_PATH"] = env.get("FLB_METHODS_PATH", "")
    if limits is None or not limits.isolated:
        return run_cell(spec, run_dir)
    return run_isolated(spec, run_dir, limits)


def flb_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIX)}


def _context() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["benchmark.execution.cell"])
    return ctx


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(0.5)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os.killpg(0, signal.SIGKILL)


def _child_main(payload: bytes) -> None:
    """Entry point of the child (forkserver child or ``python -m`` subprocess)."""
    spec, run_dir, limits, env, parent_pid, out_path = pickle.loads(payload)
    if os.getpgrp() != os.getpid():
        os.setsid()  # own process group: a timeout kills the method's helpers too
    os.environ.update(env)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if limits.memory_mb is not None:
        cap = _address_space() + int(limits.memory_mb * 2**20)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    Path(f"{out_path}.started").touch()  # the timeout counts from here
    record = run_cell(spec, run_dir)
    atomic_write_text(Path(out_path), json.dumps(record, default=str))


def _address_space() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _describe_death(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"cell process killed by {name}{hint}"
    return f"cell process exited with code {code} without a result"


def run_isolated(spec: CellSpec, run_dir: str, limits: Limits) -> dict[str, Any]:
    store = RunStore(run_dir)
    store.cells_dir.mkdir(parents=True, exist_ok=True)
    out_path = store.cells_dir / f".{spec.cell_id}.result-{os.getpid()}.json"
    out_path.unlink(missing_ok=True)
    payload = pickle.dumps((spec, run_dir, limits, flb_env(), os.getpid(), str(out_path)))
    marker = Path(f"{out_path}.started")
    if multiprocessing.current_process().daemon:
        proc = _SubprocessChild(payload)
    else:
        proc = _context().Process(target=_child_main, args=(payload,), daemon=False)
        proc.start()
    start_deadline = time.monotonic() + STARTUP_LIMIT_S
    while proc.is_alive() and not marker.exists() and time.monotonic() < start_deadline:
        time.sleep(0.02)
    started = time.perf_counter()
    never_started = proc.is_alive() and not marker.exists()
    if not never_started:
        proc.join(limits.timeout)
    timed_out = proc.is_alive()
    if timed_out:
        _kill_group(proc.pid)
        proc.join()
    try:
        if out_path.is_file():
            return json.loads(out_path.read_text())
        if never_started:
            error = f"cell process did not start within {STARTUP_LIMIT_S:g} s (killed)"
        elif timed_out:
            error = f"timeout: still running after --timeout {limits.timeout:g} s (killed)"
        else:
            error = _describe_death(proc.exitcode)
        record = {
            **spec.describe(),
            "status": "failed",
            "error": error,
            "elapsed_seconds": round(time.perf_counter() - started, 3),
        }
        logging.getLogger("benchmark").error(
            "cell %s (%s) failed: %s", spec.cell_id, spec.label, error
        )
        store.record_failure(spec.cell_id, record)
        return record
    finally:
        out_path.unlink(missing_ok=True)
        marker.unlink(missing_ok=True)
        store.clean_staging(spec.cell_id)


def _kill_group(pid: int | None) -> None:
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)  # the child is its own group leader
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class _SubprocessChild:
    """The same child as a fresh interpreter (for daemonic parents such as Dask workers)."""

    def __init__(self, payload: bytes) -> None:
        self._popen = subprocess.Popen(
            [sys.executable, "-m", "benchmark.execution.isolation"],
            stdin=subprocess.PIPE,
            start_new_session=True,
        )
        self._popen.stdin.write(payload)
        self._popen.stdin.close()
        self.pid = self._popen.pid

    def join(self, timeout: float | None = None) -> None:
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def is_alive(self) -> bool:
        return self._popen.poll() is None

    @property
    def exitcode(self) -> int | None:
        return self._popen.poll()


if __name__ == "__main__":
    _child_main(sys.stdin.buffer.read())
