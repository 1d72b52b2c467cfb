"""Build every table/figure of a run folder from its stored predictions (``run``, ``report``)."""

from __future__ import annotations

from pathlib import Path

from benchmark.stats import DEFAULT_REFERENCE


def build_report(run_dir: str | Path, out: str | Path | None = None, level: str = "patient",
                 reference: str = DEFAULT_REFERENCE, figures: bool = True) -> str:
    """Regenerate the outputs of ``run_dir`` (into ``out``); returns the text to print."""
    from benchmark.report import build, export

    run_dir = Path(run_dir)
    if out is not None and Path(out).resolve() != run_dir.resolve():
        result = export(run_dir, out, level, reference, figures)
    else:
        result = build(run_dir, None, level, reference, figures)
    text = (result.out / "tables" / "results.md").read_text(encoding="utf-8")
    for skip in result.skips:
        text += f"skipped: {skip}\n"
    text += f"\ntables: {result.out / 'tables'}  report: {result.html}\n"
    return text
