"""Texture features for the classical GA regressors (spec §5: ``glcm-*``, ``radiomics-*``).

- :mod:`benchmark.features.glcm` — Haralick/GLCM features (mahotas) and first-order
  statistics of millimetre lung patches drawn by the shared sampler :mod:`benchmark.patches`;
- :mod:`benchmark.features.radiomics_roi` — pyradiomics features of the whole lung ROI;
- :mod:`benchmark.features.extract` — one vector per image, computed in parallel with joblib
  and cached on disk (:mod:`benchmark.features.cache`);
- :mod:`benchmark.features.models` — scikit-learn regressors tuned by patient-grouped CV;
- :mod:`benchmark.features.method` — the :class:`~benchmark.base.BaseMethod` glue.

Heavy libraries (mahotas, pyradiomics, SimpleITK) are imported inside functions so that
``python -m benchmark list`` stays fast.
"""
