"""The short results table printed at the end of ``run`` and ``report``.

One line per method: overall patient-level MAE ± SD, MAE per GA group, r [95 % CI] and fit
time; the full tables are in the run's tables/ and report.html.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.stats import pooled_metrics


def terminal_summary(predictions: pd.DataFrame, cells: pd.DataFrame) -> str:
    if predictions.empty:
        return "No finished cells: nothing to tabulate.\n"
    pooled = pooled_metrics(predictions, "patient", bootstrap=False)
    groups = sorted(g for g in pooled["group"].unique() if g != "all")
    fit = pd.Series(dtype=float)
    if {"status", "fit_seconds", "label"} <= set(cells.columns):
        fit = cells[cells["status"] == "done"].groupby("label")["fit_seconds"].mean()
    head = ["method", "n", "MAE ± SD", *[f"{g}" for g in groups], "r [95 % CI]", "fit s"]
    rows = []
    overall = pooled[pooled["group"] == "all"].sort_values("mae", kind="stable")
    for row in overall.itertuples():
        by_group = pooled[pooled["method"] == row.method].set_index("group")["mae"]
        r = "—" if np.isnan(row.r) else f"{row.r:.3f} [{row.r_lo:.3f}, {row.r_hi:.3f}]"
        rows.append([
            row.method, str(row.n_rows), f"{row.mae:.2f} ± {row.mae_sd:.2f}",
            *[f"{by_group[g]:.2f}" if g in by_group else "—" for g in groups], r,
            f"{fit[row.method]:.1f}" if row.method in fit else "—",
        ])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths))
    out = ["Patient-level GA error in weeks (best first); MAE per GA group; Pearson r "
           "with Fisher-z CI.", line, "-" * len(line)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out) + "\n"


def not_run_lines(cells: pd.DataFrame) -> str:
    if "status" not in cells:
        return ""
    bad = cells[cells["status"].isin(["failed", "unavailable", "skipped"])]
    if bad.empty:
        return ""
    bad = bad[["label", "status", "error"]].drop_duplicates()
    return "\nNot in the table:\n" + "".join(
        f"- {r.label} ({r.status}): {r.error}\n" for r in bad.itertuples())
