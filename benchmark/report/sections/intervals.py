"""Conformal prediction intervals: coverage table, per-patient bounds, intervals figure.

Computed from the stored patient-level predictions by :mod:`benchmark.stats.intervals`
(cross-conformal over the test patients, Mondrian by estimated-GA group); the level is
``report --interval-level`` (default 0.9).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.report.formatting import Table, num
from benchmark.report.registry import ReportContext, register_figure, register_table
from benchmark.stats import intervals as conformal
from benchmark.stats.metrics import pooled_patient_predictions


def patient_intervals(ctx: ReportContext) -> pd.DataFrame:
    """Per method × test patient bounds, computed once per report."""
    key = ("intervals", ctx.options.interval_level)
    if key not in ctx.data.cache:
        pooled = pooled_patient_predictions(ctx.data.predictions, "patient")
        ctx.data.cache[key] = conformal.conformal_intervals(
            pooled, ctx.data.group_edges, ctx.options.interval_level
        )
    return ctx.data.cache[key]


def coverage(ctx: ReportContext) -> pd.DataFrame:
    key = ("coverage", ctx.options.interval_level)
    if key not in ctx.data.cache:
        ctx.data.cache[key] = conformal.coverage_table(
            patient_intervals(ctx), ctx.options.interval_level
        )
    return ctx.data.cache[key]


def _pct(x: float) -> str:
    return "—" if np.isnan(x) else f"{100 * x:.1f}"


@register_table("intervals", order=50)
def intervals_table(ctx: ReportContext) -> Table | None:
    cov = coverage(ctx)
    if cov.empty:
        return None
    level = ctx.options.interval_level
    misses = cov[(cov["grouping"] != "true GA group") & ~cov["inside_band"]]
    display = pd.DataFrame(
        {
            "method": cov["method"],
            "grouping": cov["grouping"],
            "group": cov["group"],
            "n": cov["n"],
            "coverage %": cov["coverage"].map(_pct),
            "binomial 95 % band %": [
                f"{_pct(lo)}–{_pct(hi)}" for lo, hi in zip(cov["band_lo"], cov["band_hi"])
            ],
            "inside": np.where(cov["inside_band"], "yes", "NO"),
            "mean width (wk)": cov["mean_width"].map(num),
            "mean width (d)": cov["mean_width_days"].map(lambda v: num(v, 1)),
            "MAE (wk)": cov["mae"].map(num),
            "pooled category": cov["n_pooled_category"],
        }
    )
    caption = (
        f"Patient level, {100 * level:g} % conformal prediction intervals (crepes), "
        "cross-conformal over the test patients: each patient's interval is calibrated on "
        f"the absolute residuals of the other {conformal.FOLDS - 1} of {conformal.FOLDS} "
        "random folds of test patients of the same method, never on its own; Mondrian by "
        "the GA group of the estimate. Coverage = share of patients whose true GA lies in "
        "the interval; band = where the coverage of n patients falls 95 % of the time if "
        f"the true coverage is exactly {100 * level:g} %. Guaranteed: 'all' and 'estimated "
        "GA group' rows; 'true GA group' rows are shown for reading, not guaranteed (a "
        "method that shrinks toward the mean under-covers the extreme groups). Pooled "
        "category = patients whose estimated-GA group had too few calibration residuals "
        f"and used the whole fold's. Guaranteed rows outside their band: {len(misses)} of "
        f"{int((cov['grouping'] != 'true GA group').sum())} (about 1 in 20 expected by "
        "chance)."
    )
    return Table(
        "intervals_patient",
        "Prediction intervals: coverage and width",
        caption,
        cov.reset_index(drop=True),
        display.reset_index(drop=True),
    )


@register_table("intervals_per_patient", order=51)
def intervals_per_patient(ctx: ReportContext) -> Table | None:
    frame = patient_intervals(ctx)
    if frame.empty:
        return None
    frame = frame.rename(columns={"label": "method"})
    return Table(
        "prediction_intervals_patient",
        "Prediction interval of every test patient",
        "Lower and upper bound (weeks) per method × test patient.",
        frame.reset_index(drop=True),
        frame.reset_index(drop=True),
        csv_only=True,
    )


@register_figure("intervals", order=40)
def intervals_figure(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    frame = patient_intervals(ctx).dropna(subset=["lower", "upper"])
    if frame.empty:
        return None
    from benchmark.report.figures import _grid, _save

    labels = sorted(frame["label"].unique())
    fig, axes = _grid(len(labels))
    lo = np.floor(frame["ga_true"].min() - 3)
    hi = np.ceil(frame["ga_true"].max() + 3)
    for ax, label in zip(axes, labels):
        sub = frame[frame["label"] == label].sort_values("ga_true", kind="stable")
        miss = (sub["ga_true"] < sub["lower"]) | (sub["ga_true"] > sub["upper"])
        for mask, color in ((~miss, "#4a7bb7"), (miss, "#c0392b")):
            part = sub[mask]
            ax.vlines(
                part["ga_true"],
                part["lower"].clip(lo, hi),
                part["upper"].clip(lo, hi),
                color=color,
                lw=0.6,
                alpha=0.6,
            )
            ax.scatter(part["ga_true"], part["ga_pred"], s=5, color=color, lw=0)
        ax.plot([lo, hi], [lo, hi], color="0.4", lw=0.8, ls="--")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_title(
            f"{label}\ncovered {100 * (1 - miss.mean()):.0f} %, "
            f"width {(sub['upper'] - sub['lower']).mean():.1f} wk"
        )
        ax.set_xlabel("true GA (wk)")
        ax.set_ylabel("estimate and interval (wk)")
    fig.tight_layout()
    level = ctx.options.interval_level
    return (
        _save(fig, out, "fig_intervals_patient"),
        f"{100 * level:g} % conformal prediction interval of every test patient against "
        "the true GA (patient level); red = the true GA lies outside the interval; "
        "dashed = identity.",
    )
