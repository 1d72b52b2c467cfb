"""Patch sampler speed: label maps + anti-aliased resampling of one 512 px image."""

from __future__ import annotations

import numpy as np

from benchmark.data.cohort import ImageRecord
from benchmark.kits.patches import PatchSpec, extract_patches, sample_patches, sliding_centres


def _record(size: int = 512, spacing: float = 0.25) -> ImageRecord:
    rng = np.random.default_rng(0)
    pixels = rng.integers(1, 256, (size, size), dtype=np.uint8)
    yy, xx = np.mgrid[:size, :size]
    mask = (yy - size * 0.4) ** 2 / 0.3 + (xx - size * 0.35) ** 2 < (size * 0.2) ** 2
    return ImageRecord("bench", "p", pixels, mask, spacing)


def test_bench_sample_lung_and_nonlung_patches(benchmark):
    """One training image's draw, as build_patch_set does it (32 lung + 32 non-lung)."""
    record, spec = _record(), PatchSpec(size_mm=8.0, grid=16)

    def draw():
        rng = np.random.default_rng(1)
        lung, _ = sample_patches(record, "lung", 32, rng, spec)
        non, _ = sample_patches(record, "nonlung", 32, rng, spec)
        return lung, non

    lung, non = benchmark(draw)
    assert lung.shape == non.shape == (32, 16, 16)
    if benchmark.stats is not None:
        benchmark.extra_info["patches_per_s"] = 64 / benchmark.stats.stats.mean


def test_bench_sliding_extraction(benchmark):
    """A lung map's patches for one 512 px image at the light profile's 4 mm stride."""
    record, spec = _record(), PatchSpec(size_mm=8.0, grid=16)
    centres = sliding_centres(record.pixels.shape, record.spacing_mm, 4.0, spec)
    out = benchmark(extract_patches, record.pixels, record.spacing_mm, centres, spec)
    assert out.shape == (len(centres), 16, 16)
    if benchmark.stats is not None:
        benchmark.extra_info["patches_per_s"] = len(centres) / benchmark.stats.stats.mean
