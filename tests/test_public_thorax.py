"""The 20 real public four-chamber screen grabs (FETAL_PLANES_DB, CC BY 4.0) through
validate and predict.  Read from ../shared/data/public-thorax; skipped when absent.  The
images are symlinked into a temporary dataset folder, never copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import cli
from benchmark.data.validate import validate_dataset

THORAX = Path(__file__).resolve().parents[2] / "shared/data/public-thorax"
pytestmark = pytest.mark.skipif(
    not (THORAX / "labels.csv").is_file(), reason="public-thorax images not present"
)


def _dataset(root: Path, with_spacing_and_ga: bool) -> Path:
    (root / "images").mkdir(parents=True)
    labels = pd.read_csv(THORAX / "labels.csv")
    rows = []
    spacing = pd.read_csv(THORAX / "lung_rois.csv").groupby("image")["spacing_mm"].first()
    rng = np.random.default_rng(0)
    invented = {p: round(float(rng.uniform(24, 38)), 1) for p in labels["Patient_num"]}
    for name, patient in zip(labels["Image_name"], labels["Patient_num"], strict=True):
        (root / "images" / f"{name}.png").symlink_to(THORAX / f"{name}.png")
        row = {
            "image_id": name,
            "patient_id": f"FPDB{patient:05d}",
            "image_path": f"images/{name}.png",
        }
        if with_spacing_and_ga:
            row["pixel_spacing_mm"] = spacing[f"{name}.png"]
            row["ga_weeks"] = invented[patient]  # INVENTED: these images have no GA
        rows.append(row)
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    return root


def test_validate_reports_the_exact_problems(tmp_path):
    report = validate_dataset(_dataset(tmp_path / "pt", with_spacing_and_ga=False))
    assert report.n_images == 20 and report.n_patients == 18
    errors = [(p.code, p.where) for p in report.errors]
    assert errors[0] == ("column", "manifest.csv")  # no GA at all
    spacing = [w for code, w in errors if code == "spacing-missing"]
    assert len(spacing) == 20 and len(errors) == 21
    assert spacing[0] == "manifest.csv row 2 (image_id=Patient00305_Plane6_1_of_3)"
    assert sorted(p.code for p in report.warnings) == ["enrolment-order", "mask-none"]
    assert report.files_checked  # every screen grab was read: none unreadable, none RGB


def test_with_spacing_and_invented_ga_they_predict(tmp_path, tabular_cohort, capsys):
    from benchmark.execution import runner

    root = _dataset(tmp_path / "pt", with_spacing_and_ga=True)
    report = validate_dataset(root)
    assert report.ok, report.format()
    run = runner.run(
        runner.RunConfig(
            dataset=str(tabular_cohort), methods=["dummy-mean"], runs_dir=str(tmp_path / "runs")
        )
    )
    out = tmp_path / "pred.csv"
    assert cli.main(["predict", "--model", str(run.run_dir), str(root), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert len(table) == 20 and table["ga_pred_weeks"].notna().all()
    assert table["pixel_spacing_mm"].between(0.05, 0.26).all()
