"""Conformal prediction intervals for every method, from its stored predictions only.

Design (why not the training patients): a conformal interval is honest only if its
calibration residuals are out of sample.  A method's residuals on its own training
patients are in sample (optimistic: the intervals would under-cover), and out-of-sample
residuals on the training patients (CV+, Barber et al. 2021) need K extra fits per cell —
minutes per net, beyond the run's time budget.  The test patients' stored predictions
*are* out of sample, so the intervals are **cross-conformal over the test patients**: the
test patients of each method are split into ``folds`` random folds; each fold's intervals
are calibrated (crepes' ``ConformalRegressor``, Boström 2022) on the absolute residuals of
the *other* folds' patients, never on the patient's own.  Every fold is an ordinary
split-conformal predictor, so marginal coverage ≥ the nominal level holds fold by fold
(Vovk et al. 2005; Lei et al. 2018).  It costs no fit and the ``report`` verb rebuilds it.

Mondrian categories are the GA group of the *estimate* (the true GA is not known when an
interval is issued): coverage is guaranteed within each estimated-GA group, and reported
per true GA group too, where it is not guaranteed (a method that shrinks toward the mean
under-covers the extreme true groups, which is what a clinician needs to see).  A
category with too few calibration residuals for the level (< ⌈1/α⌉ − 1) borrows all of
the fold's residuals; such patients are counted in ``n_pooled_category``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from benchmark.data.splits import AgeGroups

FOLDS = 5
SEED = 20240607
DEFAULT_LEVEL = 0.9


def _fold_of(patients: pd.Series, folds: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(patients))
    out = np.empty(len(patients), dtype=int)
    out[order] = np.arange(len(patients)) % folds
    return out


def conformal_intervals(
    pooled: pd.DataFrame,
    edges: tuple[float, ...],
    level: float = DEFAULT_LEVEL,
    folds: int = FOLDS,
    seed: int = SEED,
) -> pd.DataFrame:
    """Per method × patient: ``lower``, ``upper``, the Mondrian ``category`` and whether it
    borrowed the pooled residuals.  ``pooled``: one row per label × patient with
    ``ga_true``, ``ga_pred``, ``group`` (see ``pooled_patient_predictions``)."""
    from crepes import ConformalRegressor  # only when a report asks for intervals

    groups = AgeGroups(tuple(edges))
    # fewer residuals than this: the conformal quantile is infinite (rank ⌈(n+1)·level⌉ > n)
    min_cal = math.ceil(level / (1 - level) - 1e-9)
    frames = []
    for label, sub in pooled.groupby("label", sort=True):
        sub = sub.sort_values("patient_id", kind="stable").reset_index(drop=True)
        pred, true = sub["ga_pred"].to_numpy(float), sub["ga_true"].to_numpy(float)
        category = groups.assign(pred).to_numpy()
        fold = _fold_of(sub["patient_id"], min(folds, len(sub)), seed)
        lower, upper = np.full(len(sub), np.nan), np.full(len(sub), np.nan)
        borrowed = np.zeros(len(sub), dtype=bool)
        for k in np.unique(fold):
            cal, out = fold != k, fold == k
            if cal.sum() < min_cal:
                continue  # too few patients for any interval at this level: left NaN
            residuals = true[cal] - pred[cal]
            pooled_cr = ConformalRegressor().fit(residuals)
            mondrian_ok = {
                c for c in np.unique(category[out]) if (category[cal] == c).sum() >= min_cal
            }
            with warnings.catch_warnings():
                # crepes warns about categories too small for the level; those use the
                # pooled residuals instead (counted in pooled_category), never its ±inf
                warnings.filterwarnings("ignore", message="the no. of calibration examples")
                mondrian = ConformalRegressor().fit(residuals, bins=category[cal])
            for c in np.unique(category[out]):
                rows = out & (category == c)
                cr, bins = (mondrian, category[rows]) if c in mondrian_ok else (pooled_cr, None)
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="the no. of calibration")
                    bounds = cr.predict_int(pred[rows], bins=bins, confidence=level)
                lower[rows], upper[rows] = bounds[:, 0], bounds[:, 1]
                borrowed[rows] = c not in mondrian_ok
        frames.append(
            pd.DataFrame(
                {
                    "label": label,
                    "patient_id": sub["patient_id"],
                    "group": sub["group"],
                    "category": category,
                    "fold": fold,
                    "ga_true": true,
                    "ga_pred": pred,
                    "lower": lower,
                    "upper": upper,
                    "pooled_category": borrowed,
                }
            )
        )
    columns = [
        "label",
        "patient_id",
        "group",
        "category",
        "fold",
        "ga_true",
        "ga_pred",
        "lower",
        "upper",
        "pooled_category",
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def binomial_band(n: int, level: float, band: float = 0.95) -> tuple[float, float]:
    """Central ``band`` range of the covered fraction among n patients if the true coverage
    is exactly ``level`` (binomial quantiles / n)."""
    if n <= 0:
        return (np.nan, np.nan)
    tail = (1 - band) / 2
    return (
        float(stats.binom.ppf(tail, n, level) / n),
        float(stats.binom.ppf(1 - tail, n, level) / n),
    )


COVERAGE_COLUMNS = [
    "method",
    "grouping",
    "group",
    "n",
    "covered",
    "coverage",
    "band_lo",
    "band_hi",
    "inside_band",
    "mean_width",
    "mean_width_days",
    "mae",
    "n_pooled_category",
]


def coverage_table(intervals: pd.DataFrame, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Empirical coverage, mean width and n per method × grouping × group, with the
    binomial 95 % band of the coverage expected at ``level`` for that n."""
    rows = []
    frame = intervals.dropna(subset=["lower", "upper"])
    frame = frame.assign(
        covered=(frame["ga_true"] >= frame["lower"]) & (frame["ga_true"] <= frame["upper"]),
        width=frame["upper"] - frame["lower"],
        abs_err=(frame["ga_pred"] - frame["ga_true"]).abs(),
    )
    for label, by_method in frame.groupby("label", sort=True):
        parts = [("all", "all", by_method)]
        parts += [
            ("estimated GA group", str(g), s) for g, s in by_method.groupby("category", sort=True)
        ]
        parts += [("true GA group", str(g), s) for g, s in by_method.groupby("group", sort=True)]
        for grouping, group, sub in parts:
            n = len(sub)
            lo, hi = binomial_band(n, level)
            coverage = float(sub["covered"].mean())
            rows.append(
                {
                    "method": label,
                    "grouping": grouping,
                    "group": group,
                    "n": n,
                    "covered": int(sub["covered"].sum()),
                    "coverage": coverage,
                    "band_lo": lo,
                    "band_hi": hi,
                    "inside_band": bool(lo <= coverage <= hi),
                    "mean_width": float(sub["width"].mean()),
                    "mean_width_days": float(sub["width"].mean() * 7),
                    "mae": float(sub["abs_err"].mean()),
                    "n_pooled_category": int(sub["pooled_category"].sum()),
                }
            )
    # columns even when no patient has an interval (a tiny cohort): callers filter on them
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
