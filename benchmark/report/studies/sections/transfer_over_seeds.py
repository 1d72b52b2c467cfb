"""Transfer vs its declared control over fit seeds, on every world of the study."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.report.formatting import num
from benchmark.report.studies.registry import StudyContext, StudyFiles, register_study_table
from benchmark.report.studies.sections._common import summary_by_seed, table_files


def _pairs(cells: pd.DataFrame) -> list[tuple[str, str]]:
    """(method, its control) as the control cells declare them (``control_of``)."""
    if "control_of" not in cells:
        return []
    declared = cells.dropna(subset=["control_of"]).drop_duplicates("label")
    return [
        (str(row.control_of), str(row.label))
        for row in declared.itertuples()
        if str(row.control_of) in set(cells["label"])
    ]


@register_study_table(
    "transfer_over_seeds",
    title="Transfer vs its control over fit seeds",
    caption="Patient-level Pearson r with GA of each method and of its declared control "
    "(control_of) on the same test patients, one fit per seed; Δr = r(method) − r(control) "
    "per seed, then its mean ± SD over the seeds. Split and cohort are the same for every "
    "seed, so the spread is fit-to-fit variation only.",
    reading="A method beats its control on a world only if Δr > 0 in every seed and its "
    "mean is large against its SD; the paired bootstrap CI of the seed-averaged estimates "
    "is in that world's tables/transfer_patient.md.",
    unit="patient",
    order=30,
)
def transfer_over_seeds(ctx: StudyContext) -> StudyFiles | None:
    rows = []
    for run in ctx.runs:
        per_seed = summary_by_seed(run.predictions, run.cells)
        if not len(per_seed):
            continue
        r = per_seed.pivot_table(index="seed", columns="method", values="r", aggfunc="first")
        for method, control in _pairs(run.cells):
            if method not in r or control not in r:
                continue
            delta = (r[method] - r[control]).dropna()
            rows.append(
                {
                    "world": run.run.key,
                    "method": method,
                    "control": control,
                    "seeds": " ".join(str(s) for s in delta.index),
                    "r_method_mean": r[method].mean(),
                    "r_method_sd": r[method].std(ddof=1),
                    "r_control_mean": r[control].mean(),
                    "r_control_sd": r[control].std(ddof=1),
                    "delta_r": " ".join(f"{d:+.3f}" for d in delta),
                    "delta_r_mean": delta.mean(),
                    "delta_r_sd": delta.std(ddof=1),
                    "n_positive": int((delta > 0).sum()),
                    "n_seeds": len(delta),
                }
            )
    if not rows:
        return None
    data = pd.DataFrame(rows)
    display = pd.DataFrame(
        {
            "world": data["world"],
            "method": data["method"],
            "its control": data["control"],
            "r method (mean ± SD)": [
                f"{num(m, 3)} ± {num(s, 3)}"
                for m, s in zip(data["r_method_mean"], data["r_method_sd"], strict=True)
            ],
            "r control (mean ± SD)": [
                f"{num(m, 3)} ± {num(s, 3)}"
                for m, s in zip(data["r_control_mean"], data["r_control_sd"], strict=True)
            ],
            "Δr per seed": data["delta_r"],
            "Δr (mean ± SD)": [
                f"{m:+.3f} ± {num(s, 3)}" if np.isfinite(m) else "—"
                for m, s in zip(data["delta_r_mean"], data["delta_r_sd"], strict=True)
            ],
            "Δr > 0 in": [
                f"{p} of {k}" for p, k in zip(data["n_positive"], data["n_seeds"], strict=True)
            ],
        }
    )
    return table_files(ctx, data, display)
