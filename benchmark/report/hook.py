"""Build every table/figure of a run folder from its stored predictions (``run``, ``report``)."""

from __future__ import annotations

from pathlib import Path


def build_report(
    run_dir: str | Path,
    out: str | Path | None = None,
    level: str = "patient",
    reference: str | None = None,
    figures: bool = True,
    options: object | None = None,
) -> str:
    """Regenerate the outputs of ``run_dir`` (into ``out``); returns the text to print.

    ``options`` is a :class:`benchmark.report.registry.ReportOptions` (it overrides
    ``level`` and ``reference``); imported lazily so ``run --help`` stays light.
    """
    from benchmark.report import build, export
    from benchmark.report.registry import ReportOptions

    if options is None:
        options = ReportOptions(level=level, reference=reference)
    run_dir = Path(run_dir)
    if out is not None and Path(out).resolve() != run_dir.resolve():
        result = export(run_dir, out, figures=figures, options=options)
    else:
        result = build(run_dir, None, figures=figures, options=options)
    text = (result.out / "tables" / "results.md").read_text(encoding="utf-8")
    for skip in result.skips:
        text += f"skipped: {skip}\n"
    if result.reused:
        text += "report: inputs unchanged since the last build, outputs kept as they are\n"
    text += f"\ntables: {result.out / 'tables'}  report: {result.html}\n"
    return text
