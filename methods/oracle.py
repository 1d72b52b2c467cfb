"""Oracle: reads the simulated latent lung maturity and maps it to GA.

Only the synthetic cohort exports ``truth_maturity``; everywhere else the method skips.
The mapping maturity → GA is a monotone (isotonic) regression fitted on the training
patients, i.e. an estimate of E[GA | maturity]: no image method can do better on average
than this, because the simulated biology makes GA uncertain given the lung's maturity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark import BaseMethod, register_method

TRUTH = "truth_maturity"


@register_method
class Oracle(BaseMethod):
    name = "oracle"
    summary = "reads the simulated lung maturity (synthetic cohorts only): the ceiling"
    parameters: dict = {}
    requirements = ("sklearn",)
    reads_truth = True
    role = "ceiling"

    def skip(self, dataset) -> tuple[bool, str | None]:
        if TRUTH not in dataset.patient_columns:
            return True, "needs simulated truth (truth_maturity), only in synthetic cohorts"
        return False, None

    def fit(self, train) -> Oracle:
        from sklearn.isotonic import IsotonicRegression

        m = pd.to_numeric(train.patients[TRUTH], errors="coerce")
        ga = pd.to_numeric(train.patients["ga_weeks"], errors="coerce")
        ok = m.notna() & ga.notna()
        if ok.sum() < 2:
            raise ValueError("oracle: fewer than two training patients with truth_maturity")
        self.iso_ = IsotonicRegression(out_of_bounds="clip").fit(m[ok], ga[ok])
        return self

    def predict(self, test) -> pd.Series:
        images = test.images
        patient_m = images["patient_id"].map(test.patients[TRUTH])
        # per-image maturity when exported (frames differ a little), else the patient's
        m = images[TRUTH].fillna(patient_m) if TRUTH in images.columns else patient_m
        m = pd.to_numeric(m, errors="coerce").to_numpy(float)
        pred = self.iso_.predict(np.nan_to_num(m, nan=float(np.nanmean(m))))
        return pd.Series(pred, index=images.index, dtype=float)
