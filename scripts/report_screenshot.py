"""Render a report in headless Chromium, check its first screen, write the docs screenshot.

    python scripts/report_screenshot.py results/report.html \
        --out docs/figures/report_screenshot.png

A check that can fail (exit 1, one line per problem):

* the page breaks the structural contract (:func:`benchmark.report.structure.check_report`);
* measured by the browser at 1280 px: the short results table does not end, or the
  predicted-vs-true figure does not start, within the first screen (``--height``, 1,600 px);
* a figure is drawn so small that its 8 pt labels fall under 10 px, or the page scrolls
  sideways.

The measurements come from a temporary copy of the page with a probe script appended (the
report itself never holds a script); the screenshot is taken of the report unchanged.
Chromium comes from the OS packages (Debian: ``apt-get install chromium``); its network
features are switched off, so it runs on a machine without network.  Exit 2: no browser.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
)
#: Figures are saved at 200 dpi with 8 pt tick labels; below this many CSS px they blur.
MIN_LABEL_PX = 10.0
FIGURE_DPI, LABEL_PT = 200, 8
PROBE = """<script>
window.addEventListener('load', function () {
  function box(sel) {
    var e = document.querySelector(sel);
    if (!e) return null;
    var r = e.getBoundingClientRect();
    return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY};
  }
  var figures = Array.prototype.map.call(document.querySelectorAll('figure img'), function (i) {
    return {id: i.closest('figure').id, width: i.getBoundingClientRect().width,
            natural: i.naturalWidth};
  });
  var out = {viewport: window.innerWidth, scroll_width: document.documentElement.scrollWidth,
             height: document.documentElement.scrollHeight,
             results: box("[data-table='results']"),
             pred_vs_true: box("figure[id^='fig-fig_pred_vs_true'] img"), figures: figures};
  var pre = document.createElement('pre');
  pre.id = 'layout-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def find_browser(explicit: str | None = None) -> str | None:
    if explicit:
        return explicit if shutil.which(explicit) or Path(explicit).is_file() else None
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def _chromium(browser: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def measure(html_path: Path, browser: str, width: int, height: int) -> dict:
    """Layout numbers of ``html_path`` as Chromium lays it out at ``width`` × ``height``."""
    html = html_path.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(html.replace("</body>", PROBE + "</body>", 1), encoding="utf-8")
        done = _chromium(
            browser,
            f"--window-size={width},{height}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe.as_uri(),
        )
    start = done.stdout.find('<pre id="layout-probe">')
    if start < 0:
        raise RuntimeError(
            f"{html_path}: the browser gave no layout (exit {done.returncode}): "
            + (done.stderr.strip().splitlines() or ["no output"])[-1]
        )
    text = done.stdout[start:].split(">", 1)[1].split("</pre>", 1)[0]
    import html as html_lib

    return json.loads(html_lib.unescape(text))


def layout_problems(layout: dict, width: int, height: int) -> list[str]:
    problems = []
    results, figure = layout.get("results"), layout.get("pred_vs_true")
    if results is None:
        problems.append("no results table in the page")
    elif results["bottom"] > height:
        problems.append(
            f"the results table ends at {results['bottom']:.0f} px, below the "
            f"first screen ({height} px)"
        )
    if figure is None:
        problems.append("no predicted-vs-true figure in the page")
    elif figure["top"] > height - 200:
        problems.append(
            f"the predicted-vs-true figure starts at {figure['top']:.0f} px: less "
            f"than 200 px of it on the first screen ({height} px)"
        )
    for fig in layout.get("figures", []):
        if not fig["natural"]:
            problems.append(f"figure {fig['id']}: image did not decode")
            continue
        label_px = LABEL_PT / 72 * FIGURE_DPI * fig["width"] / fig["natural"]
        if label_px < MIN_LABEL_PX:
            problems.append(
                f"figure {fig['id']}: 8 pt labels drawn at {label_px:.1f} px "
                f"(< {MIN_LABEL_PX:.0f}) at {width} px"
            )
    if layout.get("scroll_width", 0) > width:
        problems.append(
            f"the page is {layout['scroll_width']} px wide: it scrolls sideways at {width} px"
        )
    return problems


def screenshot(html_path: Path, out: Path, browser: str, width: int, height: int) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _chromium(
        browser,
        f"--window-size={width},{height}",
        "--virtual-time-budget=10000",
        f"--screenshot={out.resolve()}",
        html_path.resolve().as_uri(),
    )
    if not out.is_file():
        raise RuntimeError(f"{out}: Chromium wrote no screenshot (exit {done.returncode})")
    size = struct.unpack(">II", out.read_bytes()[16:24])
    if size != (width, height):
        raise RuntimeError(
            f"{out}: screenshot is {size[0]} × {size[1]} px, expected {width} × {height}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", help="a report.html, or a run folder holding one")
    parser.add_argument(
        "--out",
        default="docs/figures/report_screenshot.png",
        help="screenshot PNG (default: docs/figures/report_screenshot.png)",
    )
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument(
        "--height",
        type=int,
        default=1600,
        help="first screen: the results table and the predicted-vs-true "
        "figure must be on it (default 1600 px)",
    )
    parser.add_argument("--browser", help="Chromium executable (default: found on PATH)")
    parser.add_argument("--check-only", action="store_true", help="no screenshot")
    args = parser.parse_args(argv)

    from benchmark.report.structure import check_report

    html_path = Path(args.report)
    if html_path.is_dir():
        html_path = html_path / "report.html"
    if not html_path.is_file():
        print(f"{html_path}: no such report", file=sys.stderr)
        return 1
    browser = find_browser(args.browser)
    if browser is None:
        print("no Chromium found (apt-get install chromium, or --browser PATH)", file=sys.stderr)
        return 2
    problems = [f"structure: {p}" for p in check_report(html_path.read_text(encoding="utf-8"))]
    layout = measure(html_path, browser, args.width, args.height)
    problems += [f"layout: {p}" for p in layout_problems(layout, args.width, args.height)]
    print(
        f"{html_path}: {layout['height']} px tall at {args.width} px; results table "
        f"{_span(layout.get('results'))}; predicted vs true starts at "
        f"{_span(layout.get('pred_vs_true'), 'top')}"
    )
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if not args.check_only:
        screenshot(html_path, Path(args.out), browser, args.width, args.height)
        print(f"screenshot: {args.out} ({args.width} × {args.height} px)")
    return 0


def _span(box: dict | None, key: str | None = None) -> str:
    if box is None:
        return "missing"
    if key:
        return f"{box[key]:.0f} px"
    return f"{box['top']:.0f}–{box['bottom']:.0f} px"


if __name__ == "__main__":
    raise SystemExit(main())
