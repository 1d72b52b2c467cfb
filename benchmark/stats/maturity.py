"""Lung-maturity readings of any GA regressor: classes, a preterm threshold, and maturity
beyond GA (what only a simulator can score).

- **Classes** (as Xia et al. 2021 grade fetal lung images into three GA classes): the GA
  groups are the classes; a method's class is the group its estimate falls in.  Accuracy,
  Cohen's κ and the confusion matrix (scikit-learn); one-vs-rest ROC AUC per class with
  the *continuous* estimate as the score — for the lowest class the score is −estimate,
  for the highest +estimate, for a middle class −|estimate − class centre|.
- **Preterm lung**: true GA < threshold (default 34 wk) vs the estimate < threshold;
  sensitivity, specificity, accuracy, κ, and AUC with −estimate as the score.
- **Maturity beyond GA**: the simulator draws each fetus's lung maturity as GA plus a
  biological deviation δ (``truth_maturity`` is linear in GA + δ).  δ is recovered
  without the generator's constants as the residual of ``truth_maturity`` regressed on
  true GA over every patient of the cohort; r(estimate − true GA, δ) with its Fisher-z CI
  then says whether a method sees maturity the GA does not explain.  A reader of
  ``truth_maturity`` (the ceiling control) sits far above 0; biometry, which measures size
  and not lung, should sit at 0.  Real cohorts have no such truth: the table is skipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, confusion_matrix, roc_auc_score

from benchmark.data.splits import AgeGroups
from benchmark.stats.metrics import pearson_fisher_ci

DEFAULT_PRETERM_WEEKS = 34.0


def class_scores(estimate: np.ndarray, groups: AgeGroups) -> dict[str, np.ndarray]:
    """One-vs-rest score of each class from the continuous estimate (see module doc)."""
    labels = groups.labels
    bounds = [groups.low, *groups.edges]
    out = {labels[0]: -estimate, labels[-1]: estimate}
    for k in range(1, len(labels) - 1):
        centre = (bounds[k] + bounds[k + 1]) / 2
        out[labels[k]] = -np.abs(estimate - centre)
    return out


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else np.nan


def maturity_classes(
    pooled: pd.DataFrame, edges: tuple[float, ...], preterm_weeks: float = DEFAULT_PRETERM_WEEKS
) -> pd.DataFrame:
    """Per method: GA-group classes and the binary preterm-lung task (one row each)."""
    groups = AgeGroups(tuple(edges))
    labels = groups.labels
    rows = []
    for label, sub in pooled.groupby("label", sort=True):
        est = sub["ga_pred"].to_numpy(float)
        true_ga = sub["ga_true"].to_numpy(float)
        truth = groups.assign(true_ga).to_numpy()
        guess = groups.assign(est).to_numpy()
        matrix = confusion_matrix(truth, guess, labels=labels)
        row = {
            "method": label,
            "task": "GA groups",
            "n": len(sub),
            "accuracy": float(np.mean(truth == guess)),
            "kappa": float(cohen_kappa_score(truth, guess, labels=labels)),
            "sensitivity": np.nan,
            "specificity": np.nan,
        }
        for name, score in class_scores(est, groups).items():
            row[f"auc {name}"] = _auc(truth == name, score)
        for i, t in enumerate(labels):
            for j, p in enumerate(labels):
                row[f"n {t} as {p}"] = int(matrix[i, j])
        rows.append(row)
        immature, called = true_ga < preterm_weeks, est < preterm_weeks
        rows.append(
            {
                "method": label,
                "task": f"preterm lung (< {preterm_weeks:g} wk)",
                "n": len(sub),
                "accuracy": float(np.mean(immature == called)),
                "kappa": float(cohen_kappa_score(immature, called, labels=[False, True])),
                "sensitivity": float(called[immature].mean()) if immature.any() else np.nan,
                "specificity": float((~called[~immature]).mean()) if (~immature).any() else np.nan,
                "auc preterm": _auc(immature, -est),
                "n immature as immature": int((immature & called).sum()),
                "n immature as mature": int((immature & ~called).sum()),
                "n mature as immature": int((~immature & called).sum()),
                "n mature as mature": int((~immature & ~called).sum()),
            }
        )
    return pd.DataFrame(rows)


def maturity_deviation(patients: pd.DataFrame, truth: str = "truth_maturity") -> pd.Series:
    """δ per patient: residual of the simulated maturity regressed on true GA (all patients
    of the cohort), indexed by patient_id; empty when the cohort has no such truth."""
    if truth not in patients or "ga_weeks" not in patients:
        return pd.Series(dtype=float)
    frame = patients[["patient_id", "ga_weeks", truth]].dropna()
    if len(frame) < 3:
        return pd.Series(dtype=float)
    x, y = frame["ga_weeks"].to_numpy(float), frame[truth].to_numpy(float)
    slope, intercept = np.polyfit(x, y, 1)
    return pd.Series(y - (intercept + slope * x), index=frame["patient_id"].astype(str))


def maturity_beyond_ga(pooled: pd.DataFrame, deviation: pd.Series) -> pd.DataFrame:
    """Per method: r(estimate − true GA, δ) on its test patients, Fisher-z 95 % CI, n."""
    rows = []
    for label, sub in pooled.groupby("label", sort=True):
        dev = deviation.reindex(sub["patient_id"].astype(str)).to_numpy(float)
        err = (sub["ga_pred"] - sub["ga_true"]).to_numpy(float)
        ok = np.isfinite(dev) & np.isfinite(err)
        corr = pearson_fisher_ci(err[ok], dev[ok])
        rows.append(
            {
                "method": label,
                "n": int(ok.sum()),
                "r": corr.r,
                "r_lo": corr.lo,
                "r_hi": corr.hi,
                "p": corr.p,
            }
        )
    return pd.DataFrame(rows, columns=["method", "n", "r", "r_lo", "r_hi", "p"])
