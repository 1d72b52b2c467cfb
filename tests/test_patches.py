"""The millimetre patch sampler: labels against masks, physical size, cache, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from _cohorts import write_tabular_cohort

from benchmark.data.cohort import Cohort, ImageRecord
from benchmark.kits.patches import (
    PatchSpec,
    build_patch_set,
    extract_patches,
    field_fraction,
    image_rng,
    sample_patches,
    sliding_centres,
    valid_centres,
)


def _record(mask: np.ndarray, spacing: float = 1.0, pixels: np.ndarray | None = None):
    if pixels is None:
        pixels = np.full(mask.shape, 100, np.uint8)
    return ImageRecord("img", "pat", pixels, mask, spacing)


def _brute_force(mask: np.ndarray, pixels: np.ndarray, w: int) -> tuple[set, set]:
    """Labels by explicit window slicing — the definition the fast path must match."""
    lung, nonlung = set(), set()
    for i in range(mask.shape[0] - w + 1):
        for j in range(mask.shape[1] - w + 1):
            inside = mask[i : i + w, j : j + w].sum()
            field = (pixels[i : i + w, j : j + w] > 0).mean()
            if inside == w * w:
                lung.add((i, j))
            elif inside == 0 and field >= 0.95:
                nonlung.add((i, j))
    return lung, nonlung


def test_labels_match_the_mask_exactly():
    rng = np.random.default_rng(1)
    mask = np.zeros((40, 46), bool)
    mask[8:30, 10:33] = True
    mask[20:26, 28:33] = False  # a notch: windows over it straddle
    pixels = rng.integers(1, 255, mask.shape).astype(np.uint8)
    pixels[:, :4] = 0  # black surround: not imaged field
    spec = PatchSpec(size_mm=7.0, grid=8)  # 7 px window at 1 mm/px
    record = _record(mask, 1.0, pixels)
    w = spec.window_px(1.0)
    assert w == 7
    want_lung, want_non = _brute_force(mask, pixels, w)
    off = (w - 1) / 2
    got_lung = {(int(r - off), int(c - off)) for r, c in valid_centres(record, "lung", spec)}
    got_non = {(int(r - off), int(c - off)) for r, c in valid_centres(record, "nonlung", spec)}
    assert got_lung == want_lung and got_non == want_non
    assert want_lung and want_non
    # a window straddling the boundary is neither
    straddle = (8 - 3, 15)  # top-left 3 rows above the mask's top edge
    assert straddle not in got_lung and straddle not in got_non


def test_sampled_patches_respect_labels():
    mask = np.zeros((160, 160), bool)
    mask[40:120, 40:120] = True
    pixels = np.where(mask, 200, 50).astype(np.uint8)
    spec = PatchSpec(size_mm=16.0, grid=16)
    record = _record(mask, 0.5, pixels)  # 32 px windows
    lung, lc = sample_patches(record, "lung", 20, np.random.default_rng(0), spec)
    non, nc = sample_patches(record, "nonlung", 20, np.random.default_rng(0), spec)
    assert lung.shape == (20, 16, 16) and lung.dtype == np.uint8
    # anti-aliasing may blur a boundary pixel in, never a whole patch
    assert (lung > 125).all() and (non < 125).all()
    assert np.median(lung) == 200 and np.median(non) == 50
    assert len(np.unique(lc, axis=0)) == 20  # distinct centres


def _pattern(spacing: float, extent_mm: float = 60.0) -> np.ndarray:
    """A band-limited texture (periods 3–7 mm) imaged at ``spacing`` mm/px; pixel i's
    centre sits at i·spacing mm."""
    n = int(round(extent_mm / spacing))
    y, x = np.meshgrid(np.arange(n) * spacing, np.arange(n) * spacing, indexing="ij")
    img = (
        128
        + 50 * np.sin(2 * np.pi * x / 7.0) * np.cos(2 * np.pi * y / 5.0)
        + 40 * np.sin(2 * np.pi * (x + 2 * y) / 9.0)
        + 20 * np.cos(2 * np.pi * y / 3.0)
    )
    return np.clip(img, 0, 255).astype(np.uint8)


def test_same_mm_patch_at_two_spacings_has_the_same_content():
    spec = PatchSpec(size_mm=32.0, grid=64)
    centre_mm = np.array([[29.0, 31.0]])
    fine = extract_patches(_pattern(0.1), 0.1, centre_mm / 0.1, spec).astype(float)
    coarse = extract_patches(_pattern(0.2), 0.2, centre_mm / 0.2, spec).astype(float)
    elsewhere = extract_patches(_pattern(0.2), 0.2, (centre_mm + 3.5) / 0.2, spec).astype(float)
    same = np.abs(fine - coarse).mean()
    different = np.abs(fine - elsewhere).mean()
    assert same < 3.0, same  # grey levels: interpolation error only
    assert different > 10 * same


def test_sliding_centres_fit_the_image():
    spec = PatchSpec(size_mm=10.0, grid=8)
    centres = sliding_centres((50, 70), 0.5, 4.0, spec)  # 20 px windows, 8 px stride
    w = spec.window_px(0.5)
    off = (w - 1) / 2
    assert (centres - off >= 0).all()
    assert (centres[:, 0] + off <= 49).all() and (centres[:, 1] + off <= 69).all()
    assert len(np.unique(centres[:, 0])) == 4 and len(np.unique(centres[:, 1])) == 7
    assert len(sliding_centres((10, 10), 0.5, 4.0, spec)) == 0


def test_field_fraction_counts_the_imaged_area():
    spec = PatchSpec(size_mm=10.0, grid=8)  # 10 px windows at 1 mm/px
    pixels = np.full((30, 40), 80, np.uint8)
    pixels[:, :12] = 0  # black surround left of column 12
    centres = sliding_centres(pixels.shape, 1.0, 3.0, spec)
    got = field_fraction(pixels, 1.0, centres, spec)
    off = (spec.window_px(1.0) - 1) / 2
    for (r, c), frac in zip(centres, got):
        i, j = int(r - off), int(c - off)
        assert frac == (pixels[i : i + 10, j : j + 10] > 0).mean()
    assert got.min() == 0 and got.max() == 1


def test_no_mask_or_tiny_lung_gives_no_patches_not_a_crash():
    spec = PatchSpec(size_mm=32.0, grid=16)
    tiny = np.zeros((200, 200), bool)
    tiny[50:60, 50:60] = True
    patches, centres = sample_patches(_record(tiny, 0.2), "lung", 5, image_rng(0, "x"), spec)
    assert patches.shape == (0, 16, 16) and centres.shape == (0, 2)
    no_mask = ImageRecord("a", "p", np.zeros((50, 50), np.uint8), None, 0.2)
    assert len(valid_centres(no_mask, "lung", spec)) == 0


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Cohort:
    return Cohort.load(write_tabular_cohort(tmp_path_factory.mktemp("p") / "c", n=6, size=96))


def test_patch_set_is_cached_deterministic_and_memory_mapped(cohort, tmp_path):
    view = cohort.train_view(cohort.patients.index)
    spec = PatchSpec(size_mm=4.0, grid=12)  # 20 px windows at 0.2 mm/px
    a = build_patch_set(view, spec, 3, 2, seed=7, cache_dir=tmp_path)
    assert isinstance(a.patches, np.memmap) and a.patches.dtype == np.uint8
    assert a.patches.shape == (len(view) * 5, 12, 12)
    assert list(a.index.columns) == ["image_id", "patient_id", "label", "centre_y", "centre_x"]
    assert (a.index.groupby("image_id")["label"].sum() == 3).all()
    assert not a.skipped and not a.short
    b = build_patch_set(view, spec, 3, 2, seed=7, cache_dir=tmp_path)  # from disk
    assert b.path == a.path and np.array_equal(a.patches, b.patches)
    fresh = build_patch_set(view, spec, 3, 2, seed=7, cache_dir=tmp_path / "other")
    assert np.array_equal(a.patches, fresh.patches)  # recomputed: same content
    c = build_patch_set(view, spec, 3, 2, seed=8, cache_dir=tmp_path)
    assert c.path != a.path and not np.array_equal(a.patches, c.patches)
    # an image's patches do not depend on the other images in the view
    first = view.images.index[0]
    solo = build_patch_set(view, spec, 3, 2, seed=7, cache_dir=tmp_path, image_ids=[first])
    assert np.array_equal(solo.patches, a.patches[a.index["image_id"] == first])


def test_images_without_lung_patches_are_reported(cohort, tmp_path):
    view = cohort.train_view(cohort.patients.index[:2])
    spec = PatchSpec(size_mm=12.0, grid=8)  # 60 px: larger than the 48 px lung square
    with pytest.warns(UserWarning, match="no patch"):
        out = build_patch_set(view, spec, 4, 0, seed=0, cache_dir=tmp_path)
    assert len(out) == 0 and out.patches.shape == (0, 8, 8)
    assert {i for i, _ in out.skipped} == set(view.images.index)
    assert "no lung patch" in out.skipped[0][1]


def test_patchstats_floor_fits_on_first_order_statistics(tmp_path):
    """``patchstats-ridge`` (the patch floor): 7 statistics × (mean, SD) over an image's
    lung patches, declared a floor, and ``norm="image"`` rescales by the field percentiles."""
    import pickle

    from _nets_cohort import write_nets_cohort

    from benchmark.contract.registry import create_method, get_method_class
    from benchmark.data.cohort import Cohort

    assert get_method_class("patchstats-ridge").role == "floor"
    # joblib workers unpickle the extractor by module path: it must not live in a plugin file
    extractor = create_method("patchstats-ridge")._extractor()
    assert pickle.loads(pickle.dumps(extractor)) == extractor
    cohort = Cohort.load(write_nets_cohort(tmp_path / "c", n=12))
    ids = list(cohort.patients.index)
    train, test = cohort.train_view(ids[:9]), cohort.test_view(ids[9:])
    fixed = create_method("patchstats-ridge", patch_mm=4.0, n_patches=8, inner_folds=3)
    fixed.fit(train)
    assert len(fixed.columns_) == 14 and fixed.columns_[0] == "fo_mean_mean"
    pred = fixed.predict(test)
    assert list(pred.index) == list(test.images.index) and pred.notna().all()
    record = cohort.load_image(cohort.images.index[0])
    image = create_method("patchstats-ridge", patch_mm=4.0, n_patches=8, norm="image")
    a = fixed._extractor()(record)[1]
    b = image._extractor()(record)[1]
    lo, hi = np.percentile(record.pixels[record.pixels > 0], [5, 95])
    assert b[0] == pytest.approx(28 + (a[0] - lo) * 200 / (hi - lo))  # mean grey, rescaled


def test_patch_cache_folders_follow_the_umask(cohort, tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        got = build_patch_set(
            cohort.train_view(cohort.patients.index),
            PatchSpec(4.0, 12),
            2,
            2,
            seed=0,
            cache_dir=tmp_path,
        )
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(got.path).st_mode) == 0o755  # mkdtemp alone gives 0700
