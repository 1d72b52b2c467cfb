"""``patchstats-ridge``: the transparent patch floor every patch method is read against.

First-order statistics of the same lung patches the nets and ``glcm-*`` see (the shared
millimetre sampler :mod:`benchmark.patches`, 8 mm on 16 px by default = the nets' ``light``
profile): per patch the mean, SD, skewness, excess kurtosis and 10/50/90th grey-level
percentiles — brightness and its spread, no spatial structure at all.  Per image each
statistic is summarised by its mean and SD over ``n_patches`` patches; a ridge regression
(scikit-learn, alpha by patient-grouped inner CV, :mod:`benchmark.features.models`) maps
them to GA.  A patch method that does not beat this floor has learned brightness, not
texture.

``norm`` matches the nets' input normalisation: ``fixed`` (raw grey levels, the paper's
net input) or ``image`` (grey levels rescaled so the image's imaged-field 5th / 95th
percentiles land on 28 / 228, exactly :mod:`benchmark.nets.sampler`'s ``norm="image"``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from benchmark import register_method
from benchmark.features.extract import FeatureError
from benchmark.features.method import TextureMethod

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
        from benchmark import patches

        return {**asdict(self), "patch_cache_version": patches._CACHE_VERSION, "v": 1}

    def __call__(self, record) -> tuple[list[str], np.ndarray, int]:
        from scipy import stats

        from benchmark.features.glcm import GlcmExtractor, aggregate
        from benchmark.nets.sampler import IMAGE_NORM_HIGH, IMAGE_NORM_LOW
        from benchmark.patches import PatchSpec, image_rng, sample_patches

        if record.mask is None or not record.mask.any():
            raise FeatureError("no traced lung mask")
        spec = PatchSpec(size_mm=self.size_mm, grid=self.grid)
        # the lung's bounding box: the very same patches, drawn without filtering the
        # whole frame (glcm's crop; the percentiles below still use the whole field)
        crop = GlcmExtractor(size_mm=self.size_mm, grid=self.grid)._lung_crop(record)
        patches, _ = sample_patches(crop, "lung", self.n_patches,
                                    image_rng(self.seed, record.image_id), spec)
        if len(patches) == 0:
            raise FeatureError(f"no {self.size_mm:g} mm patch fits entirely inside the lung mask")
        flat = patches.reshape(len(patches), -1).astype(np.float64)
        if self.norm == "image":
            field = record.pixels[record.pixels > 0]
            lo, hi = np.percentile(field, [5, 95])
            flat = IMAGE_NORM_LOW + (flat - lo) * (IMAGE_NORM_HIGH - IMAGE_NORM_LOW) / max(
                hi - lo, 1.0)
        elif self.norm != "fixed":
            raise ValueError(f"patchstats: norm must be 'fixed' or 'image', got {self.norm!r}")
        sd = flat.std(axis=1)
        flat_patch = sd == 0  # skew/kurtosis undefined on a flat patch: 0
        per_patch = np.column_stack([
            flat.mean(axis=1), sd,
            np.where(flat_patch, 0.0, np.nan_to_num(stats.skew(flat, axis=1))),
            np.where(flat_patch, 0.0, np.nan_to_num(stats.kurtosis(flat, axis=1))),
            np.percentile(flat, [10, 50, 90], axis=1).T,
        ])
        names, vector = aggregate(per_patch, [f"fo_{n}" for n in STAT_NAMES])
        return names, vector, len(patches)


@register_method
class PatchStatsRidge(TextureMethod):
    name = "patchstats-ridge"
    summary = "floor: first-order statistics of the nets' lung patches, ridge regression"
    regressor = "ridge"
    role: ClassVar[str | None] = "floor"  # I2: read every patch method against it
    requirements = ("sklearn", "scipy")
    relative_cost = 5.0
    parameters = {
        "norm": ["fixed"],  # or "image" (the nets' norm=image)
        "n_patches": [64],
        "patch_mm": [8.0],
        "patch_px": [16],
        "inner_folds": [5],
    }

    def _extractor(self) -> PatchStatsExtractor:
        return PatchStatsExtractor(norm=str(self.norm), n_patches=int(self.n_patches),
                                   size_mm=float(self.patch_mm), grid=int(self.patch_px))
