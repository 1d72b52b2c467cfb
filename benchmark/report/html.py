"""One self-contained HTML report: inline CSS, images as base64, no scripts, works offline."""

from __future__ import annotations

from html import escape
from pathlib import Path

from benchmark.report.data import RunData
from benchmark.report.formatting import Table
from benchmark.report.registry import ReportContext
from benchmark.report.tables import provenance_text

GLOSSARY = [
    (
        "Gestational age (GA)",
        "weeks since the start of pregnancy, dated in the first "
        "trimester; in normal pregnancies it is the proxy for lung maturity that every method "
        "here estimates.",
    ),
    ("MAE", "mean absolute error: on average, how many weeks the estimate is off, either way."),
    ("Bias", "mean of (estimate − true): positive = the method tends to overestimate GA."),
    (
        "Pearson r",
        "how closely estimates follow true GA along a straight line (1 = perfectly); "
        "the 95 % confidence interval (CI) shows how precisely r is known from this many "
        "patients.",
    ),
    ("Bland–Altman limits", "95 % of estimates fall within bias ± these limits of the true GA."),
    (
        "p-value",
        "the chance of a difference at least this large if two methods were really "
        "equally accurate; Holm-corrected values account for the many comparisons.",
    ),
    (
        "DSC",
        "Dice similarity coefficient: overlap between the lung a method finds and the "
        "hand tracing (100 % = identical).",
    ),
]


def _overall_row(overall, label: str) -> dict | None:
    rows = overall[overall["method"] == label]
    return rows.iloc[0].to_dict() if len(rows) else None


def _floor_by_r(tables: dict[str, Table], floor: str) -> str:
    """' By r (paired bootstrap CI of Δr), below it: …; not distinguishable: …' — the
    methods that are *not* above the floor (the floors table lists every verdict)."""
    table = tables.get("floors_patient") or tables.get("floors_image")
    if table is None:
        return ""
    rows = table.data[table.data["method_b"] == floor]
    if not len(rows):
        return ""
    parts = []
    for verdict in ("below", "not distinguishable"):
        names = rows.loc[rows["verdict"] == verdict, "method_a"].tolist()
        if names:
            parts.append(f"{verdict}: " + ", ".join(f"<b>{escape(m)}</b>" for m in names))
    return (
        " By r (paired bootstrap 95 % CI of the difference), "
        + ("; ".join(parts) if parts else "every image method is above it")
        + "."
    )


def _key_findings(tables: dict[str, Table], data: RunData, reference: str | None) -> list[str]:
    """Findings read from the declared roles of the run's cells (docs/methods.md), never from
    names."""
    metrics = tables.get("metrics_patient") or tables.get("metrics_image")
    if metrics is None:
        return []
    overall = metrics.data[metrics.data["group"] == "all"].sort_values("mae", kind="stable")
    ceilings = set(data.labels_with_role("ceiling"))
    lines = []
    from benchmark.report.findings import best_method_finding

    # a best method only where the paired CIs show one (benchmark/report/findings.py)
    first = best_method_finding(
        data,
        "image" if "metrics_image" in tables and "metrics_patient" not in tables else "patient",
    )
    if first:
        lines.append(first)
    ref = _overall_row(overall, reference) if reference else None
    if ref is not None:
        lines.append(
            f"The reference, <b>{escape(str(reference))}</b>, is off by "
            f"{ref['mae']:.2f} weeks on average."
        )
    for label in data.labels_with_role("floor"):
        row = _overall_row(overall, label)
        if row is not None:
            # a floor is a control that sees too little to be the answer (the training
            # mean, first-order patch statistics); name who fails to beat it
            floors = set(data.labels_with_role("floor"))
            behind = [
                m
                for m, mae in zip(overall["method"], overall["mae"])
                if m not in floors | ceilings and mae >= row["mae"]
            ]
            # a patch floor is read by r with a CI (floors table); others by MAE
            verdicts = _floor_by_r(tables, label)
            lines.append(
                f"The floor control <b>{escape(label)}</b> is off by "
                f"{row['mae']:.2f} weeks: a method that does not beat it has learned "
                "no more than this control sees."
                + (
                    verdicts
                    or (
                        " Not better than it here: "
                        + ", ".join(f"<b>{escape(m)}</b>" for m in behind)
                        + "."
                        if behind
                        else ""
                    )
                )
            )
    for label in sorted(ceilings):
        row = _overall_row(overall, label)
        if row is not None:
            lines.append(
                f"The ceiling control <b>{escape(label)}</b> reads the simulated lung "
                f"maturity (synthetic data only): {row['mae']:.2f} weeks is about the "
                "best a lung-texture method could do here."
            )
    transfer = tables.get("transfer_patient") or tables.get("transfer_image")
    if transfer is not None:  # one line for every method vs its declared control
        pairs = [
            f"<b>{escape(row['method_a'])}</b> r = {row['r_a']:.2f} vs "
            f"<b>{escape(row['method_b'])}</b> {row['r_b']:.2f} (Δr 95 % CI "
            f"{row['diff_lo']:.2f} to {row['diff_hi']:.2f})"
            for row in transfer.data[transfer.data["group"] == "all"].to_dict("records")
        ]
        if pairs:
            lines.append("Each method vs its declared control: " + "; ".join(pairs) + ".")
    from benchmark.report.sections.training import not_converged_finding

    capped = not_converged_finding(data)  # a stage that ended at its cap, in any run
    if capped:
        lines.append(capped)
    return lines


def render_html(
    ctx: ReportContext, tables: list[Table], figures: list[tuple[str, str]], fig_dir: Path
) -> str:
    from benchmark.report.layout import render_page

    data, level = ctx.data, ctx.level
    by_name = {t.name: t for t in tables}
    findings = _key_findings(by_name, data, ctx.reference)
    return render_page(
        data, tables, figures, fig_dir, findings, level, provenance_text(data), GLOSSARY
    )
