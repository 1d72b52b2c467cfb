"""Clinical utility of the estimate for the outcome: decision curves (dcurves) and the
Brier score / reliability of the out-of-fold outcome risk (benchmark.stats.outcome_risk)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.report.formatting import Table, num
from benchmark.report.registry import ReportContext, register_figure, register_table
from benchmark.report.sections.maturity import _pooled
from benchmark.stats import outcome_risk


def outcome_series(ctx: ReportContext) -> pd.Series | None:
    """patient_id -> outcome (0/1), or None when the cohort records none."""
    patients = ctx.data.table1_patients
    if patients is None or "outcome" not in patients or patients["outcome"].isna().all():
        return None
    outcome = pd.to_numeric(patients["outcome"], errors="coerce")
    outcome.index = patients["patient_id"].astype(str)
    return outcome


def risks(ctx: ReportContext) -> pd.DataFrame:
    if "outcome_risk" not in ctx.data.cache:
        outcome = outcome_series(ctx)
        ctx.data.cache["outcome_risk"] = (
            pd.DataFrame() if outcome is None else outcome_risk.risk_frame(_pooled(ctx), outcome)
        )
    return ctx.data.cache["outcome_risk"]


def event_counts(ctx: ReportContext) -> pd.DataFrame:
    """Per method: n test patients with an outcome and their events."""
    outcome = outcome_series(ctx)
    rows = []
    for label, sub in _pooled(ctx).groupby("label", sort=True):
        y = outcome.reindex(sub["patient_id"].astype(str)).dropna()
        rows.append({"method": label, "n": len(y), "events": int(y.sum())})
    return pd.DataFrame(rows)


def _too_few(n: int, events: int) -> str:
    return (
        f"not computed: {events} events in {n} patients (a risk model needs at least "
        f"{outcome_risk.MIN_EVENTS} events and {outcome_risk.MIN_EVENTS} non-events)"
    )


@register_table("decision_curve", order=71)
def decision_curve_table(ctx: ReportContext) -> Table | None:
    if outcome_series(ctx) is None:
        return None
    counts, frame = event_counts(ctx), risks(ctx)
    thresholds = np.asarray(outcome_risk.TABLE_THRESHOLDS)
    rows = []
    for c in counts.to_dict("records"):
        sub = frame[frame["label"] == c["method"]] if len(frame) else frame
        if sub.empty:
            rows.append({**c, "status": _too_few(c["n"], c["events"])})
            continue
        y = sub["y"].to_numpy()
        curve = outcome_risk.decision_curve(
            y, {"estimate": sub["risk"].to_numpy(), "ga": sub["ga_risk"].to_numpy()}, thresholds
        ).pivot(index="threshold", columns="model", values="net_benefit")
        lo, hi = outcome_risk.net_benefit_difference_ci(
            y, sub["risk"].to_numpy(), sub["ga_risk"].to_numpy(), thresholds
        )
        for k, t in enumerate(thresholds):
            nb = curve.loc[t]
            rows.append(
                {
                    **c,
                    "status": "computed",
                    "threshold": float(t),
                    "nb_estimate": nb["estimate"],
                    "nb_ga": nb["ga"],
                    "nb_all": nb["all"],
                    "nb_none": nb["none"],
                    "diff": nb["estimate"] - nb["ga"],
                    "diff_lo": lo[k],
                    "diff_hi": hi[k],
                }
            )
    data = pd.DataFrame(rows).reindex(
        columns=[
            "method",
            "n",
            "events",
            "status",
            "threshold",
            "nb_estimate",
            "nb_ga",
            "nb_all",
            "nb_none",
            "diff",
            "diff_lo",
            "diff_hi",
        ]
    )
    computed = data["status"] == "computed"
    display = pd.DataFrame(
        {
            "method": data["method"],
            "events / n": [f"{e} / {n}" for e, n in zip(data["events"], data["n"])],
            "threshold": [
                num(t, 2) if ok else s
                for t, ok, s in zip(data["threshold"], computed, data["status"])
            ],
            "NB estimate": data["nb_estimate"].map(lambda v: num(v, 3)),
            "NB GA alone": data["nb_ga"].map(lambda v: num(v, 3)),
            "NB treat all": data["nb_all"].map(lambda v: num(v, 3)),
            "NB treat none": data["nb_none"].map(lambda v: num(v, 3)),
            "ΔNB vs GA [95 % CI]": [
                f"{num(d, 3)} [{num(lo, 3)}, {num(hi, 3)}]" if ok else "—"
                for d, lo, hi, ok in zip(data["diff"], data["diff_lo"], data["diff_hi"], computed)
            ],
        }
    )
    lo_t, hi_t = outcome_risk.THRESHOLD_RANGE
    return Table(
        "decision_curve",
        "Decision curves for the outcome: net benefit",
        "Patient level, test patients with a recorded outcome; events / n on every row. "
        "Risk = out-of-fold logistic regression of the outcome on the estimate (5 "
        "stratified folds; GA alone: the same on the true GA at the scan). Net benefit "
        "(dcurves) = TP/n − FP/n × t/(1 − t) for treating every patient whose risk ≥ "
        f"threshold t; documented range {lo_t:g}–{hi_t:g} (the figure), table at selected "
        "t. Treat all / treat none are the reference strategies (none = 0). ΔNB vs GA: "
        f"percentile 95 % CI over {outcome_risk.N_BOOT} patient resamples with the risks "
        "held fixed. A method is useful at t only where its NB exceeds GA alone and treat "
        "all.",
        data,
        display,
    )


@register_table("outcome_calibration", order=72)
def outcome_calibration_table(ctx: ReportContext) -> Table | None:
    if outcome_series(ctx) is None:
        return None
    counts, frame = event_counts(ctx), risks(ctx)
    rows = []
    for c in counts.to_dict("records"):
        sub = frame[frame["label"] == c["method"]] if len(frame) else frame
        if sub.empty:
            rows.append({**c, "status": _too_few(c["n"], c["events"])})
            continue
        brier, _, _ = outcome_risk.brier_reliability(sub["y"], sub["risk"])
        ga_brier, _, _ = outcome_risk.brier_reliability(sub["y"], sub["ga_risk"])
        prevalence = sub["y"].mean()
        rows.append(
            {
                **c,
                "status": "computed",
                "brier": brier,
                "ga_brier": ga_brier,
                "null_brier": prevalence * (1 - prevalence),
            }
        )
    data = pd.DataFrame(rows).reindex(
        columns=["method", "n", "events", "status", "brier", "ga_brier", "null_brier"]
    )
    display = pd.DataFrame(
        {
            "method": data["method"],
            "events / n": [f"{e} / {n}" for e, n in zip(data["events"], data["n"])],
            "Brier (estimate)": [
                num(b, 4) if s == "computed" else s for b, s in zip(data["brier"], data["status"])
            ],
            "Brier (GA alone)": data["ga_brier"].map(lambda v: num(v, 4)),
            "Brier (prevalence only)": data["null_brier"].map(lambda v: num(v, 4)),
        }
    )
    return Table(
        "outcome_calibration",
        "Outcome risk from the estimate: Brier score",
        "Patient level, test patients with a recorded outcome; events / n on every row. "
        "Risk = out-of-fold logistic regression of the outcome on the estimate (the "
        "documented mapping of benchmark/stats/outcome_risk.py; 5 stratified folds). Brier "
        "= mean (risk − outcome)², scikit-learn; lower is better; 'prevalence only' = "
        "p(1 − p), what a constant risk scores. The reliability curves are in "
        "fig_outcome_reliability.",
        data,
        display,
    )


@register_figure("decision_curve", order=45)
def decision_curve_figure(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    frame = risks(ctx)
    if frame.empty:
        return None
    from benchmark.report.figures import _grid, _save

    lo_t, hi_t = outcome_risk.THRESHOLD_RANGE
    thresholds = np.round(np.arange(lo_t, hi_t + 1e-9, 0.01), 2)
    labels = sorted(frame["label"].unique())
    fig, axes = _grid(len(labels))
    for ax, label in zip(axes, labels):
        sub = frame[frame["label"] == label]
        curve = outcome_risk.decision_curve(
            sub["y"], {"estimate": sub["risk"], "GA alone": sub["ga_risk"]}, thresholds
        )
        for model, color, style in (
            ("estimate", "#c0392b", "-"),
            ("GA alone", "#4a7bb7", "-"),
            ("all", "0.4", "--"),
            ("none", "0.2", ":"),
        ):
            part = curve[curve["model"] == model]
            ax.plot(
                part["threshold"],
                part["net_benefit"],
                color=color,
                ls=style,
                lw=1,
                label="treat all" if model == "all" else "treat none" if model == "none" else model,
            )
        prevalence = sub["y"].mean()
        ax.set_ylim(-0.05, max(0.05, prevalence * 1.1))
        ax.set_title(f"{label}\n{int(sub['y'].sum())} events / {len(sub)}")
        ax.set_xlabel("threshold risk")
        ax.set_ylabel("net benefit")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    return (
        _save(fig, out, "fig_decision_curve"),
        "Decision curves (dcurves): net benefit of treating by the out-of-fold risk from "
        f"the estimate (red) and from GA alone (blue), treat all (dashed), treat none "
        f"(dotted), thresholds {lo_t:g}–{hi_t:g}.",
    )


@register_figure("outcome_reliability", order=46)
def reliability_figure(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    frame = risks(ctx)
    if frame.empty:
        return None
    from benchmark.report.figures import _grid, _save

    labels = sorted(frame["label"].unique())
    fig, axes = _grid(len(labels))
    for ax, label in zip(axes, labels):
        sub = frame[frame["label"] == label]
        for column, color, name in (
            ("risk", "#c0392b", "estimate"),
            ("ga_risk", "#4a7bb7", "GA alone"),
        ):
            brier, observed, predicted = outcome_risk.brier_reliability(sub["y"], sub[column])
            ax.plot(
                predicted,
                observed,
                marker="o",
                ms=3,
                color=color,
                lw=1,
                label=f"{name} (Brier {brier:.3f})",
            )
        ax.plot([0, 1], [0, 1], color="0.4", ls="--", lw=0.8)
        ax.set_title(label)
        ax.set_xlabel("predicted risk")
        ax.set_ylabel("observed share")
        ax.legend(fontsize=6)
    fig.tight_layout()
    return (
        _save(fig, out, "fig_outcome_reliability"),
        "Reliability of the out-of-fold outcome risk (5 quantile bins, scikit-learn): "
        "observed share of events against the mean predicted risk; dashed = ideal.",
    )
