"""Does the residual (estimate − GA) add to GA in predicting the outcome? Nested logistic
models per method (benchmark.stats.maturity_hypothesis)."""

from __future__ import annotations

import pandas as pd

from benchmark.report.formatting import Table, interval, num, pval
from benchmark.report.registry import ReportContext, register_table
from benchmark.report.sections.decision_curve import outcome_series
from benchmark.report.sections.maturity import _pooled
from benchmark.stats.maturity_hypothesis import MIN_EVENTS, maturity_hypothesis


def hypothesis_frame(ctx: ReportContext) -> pd.DataFrame | None:
    outcome = outcome_series(ctx)
    if outcome is None:
        return None
    if "maturity_hypothesis" not in ctx.data.cache:
        frame = maturity_hypothesis(_pooled(ctx), outcome)
        frame.insert(1, "role", frame["method"].map(ctx.data.roles).fillna(""))
        ctx.data.cache["maturity_hypothesis"] = frame
    return ctx.data.cache["maturity_hypothesis"]


@register_table("maturity_hypothesis", order=73)
def maturity_hypothesis_table(ctx: ReportContext) -> Table | None:
    frame = hypothesis_frame(ctx)
    if frame is None:
        return None
    done = frame["status"] == "computed"
    display = pd.DataFrame(
        {
            "method": frame["method"],
            "role": frame["role"],
            "events / n": [f"{e} / {n}" for e, n in zip(frame["events"], frame["n"])],
            "LR χ² (1 df)": [
                num(v, 2) if ok else s for v, ok, s in zip(frame["lr"], done, frame["status"])
            ],
            "p": frame["p"].map(pval),
            "residual OR per week [95 % CI]": [
                interval(v, lo, hi, 2) if ok else "—"
                for v, lo, hi, ok in zip(frame["or"], frame["or_lo"], frame["or_hi"], done)
            ],
            "AUC GA": frame["auc_ga"].map(lambda v: num(v, 3)),
            "AUC GA + residual": frame["auc_full"].map(lambda v: num(v, 3)),
            "ΔAUC": frame["delta_auc"].map(lambda v: num(v, 3)),
        }
    )
    return Table(
        "maturity_hypothesis",
        "The lung-maturity hypothesis: the residual beyond GA",
        "Patient level, test patients with a recorded outcome; events / n on every row. "
        "Nested logistic models (statsmodels Logit): outcome ~ GA at the scan vs outcome ~ "
        "GA + residual, residual = estimate − GA (weeks). LR = likelihood-ratio χ² of the "
        "residual; OR per week of residual with Wald 95 % CI (OR < 1: an estimate older "
        "than the GA = a more mature lung = less morbidity); ΔAUC = in-sample AUC of the "
        "two linear predictors (optimistic for both, the difference is what matters). A "
        "method that reads lung maturity beyond GA (the ceiling control does, by "
        "construction) has a small p; size-only methods (biometry) should not. Needs at "
        f"least {MIN_EVENTS} events and non-events.",
        frame,
        display,
    )
