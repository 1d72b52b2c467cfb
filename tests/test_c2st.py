"""The classifier two-sample test (datasets/_c2st.py) reads 0.5 on one distribution twice
and ≈ 1 on two obviously different ones."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from benchmark.data.sources import list_datasets


@pytest.fixture(scope="module")
def c2st():
    list_datasets()  # the plugin loader puts datasets/ under benchmark._plugins
    return importlib.import_module("benchmark._plugins.datasets._c2st")


def _sample(rng, shift: float, n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = rng.normal(0, 1, (n, 6))
    b = rng.normal(0, 1, (n, 6))
    b[:, 0] += shift
    X = np.vstack([a, b])
    y = np.r_[np.zeros(n, int), np.ones(n, int)]
    groups = np.repeat(np.arange(n), 2)  # two frames per "patient", one class each side
    groups = np.r_[groups[:n], groups[:n] + n]
    return X, y, groups


def test_identical_distributions_give_half(c2st):
    r = c2st.logistic_c2st(*_sample(np.random.default_rng(1), 0.0))
    assert abs(r.auc - 0.5) < 0.12
    assert r.ci_low < 0.5 < r.ci_high


def test_different_distributions_give_one(c2st):
    X, y, g = _sample(np.random.default_rng(2), 4.0)
    r = c2st.logistic_c2st(X, y, g)
    assert r.auc > 0.97 and r.ci_low > 0.9
    top = c2st.separating_features(X, y, [f"f{j}" for j in range(6)], k=1)
    assert top[0][0] == "f0" and top[0][1] > 0.95


def test_cnn_tells_speckle_from_smooth_images(c2st):
    rng = np.random.default_rng(3)
    noisy = rng.uniform(0, 1, (24, 16, 16))
    smooth = np.full((24, 16, 16), 0.5) + rng.normal(0, 0.02, (24, 1, 1))
    y = np.r_[np.zeros(24, int), np.ones(24, int)]
    r = c2st.cnn_c2st(np.vstack([noisy, smooth]), y, np.arange(48), epochs=30)
    assert r.auc > 0.9


def test_cnn_on_one_distribution_is_near_half(c2st):
    rng = np.random.default_rng(4)
    images = rng.uniform(0, 1, (48, 16, 16))
    y = np.r_[np.zeros(24, int), np.ones(24, int)]
    r = c2st.cnn_c2st(images, y, np.arange(48), epochs=30)
    assert r.ci_low < 0.5 < r.ci_high
