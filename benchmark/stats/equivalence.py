"""Tests GA-dating trials use: equivalence to the reference (TOST) and the share of
patients within the ACOG redating tolerance of their GA window.

Equivalence: two one-sided paired t-tests (statsmodels ``ttost_paired``) of each
patient's absolute error of the method minus that of the reference (days), with a stated
margin ±M days: the method is equivalent when both one-sided p < 0.05, i.e. the 90 % CI
of the mean difference lies inside ±M.  Stringer et al. (JAMA 2024) judged an AI dating
tool equivalent to sonographer biometry this way (MAE 3.2 vs 3.0 days).

ACOG Committee Opinion 700 (2017, "Methods for estimating the due date"): an ultrasound
that differs from the dating by more than the window's tolerance changes the dating;
from 22+0 to 27+6 weeks the tolerance is 14 days, from 28+0 weeks 21 days (and 7 d before
16+0, 10 d at 16+0–21+6).  A method within the tolerance would not have triggered a
redating on that patient.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW, ttost_paired

DAYS_PER_WEEK = 7.0
#: (window start in weeks, label, tolerance in days), ACOG CO 700 Table 1.
ACOG_WINDOWS = (
    (0.0, "≤15+6 wk", 7),
    (16.0, "16+0–21+6 wk", 10),
    (22.0, "22+0–27+6 wk", 14),
    (28.0, "≥28+0 wk", 21),
)
DEFAULT_MARGIN_DAYS = 2.0


def acog_window(ga_weeks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Window label and redating tolerance (days) of each GA at the scan."""
    ga = np.asarray(ga_weeks, float)
    starts = np.array([w[0] for w in ACOG_WINDOWS])
    k = np.searchsorted(starts, ga, side="right") - 1
    return (
        np.array([ACOG_WINDOWS[i][1] for i in k]),
        np.array([ACOG_WINDOWS[i][2] for i in k], float),
    )


def acog_tolerance(pooled: pd.DataFrame) -> pd.DataFrame:
    """Per method × (all + ACOG window of the true GA): n, tolerance and % within it."""
    rows = []
    for label, sub in pooled.groupby("label", sort=True):
        window, tol = acog_window(sub["ga_true"].to_numpy())
        err_days = (sub["ga_pred"] - sub["ga_true"]).abs().to_numpy() * DAYS_PER_WEEK
        within = err_days <= tol
        rows.append(
            {
                "method": label,
                "window": "all",
                "tolerance_days": np.nan,
                "n": len(sub),
                "within": float(within.mean()),
            }
        )
        for name in [w[1] for w in ACOG_WINDOWS if (window == w[1]).any()]:
            mask = window == name
            rows.append(
                {
                    "method": label,
                    "window": name,
                    "tolerance_days": float(tol[mask][0]),
                    "n": int(mask.sum()),
                    "within": float(within[mask].mean()),
                }
            )
    return pd.DataFrame(rows)


def equivalence(
    pooled: pd.DataFrame, reference: str, margin_days: float = DEFAULT_MARGIN_DAYS
) -> pd.DataFrame:
    """Per method: paired TOST of |error| (days) against ``reference`` on the patients both
    predicted; diff = MAE method − MAE reference with its 90 % CI."""
    pooled = pooled.assign(abs_days=(pooled["ga_pred"] - pooled["ga_true"]).abs() * DAYS_PER_WEEK)
    by_label = {k: v.set_index("patient_id")["abs_days"] for k, v in pooled.groupby("label")}
    if reference not in by_label:
        return pd.DataFrame()
    ref = by_label[reference]
    rows = []
    for label in sorted(by_label):
        if label == reference:
            continue
        common = by_label[label].index.intersection(ref.index)
        a, b = by_label[label].loc[common].to_numpy(), ref.loc[common].to_numpy()
        row = {
            "method": label,
            "reference": reference,
            "n_pairs": len(common),
            "margin_days": margin_days,
            "mae_days": a.mean(),
            "ref_mae_days": b.mean(),
        }
        if len(common) >= 3 and np.ptp(a - b) > 0:
            p, _, _ = ttost_paired(a, b, -margin_days, margin_days)
            lo, hi = DescrStatsW(a - b).tconfint_mean(alpha=0.10)
            row.update(
                diff=float(np.mean(a - b)), diff_lo=float(lo), diff_hi=float(hi), p_tost=float(p)
            )
        rows.append(row)
    columns = [
        "method",
        "reference",
        "n_pairs",
        "margin_days",
        "mae_days",
        "ref_mae_days",
        "diff",
        "diff_lo",
        "diff_hi",
        "p_tost",
    ]
    return pd.DataFrame(rows).reindex(columns=columns)


#: Shares of patients referred along the error-versus-rejection curve.
REFERRED = tuple(round(0.05 * k, 2) for k in range(11))


def rejection_curve(
    intervals: pd.DataFrame, fractions: tuple[float, ...] = REFERRED
) -> pd.DataFrame:
    """MAE (weeks) of the patients kept when the widest-interval fraction is referred,
    per method (ties in width broken by patient id: deterministic)."""
    rows = []
    frame = intervals.dropna(subset=["lower", "upper"])
    for label, sub in frame.groupby("label", sort=True):
        sub = sub.assign(
            width=sub["upper"] - sub["lower"], err=(sub["ga_pred"] - sub["ga_true"]).abs()
        )
        sub = sub.sort_values(["width", "patient_id"], ascending=[True, True], kind="stable")
        for f in fractions:
            keep = sub.iloc[: max(1, int(round(len(sub) * (1 - f))))]
            rows.append(
                {
                    "method": label,
                    "referred": float(f),
                    "n_kept": len(keep),
                    "mae_kept": float(keep["err"].mean()),
                }
            )
    return pd.DataFrame(rows)
