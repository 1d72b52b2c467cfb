"""Agreement metrics between estimated and true GA (docs/report.md), per method × group × split.

Every number here comes from a library call (scipy) or a one-line textbook formula; the
tests check them against scipy/statsmodels directly or against hand-worked examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: Columns that identify one evaluated split of one method.
SPLIT_KEYS = ("label", "seed", "fold")
#: Clinical error thresholds in days (GA-dating papers report % of estimates within them).
DAYS_PER_WEEK = 7.0
WITHIN_DAYS = (7, 14)
#: Bootstrap resamples for the patient-bootstrap CI of r (fixed seed: tables are byte-stable).
N_BOOT = 2000
BOOT_SEED = 20240607


@dataclass(frozen=True)
class Correlation:
    r: float
    lo: float
    hi: float
    p: float


def pearson_fisher_ci(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> Correlation:
    """Pearson r with its Fisher-z interval tanh(atanh r ± z/√(n−3)); NaN when undefined."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return Correlation(np.nan, np.nan, np.nan, np.nan)
    result = stats.pearsonr(x, y)
    ci = result.confidence_interval(level)  # scipy uses the Fisher z transform
    return Correlation(float(result.statistic), float(ci.low), float(ci.high), float(result.pvalue))


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of two (B, n) arrays (vectorised for the bootstrap)."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc * yc).sum(axis=1) / den


#: Resamples evaluated at once: memory stays flat as the cohort grows.
BOOT_BLOCK = 256


def cluster_bootstrap_blocks(
    clusters: np.ndarray, n_boot: int = N_BOOT, seed: int = BOOT_SEED, block: int = BOOT_BLOCK
) -> Iterator[np.ndarray | list[np.ndarray]]:
    """Row indices of ``n_boot`` resamples that draw whole patients with replacement.

    At patient level each cluster is one row (an ordinary bootstrap); at image level a
    patient's images stay together, so the CI reflects the number of patients, not frames.
    A block is one ``(b, rows)`` array when every cluster has the same number of rows (then
    every resample has the same length), else a list of index arrays. Blocks are drawn one
    after another from one generator: the resamples do not depend on ``block``.
    """
    codes, uniques = pd.factorize(pd.Series(clusters), sort=True)
    members = [np.flatnonzero(codes == k) for k in range(len(uniques))]
    same_size = len({len(m) for m in members}) == 1
    table = np.stack(members) if same_size else None  # (clusters, rows each)
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, block):
        draws = rng.integers(0, len(uniques), size=(min(block, n_boot - start), len(uniques)))
        if table is not None:
            yield table[draws].reshape(len(draws), -1)
        else:
            yield [np.concatenate([members[k] for k in row]) for row in draws]


def bootstrap_correlations(
    x: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray,
    n_boot: int = N_BOOT,
    seed: int = BOOT_SEED,
) -> np.ndarray:
    """Pearson r of every cluster-bootstrap resample (NaN where a resample is constant)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    rs = []
    for rows in cluster_bootstrap_blocks(clusters, n_boot, seed):
        if isinstance(rows, np.ndarray):
            rs.append(_pearson_rows(x[rows], y[rows]))
        else:
            rs.append(np.array([_pearson_rows(x[i][None], y[i][None])[0] for i in rows]))
    return np.concatenate(rs)


def bootstrap_r_ci(
    x: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray,
    level: float = 0.95,
    n_boot: int = N_BOOT,
    seed: int = BOOT_SEED,
) -> tuple[float, float]:
    """Percentile CI of Pearson r from a patient (cluster) bootstrap."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return (np.nan, np.nan)
    rs = bootstrap_correlations(x, y, clusters, n_boot, seed)
    rs = rs[np.isfinite(rs)]
    alpha = (1 - level) / 2
    return float(np.quantile(rs, alpha)), float(np.quantile(rs, 1 - alpha))


@dataclass(frozen=True)
class BlandAltman:
    bias: float
    sd: float
    lower: float
    upper: float


def bland_altman(true: np.ndarray, pred: np.ndarray, z: float = 1.96) -> BlandAltman:
    """Mean difference (pred − true) and its 95 % limits of agreement (SD with ddof = 1)."""
    diff = np.asarray(pred, float) - np.asarray(true, float)
    bias = float(diff.mean())
    sd = float(diff.std(ddof=1)) if len(diff) > 1 else np.nan
    return BlandAltman(bias, sd, bias - z * sd, bias + z * sd)


