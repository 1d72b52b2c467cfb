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

from benchmark import cli
from benchmark.data.io import InputError
from benchmark.execution import runner
from benchmark.execution.predict import resolve_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tabular_cohort) -> Path:
    """A run of dummy-mean (saves its model) and biometry-hadlock (no save hook)."""
    result = runner.run(
        runner.RunConfig(
            dataset=str(tabular_cohort),
            methods=["dummy-mean", "biometry-hadlock"],
            runs_dir=str(tmp_path_factory.mktemp("runs")),
        )
    )
    assert result.n_failed == 0
    return result.run_dir


def _train_mean(run_dir: Path, tabular_cohort: Path) -> float:
    cells = pd.read_csv(run_dir / "cells.csv")
    cell = cells.loc[cells["method"] == "dummy-mean"].iloc[0]
    meta = json.loads((run_dir / "cells" / cell["cell_id"] / "cell.json").read_text())
    assert meta["status"] == "done"
    predictions = pd.read_csv(run_dir / "predictions.csv")
    train = set(pd.read_csv(tabular_cohort / "patients.csv")["patient_id"]) - set(
        predictions["patient_id"]
    )
    patients = pd.read_csv(tabular_cohort / "patients.csv").set_index("patient_id")
    return float(patients.loc[sorted(train), "ga_weeks"].mean())


