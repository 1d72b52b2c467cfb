"""The report page: the answer first, then everything else in one fixed order.

The order (``SECTIONS``) is a contract tested by ``tests/test_report_layout.py`` and
documented in ``docs/report.md``: a reader learns it once.  The page stays one
self-contained file: inline CSS, figures as base64 PNG, no script, no external URL.
Every table shown is rendered from the same :class:`Table` object its Markdown/CSV file is
written from; long tables are collapsed in ``<details>`` with their caption and a one-line
reading left visible.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from html import escape
from pathlib import Path

from benchmark.report.data import RunData
from benchmark.report.formatting import Table
from benchmark.report.glance import results_table, scenario_matrix
from benchmark.report.readings import figure_reading, table_reading

#: (anchor id, heading) in page order; "optional" sections appear only when they have content.
SECTIONS: tuple[tuple[str, str, bool], ...] = (
    ("findings", "Key findings", False),
    ("results", "Results at a glance", False),
    ("agreement", "Estimated vs true GA", True),
    ("scenarios", "Scenarios × methods", True),
    ("cohort", "The cohort", False),
    ("how-to-read", "How to read this report", False),
    ("tables", "All tables", False),
    ("figures", "More figures", True),
    ("not-shown", "Not shown", True),
    ("provenance", "Provenance", False),
)
#: Figures on the first screen (by file-stem prefix), in this order.
FIRST_SCREEN_FIGURES = ("fig_pred_vs_true", "fig_bland_altman")
#: Registered figures that belong beside the scenario matrix (by file-stem prefix).
SCENARIO_FIGURES = ("fig_scenario",)
#: Tables shown in their own section, not again under "All tables".
SECTION_TABLES = {"table1": "cohort"}
#: Sections that open with a list of links to their tables or figures.
INDEXED_SECTIONS = ("tables", "figures")
#: A table with more rows than this starts collapsed.
OPEN_ROWS = 10
#: Figures are saved at 200 dpi; shown at this many CSS px per inch (a 9 pt label ≈ 14 px).
CSS_PX_PER_INCH = 120
FIGURE_DPI = 200

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1180px;
margin:1.2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.6em}h3{font-size:1.02em;margin:1.4em 0 .2em}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.84em}
th,td{border-bottom:1px solid #ddd;padding:.14em .55em;text-align:left;white-space:nowrap}
th{background:#f3f5f7}tbody tr:nth-child(even){background:#fafbfc}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#444;font-size:.9em}.box{background:#f6f8fa;border-left:4px solid #4a7bb7;
padding:.5em 1em;margin:.8em 0}.warn{border-left-color:#c77c02;background:#fff8ec}
.box ul{margin:.2em 0;padding-left:1.2em}.lead{color:#444;margin:.2em 0}
.caption{color:#444;font-size:.88em;margin:.2em 0}.reading{font-size:.9em;margin:.2em 0}
.reading::before{content:"How to read it: ";font-weight:600}
details{margin:.3em 0 1em}summary{cursor:pointer;color:#2a5d9f;font-size:.9em}
nav.toc{font-size:.86em;background:#f6f8fa;padding:.3em 1em;margin:.6em 0}
nav.toc ol{margin:.2em 0;padding:0;list-style:none}nav.toc li{display:inline}
nav.toc li+li::before{content:" · "}.index{font-size:.86em;background:#f6f8fa;
padding:.3em 1em}
dl{display:grid;grid-template-columns:14em 1fr;gap:.2em 1em;
font-size:.86em}dt{font-weight:600}dd{margin:0;word-break:break-all}.scroll{overflow-x:auto}
"""


@dataclass
class Section:
    anchor: str
    heading: str
    body: list[str]
    entries: list[tuple[str, str]]  # (anchor, title) of its tables/figures, for the TOC


def _png_width(png: bytes) -> int:
    return struct.unpack(">I", png[16:20])[0]  # IHDR width


