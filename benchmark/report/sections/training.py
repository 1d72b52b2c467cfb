"""Training: the curves of every trained method and how each of its stages ended.

Reads two generic cell outputs: ``curves.csv`` (a method's ``training_curves_``) and the
``stopped_by`` / ``stage_steps`` columns of ``cells.csv`` (its ``training_stages_``:
``"stage1:cap;stage2:criterion"``).  A stage that ended at a cap (its step budget, an
epoch or time cap) rather than by its stopping rule has not shown that it converged: its
method is marked **not converged** in the training-curves figure, in the training-stops
table and in the key findings (:func:`not_converged_finding`) of every run that has one.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from benchmark.report.data import RunData
from benchmark.report.formatting import Table
from benchmark.report.registry import ReportContext, register_figure, register_table

NOT_CONVERGED = "not converged"


def stage_stops(data: RunData) -> pd.DataFrame:
    """One row per finished cell × training stage: label, cell_id, stage, stopped_by,
    steps (empty for a run whose cells.csv predates the stopping record)."""
    columns = ["label", "cell_id", "stage", "stopped_by", "steps"]
    cells = data.cells
    if cells.empty or "stopped_by" not in cells or "label" not in cells:
        return pd.DataFrame(columns=columns)
    done = cells[cells.get("status", "done") == "done"] if "status" in cells else cells
    rows = []
    for record in done.to_dict("records"):
        stops = record.get("stopped_by")
        if not isinstance(stops, str) or not stops:
            continue
        steps = dict(
            part.split(":", 1)
            for part in str(record.get("stage_steps") or "").split(";")
            if ":" in part
        )
        for part in stops.split(";"):
            stage, _, how = part.partition(":")
            rows.append(
                {
                    "label": str(record["label"]),
                    "cell_id": record.get("cell_id", ""),
                    "stage": stage,
                    "stopped_by": how,
                    "steps": int(steps[stage]) if stage in steps else None,
                }
            )
    return pd.DataFrame(rows, columns=columns)


def not_converged(data: RunData) -> dict[str, list[str]]:
    """label → the stages that ended at their cap in at least one of its cells."""
    stops = stage_stops(data)
    capped = stops[stops["stopped_by"] == "cap"]
    return {
        label: sorted(group["stage"].unique())
        for label, group in capped.groupby("label", sort=True)
    }


def not_converged_finding(data: RunData) -> str | None:
    """The key-findings line naming every method with a stage that hit its cap."""
    flagged = not_converged(data)
    if not flagged:
        return None
    names = "; ".join(
        f"<b>{escape(label)}</b> ({', '.join(stages)})" for label, stages in flagged.items()
    )
    return (
        f"<b>{NOT_CONVERGED.capitalize()}</b>: a training stage ended at its step cap, "
        f"not by its stopping rule, so these methods may be under-trained and their "
        f"numbers are a lower bound on what they can learn: {names}."
    )


@register_table("training_stops", order=85)
def training_stops_table(ctx: ReportContext) -> Table | None:
    stops = stage_stops(ctx.data)
    if stops.empty:
        return None
    rows = []
    for (label, stage), group in stops.groupby(["label", "stage"], sort=True):
        capped = int((group["stopped_by"] == "cap").sum())
        rows.append(
            {
                "method": label,
                "stage": stage,
                "cells": len(group),
                "stopped by criterion": len(group) - capped,
                "at cap": capped,
                "steps (mean)": round(float(group["steps"].mean()), 1)
                if group["steps"].notna().any()
                else None,
                "converged": "yes" if not capped else NOT_CONVERGED,
            }
        )
    frame = pd.DataFrame(rows)
    return Table(
        "training_stops",
        "How each training stage ended",
        "Per method and training stage: cells stopped by the stopping rule on the "
        "validation figure (criterion) or at the step/time cap; a stage at its cap "
        "has not shown that it converged.",
        frame,
        frame.astype(object).fillna("—"),
    )


def training_curves(data: RunData, out: Path) -> str | None:
    from benchmark.report.figures import _colors, _plt, _save

    curves = data.curves
    needed = {"stage", "epoch", "train_loss", "label"}
    if curves.empty or not needed <= set(curves.columns):
        return None
    plt = _plt()
    flagged = not_converged(data)
    stages = sorted(curves["stage"].astype(str).unique())
    labels = sorted(curves["label"].unique())
    colors = _colors(sorted(set(data.labels) | set(labels)))  # same colour as other figures
    fig, axes = plt.subplots(1, len(stages), figsize=(3.4 * len(stages), 2.6), squeeze=False)
    for ax, stage in zip(axes.flat, stages):
        sub = curves[curves["stage"].astype(str) == stage]
        for label in labels:
            # first cell of each method only: one line per method, as in paper Fig 3
            cell = sub[sub["label"] == label]
            if cell.empty:
                continue
            cell = cell[cell["cell_id"] == cell["cell_id"].iloc[0]] if "cell_id" in cell else cell
            name = label + (
                f" ({NOT_CONVERGED}: {', '.join(flagged[label])})" if label in flagged else ""
            )
            ax.plot(
                cell["epoch"],
                cell["train_loss"],
                color=colors[label],
                lw=1.2,
                label=f"{name} train",
            )
            if "val_loss" in cell and cell["val_loss"].notna().any():
                ax.plot(
                    cell["epoch"],
                    cell["val_loss"],
                    color=colors[label],
                    lw=1.0,
                    ls="--",
                    label=f"{name} validation",
                )
            if stage in flagged.get(label, []):  # the curve was cut, not flat: mark its end
                last = cell.iloc[-1]
                ax.plot(
                    [last["epoch"]], [last["train_loss"]], marker="x", ms=6, color=colors[label]
                )
                ax.annotate(
                    NOT_CONVERGED,
                    (last["epoch"], last["train_loss"]),
                    fontsize=6,
                    color=colors[label],
                    xytext=(-4, 4),
                    textcoords="offset points",
                    ha="right",
                )
        ax.set_title(stage if stage.lower().startswith("stage") else f"stage {stage}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.xaxis.get_major_locator().set_params(integer=True)
    handles, names = [], []
    for ax in axes.flat:  # one legend below the panels, no line hidden under it
        for handle, name in zip(*ax.get_legend_handles_labels()):
            if name not in names:
                handles.append(handle)
                names.append(name)
    fig.tight_layout()
    fig.legend(
        handles, names, loc="upper center", ncol=2, frameon=False, bbox_to_anchor=(0.5, 0.0)
    )  # below the axes; bbox="tight" keeps it in
    return _save(fig, out, "fig_training_curves")


@register_figure("training_curves", order=60)
def fig_training_curves(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    name = training_curves(ctx.data, out)
    caption = (
        "Training loss of both stages (paper Fig 3): stage 1 lung vs non-lung, "
        "stage 2 GA regression; first split of each method."
    )
    if not_converged(ctx.data):
        caption += (
            f" {NOT_CONVERGED.capitalize()} (×): the stage ended at its step cap, not "
            "by its stopping rule."
        )
    return (name, caption) if name else None
