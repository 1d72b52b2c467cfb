"""The report's tables, built from :class:`~benchmark.report.data.RunData` only."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from benchmark import stats
from benchmark.contract.domain import DEFAULT_GROUP_EDGES
from benchmark.report.data import RunData
from benchmark.report.formatting import Table, interval, mean_sd, num, pval
from benchmark.report.registry import ReportContext, register_table

LEVEL_TEXT = {
    "patient": "Patient level (default): one GA estimate per patient, the mean of that "
    "patient's image predictions; n counts patients.",
    "image": "Image level: every test image counted; n counts images, CIs resample patients.",
}

#: The paper's Table 2 (inaccuracy, weeks) and its test-set group sizes (Table 1).
PAPER_TABLE2 = (
    # group, deep mean, sd, traditional mean, sd, n (test women in the group), published t, p
    ("24–30", 2.49, 0.63, 1.93, 0.75, 41, 1.700, 0.093),
    (">30–36", 1.07, 0.24, 2.44, 0.57, 60, 17.159, 0.000),
    (">36", 0.83, 0.11, 1.09, 0.17, 49, 8.988, 0.000),
)
PAPER_R = (0.773, 150, 0.6893, 0.8314)  # r, n, published 95 % CI


def _split_text(data: RunData) -> str:
    cfg = data.run.get("config", {})
    seeds = sorted(data.predictions["seed"].unique()) if len(data.predictions) else []
    return (
        f"Split {cfg.get('split', '?')}, seeds {', '.join(map(str, seeds))}; "
        "a patient's prediction is averaged over seeds."
    )


@register_table("metrics", order=20)
def metrics_table(ctx: ReportContext) -> Table | None:
    data, level = ctx.data, ctx.level
    if data.predictions.empty:  # a run whose every cell failed: nothing to pool
        return None
    pooled = data.pooled_metrics(level)
    pooled = pooled.sort_values(["method", "group"], key=_group_key, kind="stable")
    display = pd.DataFrame(
        {
            "method": pooled["method"],
            "group": pooled["group"],
            "n": pooled["n_rows"],
            "MAE ± SD (wk)": [mean_sd(m, s) for m, s in zip(pooled["mae"], pooled["mae_sd"])],
            "RMSE (wk)": pooled["rmse"].map(num),
            "bias (wk)": pooled["bias"].map(num),
            "r [Fisher 95 % CI]": [
                interval(r, lo, hi)
                for r, lo, hi in zip(pooled["r"], pooled["r_lo"], pooled["r_hi"])
            ],
            "r bootstrap CI": [
                interval(r, lo, hi)
                for r, lo, hi in zip(pooled["r"], pooled["r_boot_lo"], pooled["r_boot_hi"])
            ],
            "Spearman ρ": pooled["spearman"].map(lambda v: num(v, 3)),
            "Bland–Altman limits (wk)": [
                f"{num(lo)} to {num(hi)}" for lo, hi in zip(pooled["ba_lower"], pooled["ba_upper"])
            ],
        }
    )
    return Table(
        f"metrics_{level}",
        "Agreement with true GA",
        f"{LEVEL_TEXT[level]} {_split_text(data)} MAE = mean absolute error; bias = mean "
        "(estimate − true); r with Fisher-z and patient-bootstrap (2,000 resamples) 95 % "
        "CIs; Bland–Altman 95 % limits = bias ± 1.96 SD (ddof = 1).",
        pooled.reset_index(drop=True),
        display.reset_index(drop=True),
    )


@register_table("metrics_across_splits", order=90)
def splits_table(ctx: ReportContext) -> Table | None:
    data, level = ctx.data, ctx.level
    if data.predictions.empty:
        return None
    per_split = stats.split_metrics(data.predictions, level, bootstrap=False)
    agg = stats.aggregate_splits(per_split)
    agg = agg.sort_values(["method", "group"], key=_group_key, kind="stable")
    display = pd.DataFrame(
        {
            "method": agg["method"],
            "group": agg["group"],
            "splits": agg["n_splits"],
            "MAE (wk)": [mean_sd(m, s) for m, s in zip(agg["mae_mean"], agg["mae_sd"])],
            "RMSE (wk)": [mean_sd(m, s) for m, s in zip(agg["rmse_mean"], agg["rmse_sd"])],
            "bias (wk)": [mean_sd(m, s) for m, s in zip(agg["bias_mean"], agg["bias_sd"])],
            "r": [mean_sd(m, s, 3) for m, s in zip(agg["r_mean"], agg["r_sd"])],
        }
    )
    return Table(
        f"metrics_across_splits_{level}",
        "Variation across seeds and folds",
        f"{LEVEL_TEXT[level]} Each metric computed per seed × fold, then mean ± SD across "
        "them (SD — with a single split).",
        agg.reset_index(drop=True),
        display.reset_index(drop=True),
    )


def _reference(ctx: ReportContext) -> str | None:
    """The Table 2 reference, or None with the reason in the report's skips."""
    reference = ctx.reference
    if reference is None:
        note = (
            "Table 2: no method in this run declares the role 'reference' and no "
            "--reference was given"
        )
    elif reference not in ctx.data.labels:
        note = f"Table 2: reference method {reference!r} is not in this run"
    else:
        return reference
    if note not in ctx.data.skips:
        ctx.data.skips.append(note)
    return None


