"""The BaseMethod glue shared by ``glcm-*`` and ``radiomics-*``.

``fit``: features of every training image (cached) → :class:`GroupedCVRegressor` on the
images that gave features, grouped by patient for the inner CV.  ``predict``: features of
every test image; an image that gave none (no/empty/corrupt ROI, lung smaller than a
patch) is still predicted — from the training images' median feature vector — and listed in
``artifacts_["feature_failures.csv"]`` and ``cost_["warning"]``, so a failure is reported,
never a silent drop and never a crashed cell.  Patient GA = mean of its images (default).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from benchmark.contract.base import MEASURED, BaseMethod
from benchmark.kits.texture.extract import FeatureTable, extract_view

log = logging.getLogger("benchmark.kits.texture")

#: joblib workers for feature extraction and the inner grid search (-1 = all cores)
N_JOBS = -1


class TextureMethod(BaseMethod):
    """Texture features + a scikit-learn regressor; subclasses set ``regressor``."""

    regressor: ClassVar[str] = "ridge"
    uses_images = True
    relative_cost = 10.0
    saves = True

    def _extractor(self):
        raise NotImplementedError

    def skip(self, dataset) -> tuple[bool, str | None]:
        if not dataset.n_traced_images:
            return True, "the dataset has no traced lung masks (lung_mask_path)"
        return False, None

    # -- helpers -------------------------------------------------------------------------
    def _features(self, view, stage: str) -> FeatureTable:
        table = extract_view(view, self._extractor(), n_jobs=N_JOBS)
        cost = self.__dict__.setdefault("_cost", {})  # after load(), predict starts afresh
        unit = self._extractor().unit
        cost[f"{stage}_images_cached"] = table.n_cached
        cost[f"{stage}_images_computed"] = table.n_computed
        cost[f"{stage}_feature_seconds"] = round(table.seconds, 3)
        if table.units and table.seconds > 0:
            cost[f"{stage}_{unit}_per_s"] = round(table.units / table.seconds, 1)
        rows = self.__dict__.setdefault("_failures", [])
        patients = view.images["patient_id"]
        for image_id, reason in table.failures.items():
            action = (
                "left out of training"
                if stage == "fit"
                else "predicted from the training median feature vector"
            )
            rows.append(
                {
                    "stage": stage,
                    "image_id": image_id,
                    "patient_id": patients.get(image_id, ""),
                    "reason": reason,
                    "action": action,
                }
            )
        return table

    def _publish(self) -> None:
        failures = pd.DataFrame(
            self.__dict__.get("_failures", []),
            columns=["stage", "image_id", "patient_id", "reason", "action"],
        )
        self.artifacts_["feature_failures.csv"] = failures
        cost = dict(self.__dict__.get("_cost", {}))
        cost["n_features"] = len(self.columns_)
        cost["inner_cv_best"] = str(self.model_.best_params_)
        if len(failures):
            counts = failures.groupby("stage").size().to_dict()
            first = failures.iloc[0]
            cost["warning"] = (
                "images without features: "
                + ", ".join(f"{n} at {s}" for s, n in counts.items())
                + f" (e.g. {first.image_id}: {first.reason}); see feature_failures.csv"
            )
        self.cost_ = cost

    # -- contract ------------------------------------------------------------------------
    def fit(self, train) -> TextureMethod:
        from benchmark.kits.texture.models import GroupedCVRegressor, feature_importance

        self._failures: list[dict[str, str]] = []
        self._cost: dict[str, object] = {}
        table = self._features(train, "fit")
        X = table.features[table.ok]
        if len(X) < 2 or X.shape[1] == 0:
            first = next(iter(table.failures.items()), ("", "no images"))
            raise ValueError(
                f"{self.name}: only {len(X)} of {len(table.features)} training images gave "
                f"features (e.g. {first[0]}: {first[1]})"
            )
        y = train.ga_by_image.loc[X.index].to_numpy(dtype=float)
        groups = train.images.loc[X.index, "patient_id"].to_numpy()
        self.columns_ = list(X.columns)
        self.fill_ = X.median()  # robust to the heavy tails of texture features
        # worker processes pay off only for real cohorts; tiny ones fit faster in-process
        jobs = N_JOBS if len(X) >= 200 else 1
        self.model_ = GroupedCVRegressor(
            regressor=self.regressor,
            n_splits=self.inner_folds,
            n_jobs=jobs,
            random_state=self.random_state,
        ).fit(X.to_numpy(), y, groups=groups)
        self.artifacts_ = {
            "feature_importance.csv": feature_importance(
                self.model_, X.to_numpy(), y, self.columns_, random_state=self.random_state
            ),
            "inner_cv.csv": self.model_.cv_table(),
        }
        self._publish()
        return self

    def predict(self, test) -> pd.Series:
        table = self._features(test, "predict")
        X = table.features.reindex(index=test.images.index.astype(str), columns=self.columns_)
        missing = X.isna().any(axis=1)
        if missing.any():
            log.warning(
                "%s: %d test image(s) without features predicted from the training "
                "median feature vector",
                self.name,
                int(missing.sum()),
            )
        X = X.fillna(self.fill_)
        pred = self.model_.predict(X.to_numpy())
        self._publish()
        self.provenance_ = pd.Series(
            np.where(missing.to_numpy(), "fallback:train-median-features", MEASURED),
            index=test.images.index,
            dtype=object,
        )
        return pd.Series(pred, index=test.images.index, dtype=float)

    def prediction_provenance(self, test) -> pd.Series:
        """``measured``, or ``fallback:train-median-features`` for an image without features."""
        return self.provenance_.reindex(test.images.index)

    # -- persistence ---------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """``model.json`` (parameters, feature columns, median fill vector, chosen
        hyper-parameters) and ``model.skops`` (the fitted scikit-learn pipeline in skops'
        format, which is read without unpickling)."""
        import skops.io

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        skops.io.dump(self.model_.best_estimator_, path / "model.skops")
        state = {
            "method": self.name,
            "params": self.get_params(),
            "columns": self.columns_,
            "fill": [float(self.fill_[c]) for c in self.columns_],
            "best_params": self.model_.best_params_,
            "random_state": int(self.random_state),
        }
        (path / "model.json").write_text(json.dumps(state, indent=1, default=str))

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> TextureMethod:
        """A fitted method from :meth:`save`'s folder; refuses any object type outside
        :data:`TRUSTED_TYPES` (skops' trusted-types check), so a model file from elsewhere
        cannot run code."""
        import skops.io

        from benchmark.kits.texture.models import GroupedCVRegressor

        path = Path(path)
        state: dict[str, Any] = json.loads((path / "model.json").read_text())
        if state["method"] != cls.name:
            raise ValueError(f"{path}: saved by {state['method']!r}, not {cls.name!r}")
        untrusted = skops.io.get_untrusted_types(file=path / "model.skops")
        refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
        if refused:
            raise ValueError(
                f"{path / 'model.skops'}: refusing untrusted type(s) {', '.join(refused)}"
            )
        method = cls(**state["params"])
        method.random_state = int(state.get("random_state", 0))
        method.columns_ = list(state["columns"])
        method.fill_ = pd.Series(state["fill"], index=method.columns_, dtype=float)
        model = GroupedCVRegressor(
            regressor=cls.regressor, n_splits=method.inner_folds, random_state=method.random_state
        )
        model.best_estimator_ = skops.io.load(path / "model.skops", trusted=untrusted)
        model.best_params_ = state["best_params"]
        model.cv_results_ = None
        model.n_features_in_ = len(method.columns_)
        method.model_ = model
        method.artifacts_, method.cost_ = {}, {}
        return method


#: the only types a saved texture model may hold beyond skops' defaults (decision trees of
#: the random forest and gradient boosting)
TRUSTED_TYPES = ("sklearn.tree._tree.Tree",)


#: the regressors every texture family offers, with their one-line description
REGRESSORS = {
    "ridge": "ridge regression",
    "svr": "RBF support-vector regression",
    "rf": "random forest",
    "gbr": "gradient boosting",
}


def register_regressor_family(base: type[TextureMethod], prefix: str, features: str) -> None:
    """Register ``<prefix>-<regressor>`` for every regressor, e.g. ``glcm-ridge``."""
    from benchmark.contract.registry import register_method

    for kind, what in REGRESSORS.items():
        register_method(
            type(
                f"{base.__name__.strip('_')}_{kind}",
                (base,),
                {
                    "name": f"{prefix}-{kind}",
                    "summary": f"{features}, {what}",
                    "regressor": kind,
                    "__module__": base.__module__,
                },
            )
        )
