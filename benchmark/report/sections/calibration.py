"""Calibration of the GA estimates: table (intercept, slope, calibration-in-the-large per
method × GA group) and the calibration plot (lowess smoother and the ideal line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.report.formatting import Table, interval, num
from benchmark.report.registry import ReportContext, register_figure, register_table
from benchmark.report.sections.maturity import _pooled
from benchmark.stats import calibration


def calibration_frame(ctx: ReportContext) -> pd.DataFrame:
    if "calibration" not in ctx.data.cache:
        ctx.data.cache["calibration"] = calibration.calibration_table(
            _pooled(ctx), ctx.data.group_edges
        )
    return ctx.data.cache["calibration"]


def _reading(lo: float, hi: float) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "—"
    if lo > 1:
        return "shrunk toward the mean"
    if hi < 1:
        return "too spread"
    return "slope 1 inside CI"


@register_table("calibration_patient", order=47)
def calibration_table(ctx: ReportContext) -> Table | None:
    frame = calibration_frame(ctx)
    if frame.empty:
        return None
    display = pd.DataFrame(
        {
            "method": frame["method"],
            "estimated GA group": frame["group"],
            "n": frame["n"],
            "slope [95 % CI]": [
                interval(s, lo, hi)
                for s, lo, hi in zip(frame["slope"], frame["slope_lo"], frame["slope_hi"])
            ],
            "intercept (wk) [95 % CI]": [
                interval(a, lo, hi, 2)
                for a, lo, hi in zip(
                    frame["intercept"], frame["intercept_lo"], frame["intercept_hi"]
                )
            ],
            "calibration-in-the-large (wk)": frame["citl"].map(num),
            "reading": [_reading(lo, hi) for lo, hi in zip(frame["slope_lo"], frame["slope_hi"])],
        }
    )
    return Table(
        "calibration_patient",
        "Calibration of the GA estimates",
        "Patient level, test patients, seed-pooled estimates. Calibration line: OLS of true "
        "GA on the estimate (statsmodels, t-based 95 % CIs), per method overall and per "
        "GA group of the estimate (grouping on the truth would flatten every slope by "
        "truncation). Slope 1 and intercept 0 = perfectly calibrated; slope < 1 = estimates too "
        "spread (the extremes overstated); slope > 1 = estimates shrunk toward the cohort "
        "mean (a method that hedges toward the training mean); a constant estimate has no "
        "slope (—). Within one estimated group the CI is wide: read it beside the 'all' "
        "row. Calibration-in-the-large = mean (true − estimate). "
        f"Groups with fewer than {calibration.MIN_PATIENTS} patients get no line.",
        frame,
        display,
    )


@register_figure("calibration", order=41)
def calibration_figure(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    pooled = _pooled(ctx)
    if pooled.empty:
        return None
    from benchmark.report.figures import _grid, _save

    labels = sorted(pooled["label"].unique())
    fig, axes = _grid(len(labels))
    lo = np.floor(min(pooled["ga_true"].min(), pooled["ga_pred"].min()) - 1)
    hi = np.ceil(max(pooled["ga_true"].max(), pooled["ga_pred"].max()) + 1)
    frame = calibration_frame(ctx).set_index(["method", "group"])
    for ax, label in zip(axes, labels):
        sub = pooled[pooled["label"] == label]
        ax.scatter(sub["ga_pred"], sub["ga_true"], s=4, color="0.6", lw=0)
        curve = calibration.lowess_curve(sub["ga_true"], sub["ga_pred"])
        if len(curve):
            ax.plot(curve[:, 0], curve[:, 1], color="#c0392b", lw=1.2, label="lowess")
        ax.plot([lo, hi], [lo, hi], color="0.3", lw=0.8, ls="--", label="ideal")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        slope = frame.loc[(label, "all"), "slope"] if (label, "all") in frame.index else np.nan
        ax.set_title(f"{label}\nslope {num(slope)}")
        ax.set_xlabel("estimated GA (wk)")
        ax.set_ylabel("true GA (wk)")
    fig.tight_layout()
    return (
        _save(fig, out, "fig_calibration_patient"),
        "Calibration plot (patient level): true GA against the estimate, one dot per test "
        "patient; red = lowess smoother (statsmodels, span 2/3); dashed = ideal "
        "calibration. A smoother flatter than the dashed line = estimates too spread; "
        "steeper = shrunk toward the mean.",
    )
