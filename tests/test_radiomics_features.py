"""pyradiomics on the lung ROI: parameters, quiet logging, per-image failures reported."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from _texture_helpers import lung_mask, texture_image, write_texture_cohort

from benchmark.data.cohort import Cohort, ImageRecord
from benchmark.kits.texture.extract import FeatureError, extract_view
from benchmark.kits.texture.radiomics_roi import PARAMS_FILE, RadiomicsExtractor, load_params


def _record(mask, spacing: float = 0.25, ga: float = 30.0) -> ImageRecord:
    pixels = texture_image(ga, np.random.default_rng(0))
    return ImageRecord("img", "pat", pixels, mask, spacing)


def test_parameter_file_is_documented_and_overridable():
    text = PARAMS_FILE.read_text()
    for key in ("binWidth", "resampledPixelSpacing", "normalize", "force2D"):
        assert key in text
    params = load_params()
    assert params["setting"]["force2D"] is True
    assert set(params["featureClass"]) == {"firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"}
    over = load_params(bin_width=5, spacing_mm=1.0)
    assert over["setting"]["binWidth"] == 5.0
    assert over["setting"]["resampledPixelSpacing"] == [1.0, 1.0, 0]
    assert load_params()["setting"]["binWidth"] != 5.0  # overrides never leak into the file's


def test_whole_lung_roi_gives_every_feature_class():
    names, values, n = RadiomicsExtractor()(_record(lung_mask()))
    assert n == 1 and len(names) == len(values) > 80
    classes = {name.split("_")[0] for name in names}
    assert classes == {"firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"}
    assert np.isfinite(values).all()


def test_resampling_makes_features_spacing_aware():
    # same pixels, twice the pixel size → different physical texture scale
    a = dict(zip(*RadiomicsExtractor()(_record(lung_mask(), 0.25))[:2], strict=True))
    b = dict(zip(*RadiomicsExtractor()(_record(lung_mask(), 0.5))[:2], strict=True))
    assert a["glcm_Contrast"] != pytest.approx(b["glcm_Contrast"], rel=0.05)


@pytest.mark.parametrize(
    ("mask", "reason"),
    [
        (None, "no traced lung mask"),
        (np.zeros((96, 96), bool), "empty lung mask"),
        (np.pad(np.ones((2, 2), bool), 47), "pyradiomics"),  # 4 px: refused by pyradiomics
    ],
)
def test_unusable_roi_is_a_feature_error(mask, reason):
    with pytest.raises(FeatureError, match=reason):
        RadiomicsExtractor()(_record(mask))


def test_pyradiomics_prints_nothing(capfd, caplog):
    ex = RadiomicsExtractor()
    ex.setup()
    with caplog.at_level(logging.DEBUG):
        ex(_record(lung_mask()))
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert not [
        r for r in caplog.records if r.name.startswith("radiomics") and r.levelno < logging.WARNING
    ]


def test_corrupt_and_empty_rois_are_reported_and_skipped_for_that_image_only(tmp_path):
    size = 96
    bad = {
        "T001_0": np.zeros((size, size), bool),  # empty mask
        "T002_0": np.pad(np.ones((2, 2), bool), (size - 2) // 2),
    }  # 4-pixel ROI
    root = write_texture_cohort(tmp_path / "c", n=6, bad_masks=bad)
    cohort = Cohort.load(root)
    view = cohort.train_view(cohort.patients.index)
    table = extract_view(view, RadiomicsExtractor(), n_jobs=1, cache_dir=tmp_path / "cache")
    assert set(table.failures) == {"T001_0", "T002_0"}
    assert "empty lung mask" in table.failures["T001_0"]
    assert "pyradiomics" in table.failures["T002_0"]
    good = table.features.drop(index=list(bad))
    assert len(good) == 4 and np.isfinite(good.to_numpy()).all()
    assert table.features.loc[list(bad)].isna().all().all()
    # the failures are cached too: a second call computes nothing and reports the same
    again = extract_view(view, RadiomicsExtractor(), n_jobs=1, cache_dir=tmp_path / "cache")
    assert again.n_computed == 0 and again.failures == table.failures
