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
        try:
            cls = get_method_class(name)
        except LookupError:
            continue  # a broken plugin another test registered
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


# -- case 7: an empty lung map is named in the cell's provenance and the overlay figure -------
BLIND = """
import numpy as np
import pandas as pd

from benchmark import BaseMethod, register_method


@register_method
class BlindSegmenter(BaseMethod):
    name = "test-blind-segmenter"
    summary = "training mean; a lung map with no pixel above 0.5 (a net that learnt nothing)"
    segments = True

    def fit(self, train):
        self.mean_ = float(train.patients["ga_weeks"].mean())
        return self

    def predict(self, test):
        return pd.Series(self.mean_, index=test.images.index, dtype=float)

    def segment(self, record):
        return np.full(record.pixels.shape, 0.2, np.float32)
"""


@pytest.fixture
def blind_plugin(tmp_path, monkeypatch):
    import sys

    from benchmark.contract import registry

    registry.discover()
    before = set(registry._METHODS)
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "blind.py").write_text(BLIND)
    monkeypatch.setenv("FLB_METHODS_PATH", str(folder))
    registry.discover(force=True)
    yield
    for name in set(registry._METHODS) - before:
        del registry._METHODS[name]
    for name in [m for m in sys.modules if m.endswith("methods.blind")]:
        del sys.modules[name]


def test_an_empty_lung_map_is_named_in_the_cell_and_the_overlay(
    tmp_path, monkeypatch, capsys, blind_plugin
):
    from benchmark.report.figures import overlay_title

    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    root = write_cohort(tmp_path / "c", n=8)
    for pid in ("P05", "P06"):  # test patients of the paper split, traced
        _mask(root, pid, (slice(10, 110), slice(10, 150)))
    from benchmark import cli

    args = ["run", "--dataset", str(root), "--methods", "test-blind-segmenter"]
    assert cli.main(args + ["--runs-dir", str(tmp_path / "runs"), "--n-jobs", "1"]) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    cells = pd.read_csv(run_dir / "cells.csv")
    assert cells["n_no_lung_found"].tolist() == [2]
    assert "no lung found on 2 traced image(s)" in capsys.readouterr().out
    (dsc,) = run_dir.glob("cells/*/dsc.csv")
    assert not pd.read_csv(dsc)["lung_found"].any()
    assert overlay_title("m", "P05_0", np.full((4, 4), 0.2)).endswith("(no lung found)")
    assert "no lung" not in overlay_title("m", "P05_0", np.full((4, 4), 0.7))


# -- case 1: a manifest as European Excel saves it ---------------------------------------------
def test_semicolon_manifest_with_bom_and_decimal_commas_is_read_and_said(tmp_path):
    from benchmark.data.cohort import Cohort

    root = write_cohort(tmp_path / "c")
    for table in ("patients", "images"):
        frame = pd.read_csv(root / f"{table}.csv", dtype=str)
        text = frame.to_csv(index=False, sep=";").replace("0.25", "0,25")
        (root / f"{table}.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    report = validate_dataset(root)
    (said,) = [p for p in report.warnings if p.code == "manifest-read-as"]
    assert report.ok and said.where == "images.csv"
    assert "decimal commas: pixel_spacing_mm (0,25 as 0.25)" in said.what
    assert Cohort.load(root).images["pixel_spacing_mm"].eq(0.25).all()


# -- cases 2 and 3: predict judges a single image as validate does ------------------------------
@pytest.fixture
def saved_model(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    code, run_dir = _run(write_cohort(tmp_path / "train"), tmp_path / "runs")
    assert code == 0
    return run_dir


@pytest.mark.parametrize(
    "shape, spacing, says",
    [
        ((430, 500), "2.5", "makes the 500x430 image 1250 mm across"),  # true spacing 0.25
        ((1, 1), "0.25", "is 1x1 pixels: too small to be an ultrasound frame"),
    ],
)
def test_predict_refuses_what_validate_refuses(saved_model, tmp_path, capsys, shape, spacing, says):
    from benchmark import cli

    scan = tmp_path / "scan.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, shape, np.uint8)).save(scan)
    out = tmp_path / "pred.csv"
    args = ["predict", "--model", str(saved_model), "--spacing", spacing, str(scan)]
    assert cli.main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    (error,) = [line for line in err.splitlines() if line.startswith("ERROR   input 1: ")]
    assert "scan.png" in error and says in error and "Traceback" not in err
    assert not out.exists()


def test_validate_says_the_same_for_the_cohort(tmp_path):
    root = write_cohort(tmp_path / "c")
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(root / "images" / "P02.png")
    images = pd.read_csv(root / "images.csv")
    images.loc[3, "pixel_spacing_mm"] = 20.0  # 160 px x 20 mm = 3.2 m across
    images.to_csv(root / "images.csv", index=False)
    report = validate_dataset(root)
    assert {"image-too-small", "spacing-impossible"} <= set(_codes(report, "error"))


# -- case 4: a colour mask needs the lung colour named -----------------------------------------
def test_colour_mask_is_an_error_unless_lung_mask_label_names_the_colour(tmp_path):
    from benchmark.data.cohort import Cohort

    root = write_cohort(tmp_path / "c")
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[10:110, 10:70] = (255, 0, 0)  # the lung
    rgb[10:110, 90:150] = (0, 0, 255)  # the heart
    (root / "masks").mkdir()
    Image.fromarray(rgb).save(root / "masks" / "P02.png")
    images = pd.read_csv(root / "images.csv")
    images.loc[2, "lung_mask_path"] = "masks/P02.png"
    images.to_csv(root / "images.csv", index=False)
    (problem,) = [p for p in validate_dataset(root).errors if p.code == "mask-colour"]
    assert "lung_mask_label" in problem.fix and "masks/P02.png" in problem.what
    images.loc[2, "lung_mask_label"] = "255:0:0"
    images.to_csv(root / "images.csv", index=False)
    assert validate_dataset(root).ok
    assert Cohort.load(root).load_image("P02_0").mask.sum() == 100 * 60
