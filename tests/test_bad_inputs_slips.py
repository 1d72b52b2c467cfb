"""Issue 26: the inputs that slipped through validate, predict and run (cases 1-8), each a
real cohort on disk built as a new user's would be."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from test_validate_gaps import write_cohort

from benchmark.contract.errors import InputError
from benchmark.data.splits import make_splits
from benchmark.data.validate import validate_dataset


def _codes(report, level: str) -> list[str]:
    return [p.code for p in report.problems if p.level == level]


def _look_alike(root: Path, copy_of: str, under: str) -> None:
    """``under``'s image becomes a re-encoded copy of ``copy_of``'s (md5 differs)."""
    pixels = np.asarray(Image.open(root / "images" / f"{copy_of}.png"))
    Image.fromarray(pixels).save(root / "images" / f"{under}.jpg", quality=85)
    images = pd.read_csv(root / "images.csv")
    images.loc[images["patient_id"] == under, "image_path"] = f"images/{under}.jpg"
    images.to_csv(root / "images.csv", index=False)


def _run(root: Path, runs: Path, *extra: str) -> tuple[int, Path]:
    from benchmark import cli

    code = cli.main(
        ["run", "--dataset", str(root), "--methods", "dummy-mean", "--runs-dir", str(runs)]
        + ["--n-jobs", "1", *extra]
    )
    return code, next(runs.iterdir())


# -- case 6: a look-alike cluster stays on one side of the split, like a patient ---------------
def test_paper_split_keeps_a_look_alike_cluster_on_its_first_members_side(tmp_path, monkeypatch):
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    root = write_cohort(tmp_path / "c", n=8)  # paper split: P00-P03 train, P04-P07 test
    _look_alike(root, "P01", under="P06")
    report = validate_dataset(root)
    assert report.linked_patients == [("P01", "P06")]
    code, run_dir = _run(root, tmp_path / "runs")
    assert code == 0
    tested = set(pd.read_csv(run_dir / "predictions.csv")["patient_id"])
    assert "P01" not in tested and "P06" not in tested  # P06 follows P01 into training
    assert tested == {"P04", "P05", "P07"}


def test_kfold_puts_a_look_alike_cluster_in_one_fold():
    patients = pd.DataFrame(
        {"ga_weeks": np.linspace(24, 40, 20), "enrolment_order": range(20)},
        index=pd.Index([f"P{i:02d}" for i in range(20)], name="patient_id"),
    )
    plain = make_splits(patients, "kfold:5", seeds=[0])
    apart = next(
        (a, b)
        for a in patients.index
        for b in patients.index
        if a < b and not {a, b} <= set(next(s for s in plain if a in s.test_ids).test_ids)
    )
    grouped = make_splits(patients, "kfold:5", seeds=[0], linked=[apart])
    for split in grouped:
        assert set(apart) <= set(split.test_ids) or not set(apart) & set(split.test_ids)
    assert sorted(p for s in grouped for p in s.test_ids) == sorted(patients.index)
    unchanged = make_splits(patients, "kfold:5", seeds=[0], linked=[])
    assert [s.test_ids for s in unchanged] == [s.test_ids for s in plain]


def test_site_split_refuses_a_cluster_spanning_two_sites():
    patients = pd.DataFrame(
        {"ga_weeks": [25.0, 30, 35, 38], "enrolment_order": [1, 2, 3, 4], "site": list("AABB")},
        index=pd.Index(["P0", "P1", "P2", "P3"], name="patient_id"),
    )
    with pytest.raises(InputError, match=r"P0 \(site A\), P3 \(site B\)"):
        make_splits(patients, "site", linked=[("P0", "P3")])
    assert len(make_splits(patients, "site", linked=[("P0", "P1")])) == 2


# -- case 5: a lung mask too small for one patch is a warning naming the methods ---------------
def _mask(root: Path, pid: str, box: tuple[slice, slice]) -> None:
    mask = np.zeros((120, 160), np.uint8)
    mask[box] = 255
    (root / "masks").mkdir(exist_ok=True)
    Image.fromarray(mask).save(root / "masks" / f"{pid}.png")
    images = pd.read_csv(root / "images.csv")
    images.loc[images["patient_id"] == pid, "lung_mask_path"] = f"masks/{pid}.png"
    images.to_csv(root / "images.csv", index=False)


def test_a_five_pixel_mask_in_a_corner_warns_naming_the_methods_that_fall_back(tmp_path):
    root = write_cohort(tmp_path / "c")  # 0.25 mm/pixel: a 5x5 mask is 1.25 mm across
    _mask(root, "P02", (slice(0, 5), slice(0, 5)))
    _mask(root, "P03", (slice(10, 110), slice(10, 150)))  # 25 x 35 mm: room for 8 mm patches
    report = validate_dataset(root)
    (problem,) = [p for p in report.warnings if p.code == "mask-small"]
    assert report.ok and problem.where == "images.csv row 4 (image_id=P02_0)"
    assert "masks/P02.png is 1.2 mm across" in problem.what
    assert "glcm-*" in problem.what and "unet-*" in problem.what and "8 mm" in problem.what
    assert "dummy-mean" not in problem.what and "fallback estimate" in problem.what


def test_declared_lung_square_is_the_default_parameters_patch():
    """``min_lung_mm`` is declared, not probed: it must equal what the defaults sample."""
    from benchmark.contract.registry import create_method, get_method_class, list_methods

    for name in list_methods():
        cls = get_method_class(name)
        method = create_method(name)
        if hasattr(method, "resolved_profile"):  # the nets: the default profile's side
            assert cls.min_lung_mm == method.resolved_profile().size_mm, name
        elif "patch_mm" in cls.parameters:
            assert cls.min_lung_mm == cls.parameters["patch_mm"][0], name
        else:
            assert cls.min_lung_mm is None, name


# -- case 8: one skip count everywhere, a long message once, an out-of-range estimate flagged --
def test_one_skip_count_and_a_long_message_printed_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    root = write_cohort(tmp_path / "c", n=20)
    copy = (root / "images" / "P00.png").read_bytes()
    for i in range(1, 15):  # one frame filed under 15 patients: a ~500-character message
        (root / "images" / f"P{i:02d}.png").write_bytes(copy)
    patients = pd.read_csv(root / "patients.csv")
    patients.loc[15, "ga_weeks"] = None
    patients.to_csv(root / "patients.csv", index=False)
    code, run_dir = _run(root, tmp_path / "runs", "--skip-invalid")
    assert code == 0
    out = capsys.readouterr().out
    listed = pd.read_csv(run_dir / "skipped_inputs.csv")
    counts = json.loads((run_dir / "run.json").read_text())["skipped_counts"]
    said = {"images": listed["image_id"].nunique(), "patients": listed["patient_id"].nunique()}
    assert counts["images"] == said["images"] == 16 and counts["patients"] == said["patients"]
    summary = f"16 image(s) of {said['patients']} patient(s) left out by --skip-invalid"
    assert out.count(summary) == 2, out  # the dataset line and the closing line agree
    assert "row(s) left out" not in out
    assert out.count("the same image file content") == 1
    assert max(len(line) for line in out.splitlines() if "skipped" in line) < 300
    full = listed.loc[listed["code"] == "duplicate-image", "reason"].iloc[0]
    assert all(f"P{i:02d}_0 (patient P{i:02d})" in full for i in range(15))


def test_an_estimate_below_the_ga_range_is_flagged_not_clipped(tmp_path, monkeypatch, capsys):
    from _engine_helpers import fault_plugins

    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    root = write_cohort(tmp_path / "c", n=8)  # training patients P00-P03: mean GA 25.5
    from benchmark import cli

    with fault_plugins():
        code = cli.main(
            ["run", "--dataset", str(root), "--methods", "fault-count[k=-600]"]
            + ["--runs-dir", str(tmp_path / "runs"), "--n-jobs", "1"]
        )
    assert code == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    predictions = pd.read_csv(run_dir / "predictions.csv")
    assert predictions["ga_pred"].round(2).eq(19.5).all()  # kept as estimated
    assert predictions["ga_flag"].eq("below 20 wk").all()
    out = capsys.readouterr().out
    assert "estimate(s) outside the accepted GA range 20-44 wk" in out and "not clipped" in out
