"""Crash-resume: SIGKILL the run at random points, resume, and lose or redo nothing."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from _engine_helpers import REPO, fault_plugins, subprocess_env

from benchmark.execution.runner import RunConfig, run
from benchmark.execution.store import (
    STORE_VERSION,
    IncompatibleRunError,
    RunLock,
    RunLockedError,
    RunStore,
)

N_CELLS = 12
MIN_KILLS = 10
#: bound on the kill loop (≈ 40 s on an idle 2-core machine; each run pays ~2-5 s of imports)
KILL_PHASE_BUDGET_S = 150.0
#: table columns that carry measured time/memory, which differ between any two runs
TIMING = re.compile(r"second|fit_s|predict_s|peak|rss|elapsed|per_s|_s$|time", re.I)


def _command(cohort: Path, run_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmark",
        "run",
        "--dataset",
        str(cohort),
        "--run-dir",
        str(run_dir),
        "--split",
        "kfold:2",
        "--no-figures",  # tables are compared, figures never: drawing them cost each run ~8 s
        "--methods",
        f"fault-count[k=[{','.join(map(str, range(N_CELLS // 2)))}],sleep=0.2]",
    ]


def _finished(run_dir: Path) -> dict[str, tuple[int, int, bytes]]:
    """Finished cells → (inode, mtime_ns, bytes) of their cell.json."""
    out = {}
    for path in (run_dir / "cells").glob("*/cell.json"):
        st = path.stat()
        out[path.parent.name] = (st.st_ino, st.st_mtime_ns, path.read_bytes())
    return out


def _start(cohort: Path, run_dir: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        _command(cohort, run_dir),
        cwd=REPO,
        env=subprocess_env(FLB_FAULT_LOG=str(log)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_at_random_point(
    proc: subprocess.Popen, run_dir: Path, rng: random.Random, target: int | str
) -> bool:
    """Wait for ``target`` progress (0–2 new cells, or the tables phase), then a random
    extra delay, then SIGKILL.  Returns whether the kill hit a live run."""
    start_done = len(_finished(run_dir))
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        if target == "tables":
            if (run_dir / "predictions.csv").exists() and len(_finished(run_dir)) == N_CELLS:
                break
        elif len(_finished(run_dir)) >= start_done + target:
            break
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.4) if target != 0 else rng.uniform(0.3, 3.0))
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def _tables(run_dir: Path) -> dict[str, object]:
    """Every output derived from predictions, for byte comparison (timing columns aside)."""
    out: dict[str, object] = {"predictions.csv": (run_dir / "predictions.csv").read_bytes()}
    for cell in sorted((run_dir / "cells").glob("*/predictions.csv")):
        out[f"cells/{cell.parent.name}"] = cell.read_bytes()
    for path in sorted((run_dir / "tables").glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        timing = [c for c in frame.columns if TIMING.search(c)]
        out[f"tables/{path.name}"] = frame.drop(columns=timing).to_csv(index=False)
        if not timing:  # its renderings carry no measured times either: compare bytes
            for rendering in sorted(path.parent.glob(f"{path.stem}.*")):
                if rendering.suffix != ".csv":
                    out[f"tables/{rendering.name}"] = rendering.read_bytes()
    return out


@pytest.mark.slow
@pytest.mark.serial  # kills at timed points within a wall-clock budget
def test_sigkill_resume_loses_and_recomputes_nothing(tabular_cohort, tmp_path):
    rng = random.Random(int(os.environ.get("FLB_RESUME_SEED", "8")))
    reference = tmp_path / "reference"
    subprocess.run(
        _command(tabular_cohort, reference),
        cwd=REPO,
        env=subprocess_env(),
        check=True,
        capture_output=True,
        timeout=300,
    )

    run_dir, log = tmp_path / "killed", tmp_path / "computed.log"
    kills, seen, t0 = 0, {}, time.monotonic()
    while kills < MIN_KILLS and time.monotonic() - t0 < KILL_PHASE_BUDGET_S:
        # startup and mid-cell kills first; the last two land in collect/tables/report
        target = rng.choice([0, 1, 1, 2]) if kills < MIN_KILLS - 2 else "tables"
        proc = _start(tabular_cohort, run_dir, log)
        kills += _kill_at_random_point(proc, run_dir, rng, target)
        now = _finished(run_dir)
        for cell_id, stamp in seen.items():  # finished before: neither lost nor rewritten
            assert now.get(cell_id) == stamp, f"finished cell {cell_id} lost or recomputed"
        seen = now
    assert kills >= MIN_KILLS, f"only {kills} kills landed in {KILL_PHASE_BUDGET_S:.0f} s"

    final = subprocess.run(
        _command(tabular_cohort, run_dir),
        cwd=REPO,
        capture_output=True,
        env=subprocess_env(FLB_FAULT_LOG=str(log)),
        timeout=300,
        text=True,
    )
    assert final.returncode == 0, final.stderr[-2000:]
    now = _finished(run_dir)
    assert len(now) == N_CELLS
    for cell_id, stamp in seen.items():
        assert now[cell_id] == stamp, f"finished cell {cell_id} recomputed by the resume"
    assert _tables(run_dir) == _tables(reference)
    # each computation that reached the store is logged; a cell can be computed twice only
    # if a kill landed between its predict and its commit — never after it was finished
    computed = log.read_text().splitlines()
    assert N_CELLS <= len(computed) <= N_CELLS + kills
    assert not [p for p in (run_dir / "cells").iterdir() if p.name.startswith(".")]


def test_run_lock_refuses_a_second_writer_and_survives_kill9(tabular_cohort, tmp_path):
    run_dir = tmp_path / "run"
    config = RunConfig(dataset=str(tabular_cohort), run_dir=str(run_dir), methods=["dummy-mean"])
    with RunLock(run_dir):
        with pytest.raises(RunLockedError, match=rf"in use by pid {os.getpid()}"):
            run(config)
    # a holder killed with SIGKILL leaves the file but not the lock: never stale
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from benchmark.execution.store import RunLock; "
            f"RunLock({str(run_dir)!r}).acquire(); print('locked', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(RunLockedError, match=f"pid {holder.pid}"):
        RunLock(run_dir).acquire()
    holder.kill()
    holder.wait()
    assert (run_dir / ".lock").exists()
    assert run(config).n_computed == 1


def test_incompatible_or_foreign_folder_is_refused(tabular_cohort, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "store.json").write_text(
        json.dumps({"store_version": STORE_VERSION + 1, "package_version": "9.9"})
    )
    with pytest.raises(IncompatibleRunError, match=r"fetal-lung-bench 9\.9 .*new --run-dir"):
        run(RunConfig(dataset=str(tabular_cohort), run_dir=str(old), methods=["dummy-mean"]))
    foreign = tmp_path / "foreign"
    (foreign / "cells" / "x").mkdir(parents=True)
    with pytest.raises(IncompatibleRunError, match="no store.json"):
        RunStore(foreign).prepare()


def test_stale_failure_beside_a_finished_cell_is_ignored(tabular_cohort, tmp_path):
    """A kill between commit's rename and its unlink leaves both; the finished one wins."""
    with fault_plugins():
        config = RunConfig(
            dataset=str(tabular_cohort), run_dir=str(tmp_path / "run"), methods=["fault-ok"]
        )
        first = run(config)
        cell_id = first.cells["cell_id"].iloc[0]
        RunStore(first.run_dir).record_failure(cell_id, {"cell_id": cell_id, "status": "failed"})
        again = run(config)
    assert again.n_cached == 1 and list(again.cells["status"]) == ["done"]
