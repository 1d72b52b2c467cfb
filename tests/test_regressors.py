"""GroupedCVRegressor: a scikit-learn estimator; patient groups respected; importances."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from benchmark.kits.texture.models import GroupedCVRegressor, feature_importance

# small grids and forests: check_estimator fits each configuration dozens of times
FAST = [
    GroupedCVRegressor("ridge", {"regressor__alpha": [0.1, 10.0]}, n_splits=3),
    GroupedCVRegressor("svr", {"regressor__C": [1.0, 10.0]}, n_splits=2),
    GroupedCVRegressor(
        "rf",
        {"regressor__n_estimators": [5], "regressor__max_depth": [2, None]},
        n_splits=2,
        random_state=0,
    ),
    GroupedCVRegressor(
        "gbr",
        {"regressor__n_estimators": [10], "regressor__max_depth": [1, 2]},
        n_splits=2,
        random_state=0,
    ),
]


@parametrize_with_checks(FAST)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _duplicated_patients(n_patients: int = 40, images: int = 3, seed: int = 0):
    """Pure-noise features, one random GA per patient, near-identical images per patient:
    a model that memorises looks perfect unless the inner CV keeps patients together."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n_patients, 6))
    ga = rng.uniform(24, 40, n_patients)
    X = np.repeat(base, images, axis=0) + rng.normal(scale=1e-3, size=(n_patients * images, 6))
    y = np.repeat(ga, images)
    groups = np.repeat(np.arange(n_patients), images)
    return X, y, groups


def test_inner_cv_keeps_a_patients_images_together():
    X, y, groups = _duplicated_patients()
    grid = {"regressor__n_estimators": [30], "regressor__min_samples_leaf": [1, 2]}
    grouped = GroupedCVRegressor("rf", grid, n_splits=4, random_state=0).fit(X, y, groups)
    leaky = GroupedCVRegressor("rf", grid, n_splits=4, random_state=0).fit(X, y)
    # mean_test_score is −MAE: ≈ the GA spread when grouped, near 0 when images leak
    grouped_mae = -grouped.cv_table()["mean_score"].iloc[0]
    leaky_mae = -leaky.cv_table()["mean_score"].iloc[0]
    assert grouped_mae > 2.5
    assert leaky_mae < 1.5


def test_grid_search_picks_from_the_grid_and_reports_it():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4))
    y = 30 + 3 * X[:, 0] + rng.normal(scale=0.1, size=60)
    model = GroupedCVRegressor("ridge", {"regressor__alpha": [0.01, 1e4]}, n_splits=3)
    model.fit(X, y, groups=np.arange(60) // 2)
    assert model.best_params_ == {"regressor__alpha": 0.01}  # heavy shrinkage loses
    table = model.cv_table()
    assert list(table["rank"]) == [1, 2] and len(table) == 2


def test_too_few_patients_fits_the_default_without_search():
    X = np.arange(8, dtype=float).reshape(4, 2)
    model = GroupedCVRegressor("ridge").fit(X, np.arange(4.0), groups=[1, 1, 1, 1])
    assert model.cv_results_ is None
    assert model.best_params_ == {"regressor__alpha": 0.1}
    assert model.predict(X).shape == (4,)


def test_unknown_regressor_and_bad_groups_are_errors():
    X, y = np.ones((6, 2)), np.arange(6.0)
    with pytest.raises(ValueError, match="unknown regressor"):
        GroupedCVRegressor("knn").fit(X, y)
    with pytest.raises(ValueError, match="groups"):
        GroupedCVRegressor("ridge").fit(X, y, groups=[1, 2])


@pytest.mark.parametrize("kind", ["ridge", "rf"])
def test_feature_importance_ranks_the_informative_feature_first(kind):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 5))
    y = 32 - 4 * X[:, 3] + rng.normal(scale=0.2, size=80)
    grid = {"ridge": {"regressor__alpha": [1.0]}, "rf": {"regressor__n_estimators": [40]}}[kind]
    model = GroupedCVRegressor(kind, grid, random_state=0).fit(X, y)
    table = feature_importance(model, X, y, [f"f{i}" for i in range(5)], random_state=0)
    assert table["feature"].iloc[0] == "f3"
    assert table["rank"].tolist() == [1, 2, 3, 4, 5]
    if kind == "ridge":
        assert table.set_index("feature").loc["f3", "coefficient"] < 0  # sign kept
    else:
        assert table["coefficient"].isna().all() and table["native"].notna().all()
