"""GLCM/Haralick features: mahotas agrees with scikit-image, quantisation, patches, failures."""

from __future__ import annotations

import mahotas
import numpy as np
import pytest
from skimage.feature import graycomatrix, graycoprops

from benchmark.data.cohort import ImageRecord
from benchmark.kits.texture.extract import FeatureError
from benchmark.kits.texture.glcm import (
    DIRECTION_NAMES,
    HARALICK_NAMES,
    GlcmExtractor,
    haralick_patches,
    quantise,
)

ANGLES = {"0": 0.0, "45": np.pi / 4, "90": np.pi / 2, "135": 3 * np.pi / 4}
#: features both libraries define: ours (mahotas) → scikit-image graycoprops name
SHARED = {"asm": "ASM", "contrast": "contrast", "idm": "homogeneity", "correlation": "correlation"}


def _patch(seed: int = 0, size: int = 24, levels: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, (size, size)).astype(np.uint8)
    raw[0, 0], raw[0, 1] = 0, 255  # all levels reachable: mahotas sizes by the maximum
    from scipy import ndimage  # a little spatial correlation, so correlation ≠ 0

    smooth = ndimage.uniform_filter(raw.astype(float), 2)
    smooth[0, 0], smooth[0, 1] = 0, 255
    return quantise(smooth.astype(np.uint8), levels)


def _feature(row: np.ndarray, name: str, direction: str | None = None) -> float:
    names = (
        [f"{n}_d{d}" for d in DIRECTION_NAMES for n in HARALICK_NAMES]
        if direction
        else list(HARALICK_NAMES)
    )
    return float(row[names.index(f"{name}_d{direction}" if direction else name)])


@pytest.mark.parametrize("seed", [0, 1])
def test_mahotas_matches_skimage_per_direction(seed):
    q = _patch(seed)
    ours = haralick_patches(q[None], 32, 1, "all")[0]
    glcm = graycomatrix(q, [1], list(ANGLES.values()), levels=32, symmetric=True, normed=True)
    for k, direction in enumerate(ANGLES):
        for mine, theirs in SHARED.items():
            expected = graycoprops(glcm, theirs)[0, k]
            assert _feature(ours, mine, direction) == pytest.approx(expected, rel=1e-9), (
                mine,
                direction,
            )


def test_mahotas_matches_skimage_pooled_and_mean():
    q = _patch(3)
    glcm = graycomatrix(q, [1], list(ANGLES.values()), levels=32, symmetric=True, normed=True)
    # pooled = every neighbour pair of the 4 directions counted in one matrix
    counts = graycomatrix(q, [1], list(ANGLES.values()), levels=32, symmetric=True)
    pooled = counts.sum(axis=3, keepdims=True)
    ours_pooled = haralick_patches(q[None], 32, 1, "pooled")[0]
    ours_mean = haralick_patches(q[None], 32, 1, "mean")[0]
    for mine, theirs in SHARED.items():
        assert _feature(ours_pooled, mine) == pytest.approx(
            graycoprops(pooled, theirs)[0, 0], rel=1e-9
        )
        assert _feature(ours_mean, mine) == pytest.approx(
            graycoprops(glcm, theirs).mean(), rel=1e-9
        )


def test_axis_directions_at_longer_distance_match_skimage():
    # skimage rounds diagonal offsets to the Euclidean distance, mahotas steps (d, d): only
    # the axis directions are the same offset at d > 1
    q = _patch(4)
    ours = haralick_patches(q[None], 32, 3, "all")[0]
    glcm = graycomatrix(q, [3], [0.0, np.pi / 2], levels=32, symmetric=True, normed=True)
    for k, direction in enumerate(("0", "90")):
        for mine, theirs in SHARED.items():
            assert _feature(ours, mine, direction) == pytest.approx(
                graycoprops(glcm, theirs)[0, k], rel=1e-9
            )


def test_fixed_size_matrix_equals_mahotas_haralick():
    q = _patch(5)
    assert q.max() == 31  # then mahotas.haralick's matrix has our fixed size
    expected = mahotas.features.haralick(q, distance=2, return_mean=True)
    np.testing.assert_allclose(haralick_patches(q[None], 32, 2, "mean")[0], expected, rtol=1e-12)


