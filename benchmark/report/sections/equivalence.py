"""Equivalence to the reference (TOST), % within the ACOG redating tolerance, and the
error-versus-rejection curve of the conformal intervals (benchmark.stats.equivalence)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.report.formatting import Table, num, pval
from benchmark.report.registry import ReportContext, register_figure, register_table
from benchmark.report.sections.intervals import patient_intervals
from benchmark.report.sections.maturity import _pooled
from benchmark.stats import equivalence


def _verdict(p: float, lo: float, hi: float, margin: float) -> str:
    if not np.isfinite(p):
        return "—"
    if p < 0.05:
        return "equivalent"
    if hi < -margin:
        return "better, beyond the margin"
    if lo > margin:
        return "worse, beyond the margin"
    return "not shown equivalent"


@register_table("equivalence", order=44)
def equivalence_table(ctx: ReportContext) -> Table | None:
    reference = ctx.reference
    if reference is None:
        return None
    margin = ctx.options.equivalence_days
    frame = equivalence.equivalence(_pooled(ctx), reference, margin)
    if frame.empty:
        return None
    display = pd.DataFrame(
        {
            "method": frame["method"],
            "n pairs": frame["n_pairs"],
            "MAE (d)": frame["mae_days"].map(lambda v: num(v, 1)),
            f"MAE {reference} (d)": frame["ref_mae_days"].map(lambda v: num(v, 1)),
            "difference (d) [90 % CI]": [
                f"{num(d, 1)} [{num(lo, 1)}, {num(hi, 1)}]"
                for d, lo, hi in zip(frame["diff"], frame["diff_lo"], frame["diff_hi"])
            ],
            "p (TOST)": frame["p_tost"].map(pval),
            f"within ±{margin:g} d": [
                _verdict(p, lo, hi, margin)
                for p, lo, hi in zip(frame["p_tost"], frame["diff_lo"], frame["diff_hi"])
            ],
        }
    )
    return Table(
        "equivalence_patient",
        f"Equivalence to {reference} (two one-sided tests)",
        f"Patient level. Paired TOST (statsmodels ttost_paired) of each patient's absolute "
        f"error in days, method minus {reference}, on the patients both predicted; margin "
        f"±{margin:g} days (report --equivalence-days; a stated choice, not a clinical "
        "standard). Equivalent = both one-sided p < 0.05, i.e. the 90 % CI of the MAE "
        "difference lies inside the margin; 'not shown equivalent' is not 'different'; "
        "'better' / 'worse, beyond the margin' = the whole 90 % CI lies below / above it. "
        "Stringer et al. (JAMA 2024) judged AI dating equivalent to sonographer biometry "
        "this way (MAE 3.2 vs 3.0 days).",
        frame,
        display,
    )


@register_table("acog_tolerance", order=45)
def acog_table(ctx: ReportContext) -> Table | None:
    pooled = _pooled(ctx)
    if pooled.empty:
        return None
    frame = equivalence.acog_tolerance(pooled)
    display = pd.DataFrame(
        {
            "method": frame["method"],
            "GA window (true GA at scan)": frame["window"],
            "redating threshold": [
                "by window" if w == "all" else f"> {t:g} d"
                for w, t in zip(frame["window"], frame["tolerance_days"])
            ],
            "n": frame["n"],
            "within tolerance %": frame["within"].map(lambda v: num(100 * v, 1)),
        }
    )
    return Table(
        "acog_tolerance_patient",
        "Within the ACOG redating tolerance",
        "Patient level. Share of patients whose estimate differs from the true GA by no more "
        "than the redating tolerance of their GA window (ACOG Committee Opinion 700, 2017): "
        "a discrepancy above 14 d at 22+0–27+6 weeks or above 21 d from 28+0 weeks would "
        "change the dating; each row names the threshold its window uses, 'all' applies "
        "each patient's own.",
        frame,
        display,
    )


@register_figure("rejection_curve", order=42)
def rejection_figure(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    frame = equivalence.rejection_curve(patient_intervals(ctx))
    if frame.empty:
        return None
    from benchmark.report.figures import _plt, _save

    plt = _plt()
    fig, ax = plt.subplots(figsize=(8.0, 4.2))
    cmap = plt.get_cmap("tab20")
    for k, (label, sub) in enumerate(frame.groupby("method", sort=True)):
        ax.plot(
            100 * sub["referred"],
            sub["mae_kept"] * 7,
            marker="o",
            ms=2,
            lw=1,
            color=cmap(k % 20),
            label=label,
        )
    ax.set_xlabel("patients referred (widest intervals first), %")
    ax.set_ylabel("MAE of the patients kept (days)")
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    return (
        _save(fig, out, "fig_rejection_curve_patient"),
        f"Error versus rejection: MAE (days) of the test patients kept when the given "
        f"share with the widest {100 * ctx.options.interval_level:g} % conformal "
        "intervals is referred (as GAUGE, Mishra 2024, refers shifted images). A curve "
        "that falls = the interval width flags the patients the method gets wrong; a "
        "flat one = it does not.",
    )
