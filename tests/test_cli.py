"""The CLI end to end on a small cohort: run, resume, report, failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "benchmark", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=REPO,
        timeout=600,
    )


@pytest.mark.serial  # measures a start-up time
def test_help_is_fast_and_lists_verbs():
    t0 = time.perf_counter()
    out = _cli("--help")
    elapsed = time.perf_counter() - t0
    assert out.returncode == 0
    for verb in ("run", "list", "validate", "report"):
        assert verb in out.stdout
    assert elapsed < 10  # generous: the point is that torch is not imported


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from benchmark.cli import build_parser; build_parser(); "
        "from benchmark.contract.registry import discover; discover(); "
        "from benchmark.data.sources import list_datasets; list_datasets(); "
        "print(sorted(m for m in ('torch','timm','radiomics','mahotas','pydicom',"
        "'scipy.fft') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_run_then_resume_recomputes_nothing(tmp_path, tabular_cohort):
    args = [
        "run",
        "--dataset",
        str(tabular_cohort),
        "--methods",
        "biometry-*",
        "dummy-mean",
        "--runs-dir",
        str(tmp_path),
    ]
    first = _cli(*args)
    assert first.returncode == 0, first.stderr
    assert "| biometry-hadlock | all |" in first.stdout
    (run_dir,) = tmp_path.iterdir()
    cells = sorted(run_dir.glob("cells/*/cell.json"))
    assert len(cells) == 4
    stamps = {p: p.stat().st_mtime_ns for p in cells}
    tables = (run_dir / "tables" / "results.md").read_bytes()

    second = _cli(*args)
    assert second.returncode == 0
    assert "0 cell(s) computed, 4 reused" in second.stdout
    assert {p: p.stat().st_mtime_ns for p in cells} == stamps
    assert (run_dir / "tables" / "results.md").read_bytes() == tables

    predictions = pd.read_csv(run_dir / "predictions.csv")
    assert set(predictions["level"]) == {"image", "patient"}
    meta = json.loads(cells[0].read_text())
    for key in (
        "fit_seconds",
        "predict_seconds",
        "peak_rss_mb",
        "versions",
        "git_commit",
        "dataset_fingerprint",
        "seed",
        "fold",
        "split",
        "params",
    ):
        assert key in meta


def test_run_warns_of_a_selection_that_adds_nothing(tmp_path, tabular_cohort):
    methods = ["dummy-mean", "biometry-*", "biometry-hadlock"]
    out = _cli(
        "run", "--dataset", str(tabular_cohort), "--methods", *methods, "--runs-dir", str(tmp_path)
    )
    assert out.returncode == 0, out.stderr
    assert (
        "WARNING --methods: 'biometry-hadlock' adds nothing: 'biometry-*' already selects it "
        "(run once; drop it from --methods)"
    ) in out.stderr


def test_failed_cell_is_recorded_not_cached_and_others_finish(tmp_path, tabular_cohort):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "always_fails.py").write_text(
        textwrap.dedent("""
        from benchmark import BaseMethod, register_method

        @register_method
        class AlwaysFails(BaseMethod):
            name = "always-fails"
            def fit(self, train):
                raise RuntimeError("deliberate failure in fit")
    """)
    )
    env = {"FLB_METHODS_PATH": str(plugins)}
    args = [
        "run",
        "--dataset",
        str(tabular_cohort),
        "--methods",
        "always-fails",
        "dummy-mean",
        "--runs-dir",
        str(tmp_path / "runs"),
    ]
    out = _cli(*args, env=env)
    assert out.returncode == 1
    assert "deliberate failure in fit" in out.stdout
    assert "| dummy-mean | all |" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    cells = pd.read_csv(run_dir / "cells.csv")
    assert dict(zip(cells["label"], cells["status"])) == {
        "always-fails": "failed",
        "dummy-mean": "done",
    }
    assert "deliberate failure in fit" in (run_dir / "log.txt").read_text()
    again = _cli(*args, env=env)
    assert "1 cell(s) computed, 1 reused" in again.stdout  # the failure is retried


def test_unknown_dataset_is_one_line_error(tmp_path):
    out = _cli("run", "--dataset", str(tmp_path / "nope"), "--runs-dir", str(tmp_path))
    assert out.returncode == 2
    assert out.stderr.startswith("error:") and len(out.stderr.strip().splitlines()) == 1


def test_report_rebuilds_tables_from_predictions(tmp_path, tabular_cohort):
    _cli(
        "run",
        "--dataset",
        str(tabular_cohort),
        "--methods",
        "dummy-mean",
        "--runs-dir",
        str(tmp_path),
    )
    (run_dir,) = tmp_path.iterdir()
    table = run_dir / "tables" / "results.md"
    before = table.read_bytes()
    table.unlink()
    out = _cli("report", str(run_dir))
    assert out.returncode == 0, out.stderr
    assert table.read_bytes() == before


def test_views_hide_ga_outcomes_and_simulation_truth(tabular_cohort):
    from benchmark.data.cohort import Cohort

    cohort = Cohort.load(tabular_cohort)
    cohort.patients["truth_maturity"] = 0.5
    ids = list(cohort.patients.index)
    test = cohort.test_view(ids[:5])
    for hidden in ("ga_weeks", "delivery_ga_weeks", "apgar", "truth_maturity"):
        assert hidden not in test.patients.columns and hidden not in test.images.columns
    assert "truth_maturity" not in cohort.train_view(ids[5:]).patients.columns
    assert "truth_maturity" in cohort.test_view(ids[:5], include_truth=True).patients.columns
    assert "ga_weeks" not in cohort.test_view(ids[:5], include_truth=True).patients.columns
