"""``radiomics-<regressor>``: pyradiomics features of the whole lung ROI + scikit-learn.

Features: :mod:`benchmark.kits.texture.radiomics_roi` (2-D first-order, GLCM, GLRLM, GLSZM,
GLDM, NGTDM; parameters documented in ``benchmark/kits/texture/radiomics_params.yaml``);
models: :mod:`benchmark.kits.texture.models`.  The four regressors share one cached extraction.
"""

from __future__ import annotations

from benchmark.kits.texture.method import TextureMethod, register_regressor_family


class _Radiomics(TextureMethod):
    requirements = ("radiomics", "SimpleITK", "sklearn", "skops")
    parameters = {
        # None = the value in radiomics_params.yaml (bin width 10 on the normalised scale,
        # resampling to 0.5 mm)
        "bin_width": [None],
        "spacing_mm": [None],
        "params_file": [None],
        "inner_folds": [5],
    }
    #: the check cohort has 6 training patients: two inner folds, not five
    test_params = {"inner_folds": 2}

    def _extractor(self):
        from benchmark.kits.texture.radiomics_roi import RadiomicsExtractor

        return RadiomicsExtractor(
            params_file=self.params_file, bin_width=self.bin_width, spacing_mm=self.spacing_mm
        )


register_regressor_family(_Radiomics, "radiomics", "pyradiomics 2-D features of the whole lung ROI")
