"""Metrics per site (any split; with ``--split site`` each site is a held-out centre)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.report.formatting import Table, interval, mean_sd, num
from benchmark.report.registry import ReportContext, register_table
from benchmark.report.sections.maturity import _pooled
from benchmark.stats.metrics import agreement


@register_table("sites", order=75)
def sites_table(ctx: ReportContext) -> Table | None:
    patients = ctx.data.table1_patients
    if patients is None or "site" not in patients or patients["site"].nunique() < 2:
        return None  # one site (or none recorded): nothing to compare
    site = patients.set_index(patients["patient_id"].astype(str))["site"].astype(str)
    pooled = _pooled(ctx).assign(site=lambda f: f["patient_id"].astype(str).map(site))
    rows = []
    for (label, name), sub in pooled.dropna(subset=["site"]).groupby(["label", "site"]):
        a = agreement(sub["ga_true"], sub["ga_pred"], sub["patient_id"], bootstrap=False)
        rows.append(
            {
                "method": label,
                "site": name,
                "n": a["n_rows"],
                "n_measured": int(sub["measured"].sum()),
                "mae": a["mae"],
                "mae_sd": a["mae_sd"],
                "mae_days": a["mae_days"],
                "within_7d": a["within_7d"],
                "within_14d": a["within_14d"],
                "bias": a["bias"],
                "r": a["r"],
                "r_lo": a["r_lo"],
                "r_hi": a["r_hi"],
            }
        )
    frame = pd.DataFrame(rows)
    split = str(ctx.data.run.get("config", {}).get("split", "?"))
    held_out = split.startswith("site")
    display = pd.DataFrame(
        {
            "method": frame["method"],
            "site": frame["site"],
            "n measured / n": [f"{m} / {n}" for m, n in zip(frame["n_measured"], frame["n"])],
            "MAE ± SD (wk)": [mean_sd(m, s) for m, s in zip(frame["mae"], frame["mae_sd"])],
            "MAE (d)": frame["mae_days"].map(lambda v: num(v, 1)),
            "±7 d %": frame["within_7d"].map(lambda v: "—" if np.isnan(v) else f"{100 * v:.0f}"),
            "bias (wk)": frame["bias"].map(num),
            "r [95 % CI]": [
                interval(r, lo, hi) for r, lo, hi in zip(frame["r"], frame["r_lo"], frame["r_hi"])
            ],
        }
    )
    caption = f"Patient level, split {split}: agreement of the test patients of each site. " + (
        "Each site was held out: the method was trained on the other sites only "
        "(leave one site out), so these are performances at an unseen centre."
        if held_out
        else "Sites were mixed in training (not a site split): differences here are "
        "within-centre, not transfer to a new centre; use --split site for that."
    )
    return Table("sites_patient", "Performance per site", caption, frame, display)