@register_table("table2", order=30)
def table2_paired(ctx: ReportContext) -> Table | None:
    return table2(ctx, unpaired=False)


@register_table("table2_unpaired", order=32)
def table2_unpaired(ctx: ReportContext) -> Table | None:
    return table2(ctx, unpaired=True)


def table2(ctx: ReportContext, unpaired: bool = False) -> Table | None:
    data, level, reference = ctx.data, ctx.level, _reference(ctx)
    if reference is None:
        return None
    t2 = stats.table2(data.predictions, reference, level, unpaired=unpaired)
    t2 = t2.sort_values(["method", "group"], key=_group_key, kind="stable")
    test = (
        "unpaired two-sample t-test and Mann–Whitney U (the paper's analysis)"
        if unpaired
        else "paired t-test and Wilcoxon signed-rank test on the same patients"
    )
    display = pd.DataFrame(
        {
            "method": t2["method"],
            "group": t2["group"],
            "n": t2["n"],
            "|error| ± SD (wk)": [mean_sd(m, s) for m, s in zip(t2["mae"], t2["mae_sd"])],
            f"{reference} (wk)": t2["ref_mae"].map(num),
            "t": t2["t"].map(lambda v: num(v, 3)),
            "p (t)": t2["p_t"].map(pval),
            "p (t, Holm)": t2["p_t_holm"].map(pval),
            "p (rank)": t2["p_w"].map(pval),
            "p (rank, Holm)": t2["p_w_holm"].map(pval),
        }
    )
    return Table(
        f"table2_{level}" + ("_unpaired" if unpaired else ""),
        "Table 2 — inaccuracy vs the reference method",
        f"{LEVEL_TEXT[level]} {_split_text(data)} Absolute error |estimate − true| in "
        f"weeks; reference {reference}; {test}; t > 0 means a larger error than the "
        "reference. Holm correction across all methods × groups.",
        t2.reset_index(drop=True),
        display.reset_index(drop=True),
    )


