"""Outcome prediction: ROC AUC of each method's GA estimate for a binary outcome, with
DeLong confidence intervals, against a GA-alone baseline on the same patients.

The score is −estimate (a less mature estimate = higher risk); the baseline scores the
same patients by −(true GA at the scan).  DeLong et al. (1988), in the fast form of Sun &
Xu (2014): the AUC is the mean of the placement values; its variance (and the covariance
of two AUCs on the same patients) follows from the variances of those placements.
Written here because no library in the stack offers it (scikit-learn gives the AUC only);
tested against hand-computed values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

#: DeLong's intervals rest on a normal approximation of the placement means; with a
#: handful of events it under-states the uncertainty (a CI of zero width when one score
#: is constant).  Below this many events (or non-events) the AUCs are shown without CI or
#: p, and the table says why.  A conservative, documented choice, not a tuned one.
MIN_EVENTS_FOR_CI = 10


def _placements(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per positive: share of negatives it outranks (ties ½); per negative: share of
    positives that outrank it.  ``scores`` is (k, n) for k paired scores."""
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    greater = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    return greater.mean(axis=2), greater.mean(axis=1)  # (k, m), (k, n)


def delong(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of k paired scores and their DeLong covariance matrix (k × k)."""
    scores, y = np.atleast_2d(np.asarray(scores, float)), np.asarray(y, int)
    v10, v01 = _placements(scores, y)
    m, n = v10.shape[1], v01.shape[1]
    auc = v10.mean(axis=1)
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return auc, cov


def auc_ci(auc: float, var: float, level: float = 0.95) -> tuple[float, float]:
    """Wald interval on the AUC scale, clipped to [0, 1]."""
    q = stats.norm.ppf(0.5 + level / 2)
    se = np.sqrt(max(var, 0.0))
    return max(0.0, auc - q * se), min(1.0, auc + q * se)


def outcome_auc(pooled: pd.DataFrame, outcome: pd.Series) -> pd.DataFrame:
    """Per method: n, events, AUC [DeLong 95 % CI] of −estimate, the GA-alone AUC on the
    same patients, the paired difference with its CI and two-sided p."""
    rows = []
    for label, sub in pooled.groupby("label", sort=True):
        y = outcome.reindex(sub["patient_id"].astype(str)).to_numpy(float)
        ok = np.isfinite(y)
        y = y[ok].astype(int)
        row = {"method": label, "n": int(ok.sum()), "events": int(y.sum())}
        if not 0 < y.sum() < len(y) or y.sum() < 2 or (len(y) - y.sum()) < 2:
            rows.append(row)  # AUC undefined: shown as — with its n and events
            continue
        scores = np.vstack(
            [-sub["ga_pred"].to_numpy(float)[ok], -sub["ga_true"].to_numpy(float)[ok]]
        )
        auc, cov = delong(scores, y)
        if min(y.sum(), len(y) - y.sum()) < MIN_EVENTS_FOR_CI:
            row.update(auc=auc[0], ga_auc=auc[1], diff=auc[0] - auc[1])
            rows.append(row)  # CIs and p left empty: too few events for DeLong
            continue
        diff, var_diff = auc[0] - auc[1], cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
        lo, hi = auc_ci(auc[0], cov[0, 0])
        blo, bhi = auc_ci(auc[1], cov[1, 1])
        q = stats.norm.ppf(0.975)
        se = np.sqrt(max(var_diff, 0.0))
        row.update(
            auc=auc[0],
            auc_lo=lo,
            auc_hi=hi,
            ga_auc=auc[1],
            ga_auc_lo=blo,
            ga_auc_hi=bhi,
            diff=diff,
            diff_lo=diff - q * se,
            diff_hi=diff + q * se,
            p=float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else np.nan,
        )
        rows.append(row)
    columns = [
        "method",
        "n",
        "events",
        "auc",
        "auc_lo",
        "auc_hi",
        "ga_auc",
        "ga_auc_lo",
        "ga_auc_hi",
        "diff",
        "diff_lo",
        "diff_hi",
        "p",
    ]
    return pd.DataFrame(rows).reindex(columns=columns)
