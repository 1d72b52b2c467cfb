"""Every image method against the run's best image method, by r with a paired CI.

Benchmarks mark the methods "not distinguishable from the best" rather than rank point
estimates: on 150 patients two methods 0.03 apart in r are often tied.  The best is the
image method (no floor, no ceiling) with the highest patient-level r in this run, chosen
on the same patients it is then compared on — a selection that favours it, so a method
found *not distinguishable* has survived a test tilted against it.  The question it
answers is the one asked of the nets: are they level with the best texture method?
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.report.formatting import Table, num, pval
from benchmark.report.registry import ReportContext, register_table
from benchmark.report.sections.floors import image_methods, verdict
from benchmark.stats import compare_correlations

#: the verdict on the best method's own row
BEST = "best"


def best_comparisons(ctx: ReportContext) -> pd.DataFrame:
    """Rows of :func:`benchmark.stats.compare_correlations` (overall group) of every other
    image method (``method_a``) against the best one (``method_b``), plus ``verdict``."""
    data = ctx.data
    methods = image_methods(data)
    if len(methods) < 2:
        return pd.DataFrame()
    r = data.pooled_metrics(ctx.level).query("group == 'all'")  # cached per report
    r = r[r["method"].isin(methods)].dropna(subset=["r"])
    if r.empty:
        return pd.DataFrame()
    best = r.sort_values(["r", "method"], ascending=[False, True])["method"].iloc[0]
    pairs = [(m, best) for m in methods if m != best]
    comp = compare_correlations(data.predictions, pairs, ctx.level)
    # a method without an r (constant predictions) stays in the table, its verdict "—"
    comp = comp[comp["group"] == "all"].reset_index(drop=True)
    comp["verdict"] = [verdict(lo, hi) for lo, hi in zip(comp["diff_lo"], comp["diff_hi"])]
    return comp


@register_table("vs_best", order=47)
def vs_best_table(ctx: ReportContext) -> Table | None:
    comp = best_comparisons(ctx)
    if comp.empty:
        return None
    comp = comp.sort_values("r_a", ascending=False, kind="stable").reset_index(drop=True)
    best = comp["method_b"].iloc[0]
    display = pd.DataFrame(
        {
            "method": [best, *comp["method_a"]],
            "n": [comp["n"].iloc[0], *comp["n"]],
            "r": [num(comp["r_b"].iloc[0], 3), *comp["r_a"].map(lambda v: num(v, 3))],
            "Δr vs the best, bootstrap 95 % CI": [
                "—",
                *[
                    f"[{num(lo, 3)}, {num(hi, 3)}]" if np.isfinite(lo) else "—"
                    for lo, hi in zip(comp["diff_lo"], comp["diff_hi"])
                ],
            ],
            "p (bootstrap)": ["—", *comp["p_boot"].map(pval)],
            "vs the best": [BEST, *comp["verdict"]],
        }
    )
    return Table(
        f"vs_best_{ctx.level}",
        f"Each image method against the best one ({best}): difference in r",
        "Patient level unless stated. The best is the image method (not a floor, not a "
        "ceiling) with the highest r in this run, chosen on the same patients, which favours "
        "it. Δr = r(method) − r(best), paired patient bootstrap (2,000 resamples); 'below' "
        "when the 95 % CI excludes 0, else 'not distinguishable' from the best.",
        comp,
        display,
    )
