"""scikit-learn regressors for texture features, tuned by patient-grouped CV.

:class:`GroupedCVRegressor` is a scikit-learn estimator (it passes ``check_estimator``):
``Pipeline(QuantileTransformer, StandardScaler, regressor)`` whose hyper-parameters are chosen by
:class:`~sklearn.model_selection.GridSearchCV` with :class:`~sklearn.model_selection.GroupKFold`
over the *groups* passed to ``fit`` (patient ids), so two images of one patient are never
on both sides of an inner split.  The benchmark's own split is the outer loop; ``fit`` only
ever sees training patients, so the tuning is nested by construction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

REGRESSORS = ("ridge", "svr", "rf", "gbr")

#: Default grids, kept small: 8 texture methods × every split must fit the suite's budget
#: (``run --methods all`` ≤ 5 min on 2 cores), and 5 inner folds multiply every grid point.
DEFAULT_GRIDS: dict[str, dict[str, list[Any]]] = {
    "ridge": {"regressor__alpha": [0.1, 1.0, 10.0, 100.0, 1000.0]},
    "svr": {"regressor__C": [1.0, 10.0, 100.0], "regressor__epsilon": [0.1, 1.0]},
    "rf": {"regressor__min_samples_leaf": [1, 5]},
    "gbr": {"regressor__learning_rate": [0.05, 0.1]},
}


def make_regressor(kind: str, random_state: int | None = None) -> BaseEstimator:
    """The bare regressor of a kind (``ridge``, ``svr``, ``rf``, ``gbr``)."""
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import Ridge
    from sklearn.svm import SVR

    if kind == "ridge":
        return Ridge()
    if kind == "svr":
        return SVR(kernel="rbf", gamma="scale")
    if kind == "rf":
        # max_features 1/3: the usual regression default (Breiman), decorrelates the trees
        return RandomForestRegressor(n_estimators=100, max_features=0.33, random_state=random_state)
    if kind == "gbr":
        return GradientBoostingRegressor(
            n_estimators=100, max_depth=2, subsample=0.8, random_state=random_state
        )
    raise ValueError(f"unknown regressor {kind!r}; choose from {REGRESSORS}")


def make_pipeline(kind: str, random_state: int | None = None, n_samples: int = 1000):
    """Quantile scores → standardisation → regressor.

    The quantile step maps each feature to its quantile among the training images,
    bounded at the training range: texture features are heavy-tailed (run/zone emphases
    reach 10⁴ IQRs on a lung lying in an acoustic shadow), and without it one such test
    image drove a ridge prediction to −1,800 weeks on ``synthetic-null``.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import QuantileTransformer, StandardScaler

    # inner-CV training folds hold ≥ 1/2 of the samples (2 folds): a third stays below
    quantiles = QuantileTransformer(
        n_quantiles=max(2, min(1000, n_samples // 3)), output_distribution="uniform", subsample=None
    )
    return Pipeline(
        [
            ("quantile", quantiles),
            ("scale", StandardScaler()),
            ("regressor", make_regressor(kind, random_state)),
        ]
    )


class GroupedCVRegressor(RegressorMixin, BaseEstimator):
    """Quantile scores + StandardScaler + regressor, hyper-parameters by GroupKFold search.

    Parameters
    ----------
    regressor : ``"ridge"``, ``"svr"``, ``"rf"`` or ``"gbr"``.
    param_grid : grid over the pipeline's ``regressor__*`` parameters (``None`` = default).
    n_splits : inner folds (reduced to the number of groups when fewer; no search below 2).
    scoring : scikit-learn scorer name for the inner CV.
    n_jobs : parallel fits of the grid search.
    random_state : seeds the forest/boosting and the inner fold shuffling.
    """

    def __init__(
        self,
        regressor: str = "ridge",
        param_grid: dict | None = None,
        n_splits: int = 5,
        scoring: str = "neg_mean_absolute_error",
        n_jobs: int | None = None,
        random_state: int | None = None,
    ) -> None:
        self.regressor = regressor
        self.param_grid = param_grid
        self.n_splits = n_splits
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X, y, groups=None) -> GroupedCVRegressor:
        from sklearn.model_selection import GridSearchCV, GroupKFold, ParameterGrid

        X, y = validate_data(self, X, y, y_numeric=True)
        if len(y) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 samples, got 1 sample")
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        if len(groups) != len(y):
            raise ValueError(f"groups has {len(groups)} entries for {len(y)} samples")
        grid = self.param_grid if self.param_grid is not None else DEFAULT_GRIDS.get(self.regressor)
        if grid is None:
            raise ValueError(f"unknown regressor {self.regressor!r}; choose from {REGRESSORS}")
        pipe = make_pipeline(self.regressor, self.random_state, len(y))
        n_folds = min(int(self.n_splits), len(np.unique(groups)))
        candidates = list(ParameterGrid(grid))
        if n_folds < 2 or len(candidates) < 2:
            # too few patients to cross-validate: the first (default) grid point
            self.best_params_ = candidates[0] if candidates else {}
            self.best_estimator_ = pipe.set_params(**self.best_params_).fit(X, y)
            self.cv_results_ = None
            return self
        cv = GroupKFold(n_splits=n_folds, shuffle=True, random_state=self.random_state)
        search = GridSearchCV(
            pipe,
            grid,
            cv=cv,
            scoring=self.scoring,
            n_jobs=self.n_jobs,
            refit=True,
            error_score="raise",
        )
        search.fit(X, y, groups=groups)
        self.best_params_ = search.best_params_
        self.best_estimator_ = search.best_estimator_
        self.cv_results_ = search.cv_results_
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "best_estimator_")
        X = validate_data(self, X, reset=False)
        return self.best_estimator_.predict(X)

    def cv_table(self) -> pd.DataFrame:
        """Inner-CV results: one row per grid point (params, mean/SD score, rank)."""
        check_is_fitted(self, "best_estimator_")
        if self.cv_results_ is None:
            return pd.DataFrame(
                [
                    {
                        "params": str(self.best_params_),
                        "mean_score": np.nan,
                        "sd_score": np.nan,
                        "rank": 1,
                        "scoring": self.scoring,
                    }
                ]
            )
        res = self.cv_results_
        return (
            pd.DataFrame(
                {
                    "params": [str(p) for p in res["params"]],
                    "mean_score": res["mean_test_score"],
                    "sd_score": res["std_test_score"],
                    "rank": res["rank_test_score"],
                    "scoring": self.scoring,
                }
            )
            .sort_values("rank", kind="stable")
            .reset_index(drop=True)
        )


