"""The leak detector's verdict, pooled over independent null cohorts (spec §4).

On ``synthetic-null`` nothing in the pixels depends on GA, so a method's test r is pure
sampling noise with SD ≈ 1/√n: one cohort of 150 test patients gives |r| > 0.16 in about
one method in twenty. A single seed cannot tell a leak from chance; cohorts drawn with
different dataset seeds are independent, so their Fisher z values pool by inverse variance
(a fixed-effect meta-analysis: under "no leak" every cohort has the same true r = 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from benchmark.stats.comparisons import holm
from benchmark.stats.metrics import pearson_fisher_ci, select_level

#: Power the "smallest detectable r" column is computed for (two-sided test at alpha).
POWER = 0.8


def per_cohort_r(predictions: pd.DataFrame) -> pd.DataFrame:
    """Patient-level r and n of each method label on each null cohort (``dataset_seed``)."""
    rows = []
    preds = select_level(predictions, "patient")
    for (label, dataset_seed), sub in preds.groupby(["label", "dataset_seed"], sort=True):
        # repeated split seeds test each patient more than once: average them first
        per_patient = sub.groupby("patient_id").agg(ga_true=("ga_true", "first"),
                                                    ga_pred=("ga_pred", "mean"))
        c = pearson_fisher_ci(per_patient["ga_true"], per_patient["ga_pred"])
        rows.append({"method": label, "dataset_seed": int(dataset_seed),
                     "n": len(per_patient), "r": c.r, "p": c.p})
    return pd.DataFrame(rows, columns=["method", "dataset_seed", "n", "r", "p"])


def pool_fisher_z(r: np.ndarray, n: np.ndarray, level: float = 0.95,
                  alpha: float = 0.05) -> dict[str, float]:
    """Inverse-variance pooled r over independent cohorts, with its CI, p and power bound."""
    r, n = np.asarray(r, float), np.asarray(n, float)
    ok = np.isfinite(r) & (n > 3)
    weight = n[ok] - 3
    if not weight.sum():
        return {"r_pooled": np.nan, "lo": np.nan, "hi": np.nan, "p": np.nan,
                "detectable_r": np.nan}
    z = np.arctanh(np.clip(r[ok], -0.999999, 0.999999))
    se = 1 / np.sqrt(weight.sum())
    z_bar = float((weight * z).sum() / weight.sum())
    q = stats.norm.ppf(0.5 + level / 2)
    detectable = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(POWER)) * se
    return {"r_pooled": float(np.tanh(z_bar)), "lo": float(np.tanh(z_bar - q * se)),
            "hi": float(np.tanh(z_bar + q * se)), "p": float(2 * stats.norm.sf(abs(z_bar) / se)),
            "detectable_r": float(np.tanh(detectable))}


def null_check(per_cohort: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """One row per method: per-cohort r, pooled r [CI], Holm-adjusted p and the verdict."""
    rows = []
    for label, sub in per_cohort.groupby("method", sort=True):
        pooled = pool_fisher_z(sub["r"], sub["n"], alpha=alpha)
        rows.append({"method": label, "cohorts": int(sub["r"].notna().sum()),
                     "patients": int(sub["n"].sum()),
                     "r_mean": float(sub["r"].mean()), "r_sd": float(sub["r"].std(ddof=1)),
                     "significant_alone": int((sub["p"] < alpha).sum()), **pooled})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_holm"] = holm(table["p"]).to_numpy()
    table["verdict"] = np.where(table["p_holm"] < alpha, "LEAK?", "no evidence of a leak")
    return table
