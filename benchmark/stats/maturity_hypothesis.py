"""The lung-maturity hypothesis: does a method's residual add to GA in predicting the
outcome?

The question quantusFLM answers (Palacio 2017, Burgos-Artizzu 2019) and a GA regressor
assumes away: if an image shows a lung more (or less) mature than its GA, the residual
estimate − GA at the scan should predict neonatal morbidity *beyond* GA.  Nested logistic
models (statsmodels ``Logit``) on the same patients: outcome ~ GA and outcome ~ GA +
residual; the likelihood-ratio test of the residual (χ², 1 df), the residual's odds
ratio per week with its Wald 95 % CI, and the in-sample ΔAUC of the two linear
predictors (scikit-learn).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

#: As for the outcome AUC's DeLong intervals: fewer events (or non-events), no models.
MIN_EVENTS = 10


def nested_models(y: np.ndarray, ga: np.ndarray, residual: np.ndarray) -> dict[str, float]:
    """LR test, residual OR [95 % CI] and ΔAUC of outcome ~ GA + residual vs ~ GA."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y, int)
    ga, residual = np.asarray(ga, float), np.asarray(residual, float)
    base = sm.Logit(y, sm.add_constant(ga)).fit(disp=0)
    if np.ptp(residual) == 0 or abs(np.corrcoef(ga, residual)[0, 1]) > 0.999:
        # a constant estimate's residual is −GA + c: nothing beyond GA to test
        return {"status": "not computed: residual collinear with GA (constant estimate)"}
    full = sm.Logit(y, sm.add_constant(np.column_stack([ga, residual]))).fit(disp=0)
    lr = max(0.0, 2 * (full.llf - base.llf))
    lo, hi = np.exp(full.conf_int(0.05)[2])
    auc_base = roc_auc_score(y, base.fittedvalues)
    auc_full = roc_auc_score(y, full.fittedvalues)
    return {
        "status": "computed",
        "lr": lr,
        "p": float(stats.chi2.sf(lr, 1)),
        "or": float(np.exp(full.params[2])),
        "or_lo": float(lo),
        "or_hi": float(hi),
        "auc_ga": auc_base,
        "auc_full": auc_full,
        "delta_auc": auc_full - auc_base,
    }


def maturity_hypothesis(pooled: pd.DataFrame, outcome: pd.Series) -> pd.DataFrame:
    """Per method: n, events and :func:`nested_models` (or the reason it was not fitted)."""
    rows = []
    for label, sub in pooled.groupby("label", sort=True):
        y = outcome.reindex(sub["patient_id"].astype(str)).to_numpy(float)
        ok = np.isfinite(y)
        y = y[ok].astype(int)
        row = {"method": label, "n": int(ok.sum()), "events": int(y.sum())}
        if min(y.sum(), len(y) - y.sum()) < MIN_EVENTS:
            row["status"] = (
                f"not computed: {row['events']} events in {row['n']} patients "
                f"(needs at least {MIN_EVENTS} events and non-events)"
            )
        else:
            ga = sub["ga_true"].to_numpy(float)[ok]
            residual = sub["ga_pred"].to_numpy(float)[ok] - ga
            try:
                row.update(nested_models(y, ga, residual))
            except (np.linalg.LinAlgError, sm.tools.sm_exceptions.PerfectSeparationError) as exc:
                row["status"] = f"not computed: {type(exc).__name__}"
        rows.append(row)
    columns = [
        "method",
        "n",
        "events",
        "status",
        "lr",
        "p",
        "or",
        "or_lo",
        "or_hi",
        "auc_ga",
        "auc_full",
        "delta_auc",
    ]
    return pd.DataFrame(rows).reindex(columns=columns)
