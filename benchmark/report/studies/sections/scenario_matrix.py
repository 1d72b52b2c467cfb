"""The scenario matrix: one method selection on every synthetic world (``summary.*``,
``scenarios.png``), r and MAE per method × scenario, each world's ceiling beside it."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from benchmark.report.studies.registry import (
    StudyContext,
    StudyFiles,
    register_study_figure,
    register_study_table,
)
from benchmark.report.studies.sections._scenario_verdicts import positive_control, verdict_lines

COLUMNS = [
    "scenario",
    "method",
    "status",
    "n",
    "r",
    "r_low",
    "r_high",
    "mae",
    "mae_sd",
    "oracle_r",
    "uses_images",
    "ci_excludes_0",
    "fit_seconds",
    "vs_reference",  # positive control only: the vs_best verdict against the reference's best
    "positive_control_met",  # r ≥ share × oracle r and not below the reference's best
]

CAPTION = (
    "Patient-level Pearson r with GA [Fisher-z 95 % CI] and MAE (weeks) on each "
    "synthetic scenario (docs/synthetic.md): `synthetic` every route at its literature "
    "magnitude; `synthetic-texture` only lung texture carries GA (positive control, "
    "deliberately strong); `synthetic-anatomy` only size and zoom; `synthetic-null` "
    "nothing. The oracle reads the simulated lung maturity: its r is the most the "
    "texture could give."
)


def add_truth_readers(study):
    """Every available method declaring ``reads_truth`` runs too: its r is each world's
    ceiling, which every other row is read against."""
    from benchmark.contract.registry import get_method_class, list_methods

    readers = [
        name
        for name in list_methods("all", available_only=True)
        if get_method_class(name).reads_truth
    ]
    methods = list(dict.fromkeys([*(study.methods or ("all",)), *readers]))
    return study.with_changes(
        methods=tuple(methods),
        parameters={"selection": list(study.methods or ("all",)), **study.parameters},
    ), []


def scenario_rows(scenario: str, predictions: pd.DataFrame, cells: pd.DataFrame) -> list[dict]:
    """One row per method label of one scenario's run (patient level), including methods
    that did not finish (status and NaNs: nothing dropped silently)."""
    from benchmark.contract.registry import declares
    from benchmark.report.summary import summary_frame

    frame = summary_frame(predictions, cells) if len(predictions) else None
    methods = dict(zip(cells["label"], cells["method"], strict=False)) if len(cells) else {}
    rows = {}
    if frame is not None:
        for rec in frame.to_dict("records"):
            r, lo, hi = rec["r"], rec["r_lo"], rec["r_hi"]
            rows[rec["method"]] = {
                "scenario": scenario,
                "method": rec["method"],
                "status": "done",
                "n": int(rec["n"]),
                "r": r,
                "r_low": lo,
                "r_high": hi,
                "mae": rec["mae"],
                "mae_sd": rec["mae_sd"],
                "fit_seconds": rec["fit_seconds"],
                "ci_excludes_0": bool(lo > 0 or hi < 0) if not math.isnan(r) else False,
            }
    if len(cells) and "status" in cells:
        for cell in cells[cells["status"] != "done"].drop_duplicates("label").itertuples():
            rows.setdefault(
                cell.label,
                {
                    "scenario": scenario,
                    "method": cell.label,
                    "status": f"{cell.status}: {cell.error}",
                    "n": 0,
                    "ci_excludes_0": False,
                },
            )
    ceilings = [
        row["r"]
        for label, row in rows.items()
        if "r" in row and declares(methods.get(label, label), "reads_truth")
    ]
    for label, row in rows.items():
        row["oracle_r"] = ceilings[0] if ceilings else math.nan
        row["uses_images"] = declares(methods.get(label, label), "uses_images")
    return list(rows.values())


def summary_table(ctx: StudyContext) -> pd.DataFrame:
    if "scenario_summary" not in ctx.cache:
        rows = []
        for run in ctx.runs:
            rows += scenario_rows(run.run.key, run.predictions, run.cells)
        table = pd.DataFrame(rows).reindex(columns=COLUMNS)
        checks = positive_control(ctx, table)
        if len(checks):
            on = table["scenario"] == ctx.study.parameters["positive_control"]
            said = dict(zip(checks["method"], checks["vs_reference"], strict=True))
            met = dict(zip(checks["method"], checks["passes"], strict=True))
            table["vs_reference"] = table["vs_reference"].astype(object)
            table["positive_control_met"] = table["positive_control_met"].astype(object)
            table.loc[on, "vs_reference"] = table.loc[on, "method"].map(said)
            table.loc[on, "positive_control_met"] = table.loc[on, "method"].map(met)
        ctx.cache["scenario_summary"] = table
    return ctx.cache["scenario_summary"]


def _cell(by: pd.DataFrame, s: str) -> str:
    if s not in by.index:
        return "—"
    if by.at[s, "status"] != "done" or pd.isna(by.at[s, "r"]):
        return (
            f"MAE {by.at[s, 'mae']:.2f}"
            if by.at[s, "status"] == "done"
            else str(by.at[s, "status"]).split(":")[0]
        )
    return (
        f"{by.at[s, 'r']:.2f} [{by.at[s, 'r_low']:.2f}, {by.at[s, 'r_high']:.2f}] · "
        f"{by.at[s, 'mae']:.2f}"
    )


def _null_lines(ctx: StudyContext, table: pd.DataFrame) -> list[str]:
    """On each world that carries no GA (tag ``null``), how many image methods' CIs
    exclude 0 against what chance alone gives."""
    from benchmark.data.sources import dataset_tags

    lines = []
    for run in ctx.runs:
        if "null" not in dataset_tags(run.run.dataset):
            continue
        null = table[
            (table["scenario"] == run.run.key)
            & table["r"].notna()
            & table["uses_images"].astype(bool)
        ]
        if not len(null):
            continue
        excl = null[null["ci_excludes_0"].astype(bool)]["method"].tolist()
        lines += [
            "",
            f"`{run.run.key}`: {len(excl)} of {len(null)} image methods' 95 % CIs "
            f"exclude 0 (chance alone: about {0.05 * len(null):.1f})"
            + (f": {', '.join(excl)}" if excl else "")
            + ". Tabular methods "
            "(biometry) read GA-carrying columns by design and are not counted; one "
            "null cohort is not a leak test (`null-check` pools cohorts).",
        ]
    return lines


@register_study_table(
    "scenario_matrix",
    title="Scenarios: which route from GA to the pixels each method reads",
    caption=CAPTION,
    reading="Cells: r [95 % CI] · MAE.",
    unit="patient",
    order=10,
    uses_record=True,
    prepare=add_truth_readers,
)
def scenario_matrix(ctx: StudyContext) -> StudyFiles:
    out = ctx.output
    study = ctx.study
    table = summary_table(ctx)
    scenarios = list(dict.fromkeys(table["scenario"]))
    selection = study.parameters.get("selection", list(study.methods or ("all",)))
    seconds = float(ctx.record.get("seconds", math.nan))
    lines = [
        f"# {out.title}",
        "",
        out.caption,
        "",
        f"Command: `python -m benchmark scenarios --methods {' '.join(selection)} "
        f"--split {study.split}` (this invocation: {seconds / 60:.1f} min; cells finished "
        f"by earlier runs were reused, not recomputed). {out.reading}",
        "",
        "| method | " + " | ".join(scenarios) + " |",
        "|---|" + "---|" * len(scenarios),
    ]
    for method, rows in table.groupby("method", sort=False):
        by = rows.set_index("scenario")
        lines.append(f"| {method} | " + " | ".join(_cell(by, s) for s in scenarios) + " |")
    lines += verdict_lines(ctx, table)
    lines += _null_lines(ctx, table)
    text = "\n".join(lines) + "\n"
    csv = table.to_csv(index=False, float_format="%.4f")
    return StudyFiles({"summary.csv": csv, "summary.md": text}, message=text)


@register_study_figure(
    "scenario_heatmap",
    title="patient-level r with GA, by scenario",
    caption="Pearson r of every method (rows) in every scenario (columns).",
    reading="Red: r > 0, blue: r < 0, white: none; read each row against the oracle's.",
    unit="patient",
    order=10,
    prepare=add_truth_readers,
)
def scenario_heatmap(ctx: StudyContext, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    # matplotlib's own defaults, whatever an earlier figure in this process set globally
    # (the report's figures update rcParams): the same bytes in any process
    with plt.style.context("default"):
        table = summary_table(ctx)
        scenarios = list(dict.fromkeys(table["scenario"]))
        methods = list(dict.fromkeys(table["method"]))
        grid = table.pivot_table(index="method", columns="scenario", values="r", aggfunc="first")
        grid = grid.reindex(index=methods, columns=scenarios)
        fig, ax = plt.subplots(figsize=(1.6 * len(scenarios) + 2.5, 0.32 * len(methods) + 1.4))
        image = ax.imshow(grid.to_numpy(float), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
        for (i, j), value in np.ndenumerate(grid.to_numpy(float)):
            ax.text(
                j,
                i,
                "—" if np.isnan(value) else f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if abs(value) > 0.6 else "black",
            )
        ax.set_xticks(range(len(scenarios)), scenarios, rotation=20, ha="right")
        ax.set_yticks(range(len(methods)), methods)
        ax.set_title(ctx.output.title)
        fig.colorbar(image, ax=ax, fraction=0.04, label="Pearson r")
        fig.tight_layout()
        fig.savefig(out / "scenarios.png", dpi=130)
        plt.close(fig)
    return ["scenarios.png"]