@register_table("table2_paper_layout", order=31)
def table2_paper_layout(ctx: ReportContext) -> Table | None:
    """Table 2 as the paper lays it out: methods × GA groups, |error| ± SD (Holm p)."""
    data, level, reference = ctx.data, ctx.level, _reference(ctx)
    if reference is None:
        return None
    t2 = stats.table2(data.predictions, reference, level)
    groups = [g for g in data.group_labels if g in set(t2["group"])] + ["all"]
    methods = [reference] + [m for m in sorted(t2["method"].unique()) if m != reference]
    cells = t2.set_index(["method", "group"])
    wide = {"method": methods}
    for g in groups:
        column = []
        for m in methods:
            if (m, g) not in cells.index:
                column.append("—")
                continue
            row = cells.loc[(m, g)]
            text = mean_sd(row["mae"], row["mae_sd"])
            column.append(text if m == reference else f"{text} (p {pval(row['p_t_holm'])})")
        wide[g] = column
    return Table(
        f"table2_{level}_paper_layout",
        "Table 2 (paper layout) — inaccuracy per GA group",
        f"{LEVEL_TEXT[level]} |estimate − true| in weeks, mean ± SD; p = paired t-test vs "
        f"{reference} on the same patients, Holm-corrected (full statistics in table2_{level}).",
        t2.reset_index(drop=True),
        pd.DataFrame(wide),
    )


@register_table("correlation", order=40)
def correlation_table(ctx: ReportContext) -> Table | None:
    data, level = ctx.data, ctx.level
    if data.predictions.empty:
        return None
    pooled = data.pooled_metrics(level)
    groups = ["all", *data.group_labels]
    wide = {"method": sorted(pooled["method"].unique())}
    for g in groups:
        sub = pooled[pooled["group"] == g].set_index("method")
        wide[g] = [
            interval(sub.loc[m, "r"], sub.loc[m, "r_lo"], sub.loc[m, "r_hi"])
            if m in sub.index
            else "—"
            for m in wide["method"]
        ]
    data_cols = pooled[
        [
            "method",
            "group",
            "n_rows",
            "r",
            "r_lo",
            "r_hi",
            "r_p",
            "r_boot_lo",
            "r_boot_hi",
            "spearman",
        ]
    ]
    data_cols = data_cols.sort_values(["method", "group"], key=_group_key, kind="stable")
    return Table(
        f"correlation_{level}",
        "Correlation of estimated with true GA",
        f"{LEVEL_TEXT[level]} Pearson r [Fisher-z 95 % CI] overall and per GA group; the "
        "CSV adds p, the patient-bootstrap CI and Spearman ρ.",
        data_cols.reset_index(drop=True),
        pd.DataFrame(wide),
    )


@register_table("transfer", order=45)
def transfer_table(ctx: ReportContext) -> Table | None:
    """Each method against its declared control (``control_of``: e.g. the net without
    transfer learning), never recognised by name."""
    data, level = ctx.data, ctx.level
    pairs = data.control_pairs
    if not pairs:
        return None
    comp = stats.compare_correlations(data.predictions, pairs, level)
    comp = comp.sort_values(["method_a", "method_b", "group"], kind="stable", key=_group_key)
    display = pd.DataFrame(
        {
            "method": comp["method_a"],
            "its control": comp["method_b"],
            "group": comp["group"],
            "n": comp["n"],
            "r method": comp["r_a"].map(lambda v: num(v, 3)),
            "r control": comp["r_b"].map(lambda v: num(v, 3)),
            "Williams t": comp["williams_t"].map(lambda v: num(v, 3)),
            "p": comp["p_williams"].map(pval),
            "Δr bootstrap 95 % CI": [
                f"[{num(lo, 3)}, {num(hi, 3)}]" for lo, hi in zip(comp["diff_lo"], comp["diff_hi"])
            ],
            "p (bootstrap)": comp["p_boot"].map(pval),
        }
    )
    return Table(
        f"transfer_{level}",
        "Method vs its declared control (e.g. transfer vs no transfer): difference in r",
        f"{LEVEL_TEXT[level]} Pairs come from the control's declared control_of. Both "
        "correlations are with the same true GA on the same "
        "patients, so they are dependent: Williams' t (df = n − 3) uses r between the two "
        "methods' estimates; the paired patient bootstrap (2,000 resamples) gives a CI for "
        "the difference.",
        comp.reset_index(drop=True),
        display.reset_index(drop=True),
    )


