"""glcm-* / radiomics-* end to end: fit/predict, shared feature cache, failures, a run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _texture_helpers import write_texture_cohort

from benchmark import create_method
from benchmark.data.cohort import Cohort
from benchmark.execution.runner import RunConfig, run


@pytest.fixture()
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def cohort_root(tmp_path_factory):
    bad = {"T004_0": np.zeros((96, 96), bool)}  # a test image with an empty mask
    return write_texture_cohort(tmp_path_factory.mktemp("tex") / "c", n=30, bad_masks=bad)


def _views(root):
    cohort = Cohort.load(root)
    ids = list(cohort.patients.index)
    test_ids = ids[1::3]  # every third patient: spans the GA range
    train_ids = [i for i in ids if i not in test_ids]
    return cohort, cohort.train_view(train_ids), cohort.test_view(test_ids)


@pytest.mark.parametrize("name", ["glcm-ridge", "radiomics-ridge"])
def test_texture_method_learns_ga_from_texture(name, cohort_root, isolated_cache):
    cohort, train, test = _views(cohort_root)
    method = create_method(name, inner_folds=3).fit(train)
    pred = method.predict(test)
    assert list(pred.index) == list(test.images.index)  # every test image, even T004_0
    truth = cohort.images.loc[pred.index, "ga_weeks"]
    ok = pred.index != "T004_0"
    r = np.corrcoef(pred[ok], truth[ok])[0, 1]
    assert r > 0.8, r
    importance = method.artifacts_["feature_importance.csv"]
    assert set(importance["feature"]) == set(method.columns_)
    failures = method.artifacts_["feature_failures.csv"]
    assert failures[["stage", "image_id"]].values.tolist() == [["predict", "T004_0"]]
    assert "empty lung mask" in failures["reason"].iloc[0]
    assert "T004_0" in method.cost_["warning"]
    # the imputed image gets the prediction of the training median feature vector
    expected = method.model_.predict(method.fill_.to_numpy()[None])[0]
    assert pred["T004_0"] == pytest.approx(expected)


def test_regressors_of_a_family_share_one_extraction(cohort_root, isolated_cache):
    _, train, _ = _views(cohort_root)
    first = create_method("glcm-ridge", inner_folds=2).fit(train)
    assert first.cost_["fit_images_computed"] == len(train.images)
    assert first.cost_["fit_patches_per_s"] > 0
    second = create_method("glcm-svr", inner_folds=2).fit(train)
    assert second.cost_["fit_images_cached"] == len(train.images)
    assert second.cost_["fit_images_computed"] == 0
    np.testing.assert_array_equal(first.fill_, second.fill_)  # the very same features
    changed = create_method("glcm-ridge", inner_folds=2, levels=16).fit(train)
    assert changed.cost_["fit_images_computed"] == len(train.images)  # parameters in the key


def test_save_and_load_round_trip(cohort_root, isolated_cache, tmp_path):
    _, train, test = _views(cohort_root)
    method = create_method("glcm-rf", inner_folds=2).fit(train)
    method.save(tmp_path / "model")
    loaded = type(method).load(tmp_path / "model")  # a classmethod, as BaseMethod promises
    pd.testing.assert_series_equal(method.predict(test), loaded.predict(test))
    assert not list((tmp_path / "model").glob("*.joblib")) and not list(
        (tmp_path / "model").glob("*.pkl")
    )  # nothing pickled


def test_load_refuses_untrusted_types(cohort_root, isolated_cache, tmp_path):
    import skops.io

    _, train, _ = _views(cohort_root)
    method = create_method("glcm-ridge", inner_folds=2).fit(train)
    method.save(tmp_path / "model")
    # a file holding a type outside the allow-list (here an arbitrary Python class)
    skops.io.dump({"model": pd.Timestamp("2020-01-01")}, tmp_path / "model" / "model.skops")
    with pytest.raises(ValueError, match="untrusted"):
        type(method).load(tmp_path / "model")


def test_a_run_stores_predictions_importances_and_costs(isolated_cache, tmp_path):
    # a clean cohort: the run validates the dataset first and refuses empty masks
    root = write_texture_cohort(tmp_path / "clean", n=16)
    result = run(
        RunConfig(
            dataset=str(root),
            methods=["glcm-ridge", "radiomics-gbr"],
            runs_dir=str(tmp_path / "runs"),
        )
    )
    cells = result.cells.set_index("method")
    assert (cells["status"] == "done").all(), cells.get("error")
    preds = pd.read_csv(result.run_dir / "predictions.csv")
    assert set(preds["method"]) == {"glcm-ridge", "radiomics-gbr"}
    for cell_id in cells["cell_id"]:
        folder = result.run_dir / "cells" / cell_id
        table = pd.read_csv(folder / "feature_importance.csv")
        assert {"feature", "native", "permutation_mean"} <= set(table.columns)
        assert (folder / "inner_cv.csv").is_file()
    cost = cells.loc["glcm-ridge", "cost"]
    cost = json.loads(cost) if isinstance(cost, str) else cost
    assert cost["n_features"] == 42
