"""The pooled leak detector: its statistics, and the verb on tiny null cohorts."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmark.stats.null_check import (
    LEAK,
    NO_LEAK,
    NOT_NULL,
    NULL_OK,
    UNTESTABLE,
    fold_r,
    null_check,
    pool_fisher_z,
)


def test_pooled_r_is_the_inverse_variance_mean_of_fisher_z():
    r, n = np.array([0.10, -0.05, 0.20]), np.array([150, 100, 60])
    w = n - 3
    z = (w * np.arctanh(r)).sum() / w.sum()
    got = pool_fisher_z(r, n)
    assert got["r_pooled"] == pytest.approx(np.tanh(z))
    assert got["p"] == pytest.approx(2 * stats.norm.sf(abs(z) * np.sqrt(w.sum())))
    assert got["lo"] < got["r_pooled"] < got["hi"]
    # 80 % power at alpha 0.05: (1.96 + 0.84) standard errors
    assert got["detectable_r"] == pytest.approx(np.tanh(2.8016 / np.sqrt(w.sum())), rel=1e-3)
    # over 10 methods the CI and the power bound use alpha / 10 (Bonferroni)
    wide = pool_fisher_z(r, n, n_tests=10)
    q = stats.norm.ppf(1 - 0.005 / 2)
    assert wide["hi"] == pytest.approx(np.tanh(z + q / np.sqrt(w.sum())))
    assert wide["detectable_r"] > got["detectable_r"]


def _folds(
    true_r: float, k: int, n: int, rng: np.random.Generator, label: str = "m"
) -> pd.DataFrame:
    rows = []
    for seed in range(k):
        x = rng.normal(size=n)
        y = true_r * x + np.sqrt(1 - true_r**2) * rng.normal(size=n)
        rows.append(
            {
                "method": label,
                "dataset_seed": seed,
                "seed": 0,
                "fold": 0,
                "n": n,
                "r": stats.pearsonr(x, y).statistic,
            }
        )
    return pd.DataFrame(rows)


def test_a_small_leak_missed_by_single_cohorts_is_caught_when_pooled():
    folds = _folds(0.12, k=10, n=150, rng=np.random.default_rng(0))
    table = null_check(folds)
    assert table.loc[0, "significant_alone"] < 10  # one cohort alone often misses it
    assert table.loc[0, "verdict"] == LEAK


def test_false_alarm_rate_under_the_null_is_about_alpha():
    # 1,000 checks of 5 null cohorts × 150 patients (one method: the verdict is p < alpha)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(2, 1000, 5, 150))
    xc, yc = x - x.mean(-1, keepdims=True), y - y.mean(-1, keepdims=True)
    r = (xc * yc).sum(-1) / np.sqrt((xc**2).sum(-1) * (yc**2).sum(-1))
    alarms = [pool_fisher_z(row, np.full(5, 150))["p"] < 0.05 for row in r]
    assert 0.03 < np.mean(alarms) < 0.07  # alpha = 0.05; binomial SD ≈ 0.007


def test_holm_over_methods_and_controls_tested_alone():
    r = {"a": [0.01, -0.02, 0.03], "b": [0.30, 0.25, 0.28], "oracle": [0.30, 0.25, 0.28]}
    folds = pd.DataFrame(
        [
            {"method": m, "dataset_seed": k, "seed": 0, "fold": 0, "n": 150, "r": value}
            for m, values in r.items()
            for k, value in enumerate(values)
        ]
    )
    table = null_check(folds, controls=frozenset({"oracle"})).set_index("method")
    raw = {
        m: pool_fisher_z(folds.loc[folds.method == m, "r"], folds.loc[folds.method == m, "n"])["p"]
        for m in "ab"
    }
    # two methods in the family: the smaller p doubles, the larger is max(2·p_min, p)
    assert table.loc["b", "p_adjusted"] == pytest.approx(min(1, 2 * raw["b"]))
    assert table.loc["a", "p_adjusted"] == pytest.approx(max(2 * raw["b"], raw["a"]))
    assert table.loc["oracle", "p_adjusted"] == table.loc["oracle", "p"]
    assert table.loc["b", "verdict"] == LEAK and table.loc["a", "verdict"] == NO_LEAK
    assert table.loc["oracle", "verdict"] == NOT_NULL
    assert list(table.index) == ["a", "b", "oracle"]  # methods first, then controls


def test_constant_predictions_are_not_testable_not_clean():
    folds = pd.DataFrame(
        {"method": "flat", "dataset_seed": [0, 1], "seed": 0, "fold": 0, "n": 150, "r": np.nan}
    )
    row = null_check(folds).iloc[0]
    assert row["verdict"] == UNTESTABLE and row["cohorts"] == 0
    assert null_check(folds.iloc[:0]).empty


def _kfold_null_predictions(rng: np.random.Generator, n: int = 300, k: int = 5) -> pd.DataFrame:
    """A method that learned nothing: it predicts its training fold's mean GA (+ noise)."""
    ga = rng.uniform(24, 40, n)
    fold = rng.permutation(np.arange(n) % k)
    pred = np.empty(n)
    for f in range(k):
        test = fold == f
        pred[test] = ga[~test].mean() + rng.normal(0, 0.01, test.sum())
    return pd.DataFrame(
        {
            "label": "m",
            "dataset_seed": 0,
            "seed": 0,
            "fold": fold,
            "level": "patient",
            "ga_true": ga,
            "ga_pred": pred,
        }
    )


