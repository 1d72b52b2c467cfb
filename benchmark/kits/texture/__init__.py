"""Texture features for the classical GA regressors (``glcm-*``, ``radiomics-*``; docs/texture.md).

- :mod:`benchmark.kits.texture.glcm` — Haralick/GLCM features (mahotas) and first-order
  statistics of millimetre lung patches drawn by the shared sampler :mod:`benchmark.kits.patches`;
- :mod:`benchmark.kits.texture.radiomics_roi` — pyradiomics features of the whole lung ROI;
- :mod:`benchmark.kits.texture.extract` — one vector per image, computed in parallel with joblib
  and cached on disk (:mod:`benchmark.kits.texture.cache`);
- :mod:`benchmark.kits.texture.models` — scikit-learn regressors tuned by patient-grouped CV;
- :mod:`benchmark.kits.texture.method` — the :class:`~benchmark.contract.base.BaseMethod` glue.

Heavy libraries (mahotas, pyradiomics, SimpleITK) are imported inside functions so that
``python -m benchmark list`` stays fast.
"""
