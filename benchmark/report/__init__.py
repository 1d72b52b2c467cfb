"""Tables (Markdown/CSV/LaTeX), figures (PNG/SVG) and a self-contained HTML report.

Entry points: :func:`build` (a run folder → its outputs), :func:`export` (a run folder →
``results/``), :func:`check_results` (CI: regenerate ``results/tables`` and compare bytes).
Heavy imports (matplotlib) happen inside the figure functions.
"""

from benchmark.report.build import ReportResult, build, check_results, export, write_tables
from benchmark.report.data import NotARunError, RunData, load_run

__all__ = [
    "NotARunError",
    "ReportResult",
    "RunData",
    "build",
    "check_results",
    "export",
    "load_run",
    "write_tables",
]
