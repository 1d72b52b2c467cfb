"""Comparing two methods' correlations with true GA on the same patients.

The paper reports r = 0.773 with transfer and 0.521 without, on the same test women.  The
two r share one variable (true GA) and the same patients, so they are *dependent*:
Williams' t (Steiger 1980, eq. 7) tests r(true, A) = r(true, B) given r(A, B); a paired
patient bootstrap of r_A − r_B gives a distribution-free check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from benchmark.stats.metrics import (
    BOOT_SEED,
    N_BOOT,
    bootstrap_correlations,
    pooled_patient_predictions,
)


def williams_t(r12: float, r13: float, r23: float, n: int) -> tuple[float, float]:
    """Williams' t for H0: r12 = r13 (variable 1 shared), df = n − 3; returns (t, p)."""
    det = 1 - r12**2 - r13**2 - r23**2 + 2 * r12 * r13 * r23
    rbar = (r12 + r13) / 2
    denom = 2 * (n - 1) / (n - 3) * det + rbar**2 * (1 - r23) ** 3
    if not denom > 1e-12:  # the two estimates are linear in each other: nothing to test
        return float("nan"), float("nan")
    t = (r12 - r13) * np.sqrt((n - 1) * (1 + r23) / denom)
    p = 2 * stats.t.sf(abs(t), n - 3)
    return float(t), float(p)


def paired_bootstrap_r_diff(
    true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    clusters: np.ndarray,
    level: float = 0.95,
    n_boot: int = N_BOOT,
    seed: int = BOOT_SEED,
) -> tuple[float, float, float]:
    """Percentile CI of r(true, A) − r(true, B) resampling patients; (lo, hi, two-sided p)."""
    # the same seed draws the same resamples for both, so each difference is paired
    diffs = bootstrap_correlations(true, pred_a, clusters, n_boot, seed) - bootstrap_correlations(
        true, pred_b, clusters, n_boot, seed
    )
    diffs = diffs[np.isfinite(diffs)]
    if not len(diffs):
        return (np.nan, np.nan, np.nan)
    alpha = (1 - level) / 2
    p = min(1.0, 2 * min((diffs <= 0).mean(), (diffs >= 0).mean()))
    return float(np.quantile(diffs, alpha)), float(np.quantile(diffs, 1 - alpha)), float(p)


def compare_correlations(
    predictions: pd.DataFrame, pairs: list[tuple[str, str]], level: str = "patient"
) -> pd.DataFrame:
    """Williams' t and a paired bootstrap for each pair, overall and per group."""
    pooled = pooled_patient_predictions(predictions, level)
    keys = ["patient_id"] + (["image_id"] if level == "image" else [])
    rows = []
    for a, b in pairs:
        fa = pooled[pooled["label"] == a].set_index(keys)
        fb = pooled[pooled["label"] == b].set_index(keys)
        common = fa.index.intersection(fb.index)
        fa, fb = fa.loc[common], fb.loc[common]
        for group in ["all", *sorted(fa["group"].unique())]:
            mask = np.ones(len(fa), bool) if group == "all" else (fa["group"] == group).to_numpy()
            true = fa["ga_true"].to_numpy()[mask]
            pa, pb = fa["ga_pred"].to_numpy()[mask], fb["ga_pred"].to_numpy()[mask]
            patients = fa.index.get_level_values("patient_id").to_numpy()[mask]
            row = {"method_a": a, "method_b": b, "group": group, "n": int(mask.sum())}
            if mask.sum() < 5 or min(np.ptp(true), np.ptp(pa), np.ptp(pb)) == 0:
                row.update(
                    r_a=np.nan,
                    r_b=np.nan,
                    r_ab=np.nan,
                    williams_t=np.nan,
                    p_williams=np.nan,
                    diff_lo=np.nan,
                    diff_hi=np.nan,
                    p_boot=np.nan,
                )
            else:
                r_a = stats.pearsonr(true, pa).statistic
                r_b = stats.pearsonr(true, pb).statistic
                r_ab = stats.pearsonr(pa, pb).statistic
                t, p = williams_t(r_a, r_b, r_ab, int(mask.sum()))
                lo, hi, p_boot = paired_bootstrap_r_diff(true, pa, pb, patients)
                row.update(
                    r_a=r_a,
                    r_b=r_b,
                    r_ab=r_ab,
                    williams_t=t,
                    p_williams=p,
                    diff_lo=lo,
                    diff_hi=hi,
                    p_boot=p_boot,
                )
            rows.append(row)
    return pd.DataFrame(rows)
