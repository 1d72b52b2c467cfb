"""The floors and vs_best tables: every image method against each declared floor and
against the run's best image method by r, with a paired patient-bootstrap CI of the
difference and a verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.report.data import RunData
from benchmark.report.registry import ReportContext
from benchmark.report.sections.floors import floor_comparisons, floors_table, verdict

N = 150


def _predictions() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    ga = rng.uniform(24, 40, N)
    floor = ga + rng.normal(0, 6, N)  # r ≈ 0.6
    preds = {
        "patchstats-ridge": floor,  # the floor (declared below)
        "glcm-ridge": ga + rng.normal(0, 1, N),  # far above it
        "glcm-rf": floor + rng.normal(0, 0.3, N),  # the floor's twin: no difference
        "unet-scratch": rng.normal(32, 3, N),  # reads nothing: below
        "dummy-mean": np.full(N, 32.0),  # a floor without an r: not a comparison
        "biometry-hadlock": ga + rng.normal(0, 1, N),  # tabular: not read against patches
    }
    rows = [
        pd.DataFrame(
            {
                "label": label,
                "patient_id": [f"P{i:03d}" for i in range(N)],
                "ga_true": ga,
                "ga_pred": pred,
                "group": "all-ga",
                "seed": 0,
                "fold": 0,
                "level": "patient",
                "provenance": "measured",
            }
        )
        for label, pred in preds.items()
    ]
    cells = pd.DataFrame(
        {
            "label": list(preds),
            "method": list(preds),
            "role": ["floor", None, None, None, "floor", "reference"],
            "control_of": None,
        }
    )
    return pd.concat(rows, ignore_index=True), cells


def _context(predictions: pd.DataFrame, cells: pd.DataFrame) -> ReportContext:
    return ReportContext(
        RunData(
            root=Path("."),
            predictions=predictions,
            cells=cells,
            run={},
            dsc=pd.DataFrame(),
            curves=pd.DataFrame(),
        )
    )


@pytest.fixture
def ctx() -> ReportContext:
    return _context(*_predictions())


def test_each_image_method_against_each_floor_with_an_r(ctx):
    comp = floor_comparisons(ctx).set_index("method_a")
    assert set(comp["method_b"]) == {"patchstats-ridge"}  # dummy-mean reads no image
    assert set(comp.index) == {"glcm-ridge", "glcm-rf", "unet-scratch"}  # no biometry
    assert comp.at["glcm-ridge", "verdict"] == "above"
    assert comp.at["glcm-rf", "verdict"] == "not distinguishable"
    assert comp.at["unet-scratch", "verdict"] == "below"
    lo, hi = comp.at["glcm-ridge", "diff_lo"], comp.at["glcm-ridge", "diff_hi"]
    assert 0 < lo < comp.at["glcm-ridge", "r_a"] - comp.at["glcm-ridge", "r_b"] < hi


def test_table_and_verdict_wording(ctx):
    table = floors_table(ctx)
    assert table.name == "floors_patient"
    assert list(table.display["vs the floor"]) == ["above", "not distinguishable", "below"]
    assert verdict(np.nan, 0.1) == "—" and verdict(-0.2, -0.01) == "below"


def test_every_image_method_against_the_best_one():
    from benchmark.report.sections.best import best_comparisons, vs_best_table

    predictions, cells = _predictions()
    # a second method as good as the best (same error SD): tied with it, while the
    # floor's twin is below it
    best = predictions[predictions["label"] == "glcm-ridge"].copy()
    rng = np.random.default_rng(1)
    best["label"], best["ga_pred"] = "glcm-svr", best["ga_true"] + rng.normal(0, 1, N)
    # a net that collapsed to a constant has no r: listed, not dropped
    flat = best.assign(label="timm-test_resnet", ga_pred=32.0)
    extra = pd.DataFrame(
        {
            "label": ["glcm-svr", "timm-test_resnet"],
            "method": ["glcm-svr", "timm-test_resnet"],
            "role": [None, None],
            "control_of": None,
        }
    )
    twin_ctx = _context(pd.concat([predictions, best, flat]), pd.concat([cells, extra]))
    comp = best_comparisons(twin_ctx).set_index("method_a")
    best_label = comp["method_b"].iloc[0]
    assert best_label in {"glcm-ridge", "glcm-svr"}  # floors and biometry never compete
    other = ({"glcm-ridge", "glcm-svr"} - {best_label}).pop()
    assert set(comp.index) == {other, "glcm-rf", "unet-scratch", "timm-test_resnet"}
    assert comp.at["timm-test_resnet", "verdict"] == "—"
    assert comp.at[other, "verdict"] == "not distinguishable"
    assert comp.at["glcm-rf", "verdict"] == comp.at["unet-scratch", "verdict"] == "below"
    table = vs_best_table(twin_ctx)
    assert table.name == "vs_best_patient"
    assert list(table.display["vs the best"]) == [
        "best",
        "not distinguishable",
        "below",
        "below",
        "—",
    ]
    assert table.display["method"].iloc[0] == best_label
    # one image method: nothing to compare
    alone = predictions[predictions["label"].isin(["glcm-ridge", "patchstats-ridge"])]
    assert vs_best_table(_context(alone, cells)) is None
