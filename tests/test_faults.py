"""Fault injection: a misbehaving method fails its own cell, with the reason; others finish."""

from __future__ import annotations

import re
import time

import pandas as pd
import pytest
from _engine_helpers import cells_by_label, fault_plugins

from benchmark import cli
from benchmark.execution.runner import RunConfig, run


@pytest.fixture()
def faults():
    with fault_plugins():
        yield


def test_in_process_faults_fail_only_their_cell(tabular_cohort, tmp_path, faults, capsys):
    run_dir = tmp_path / "run"
    code = cli.main(
        [
            "run",
            "--dataset",
            str(tabular_cohort),
            "--run-dir",
            str(run_dir),
            "--methods",
            "fault-ok",
            "fault-raise",
            "fault-nan",
            "fault-short",
            "fault-memoryerror",
        ]
    )
    assert code == 1  # the exit code says a cell failed
    cells = cells_by_label(run_dir)
    assert cells.loc["fault-ok", "status"] == "done"
    expected = {
        "fault-raise": "RuntimeError: injected failure in fit",
        "fault-nan": "predict returned 2 NaN/inf values",
        "fault-short": "predictions for",
        "fault-memoryerror": "MemoryError: injected: cannot allocate",
    }
    for label, reason in expected.items():
        assert cells.loc[label, "status"] == "failed"
        assert reason in cells.loc[label, "error"]
    n_got, n_expected = map(int, re.findall(r"\d+", cells.loc["fault-short", "error"])[:2])
    assert n_got == n_expected - 1
    predictions = pd.read_csv(run_dir / "predictions.csv")
    assert set(predictions["label"]) == {"fault-ok"}  # a failed cell writes no prediction
    out = capsys.readouterr().out  # the summary under the table marks each failed cell
    for label in expected:
        line = next(x for x in out.splitlines() if label in x and "failed" in x)
        assert expected[label].split(":")[0] in line
    # tracebacks go to the run log, not the terminal
    assert "Traceback" in (run_dir / "log.txt").read_text()
    assert "Traceback" not in out


@pytest.mark.serial  # a 4 s cell timeout and a 60 s bound: wall-clock sensitive
def test_isolated_faults_timeout_memory_crash(tabular_cohort, tmp_path, faults):
    t0 = time.monotonic()
    result = run(
        RunConfig(
            dataset=str(tabular_cohort),
            run_dir=str(tmp_path / "run"),
            timeout=4.0,
            memory_limit_mb=1024,
            backend="joblib",
            n_jobs=2,
            methods=["fault-ok", "fault-hang", "fault-oom", "fault-crash", "fault-raise"],
        )
    )
    elapsed = time.monotonic() - t0
    cells = result.cells.set_index("label")
    assert cells.loc["fault-ok", "status"] == "done"
    assert cells.loc["fault-hang", "error"].startswith("timeout: still running after --timeout 4")
    assert cells.loc["fault-oom", "error"].startswith("MemoryError: Unable to allocate")
    assert "killed by SIGKILL" in cells.loc["fault-crash", "error"]
    assert cells.loc["fault-raise", "error"] == "RuntimeError: injected failure in fit"
    assert result.n_failed == 4
    assert elapsed < 60  # the hung cell was killed, not waited for
    # nothing half-written is left behind by the killed cells
    assert not [p for p in (tmp_path / "run" / "cells").iterdir() if p.name.startswith(".")]


def test_failed_cell_is_retried_and_not_cached(tabular_cohort, tmp_path, faults):
    config = RunConfig(
        dataset=str(tabular_cohort),
        run_dir=str(tmp_path / "run"),
        methods=["fault-ok", "fault-raise"],
    )
    first = run(config)
    second = run(config)
    assert (first.n_computed, first.n_failed) == (2, 1)
    assert (second.n_cached, second.n_computed, second.n_failed) == (1, 1, 1)
