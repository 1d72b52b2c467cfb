"""DICOM ingestion: spacing from PixelSpacing or the ultrasound region calibration, cine
frames, and no identifying value anywhere in a run folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark.data.cohort import Cohort
from benchmark.data.io import load_image
from benchmark.data.privacy import BASIC_PROFILE_KEYWORDS, find_values, identifying_values
from benchmark.data.validate import validate_dataset

pydicom = pytest.importorskip("pydicom")

PHI = {
    "PatientName": "Doe^Jane Quincy",
    "PatientID": "MRN-4471-0098",
    "PatientBirthDate": "19870412",
    "InstitutionName": "St Exemplar Maternity Hospital",
    "ReferringPhysicianName": "Smithers^Alba",
    "OperatorsName": "Sonographer^Kim",
    "AccessionNumber": "ACC99817263",
    "StationName": "USWARD3-VOL",
    "InstitutionAddress": "12 Fictional Road, Nowhere",
    "StudyDate": "20240229",
    "OtherPatientIDs": "NHS-555-222-1111",
}


def write_dicom(
    path: Path,
    pixels: np.ndarray,
    *,
    region_cm: float | None = 0.01,
    pixel_spacing: tuple[float, float] | None = None,
    phi: bool = True,
    patient_id: str | None = None,
) -> Path:
    """An uncompressed ultrasound DICOM built with pydicom; (F, H, W) pixels = cine loop."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, UltrasoundImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UltrasoundImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = UltrasoundImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "US"
    if phi:
        for keyword, value in PHI.items():
            setattr(ds, keyword, value)
    if patient_id is not None:
        ds.PatientID = patient_id
    frames = pixels if pixels.ndim == 3 else None
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if frames is not None:
        ds.NumberOfFrames = frames.shape[0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()
    if pixel_spacing is not None:
        ds.PixelSpacing = list(pixel_spacing)
    if region_cm is not None:
        region = Dataset()
        region.RegionSpatialFormat = 1
        region.RegionDataType = 1
        region.RegionFlags = 0
        region.RegionLocationMinX0, region.RegionLocationMinY0 = 0, 0
        region.RegionLocationMaxX1 = pixels.shape[-1] - 1
        region.RegionLocationMaxY1 = pixels.shape[-2] - 1
        region.PhysicalUnitsXDirection = 3  # cm
        region.PhysicalUnitsYDirection = 3
        region.PhysicalDeltaX = region_cm
        region.PhysicalDeltaY = region_cm
        doppler = Dataset()  # a spectral strip in seconds / cm/s: must be ignored
        doppler.RegionSpatialFormat = 3
        doppler.PhysicalUnitsXDirection, doppler.PhysicalUnitsYDirection = 4, 7
        doppler.PhysicalDeltaX, doppler.PhysicalDeltaY = 0.002, 0.5
        ds.SequenceOfUltrasoundRegions = [doppler, region]
    ds.save_as(path, enforce_file_format=True)
    return path


def _speckle(seed: int, shape=(96, 128)) -> np.ndarray:
    return np.random.default_rng(seed).gamma(2.0, 40.0, shape).clip(0, 255).astype(np.uint8)


def test_region_calibration_gives_spacing_in_mm(tmp_path):
    path = write_dicom(tmp_path / "a.dcm", _speckle(0), region_cm=0.0125)
    image = load_image(path)
    assert image.spacing_mm == pytest.approx(0.125)
    assert "ultrasound region" in image.spacing_source
    assert image.pixels.dtype == np.uint8 and image.pixels.shape == (96, 128)
    np.testing.assert_array_equal(image.pixels, _speckle(0))


def test_pixel_spacing_wins_over_region(tmp_path):
    path = write_dicom(tmp_path / "a.dcm", _speckle(0), region_cm=0.0125, pixel_spacing=(0.2, 0.2))
    assert load_image(path).spacing_mm == pytest.approx(0.2)


def test_multi_frame_dicom_frame_selection(tmp_path):
    cine = np.stack([np.full((32, 40), 10 * k, np.uint8) for k in range(4)])
    path = write_dicom(tmp_path / "cine.dcm", cine)
    assert int(load_image(path, frame=3).pixels[0, 0]) == 30
    with pytest.raises(ValueError, match="4 frames"):
        load_image(path)


def _dicom_cohort(root: Path, n: int = 8, *, region: bool = True) -> Path:
    """0.3 mm/pixel: the 128-pixel images are 38 mm across, a plausible thorax view."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    mask = np.zeros((96, 128), np.uint8)
    mask[30:70, 20:60] = 255
    Image.fromarray(mask).save(root / "masks" / "lung.png")
    rng = np.random.default_rng(1)
    patients, images = [], []
    for i in range(n):
        pid = f"P{i:03d}"
        write_dicom(root / "images" / f"{pid}.dcm", _speckle(i), region_cm=0.03 if region else None)
        patients.append(
            {
                "patient_id": pid,
                "ga_weeks": round(float(rng.uniform(24, 39)), 1),
                "enrolment_order": i + 1,
            }
        )
        images.append(
            {
                "image_id": f"{pid}_0",
                "patient_id": pid,
                "image_path": f"images/{pid}.dcm",
                "lung_mask_path": "masks/lung.png",
            }
        )
    pd.DataFrame(patients).to_csv(root / "patients.csv", index=False)
    pd.DataFrame(images).to_csv(root / "images.csv", index=False)
    return root


def test_cohort_spacing_from_dicom(tmp_path):
    cohort = Cohort.load(_dicom_cohort(tmp_path / "c", 2))
    assert cohort.images["pixel_spacing_mm"].tolist() == pytest.approx([0.3, 0.3])
    record = cohort.load_image("P000_0")
    assert record.spacing_mm == pytest.approx(0.3) and record.mask.sum() == 40 * 40


def test_dicom_without_calibration_is_an_error(tmp_path):
    root = _dicom_cohort(tmp_path / "c", 2, region=False)
    report = validate_dataset(root)
    errors = [p for p in report.errors if p.code == "dicom-uncalibrated"]
    assert [p.where for p in errors] == [
        "images.csv row 2 (image_id=P000_0)",
        "images.csv row 3 (image_id=P001_0)",
    ]
    assert "images/P000.dcm" in errors[0].what
    with pytest.raises(ValueError, match=r"images.csv row 2 \(image_id=P000_0\)"):
        Cohort.load(root)


def test_patient_id_copied_from_dicom_header_is_refused(tmp_path):
    root = _dicom_cohort(tmp_path / "c", 2)
    write_dicom(root / "images" / "P000.dcm", _speckle(0), patient_id="P000")
    report = validate_dataset(root)
    (problem,) = [p for p in report.errors if p.code == "phi-id"]
    assert problem.where == "images.csv row 2 (image_id=P000_0)"
    assert "PatientID" in problem.what


def test_privacy_keywords_are_dicom_keywords():
    from pydicom.datadict import keyword_dict

    assert {"PatientName", "PatientID", "PatientBirthDate", "InstitutionName"} <= set(
        BASIC_PROFILE_KEYWORDS
    )
    assert [k for k in BASIC_PROFILE_KEYWORDS if k not in keyword_dict] == []
    assert len(BASIC_PROFILE_KEYWORDS) > 200


def test_no_identifying_value_reaches_the_run_folder(tmp_path, monkeypatch, capsys):
    """A run + validate + predict over a DICOM cohort: grep everything for the PHI."""
    from benchmark import cli
    from benchmark.execution import runner

    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    root = _dicom_cohort(tmp_path / "dicom-cohort", 8)
    values = identifying_values(root / "images" / "P000.dcm")
    assert set(PHI) <= set(values)  # the fields really are in the files
    result = runner.run(
        runner.RunConfig(dataset=str(root), methods=["dummy-mean"], runs_dir=str(tmp_path / "runs"))
    )
    assert result.n_failed == 0 and len(result.cells) == 1
    run_dir = result.run_dir
    assert cli.main(["validate", str(root), "--json", str(run_dir / "validation.json")]) == 0
    assert (
        cli.main(
            [
                "predict",
                "--model",
                str(run_dir),
                str(root / "images" / "P001.dcm"),
                "--out",
                str(run_dir / "new_predictions.csv"),
            ]
        )
        == 0
    )
    printed = capsys.readouterr()
    predictions = pd.read_csv(run_dir / "predictions.csv", dtype=str)
    assert set(predictions["patient_id"]) <= {f"P{i:03d}" for i in range(8)}  # manifest ids
    new = pd.read_csv(run_dir / "new_predictions.csv")
    assert new["pixel_spacing_mm"].tolist() == pytest.approx([0.3])
    assert find_values(run_dir, values.values()) == []
    leaked = [v for v in values.values() if v in printed.out + printed.err]
    assert leaked == []
    assert json.loads((run_dir / "validation.json").read_text())["problems"] == []