def agreement(
    true: np.ndarray, pred: np.ndarray, patients: np.ndarray, bootstrap: bool = True
) -> dict[str, float]:
    """All per-sample agreement numbers of one method on one set of rows."""
    true, pred = np.asarray(true, float), np.asarray(pred, float)
    err = pred - true
    absolute = np.abs(err)
    corr = pearson_fisher_ci(true, pred)
    lo_b, hi_b = bootstrap_r_ci(true, pred, patients) if bootstrap else (np.nan, np.nan)
    spearman = (
        stats.spearmanr(true, pred).statistic if len(true) > 2 and np.ptp(pred) > 0 else np.nan
    )
    ba = bland_altman(true, pred)
    days = absolute * DAYS_PER_WEEK
    within = {
        f"within_{d}d": float(np.mean(days <= d + 1e-9)) if len(days) else np.nan
        for d in WITHIN_DAYS
    }  # 1e-9: an error of exactly 1 wk is within 7 days
    return {
        "n_patients": int(pd.Series(patients).nunique()),
        "n_rows": int(len(true)),
        "mae": float(absolute.mean()),
        "mae_sd": float(absolute.std(ddof=1)) if len(true) > 1 else np.nan,
        "rmse": float(np.sqrt(np.mean(err**2))),
        "bias": ba.bias,
        "r": corr.r,
        "r_lo": corr.lo,
        "r_hi": corr.hi,
        "r_p": corr.p,
        "r_boot_lo": lo_b,
        "r_boot_hi": hi_b,
        "spearman": float(spearman),
        "ba_sd": ba.sd,
        "ba_lower": ba.lower,
        "ba_upper": ba.upper,
        "mae_days": float(days.mean()) if len(days) else np.nan,
        "mae_days_sd": float(days.std(ddof=1)) if len(days) > 1 else np.nan,
        **within,
    }


def _groups(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return [("all", frame), *((str(g), sub) for g, sub in frame.groupby("group", sort=True))]


def select_level(predictions: pd.DataFrame, level: str) -> pd.DataFrame:
    if level not in ("patient", "image"):
        raise ValueError(f"level must be 'patient' or 'image', not {level!r}")
    return predictions[predictions["level"] == level]


def split_metrics(
    predictions: pd.DataFrame, level: str = "patient", bootstrap: bool = True
) -> pd.DataFrame:
    """One row per method label × seed × fold × group (``all`` plus each GA group)."""
    rows = []
    preds = select_level(predictions, level)
    for (label, seed, fold), cell in preds.groupby(list(SPLIT_KEYS), sort=True):
        for group, sub in _groups(cell):
            rows.append(
                {
                    "method": label,
                    "seed": int(seed),
                    "fold": int(fold),
                    "group": group,
                    **agreement(sub["ga_true"], sub["ga_pred"], sub["patient_id"], bootstrap),
                }
            )
    return pd.DataFrame(rows)


AGGREGATED = ("mae", "mae_sd", "rmse", "bias", "r", "spearman", "ba_lower", "ba_upper")


def aggregate_splits(per_split: pd.DataFrame) -> pd.DataFrame:
    """Mean ± SD across seeds/folds of each per-split metric (SD NaN for a single split)."""
    if per_split.empty:
        return per_split
    grouped = per_split.groupby(["method", "group"], sort=True)
    out = grouped.agg(n_splits=("seed", "size"), n_patients=("n_patients", "sum"))
    for col in AGGREGATED:
        out[f"{col}_mean"] = grouped[col].mean()
        out[f"{col}_sd"] = grouped[col].std(ddof=1)
    return out.reset_index()


def pooled_patient_predictions(predictions: pd.DataFrame, level: str = "patient") -> pd.DataFrame:
    """One row per method × patient (× image): the prediction averaged over seeds.

    Every patient is tested once per seed (paper split or k-fold), so this is the natural
    single estimate per patient for paired tests between methods on the same patients.
    """
    preds = select_level(predictions, level)
    keys = ["label", "patient_id"] + (["image_id"] if level == "image" else [])
    preds = preds.assign(measured=is_measured(preds))
    pooled = preds.groupby(keys, sort=True).agg(
        ga_true=("ga_true", "first"),
        ga_pred=("ga_pred", "mean"),
        group=("group", "first"),
        n_seeds=("seed", "nunique"),
        measured=("measured", "all"),
    )
    return pooled.reset_index()


def is_measured(predictions: pd.DataFrame) -> pd.Series:
    """True where a prediction was measured, not a fallback (the ``provenance`` column of
    docs/methods.md: ``measured`` or ``fallback:<how>``); a file without the column is all
    measured."""
    if "provenance" not in predictions:
        return pd.Series(True, index=predictions.index)
    return predictions["provenance"].fillna("measured").astype(str).eq("measured")


def pooled_metrics(
    predictions: pd.DataFrame, level: str = "patient", bootstrap: bool = True
) -> pd.DataFrame:
    """Agreement of the seed-averaged predictions: one row per method × group."""
    pooled = pooled_patient_predictions(predictions, level)
    rows = []
    for label, by_method in pooled.groupby("label", sort=True):
        for group, sub in _groups(by_method):
            rows.append(
                {
                    "method": label,
                    "group": group,
                    **agreement(sub["ga_true"], sub["ga_pred"], sub["patient_id"], bootstrap),
                    "n_measured": int(sub["measured"].sum()),
                }
            )
    return pd.DataFrame(rows)


def dsc_summary(dsc: pd.DataFrame) -> pd.DataFrame:
    """Lung Dice per method: image-level mean ± SD (%), pooled over splits, and n images."""
    if dsc.empty:
        return pd.DataFrame(columns=["method", "n_images", "dsc_mean", "dsc_sd"])
    grouped = dsc.groupby("label", sort=True)["dsc"]
    out = pd.DataFrame(
        {
            "n_images": grouped.size(),
            "dsc_mean": grouped.mean() * 100,
            "dsc_sd": grouped.std(ddof=1) * 100,
        }
    )
    return out.rename_axis("method").reset_index()