@register_table("dsc", order=80)
def dsc_table(ctx: ReportContext) -> Table | None:
    data = ctx.data
    if data.dsc.empty:
        return None
    summary = stats.dsc_summary(data.dsc)
    display = pd.DataFrame(
        {
            "method": summary["method"],
            "images": summary["n_images"],
            "DSC ± SD (%)": [mean_sd(m, s) for m, s in zip(summary["dsc_mean"], summary["dsc_sd"])],
        }
    )
    return Table(
        "dsc",
        "Lung segmentation (Dice similarity coefficient)",
        "Image level: DSC = 2|X ∩ Y| / (|X| + |Y|) between the method's lung map "
        "(thresholded at 0.5) and the hand tracing, over every test image of every split.",
        summary,
        display,
    )


@register_table("costs", order=100)
def cost_table(ctx: ReportContext) -> Table | None:
    data = ctx.data
    cells = data.cells
    if cells.empty or "status" not in cells:
        return None
    done = cells[cells["status"] == "done"]
    if done.empty:
        return None
    pooled = data.pooled_metrics("patient")
    mae = pooled[pooled["group"] == "all"].set_index("method")["mae"]
    grouped = done.groupby("label", sort=True)
    frame = (
        pd.DataFrame(
            {
                "cells": grouped.size(),
                "fit_seconds": grouped["fit_seconds"].mean(),
                "predict_seconds": grouped["predict_seconds"].mean(),
                "peak_rss_mb": grouped["peak_rss_mb"].max(),
            }
        )
        .rename_axis("method")
        .reset_index()
    )
    frame["mae"] = frame["method"].map(mae)
    display = pd.DataFrame(
        {
            "method": frame["method"],
            "cells": frame["cells"],
            "fit (s)": frame["fit_seconds"].map(lambda v: num(v, 1)),
            "predict (s)": frame["predict_seconds"].map(lambda v: num(v, 1)),
            "peak memory (MB)": frame["peak_rss_mb"].map(lambda v: num(v, 0)),
            "MAE (wk)": frame["mae"].map(num),
        }
    )
    return Table(
        "costs",
        "Cost and accuracy",
        "Mean fit and predict wall-clock seconds per cell and the largest peak resident "
        "memory, on the machine named in the provenance; MAE at patient level.",
        frame,
        display,
    )


@register_table("not_run", order=110)
def failures_table(ctx: ReportContext) -> Table | None:
    data = ctx.data
    cells = data.cells
    if cells.empty or "status" not in cells:
        return None
    bad = cells[cells["status"] != "done"]
    if bad.empty:
        return None
    frame = (
        bad[["label", "status", "error"]]
        .drop_duplicates()
        .sort_values(["label", "status"], kind="stable")
        .reset_index(drop=True)
    )
    return Table(
        "not_run",
        "Methods not in the tables",
        "Cells that failed, were skipped by the method, or could not run here.",
        frame,
        frame.fillna(""),
    )


@register_table("table1", order=10)
def table1(ctx: ReportContext) -> Table | None:
    data = ctx.data
    patients = data.table1_patients
    if patients is None or patients.empty:
        return None
    t1, notes = stats.table1(patients, data.group_labels)
    seed, fold = data.first_split()
    display = t1.assign(p=t1["p"].map(pval))
    display.columns = ["variable", "group", "train", "test", "statistical test", "p"]
    caption = (
        f"Patients of the first split (seed {seed}, fold {fold}): test = the patients "
        "predicted in that split, train = every other patient of the cohort. Mean ± SD; "
        "one-way ANOVA over the train/test × group subsets with Fisher's LSD p for train vs "
        "test within each group; counts by χ² (Fisher's exact when an expected count < 5)."
    )
    if notes:
        caption += " Not tabulated: " + "; ".join(notes) + "."
    return Table("table1", "Table 1 — cohort characteristics", caption, t1, display)


