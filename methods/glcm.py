"""``glcm-<regressor>``: Haralick/GLCM texture of mm-sized lung patches + a scikit-learn model.

The quantusFLM line of work (lung texture + machine learning) that the paper's net is
implicitly competing with.  Features: :mod:`benchmark.kits.texture.glcm` (mahotas, patches from
the nets' sampler :mod:`benchmark.kits.patches`); models: :mod:`benchmark.kits.texture.models`
(StandardScaler + ridge / SVR / random forest / gradient boosting, hyper-parameters by
patient-grouped inner CV).  The four regressors share one cached feature extraction.
"""

from __future__ import annotations

from benchmark.kits.texture.method import TextureMethod, register_regressor_family


class _Glcm(TextureMethod):
    requirements = ("mahotas", "sklearn", "scipy", "skops")
    parameters = {
        "levels": [32],
        "distance_mm": [1.0],
        "directions": ["pooled"],
        "quantisation": ["image"],  # or "fixed" (absolute grey levels), "patch"
        "n_patches": [32],
        # 8 mm / 16 px = the nets' default profile; 32 mm / 64 px is the paper's patch,
        # which no fetal lung of the synthetic cohort is large enough to contain
        "patch_mm": [8.0],
        "patch_px": [16],
        "inner_folds": [5],
    }
    #: the check cohort has 6 training patients: two inner folds, not five
    test_params = {"inner_folds": 2}
    min_lung_mm = parameters["patch_mm"][0]  # one default patch (validate warns below it)

    def _extractor(self):
        from benchmark.kits.texture.glcm import GlcmExtractor

        return GlcmExtractor(
            levels=int(self.levels),
            distance_mm=float(self.distance_mm),
            directions=self.directions,
            quantisation=self.quantisation,
            n_patches=int(self.n_patches),
            size_mm=float(self.patch_mm),
            grid=int(self.patch_px),
        )


register_regressor_family(
    _Glcm, "glcm", "Haralick/GLCM + first-order texture of lung patches (mahotas)"
)
