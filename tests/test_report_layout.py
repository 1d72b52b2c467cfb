"""The report page's contract: answer first, a fixed documented order, anchors that resolve,
nothing fetched from outside, the same numbers as the tables; and run folders whose files a
colleague can open.  Runs without a browser; the one browser test skips when there is none.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import stat
import struct
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cohorts import write_tabular_cohort

from benchmark.contract.files import atomic_write_text
from benchmark.execution.runner import RunConfig, run
from benchmark.kits.texture.cache import _atomic_write
from benchmark.report import build
from benchmark.report.glance import display_frame
from benchmark.report.layout import CSS_PX_PER_INCH, FIGURE_DPI, OPEN_ROWS, SECTIONS
from benchmark.report.structure import check_report

METHODS = ["biometry-hadlock", "biometry-intergrowth", "dummy-mean"]
PAGE_WIDTH = 1180  # CSS max-width of the page body


def _run_under_umask(root: Path, mask: int) -> Path:
    cohort = write_tabular_cohort(root / "cohort", n=30, seed=5, size=32)
    old = os.umask(mask)
    try:
        result = run(
            RunConfig(
                dataset=str(cohort), split="paper", run_dir=str(root / "run"), methods=METHODS
            )
        )
        assert result.n_failed == 0
        build(result.run_dir)
    finally:
        os.umask(old)
    return result.run_dir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return _run_under_umask(tmp_path_factory.mktemp("layout"), 0o022)


@pytest.fixture(scope="module")
def html(run_dir) -> str:
    return (run_dir / "report.html").read_text(encoding="utf-8")


def _section(html: str, anchor: str) -> str:
    match = re.search(rf"<section id='{anchor}'>.*?</section>\n?", html, re.S)
    assert match, anchor
    return match.group(0)


# --- files others can open ---------------------------------------------------------------


def _modes(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]
    }


def test_fresh_run_folder_is_readable_by_group_and_others_under_umask_022(run_dir):
    modes = _modes(run_dir)
    for name in (
        "report.html",
        "predictions.csv",
        "cells.csv",
        "run.json",
        "tables/results.md",
        "tables/metrics_patient.csv",
    ):
        assert modes[name] == 0o644, (name, oct(modes[name]))
    unreadable = {n: oct(m) for n, m in modes.items() if m & 0o044 != 0o044}
    assert not unreadable
    folders = {n: oct(m) for n, m in modes.items() if (run_dir / n).is_dir() and m & 0o055 != 0o055}
    assert not folders  # cells/<id>/ came from a 0700 temporary folder


def test_atomic_writes_follow_the_umask_not_a_fixed_mode(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        _atomic_write(tmp_path / "b.npy", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "b.npy").stat().st_mode) == 0o640
    assert not list(tmp_path.glob(".*"))  # no temporary file left


# --- structure ---------------------------------------------------------------------------


def test_first_screen_is_the_answer_then_the_documented_order(html):
    found = re.findall(r"<section id='([^']+)'>", html)
    assert found[:3] == ["findings", "results", "agreement"]
    order = [anchor for anchor, _, _ in SECTIONS]
    assert found == [a for a in order if a in found]
    agreement = _section(html, "agreement")
    assert agreement.index("fig-fig_pred_vs_true") < agreement.index("fig-fig_bland_altman")
    assert "data-table='results'" in _section(html, "results")
    assert "data-table='table1'" in _section(html, "cohort")
    assert check_report(html) == []


def test_structure_check_fails_when_a_section_moves_or_goes(html):
    results = _section(html, "results")
    moved = html.replace(results, "").replace("</body>", results + "</body>")
    assert any("out of order" in p for p in check_report(moved))
    gone = html.replace(_section(html, "provenance"), "")
    assert any("'provenance' is missing" in p for p in check_report(gone))
    renamed = html.replace("<section id='tables'>", "<section id='extras'>")
    problems = check_report(renamed)
    assert any("'extras' is not one of the documented" in p for p in problems)
    assert any("'#tables' has no target" in p for p in problems)


@pytest.mark.parametrize(
    "intruder",
    [
        "<script src='https://cdn.example.org/chart.js'></script>",
        "<script>fetch('x')</script>",
        "<link rel='stylesheet' href='https://fonts.example.org/css'>",
        "<img src='http://example.org/logo.png' alt=''>",
        "<style>@import url('https://example.org/a.css');</style>",
        "<div style=\"background:url('https://example.org/b.png')\"></div>",
        "<iframe src='about:blank'></iframe>",
        "<a href='https://example.org'>more</a>",
    ],
)
def test_structure_check_fails_on_anything_external(html, intruder):
    assert check_report(html.replace("</body>", intruder + "</body>", 1))


def test_every_contents_link_resolves_and_every_figure_reads(html):
    assert "<nav class='toc' id='toc'" in html
    for anchor in re.findall(r"href='#([^']+)'", html):
        assert f"id='{anchor}'" in html, anchor
    figures = re.findall(r"<figure id='[^']+'>(.*?)</figure>", html, re.S)
    assert len(figures) >= 4
    assert all("class='reading'" in f for f in figures)
    broken = html.replace("id='fig-fig_error_boxes_patient'", "id='x'", 1)
    assert any("has no target" in p for p in check_report(broken))
    unlisted = html.replace("<li><a href='#provenance'>Provenance</a></li>", "", 1)
    assert any("'provenance' has no entry in the contents" in p for p in check_report(unlisted))
    unread = html.replace("<p class='reading'>One dot per patient", "<p>One dot", 1)
    assert any("'how to read it'" in p for p in check_report(unread))


def test_long_tables_fold_with_caption_and_reading_visible(html):
    blocks = _section(html, "tables").split("<h3 id='tab-")[1:]
    assert len(blocks) >= 4
    folded = 0
    for block in blocks:
        rows = block.count("<tr>") - 1  # minus the header row
        head = block[: block.index("<div class='scroll'>")]
        assert "class='reading'" in head and "class='caption'" in head
        assert ("<details><summary>Show the table (" in head) == (rows > OPEN_ROWS), block[:40]
        folded += rows > OPEN_ROWS
    assert folded >= 1  # metrics: 3 methods x 4 groups


def test_figures_are_drawn_legibly_at_1280_px(html):
    for stem, width in re.findall(
        r"<figure id='fig-([^']+)'>.*?<img[^>]*width='(\d+)'", html, re.S
    ):
        natural = round(int(width) * FIGURE_DPI / CSS_PX_PER_INCH)
        shown = min(int(width), PAGE_WIDTH)
        label_px = 8 / 72 * FIGURE_DPI * shown / natural  # 8 pt tick labels
        assert label_px >= 10, (stem, label_px)


# --- same numbers as the tables ----------------------------------------------------------


def _html_rows(html: str, name: str) -> list[list[str]]:
    table = re.search(rf"<table data-table='{name}'>(.*?)</table>", html, re.S).group(1)
    body = table.split("<tbody>", 1)[1]
    return [
        [unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


def _md_rows(path: Path) -> list[list[str]]:
    lines = [line for line in path.read_text().splitlines() if line.startswith("| ")][1:]
    return [[c.strip().replace("\\|", "|") for c in line.strip("|").split(" | ")] for line in lines]


def test_html_tables_are_the_markdown_tables(run_dir, html):
    names = re.findall(r"<table data-table='([^']+)'>", html)
    published = {p.stem for p in (run_dir / "tables").glob("*.md")} - {"all", "results"}
    assert published <= set(names)
    for name in published:
        assert _html_rows(html, name) == _md_rows(run_dir / "tables" / f"{name}.md"), name


def test_results_table_has_the_csv_numbers(run_dir, html):
    csv = pd.read_csv(run_dir / "tables" / "results.csv")
    rows = {r[0]: r for r in _html_rows(html, "results")}
    assert set(rows) == set(csv["method"])
    header = re.search(r"<table data-table='results'><thead><tr>(.*?)</tr>", html).group(1)
    columns = [unescape(c) for c in re.findall(r"<th>(.*?)</th>", header)]
    for rec in csv.to_dict("records"):
        row = dict(zip(columns, rows[rec["method"]]))
        n = row.get("n measured / n", row.get("n"))
        assert n.split(" / ")[-1] == str(rec["n"])
        assert row["MAE ± SD (wk)"] == f"{rec['mae']:.2f} ± {rec['mae_sd']:.2f}"
        days, days_sd = (
            rec.get("mae_days", rec["mae"] * 7),
            rec.get("mae_days_sd", rec["mae_sd"] * 7),
        )
        assert row["MAE ± SD (d)"] == f"{days:.1f} ± {days_sd:.1f}"
        if np.isfinite(rec["r"]):
            assert row["r [95 % CI]"].startswith(f"{rec['r']:.3f} [")


def test_results_columns_render_generically():
    frame = pd.DataFrame(
        {
            "method": ["a", "b"],
            "n": [150, 150],
            "n_measured": [150, 141],
            "mae": [1.0, 2.0],
            "mae_sd": [0.5, 0.25],
            "mae_days": [7.0, 14.0],
            "mae_days_sd": [3.5, 1.75],
            "within_7d": [0.61, 0.4],
            "r": [0.9, np.nan],
            "r_lo": [0.8, np.nan],
            "r_hi": [0.95, np.nan],
            "mae 24–30": [0.5, np.nan],
            "mae_days 24–30": [3.5, np.nan],
            "within_7d 24–30": [0.9, np.nan],
            "n 24–30": [40, 0],
            "fit_seconds": [1.25, np.nan],
        }
    )
    shown = display_frame(frame)
    assert list(shown.columns) == [
        "method",
        "n measured / n",
        "MAE ± SD (wk)",
        "MAE ± SD (d)",
        "±7 d %",
        "r [95 % CI]",
        "24–30 wk (d)",
        "fit s",
    ]
    assert shown.iloc[0].tolist() == [
        "a",
        "150 / 150",
        "1.00 ± 0.50",
        "7.0 ± 3.5",
        "61",
        "0.900 [0.800, 0.950]",
        "0.50 (3.5)",
        "1.25",
    ]
    assert shown.iloc[1].tolist() == [
        "b",
        "141 / 150",
        "2.00 ± 0.25",
        "14.0 ± 1.8",
        "40",
        "—",
        "—",
        "—",
    ]
    weeks_only = display_frame(frame[["method", "mae", "mae_sd", "mae 24–30"]])
    assert list(weeks_only.columns) == ["method", "MAE ± SD (wk)", "MAE ± SD (d)", "24–30 (wk)"]
    assert weeks_only.iloc[0].tolist() == ["a", "1.00 ± 0.50", "7.0 ± 3.5", "0.50"]


def test_scenario_matrix_joins_the_first_screen_when_the_folder_has_one(run_dir, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    (folder / "scenarios").mkdir()
    pd.DataFrame(
        {
            "scenario": ["synthetic", "synthetic", "synthetic-null", "synthetic-null"],
            "method": ["glcm-ridge", "oracle", "glcm-ridge", "oracle"],
            "n": [150] * 4,
            "r": [0.66, 0.97, 0.01, 0.97],
            "r_low": [0.56, 0.96, -0.15, 0.96],
            "r_high": [0.74, 0.98, 0.17, 0.98],
            "mae": [2.9, 0.9, 4.0, 0.9],
            "oracle_r": [0.97] * 4,
        }
    ).to_csv(folder / "scenarios" / "summary.csv", index=False)
    from PIL import Image

    Image.new("RGB", (400, 200), "white").save(folder / "scenarios" / "matrix.png")
    build(folder, figures=False)
    page = (folder / "report.html").read_text(encoding="utf-8")
    found = re.findall(r"<section id='([^']+)'>", page)
    assert found[:3] == ["findings", "results", "scenarios"]
    assert _html_rows(page, "scenario_matrix") == [
        ["glcm-ridge", "0.66 [0.56, 0.74]", "0.01 [-0.15, 0.17]"],
        ["oracle", "0.97 [0.96, 0.98]", "0.97 [0.96, 0.98]"],
    ]
    assert "id='fig-scenario-matrix'" in _section(page, "scenarios")
    assert check_report(page) == []


# --- the browser check -------------------------------------------------------------------


def _screenshot_script():
    path = Path(__file__).resolve().parents[1] / "scripts" / "report_screenshot.py"
    spec = importlib.util.spec_from_file_location("report_screenshot", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_layout_problems_name_what_is_off_screen():
    script = _screenshot_script()
    good = {
        "results": {"top": 600, "bottom": 1100},
        "pred_vs_true": {"top": 1250},
        "figures": [{"id": "f", "width": 700, "natural": 1400}],
        "scroll_width": 1280,
    }
    assert script.layout_problems(good, 1280, 1600) == []
    bad = {
        "results": {"top": 1500, "bottom": 2100},
        "pred_vs_true": {"top": 12000},
        "figures": [{"id": "fig-boxes", "width": 1150, "natural": 4830}],
        "scroll_width": 1400,
    }
    problems = script.layout_problems(bad, 1280, 1600)
    assert len(problems) == 4 and "fig-boxes" in problems[2]


@pytest.mark.skipif(_screenshot_script().find_browser() is None, reason="no Chromium")
def test_chromium_shows_results_and_figure_on_the_first_screen(run_dir, tmp_path):
    script = _screenshot_script()
    out = tmp_path / "shot.png"
    assert script.main([str(run_dir), "--out", str(out)]) == 0
    assert struct.unpack(">II", out.read_bytes()[16:24]) == (1280, 1600)


def test_csv_only_tables_stay_off_the_page(run_dir):
    from benchmark.report import load_run
    from benchmark.report.formatting import Table
    from benchmark.report.layout import render_page

    data = load_run(run_dir)
    rows = pd.DataFrame({"patient_id": ["p1"], "lower": [30.1], "upper": [33.9]})
    per_row = Table(
        "per_row", "One row per prediction", "Long.", rows, rows.astype(str), csv_only=True
    )
    shown = Table("shown", "Shown", "Short.", rows, rows.astype(str))
    page = render_page(data, [shown, per_row], [], run_dir / "figures", [], "patient", {}, [])
    assert "data-table='shown'" in page and "data-table='per_row'" not in page
    assert check_report(page) == []
