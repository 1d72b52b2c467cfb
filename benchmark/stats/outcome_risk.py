"""Outcome risk from a GA estimate: out-of-fold probabilities, Brier score, reliability and
decision curves (net benefit).

A GA estimate is not a probability.  The documented mapping used here is the one a
clinic would fit: a logistic regression of the outcome on the estimate (scikit-learn,
unpenalised), fitted **out of fold** (5 stratified folds, fixed seed) so that no
patient's risk comes from a model that saw its outcome.  The same mapping on the true GA
at the scan is "GA alone".  Then:

- Brier score (``sklearn.metrics.brier_score_loss``) and a reliability curve
  (``sklearn.calibration.calibration_curve``, quantile bins);
- decision curves with ``dcurves`` (Vickers & Elkin 2006; the Python port of the
  ``dcurves`` R package): net benefit of treating patients whose risk ≥ threshold,
  against treat-all and treat-none.  Bootstrap CIs of the difference in net benefit
  against GA alone resample patients with the out-of-fold risks held fixed (the risk
  models are not refitted per resample: a stated simplification).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Fewer events or non-events than this: no risk model (5 folds need events in each).
MIN_EVENTS = 10
FOLDS = 5
SEED = 20240607
#: Thresholds of the decision-curve table (the figure draws every 0.01 of the range).
TABLE_THRESHOLDS = (0.05, 0.10, 0.20, 0.30, 0.40, 0.50)
#: Threshold range: a 5 % risk (treat nearly everyone at risk, e.g. steroids are cheap)
#: to 60 % (treat only when morbidity is likelier than not); beyond it nobody decides.
THRESHOLD_RANGE = (0.05, 0.60)
N_BOOT = 500


def out_of_fold_risk(
    score: np.ndarray, y: np.ndarray, folds: int = FOLDS, seed: int = SEED
) -> np.ndarray:
    """P(outcome | score) for every patient from a logistic model fitted on the other
    folds (``cross_val_predict`` over ``StratifiedKFold``)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x = np.asarray(score, float).reshape(-1, 1)
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return cross_val_predict(
        LogisticRegression(C=np.inf), x, np.asarray(y, int), cv=cv, method="predict_proba"
    )[:, 1]


def enough_events(y: np.ndarray) -> bool:
    y = np.asarray(y, int)
    return min(int(y.sum()), int(len(y) - y.sum())) >= MIN_EVENTS


def risk_frame(pooled: pd.DataFrame, outcome: pd.Series) -> pd.DataFrame:
    """One row per method × patient with an outcome: ``y``, ``risk`` (from the estimate)
    and ``ga_risk`` (GA alone), both out of fold; methods without enough events are left
    out (the callers report why)."""
    frames = []
    for _, sub in pooled.groupby("label", sort=True):
        y = outcome.reindex(sub["patient_id"].astype(str)).to_numpy(float)
        ok = np.isfinite(y)
        y = y[ok].astype(int)
        if not enough_events(y):
            continue
        part = sub.loc[ok, ["label", "patient_id", "ga_true", "ga_pred"]].copy()
        part["y"] = y
        part["risk"] = out_of_fold_risk(part["ga_pred"].to_numpy(), y)
        part["ga_risk"] = out_of_fold_risk(part["ga_true"].to_numpy(), y)
        frames.append(part)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def brier_reliability(
    y: np.ndarray, risk: np.ndarray, bins: int = 5
) -> tuple[float, np.ndarray, np.ndarray]:
    """Brier score and the reliability curve (observed share, mean risk per quantile bin)."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    observed, predicted = calibration_curve(y, risk, n_bins=bins, strategy="quantile")
    return float(brier_score_loss(y, risk)), observed, predicted


def decision_curve(
    y: np.ndarray, risks: dict[str, np.ndarray], thresholds: np.ndarray
) -> pd.DataFrame:
    """``dcurves.dca`` on these risks: model, threshold, net_benefit (treat-all = 'all',
    treat-none = 'none')."""
    import dcurves

    data = pd.DataFrame(
        {"outcome": np.asarray(y, int), **{k: np.asarray(v, float) for k, v in risks.items()}}
    )
    out = dcurves.dca(
        data=data, outcome="outcome", modelnames=list(risks), thresholds=list(thresholds)
    )
    return out[["model", "threshold", "net_benefit"]].reset_index(drop=True)


def net_benefit(y: np.ndarray, risk: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Net benefit TP/n − FP/n × p/(1 − p) per threshold, vectorised over a leading axis of
    resamples (``y``, ``risk``: (b, n)); equal to dcurves' (tested), used for the bootstrap
    only because dcurves takes one data frame per call."""
    y, risk = np.atleast_2d(y), np.atleast_2d(risk)
    t = np.asarray(thresholds, float)
    positive = risk[:, :, None] >= t[None, None, :]
    n = y.shape[1]
    tp = (positive & (y[:, :, None] == 1)).sum(axis=1) / n
    fp = (positive & (y[:, :, None] == 0)).sum(axis=1) / n
    return tp - fp * t / (1 - t)


def net_benefit_difference_ci(
    y: np.ndarray,
    risk: np.ndarray,
    base: np.ndarray,
    thresholds: np.ndarray,
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile 95 % CI of NB(risk) − NB(base) per threshold, resampling patients."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), size=(n_boot, len(y)))
    diff = net_benefit(np.asarray(y)[idx], np.asarray(risk)[idx], thresholds) - net_benefit(
        np.asarray(y)[idx], np.asarray(base)[idx], thresholds
    )
    return np.percentile(diff, 2.5, axis=0), np.percentile(diff, 97.5, axis=0)
