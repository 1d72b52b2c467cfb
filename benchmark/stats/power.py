"""Sample size from a pilot run: power of the report's paired tests by resampling the
run's paired patient predictions, and the pilot planner for a binary outcome.

Resampling (``python -m benchmark plan``): at each n, draw n patients with replacement
from the patients both methods predicted and apply the test the report uses to that pair
— the paired t-test of absolute errors (Table 2) for ``mae``, Williams' t for two
dependent correlations sharing true GA (the control table) for ``r``, DeLong's paired
test (outcome table) for ``auc`` — and count p < α.  This **assumes the pilot's effect
and spread are the truth**: it says how often a study of n patients *like these* would
detect *this* difference, not whether the difference is real; a pilot's observed effect
is itself uncertain (and, picked as the largest of many, optimistic).  The same draws
with the per-patient differences centred on 0 (``mae``) estimate the test's type I
error, which must come out ≈ α.

The outcome planner follows Riley et al. (BMJ 2020; the ``pmsampsize`` package, whose
Python port needs Python ≥ 3.12, so its three criteria for a binary outcome are written
out here and checked against its published example, n = 662).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from benchmark.stats.correlation import williams_t
from benchmark.stats.outcome import delong

ALPHA = 0.05
N_SIM = 1000
SEED = 20240607
DEFAULT_N = (50, 100, 150, 200, 400)
DAYS_PER_WEEK = 7.0


@dataclass(frozen=True)
class Pairs:
    """The paired patients of methods A and B (weeks; outcome when the cohort has one)."""

    ga_true: np.ndarray
    pred_a: np.ndarray
    pred_b: np.ndarray
    outcome: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.ga_true)


def paired(
    pooled: pd.DataFrame,
    a: str,
    b: str,
    group: str | None = None,
    outcome: pd.Series | None = None,
    measured_only: bool = True,
) -> Pairs:
    """Patients both ``a`` and ``b`` predicted (measured, not a fallback, by default)."""
    frames = {}
    for label in (a, b):
        sub = pooled[pooled["label"] == label]
        if sub.empty:
            raise LookupError(
                f"method {label!r} has no predictions in this run (methods: "
                f"{', '.join(sorted(pooled['label'].unique()))})"
            )
        if group is not None:
            sub = sub[sub["group"] == group]
        if measured_only and "measured" in sub:
            sub = sub[sub["measured"]]
        frames[label] = sub.set_index(sub["patient_id"].astype(str))
    common = frames[a].index.intersection(frames[b].index).sort_values()
    y = None
    if outcome is not None:
        y = outcome.reindex(common).to_numpy(float)
    return Pairs(
        frames[a].loc[common, "ga_true"].to_numpy(float),
        frames[a].loc[common, "ga_pred"].to_numpy(float),
        frames[b].loc[common, "ga_pred"].to_numpy(float),
        y,
    )


def _p_mae(pairs: Pairs, idx: np.ndarray, centre: float = 0.0) -> np.ndarray:
    d = (np.abs(pairs.pred_a - pairs.ga_true) - np.abs(pairs.pred_b - pairs.ga_true))[idx]
    d = d - centre
    mean, sd = d.mean(axis=1), d.std(axis=1, ddof=1)
    n = d.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / (sd / np.sqrt(n))
    return np.where(sd > 0, 2 * stats.t.sf(np.abs(t), n - 1), 1.0)


def _p_r(pairs: Pairs, idx: np.ndarray) -> np.ndarray:
    out = np.empty(len(idx))
    for k, rows in enumerate(idx):
        g, pa, pb = pairs.ga_true[rows], pairs.pred_a[rows], pairs.pred_b[rows]
        if min(np.ptp(g), np.ptp(pa), np.ptp(pb)) == 0:
            out[k] = 1.0
            continue
        c = np.corrcoef([g, pa, pb])
        out[k] = williams_t(c[0, 1], c[0, 2], c[1, 2], len(rows))[1]
    return np.nan_to_num(out, nan=1.0)


def _p_auc(pairs: Pairs, idx: np.ndarray) -> np.ndarray:
    out = np.ones(len(idx))
    for k, rows in enumerate(idx):
        y = pairs.outcome[rows].astype(int)
        if not 2 <= y.sum() <= len(y) - 2:
            continue
        auc, cov = delong(np.vstack([-pairs.pred_a[rows], -pairs.pred_b[rows]]), y)
        var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
        if var > 0:
            out[k] = 2 * stats.norm.sf(abs(auc[0] - auc[1]) / np.sqrt(var))
    return out


def p_value(pairs: Pairs, metric: str, centre: float = 0.0) -> float:
    """The report's paired test on all of ``pairs`` (``centre``: shift the absolute-error
    differences by it first, ``mae`` only: the test under no effect)."""
    idx = np.arange(pairs.n)[None, :]
    if metric == "mae":
        return float(_p_mae(pairs, idx, centre)[0])
    return float({"r": _p_r, "auc": _p_auc}[metric](pairs, idx)[0])


def observed_effect(pairs: Pairs, metric: str) -> float:
    """A − B on all pilot pairs: MAE difference (weeks), r difference or AUC difference."""
    if metric == "mae":
        return float(
            np.mean(np.abs(pairs.pred_a - pairs.ga_true) - np.abs(pairs.pred_b - pairs.ga_true))
        )
    if metric == "r":
        return float(
            np.corrcoef(pairs.ga_true, pairs.pred_a)[0, 1]
            - np.corrcoef(pairs.ga_true, pairs.pred_b)[0, 1]
        )
    auc, _ = delong(np.vstack([-pairs.pred_a, -pairs.pred_b]), pairs.outcome.astype(int))
    return float(auc[0] - auc[1])


def resampled_power(
    pairs: Pairs,
    metric: str = "mae",
    n_values=DEFAULT_N,
    n_sim: int = N_SIM,
    alpha: float = ALPHA,
    seed: int = SEED,
) -> pd.DataFrame:
    """Per n: power of the report's paired test (share of resampled studies with p < α),
    its Monte-Carlo SE, the type I error of the same draws under no effect (``mae``:
    differences centred on 0) and the 95 % CI half-width of A's MAE in days."""
    if metric not in ("mae", "r", "auc"):
        raise ValueError(f"--metric {metric!r}: one of mae, r, auc")
    if metric == "auc" and (pairs.outcome is None or not np.isfinite(pairs.outcome).all()):
        raise ValueError("--metric auc needs a binary 'outcome' column for every patient")
    if pairs.n < 4:
        raise ValueError(f"only {pairs.n} paired patients: too few to resample")
    rng = np.random.default_rng(seed)
    err_a = np.abs(pairs.pred_a - pairs.ga_true) * DAYS_PER_WEEK
    centre = observed_effect(pairs, "mae")
    rows = []
    for n in n_values:
        idx = rng.integers(0, pairs.n, size=(n_sim, int(n)))
        p = {"mae": _p_mae, "r": _p_r, "auc": _p_auc}[metric](pairs, idx)
        power = float((p < alpha).mean())
        null = float((_p_mae(pairs, idx, centre) < alpha).mean()) if metric == "mae" else np.nan
        e = err_a[idx]
        half = stats.t.ppf(0.975, n - 1) * e.std(axis=1, ddof=1) / np.sqrt(n)
        rows.append(
            {
                "n": int(n),
                "power": power,
                "power_se": float(np.sqrt(power * (1 - power) / n_sim)),
                "type1_no_effect": null,
                "mae_a_ci_halfwidth_days": float(half.mean()),
            }
        )
    return pd.DataFrame(rows)


