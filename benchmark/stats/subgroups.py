"""Performance per subgroup of a categorical patient column (TRIPOD+AI item 23b:
fairness): n, MAE in days, calibration slope and conformal-interval coverage.

A subgroup with fewer than ``MIN_SUBGROUP`` patients is reported as too small to read,
with its n, never as a number: a slope or coverage from a handful of patients is noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.stats.calibration import calibration_line

MIN_SUBGROUP = 10
DAYS_PER_WEEK = 7.0


def subgroup_table(
    pooled: pd.DataFrame, intervals: pd.DataFrame, columns: dict[str, pd.Series]
) -> pd.DataFrame:
    """Per column × method × subgroup value.  ``columns``: name -> patient_id-indexed
    categorical values; ``intervals``: per-patient conformal bounds (``label``,
    ``patient_id``, ``lower``, ``upper``) or empty."""
    covered = pd.Series(dtype=float)
    if len(intervals):
        iv = intervals.dropna(subset=["lower", "upper"])
        inside = (iv["ga_true"] >= iv["lower"]) & (iv["ga_true"] <= iv["upper"])
        covered = pd.Series(
            inside.to_numpy(float), index=pd.MultiIndex.from_arrays([iv["label"], iv["patient_id"]])
        )
    rows = []
    for column, values in columns.items():
        value_of = pooled["patient_id"].astype(str).map(values.astype(str))
        for (label, value), sub in (
            pooled.assign(_value=value_of)
            .dropna(subset=["_value"])
            .groupby(["label", "_value"], sort=True)
        ):
            row = {"column": column, "method": label, "subgroup": value, "n": len(sub)}
            if len(sub) < MIN_SUBGROUP:
                row["status"] = f"too small to read (n = {len(sub)} < {MIN_SUBGROUP})"
                rows.append(row)
                continue
            err = (sub["ga_pred"] - sub["ga_true"]).abs().to_numpy() * DAYS_PER_WEEK
            line = calibration_line(sub["ga_true"], sub["ga_pred"])
            keys = list(zip([label] * len(sub), sub["patient_id"]))
            cov = covered.reindex(pd.MultiIndex.from_tuples(keys)) if len(covered) else None
            row.update(
                status="computed",
                mae_days=float(err.mean()),
                slope=line["slope"],
                slope_lo=line["slope_lo"],
                slope_hi=line["slope_hi"],
                coverage=float(np.nanmean(cov))
                if cov is not None and cov.notna().any()
                else np.nan,
            )
            rows.append(row)
    out = [
        "column",
        "method",
        "subgroup",
        "n",
        "status",
        "mae_days",
        "slope",
        "slope_lo",
        "slope_hi",
        "coverage",
    ]
    return pd.DataFrame(rows).reindex(columns=out)
