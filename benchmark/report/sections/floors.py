"""Every method against each floor control, by r with a paired patient-bootstrap CI.

A floor is a control that sees too little to be the answer (declared ``role = "floor"``:
first-order patch statistics, …).  The key-findings line names who does not beat a floor by
MAE; this table says whether a method is *above* a floor with a CI that shows it, the
reading a patch method needs ("a net that does not beat it has learned brightness").
Only methods that declare ``uses_images`` are compared (a patch floor says nothing about
biometry).
Floors that do not read images (the training mean) are left out: a constant has no r to
be beaten by, and across folds its r only measures how the folds' GA differ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.report.formatting import Table, num, pval
from benchmark.report.registry import ReportContext, register_table
from benchmark.stats import compare_correlations


def verdict(lo: float, hi: float) -> str:
    """Where the CI of Δr = r(method) − r(floor) lies."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "—"
    return "above" if lo > 0 else "below" if hi < 0 else "not distinguishable"


def floor_comparisons(ctx: ReportContext) -> pd.DataFrame:
    """Rows of :func:`benchmark.stats.compare_correlations` (overall group only), one per
    method × floor with an r, plus ``verdict``; cached per report."""
    key = ("floors", ctx.level)
    if key in ctx.data.cache:
        return ctx.data.cache[key]
    data = ctx.data
    every_floor = set(data.labels_with_role("floor"))
    floors = {f for f in every_floor if _reads_images(data, f)}  # not the training mean
    methods = image_methods(data)
    pairs = [(m, f) for f in sorted(floors) for m in methods]
    comp = compare_correlations(data.predictions, pairs, ctx.level) if pairs else pd.DataFrame()
    if len(comp):
        comp = comp[(comp["group"] == "all") & comp["r_b"].notna()].reset_index(drop=True)
        comp["verdict"] = [verdict(lo, hi) for lo, hi in zip(comp["diff_lo"], comp["diff_hi"])]
    data.cache[key] = comp
    return comp


def image_methods(data) -> list[str]:
    """Labels of the methods (not floors, not ceilings) that read images."""
    controls = set(data.labels_with_role("floor")) | set(data.labels_with_role("ceiling"))
    return [label for label in data.labels if label not in controls and _reads_images(data, label)]


def _reads_images(data, label: str) -> bool:
    """Whether the label's method declares ``uses_images`` (a floor of lung patches says
    nothing about tabular methods such as biometry); unknown methods are kept."""
    from benchmark.contract.registry import declares

    method = data.cell_methods.get(label) or label
    return declares(method, "uses_images", default=True)


@register_table("floors", order=46)
def floors_table(ctx: ReportContext) -> Table | None:
    comp = floor_comparisons(ctx)
    if comp.empty:
        return None
    comp = comp.sort_values(["method_b", "r_a"], ascending=[True, False], kind="stable")
    display = pd.DataFrame(
        {
            "floor": comp["method_b"],
            "method": comp["method_a"],
            "n": comp["n"],
            "r method": comp["r_a"].map(lambda v: num(v, 3)),
            "r floor": comp["r_b"].map(lambda v: num(v, 3)),
            "Δr bootstrap 95 % CI": [
                f"[{num(lo, 3)}, {num(hi, 3)}]" for lo, hi in zip(comp["diff_lo"], comp["diff_hi"])
            ],
            "p (bootstrap)": comp["p_boot"].map(pval),
            "vs the floor": comp["verdict"],
        }
    )
    return Table(
        f"floors_{ctx.level}",
        "Each method against each floor control: difference in r",
        "Patient level unless stated. A floor is a declared control that sees too little to be "
        "the answer (first-order statistics of the lung patches); a patch method that is not "
        "above it has learned no more than brightness and its spread. Methods that read "
        "images only (tabular methods such as biometry are not compared). Δr = r(method) − "
        "r(floor) on the same patients, paired patient bootstrap (2,000 resamples); 'above' / "
        "'below' when the 95 % CI excludes 0. Floors that do not read images (the training "
        "mean) are left out.",
        comp.reset_index(drop=True),
        display.reset_index(drop=True),
    )
