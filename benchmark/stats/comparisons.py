"""Table 2: each method's absolute error vs a reference method, per GA group.

Default: paired t-test and Wilcoxon signed-rank on the same patients, Holm-corrected over
all methods × groups.  The paper compared groups with an unpaired two-sample t-test; that
is available (``unpaired=True``) and :func:`ttest_from_summary` recomputes it from the
published means, SDs and n alone, so a paper's table can be checked.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from benchmark.stats.metrics import pooled_patient_predictions


@dataclass(frozen=True)
class TTest:
    t: float
    p: float
    df: float


def ttest_from_summary(
    mean1: float,
    sd1: float,
    n1: int,
    mean2: float,
    sd2: float,
    n2: int,
    equal_var: bool = True,
) -> TTest:
    """Two-sample t-test from summary statistics only (Student's, or Welch's)."""
    result = stats.ttest_ind_from_stats(mean1, sd1, n1, mean2, sd2, n2, equal_var=equal_var)
    if equal_var:
        df = n1 + n2 - 2
    else:
        v1, v2 = sd1**2 / n1, sd2**2 / n2
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    return TTest(float(result.statistic), float(result.pvalue), float(df))


@contextlib.contextmanager
def _no_forced_collection() -> Iterator[None]:
    # statsmodels' Holm branch (stats/multitest.py, 0.14-0.15) ends with gc.collect(): a
    # full collection of the caller's heap on every call, ~0.09 s each in a report process
    # and 29 % of a small run's table build (6 Holm families), for arrays of a few floats
    collect = gc.collect
    gc.collect = lambda generation=2: 0
    try:
        yield
    finally:
        gc.collect = collect


def holm(pvalues: pd.Series) -> pd.Series:
    """Holm step-down adjusted p-values (NaNs are left out of the family and stay NaN)."""
    out = pd.Series(np.nan, index=pvalues.index, dtype=float)
    valid = pvalues.notna()
    if valid.any():
        with _no_forced_collection():
            out[valid] = multipletests(pvalues[valid].to_numpy(), method="holm")[1]
    return out


def _paired(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    if len(a) < 2:
        return {"t": np.nan, "p_t": np.nan, "w": np.nan, "p_w": np.nan}
    diff = a - b
    if np.allclose(diff, diff[0]):  # constant difference: the t statistic is undefined
        t, p_t = np.nan, np.nan
    else:
        res = stats.ttest_rel(a, b)
        t, p_t = float(res.statistic), float(res.pvalue)
    if np.all(diff == 0):
        w, p_w = np.nan, np.nan
    else:
        wres = stats.wilcoxon(a, b)
        w, p_w = float(wres.statistic), float(wres.pvalue)
    return {"t": t, "p_t": p_t, "w": w, "p_w": p_w}


def _unpaired(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    if len(a) < 2 or len(b) < 2:
        return {"t": np.nan, "p_t": np.nan, "w": np.nan, "p_w": np.nan}
    res = stats.ttest_ind(a, b, equal_var=True)
    mw = stats.mannwhitneyu(a, b, alternative="two-sided")
    return {
        "t": float(res.statistic),
        "p_t": float(res.pvalue),
        "w": float(mw.statistic),
        "p_w": float(mw.pvalue),
    }


def table2(
    predictions: pd.DataFrame,
    reference: str,
    level: str = "patient",
    unpaired: bool = False,
) -> pd.DataFrame:
    """Absolute error (weeks) per method × group vs ``reference`` on the same patients.

    Rows: every method (the reference included, without tests) × (``all`` + each group).
    Paired tests use the patients both methods predicted; t > 0 means the method's error
    is larger than the reference's.  ``p_t_holm``/``p_w_holm`` are Holm-adjusted over
    every method × group row that has a test.
    """
    pooled = pooled_patient_predictions(predictions, level)
    pooled["abs_err"] = (pooled["ga_pred"] - pooled["ga_true"]).abs()
    keys = ["patient_id"] + (["image_id"] if level == "image" else [])
    by_label = {label: frame.set_index(keys) for label, frame in pooled.groupby("label")}
    if reference not in by_label:
        raise LookupError(
            f"reference method {reference!r} has no predictions in this run "
            f"(methods: {', '.join(sorted(by_label)) or 'none'})"
        )
    ref = by_label[reference]
    rows = []
    for label in sorted(by_label):
        frame = by_label[label]
        for group in ["all", *sorted(frame["group"].unique())]:
            sub = frame if group == "all" else frame[frame["group"] == group]
            ref_sub = ref if group == "all" else ref[ref["group"] == group]
            row = {
                "method": label,
                "group": group,
                "n": len(sub),
                "mae": sub["abs_err"].mean(),
                "mae_sd": sub["abs_err"].std(ddof=1) if len(sub) > 1 else np.nan,
                "ref_mae": ref_sub["abs_err"].mean(),
            }
            if label == reference:
                row.update(n_pairs=np.nan, t=np.nan, p_t=np.nan, w=np.nan, p_w=np.nan)
            elif unpaired:
                row["n_pairs"] = np.nan
                row.update(_unpaired(sub["abs_err"].to_numpy(), ref_sub["abs_err"].to_numpy()))
            else:
                common = sub.index.intersection(ref_sub.index)
                row["n_pairs"] = len(common)
                row.update(
                    _paired(
                        sub.loc[common, "abs_err"].to_numpy(),
                        ref_sub.loc[common, "abs_err"].to_numpy(),
                    )
                )
            rows.append(row)
    table = pd.DataFrame(rows)
    table["p_t_holm"] = holm(table["p_t"])
    table["p_w_holm"] = holm(table["p_w"])
    return table