def test_r_is_taken_within_folds_so_kfold_is_not_biased_under_the_null():
    rng = np.random.default_rng(3)
    within, across = [], []
    for _ in range(200):
        preds = _kfold_null_predictions(rng)
        within.append(pool_fisher_z(*fold_r(preds)[["r", "n"]].to_numpy().T)["r_pooled"])
        across.append(stats.pearsonr(preds["ga_true"], preds["ga_pred"]).statistic)
    # across folds, each fold's training mean moves against that fold's own GA
    assert np.mean(across) < -0.05
    assert abs(np.mean(within)) < 3 * np.std(within) / np.sqrt(200)


def test_selections_keep_their_parameters_and_refuse_tabular_methods():
    from benchmark.cli.commands.null_check import select_methods

    run, refused, controls = select_methods(
        ["glcm-ridge[levels=[16,32]]", "biometry-*", "dummy-mean", "oracle"]
    )
    assert run == ["glcm-ridge[levels=[16,32]]", "oracle"]
    assert "biometry-hadlock" in refused and "dummy-mean" in refused
    assert controls == ["oracle"]
    default_run, default_refused, default_controls = select_methods(None)
    assert default_refused == [] and default_controls == ["oracle"]
    assert "glcm-ridge" in default_run and "biometry-hadlock" not in default_run


def test_verb_pools_cohorts_and_refuses_tabular_methods(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "benchmark",
        "null-check",
        "--patients",
        "24",
        "--images-per-patient",
        "1",
        "--methods",
        "oracle",
        "biometry-hadlock",
        "--dataset-seeds",
        "0",
        "1",
        "--n-jobs",
        "1",
        "--runs-dir",
        str(tmp_path),
    ]
    env = {**os.environ, "FLB_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "not checked: biometry-hadlock" in proc.stderr
    (out,) = tmp_path.glob("null-check_*")
    table = pd.read_csv(out / "null_check.csv")
    per = pd.read_csv(out / "per_cohort.csv")
    assert list(table["method"]) == ["oracle"] and table.loc[0, "role"] == "control"
    assert table.loc[0, "cohorts"] == 2 and table.loc[0, "verdict"] in (NULL_OK, NOT_NULL)
    assert proc.returncode == (0 if table.loc[0, "verdict"] == NULL_OK else 1)
    assert sorted(per["dataset_seed"]) == [0, 1]
    assert per["r"].nunique() == 2  # two different cohorts, not one read twice
    assert "| oracle | control | 0: " in (out / "null_check.md").read_text()


def test_verb_refuses_a_folder_pooled_as_if_independent(tmp_path, tabular_cohort):
    cmd = [
        sys.executable,
        "-m",
        "benchmark",
        "null-check",
        "--dataset",
        str(tabular_cohort),
        "--methods",
        "glcm-ridge",
        "--dataset-seeds",
        "0",
        "1",
        "--n-jobs",
        "1",
        "--runs-dir",
        str(tmp_path),
    ]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env={**os.environ, "FLB_CACHE": str(tmp_path / "cache")},
    )
    assert proc.returncode != 0
    assert "gave the same cohort" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("*_paper_*"))  # refused before any method ran


def test_output_folder_key_includes_sites():
    import argparse

    from benchmark.cli.commands.null_check import _out_dir

    base = dict(
        dataset="synthetic-null",
        methods=["glcm-ridge"],
        dataset_seeds=[0, 1],
        split="paper",
        seeds=[0],
        patients=None,
        images_per_patient=None,
        runs_dir="runs",
    )
    plain = _out_dir(argparse.Namespace(**base))
    assert _out_dir(argparse.Namespace(**base, sites=None)) == plain  # old folders keep theirs
    three = _out_dir(argparse.Namespace(**base, sites=3))
    assert three != plain and three != _out_dir(argparse.Namespace(**base, sites=2))
