"""Realism guards: the texture statistics of docs/synthetic.md stay in physical ranges."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from benchmark.data.sources import list_datasets

# beside the checkout (../shared) or, from a worktree, further up
REAL = next(
    (
        p / "shared" / "data" / "public-thorax"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "data" / "public-thorax").is_dir()
    ),
    Path("/nonexistent"),
)


def _realism():
    list_datasets()
    return importlib.import_module("benchmark._plugins.datasets._realism")


def test_fwhm_of_a_known_autocorrelation() -> None:
    """Gaussian-blurred white noise: the autocorrelation FWHM is √2 × the blur FWHM."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    sigma = (2.0, 5.0)
    roi = ndimage.gaussian_filter(rng.standard_normal((400, 400)), sigma)[50:-50, 50:-50]
    axial, lateral = _realism().speckle_fwhm(roi)
    expected = np.sqrt(2) * 2.3548 * np.array(sigma)
    assert np.allclose([axial, lateral], expected, rtol=0.1)


def test_synthetic_lung_speckle_is_anisotropic_and_mm_sized() -> None:
    syn, _ = _realism().synthetic_table(n_images=4, size=512, seed=1)
    lung = syn[syn.region == "lung"]
    assert len(lung) >= 4
    assert 0.4 < lung["fwhm_axial_mm"].median() < 1.0
    assert 1.2 < lung["fwhm_lateral_mm"].median() < 2.6
    assert lung["lat_over_ax"].median() > 1.8  # lateral ≫ axial, as on real scanners
    assert 2 < lung["snr"].median() < 7
    chamber = syn[syn.region == "chamber"]
    assert lung["mean"].median() > 2 * chamber["mean"].median()


@pytest.mark.skipif(not (REAL / "lung_rois.csv").is_file(), reason="real images absent")
def test_real_rois_reproduce_realism_md() -> None:
    real = _realism().real_table()
    lung = real[real.region == "lung"]
    assert len(lung) == 32
    assert abs(lung["mean"].median() - 70.2) < 1
    assert abs(lung["sd"].median() - 15.3) < 1
    assert 0.6 < lung["fwhm_axial_mm"].median() < 0.8
