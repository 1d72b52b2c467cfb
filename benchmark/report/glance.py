"""The two tables of the report's first screen, as :class:`Table` objects.

* :func:`results_table` — the short results table (``tables/results.csv``): one line per
  method, best first.  Its columns are rendered generically from the frame the CSV is
  written from (:func:`benchmark.report.summary.summary_frame`), so a column another table adds
  (MAE in days, ``n_measured``, within-±7-day shares, ...) appears without touching this
  file.  Naming rules: ``X_sd`` joins ``X`` as "X ± SD"; ``X_lo``/``X_hi`` join ``X`` as
  "X [lo, hi]"; ``n_measured`` joins ``n`` as "measured / n"; ``within_Nd`` is a share
  shown in %; ``"X <group>"`` is X in one GA group (``"X_days <group>"`` joins it in
  brackets).
* :func:`scenario_matrix` — ``scenarios/summary.csv`` of the run folder (scenario × method),
  when the folder holds one.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.report.data import RunData
from benchmark.report.formatting import Table, num

#: Display names of known columns; any other column shows its own name.
COLUMN_NAMES = {
    "method": "method",
    "n": "n",
    "mae": "MAE ± SD (wk)",
    "mae_days": "MAE ± SD (d)",
    "r": "r [95 % CI]",
    "fit_seconds": "fit s",
    "rmse": "RMSE (wk)",
    "bias": "bias (wk)",
}
#: Columns shown with three decimals (correlations); days with one; other floats with two.
THREE_DECIMALS = ("r", "spearman", "kappa", "auc")
#: Of the per-group columns (``"<column> <group>"``) the first screen shows only these: the
#: rest (n, shares within ±7 d per group, ...) stay in the CSV and the full tables.
PER_GROUP_SHOWN = ("mae",)
WEEK_TO_DAYS = 7.0

RESULTS_CAPTION = (
    "Patient level: one GA estimate per patient (the mean of its image predictions, averaged "
    "over seeds); absolute error overall and per GA group; r = Pearson with Fisher-z 95 % "
    "CI; best first. The same numbers as tables/results.csv, which adds every column per "
    "GA group; every other statistic is in the tables further down."
)


def _digits(column: str) -> int:
    base = column.split(" ")[0]
    if "days" in base:
        return 1
    return 3 if base.split("_")[0] in THREE_DECIMALS else 2


def _fmt(value, digits: int) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if digits == 0 and np.isfinite(value):
            return str(int(round(float(value))))
        return num(float(value), digits)
    return "—" if value is None or value is pd.NA else str(value)


def _name(column: str) -> str:
    base, _, group = column.partition(" ")
    share = re.fullmatch(r"within_(\d+)d", base)
    if share:
        name = f"±{share.group(1)} d %"
    elif group and base == "mae":
        name = "MAE"
    else:
        name = COLUMN_NAMES.get(base, base.replace("_", " "))
    return f"{name} {group}".strip() if group else name


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Format every column of ``frame`` by the naming rules of this module's docstring;
    shares (``within_*``) as percentages; per-group columns only for ``PER_GROUP_SHOWN``,
    with the group's days in brackets when the frame has them."""
    columns = list(frame.columns)
    joined = {f"{c}_{s}" for c in columns for s in ("sd", "lo", "hi") if f"{c}_{s}" in columns}
    if "n" in columns and "n_measured" in columns:
        joined.add("n_measured")
    out: dict[str, list[str]] = {}
    for col in columns:
        base, _, group = col.partition(" ")
        if col in joined or (group and base not in PER_GROUP_SHOWN):
            continue
        digits = _digits(col)
        if base.startswith("within_"):
            values = [_fmt(100 * v, 0) for v in frame[col]]
        else:
            values = [_fmt(v, digits) for v in frame[col]]
        name = _name(col)
        if f"{col}_sd" in columns:
            values = [
                f"{v} ± {_fmt(s, digits)}" if v != "—" else v
                for v, s in zip(values, frame[f"{col}_sd"])
            ]
        if f"{col}_lo" in columns and f"{col}_hi" in columns:
            values = [
                f"{v} [{_fmt(lo, digits)}, {_fmt(hi, digits)}]" if v != "—" else v
                for v, lo, hi in zip(values, frame[f"{col}_lo"], frame[f"{col}_hi"])
            ]
        if group and f"{base}_days {group}" in columns:
            values = [
                f"{v} ({_fmt(d, 1)})" if v != "—" else v
                for v, d in zip(values, frame[f"{base}_days {group}"])
            ]
            name = f"{group} wk (d)"
        elif group:
            name = f"{group} (wk)"
        if col == "n" and "n_measured" in columns:
            values = [f"{_fmt(m, 0)} / {v}" for m, v in zip(frame["n_measured"], values)]
            name = "n measured / n"
        out[name] = values
        if col == "mae" and "mae_days" not in columns:
            # days beside weeks (clinicians date in days): the same numbers × 7
            out["MAE ± SD (d)"] = [
                f"{num(m * WEEK_TO_DAYS, 1)} ± {num(s * WEEK_TO_DAYS, 1)}"
                if np.isfinite(m)
                else "—"
                for m, s in zip(frame["mae"], frame.get("mae_sd", frame["mae"] * np.nan))
            ]
    return pd.DataFrame(out)


def results_table(data: RunData, tables: list[Table] | None = None) -> Table | None:
    """A registered ``results`` table when one exists, else the short summary frame."""
    for table in tables or []:
        if table.name == "results":
            return table
    if data.predictions.empty:
        return None
    from benchmark.report.summary import summary_frame

    frame = summary_frame(data.predictions, data.cells)
    return Table("results", "Results at a glance", RESULTS_CAPTION, frame, display_frame(frame))


def scenario_matrix(run_folder: Path) -> Table | None:
    """Methods × scenarios from ``scenarios/summary.csv``: r [CI] where the file has it,
    else MAE; the oracle's r per scenario as a last row when the file gives ``oracle_r``."""
    path = run_folder / "scenarios" / "summary.csv"
    if not path.is_file():
        return None
    frame = pd.read_csv(path)
    if not {"scenario", "method"} <= set(frame.columns) or frame.empty:
        return None
    scenarios = list(dict.fromkeys(frame["scenario"].astype(str)))
    methods = sorted(frame["method"].astype(str).unique())
    cells = frame.assign(
        scenario=frame["scenario"].astype(str), method=frame["method"].astype(str)
    ).set_index(["method", "scenario"])
    has_r = "r" in frame.columns
    lo, hi = ("r_low", "r_high") if "r_low" in frame.columns else ("r_lo", "r_hi")
    wide: dict[str, list[str]] = {"method": methods}
    for scenario in scenarios:
        column = []
        for method in methods:
            if (method, scenario) not in cells.index:
                column.append("—")
                continue
            row = cells.loc[(method, scenario)]
            row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
            if has_r and lo in row and hi in row:
                column.append(f"{num(row['r'], 2)} [{num(row[lo], 2)}, {num(row[hi], 2)}]")
            elif has_r:
                column.append(num(row["r"], 2))
            else:
                column.append(num(row.get("mae", float("nan"))))
        wide[scenario] = column
    what = "Pearson r [95 % CI]" if has_r else "MAE (wk)"
    return Table(
        "scenario_matrix",
        "Scenarios × methods",
        f"{what} of each method in each simulated world (from scenarios/summary.csv): the "
        "positive control should find the signal, the null scenario should find none.",
        frame,
        pd.DataFrame(wide),
    )
