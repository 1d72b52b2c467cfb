"""Calibration of GA estimates: does true GA follow the estimate one for one?

Calibration of a continuous prediction (Van Calster et al. 2019, the "calibration
hierarchy"; TRIPOD+AI item 23a) is read from the regression of the truth on the estimate,
true GA = a + b × estimate: slope b = 1 and intercept a = 0 are perfect; b < 1 = the
estimates are too spread (extremes overstated), b > 1 = shrunk toward the cohort mean
(what a method that hedges toward the training mean does). Calibration-in-the-large is
the mean of true − estimate. Fitted with statsmodels OLS (t-based CIs); the smoother of
the calibration plot is statsmodels' lowess.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

#: Fewer patients than this in a group: no regression (a slope from 4 points is noise).
MIN_PATIENTS = 10


def calibration_line(ga_true: np.ndarray, ga_pred: np.ndarray) -> dict[str, float]:
    """OLS of true on estimated GA: intercept, slope and their 95 % CIs, and the
    calibration-in-the-large (mean true − estimate). The intercept is reported at the
    estimate's mean (centred) as well, since the raw intercept at 0 wk is an extrapolation
    far outside the data."""
    y, x = np.asarray(ga_true, float), np.asarray(ga_pred, float)
    out = {"n": len(y), "citl": float(np.mean(y - x)) if len(y) else np.nan}
    if len(y) < MIN_PATIENTS or np.ptp(x) == 0:
        return out | {
            k: np.nan
            for k in ("intercept", "intercept_lo", "intercept_hi", "slope", "slope_lo", "slope_hi")
        }
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    ci = fit.conf_int(0.05)
    return out | {
        "intercept": float(fit.params[0]),
        "intercept_lo": float(ci[0, 0]),
        "intercept_hi": float(ci[0, 1]),
        "slope": float(fit.params[1]),
        "slope_lo": float(ci[1, 0]),
        "slope_hi": float(ci[1, 1]),
    }


def calibration_table(pooled: pd.DataFrame, group_edges: tuple[float, ...]) -> pd.DataFrame:
    """Per method × (all + each *estimated*-GA group): :func:`calibration_line` of the
    seed-pooled patient estimates.

    Groups are by the estimate, not the truth: calibration is E[true GA | estimate], and
    selecting patients on the regressor leaves that slope unbiased, whereas selecting on
    true GA (the response) would flatten every slope toward 0 by truncation alone."""
    from benchmark.data.splits import AgeGroups

    groups_of = AgeGroups(group_edges)
    rows = []
    for label, sub in pooled.groupby("label", sort=True):
        est_group = groups_of.assign(sub["ga_pred"].to_numpy()).to_numpy()
        order = [g for g in groups_of.labels if (est_group == g).any()]
        groups = [("all", sub)] + [(g, sub[est_group == g]) for g in order]
        for group, part in groups:
            rows.append(
                {
                    "method": label,
                    "group": group,
                    **calibration_line(part["ga_true"], part["ga_pred"]),
                }
            )
    return pd.DataFrame(rows)


def lowess_curve(ga_true: np.ndarray, ga_pred: np.ndarray, frac: float = 2 / 3) -> np.ndarray:
    """(k, 2) array of (estimate, smoothed true GA), sorted by estimate (statsmodels'
    lowess with its default span)."""
    x, y = np.asarray(ga_pred, float), np.asarray(ga_true, float)
    if len(x) < 3 or np.ptp(x) == 0:
        return np.empty((0, 2))
    return sm.nonparametric.lowess(y, x, frac=frac, return_sorted=True)
