"""The oracle reads simulated maturity; it must beat the training mean by far."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from benchmark import create_method
from benchmark.data.sources import list_datasets


def _views(n: int = 300, null: bool = False):
    list_datasets()
    cohort = importlib.import_module("benchmark._plugins.datasets._synth_cohort")
    df = cohort.make_cohort(n, seed=7, null=null).set_index("patient_id")
    df = df[[c for c in df.columns if not c.startswith("_")]]
    images = pd.DataFrame(
        {"patient_id": np.repeat(df.index, 2)}, index=[f"{p}_{k}" for p in df.index for k in (1, 2)]
    )
    train_ids, test_ids = df.index[: n // 2], df.index[n // 2 :]
    train = SimpleNamespace(
        patients=df.loc[train_ids], images=images[images["patient_id"].isin(train_ids)]
    )
    test = SimpleNamespace(
        patients=df.loc[test_ids].drop(columns="ga_weeks"),
        images=images[images["patient_id"].isin(test_ids)],
    )
    truth = images.loc[test.images.index, "patient_id"].map(df["ga_weeks"])
    return train, test, truth, SimpleNamespace(patient_columns=tuple(df.columns))


def test_oracle_is_far_better_than_the_mean() -> None:
    train, test, truth, cohort = _views()
    oracle = create_method("oracle")
    assert oracle.skip(cohort) == (False, None)
    pred = oracle.fit(train).predict(test)
    assert pred.index.equals(test.images.index) and pred.notna().all()
    mae = (pred - truth).abs().mean()
    floor = (train.patients["ga_weeks"].mean() - truth).abs().mean()
    assert mae < 1.5 < floor  # biological variation SD 1.2 wk → MAE ≈ 1 wk
    assert np.corrcoef(pred, truth)[0, 1] > 0.9


def test_oracle_uses_per_image_maturity_when_present() -> None:
    train, test, _, _ = _views(60)
    test.images = test.images.assign(truth_maturity=np.linspace(0, 1, len(test.images)))
    pred = create_method("oracle").fit(train).predict(test)
    assert pred.is_monotonic_increasing and pred.iloc[-1] > pred.iloc[0]


def test_oracle_is_blind_on_the_null_cohort() -> None:
    train, test, truth, _ = _views(2000, null=True)
    pred = create_method("oracle").fit(train).predict(test)
    assert abs(np.corrcoef(pred, truth)[0, 1]) < 4 / np.sqrt(len(truth) / 2)


def test_oracle_skips_real_data() -> None:
    dataset = SimpleNamespace(patient_columns=("ga_weeks",))
    skip, why = create_method("oracle").skip(dataset)
    assert skip and "truth" in why


@pytest.mark.parametrize("bad", [[], [np.nan, np.nan]])
def test_oracle_refuses_training_without_truth(bad) -> None:
    train = SimpleNamespace(
        patients=pd.DataFrame({"ga_weeks": [30.0] * len(bad), "truth_maturity": bad})
    )
    with pytest.raises(ValueError, match="truth_maturity"):
        create_method("oracle").fit(train)
