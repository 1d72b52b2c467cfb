"""One self-contained HTML report: inline CSS, images as base64, no scripts, works offline."""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path

from benchmark.report.data import RunData
from benchmark.report.formatting import Table
from benchmark.report.registry import ReportContext
from benchmark.report.tables import provenance_text

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1150px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:2em}table{border-collapse:collapse;margin:1em 0;font-size:.86em}
caption{caption-side:top;text-align:left;padding:.4em 0;color:#444}
th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;white-space:nowrap}
th{background:#f3f5f7}tbody tr:nth-child(even){background:#fafbfc}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#444;font-size:.9em}.box{background:#f6f8fa;border-left:4px solid #4a7bb7;
padding:.6em 1em;margin:1em 0}.warn{border-left-color:#c77c02;background:#fff8ec}
dl{display:grid;grid-template-columns:14em 1fr;gap:.2em 1em;font-size:.86em}
dt{font-weight:600}dd{margin:0;word-break:break-all}.scroll{overflow-x:auto}
"""

GLOSSARY = [
    ("Gestational age (GA)", "weeks since the start of pregnancy, dated in the first "
     "trimester; in normal pregnancies it is the proxy for lung maturity that every method "
     "here estimates."),
    ("MAE", "mean absolute error: on average, how many weeks the estimate is off, either way."),
    ("Bias", "mean of (estimate − true): positive = the method tends to overestimate GA."),
    ("Pearson r", "how closely estimates follow true GA along a straight line (1 = perfectly); "
     "the 95 % confidence interval (CI) shows how precisely r is known from this many "
     "patients."),
    ("Bland–Altman limits", "95 % of estimates fall within bias ± these limits of the true GA."),
    ("p-value", "the chance of a difference at least this large if two methods were really "
     "equally accurate; Holm-corrected values account for the many comparisons."),
    ("DSC", "Dice similarity coefficient: overlap between the lung a method finds and the "
     "hand tracing (100 % = identical)."),
]


def _img(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def _overall_row(overall, label: str) -> dict | None:
    rows = overall[overall["method"] == label]
    return rows.iloc[0].to_dict() if len(rows) else None


def _key_findings(tables: dict[str, Table], data: RunData, reference: str | None) -> list[str]:
    """Findings read from the declared roles of the run's cells (I2), never from names."""
    metrics = tables.get("metrics_patient") or tables.get("metrics_image")
    if metrics is None:
        return []
    overall = metrics.data[metrics.data["group"] == "all"].sort_values("mae", kind="stable")
    ceilings = set(data.labels_with_role("ceiling"))
    lines = []
    real = overall[~overall["method"].isin(ceilings)]
    if len(real):
        best = real.iloc[0]
        lines.append(f"Most accurate method overall: <b>{escape(best['method'])}</b>, off by "
                     f"{best['mae']:.2f} weeks on average (n = {int(best['n_rows'])}, "
                     f"r = {best['r']:.2f}).")
    ref = _overall_row(overall, reference) if reference else None
    if ref is not None:
        lines.append(f"The reference, <b>{escape(str(reference))}</b>, is off by "
                     f"{ref['mae']:.2f} weeks on average.")
    for label in data.labels_with_role("floor"):
        row = _overall_row(overall, label)
        if row is not None:
            lines.append(f"The floor control <b>{escape(label)}</b> (no information about the "
                         f"patient) is off by {row['mae']:.2f} weeks: a method must beat this "
                         "to carry any information.")
    for label in sorted(ceilings):
        row = _overall_row(overall, label)
        if row is not None:
            lines.append(f"The ceiling control <b>{escape(label)}</b> reads the simulated lung "
                         f"maturity (synthetic data only): {row['mae']:.2f} weeks is about the "
                         "best a lung-texture method could do here.")
    transfer = tables.get("transfer_patient") or tables.get("transfer_image")
    if transfer is not None:
        for row in transfer.data[transfer.data["group"] == "all"].to_dict("records"):
            lines.append(
                f"<b>{escape(row['method_a'])}</b> r = {row['r_a']:.2f} vs its control "
                f"<b>{escape(row['method_b'])}</b> r = {row['r_b']:.2f}; "
                f"difference 95 % CI {row['diff_lo']:.2f} to {row['diff_hi']:.2f}.")
    return lines


def render_html(ctx: ReportContext, tables: list[Table], figures: list[tuple[str, str]],
                fig_dir: Path) -> str:
    data, level = ctx.data, ctx.level
    by_name = {t.name: t for t in tables}
    meta = data.run.get("dataset_meta", {})
    preds = data.predictions
    n_pat = preds[preds["level"] == "patient"]["patient_id"].nunique() if len(preds) else 0
    n_img = preds[preds["level"] == "image"]["image_id"].nunique() if len(preds) else 0
    description = meta.get("description") or "A cohort folder in the documented format."
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>fetal-lung-bench report — {escape(str(meta.get('name', 'run')))}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Fetal lung maturity: gestational-age estimation benchmark</h1>",
        "<p>Each method estimates the gestational age (GA) of a fetus from ultrasound of the "
        "fetal lung (four-chamber heart view) or from routine biometry; the estimate is the "
        "lung-maturity score. All methods were tested on the same patients, who were never "
        "used for training.</p>",
        "<h2>The cohort</h2>",
        f"<p>{escape(description)}</p>",
        f"<p>Dataset <b>{escape(str(meta.get('name', '?')))}</b>; {n_pat} test patients and "
        f"{n_img} test images across all splits. Split: "
        f"{escape(str(data.run.get('config', {}).get('split', '?')))}.</p>",
    ]
    if meta.get("null_guarantee"):
        parts.append(f"<div class='box warn'>{escape(str(meta['null_guarantee']))}</div>")
    findings = _key_findings(by_name, data, ctx.reference)
    if findings:
        parts.append("<h2>Key findings</h2><div class='box'><ul>"
                     + "".join(f"<li>{f}</li>" for f in findings) + "</ul></div>")
    parts.append("<h2>How to read this report</h2><dl>" + "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in GLOSSARY) + "</dl>")
    parts.append(f"<p>All tables are at <b>{escape(level)} level</b> unless the caption "
                 "says otherwise.</p>")
    parts.append("<h2>Tables</h2>")
    for table in (t for t in tables if not t.csv_only):
        parts.append(f"<div class='scroll'>{table.to_html()}</div>")
    parts.append("<h2>Figures</h2>")
    for name, caption in figures:
        png = fig_dir / f"{name}.png"
        if png.is_file():
            parts.append(f"<figure><img alt='{escape(name)}' "
                         f"src='data:image/png;base64,{_img(png)}'>"
                         f"<figcaption>{escape(caption)}</figcaption></figure>")
    if data.skips:
        parts.append("<h2>Not shown</h2><div class='box warn'><ul>"
                     + "".join(f"<li>{escape(s)}</li>" for s in data.skips) + "</ul></div>")
    prov = provenance_text(data)
    parts.append("<h2>Provenance</h2><dl>" + "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in prov.items()) + "</dl>")
    parts.append("<p>Dataset metadata:</p><pre>"
                 + escape(json.dumps(meta, indent=2, sort_keys=True)) + "</pre>")
    parts.append("<p>Rebuild with <code>python -m benchmark report RUN_FOLDER</code>; "
                 "computed from the stored predictions only.</p></body></html>")
    return "\n".join(parts) + "\n"