def n_for_power(differences: np.ndarray, power: float = 0.8, alpha: float = ALPHA) -> float:
    """Patients a paired t-test needs to detect the mean of ``differences`` (statsmodels
    ``TTestPower``, effect size = mean / SD); inf when the mean is 0."""
    from statsmodels.stats.power import TTestPower

    d = np.asarray(differences, float)
    effect = abs(d.mean()) / d.std(ddof=1) if d.std(ddof=1) > 0 else 0.0
    if effect == 0:
        return float("inf")
    return float(
        np.ceil(
            TTestPower().solve_power(
                effect_size=effect, power=power, alpha=alpha, alternative="two-sided"
            )
        )
    )


def n_for_r_difference(
    r_a: float,
    r_b: float,
    r_ab: float,
    power: float = 0.8,
    alpha: float = ALPHA,
    n_max: int = 100_000,
) -> float:
    """Smallest n at which Williams' t for the given correlations reaches ``power``
    (noncentral approximation: the expected t at n against the two-sided critical
    value); inf when the correlations are equal."""
    if r_a == r_b:
        return float("inf")
    z_power = stats.norm.ppf(power)
    for n in range(6, n_max):
        t, _ = williams_t(r_a, r_b, r_ab, n)
        if abs(t) - stats.t.ppf(1 - alpha / 2, n - 3) >= z_power:
            return float(n)
    return float("inf")