def is_reference_run(run: dict) -> bool:
    """The committed reference configuration: the embedded synthetic cohort with its
    default options, the paper's split, one seed, the paper's GA groups."""
    cfg = run.get("config", {})
    return (
        cfg.get("dataset") == "synthetic"
        and not cfg.get("dataset_options")
        and cfg.get("split") == "paper"
        and list(cfg.get("seeds", [])) == [0]
        and [float(e) for e in cfg.get("group_edges", [])] == list(DEFAULT_GROUP_EDGES)
    )


@register_table("paper_check", order=120)
def paper_check(ctx: ReportContext) -> Table | None:
    """Only in the reference run's report, or on request (``report --paper-check``): it
    checks the paper, not the user's cohort, and has nothing to say about their data."""
    wanted = ctx.options.paper_check
    if wanted is None:
        wanted = is_reference_run(ctx.data.run)
    return paper_check_table() if wanted else None


def paper_check_table() -> Table:
    """The paper's published Table 2 t-values and r CI, recomputed from its own numbers."""
    rows = []
    for group, m1, s1, m2, s2, n, t_pub, p_pub in PAPER_TABLE2:
        res = stats.ttest_from_summary(m1, s1, n, m2, s2, n)
        rows.append(
            {
                "quantity": f"Table 2 t, {group} (n = {n} per arm)",
                "published": t_pub,
                "published_p": p_pub,
                "recomputed": abs(res.t),
                "recomputed_p": res.p,
            }
        )
    r, n, lo, hi = PAPER_R
    z, se = np.arctanh(r), 1 / np.sqrt(n - 3)
    from scipy.stats import norm

    q = norm.ppf(0.975)
    rows.append(
        {
            "quantity": f"r CI low (Fisher z, n = {n})",
            "published": lo,
            "published_p": np.nan,
            "recomputed": float(np.tanh(z - q * se)),
            "recomputed_p": np.nan,
        }
    )
    rows.append(
        {
            "quantity": f"r CI high (Fisher z, n = {n})",
            "published": hi,
            "published_p": np.nan,
            "recomputed": float(np.tanh(z + q * se)),
            "recomputed_p": np.nan,
        }
    )
    frame = pd.DataFrame(rows)
    display = pd.DataFrame(
        {
            "quantity": frame["quantity"],
            "published": frame["published"].map(lambda v: num(v, 4)),
            "recomputed": frame["recomputed"].map(lambda v: num(v, 4)),
            "p published": frame["published_p"].map(pval),
            "p recomputed": frame["recomputed_p"].map(pval),
            "agrees": [
                ("yes" if abs(a - b) < 0.0015 * max(1, abs(a)) else "no")
                for a, b in zip(frame["published"], frame["recomputed"])
            ],
        }
    )
    return Table(
        "paper_check",
        "The paper's statistics recomputed from its published summaries",
        "Unpaired Student t from the published means, SDs and the test-set group sizes of "
        "its Table 1; Fisher-z 95 % CI of its overall r. Independent of this run's data.",
        frame,
        display,
    )


def _group_key(col: pd.Series) -> pd.Series:
    """Sort 'all' first, then groups by their lower bound, then names alphabetically."""
    if col.name != "group":
        return col

    def key(g: str) -> float:
        if g == "all":
            return -1.0
        digits = g.lstrip(">").split("–")[0]
        try:
            return float(digits)
        except ValueError:
            return 1e9

    return col.map(key)


def provenance_text(data: RunData) -> dict[str, str]:
    run = data.run
    cfg = run.get("config", {})
    return {
        "dataset": str(run.get("dataset_meta", {}).get("name", cfg.get("dataset", "?"))),
        "dataset fingerprint": str(run.get("dataset_fingerprint", "?")),
        "split": str(cfg.get("split", "?")),
        "seeds": json.dumps(cfg.get("seeds", [])),
        "GA group edges (wk)": json.dumps(cfg.get("group_edges", [])),
        "methods requested": " ".join(cfg.get("methods", [])),
        "git commit": str(run.get("git_commit", "?")),
        "machine": json.dumps(run.get("machine", {}), sort_keys=True),
        "package versions": json.dumps(run.get("versions", {}), sort_keys=True),
    }
