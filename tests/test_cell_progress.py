"""Progress inside a running cell: a method's reports reach the runner's display from
another process through the cell's progress file, and the line goes when the cell ends."""

from __future__ import annotations

import subprocess
import sys
import time

from benchmark.execution.progress import CellProgressDisplay, describe, display_wanted

WORKER = """
import sys, time
from benchmark.contract import progress
from benchmark.execution.progress import cell_progress
with cell_progress(sys.argv[1], "abc123", "unet-x"):
    progress.report("stage1", 3, 10, val_loss=0.25)
    time.sleep(0.6)
    progress.report("stage1", 7, 10, val_loss=0.125)
    print("reported", flush=True)
    sys.stdin.readline()  # hold the cell open until the test has looked
"""


def test_a_worker_process_reports_and_the_display_follows(tmp_path, capsys):
    (tmp_path / "cells").mkdir()
    display = CellProgressDisplay(tmp_path, enabled=True)
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout.readline().strip() == "reported"
        display.poll()
        (bar,) = display._bars.values()
        assert (bar.n, bar.total) == (7, 10) and "unet-x stage1" in bar.desc
        assert "val_loss 0.125" in bar.postfix and "to cap" in bar.postfix
    finally:
        worker.communicate("\n", timeout=60)
    assert worker.returncode == 0
    assert not list((tmp_path / "cells").glob(".*.progress.json"))  # the cell cleaned up
    display.poll()
    assert display._bars == {}


def test_eta_is_a_bound_from_the_stage_rate():
    now = time.time()
    rep = {"done": 25, "total": 100, "time": now, "task_start": now - 10, "figures": {}}
    assert describe(rep) == "≤ 0:30 to cap"
    assert describe({**rep, "done": 100}) == ""


def test_quiet_where_nobody_watches(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("CI", raising=False)
    with open(__file__) as not_a_tty:
        assert display_wanted(Tty()) and not display_wanted(not_a_tty)
    monkeypatch.setenv("CI", "true")
    assert not display_wanted(Tty())
