"""``benchmark predict``: a model saved by a run estimates GA for new images."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark import cli, runner
from benchmark.ingest.predict import resolve_model
from benchmark.io import InputError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tabular_cohort) -> Path:
    """A run of dummy-mean (saves its model) and biometry-hadlock (no save hook)."""
    result = runner.run(runner.RunConfig(
        dataset=str(tabular_cohort), methods=["dummy-mean", "biometry-hadlock"],
        runs_dir=str(tmp_path_factory.mktemp("runs"))))
    assert result.n_failed == 0
    return result.run_dir


def _train_mean(run_dir: Path, tabular_cohort: Path) -> float:
    cells = pd.read_csv(run_dir / "cells.csv")
    cell = cells.loc[cells["method"] == "dummy-mean"].iloc[0]
    meta = json.loads((run_dir / "cells" / cell["cell_id"] / "cell.json").read_text())
    assert meta["status"] == "done"
    predictions = pd.read_csv(run_dir / "predictions.csv")
    train = set(pd.read_csv(tabular_cohort / "patients.csv")["patient_id"]) - set(
        predictions["patient_id"])
    patients = pd.read_csv(tabular_cohort / "patients.csv").set_index("patient_id")
    return float(patients.loc[sorted(train), "ga_weeks"].mean())


def test_predict_files_with_spacing(trained, tabular_cohort, tmp_path, capsys):
    images = [str(tabular_cohort / "images" / f"P00{i}_0.png") for i in range(3)]
    out = tmp_path / "pred.csv"
    assert cli.main(["predict", "--model", str(trained), "--method", "dummy-mean", *images,
                     "--spacing", "0.2", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert table["image_id"].tolist() == ["P000_0", "P001_0", "P002_0"]
    assert table["ga_pred_weeks"].to_numpy() == pytest.approx(
        _train_mean(trained, tabular_cohort), abs=0.01)
    assert set(table["lung_map"]) == {"none (method uses no lung map)"}
    assert "dummy-mean" in capsys.readouterr().out


def test_model_can_be_named_by_cell_or_model_folder(trained):
    by_run = resolve_model(trained, "dummy-mean")
    assert resolve_model(by_run.model_dir).model_dir == by_run.model_dir
    assert resolve_model(by_run.model_dir / "model.json").method == "dummy-mean"
    assert resolve_model(by_run.model_dir.parent).label == "dummy-mean"


def test_method_without_saved_model_is_a_clear_error(trained):
    with pytest.raises(InputError, match="no saved model for 'biometry-hadlock'.*dummy-mean"):
        resolve_model(trained, "biometry-hadlock")


def test_predict_on_a_dataset_folder_compares_given_ga(trained, tabular_cohort, capsys):
    assert cli.main(["predict", "--model", str(trained), str(tabular_cohort)]) == 0
    out = capsys.readouterr().out
    assert "ga_given_weeks" in out and "traced mask" in out and "P039_1" in out


def test_missing_spacing_is_one_line_without_traceback(trained, tabular_cohort):
    out = subprocess.run(
        [sys.executable, "-m", "benchmark", "predict", "--model", str(trained),
         str(tabular_cohort / "images" / "P000_0.png")],
        capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0
    assert "P000_0.png: missing spacing" in out.stderr and "--spacing" in out.stderr


def test_segmenting_method_uses_its_own_lung_map_without_a_mask(tmp_path, capsys):
    """A net saved by a run: without --mask the lung map is its own, and predict says so."""
    pytest.importorskip("torch")
    from benchmark.registry import method_info

    if not method_info("unet-transfer").available:
        pytest.skip("unet-transfer unavailable here")
    from _cohorts import write_tabular_cohort

    root = write_tabular_cohort(tmp_path / "c", n=12, size=96)
    result = runner.run(runner.RunConfig(
        dataset=str(root), methods=["unet-transfer[max_epochs=1,patch_mm=4]"],
        runs_dir=str(tmp_path / "runs")))
    if result.n_failed:
        pytest.fail(pd.read_csv(result.run_dir / "cells.csv")["error"].iloc[0])
    maps = tmp_path / "maps"
    image = root / "images" / "P000_0.png"
    assert cli.main(["predict", "--model", str(result.run_dir), str(image), "--spacing", "0.5",
                     "--lung-maps", str(maps)]) == 0
    out = capsys.readouterr().out
    assert "own segmentation (unet-transfer" in out and "used its own lung map" in out
    lung_map = np.asarray(Image.open(maps / "P000_0_lung_map.png"))
    assert lung_map.shape == (96, 96) and (maps / "P000_0_overlay.png").is_file()