def figure_html(png_path: Path, stem: str, caption: str) -> str:
    """A figure at a legible size: 200-dpi pixels shown at ``CSS_PX_PER_INCH``."""
    png = png_path.read_bytes()
    width = round(_png_width(png) * CSS_PX_PER_INCH / FIGURE_DPI)
    data = base64.b64encode(png).decode("ascii")
    return (
        f"<figure id='fig-{escape(stem)}'>"
        f"<p class='reading'>{escape(figure_reading(stem, caption))}</p>"
        f"<img alt='{escape(stem)}' width='{width}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def table_body_html(table: Table) -> str:
    """``table.display`` as HTML rows (the caption is shown outside, so it stays visible
    when the table is collapsed)."""
    head = "".join(f"<th>{escape(str(c))}</th>" for c in table.display.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.display.itertuples(index=False)
    )
    return (
        f"<div class='scroll'><table data-table='{escape(table.name)}'><thead><tr>{head}"
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def table_html(table: Table, collapse: bool | None = None, heading: bool = True) -> str:
    """Title, caption and reading always visible; the rows in ``<details>`` when long."""
    rows = len(table.display)
    collapse = rows > OPEN_ROWS if collapse is None else collapse
    title = escape(table.title)
    parts = [
        f"<h3 id='tab-{escape(table.name)}'>{title}</h3>"
        if heading
        else f"<span id='tab-{escape(table.name)}'></span>",
        f"<p class='reading'>{escape(table_reading(table.name, table.caption))}</p>",
        f"<p class='caption'>{escape(table.caption)} "
        f"<code>tables/{escape(table.name)}.csv</code></p>",
    ]
    body = table_body_html(table)
    if collapse:
        parts.append(f"<details><summary>Show the table ({rows} rows)</summary>{body}</details>")
    else:
        parts.append(body)
    return "".join(parts)


def _figure_section(figures: list[tuple[str, str]], fig_dir: Path) -> tuple[list[str], list]:
    body, entries = [], []
    for stem, caption in figures:
        png = fig_dir / f"{stem}.png"
        if png.is_file():
            body.append(figure_html(png, stem, caption))
            entries.append((f"fig-{stem}", caption.split(";")[0].split(":")[0]))
    return body, entries


def _split_figures(figures: list[tuple[str, str]]):
    """(first-screen figures in ``FIRST_SCREEN_FIGURES`` order, scenario figures, the rest)."""
    first = [f for prefix in FIRST_SCREEN_FIGURES for f in figures if f[0].startswith(prefix)]
    scenario = [f for f in figures if f[0].startswith(SCENARIO_FIGURES) and f not in first]
    rest = [f for f in figures if f not in first and f not in scenario]
    return first, scenario, rest


def build_sections(
    data: RunData,
    tables: list[Table],
    figures: list[tuple[str, str]],
    fig_dir: Path,
    findings: list[str],
    level: str,
    provenance: dict[str, str],
    glossary: list[tuple[str, str]],
) -> list[Section]:
    """Every section with content, in ``SECTIONS`` order."""
    run_folder = fig_dir.parent
    meta = data.run.get("dataset_meta", {})
    by_anchor: dict[str, Section] = {}

    def add(anchor: str, body: list[str], entries: list | None = None) -> None:
        heading = next(h for a, h, _ in SECTIONS if a == anchor)
        by_anchor[anchor] = Section(anchor, heading, body, entries or [])

    warn = (
        [f"<div class='box warn'>{escape(str(meta['null_guarantee']))}</div>"]
        if meta.get("null_guarantee")
        else []
    )
    add(
        "findings",
        warn
        + (
            ["<div class='box'><ul>" + "".join(f"<li>{f}</li>" for f in findings) + "</ul></div>"]
            if findings
            else ["<p>Nothing to summarise: this run has no agreement table.</p>"]
        ),
    )
    results = results_table(data, tables)
    add(
        "results",
        [table_html(results, collapse=False, heading=False)]
        if results is not None
        else ["<p>No finished cells: nothing to tabulate.</p>"],
        [(f"tab-{results.name}", results.title)] if results is not None else [],
    )
    first, scenario_figures, rest = _split_figures(figures)
    body, entries = _figure_section(first, fig_dir)
    if body:
        add("agreement", body, entries)
    scenarios = scenario_matrix(run_folder)
    if scenarios is not None:
        pngs = sorted((run_folder / "scenarios").glob("*.png"))
        body = [table_html(scenarios, collapse=False)]
        body += [figure_html(p, f"scenario-{p.stem}", f"Scenario figure {p.name}.") for p in pngs]
        add(
            "scenarios",
            body + _figure_section(scenario_figures, fig_dir)[0],
            [(f"tab-{scenarios.name}", scenarios.title)],
        )
    else:
        rest = scenario_figures + rest  # no matrix: the figure alone goes with the others
    add(
        "cohort",
        _cohort_body(data, tables, meta, level),
        [(f"tab-{t.name}", t.title) for t in tables if SECTION_TABLES.get(t.name) == "cohort"],
    )
    add(
        "how-to-read",
        [
            "<dl>"
            + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in glossary)
            + "</dl>",
            f"<p>All tables are at <b>{escape(level)} level</b> unless the caption "
            "says otherwise. Long tables are folded: click “Show the table”.</p>",
        ],
    )
    rest_tables = [t for t in tables if t.name not in SECTION_TABLES and t.name != "results"]
    add(
        "tables",
        [table_html(t) for t in rest_tables] or ["<p>No tables.</p>"],
        [(f"tab-{t.name}", t.title) for t in rest_tables],
    )
    body, entries = _figure_section(rest, fig_dir)
    if body:
        add("figures", body, entries)
    if data.skips:
        add(
            "not-shown",
            [
                "<div class='box warn'><ul>"
                + "".join(f"<li>{escape(s)}</li>" for s in data.skips)
                + "</ul></div>"
            ],
        )
    add(
        "provenance",
        [
            "<dl>"
            + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in provenance.items())
            + "</dl>",
            "<details><summary>Dataset metadata</summary><pre>"
            + escape(json.dumps(meta, indent=2, sort_keys=True))
            + "</pre></details>",
            "<p>Rebuild with <code>python -m benchmark report RUN_FOLDER</code>; computed from "
            "the stored predictions only.</p>",
        ],
    )
    return [by_anchor[a] for a, _, _ in SECTIONS if a in by_anchor]


