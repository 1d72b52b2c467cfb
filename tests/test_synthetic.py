"""The synthetic generator: on-disk format, caching, determinism, anatomy and truth."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cohorts import generator_module as _private
from PIL import Image

from benchmark.data.sources import list_datasets, resolve_dataset

SMALL = {"patients": 12, "images_per_patient": 2, "size": 256, "progress": False}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return _private("synthetic").synthetic(tmp_path_factory.mktemp("syn"), seed=3, **SMALL)


def test_folder_has_the_documented_format(small: Path) -> None:
    patients = pd.read_csv(small / "patients.csv")
    images = pd.read_csv(small / "images.csv")
    assert {
        "patient_id",
        "ga_weeks",
        "enrolment_order",
        "bpd_mm",
        "hc_mm",
        "ac_mm",
        "fl_mm",
        "maternal_age",
        "parity",
        "delivery_ga_weeks",
        "apgar",
        "truth_maturity",
    } <= set(patients.columns)
    assert not [c for c in patients.columns if c.startswith("_")]
    assert {
        "image_id",
        "patient_id",
        "image_path",
        "pixel_spacing_mm",
        "lung_mask_path",
        "truth_maturity",
    } <= set(images.columns)
    assert len(patients) == 12 and len(images) == 24
    assert patients["patient_id"].str.fullmatch(r"S\d{4}").all()
    assert set(images["patient_id"]) == set(patients["patient_id"])
    assert set(patients["parity"]) <= {"primiparous", "multiparous"}
    for row in images.itertuples():
        img = np.asarray(Image.open(small / row.image_path))
        mask = np.asarray(Image.open(small / row.lung_mask_path))
        assert img.dtype == np.uint8 and img.shape == (256, 256)
        assert mask.shape == img.shape and set(np.unique(mask)) <= {0, 255}
        assert (mask > 0).mean() > 0.02, row.image_id  # some lung is visible and traced
        # field of view of a zoomed fetal thorax: a few cm to ~20 cm
        assert 40 < row.pixel_spacing_mm * 256 < 220
    assert (small / "dataset.json").is_file()


def test_second_call_reuses_the_cache(small: Path) -> None:
    stamp = (small / "images.csv").stat().st_mtime_ns
    again = _private("synthetic").synthetic(small.parent, seed=3, **SMALL)
    assert again == small and (small / "images.csv").stat().st_mtime_ns == stamp
    assert not [p for p in small.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_registered_and_resolvable(tmp_path, monkeypatch) -> None:
    names = list_datasets()
    assert "synthetic" in names and "synthetic-null" in names
    monkeypatch.setenv("FLB_CACHE", str(tmp_path))
    path = resolve_dataset(
        "synthetic-null", patients=3, images_per_patient=1, size=128, progress=False
    )
    assert (path / "dataset.json").is_file() and "synthetic-null" in path.name


def test_unknown_option_is_refused(tmp_path) -> None:
    with pytest.raises(TypeError, match="colour"):
        _private("synthetic").synthetic(tmp_path, colour="red")


def test_same_seed_is_byte_identical_and_seeds_differ(small: Path, tmp_path) -> None:
    syn = _private("synthetic").synthetic
    twin = syn(tmp_path / "a", seed=3, n_jobs=1, **SMALL)
    files = sorted(
        p.relative_to(small) for p in small.rglob("*") if p.is_file() and not p.name.startswith(".")
    )
    assert files == sorted(
        p.relative_to(twin) for p in twin.rglob("*") if p.is_file() and not p.name.startswith(".")
    )
    for f in files:
        assert filecmp.cmp(small / f, twin / f, shallow=False), f
    other = syn(tmp_path / "b", seed=4, **SMALL)
    assert (other / "patients.csv").read_bytes() != (small / "patients.csv").read_bytes()
    assert not filecmp.cmp(
        other / "images" / "S0001_01.png", small / "images" / "S0001_01.png", shallow=False
    )


def test_group_design_and_paper_split() -> None:
    cohort = _private("_synth_cohort")
    assert cohort.group_counts(316) == [90, 123, 103]
    assert sum(cohort.group_counts(50)) == 50
    df = cohort.make_cohort(316, seed=0, null=False)
    groups = pd.cut(df["ga_weeks"], [0, 30, 36, 99])  # right-closed, as in the paper
    assert groups.value_counts().sort_index().tolist() == [90, 123, 103]
    assert df["ga_weeks"].between(24, 40.5).all()
    assert (df["enrolment_order"] == np.arange(1, 317)).all()
    first = groups.iloc[:166].value_counts().sort_index().to_numpy()
    # each half holds every group, close to its share (stratified enrolment)
    assert np.all(np.abs(first - np.array([90, 123, 103]) * 166 / 316) <= 3)
    assert (df["delivery_ga_weeks"] >= df["ga_weeks"]).all()
    assert df["maternal_age"].between(25, 38).all()
    assert abs(df["maternal_age"].mean() - 32.62) < 4 * 3.39 / np.sqrt(316)
    assert abs((df["parity"] == "multiparous").mean() - 73 / 316) < 4 * 0.42 / np.sqrt(316)
    assert set(df["apgar"]) <= {9.0, 10.0}


def test_biometry_matches_intergrowth_standards() -> None:
    cohort = _private("_synth_cohort")
    # INTERGROWTH-21st (Papageorghiou 2014) at 32 weeks, worked by hand from its formulas
    for measure, (mu, sd) in {
        "hc": (294.4, 9.6),
        "bpd": (83.8, 3.2),
        "ac": (273.9, 13.6),
        "fl": (59.4, 2.4),
    }.items():
        m, s = cohort.intergrowth_mean_sd(measure, np.array([32.0]))
        assert abs(m[0] - mu) < 0.15 and abs(s[0] - sd) < 0.15, measure
    n = 4000
    df = cohort.make_cohort(n, seed=1, null=False)
    z = {}
    for measure in ("bpd", "hc", "ac", "fl"):
        m, s = cohort.intergrowth_mean_sd(measure, df["ga_weeks"].to_numpy())
        z[measure] = (df[f"{measure}_mm"].to_numpy() - m) / s
        assert abs(z[measure].mean()) < 4 / np.sqrt(n), measure
        assert abs(z[measure].std() - 1) < 0.06, measure
    r = np.corrcoef(z["hc"], z["fl"])[0, 1]  # the shared per-fetus size factor
    assert abs(r - cohort.SIZE_SHARED_VARIANCE) < 0.08


def test_maturity_follows_ga_and_null_breaks_it() -> None:
    cohort = _private("_synth_cohort")
    n = 3000
    real = cohort.make_cohort(n, seed=2, null=False)
    null = cohort.make_cohort(n, seed=2, null=True)
    assert np.corrcoef(real["truth_maturity"], real["ga_weeks"])[0, 1] > 0.9
    bound = 4 / np.sqrt(n)
    for col in ("truth_maturity", "_image_ga", "_size_z"):
        assert abs(np.corrcoef(null[col], null["ga_weeks"])[0, 1]) < bound, col
    # the tabular side is identical: only the image-side latents change
    cols = ["patient_id", "ga_weeks", "hc_mm", "maternal_age", "enrolment_order"]
    pd.testing.assert_frame_equal(real[cols], null[cols])


def test_null_images_do_not_read_ga() -> None:
    """A null frame is a function of the image-side latents only: changing the patient's
    GA (and biometry) leaves pixels, mask and spacing unchanged."""
    gen = _private("_synth_generate")
    row = _private("_synth_cohort").make_cohort(4, seed=5, null=True).iloc[2]
    a, _ = gen.frame(row, 0, 5, 128)
    changed = row.copy()
    changed[["ga_weeks", "hc_mm", "bpd_mm", "ac_mm", "fl_mm"]] = [25.0, 1, 1, 1, 1]
    b, _ = gen.frame(changed, 0, 5, 128)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert a.spacing_mm == b.spacing_mm


def test_mask_is_the_unshadowed_lung() -> None:
    gen = _private("_synth_generate")
    anat = _private("_synth_anatomy")
    row = _private("_synth_cohort").make_cohort(6, seed=0, null=False).iloc[1]
    fr, _ = gen.frame(row, 0, 0, 256, keep_labels=True)
    lung = fr.labels == anat.LUNG
    assert fr.mask.sum() > 0.5 * lung.sum() and not (fr.mask & ~lung).any()


def test_mask_aligns_with_the_lung_in_the_pixels(monkeypatch) -> None:
    """Brighten only the lung by 12 dB: the pixels that change a lot must be where the
    mask is (side-lobe haze lets the surroundings brighten a little, hence a threshold)."""
    gen = _private("_synth_generate")
    row = _private("_synth_cohort").make_cohort(6, seed=0, null=False).iloc[4]
    base, _ = gen.frame(row, 0, 0, 256)
    original = gen.lung_texture

    def brighter(*args, **kw):
        t = original(*args, **kw)
        t.echo_db += 12.0
        return t

    monkeypatch.setattr(gen, "lung_texture", brighter)
    bright, _ = gen.frame(row, 0, 0, 256)
    changed = bright.image.astype(int) - base.image.astype(int) > 20
    assert changed[base.mask].mean() > 0.8  # the traced lung got brighter ...
    from scipy import ndimage

    near_mask = ndimage.binary_dilation(base.mask, iterations=4)
    # ... and what got brighter is traced lung, or lung the tracer avoided (shadows)
    assert changed[near_mask].sum() > 0.6 * changed.sum()


def test_known_size_structure_measures_right_in_mm() -> None:
    """A 20 mm anechoic cyst in uniform tissue, imaged through the whole chain (beam
    grid, PSF, scan conversion), measures 20 mm with the stored pixel spacing."""
    scanner = _private("_synth_scanner")
    anat = _private("_synth_anatomy")
    rng = np.random.default_rng(0)
    acq = scanner.draw_acquisition(rng)
    acq.wall_mm, acq.gain_db = 2.0, 0.0
    cx, cy, radius = 6.0, 60.0, 10.0

    def phantom(x, y):
        lab = np.full(x.shape, anat.SOFT, np.uint8)
        lab[(x - cx) ** 2 + (y - cy) ** 2 <= radius**2] = anat.FLUID
        return lab

    size, spacing = 384, 0.21
    x0, y0 = cx - size * spacing / 2, cy - size * spacing / 2
    fr = scanner.render(
        phantom,
        scanner.LungTexture(0, 10, 1, 0.3),
        acq,
        x0=x0,
        y0=y0,
        size=size,
        spacing=spacing,
        focus_mm=cy,
        rng=rng,
    )
    from scipy import ndimage

    smooth = ndimage.gaussian_filter(fr.image.astype(float), 3)
    dark, _ = ndimage.label(smooth < 0.75 * np.median(smooth))
    blob = dark == dark[size // 2, size // 2]
    assert blob[size // 2, size // 2]
    diameter = 2 * np.sqrt(blob.sum() / np.pi) * fr.spacing_mm
    assert abs(diameter - 2 * radius) < 1.0
    yy, xx = np.nonzero(blob)
    assert abs((xx.mean() + 0.5) * spacing + x0 - cx) < 0.5
    assert abs((yy.mean() + 0.5) * spacing + y0 - cy) < 0.5
