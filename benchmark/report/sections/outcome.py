"""Outcome AUC of each method's estimate vs GA alone (when the cohort has ``outcome``)."""

from __future__ import annotations

import pandas as pd

from benchmark.report.formatting import Table, interval, num, pval
from benchmark.report.registry import ReportContext, register_table
from benchmark.report.sections.maturity import _pooled
from benchmark.stats.outcome import MIN_EVENTS_FOR_CI, outcome_auc


def _auc_text(value: float, lo: float, hi: float) -> str:
    """'0.60 [0.37, 0.83]', or '0.600 (no CI: too few events)' when DeLong is not given."""
    if pd.isna(value):
        return "—"
    return interval(value, lo, hi) if pd.notna(lo) else f"{value:.3f} (no CI: too few events)"


@register_table("outcome_auc", order=70)
def outcome_table(ctx: ReportContext) -> Table | None:
    patients = ctx.data.table1_patients
    if patients is None or "outcome" not in patients or patients["outcome"].isna().all():
        return None  # the column is optional: no outcome, no table (nothing to report)
    outcome = pd.to_numeric(patients["outcome"], errors="coerce")
    outcome.index = patients["patient_id"].astype(str)
    frame = outcome_auc(_pooled(ctx), outcome)
    display = pd.DataFrame(
        {
            "method": frame["method"],
            "n": frame["n"],
            "events": frame["events"],
            "AUC [DeLong 95 % CI]": [
                _auc_text(a, lo, hi)
                for a, lo, hi in zip(frame["auc"], frame["auc_lo"], frame["auc_hi"])
            ],
            "GA alone": [
                _auc_text(a, lo, hi)
                for a, lo, hi in zip(frame["ga_auc"], frame["ga_auc_lo"], frame["ga_auc_hi"])
            ],
            "ΔAUC [95 % CI]": [
                _auc_text(a, lo, hi)
                for a, lo, hi in zip(frame["diff"], frame["diff_lo"], frame["diff_hi"])
            ],
            "p": frame["p"].map(pval),
            "events / n": [
                f"{num(100 * e / n, 1)} %" if n else "—"
                for e, n in zip(frame["events"], frame["n"])
            ],
        }
    )
    return Table(
        "outcome_auc",
        "Outcome prediction: AUC of the estimate vs GA alone",
        "Patient level, test patients with a recorded outcome (patients column 'outcome', "
        "1 = event; in synthetic cohorts neonatal respiratory morbidity drawn from the lung's "
        "maturity at delivery, datasets/_synth_outcome.py). Score = −estimate (less mature "
        "= higher risk); GA alone = −(true GA at the scan) on the same patients; DeLong "
        "(1988) CIs and paired test of the difference, given only with at least "
        f"{MIN_EVENTS_FOR_CI} events and {MIN_EVENTS_FOR_CI} non-events (fewer: the normal "
        "approximation understates the uncertainty, so the AUCs are shown without CI or "
        "p). — = fewer than two events or non-events.",
        frame,
        display,
    )