def _cohort_body(data: RunData, tables: list[Table], meta: dict, level: str) -> list[str]:
    preds = data.predictions
    n_pat = preds[preds["level"] == "patient"]["patient_id"].nunique() if len(preds) else 0
    n_img = preds[preds["level"] == "image"]["image_id"].nunique() if len(preds) else 0
    description = meta.get("description") or "A cohort folder in the documented format."
    body = [
        f"<p>{escape(description)}</p>",
        f"<p>Dataset <b>{escape(str(meta.get('name', '?')))}</b>; {n_pat} test patients "
        f"and {n_img} test images across all splits. Split: "
        f"{escape(str(data.run.get('config', {}).get('split', '?')))}.</p>",
    ]
    body += [table_html(t) for t in tables if SECTION_TABLES.get(t.name) == "cohort"]
    return body


def _link(anchor: str, text: str) -> str:
    return f"<a href='#{escape(anchor)}'>{escape(text)}</a>"


def toc_html(sections: list[Section]) -> str:
    """The sections on one line: the contents cost one line of the first screen."""
    return (
        "<nav class='toc' id='toc' aria-label='Contents'><ol>"
        + "".join(f"<li>{_link(s.anchor, s.heading)}</li>" for s in sections)
        + "</ol></nav>"
    )


def index_html(section: Section) -> str:
    """A long section's own contents: one link per table or figure, at its top."""
    titles = [t for _, t in section.entries]
    return (
        "<p class='index'>In this section: "
        + " · ".join(
            _link(a, t if titles.count(t) == 1 else f"{t} ({a.split('-', 1)[1]})")
            for a, t in section.entries
        )
        + "</p>"
    )


def render_page(
    data: RunData,
    tables: list[Table],
    figures: list[tuple[str, str]],
    fig_dir: Path,
    findings: list[str],
    level: str,
    provenance: dict[str, str],
    glossary: list[tuple[str, str]],
) -> str:
    meta = data.run.get("dataset_meta", {})
    tables = [t for t in tables if not t.csv_only]  # per-row files: too long for a page
    sections = build_sections(data, tables, figures, fig_dir, findings, level, provenance, glossary)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>fetal-lung-bench report — {escape(str(meta.get('name', 'run')))}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Fetal lung maturity: gestational-age estimation benchmark</h1>",
        "<p class='lead'>Each method estimates the gestational age (GA) of a fetus from "
        "ultrasound of the fetal lung (four-chamber heart view) or from routine biometry; the "
        "estimate is the lung-maturity score. All methods were tested on the same patients, "
        f"never used for training. Dataset <b>{escape(str(meta.get('name', '?')))}</b>, "
        f"{escape(level)} level.</p>",
        toc_html(sections),
    ]
    for s in sections:
        parts.append(f"<section id='{s.anchor}'><h2>{escape(s.heading)}</h2>")
        if s.anchor in INDEXED_SECTIONS and s.entries:
            parts.append(index_html(s))
        parts.extend(s.body)
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
