"""``patchstats-ridge``: the transparent patch floor every patch method is read against.

First-order statistics of the same lung patches the nets and ``glcm-*`` see (the shared
millimetre sampler :mod:`benchmark.kits.patches`, 8 mm on 16 px by default = the nets' ``light``
profile): per patch the mean, SD, skewness, excess kurtosis and 10/50/90th grey-level
percentiles — brightness and its spread, no spatial structure at all.  Per image each
statistic is summarised by its mean and SD over ``n_patches`` patches; a ridge regression
(scikit-learn, alpha by patient-grouped inner CV, :mod:`benchmark.kits.texture.models`) maps
them to GA.  A patch method that does not beat this floor has learned brightness, not
texture.

``norm`` matches the nets' input normalisation: ``fixed`` (raw grey levels, the paper's
net input) or ``image`` (grey levels rescaled so the image's imaged-field 5th / 95th
percentiles land on 28 / 228, exactly :mod:`benchmark.kits.nets.sampler`'s ``norm="image"``).
Features: :mod:`benchmark.kits.nets.patchstats`.
"""

from __future__ import annotations

from typing import ClassVar

from benchmark import register_method
from benchmark.kits.nets.patchstats import PatchStatsExtractor
from benchmark.kits.texture.method import TextureMethod


@register_method
class PatchStatsRidge(TextureMethod):
    name = "patchstats-ridge"
    summary = "floor: first-order statistics of the nets' lung patches, ridge regression"
    regressor = "ridge"
    role: ClassVar[str | None] = "floor"  # docs/methods.md: every patch method is read against it
    requirements = ("sklearn", "scipy")
    relative_cost = 5.0
    parameters = {
        "norm": ["fixed"],  # or "image" (the nets' norm=image)
        "n_patches": [64],
        "patch_mm": [8.0],
        "patch_px": [16],
        "inner_folds": [5],
    }
    #: the floor of both net inputs (``--methods all`` runs both)
    all_variants: ClassVar[tuple[str, ...]] = ("norm=image",)
    #: the check cohort has 6 training patients: two inner folds, not five
    test_params = {"inner_folds": 2}
    min_lung_mm = parameters["patch_mm"][0]  # one default patch (validate warns below it)

    def _extractor(self) -> PatchStatsExtractor:
        return PatchStatsExtractor(
            norm=str(self.norm),
            n_patches=int(self.n_patches),
            size_mm=float(self.patch_mm),
            grid=int(self.patch_px),
        )
