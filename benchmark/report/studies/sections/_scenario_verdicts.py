"""The scenario study's verdicts (issue 21): on the positive control, each image method
against ``share`` × the oracle's r and against the best method of a reference family by
the report's ``vs_best`` verdict; on the texture-free world, every image method whose CI
excludes 0 (it reads zoom or size, not only texture).

Which world is which and the reference family are the study file's
``outputs.parameters`` (``positive_control``, ``oracle_share``, ``reference``,
``texture_free``): data, not names known to the code.  The Δr and its verdict are
:func:`benchmark.stats.compare_correlations` and the report's
:func:`benchmark.report.sections.floors.verdict`, as in ``vs_best_patient.*``.
"""

from __future__ import annotations

import fnmatch

import numpy as np
import pandas as pd

from benchmark.report.formatting import num
from benchmark.report.sections.floors import verdict
from benchmark.report.studies.registry import StudyContext, StudyRunData

#: the verdict on the reference family's best row, as in vs_best (sections/best.py)
BEST = "best"


def _controls(run: StudyRunData) -> set[str]:
    cells = run.cells
    if "role" not in cells:
        return set()
    return set(cells.loc[cells["role"].isin(["floor", "ceiling"]), "label"])


def positive_control(ctx: StudyContext, table: pd.DataFrame) -> pd.DataFrame:
    """One row per image method (not a control) on the positive-control world: r, the
    oracle's r, whether r ≥ share × oracle r, Δr vs the reference family's best [CI],
    the verdict and ``passes`` (both met).  Empty when the study names no such world."""
    from benchmark.stats import compare_correlations

    params = ctx.study.parameters
    world, pattern = params.get("positive_control"), params.get("reference")
    share = float(params.get("oracle_share", 0.8))
    run = next((r for r in ctx.runs if r.run.key == world), None)
    if run is None or not pattern:
        return pd.DataFrame()
    rows = table[(table["scenario"] == world) & table["r"].notna()]
    rows = rows[rows["uses_images"].astype(bool) & ~rows["method"].isin(_controls(run))]
    family = rows[[fnmatch.fnmatchcase(m, pattern) for m in rows["method"]]]
    if family.empty or rows.empty:
        return pd.DataFrame()
    best = family.sort_values(["r", "method"], ascending=[False, True])["method"].iloc[0]
    pairs = [(m, best) for m in rows["method"] if m != best]
    comp = compare_correlations(run.predictions, pairs, "patient") if pairs else pd.DataFrame()
    comp = comp[comp["group"] == "all"].set_index("method_a") if len(comp) else comp
    out = []
    for rec in rows.sort_values("r", ascending=False, kind="stable").itertuples():
        lo = comp.at[rec.method, "diff_lo"] if rec.method in comp.index else np.nan
        hi = comp.at[rec.method, "diff_hi"] if rec.method in comp.index else np.nan
        said = BEST if rec.method == best else verdict(lo, hi)
        reaches = bool(rec.r >= share * rec.oracle_r)
        out.append(
            {
                "method": rec.method,
                "r": rec.r,
                "oracle_r": rec.oracle_r,
                "reaches_share": reaches,
                "reference": best,
                "diff_lo": lo,
                "diff_hi": hi,
                "vs_reference": said,
                "passes": reaches and said in (BEST, "above", "not distinguishable"),
            }
        )
    return pd.DataFrame(out)


def verdict_lines(ctx: StudyContext, table: pd.DataFrame) -> list[str]:
    """The Markdown the scenario summary prints after its matrix (its key findings)."""
    params = ctx.study.parameters
    lines: list[str] = []
    checks = positive_control(ctx, table)
    if len(checks):
        share = float(params.get("oracle_share", 0.8))
        oracle = checks["oracle_r"].iloc[0]
        best = checks["reference"].iloc[0]
        failing = checks.loc[~checks["passes"], "method"].tolist()
        lines += [
            "",
            f"Positive control (`{params['positive_control']}`): each image method (no "
            f"control) needs r ≥ {share:g} × the oracle's r ({num(share * oracle, 3)}) and "
            f"not 'below' the best `{params['reference']}` ({best}) by the vs_best verdict "
            "(Δr paired patient bootstrap 95 % CI; 'below' when it excludes 0 under 0). "
            + (
                f"Not met by {len(failing)} of {len(checks)}: {', '.join(failing)}."
                if failing
                else f"Met by all {len(checks)}."
            ),
            "",
            f"| method | r | ≥ {share:g} × oracle r | Δr vs {best} [95 % CI] | vs {best} | met |",
            "|---|---|---|---|---|---|",
        ]
        for rec in checks.itertuples():
            ci = (
                f"[{num(rec.diff_lo, 3)}, {num(rec.diff_hi, 3)}]"
                if np.isfinite(rec.diff_lo)
                else "—"
            )
            lines.append(
                f"| {rec.method} | {num(rec.r, 3)} | {'yes' if rec.reaches_share else 'no'} "
                f"| {ci} | {rec.vs_reference} | {'yes' if rec.passes else 'no'} |"
            )
    world = params.get("texture_free")
    free = table[(table["scenario"] == world) & table["r"].notna()] if world else table[:0]
    free = free[free["uses_images"].astype(bool)]  # floors too: a patch floor reads zoom
    if len(free):
        reads = free[free["ci_excludes_0"].astype(bool)]
        lines += [
            "",
            f"Texture-free world (`{world}`: only size and zoom carry GA): "
            + (
                f"{len(reads)} of {len(free)} image methods' 95 % CIs exclude 0, so they "
                "read zoom or size, not only texture: "
                + ", ".join(
                    f"{m} {num(r, 2)} [{num(lo, 2)}, {num(hi, 2)}]"
                    for m, r, lo, hi in zip(
                        reads["method"], reads["r"], reads["r_low"], reads["r_high"], strict=True
                    )
                )
                + "."
                if len(reads)
                else f"none of {len(free)} image methods' 95 % CIs excludes 0."
            ),
        ]
    return lines
