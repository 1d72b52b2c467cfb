"""The short results table printed at the end of ``run`` and ``report`` (tables/results.md).

One line per method, best first: patient-level n measured / n, MAE ± SD in weeks and in
days, % of patients within ±7 and ±14 days, MAE per GA group (weeks, with days in
brackets), Pearson r [Fisher-z 95 % CI] and mean fit seconds.  ``results.csv`` holds
every one of these numbers per GA group as well.  The full tables are in the run's tables/
and report.html.  It is Markdown so it reads in a terminal and pastes anywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.stats import pooled_metrics

CAPTION = (
    "Patient-level GA estimates (mean of each patient's image predictions, averaged "
    "over seeds); absolute error in weeks (days), overall and per GA group: wk (d); ±7 d / "
    "±14 d = % of patients whose estimate is within 7 / 14 days of the true GA; "
    "n measured / n = patients whose every prediction was measured, not a fallback; "
    "r = Pearson with Fisher-z 95 % CI; best first."
)
#: Per-group numbers in results.csv (``<column> <group>``).
PER_GROUP = ("mae", "mae_days", "within_7d", "within_14d", "n_measured", "n_rows")


def summary_frame(
    predictions: pd.DataFrame, cells: pd.DataFrame, pooled: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``pooled`` = :func:`pooled_metrics` at patient level when the caller has it."""
    if pooled is None:
        pooled = pooled_metrics(predictions, "patient", bootstrap=False)
    fit = pd.Series(dtype=float)
    if {"status", "fit_seconds", "label"} <= set(cells.columns):
        fit = cells[cells["status"] == "done"].groupby("label")["fit_seconds"].mean()
    overall = pooled[pooled["group"] == "all"].set_index("method")
    frame = overall[
        [
            "n_rows",
            "n_measured",
            "mae",
            "mae_sd",
            "mae_days",
            "mae_days_sd",
            "within_7d",
            "within_14d",
            "r",
            "r_lo",
            "r_hi",
        ]
    ].rename(columns={"n_rows": "n"})
    groups = sorted(g for g in pooled["group"].unique() if g != "all")
    for column in PER_GROUP:
        wide = pooled.pivot(index="method", columns="group", values=column)
        for group in groups:
            name = "n" if column == "n_rows" else column
            frame[f"{name} {group}"] = wide[group].reindex(frame.index)
    frame["fit_seconds"] = fit.reindex(frame.index)
    frame = frame.sort_values(["mae"], kind="stable")
    return frame.rename_axis("method").reset_index()


def _pct(value: float) -> str:
    return "—" if np.isnan(value) else f"{100 * value:.0f}"


def summary_markdown(frame: pd.DataFrame) -> str:
    groups = [c[len("mae_days ") :] for c in frame.columns if c.startswith("mae_days ")]
    lines = [
        CAPTION,
        "",
        "| method | group | n measured / n | MAE ± SD (wk) | MAE (d) | ±7 d % | ±14 d % | "
        + " | ".join(groups)
        + " | r [95 % CI] | fit s |",
        "|---|---|---:|---|---:|---:|---:|" + "---:|" * len(groups) + "---|---:|",
    ]
    for row in frame.to_dict("records"):
        r = "—" if np.isnan(row["r"]) else f"{row['r']:.3f} [{row['r_lo']:.3f}, {row['r_hi']:.3f}]"
        per_group = " | ".join(
            "—"
            if np.isnan(row[f"mae {g}"])
            else f"{row[f'mae {g}']:.2f} ({row[f'mae_days {g}']:.1f})"
            for g in groups
        )
        fit = "—" if np.isnan(row["fit_seconds"]) else f"{row['fit_seconds']:.1f}"
        lines.append(
            f"| {row['method']} | all | {row['n_measured']} / {row['n']} | "
            f"{row['mae']:.2f} ± {row['mae_sd']:.2f} | {row['mae_days']:.1f} | "
            f"{_pct(row['within_7d'])} | {_pct(row['within_14d'])} | {per_group} | "
            f"{r} | {fit} |"
        )
    return "\n".join(lines) + "\n"


def not_run_lines(cells: pd.DataFrame) -> str:
    if "status" not in cells:
        return ""
    bad = cells[cells["status"].isin(["failed", "unavailable", "skipped"])]
    if bad.empty:
        return ""
    bad = bad[["label", "status", "error"]].drop_duplicates()
    return "\nNot in the table:\n" + "".join(
        f"- {r.label} ({r.status}): {r.error}\n" for r in bad.itertuples()
    )


def terminal_summary(
    predictions: pd.DataFrame, cells: pd.DataFrame, frame: pd.DataFrame | None = None
) -> str:
    """The results table plus the methods that are not in it and why."""
    if predictions.empty:
        return "No finished cells: nothing to tabulate.\n" + not_run_lines(cells)
    if frame is None:
        frame = summary_frame(predictions, cells)
    return summary_markdown(frame) + not_run_lines(cells)
