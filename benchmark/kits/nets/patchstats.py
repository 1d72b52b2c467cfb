"""Features of the patch floor ``patchstats-ridge`` (``methods/patchstats.py``).

Lives in an importable module, not in the plugin file: joblib worker processes unpickle the
extractor by module path, and plugin files are loaded by path (not importable by name).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from benchmark.kits.texture.extract import FeatureError

STAT_NAMES = ("mean", "sd", "skewness", "kurtosis", "p10", "p50", "p90")


@dataclass(frozen=True)
class PatchStatsExtractor:
    norm: str = "fixed"
    n_patches: int = 64
    size_mm: float = 8.0
    grid: int = 16
    seed: int = 0  # fixed sampling seed: every split shares the feature cache

    kind = "patchstats"
    unit = "patches"

    def cache_params(self) -> dict[str, Any]:
        from benchmark.kits import patches

        return {**asdict(self), "patch_cache_version": patches._CACHE_VERSION, "v": 1}

    def __call__(self, record) -> tuple[list[str], np.ndarray, int]:
        from scipy import stats

        from benchmark.kits.nets.sampler import IMAGE_NORM_HIGH, IMAGE_NORM_LOW
        from benchmark.kits.patches import PatchSpec, image_rng, sample_patches
        from benchmark.kits.texture.glcm import GlcmExtractor, aggregate

        if record.mask is None or not record.mask.any():
            raise FeatureError("no traced lung mask")
        spec = PatchSpec(size_mm=self.size_mm, grid=self.grid)
        # the lung's bounding box: the very same patches, drawn without filtering the
        # whole frame (glcm's crop; the percentiles below still use the whole field)
        crop = GlcmExtractor(size_mm=self.size_mm, grid=self.grid)._lung_crop(record)
        patches, _ = sample_patches(
            crop, "lung", self.n_patches, image_rng(self.seed, record.image_id), spec
        )
        if len(patches) == 0:
            raise FeatureError(f"no {self.size_mm:g} mm patch fits entirely inside the lung mask")
        flat = patches.reshape(len(patches), -1).astype(np.float64)
        if self.norm == "image":
            field = record.pixels[record.pixels > 0]
            lo, hi = np.percentile(field, [5, 95])
            flat = IMAGE_NORM_LOW + (flat - lo) * (IMAGE_NORM_HIGH - IMAGE_NORM_LOW) / max(
                hi - lo, 1.0
            )
        elif self.norm != "fixed":
            raise ValueError(f"patchstats: norm must be 'fixed' or 'image', got {self.norm!r}")
        sd = flat.std(axis=1)
        flat_patch = sd == 0  # skew/kurtosis undefined on a flat patch: 0
        per_patch = np.column_stack(
            [
                flat.mean(axis=1),
                sd,
                np.where(flat_patch, 0.0, np.nan_to_num(stats.skew(flat, axis=1))),
                np.where(flat_patch, 0.0, np.nan_to_num(stats.kurtosis(flat, axis=1))),
                np.percentile(flat, [10, 50, 90], axis=1).T,
            ]
        )
        names, vector = aggregate(per_patch, [f"fo_{n}" for n in STAT_NAMES])
        return names, vector, len(patches)
