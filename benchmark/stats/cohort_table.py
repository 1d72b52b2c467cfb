"""Table 1: characteristics of training and test patients per GA group (paper Table 1).

As in the paper: one-way ANOVA over the train/test × group subsets for each measurement,
with Fisher's LSD pairwise test (pooled ANOVA variance, df = N − k) for train vs test
within each group; χ² for counts, switching to Fisher's exact test when an expected count
is below 5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm

#: (column in the patients table, row label) — measurements shown as mean ± SD.
MEASUREMENTS = (
    ("maternal_age", "maternal age (y)"),
    ("ga_weeks", "GA at scan (wk)"),
    ("delivery_ga_weeks", "delivery GA (wk)"),
    ("apgar", "Apgar"),
)
PARITY_LEVELS = ("multiparous", "primiparous")


def lsd_anova(
    values: pd.Series, subsets: pd.Series, pairs: list[tuple[str, str]]
) -> tuple[float, float, dict[tuple[str, str], float]]:
    """One-way ANOVA (F, p) and Fisher-LSD p-values for the requested subset pairs."""
    frame = pd.DataFrame({"y": values.to_numpy(float), "g": subsets.astype(str).to_numpy()})
    frame = frame.dropna()
    levels = sorted(frame["g"].unique())
    if len(levels) < 2 or len(frame) <= len(levels):
        return np.nan, np.nan, {pair: np.nan for pair in pairs}
    # cell-means coding: every coefficient is a subset mean, contrasts share the pooled MSE
    model = smf.ols("y ~ C(g, levels=levels) - 1", data=frame).fit()
    intercept_model = smf.ols("y ~ C(g)", data=frame).fit()
    anova = anova_lm(intercept_model)
    f_stat, f_p = float(anova["F"].iloc[0]), float(anova["PR(>F)"].iloc[0])
    names = {lv: f"C(g, levels=levels)[{lv}]" for lv in levels}
    out = {}
    for a, b in pairs:
        if a not in names or b not in names:
            out[(a, b)] = np.nan
            continue
        contrast = np.zeros(len(model.params))
        contrast[list(model.params.index).index(names[a])] = 1
        contrast[list(model.params.index).index(names[b])] = -1
        out[(a, b)] = float(model.t_test(contrast).pvalue)
    return f_stat, f_p, out


def count_test(table: np.ndarray) -> tuple[str, float]:
    """χ² without continuity correction, or Fisher's exact test for a sparse 2×2 table."""
    table = np.asarray(table)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return "—", np.nan
    expected = stats.contingency.expected_freq(table)
    if table.shape == (2, 2) and (expected < 5).any():
        return "Fisher", float(stats.fisher_exact(table).pvalue)
    return "χ²", float(stats.chi2_contingency(table, correction=False).pvalue)


def _p_text(p: float) -> str:
    return "<0.001" if p < 0.001 else f"={p:.3f}"


def _mean_sd(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return "—"
    sd = values.std(ddof=1)
    return f"{values.mean():.2f} ± {sd:.2f}" if len(values) > 1 else f"{values.mean():.2f}"


def table1(patients: pd.DataFrame, groups: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Rows: measurement × group; columns train/test summaries and p-values.

    ``patients`` needs ``side`` (train|test), ``group`` and any of the measurement columns
    and ``parity``.  Returns the table and notes on columns that are missing.
    """
    notes = []
    subset = patients["side"].astype(str) + "|" + patients["group"].astype(str)
    pairs = [(f"train|{g}", f"test|{g}") for g in groups]
    rows = []
    for g in groups:
        n_tr = int(((patients["side"] == "train") & (patients["group"] == g)).sum())
        n_te = int(((patients["side"] == "test") & (patients["group"] == g)).sum())
        rows.append(
            {
                "variable": "n patients",
                "group": g,
                "train": str(n_tr),
                "test": str(n_te),
                "test_used": "",
                "p": np.nan,
            }
        )
    for column, name in MEASUREMENTS:
        if column not in patients or patients[column].isna().all():
            notes.append(f"{name}: column {column!r} not in the cohort")
            continue
        values = pd.to_numeric(patients[column], errors="coerce")
        f_stat, f_p, lsd = lsd_anova(values, subset, pairs)
        for g, pair in zip(groups, pairs):
            side = patients["group"] == g
            rows.append(
                {
                    "variable": name,
                    "group": g,
                    "train": _mean_sd(values[side & (patients["side"] == "train")]),
                    "test": _mean_sd(values[side & (patients["side"] == "test")]),
                    "test_used": f"ANOVA F={f_stat:.2f} (p{_p_text(f_p)}); LSD"
                    if np.isfinite(f_stat)
                    else "—",
                    "p": lsd[pair],
                }
            )
    if "parity" in patients and patients["parity"].notna().any():
        parity = patients["parity"].astype(str).str.lower()
        unknown = sorted(set(parity.dropna()) - set(PARITY_LEVELS) - {"nan"})
        if unknown:
            notes.append(f"parity values not counted: {', '.join(unknown)}")
        for g in groups:
            counts = np.array(
                [
                    [
                        int(
                            (
                                (patients["side"] == s) & (patients["group"] == g) & (parity == lv)
                            ).sum()
                        )
                        for lv in PARITY_LEVELS
                    ]
                    for s in ("train", "test")
                ]
            )
            test_name, p = count_test(counts)
            rows.append(
                {
                    "variable": "multiparous / primiparous",
                    "group": g,
                    "train": f"{counts[0, 0]} / {counts[0, 1]}",
                    "test": f"{counts[1, 0]} / {counts[1, 1]}",
                    "test_used": test_name,
                    "p": p,
                }
            )
    else:
        notes.append("parity: column 'parity' not in the cohort")
    return pd.DataFrame(rows), notes
