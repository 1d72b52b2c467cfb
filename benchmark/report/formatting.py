"""Deterministic text renderings of tables: Markdown, CSV and LaTeX.

Tables are compared byte for byte in CI, so every float goes through one fixed format,
rows are sorted by the caller, and nothing here writes a date or a machine path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

CSV_FLOAT = "%.6g"


def num(x: float, digits: int = 2) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def pval(p: float) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def mean_sd(mean: float, sd: float, digits: int = 2) -> str:
    if isinstance(mean, float) and math.isnan(mean):
        return "—"
    return f"{num(mean, digits)} ± {num(sd, digits)}"


def interval(value: float, lo: float, hi: float, digits: int = 3) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "—"
    return f"{value:.{digits}f} [{num(lo, digits)}, {num(hi, digits)}]"


@dataclass
class Table:
    """One published table: numbers for CSV, strings for Markdown/LaTeX/HTML."""

    name: str  # file stem, unique within tables/
    title: str
    caption: str
    data: pd.DataFrame  # numeric, machine-readable
    display: pd.DataFrame  # formatted strings
    #: a long per-row file (e.g. one interval per prediction): CSV only, not in all.md,
    #: the .tex or the HTML report.
    csv_only: bool = False

    def to_csv(self) -> str:
        return self.data.to_csv(index=False, lineterminator="\n", float_format=CSV_FLOAT)

    def to_markdown(self) -> str:
        cols = [str(c) for c in self.display.columns]
        lines = [
            f"**{self.title}.** {self.caption}",
            "",
            "| " + " | ".join(cols) + " |",
            "|" + "---|" * len(cols),
        ]
        for row in self.display.itertuples(index=False):
            lines.append("| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |")
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        cols = [latex_escape(str(c)) for c in self.display.columns]
        body = [
            " & ".join(latex_escape(str(v)) for v in row) + r" \\"
            for row in self.display.itertuples(index=False)
        ]
        return "\n".join(
            [
                r"\begin{table}[ht]",
                r"\centering",
                rf"\caption{{{latex_escape(self.title)}. {latex_escape(self.caption)}}}",
                rf"\label{{tab:{self.name}}}",
                r"\begin{tabular}{" + "l" * len(cols) + "}",
                r"\hline",
                " & ".join(cols) + r" \\",
                r"\hline",
                *body,
                r"\hline",
                r"\end{tabular}",
                r"\end{table}",
                "",
            ]
        )

    def to_html(self) -> str:
        from html import escape

        head = "".join(f"<th>{escape(str(c))}</th>" for c in self.display.columns)
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
            for row in self.display.itertuples(index=False)
        )
        return (
            f'<table id="{escape(self.name)}"><caption><b>{escape(self.title)}.</b> '
            f"{escape(self.caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "–": "--",
    "—": "---",
    "≤": r"$\leq$",
    "ρ": r"$\rho$",
    "χ": r"$\chi$",
    "²": r"$^2$",
    "×": r"$\times$",
    "−": "-",
    "<": r"$<$",
    ">": r"$>$",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in text)
