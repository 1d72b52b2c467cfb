"""A plugin that breaks the method contract on purpose (loaded with FLB_METHODS_PATH by
``tests/test_common.py``): ``check_method`` must refuse it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark import BaseMethod, register_method


@register_method
class UnseededNoise(BaseMethod):
    """Registers fine and predicts in range, but draws from an unseeded generator: two fits
    with the same seed disagree."""

    name = "broken-unseeded"
    summary = "training mean plus unseeded noise (deliberately broken)"

    def fit(self, train) -> UnseededNoise:
        self.mean_ = float(train.patients["ga_weeks"].mean())
        return self

    def predict(self, test) -> pd.Series:
        noise = np.random.default_rng().normal(0, 0.5, len(test.images))
        return pd.Series(self.mean_ + noise, index=test.images.index, dtype=float)