def test_predict_files_with_spacing(trained, tabular_cohort, tmp_path, capsys):
    images = [str(tabular_cohort / "images" / f"P00{i}_0.png") for i in range(3)]
    out = tmp_path / "pred.csv"
    assert (
        cli.main(
            [
                "predict",
                "--model",
                str(trained),
                "--method",
                "dummy-mean",
                *images,
                "--spacing",
                "0.2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    table = pd.read_csv(out)
    assert table["image_id"].tolist() == ["P000_0", "P001_0", "P002_0"]
    assert table["ga_pred_weeks"].to_numpy() == pytest.approx(
        _train_mean(trained, tabular_cohort), abs=0.01
    )
    assert set(table["lung_map"]) == {"none (untraced)"}
    assert set(table["provenance"]) == {"measured"}  # as the run's cell writes it
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
        [
            sys.executable,
            "-m",
            "benchmark",
            "predict",
            "--model",
            str(trained),
            str(tabular_cohort / "images" / "P000_0.png"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0
    assert "P000_0.png: missing spacing" in out.stderr and "--spacing" in out.stderr


def test_untraced_image_gets_the_same_estimate_and_provenance_as_in_the_run(tmp_path, capsys):
    """One behaviour for untraced images: ``predict`` predicts them as ``run`` does (a net:
    the training mean, ``fallback:train-mean``), and says what its own lung map finds."""
    pytest.importorskip("torch")
    from benchmark.contract.registry import method_info

    if not method_info("unet-transfer").available:
        pytest.skip("unet-transfer unavailable here")
    from _cohorts import write_tabular_cohort

    root = write_tabular_cohort(tmp_path / "c", n=12, size=96)
    patients = pd.read_csv(root / "patients.csv")
    last = patients.sort_values("enrolment_order")["patient_id"].iloc[-1]  # a test patient
    images = pd.read_csv(root / "images.csv")
    images.loc[images["image_id"] == f"{last}_0", "lung_mask_path"] = None
    images.to_csv(root / "images.csv", index=False)
    result = runner.run(
        runner.RunConfig(
            dataset=str(root),
            methods=["unet-transfer[max_epochs=1,patch_mm=4]"],
            runs_dir=str(tmp_path / "runs"),
        )
    )
    if result.n_failed:
        pytest.fail(pd.read_csv(result.run_dir / "cells.csv")["error"].iloc[0])
    in_run = (
        pd.read_csv(result.run_dir / "predictions.csv")
        .query("level == 'image' and image_id == @last + '_0'")
        .iloc[0]
    )
    maps, out = tmp_path / "maps", tmp_path / "pred.csv"
    image = root / "images" / f"{last}_0.png"
    assert (
        cli.main(
            [
                "predict",
                "--model",
                str(result.run_dir),
                str(image),
                "--spacing",
                "0.2",
                "--lung-maps",
                str(maps),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    row = pd.read_csv(out).iloc[0]
    assert row["provenance"] == in_run["provenance"] == "fallback:train-mean"
    assert row["ga_pred_weeks"] == pytest.approx(in_run["ga_pred"], abs=0.006)
    assert row["lung_map"] == "none (untraced)"
    assert row["own_lung_map"] == "no lung found" or row["own_lung_map"].startswith("lung found")
    assert "not measured" in capsys.readouterr().out
    lung_map = np.asarray(Image.open(maps / f"{last}_0_lung_map.png"))
    assert lung_map.shape == (96, 96) and (maps / f"{last}_0_overlay.png").is_file()


def _scan(path: Path, seed: int = 0, size: int = 160) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(path)
    return path


def _predict(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmark", "predict", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


@pytest.mark.parametrize(
    "name, content",
    [
        ("empty.png", b""),
        ("report.png", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"),
        ("notes.png", b"GA 31 weeks, lungs look fine\n"),
    ],
)
def test_bad_files_fail_like_validate(trained, tmp_path, name, content):
    good = _scan(tmp_path / "good.png")
    bad = tmp_path / name
    bad.write_bytes(content)
    out_csv = tmp_path / "pred.csv"
    out = _predict(
        "--model", str(trained), "--spacing", "0.25", str(good), str(bad), "--out", str(out_csv)
    )
    assert out.returncode != 0 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[0].startswith("ERROR   input 2: ") and name in lines[0]
    assert lines[-1].startswith("error: 1 input problem(s), nothing predicted")
    assert not out_csv.exists()


def test_readme_example_spacing_before_images(trained, tmp_path):
    """`--spacing 0.15 scan1.png scan2.png` (README) once made --spacing swallow the images."""
    scans = [_scan(tmp_path / f"scan{i}.png", i) for i in (1, 2)]
    out = _predict(
        "--model", str(trained), "--method", "dummy-mean", "--spacing", "0.15", *map(str, scans)
    )
    assert out.returncode == 0, out.stderr
    assert "scan1" in out.stdout and "scan2" in out.stdout


def test_frames_per_image(trained, tmp_path):
    pytest.importorskip("pydicom")
    from test_dicom import write_dicom

    cine = np.stack([np.full((120, 160), 30 * (k + 1), np.uint8) for k in range(3)])
    loop = write_dicom(tmp_path / "loop.dcm", cine, region_cm=0.025)
    still = _scan(tmp_path / "still.png")
    out = _predict("--model", str(trained), str(loop), "--spacing", "0.25")
    assert out.returncode != 0
    assert "input 1: loop.dcm: 3 frames (cine loop) and no frame index" in out.stderr
    assert "Fix: name the frame after the file: IMAGE:N (0-based)" in out.stderr
    out = _predict("--model", str(trained), f"{loop}:2", str(still), "--spacing", "0.25")
    assert out.returncode == 0, out.stderr
    out = _predict(
        "--model", str(trained), str(loop), str(still), "--frame", "1", "--spacing", "0.25"
    )  # --frame: multi-frame files only, not still.png
    assert out.returncode == 0, out.stderr
    out = _predict("--model", str(trained), f"{loop}:7", "--spacing", "0.25")
    assert out.returncode != 0 and "frame 7 out of range (file has 3)" in out.stderr


def test_kfold_run_chooses_the_named_method(tabular_cohort, tmp_path, capsys):
    result = runner.run(
        runner.RunConfig(
            dataset=str(tabular_cohort),
            methods=["dummy-mean", "biometry-hadlock"],
            split="kfold:3",
            runs_dir=str(tmp_path / "runs"),
        )
    )
    saved = resolve_model(result.run_dir, "dummy-mean")
    assert (saved.seed, saved.fold) == (0, 0) and "3 saved models of dummy-mean" in saved.note
    image = str(tabular_cohort / "images" / "P000_0.png")
    assert (
        cli.main(
            [
                "predict",
                "--model",
                str(result.run_dir),
                "--method",
                "dummy-mean",
                "--spacing",
                "0.2",
                image,
            ]
        )
        == 0
    )
    assert "using seed 0 fold 0" in capsys.readouterr().out
