"""Maturity classes from any regressor, and maturity beyond GA (simulated cohorts only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.report.formatting import Table, interval, num, pval
from benchmark.report.registry import ReportContext, register_table
from benchmark.stats import maturity
from benchmark.stats.metrics import pooled_patient_predictions


def _pooled(ctx: ReportContext) -> pd.DataFrame:
    if "pooled_patient" not in ctx.data.cache:
        ctx.data.cache["pooled_patient"] = pooled_patient_predictions(
            ctx.data.predictions, "patient"
        )
    return ctx.data.cache["pooled_patient"]


def _confusion_text(row: pd.Series, names: list[str]) -> str:
    """Rows = true class, columns = estimated class, e.g. '40 2 0 / 3 50 6 / 0 4 45'."""
    return " / ".join(" ".join(str(int(row[f"n {t} as {p}"])) for p in names) for t in names)


@register_table("maturity_classes", order=60)
def maturity_classes(ctx: ReportContext) -> Table | None:
    pooled = _pooled(ctx)
    if pooled.empty:
        return None
    threshold = ctx.options.preterm_weeks
    frame = maturity.maturity_classes(pooled, ctx.data.group_edges, threshold)
    names = ctx.data.group_labels
    display_rows = []
    for row in frame.to_dict("records"):
        grouped = row["task"] == "GA groups"
        aucs = (
            [num(row.get(f"auc {g}", np.nan), 3) for g in names]
            if grouped
            else [num(row.get("auc preterm", np.nan), 3)]
        )
        confusion = (
            _confusion_text(pd.Series(row), names)
            if grouped
            else " / ".join(
                " ".join(str(int(row[f"n {t} as {p}"])) for p in ("immature", "mature"))
                for t in ("immature", "mature")
            )
        )
        display_rows.append(
            {
                "method": row["method"],
                "task": row["task"],
                "n": row["n"],
                "accuracy %": num(100 * row["accuracy"], 1),
                "Cohen κ": num(row["kappa"], 3),
                "AUC (one-vs-rest)": " / ".join(aucs),
                "sensitivity / specificity %": "—"
                if grouped
                else f"{num(100 * row['sensitivity'], 1)} / {num(100 * row['specificity'], 1)}",
                "confusion (rows true, columns estimated)": confusion,
            }
        )
    return Table(
        "maturity_classes",
        "Maturity classes from the GA estimate",
        "Patient level. GA groups as classes (" + ", ".join(names) + " wk): a method's "
        "class is the group its estimate falls in; one-vs-rest ROC AUC per class, in that "
        "order, with the continuous estimate as the score (−estimate for the lowest class, "
        "+estimate for the highest, −|estimate − class centre| between). Preterm lung: true "
        f"GA < {threshold:g} wk vs estimate < {threshold:g} wk (report --preterm-weeks), "
        "AUC with −estimate as the score; confusion = immature→immature, immature→mature / "
        "mature→immature, mature→mature. Accuracy, κ and confusion matrices: scikit-learn.",
        frame,
        pd.DataFrame(display_rows),
    )


@register_table("maturity_beyond_ga", order=65)
def maturity_beyond_ga(ctx: ReportContext) -> Table | None:
    patients = ctx.data.table1_patients
    deviation = (
        maturity.maturity_deviation(patients) if patients is not None else pd.Series(dtype=float)
    )
    if deviation.empty:
        note = (
            "maturity beyond GA: the cohort has no simulated maturity (truth_maturity); "
            "only a simulator can score it"
        )
        if note not in ctx.data.skips:
            ctx.data.skips.append(note)
        return None
    frame = maturity.maturity_beyond_ga(_pooled(ctx), deviation)
    roles = ctx.data.roles
    frame.insert(1, "role", frame["method"].map(roles).fillna(""))
    display = pd.DataFrame(
        {
            "method": frame["method"],
            "role": frame["role"],
            "n": frame["n"],
            "r [95 % CI]": [
                interval(r, lo, hi) for r, lo, hi in zip(frame["r"], frame["r_lo"], frame["r_hi"])
            ],
            "p": frame["p"].map(pval),
        }
    )
    return Table(
        "maturity_beyond_ga",
        "Maturity beyond GA (simulated truth)",
        "Patient level, synthetic cohorts only: r between a method's error (estimate − true "
        "GA) and the fetus's true maturity deviation δ (the simulated lung maturity not "
        "explained by GA: residual of truth_maturity on true GA over the whole cohort), "
        "Fisher-z 95 % CI. r > 0: the method reads lung maturity the GA does not explain "
        "(the clinical question behind lung texture); the ceiling control, which reads the "
        "simulated maturity, sits far above 0, biometry (size, not lung) should cover 0. "
        "Only a simulator knows δ: this is the estimand real cohorts cannot score.",
        frame,
        display,
    )
