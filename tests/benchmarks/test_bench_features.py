"""Texture-feature speed (budget in results/performance.md: GLCM ≥ 2,000 patches/s on the
2-core machine).

Run: ``python -m pytest tests/benchmarks/test_bench_features.py --benchmark-enable``.
``extra_info`` holds the figures: GLCM patches/s over both cores (joblib, as
:func:`benchmark.kits.texture.extract.extract_view` runs it), and the cold (computed) vs warm
(cached) time of a 24-image view's features with patches/s and ROIs/s (24 images are below
``extract.MIN_PARALLEL``, so that figure is one process, sampling and loading included).
"""

from __future__ import annotations

import numpy as np
import pytest
from joblib import Parallel, delayed

from benchmark.data.cohort import Cohort
from benchmark.kits.texture.extract import extract_view
from benchmark.kits.texture.glcm import GlcmExtractor
from benchmark.kits.texture.radiomics_roi import RadiomicsExtractor

N_PATCHES = 2048
N_JOBS = 2


def _patches(grid: int) -> np.ndarray:
    """Speckle-like patches: smoothed noise with a realistic grey-level spread."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    noise = ndimage.gaussian_filter(rng.normal(size=(N_PATCHES, grid, grid)), (0, 1, 1))
    return np.clip(110 + 40 * noise / noise.std(), 0, 255).astype(np.uint8)


def _features(extractor: GlcmExtractor, chunk: np.ndarray) -> np.ndarray:
    return extractor.patch_features(chunk, reference=(110.0, 40.0))[1]


@pytest.mark.parametrize(("size_mm", "grid"), [(8.0, 16), (32.0, 64)])
def test_glcm_patches_per_second(benchmark, size_mm, grid):
    extractor = GlcmExtractor(size_mm=size_mm, grid=grid)
    patches = _patches(grid)
    chunks = np.array_split(patches, 8)
    parallel = Parallel(n_jobs=N_JOBS)
    parallel(delayed(_features)(extractor, c[:4]) for c in chunks)  # start the workers

    def run():
        return parallel(delayed(_features)(extractor, c) for c in chunks)

    out = benchmark.pedantic(run, rounds=3, iterations=1)
    assert sum(len(o) for o in out) == N_PATCHES and np.isfinite(np.vstack(out)).all()
    if benchmark.stats is not None:  # None with --benchmark-disable
        benchmark.extra_info["patches_per_s_2_cores"] = N_PATCHES / benchmark.stats["mean"]


@pytest.fixture(scope="module")
def synthetic_view(small_synthetic_root):
    cohort = Cohort.load(small_synthetic_root)
    view = cohort.train_view(cohort.patients.index)
    for _ in view.iter_images():  # decode once: measure features, not PNG reading
        pass
    return view


@pytest.mark.parametrize("kind", ["glcm", "radiomics"])
def test_view_features_cold_and_warm(benchmark, synthetic_view, kind, tmp_path):
    extractor = GlcmExtractor() if kind == "glcm" else RadiomicsExtractor()
    cold = extract_view(synthetic_view, extractor, n_jobs=N_JOBS, cache_dir=tmp_path)
    assert cold.n_computed == len(synthetic_view.images)
    warm = benchmark.pedantic(
        extract_view,
        args=(synthetic_view, extractor),
        kwargs={"n_jobs": N_JOBS, "cache_dir": tmp_path},
        rounds=3,
        iterations=1,
    )
    assert warm.n_computed == 0 and warm.n_cached == len(synthetic_view.images)
    if benchmark.stats is not None:
        benchmark.extra_info.update(
            {
                "cold_seconds": cold.seconds,
                f"{extractor.unit}_per_s_cold": cold.units / cold.seconds,
                "images_per_s_cold": len(synthetic_view.images) / cold.seconds,
                "warm_seconds": benchmark.stats["mean"],
            }
        )