def test_quantise_fixed_and_patch():
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    fixed = quantise(ramp, 32)
    assert fixed.min() == 0 and fixed.max() == 31
    assert np.all(np.diff(fixed.ravel().astype(int)) >= 0)
    assert np.bincount(fixed.ravel()).tolist() == [8] * 32  # equal-width bins
    dim = (ramp // 4).astype(np.uint8)  # same structure, a quarter of the brightness
    assert quantise(dim, 32).max() == 7
    assert quantise(dim, 32, "patch").max() == 31
    with pytest.raises(ValueError):
        quantise(ramp, 1)


def test_image_quantisation_is_gain_invariant():
    rng = np.random.default_rng(3)
    patch = rng.integers(20, 120, (2, 16, 16)).astype(np.uint8)
    brighter = (patch * 2).astype(np.uint8)  # the same tissue scanned with twice the gain
    q = quantise(patch, 32, "image", (70.0, 25.0))
    np.testing.assert_array_equal(q, quantise(brighter, 32, "image", (140.0, 50.0)))
    assert q.min() >= 0 and q.max() <= 31
    assert quantise(np.full((4, 4), 70, np.uint8), 32, "image", (70.0, 25.0)).max() == 16
    with pytest.raises(ValueError, match="needs"):
        quantise(patch, 32, "image")


def test_distance_in_mm_becomes_pixels():
    assert GlcmExtractor(distance_mm=1.0, size_mm=8, grid=16).distance_px() == 2
    assert GlcmExtractor(distance_mm=1.0, size_mm=32, grid=64).distance_px() == 2
    assert GlcmExtractor(distance_mm=1.0, size_mm=32, grid=32).distance_px() == 1
    assert GlcmExtractor(distance_mm=0.1).distance_px() == 1  # never zero


def _record(mask: np.ndarray | None, size: int = 96, spacing: float = 0.25) -> ImageRecord:
    rng = np.random.default_rng(0)
    pixels = rng.integers(40, 200, (size, size)).astype(np.uint8)
    return ImageRecord("img", "pat", pixels, mask, spacing)


def test_extractor_gives_mean_and_sd_of_patch_features():
    mask = np.zeros((96, 96), bool)
    mask[10:90, 10:90] = True
    names, values, n = GlcmExtractor(n_patches=12)(_record(mask))
    assert n == 12
    assert len(names) == len(values) == 2 * (13 + 8)
    assert names[0] == "glcm_asm_mean" and names[-1] == "fo_hist_entropy_sd"
    assert np.isfinite(values).all()
    sds = values[len(values) // 2 :]
    assert (sds > 0).any()  # twelve different patches


@pytest.mark.parametrize(
    ("mask", "reason"),
    [
        (None, "no traced lung mask"),
        (np.zeros((96, 96), bool), "empty lung mask"),
        (np.pad(np.ones((20, 20), bool), 38), "no 8 mm patch fits"),  # 5 mm lung
    ],
)
def test_image_without_usable_lung_is_a_feature_error(mask, reason):
    with pytest.raises(FeatureError, match=reason):
        GlcmExtractor()(_record(mask))


def test_cropping_to_the_lung_draws_the_very_same_patches():
    from benchmark.kits.patches import image_rng, sample_patches

    mask = np.zeros((160, 160), bool)
    mask[25:140, 30:150] = True
    record = _record(mask, size=160, spacing=0.1)  # 5 image px per patch px: wide pre-filter
    extractor = GlcmExtractor(n_patches=10)
    cropped = extractor._lung_crop(record)
    assert cropped.pixels.size < record.pixels.size
    full, _ = sample_patches(record, "lung", 10, image_rng(0, "img"), extractor.spec())
    fast, _ = sample_patches(cropped, "lung", 10, image_rng(0, "img"), extractor.spec())
    assert len(full) == 10
    np.testing.assert_array_equal(full, fast)
