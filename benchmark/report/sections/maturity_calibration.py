"""Brier score and reliability of the maturity class (preterm lung, true GA < threshold)
as a probability: no method gives one, so the documented mapping of
benchmark/stats/outcome_risk.py makes it — an out-of-fold logistic regression of the class
on the estimate.  The GA groups' middle class has no monotone mapping from one estimate,
so only the binary preterm-lung class is scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.report.formatting import Table, num
from benchmark.report.registry import ReportContext, register_figure, register_table
from benchmark.report.sections.maturity import _pooled
from benchmark.stats import outcome_risk


def class_risks(ctx: ReportContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per method × patient: y = true GA < threshold and its out-of-fold probability;
    per method: n, immature, status)."""
    key = "maturity_class_risk"
    if key not in ctx.data.cache:
        threshold = ctx.options.preterm_weeks
        frames, counts = [], []
        for label, sub in _pooled(ctx).groupby("label", sort=True):
            sub = sub[np.isfinite(sub["ga_pred"].to_numpy(float))]
            y = (sub["ga_true"].to_numpy(float) < threshold).astype(int)
            row = {"method": label, "n": len(y), "immature": int(y.sum())}
            if not outcome_risk.enough_events(y):
                row["status"] = (
                    f"not computed: {row['immature']} of {len(y)} patients below "
                    f"{threshold:g} wk (needs ≥ {outcome_risk.MIN_EVENTS} on each side)"
                )
            elif np.ptp(sub["ga_pred"].to_numpy(float)) == 0:
                row["status"] = "not computed: a constant estimate gives one probability"
            else:
                row["status"] = "computed"
                part = sub[["label", "patient_id"]].copy()
                part["y"] = y
                part["p"] = outcome_risk.out_of_fold_risk(sub["ga_pred"].to_numpy(float), y)
                frames.append(part)
            counts.append(row)
        risks = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        ctx.data.cache[key] = (risks, pd.DataFrame(counts))
    return ctx.data.cache[key]


@register_table("maturity_class_calibration", order=61)
def maturity_class_calibration(ctx: ReportContext) -> Table | None:
    risks, counts = class_risks(ctx)
    if counts.empty:
        return None
    rows = []
    for c in counts.to_dict("records"):
        if c["status"] == "computed":
            sub = risks[risks["label"] == c["method"]]
            brier, _, _ = outcome_risk.brier_reliability(sub["y"], sub["p"])
            share = sub["y"].mean()
            c.update(brier=brier, null_brier=share * (1 - share))
        rows.append(c)
    data = pd.DataFrame(rows).reindex(
        columns=["method", "n", "immature", "status", "brier", "null_brier"]
    )
    threshold = ctx.options.preterm_weeks
    display = pd.DataFrame(
        {
            "method": data["method"],
            f"GA < {threshold:g} wk / n": [
                f"{e} / {n}" for e, n in zip(data["immature"], data["n"])
            ],
            "Brier": [
                num(b, 4) if s == "computed" else s for b, s in zip(data["brier"], data["status"])
            ],
            "Brier (share only)": data["null_brier"].map(lambda v: num(v, 4)),
        }
    )
    return Table(
        "maturity_class_calibration",
        f"Preterm-lung class as a probability: Brier score (GA < {threshold:g} wk)",
        "Patient level, test patients with an estimate. No method outputs a class "
        "probability; the documented mapping is the outcome's (benchmark/stats/"
        "outcome_risk.py): an out-of-fold logistic regression (5 stratified folds) of "
        f"the class (true GA < {threshold:g} wk, report --preterm-weeks) on the estimate. "
        "Brier = mean (probability − class)², scikit-learn; lower is better; 'share "
        "only' = s(1 − s), what a constant probability scores. Reliability curves: "
        "fig_maturity_reliability.",
        data,
        display,
    )


@register_figure("maturity_reliability", order=43)
def maturity_reliability(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    risks, _ = class_risks(ctx)
    if risks.empty:
        return None
    from benchmark.report.figures import _grid, _save

    labels = sorted(risks["label"].unique())
    fig, axes = _grid(len(labels))
    for ax, label in zip(axes, labels):
        sub = risks[risks["label"] == label]
        brier, observed, predicted = outcome_risk.brier_reliability(sub["y"], sub["p"])
        ax.plot(predicted, observed, marker="o", ms=3, color="#c0392b", lw=1)
        ax.plot([0, 1], [0, 1], color="0.4", ls="--", lw=0.8)
        ax.set_title(f"{label}\nBrier {brier:.3f}")
        ax.set_xlabel("predicted P(preterm lung)")
        ax.set_ylabel("observed share")
    fig.tight_layout()
    return (
        _save(fig, out, "fig_maturity_reliability"),
        f"Reliability of P(true GA < {ctx.options.preterm_weeks:g} wk | estimate), the "
        "out-of-fold logistic mapping (5 quantile bins, scikit-learn): observed share "
        "against mean predicted probability; dashed = ideal.",
    )
