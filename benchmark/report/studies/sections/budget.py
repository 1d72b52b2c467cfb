"""Each method at every value of a budget parameter (e.g. the nets' optimiser steps),
beside the study's floors, on every world of the study."""

from __future__ import annotations

import json

import pandas as pd

from benchmark.report.formatting import num
from benchmark.report.studies.registry import StudyContext, StudyFiles, register_study_table
from benchmark.report.studies.sections._common import params_of, table_files

#: the budget's value when a cell leaves the parameter to the method's own default
DEFAULT = "default"


@register_study_table(
    "budget",
    title="Accuracy against the training budget",
    caption="Patient-level Pearson r with GA [Fisher-z 95 % CI], MAE (weeks) and fit "
    "seconds of each method at each value of the study's budget parameter "
    "(outputs.parameters.budget; 'default' = the method's own profile value), its other "
    "settings together (outputs.parameters.budget_companions, set with the budget, are "
    "not a setting), after the world's floors (role floor, reading images).",
    reading="More budget helps a method only where r rises beyond its CI from one budget "
    "to the next; a method not above its floor learned no more than the floor's statistics.",
    unit="patient",
    order=40,
)
def budget(ctx: StudyContext) -> StudyFiles | None:
    from benchmark.contract.registry import declares
    from benchmark.report.summary import summary_frame

    parameter = ctx.study.parameters.get("budget")
    grouping_ignores = set(ctx.study.parameters.get("budget_companions", []))
    if not parameter:
        raise ValueError(
            f"{ctx.study.source or ctx.study.name}: outputs.parameters.budget "
            "names no parameter (the budget table needs one, e.g. max_steps)"
        )
    rows = []
    for run in ctx.runs:
        if not len(run.predictions):
            continue
        summary = summary_frame(run.predictions, run.cells).set_index("method")
        cells = run.cells.drop_duplicates("label")
        for cell in cells.itertuples():
            if cell.label not in summary.index:
                continue
            params = params_of(cell.params)
            floor = getattr(cell, "role", None) == "floor" and declares(cell.method, "uses_images")
            if parameter not in params and not floor:
                continue
            value = params.get(parameter)
            # the rows of one method setting sit together, its budgets in increasing order
            others = {
                k: v
                for k, v in sorted(params.items())
                if k != parameter and k not in grouping_ignores and v is not None
            }
            row = summary.loc[cell.label]
            rows.append(
                {
                    "world": run.run.key,
                    "method": cell.method,
                    "floor": floor,
                    "setting": json.dumps(others, sort_keys=True),
                    "budget": DEFAULT if value is None else str(value),
                    "label": cell.label,
                    "n": int(row["n"]),
                    "r": row["r"],
                    "r_lo": row["r_lo"],
                    "r_hi": row["r_hi"],
                    "mae": row["mae"],
                    "fit_seconds": row["fit_seconds"],
                }
            )
    if not rows:
        return None
    data = pd.DataFrame(rows)
    data["budget_order"] = [-1.0 if b == DEFAULT else float(b) for b in data["budget"]]
    data = data.sort_values(
        ["world", "floor", "method", "setting", "budget_order"],
        ascending=[True, False, True, True, True],
        kind="stable",
        ignore_index=True,
    ).drop(columns="budget_order")
    display = pd.DataFrame(
        {
            "world": data["world"],
            "method": data["label"],
            parameter: data["budget"],
            "n": data["n"],
            "r [95 % CI]": [
                f"{num(r, 3)} [{num(lo, 3)}, {num(hi, 3)}]"
                for r, lo, hi in zip(data["r"], data["r_lo"], data["r_hi"], strict=True)
            ],
            "MAE (wk)": [num(m) for m in data["mae"]],
            "fit s": [num(s, 1) for s in data["fit_seconds"]],
        }
    )
    return table_files(ctx, data, display)
