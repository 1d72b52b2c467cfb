"""The synthetic outcome model (datasets/_synth_outcome.py): documented risk from lung
maturity at delivery."""

from __future__ import annotations

import numpy as np
import pytest
from _cohorts import generator_module

cohort = generator_module("_synth_cohort")
outcome = generator_module("_synth_outcome")


def test_outcome_follows_the_documented_risk_model():
    table = cohort.make_cohort(4000, seed=1)
    y = outcome.respiratory_morbidity(table, seed=1)
    assert set(np.unique(y)) <= {0, 1}
    np.testing.assert_array_equal(y, outcome.respiratory_morbidity(table, seed=1))
    mature = outcome.maturity_at_delivery(table)
    # δ recovered from truth_maturity: maturity at delivery − delivery GA has the SD of δ
    spread = np.std(mature - table["delivery_ga_weeks"].to_numpy())
    assert spread == pytest.approx(cohort.MATURITY_BIO_SD_WEEKS, rel=0.15)
    logit = np.log(outcome.RISK_AT_39_WEEKS / (1 - outcome.RISK_AT_39_WEEKS)) + np.log(
        outcome.ODDS_RATIO_PER_WEEK
    ) * (mature - 39.0)
    expected = (1 / (1 + np.exp(-logit))).sum()
    assert abs(y.sum() - expected) < 4 * np.sqrt(expected)  # Bernoulli draws of that risk
    less_mature = mature < np.median(mature)
    assert y[less_mature].mean() > y[~less_mature].mean()
