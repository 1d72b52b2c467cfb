"""Table 2's companion in the units clinicians use: days and ±7 / ±14-day thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.report.formatting import Table, mean_sd
from benchmark.report.registry import ReportContext, register_table
from benchmark.report.sections.intervals import coverage
from benchmark.report.tables import LEVEL_TEXT, _group_key


def _pct(x: float) -> str:
    return "—" if x is None or np.isnan(x) else f"{100 * x:.0f}"


@register_table("clinical_days", order=33)
def clinical_days(ctx: ReportContext) -> Table | None:
    pooled = ctx.data.pooled_metrics(ctx.level)
    if pooled.empty:
        return None
    frame = pooled[
        [
            "method",
            "group",
            "n_rows",
            "n_measured",
            "mae_days",
            "mae_days_sd",
            "within_7d",
            "within_14d",
            "mae",
        ]
    ].copy()
    level_pct = f"{100 * ctx.options.interval_level:g} %"
    if ctx.level == "patient":  # intervals are issued per patient
        cov = coverage(ctx)
        cov = cov[cov["grouping"].isin(["all", "true GA group"])].set_index(["method", "group"])
        index = pd.MultiIndex.from_frame(frame[["method", "group"]])
        frame["interval_width_days"] = cov["mean_width_days"].reindex(index).to_numpy()
        frame["interval_coverage"] = cov["coverage"].reindex(index).to_numpy()
    frame = frame.sort_values(["method", "group"], key=_group_key, kind="stable")
    display = pd.DataFrame(
        {
            "method": frame["method"],
            "group": frame["group"],
            "n measured / n": [f"{m} / {n}" for m, n in zip(frame["n_measured"], frame["n_rows"])],
            "MAE ± SD (d)": [
                mean_sd(m, s, 1) for m, s in zip(frame["mae_days"], frame["mae_days_sd"])
            ],
            "within ±7 d (%)": frame["within_7d"].map(_pct),
            "within ±14 d (%)": frame["within_14d"].map(_pct),
        }
    )
    if "interval_width_days" in frame:
        display[f"{level_pct} interval width (d)"] = frame["interval_width_days"].map(
            lambda v: "—" if np.isnan(v) else f"{v:.1f}"
        )
        display["coverage (%)"] = frame["interval_coverage"].map(_pct)
    return Table(
        f"clinical_days_{ctx.level}",
        "Table 2 companion — error in days and clinical thresholds",
        f"{LEVEL_TEXT[ctx.level]} Absolute error in days (weeks × 7), mean ± SD; share of "
        "estimates within ±7 and ±14 days of the true GA (GA-dating papers report these; "
        "beyond 32 weeks biometric dating is good to about ±2 weeks); n measured = "
        "estimates that were measured, not a fallback. Interval width and coverage from "
        f"the {level_pct} conformal intervals (intervals_patient), per true GA group.",
        frame.reset_index(drop=True),
        display.reset_index(drop=True),
    )