def riley_binary(
    prevalence: float,
    parameters: int,
    r2_cs: float,
    shrinkage: float = 0.9,
    delta: float = 0.05,
    margin: float = 0.05,
) -> dict[str, float]:
    """Riley et al. (2020) minimum n for a binary-outcome prediction model: criterion 1
    (expected uniform shrinkage ≥ ``shrinkage``), 2 (optimism in Nagelkerke R² ≤
    ``delta``), 3 (overall risk within ± ``margin``); n, events, events per parameter."""
    phi, p = float(prevalence), int(parameters)
    ln_null = phi * np.log(phi) + (1 - phi) * np.log(1 - phi)
    max_r2 = 1 - np.exp(2 * ln_null)

    def n_for(s: float) -> float:
        return p / ((s - 1) * np.log(1 - r2_cs / s))

    n1 = n_for(shrinkage)
    s2 = r2_cs / (r2_cs + delta * max_r2)
    n2 = n_for(s2)
    n3 = (stats.norm.ppf(0.975) / margin) ** 2 * phi * (1 - phi)
    n = float(np.ceil(max(n1, n2, n3)))
    return {
        "n_criterion1": float(np.ceil(n1)),
        "n_criterion2": float(np.ceil(n2)),
        "n_criterion3": float(np.ceil(n3)),
        "n": n,
        "events_needed": float(np.ceil(n * phi)),
        "epp": n * phi / p,
        "max_r2_cs": float(max_r2),
        "r2_cs": float(r2_cs),
    }


def power_from_summary_r(
    r_a: float,
    r_b: float,
    r_ab: float,
    n_values=DEFAULT_N,
    n_sim: int = N_SIM,
    alpha: float = ALPHA,
    seed: int = SEED,
) -> pd.DataFrame:
    """Power of Williams' t when only published correlations are known: draw (GA, A, B)
    from a trivariate normal with r(GA, A) = ``r_a``, r(GA, B) = ``r_b``, r(A, B) =
    ``r_ab`` (an assumption a paper rarely reports) and test each simulated study."""
    cov = np.array([[1, r_a, r_b], [r_a, 1, r_ab], [r_b, r_ab, 1]], float)
    if np.linalg.eigvalsh(cov).min() <= 0:
        raise ValueError(f"r(A, B) = {r_ab:g} is impossible with r_A = {r_a:g}, r_B = {r_b:g}")
    rng = np.random.default_rng(seed)
    rows = []
    for n in n_values:
        draws = rng.multivariate_normal(np.zeros(3), cov, size=(n_sim, int(n)))
        p = np.empty(n_sim)
        for k in range(n_sim):
            c = np.corrcoef(draws[k].T)
            p[k] = williams_t(c[0, 1], c[0, 2], c[1, 2], int(n))[1]
        power = float((np.nan_to_num(p, nan=1.0) < alpha).mean())
        rows.append(
            {"n": int(n), "power": power, "power_se": float(np.sqrt(power * (1 - power) / n_sim))}
        )
    return pd.DataFrame(rows)


def pilot_outcome_r2(y: np.ndarray, predictors: np.ndarray) -> float:
    """Cox–Snell R² of a logistic model of the pilot (statsmodels Logit): 1 − exp(−LR/n),
    the anticipated R² Riley's criteria take."""
    import statsmodels.api as sm

    y = np.asarray(y, int)
    fit = sm.Logit(y, sm.add_constant(np.asarray(predictors, float))).fit(disp=0)
    return float(1 - np.exp(-2 * (fit.llf - fit.llnull) / len(y)))