def feature_importance(
    model: GroupedCVRegressor,
    X: np.ndarray,
    y: np.ndarray,
    names: list[str],
    random_state: int | None = None,
    n_repeats: int = 2,
    max_rows: int = 150,
) -> pd.DataFrame:
    """Which features the fitted model uses, most important first.

    ``native``: |coefficient| on standardised quantile scores (ridge; the signed value is in
    ``coefficient``) or impurity importance (forests, boosting); NaN for the RBF SVR, which
    has none.  ``permutation_mean``/``_sd``: increase of the training MAE when the feature
    is shuffled (:func:`sklearn.inspection.permutation_importance`), comparable across all
    four regressors (on training data, so it shows what the model *uses*, not what
    generalises).  It costs one prediction per feature and repeat, as much as the fit for
    forests and SVR, hence ``n_repeats=2`` on at most ``max_rows`` random training rows.
    """
    from sklearn.inspection import permutation_importance

    check_is_fitted(model, "best_estimator_")
    reg = model.best_estimator_.named_steps["regressor"]
    coefficient = np.full(len(names), np.nan)
    native = np.full(len(names), np.nan)
    if hasattr(reg, "coef_"):
        coefficient = np.ravel(reg.coef_).astype(float)
        native = np.abs(coefficient)
    elif hasattr(reg, "feature_importances_"):
        native = np.asarray(reg.feature_importances_, dtype=float)
    perm = permutation_importance(
        model.best_estimator_,
        X,
        y,
        n_repeats=n_repeats,
        scoring="neg_mean_absolute_error",
        random_state=random_state,
        max_samples=min(1.0, max_rows / max(len(X), 1)),
    )
    table = pd.DataFrame(
        {
            "feature": names,
            "native": native,
            "coefficient": coefficient,
            "permutation_mean": perm.importances_mean,
            "permutation_sd": perm.importances_std,
        }
    )
    table = table.sort_values("permutation_mean", ascending=False, kind="stable")
    return (
        table.reset_index(drop=True)
        .rename_axis("rank")
        .reset_index()
        .assign(rank=lambda t: t["rank"] + 1)
    )
