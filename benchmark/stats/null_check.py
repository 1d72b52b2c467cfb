"""The leak detector's verdict, pooled over independent null cohorts (docs/synthetic.md: "One
null cohort is not a leak test").

On ``synthetic-null`` nothing in the pixels depends on GA, so a method's test r is pure
sampling noise with SD ≈ 1/√n: one cohort of 150 test patients gives |r| > 0.16 in about
one method in twenty. A single seed cannot tell a leak from chance; cohorts drawn with
different dataset seeds are independent, so their Fisher z values pool by inverse variance
(a fixed-effect meta-analysis: under "no leak" every cohort has the same true r = 0).

r is taken within each test fold, never across folds: predictions pooled over k-fold test
sets are biased negative under the null (each fold's training mean moves against that
fold's own GA), which a two-sided test would eventually call a leak.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from benchmark.stats.comparisons import holm
from benchmark.stats.metrics import select_level

#: Power the "smallest detectable r" column is computed for.
POWER = 0.8
NO_LEAK, LEAK, UNTESTABLE = "no evidence of a leak", "LEAK?", "not testable"
NULL_OK, NOT_NULL = "cohort is null", "COHORT NOT NULL?"


def fold_r(predictions: pd.DataFrame) -> pd.DataFrame:
    """Patient-level r and n of each method on each test fold of each null cohort."""
    preds = select_level(predictions, "patient")
    keys = ["label", "dataset_seed", "seed", "fold"]
    rows = []
    for (label, dataset_seed, seed, fold), sub in preds.groupby(keys, sort=True):
        x, y = sub["ga_true"].to_numpy(float), sub["ga_pred"].to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        r = stats.pearsonr(x, y).statistic if len(x) > 3 and np.ptp(x) and np.ptp(y) else np.nan
        rows.append(
            {
                "method": label,
                "dataset_seed": int(dataset_seed),
                "seed": int(seed),
                "fold": int(fold),
                "n": len(x),
                "r": float(r),
            }
        )
    return pd.DataFrame(rows, columns=["method", "dataset_seed", "seed", "fold", "n", "r"])


def pool_fisher_z(
    r: np.ndarray, n: np.ndarray, alpha: float = 0.05, n_tests: int = 1
) -> dict[str, float]:
    """Inverse-variance pooled r over independent test sets.

    The CI is at level 1 − alpha/n_tests and the detectable r (80 % power) at alpha/n_tests:
    Bonferroni, so both agree with a Holm verdict over ``n_tests`` methods (Holm rejects at
    least as often, never less).
    """
    r, n = np.asarray(r, float), np.asarray(n, float)
    ok = np.isfinite(r) & (n > 3)
    weight = n[ok] - 3
    out = {
        "r_pooled": np.nan,
        "lo": np.nan,
        "hi": np.nan,
        "p": np.nan,
        "detectable_r": np.nan,
        "n_pooled": int(n[ok].sum()),
    }
    if not weight.sum():
        return out
    z = np.arctanh(np.clip(r[ok], -0.999999, 0.999999))
    se = 1 / np.sqrt(weight.sum())
    z_bar = float((weight * z).sum() / weight.sum())
    a = alpha / max(n_tests, 1)
    q = stats.norm.ppf(1 - a / 2)
    out.update(
        r_pooled=float(np.tanh(z_bar)),
        lo=float(np.tanh(z_bar - q * se)),
        hi=float(np.tanh(z_bar + q * se)),
        p=float(2 * stats.norm.sf(abs(z_bar) / se)),
        detectable_r=float(np.tanh((q + stats.norm.ppf(POWER)) * se)),
    )
    return out


def per_cohort(folds: pd.DataFrame) -> pd.DataFrame:
    """Each method's r on each cohort (its folds pooled), for display and the seed list."""
    rows = []
    for (label, dataset_seed), sub in folds.groupby(["method", "dataset_seed"], sort=True):
        pooled = pool_fisher_z(sub["r"], sub["n"])
        rows.append(
            {
                "method": label,
                "dataset_seed": dataset_seed,
                "n": pooled["n_pooled"],
                "r": pooled["r_pooled"],
                "p": pooled["p"],
            }
        )
    return pd.DataFrame(rows, columns=["method", "dataset_seed", "n", "r", "p"])


def null_check(
    folds: pd.DataFrame, alpha: float = 0.05, controls: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """One row per method: pooled r [CI], Holm-adjusted p and the verdict.

    ``controls`` (e.g. the oracle, which reads the simulated maturity) check the cohort
    itself: they are tested alone, outside the methods' Holm family.
    """
    cohorts = per_cohort(folds)
    labels = sorted(folds["method"].unique())
    n_methods = sum(label not in controls for label in labels)
    rows = []
    for label in labels:
        sub = folds[folds["method"] == label]
        control = label in controls
        pooled = pool_fisher_z(sub["r"], sub["n"], alpha, 1 if control else n_methods)
        mine = cohorts[cohorts["method"] == label]
        rows.append(
            {
                "method": label,
                "role": "control" if control else "method",
                "cohorts": int(mine["r"].notna().sum()),
                "significant_alone": int((mine["p"] < alpha).sum()),
                **pooled,
            }
        )
    columns = [
        "method",
        "role",
        "cohorts",
        "significant_alone",
        "r_pooled",
        "lo",
        "hi",
        "p",
        "detectable_r",
        "n_pooled",
        "p_adjusted",
        "verdict",
    ]
    table = pd.DataFrame(rows, columns=columns[:-2])
    if table.empty:
        return pd.DataFrame(columns=columns)
    is_method = table["role"] == "method"
    table["p_adjusted"] = table["p"]
    table.loc[is_method, "p_adjusted"] = holm(table.loc[is_method, "p"]).to_numpy()
    flagged = table["p_adjusted"] < alpha
    table["verdict"] = np.where(
        is_method, np.where(flagged, LEAK, NO_LEAK), np.where(flagged, NOT_NULL, NULL_OK)
    )
    table.loc[table["p_adjusted"].isna(), "verdict"] = UNTESTABLE
    return table.sort_values(["role", "method"], ascending=[False, True], ignore_index=True)
