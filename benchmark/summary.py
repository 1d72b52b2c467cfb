"""The short results table printed at the end of ``run`` and ``report`` (tables/results.md).

One line per method, best first: patient-level n, MAE ± SD overall and per GA group,
Pearson r [Fisher-z 95 % CI] and mean fit seconds.  The full tables are in the run's
tables/ and report.html.  It is Markdown so it reads in a terminal and pastes anywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.stats import pooled_metrics

CAPTION = ("Patient-level GA estimates (mean of each patient's image predictions, averaged "
           "over seeds); absolute error in weeks, overall and per GA group; r = Pearson with "
           "Fisher-z 95 % CI; best first.")


def summary_frame(predictions: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    pooled = pooled_metrics(predictions, "patient", bootstrap=False)
    fit = pd.Series(dtype=float)
    if {"status", "fit_seconds", "label"} <= set(cells.columns):
        fit = cells[cells["status"] == "done"].groupby("label")["fit_seconds"].mean()
    wide = pooled.pivot(index="method", columns="group", values="mae")
    overall = pooled[pooled["group"] == "all"].set_index("method")
    frame = overall[["n_rows", "mae", "mae_sd", "r", "r_lo", "r_hi"]].rename(
        columns={"n_rows": "n"})
    for group in sorted(g for g in wide.columns if g != "all"):
        frame[f"mae {group}"] = wide[group]
    frame["fit_seconds"] = fit.reindex(frame.index)
    frame = frame.sort_values(["mae"], kind="stable")
    return frame.rename_axis("method").reset_index()


def summary_markdown(frame: pd.DataFrame) -> str:
    groups = [c[len("mae "):] for c in frame.columns if c.startswith("mae ")]
    lines = [CAPTION, "",
             "| method | group | n | MAE ± SD | " + " | ".join(groups)
             + " | r [95 % CI] | fit s |",
             "|---|---|---:|---|" + "---:|" * len(groups) + "---|---:|"]
    for row in frame.to_dict("records"):
        r = "—" if np.isnan(row["r"]) else f"{row['r']:.3f} [{row['r_lo']:.3f}, {row['r_hi']:.3f}]"
        per_group = " | ".join("—" if np.isnan(row[f"mae {g}"]) else f"{row[f'mae {g}']:.2f}"
                               for g in groups)
        fit = "—" if np.isnan(row["fit_seconds"]) else f"{row['fit_seconds']:.1f}"
        lines.append(f"| {row['method']} | all | {row['n']} | {row['mae']:.2f} ± "
                     f"{row['mae_sd']:.2f} | {per_group} | {r} | {fit} |")
    return "\n".join(lines) + "\n"


def not_run_lines(cells: pd.DataFrame) -> str:
    if "status" not in cells:
        return ""
    bad = cells[cells["status"].isin(["failed", "unavailable", "skipped"])]
    if bad.empty:
        return ""
    bad = bad[["label", "status", "error"]].drop_duplicates()
    return "\nNot in the table:\n" + "".join(
        f"- {r.label} ({r.status}): {r.error}\n" for r in bad.itertuples())


def terminal_summary(predictions: pd.DataFrame, cells: pd.DataFrame) -> str:
    """The results table plus the methods that are not in it and why."""
    if predictions.empty:
        return "No finished cells: nothing to tabulate.\n" + not_run_lines(cells)
    return summary_markdown(summary_frame(predictions, cells)) + not_run_lines(cells)
