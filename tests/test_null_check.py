"""The pooled leak detector: its statistics, and the verb on tiny null cohorts."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmark.stats.null_check import null_check, pool_fisher_z


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


def _cohorts(true_r: float, k: int, n: int, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for seed in range(k):
        x = rng.normal(size=n)
        y = true_r * x + np.sqrt(1 - true_r**2) * rng.normal(size=n)
        res = stats.pearsonr(x, y)
        rows.append({"method": f"r={true_r}", "dataset_seed": seed, "n": n,
                     "r": res.statistic, "p": res.pvalue})
    return pd.DataFrame(rows)


def test_a_small_leak_missed_by_single_cohorts_is_caught_when_pooled():
    rng = np.random.default_rng(0)
    leak = _cohorts(0.12, k=10, n=150, rng=rng)
    assert leak["p"].lt(0.05).sum() < 10  # one cohort alone often misses it
    assert null_check(leak).loc[0, "verdict"] == "LEAK?"


def test_false_alarm_rate_under_the_null_is_about_alpha():
    rng = np.random.default_rng(1)
    alarms = [null_check(_cohorts(0.0, k=5, n=150, rng=rng)).loc[0, "verdict"] == "LEAK?"
              for _ in range(400)]
    assert 0.02 < np.mean(alarms) < 0.09  # alpha = 0.05; binomial SD ≈ 0.011


def test_verb_pools_cohorts_and_refuses_tabular_methods(tmp_path):
    cmd = [sys.executable, "-m", "benchmark", "null-check", "--patients", "24",
           "--images-per-patient", "1", "--methods", "oracle", "biometry-hadlock",
           "--dataset-seeds", "0", "1", "--n-jobs", "1", "--runs-dir", str(tmp_path)]
    env = {**os.environ, "FLB_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "not checked: biometry-hadlock" in proc.stderr
    (out,) = tmp_path.glob("null-check_*")
    table = pd.read_csv(out / "null_check.csv")
    per = pd.read_csv(out / "per_cohort.csv")
    assert list(table["method"]) == ["oracle"] and table.loc[0, "cohorts"] == 2
    assert sorted(per["dataset_seed"]) == [0, 1]
    assert per["r"].nunique() == 2  # two different cohorts, not one read twice
    assert "| oracle | 2 |" in (out / "null_check.md").read_text()
