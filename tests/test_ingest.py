"""Manifest layouts and lung-contour formats all load into the same cohort."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark.data.cohort import Cohort
from benchmark.data.ingest.manifest import read_manifest
from benchmark.data.ingest.polygons import read_polygon_mask
from benchmark.data.ingest.template import write_template
from benchmark.data.io import InputError
from benchmark.data.validate import validate_dataset

SHAPE = (120, 160)
SQUARE = [[40, 30], [80, 30], [80, 70], [40, 70]]  # x, y


@pytest.fixture
def template(tmp_path) -> Path:
    return write_template(tmp_path / "t")


def _single_manifest(template: Path) -> pd.DataFrame:
    patients = pd.read_csv(template / "patients.csv", dtype={"patient_id": str})
    images = pd.read_csv(template / "images.csv", dtype={"patient_id": str})
    images = images.drop(columns="ga_weeks")
    (template / "patients.csv").unlink()
    (template / "images.csv").unlink()
    return images.merge(patients, on="patient_id")


def _same_cohort(a: Cohort, b: Cohort) -> None:
    pd.testing.assert_series_equal(
        a.patients["ga_weeks"], b.patients["ga_weeks"], check_dtype=False
    )
    assert list(a.images.index) == list(b.images.index)
    for image_id in a.images.index:
        ra, rb = a.load_image(image_id), b.load_image(image_id)
        np.testing.assert_array_equal(ra.pixels, rb.pixels)
        np.testing.assert_array_equal(ra.mask, rb.mask)


def test_parquet_xlsx_and_single_manifest_match_csv(template, tmp_path):
    reference = Cohort.load(template)
    patients = pd.read_csv(template / "patients.csv", dtype={"patient_id": str})
    images = pd.read_csv(template / "images.csv", dtype={"patient_id": str})
    variants = {}
    for name in ("parquet", "xlsx", "single-csv", "single-parquet"):
        variants[name] = write_template(tmp_path / name)
    for stem, frame in (("patients", patients), ("images", images)):
        frame.to_parquet(variants["parquet"] / f"{stem}.parquet")
        (variants["parquet"] / f"{stem}.csv").unlink()
    with pd.ExcelWriter(variants["xlsx"] / "manifest.xlsx") as writer:
        patients.to_excel(writer, sheet_name="patients", index=False)
        images.to_excel(writer, sheet_name="images", index=False)
    for stem in ("patients", "images"):
        (variants["xlsx"] / f"{stem}.csv").unlink()
    _single_manifest(variants["single-csv"]).to_csv(
        variants["single-csv"] / "manifest.csv", index=False
    )
    _single_manifest(variants["single-parquet"]).to_parquet(
        variants["single-parquet"] / "manifest.parquet"
    )
    layouts = {name: read_manifest(root).layout for name, root in variants.items()}
    assert layouts == {
        "parquet": "patients.parquet + images.parquet",
        "xlsx": "manifest.xlsx (sheets patients, images)",
        "single-csv": "manifest.csv (one row per image)",
        "single-parquet": "manifest.parquet (one row per image)",
    }
    for root in variants.values():
        assert validate_dataset(root).ok
        _same_cohort(reference, Cohort.load(root))


def test_single_manifest_conflicting_ga_names_rows(template):
    frame = _single_manifest(template)
    extra = frame.iloc[[0]].assign(image_id="EXAMPLE01_b", ga_weeks=29.0)
    pd.concat([frame, extra]).to_csv(template / "manifest.csv", index=False)
    report = validate_dataset(template)
    (problem,) = [p for p in report.errors if p.code == "ga-conflict"]
    assert problem.where == "manifest.csv rows 2, 4 (patient_id=EXAMPLE01)"


def test_spreadsheet_column_names_are_matched_loosely(template):
    frame = pd.read_csv(template / "patients.csv")
    frame.rename(columns={"ga_weeks": "GA_Weeks", "patient_id": " Patient ID"}).to_csv(
        template / "patients.csv", index=False
    )
    assert Cohort.load(template).patients["ga_weeks"].tolist() == [28.4, 33.1]


def _labelme(path: Path, shapes: list[dict], shape=SHAPE) -> Path:
    path.write_text(json.dumps({"shapes": shapes, "imageHeight": shape[0], "imageWidth": shape[1]}))
    return path


def test_labelme_polygons_rectangles_and_label_choice(tmp_path):
    path = _labelme(
        tmp_path / "a.json",
        [
            {"label": "Lung_L", "points": SQUARE, "shape_type": "polygon"},
            {
                "label": "heart",
                "points": [[100, 80], [140, 80], [140, 110]],
                "shape_type": "polygon",
            },
            {"label": "right lung", "points": [[100, 10], [120, 20]], "shape_type": "rectangle"},
        ],
    )
    mask = read_polygon_mask(path, SHAPE)
    assert mask[50, 60] and mask[15, 110] and not mask[95, 130]
    assert 40 * 40 <= mask.sum() <= 41 * 41 + 21 * 11
    only = read_polygon_mask(path, SHAPE, label="heart")
    assert only[95, 135] and not only[50, 60]
    with pytest.raises(InputError, match="labels found"):
        read_polygon_mask(path, SHAPE, label="liver")


def test_coco_polygons_by_file_name(tmp_path):
    coco = {
        "images": [
            {"id": 7, "file_name": "other.png", "width": 160, "height": 120},
            {"id": 9, "file_name": "scans/x.png", "width": 160, "height": 120},
        ],
        "categories": [{"id": 1, "name": "lung"}, {"id": 2, "name": "heart"}],
        "annotations": [
            {"image_id": 9, "category_id": 1, "segmentation": [sum(SQUARE, [])], "iscrowd": 0},
            {"image_id": 9, "category_id": 2, "segmentation": [[0, 0, 10, 0, 10, 10]]},
            {"image_id": 7, "category_id": 1, "segmentation": [[0, 0, 159, 0, 159, 119]]},
        ],
    }
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(coco))
    mask = read_polygon_mask(path, SHAPE, image_name="x.png")
    assert mask[50, 60] and not mask[5, 3] and not mask[5, 150]
    with pytest.raises(InputError, match="no COCO image"):
        read_polygon_mask(path, SHAPE, image_name="missing.png")


def test_cvat_xml(tmp_path):
    path = tmp_path / "cvat.xml"
    path.write_text(
        '<annotations><image id="0" name="x.png" width="160" height="120">'
        '<polygon label="lung" points="40,30;80,30;80,70;40,70"/>'
        '<box label="lung" xtl="100" ytl="10" xbr="120" ybr="20"/>'
        '<polygon label="heart" points="0,0;10,0;10,10"/></image></annotations>'
    )
    mask = read_polygon_mask(path, SHAPE, image_name="x.png")
    assert mask[50, 60] and mask[15, 110] and not mask[5, 3]


def test_label_map_and_separate_left_right_masks(template):
    labels = np.zeros(SHAPE, np.uint8)
    labels[30:70, 20:60] = 3  # left lung
    labels[30:70, 100:140] = 4  # heart? no: something else
    Image.fromarray(labels).save(template / "masks" / "labels.png")
    left, right = np.zeros(SHAPE, np.uint8), np.zeros(SHAPE, np.uint8)
    left[10:20, 10:20] = 1
    right[10:20, 100:110] = 1
    Image.fromarray(left).save(template / "masks" / "left.png")
    Image.fromarray(right).save(template / "masks" / "right.png")
    images = pd.read_csv(template / "images.csv", dtype=str)
    images.loc[0, ["lung_mask_path", "lung_mask_label"]] = ["masks/labels.png", "3"]
    images.loc[1, ["lung_mask_path", "left_lung_mask_path", "right_lung_mask_path"]] = [
        None,
        "masks/left.png",
        "masks/right.png",
    ]
    images.to_csv(template / "images.csv", index=False)
    cohort = Cohort.load(template)
    assert cohort.load_image("EXAMPLE01_a").mask.sum() == 40 * 40
    both = cohort.load_image("EXAMPLE02_a").mask
    assert both.sum() == 200 and both[15, 15] and both[15, 105]


def test_dataset_crop_applies_to_image_and_mask(template):
    (template / "dataset.json").write_text(json.dumps({"name": "t", "crop": [20, 10, 150, 110]}))
    images = pd.read_csv(template / "images.csv", dtype=str)
    images[["crop_x0", "crop_y0", "crop_x1", "crop_y1"]] = None  # the per-image box wins
    images.to_csv(template / "images.csv", index=False)
    full = np.asarray(Image.open(template / "images" / "EXAMPLE01.png"))
    full_mask = np.asarray(Image.open(template / "masks" / "EXAMPLE01.png")) > 0
    record = Cohort.load(template).load_image("EXAMPLE01_a")
    np.testing.assert_array_equal(record.pixels, full[10:110, 20:150])
    np.testing.assert_array_equal(record.mask, full_mask[10:110, 20:150])


def test_nifti_image_and_mask(template):
    nib = pytest.importorskip("nibabel")
    pixels = np.asarray(Image.open(template / "images" / "EXAMPLE01.png"))
    mask = np.asarray(Image.open(template / "masks" / "EXAMPLE01.png")) > 0
    affine = np.diag([0.25, 0.25, 1.0, 1.0])
    image = nib.Nifti1Image(pixels.T[..., None].copy(), affine)
    nib.save(image, template / "images" / "a.nii.gz")
    nib.save(nib.Nifti1Image(mask.T.astype(np.uint8).copy(), affine), template / "masks" / "a.nii")
    images = pd.read_csv(template / "images.csv", dtype=str)
    images.loc[0, ["image_path", "lung_mask_path", "pixel_spacing_mm"]] = [
        "images/a.nii.gz",
        "masks/a.nii",
        None,
    ]
    images.to_csv(template / "images.csv", index=False)
    # pixdim without a unit is not trusted as millimetres
    assert [p.code for p in validate_dataset(template).errors] == ["spacing-missing"]
    image.header.set_xyzt_units("mm")
    nib.save(image, template / "images" / "a.nii.gz")
    assert validate_dataset(template).ok
    record = Cohort.load(template).load_image("EXAMPLE01_a")
    np.testing.assert_array_equal(record.pixels, pixels)
    np.testing.assert_array_equal(record.mask, mask)
    assert record.spacing_mm == pytest.approx(0.25)


def test_init_dataset_cli_writes_a_valid_template(tmp_path, capsys):
    from benchmark import cli

    assert cli.main(["init-dataset", str(tmp_path / "new")]) == 0
    assert {p.name for p in (tmp_path / "new").iterdir()} == {
        "README.md",
        "dataset.json",
        "patients.csv",
        "images.csv",
        "images",
        "masks",
    }
    assert cli.main(["validate", str(tmp_path / "new")]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().out
    assert cli.main(["init-dataset", str(tmp_path / "new")]) == 2  # refuses to overwrite
