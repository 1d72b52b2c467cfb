"""Validation gaps found by a new user's bad inputs: each case is a real cohort on disk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark.contract.errors import InputError
from benchmark.data.cohort import Cohort
from benchmark.data.ingest.template import write_template
from benchmark.data.splits import make_splits
from benchmark.data.validate import validate_dataset

SIZE = (120, 160)  # (H, W); at 0.25 mm/pixel 40 mm across: a plausible thorax view


def _speckle(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.gamma(2.0, 40.0, (SIZE[0] // 8, SIZE[1] // 8))  # coarse structure per patient
    image = np.kron(base, np.ones((8, 8))) + rng.normal(0, 10, SIZE)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_cohort(root: Path, n: int = 8, spacing: float | list[float] = 0.25) -> Path:
    """n patients, one PNG each, per-image spacing (a number or one per patient)."""
    (root / "images").mkdir(parents=True)
    spacings = spacing if isinstance(spacing, list) else [spacing] * n
    patients, images = [], []
    for i in range(n):
        pid = f"P{i:02d}"
        Image.fromarray(_speckle(i)).save(root / "images" / f"{pid}.png")
        patients.append({"patient_id": pid, "ga_weeks": 24 + i, "enrolment_order": i + 1})
        images.append(
            {
                "image_id": f"{pid}_0",
                "patient_id": pid,
                "image_path": f"images/{pid}.png",
                "pixel_spacing_mm": spacings[i],
            }
        )
    pd.DataFrame(patients).to_csv(root / "patients.csv", index=False)
    pd.DataFrame(images).to_csv(root / "images.csv", index=False)
    return root


def _codes(report, level: str = "error") -> list[str]:
    return [p.code for p in report.problems if p.level == level]


def test_clean_cohort_has_no_problem_but_missing_masks(tmp_path):
    report = validate_dataset(write_cohort(tmp_path / "c"))
    assert report.ok and _codes(report, "warning") == ["mask-none"], report.format()


@pytest.mark.parametrize("slip", [0.025, 2.5])
def test_ten_fold_spacing_slip_is_an_error_naming_the_row(tmp_path, slip):
    spacings = [0.2, 0.25, 0.3, 0.22, 0.28, 0.25, slip, 0.24]
    report = validate_dataset(write_cohort(tmp_path / "c", spacing=spacings))
    (problem,) = [p for p in report.errors if p.code == "spacing-outlier"]
    assert problem.where == "images.csv row 8 (image_id=P06_0)"
    assert f"{slip:g} mm/pixel" in problem.what and "cohort median" in problem.what
    assert problem.image_rows == (6,)


def test_zoomed_image_within_the_spread_is_only_a_warning(tmp_path):
    spacings = [0.25] * 7 + [0.1]  # 2.5x: a zoom box, possibly real
    report = validate_dataset(write_cohort(tmp_path / "c", spacing=spacings))
    assert report.ok and "spacing-odd" in _codes(report, "warning")


def test_cohort_wide_slip_is_caught_by_the_field_of_view(tmp_path):
    report = validate_dataset(write_cohort(tmp_path / "c", spacing=0.025))  # 4 mm across
    problems = [p for p in report.warnings if p.code == "spacing-fov"]
    assert len(problems) == 8 and "4 mm across" in problems[0].what


def test_same_image_file_under_two_patients_is_an_error(tmp_path):
    root = write_cohort(tmp_path / "c")
    (root / "images" / "P03.png").write_bytes((root / "images" / "P01.png").read_bytes())
    (problem,) = [p for p in validate_dataset(root).errors if p.code == "duplicate-image"]
    assert problem.where == "images.csv rows 3, 5"
    assert "P01_0 (patient P01)" in problem.what and "P03_0 (patient P03)" in problem.what


def test_near_identical_frame_under_two_patients_is_a_warning(tmp_path):
    root = write_cohort(tmp_path / "c")
    again = np.asarray(Image.open(root / "images" / "P01.png"))
    Image.fromarray(again).save(root / "images" / "P03.jpg", quality=80)  # re-encoded copy
    images = pd.read_csv(root / "images.csv")
    images.loc[3, "image_path"] = "images/P03.jpg"
    images.to_csv(root / "images.csv", index=False)
    report = validate_dataset(root)
    (problem,) = [p for p in report.warnings if p.code == "near-duplicate"]
    assert report.ok and "P01_0" in problem.what and "P03_0" in problem.what


def test_a_cluster_of_look_alike_frames_is_one_warning_not_one_per_pair(tmp_path):
    """Four re-encoded copies of one frame under four patients: 1 message (not 6 pairs),
    and the four patients are linked for the split."""
    root = write_cohort(tmp_path / "c")
    again = np.asarray(Image.open(root / "images" / "P01.png"))
    images = pd.read_csv(root / "images.csv")
    for i, quality in ((3, 80), (4, 70), (5, 90)):
        Image.fromarray(again).save(root / "images" / f"P0{i}.jpg", quality=quality)
        images.loc[i, "image_path"] = f"images/P0{i}.jpg"
    images.to_csv(root / "images.csv", index=False)
    report = validate_dataset(root)
    (problem,) = [p for p in report.warnings if p.code == "near-duplicate"]
    assert "4 images of 4 patients look alike" in problem.what
    assert all(f"P0{i}_0" in problem.what for i in (1, 3, 4, 5))
    assert report.linked_patients == [("P01", "P03", "P04", "P05")]


def test_duplicate_enrolment_order_is_an_error(tmp_path):
    root = write_cohort(tmp_path / "c")
    patients = pd.read_csv(root / "patients.csv")
    patients.loc[4, "enrolment_order"] = 2
    patients.to_csv(root / "patients.csv", index=False)
    (problem,) = [p for p in validate_dataset(root).errors if p.code == "duplicate-enrolment_order"]
    assert problem.where == "patients.csv row 3; patients.csv row 6"
    assert "P01" in problem.what and "P04" in problem.what


def _labelme(template: Path, points) -> None:
    path = template / "masks" / "EXAMPLE02.json"
    data = json.loads(path.read_text())
    data["shapes"][0]["points"] = points
    path.write_text(json.dumps(data))


def test_polygon_entirely_outside_the_image_is_an_error(tmp_path):
    template = write_template(tmp_path / "t")
    _labelme(template, [[500, 500], [560, 500], [560, 560]])
    (problem,) = validate_dataset(template).errors
    assert problem.code == "annotation-outside" and "row 3" in problem.where
    assert "EXAMPLE02.json" in problem.what and "entirely outside the 160x120" in problem.what


def test_annotation_problems_get_an_annotation_fix(tmp_path):
    template = write_template(tmp_path / "t")
    (template / "masks" / "EXAMPLE02.json").write_text("{not json")
    (problem,) = validate_dataset(template).errors
    assert problem.code == "annotation" and "EXAMPLE02.json" in problem.what
    assert "annotation" in problem.fix and "PNG/DICOM" not in problem.fix


def test_kfold_larger_than_the_cohort_is_said_in_patients(tmp_path):
    patients = Cohort.load(write_cohort(tmp_path / "c", n=4)).patients
    with pytest.raises(
        InputError, match="kfold:5 needs at least 5 patients; this cohort has 4"
    ) as info:
        make_splits(patients, "kfold:5")
    assert "samples" not in str(info.value) and info.value.code == "split"


def test_nothing_is_written_into_the_dataset_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    from benchmark.execution import runner

    root = write_cohort(tmp_path / "c")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    result = runner.run(
        runner.RunConfig(dataset=str(root), methods=["dummy-mean"], runs_dir=str(tmp_path / "runs"))
    )
    assert result.n_failed == 0
    Cohort.load(root).fingerprint()
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert list((tmp_path / "cache" / "fingerprints").glob("*.json"))


def _break_rows(root: Path) -> None:
    """Three kinds of bad rows: a patient without GA, a corrupt file, a 10x spacing slip."""
    patients = pd.read_csv(root / "patients.csv")
    patients.loc[1, "ga_weeks"] = None
    patients.to_csv(root / "patients.csv", index=False)
    (root / "images" / "P02.png").write_bytes(b"%PDF-1.7 not an image")
    images = pd.read_csv(root / "images.csv")
    images.loc[3, "pixel_spacing_mm"] = 2.5
    images.to_csv(root / "images.csv", index=False)


def test_skip_invalid_runs_the_valid_rows_and_lists_the_rest(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    from benchmark import cli

    root = write_cohort(tmp_path / "c", n=10)
    _break_rows(root)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    runs = tmp_path / "runs"
    args = [
        "run",
        "--dataset",
        str(root),
        "--methods",
        "dummy-mean",
        "--split",
        "kfold:2",
        "--runs-dir",
        str(runs),
        "--n-jobs",
        "1",
    ]
    assert cli.main(args) != 0  # without the flag the errors block the run
    err = capsys.readouterr().err
    assert "patients.csv row 3 (patient_id=P01)" in err and "--skip-invalid" in err
    assert cli.main([*args, "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    for image_id, code in (
        ("P01_0", "ga-missing"),
        ("P02_0", "unreadable"),
        ("P03_0", "spacing-outlier"),
    ):
        assert f"skipped {image_id}: " in out and f"[{code}]" in out
    assert "3 image(s) of 3 patient(s) left out by --skip-invalid" in out
    for phase in (
        "leaving out rows with errors",
        "validating",
        "7 patient(s), 7 image(s)",
        "starting sequential backend",
    ):
        assert phase in out, phase  # every phase before the grid says what it does
    (run_dir,) = runs.iterdir()
    listed = pd.read_csv(run_dir / "skipped_inputs.csv")
    assert sorted(listed["image_id"].dropna()) == ["P01_0", "P02_0", "P03_0"]
    assert sorted(listed.loc[listed["image_id"].isna(), "patient_id"]) == ["P02", "P03"]
    run = json.loads((run_dir / "run.json").read_text())
    assert sorted(r["image_id"] for r in run["skipped_inputs"] if r["image_id"]) == [
        "P01_0",
        "P02_0",
        "P03_0",
    ]
    predicted = set(pd.read_csv(run_dir / "predictions.csv")["patient_id"])
    assert predicted == {f"P{i:02d}" for i in range(10)} - {"P01", "P02", "P03"}
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_skip_invalid_still_blocks_errors_not_tied_to_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    from benchmark.data.ingest.skip import valid_subset

    root = write_cohort(tmp_path / "c")
    pd.read_csv(root / "patients.csv").drop(columns="ga_weeks").to_csv(
        root / "patients.csv", index=False
    )
    with pytest.raises(InputError, match="cannot leave it out"):
        valid_subset(root, tmp_path / "cache")
