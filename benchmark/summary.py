"""The first results table: per method × GA group, patient level (spec §7 has the rest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from benchmark.store import atomic_write_text, write_csv


def pearson_fisher_ci(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> tuple[float, ...]:
    """Pearson r with its Fisher-z confidence interval (NaN when n < 4)."""
    n = len(x)
    if n < 4 or np.std(x) == 0 or np.std(y) == 0:
        return (np.nan, np.nan, np.nan, np.nan)
    result = stats.pearsonr(x, y)
    lo, hi = result.confidence_interval(level)
    return float(result.statistic), float(lo), float(hi), float(result.pvalue)


def results_table(predictions: pd.DataFrame, level: str = "patient") -> pd.DataFrame:
    rows = []
    preds = predictions[predictions["level"] == level]
    for label, by_method in preds.groupby("label", sort=True):
        for group, sub in [("all", by_method), *sorted(by_method.groupby("group"))]:
            err = (sub["ga_pred"] - sub["ga_true"]).to_numpy()
            r, lo, hi, p = pearson_fisher_ci(sub["ga_true"].to_numpy(), sub["ga_pred"].to_numpy())
            rows.append({
                "method": label, "group": group, "n": sub["patient_id"].nunique(),
                "mae": np.abs(err).mean(), "mae_sd": np.abs(err).std(ddof=1),
                "r": r, "r_lo": lo, "r_hi": hi, "p": p,
            })
    return pd.DataFrame(rows)


def _markdown(table: pd.DataFrame, cells: pd.DataFrame) -> str:
    fit = cells[cells.get("status") == "done"].groupby("label")["fit_seconds"].mean() \
        if "fit_seconds" in cells else pd.Series(dtype=float)
    lines = [
        "| method | group | n | MAE ± SD (wk) | r [95 % CI] | fit s |",
        "|---|---|---:|---|---|---:|",
    ]
    for row in table.itertuples():
        r = "—" if np.isnan(row.r) else f"{row.r:.3f} [{row.r_lo:.3f}, {row.r_hi:.3f}]"
        fit_s = f"{fit[row.method]:.1f}" if row.method in fit and row.group == "all" else ""
        lines.append(f"| {row.method} | {row.group} | {row.n} | "
                     f"{row.mae:.2f} ± {row.mae_sd:.2f} | {r} | {fit_s} |")
    return "\n".join(lines) + "\n"


def write_tables(run_dir: Path) -> str:
    """Write tables/results.{md,csv}; returns the Markdown for the terminal."""
    predictions = pd.read_csv(run_dir / "predictions.csv", dtype={"patient_id": str})
    cells = pd.read_csv(run_dir / "cells.csv") if (run_dir / "cells.csv").stat().st_size > 1 \
        else pd.DataFrame()
    if predictions.empty:
        text = "No finished cells: nothing to tabulate.\n"
    else:
        table = results_table(predictions)
        write_csv(table.round(6), run_dir / "tables" / "results.csv")
        text = ("Patient-level GA estimates (mean of each patient's image predictions); "
                "MAE in weeks; r = Pearson with Fisher-z 95 % CI.\n\n" + _markdown(table, cells))
    failed = cells[cells["status"].isin(["failed", "unavailable", "skipped"])] \
        if "status" in cells else cells.iloc[0:0]
    if len(failed):
        text += "\nNot in the table:\n" + "".join(
            f"- {r.label} ({r.status}): {r.error}\n" for r in failed.itertuples()
        )
    atomic_write_text(run_dir / "tables" / "results.md", text)
    return text
