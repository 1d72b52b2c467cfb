"""Predicts the training patients' mean GA: the floor every method must beat."""

from __future__ import annotations

import pandas as pd

from benchmark import BaseMethod, register_method


@register_method
class DummyMean(BaseMethod):
    name = "dummy-mean"
    summary = "training mean GA for every image (the no-skill floor)"

    def fit(self, train) -> DummyMean:
        self.mean_ = float(train.patients["ga_weeks"].mean())
        return self

    def predict(self, test) -> pd.Series:
        return pd.Series(self.mean_, index=test.images.index, dtype=float)
