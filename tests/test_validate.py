"""One test per bad-input case: the report names the file/manifest row and blocks a run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark.data.cohort import Cohort
from benchmark.data.ingest.template import write_template
from benchmark.data.io import InputError
from benchmark.data.validate import check_dataset, validate_dataset

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cohort(tmp_path) -> Path:
    """The init-dataset template (2 patients, PNG mask + LabelMe polygons): valid as written."""
    return write_template(tmp_path / "cohort")


def _edit(root: Path, table: str, **changes) -> None:
    """Set columns of row 0 (spreadsheet row 2) of patients.csv / images.csv."""
    frame = pd.read_csv(root / f"{table}.csv", dtype=str)
    for col, value in changes.items():
        frame.loc[0, col] = str(value)
    frame.to_csv(root / f"{table}.csv", index=False)


def _problems(root: Path, code: str, level: str = "error"):
    report = validate_dataset(root)
    found = [p for p in report.problems if p.code == code and p.level == level]
    assert found, report.format()
    return found, report


def test_template_is_valid(cohort):
    report = validate_dataset(cohort)
    assert report.ok and not report.warnings, report.format()
    assert report.n_images == 2 and report.files_checked


def test_corrupt_image(cohort):
    (cohort / "images" / "EXAMPLE01.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (p,), _ = _problems(cohort, "unreadable")
    assert p.where == "images.csv row 2 (image_id=EXAMPLE01_a)"
    assert "images/EXAMPLE01.png" in p.what and "unreadable" in p.what


def test_missing_file(cohort):
    _edit(cohort, "images", image_path="images/nope.png")
    (p,), _ = _problems(cohort, "file-missing")
    assert "row 2" in p.where and "images/nope.png" in p.what


def test_mask_size_differs(cohort):
    Image.fromarray(np.full((50, 60), 255, np.uint8)).save(cohort / "masks" / "EXAMPLE01.png")
    (p,), _ = _problems(cohort, "mask-size")
    assert "row 2" in p.where and "masks/EXAMPLE01.png" in p.what and "60x50" in p.what


def test_polygon_annotation_size_differs(cohort):
    text = (
        (cohort / "masks" / "EXAMPLE02.json")
        .read_text()
        .replace('"imageWidth": 160', '"imageWidth": 320')
    )
    (cohort / "masks" / "EXAMPLE02.json").write_text(text)
    (p,), _ = _problems(cohort, "mask-size")
    assert "row 3" in p.where and "EXAMPLE02.json" in p.what


def test_empty_mask(cohort):
    Image.fromarray(np.zeros((120, 160), np.uint8)).save(cohort / "masks" / "EXAMPLE01.png")
    (p,), _ = _problems(cohort, "mask-empty")
    assert "row 2" in p.where and "masks/EXAMPLE01.png" in p.what


def test_mask_outside_crop(cohort):
    _edit(cohort, "images", crop_x0=140, crop_y0=100, crop_x1=160, crop_y1=120)
    (p,), _ = _problems(cohort, "mask-outside-crop")
    assert "row 2" in p.where


def test_mask_partly_outside_crop_is_a_warning(cohort):
    _edit(cohort, "images", crop_x0=0, crop_y0=0, crop_x1=80, crop_y1=120)
    (p,), report = _problems(cohort, "mask-crop", "warning")
    assert report.ok and "row 2" in p.where and "%" in p.what


def test_crop_outside_image(cohort):
    _edit(cohort, "images", crop_x0=0, crop_y0=0, crop_x1=500, crop_y1=120)
    (p,), _ = _problems(cohort, "crop")
    assert "row 2" in p.where and "crop box" in p.what


@pytest.mark.parametrize("value", ["", "n/a"])
def test_missing_or_nan_ga(cohort, value):
    _edit(cohort, "patients", ga_weeks=value)
    (p,), _ = _problems(cohort, "ga-missing")
    assert p.where == "patients.csv row 2 (patient_id=EXAMPLE01)"


@pytest.mark.parametrize("value", ["19.5", "45", "196"])
def test_ga_outside_range(cohort, value):
    _edit(cohort, "patients", ga_weeks=value)
    (p,), _ = _problems(cohort, "ga-range")
    assert "patients.csv row 2" in p.where and value in p.what


def test_conflicting_ga_across_images(cohort):
    images = pd.read_csv(cohort / "images.csv", dtype=str)
    extra = images.iloc[[0]].assign(image_id="EXAMPLE01_b", ga_weeks="30.0")
    images = pd.concat([images.assign(ga_weeks=["28.4", None]), extra])
    images.to_csv(cohort / "images.csv", index=False)
    (p,), _ = _problems(cohort, "ga-conflict")
    assert p.where == "images.csv rows 2, 4 (patient_id=EXAMPLE01)"


def test_missing_spacing(cohort):
    _edit(cohort, "images", pixel_spacing_mm="")
    (p,), _ = _problems(cohort, "spacing-missing")
    assert "row 2" in p.where and "pixel_spacing_mm" in p.fix


def test_duplicate_image_ids(cohort):
    _edit(cohort, "images", image_id="EXAMPLE02_a")
    (p,), _ = _problems(cohort, "duplicate-image_id")
    assert p.where == "images.csv rows 2, 3" and "EXAMPLE02_a" in p.what


@pytest.mark.parametrize("path", ["../outside.png", "images/../../outside.png", "/etc/passwd"])
def test_path_escaping_root(cohort, path):
    _edit(cohort, "images", image_path=path)
    (p,), _ = _problems(cohort, "path-escape")
    assert "row 2" in p.where and path in p.what


def test_unknown_patient(cohort):
    _edit(cohort, "images", patient_id="NOBODY")
    found, _ = _problems(cohort, "patient-unknown")
    assert "row 2" in found[0].where and "NOBODY" in found[0].what


def test_16_bit_image_is_a_warning(cohort):
    ramp = (np.arange(120 * 160).reshape(120, 160) * 3).astype(np.uint16)
    Image.fromarray(ramp).save(cohort / "images" / "EXAMPLE01.png")
    (p,), report = _problems(cohort, "bit-depth", "warning")
    assert report.ok and "row 2" in p.where and "16-bit" in p.what


def test_rgb_image_is_a_warning(cohort):
    grey = np.asarray(Image.open(cohort / "images" / "EXAMPLE01.png"))
    Image.fromarray(np.stack([grey] * 3, -1)).save(cohort / "images" / "EXAMPLE01.png")
    (p,), report = _problems(cohort, "rgb", "warning")
    assert report.ok and "row 2" in p.where


def test_colour_overlay_is_a_warning(cohort):
    rgb = np.stack([np.asarray(Image.open(cohort / "images" / "EXAMPLE01.png"))] * 3, -1)
    rgb[10:40, 10:40] = (255, 0, 0)  # a Doppler-like colour box
    Image.fromarray(rgb).save(cohort / "images" / "EXAMPLE01.png")
    (p,), _ = _problems(cohort, "colour", "warning")
    assert "row 2" in p.where


def _cine(path: Path, n: int = 3) -> None:
    frames = [Image.fromarray(np.full((120, 160), 40 * k, np.uint8)) for k in range(n)]
    frames[0].save(path, save_all=True, append_images=frames[1:])


def test_multi_frame_without_frame_index(cohort):
    _cine(cohort / "images" / "cine.tif")
    _edit(cohort, "images", image_path="images/cine.tif")
    (p,), _ = _problems(cohort, "multi-frame")
    assert "row 2" in p.where and "3 frames" in p.what and "frame" in p.fix


def test_multi_frame_with_frame_index_loads_that_frame(cohort):
    _cine(cohort / "images" / "cine.tif")
    _edit(cohort, "images", image_path="images/cine.tif", frame="2")
    assert validate_dataset(cohort).ok
    record = Cohort.load(cohort).load_image("EXAMPLE01_a")
    assert record.pixels.shape == (120, 160) and int(record.pixels[0, 0]) == 80


def test_cohort_load_raises_one_line_naming_the_row(cohort):
    _edit(cohort, "patients", ga_weeks="50")
    with pytest.raises(InputError) as info:
        Cohort.load(cohort)
    message = str(info.value)
    assert "\n" not in message and "patients.csv row 2 (patient_id=EXAMPLE01)" in message


def test_check_dataset_hook_blocks_errors_and_returns_warnings(cohort, tmp_path, monkeypatch):
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    _edit(cohort, "images", crop_x0=0, crop_y0=0, crop_x1=80, crop_y1=120)
    warnings = check_dataset(cohort)
    assert [w["code"] for w in warnings] == ["mask-crop"]
    assert check_dataset(cohort) == warnings  # second call served from the cache
    Image.fromarray(np.zeros((120, 160), np.uint8)).save(cohort / "masks" / "EXAMPLE01.png")
    with pytest.raises(InputError, match="row 2.*empty"):
        check_dataset(cohort)  # the cache key follows the files


def test_nothing_dropped_every_row_accounted_for(cohort):
    """Cohort.load keeps every image row; none disappears between manifest and views."""
    loaded = Cohort.load(cohort)
    assert list(loaded.images.index) == ["EXAMPLE01_a", "EXAMPLE02_a"]
    assert [r.image_id for r in loaded.test_view(loaded.patients.index).iter_images()] == [
        "EXAMPLE01_a",
        "EXAMPLE02_a",
    ]


def test_cli_exits_nonzero_with_one_line_and_no_traceback(cohort):
    _edit(cohort, "patients", ga_weeks="")
    out = subprocess.run(
        [sys.executable, "-m", "benchmark", "validate", str(cohort)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr + out.stdout
    assert out.stderr.count("\n") == 1 and "patients.csv row 2" in out.stderr
    assert "ERROR   patients.csv row 2 (patient_id=EXAMPLE01): ga_weeks is missing" in out.stdout


def test_cli_run_on_bad_cohort_is_one_line(cohort, tmp_path):
    _edit(cohort, "images", image_path="../escape.png")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmark",
            "run",
            "--dataset",
            str(cohort),
            "--methods",
            "dummy-mean",
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and "images.csv row 2" in out.stderr
