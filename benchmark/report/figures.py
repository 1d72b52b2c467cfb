"""Publication figures (PNG + SVG, unique names) drawn from stored predictions only."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchmark import stats
from benchmark.report.data import RunData
from benchmark.report.registry import ReportContext, register_figure

STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "fetal-lung-bench",
    "figure.dpi": 100,
    "savefig.bbox": "tight",
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # files only; never open a window
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)
    return plt


def _colors(labels: list[str]) -> dict[str, tuple]:
    plt = _plt()
    cmap = plt.get_cmap("tab10" if len(labels) <= 10 else "tab20")
    return {label: cmap(i % cmap.N) for i, label in enumerate(labels)}


def _save(fig, out: Path, name: str) -> str:
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / f"{name}.png", dpi=200, metadata={"Software": None})
    fig.savefig(out / f"{name}.svg", metadata={"Date": None, "Creator": None})
    _plt().close(fig)
    return name


def _grid(n: int, width: float = 2.6, height: float = 2.5):
    plt = _plt()
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def predicted_vs_true(data: RunData, out: Path, level: str) -> str:
    pooled = stats.pooled_patient_predictions(data.predictions, level)
    labels = data.labels
    colors = _colors(labels)
    # axes span the true GA range: a wild estimate is drawn as a triangle at the edge
    lo = math.floor(pooled["ga_true"].min() - 2)
    hi = math.ceil(pooled["ga_true"].max() + 2)
    fig, axes = _grid(len(labels))
    for ax, label in zip(axes, labels):
        sub = pooled[pooled["label"] == label]
        ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8, ls="--", label="identity")
        inside = sub["ga_pred"].between(lo, hi)
        ax.scatter(
            sub["ga_true"][inside],
            sub["ga_pred"][inside],
            s=9,
            alpha=0.7,
            color=colors[label],
            lw=0,
        )
        for side, marker, edge in ((sub["ga_pred"] > hi, "^", hi), (sub["ga_pred"] < lo, "v", lo)):
            if side.any():
                ax.scatter(
                    sub["ga_true"][side],
                    np.full(side.sum(), edge),
                    marker=marker,
                    s=16,
                    color=colors[label],
                    clip_on=False,
                    label=f"{int(side.sum())} beyond axis",
                )
        if (~inside).any():
            ax.legend(frameon=False, loc="upper left", handletextpad=0.2)
        r = stats.pearson_fisher_ci(sub["ga_true"], sub["ga_pred"]).r
        mae = (sub["ga_pred"] - sub["ga_true"]).abs().mean()
        ax.set_title(
            f"{label}\nMAE {mae:.2f} wk, r {r:.2f}"
            if np.isfinite(r)
            else f"{label}\nMAE {mae:.2f} wk"
        )
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set_xlabel("true GA (wk)")
        ax.set_ylabel("estimated GA (wk)")
    fig.tight_layout()
    return _save(fig, out, f"fig_pred_vs_true_{level}")


def bland_altman_fig(data: RunData, out: Path, level: str) -> str:
    pooled = stats.pooled_patient_predictions(data.predictions, level)
    labels = data.labels
    colors = _colors(labels)
    fig, axes = _grid(len(labels), width=2.8)
    for ax, label in zip(axes, labels):
        sub = pooled[pooled["label"] == label]
        mean = (sub["ga_true"] + sub["ga_pred"]) / 2
        diff = sub["ga_pred"] - sub["ga_true"]
        ba = stats.bland_altman(sub["ga_true"], sub["ga_pred"])
        ax.scatter(mean, diff, s=9, alpha=0.7, color=colors[label], lw=0)
        ax.axhline(0, color="0.7", lw=0.6)
        ax.axhline(ba.bias, color="k", lw=0.9, label=f"bias {ba.bias:+.2f}")
        for lim in (ba.lower, ba.upper):
            ax.axhline(lim, color="k", lw=0.8, ls="--")
        ax.set_title(f"{label}\nlimits {ba.lower:+.2f} to {ba.upper:+.2f} wk")
        ax.set_xlabel("mean of true and estimate (wk)")
        ax.set_ylabel("estimated − true (wk)")
    fig.tight_layout()
    return _save(fig, out, f"fig_bland_altman_{level}")


def error_boxes(data: RunData, out: Path, level: str) -> str:
    """Absolute error per method (rows, best first) × GA group (colours), horizontal so
    that 17 methods × 3 groups stay legible at 1280 px (a 24-inch-wide strip did not)."""
    plt = _plt()
    pooled = stats.pooled_patient_predictions(data.predictions, level)
    pooled["abs_err"] = (pooled["ga_pred"] - pooled["ga_true"]).abs()
    groups = data.group_labels
    order = pooled.groupby("label")["abs_err"].mean().sort_values(kind="stable")
    labels = [m for m in order.index if m in set(data.labels)]
    colors = _colors(groups)
    height = 0.8 / max(len(groups), 1)
    fig, ax = plt.subplots(figsize=(7.0, 1.0 + 0.34 * len(labels) * max(1, len(groups)) / 3))
    for j, group in enumerate(groups):
        series = [
            pooled[(pooled["label"] == m) & (pooled["group"] == group)]["abs_err"] for m in labels
        ]
        positions = np.arange(len(labels)) + (j - (len(groups) - 1) / 2) * height
        nonempty = [(p, s.to_numpy()) for p, s in zip(positions, series) if len(s)]
        if not nonempty:
            continue
        box = ax.boxplot(
            [s for _, s in nonempty],
            positions=[p for p, _ in nonempty],
            widths=height * 0.85,
            patch_artist=True,
            showfliers=True,
            orientation="horizontal",
            flierprops={"markersize": 2},
        )
        for patch in box["boxes"]:
            patch.set_facecolor(colors[group])
            patch.set_alpha(0.75)
        for median in box["medians"]:
            median.set_color("k")
        ax.plot([], [], color=colors[group], lw=6, alpha=0.75, label=f"{group} wk")
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.invert_yaxis()  # best method on top
    ax.set_xlabel("absolute error (wk)")
    ax.set_xlim(left=0)
    ax.grid(axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    ax.legend(
        frameon=False,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        title="GA group",
        ncol=len(groups),
    )
    fig.tight_layout()
    return _save(fig, out, f"fig_error_boxes_{level}")


def overlay_title(label: str, image_id: str, prob: np.ndarray) -> str:
    """The overlay panel's title; an empty map (no pixel >= 0.5) is named, not just blank."""
    empty = "" if (prob >= 0.5).any() else "  (no lung found)"
    return f"{label}\n{image_id}{empty}"


def segmentation_overlays(data: RunData, out: Path, per_method: int = 3) -> str | None:
    """Test image with the traced lung (outline) and the method's lung map (paper Fig 1)."""
    if not data.lung_maps:
        return None
    root = data.dataset_root
    if root is None or not root.is_dir():
        data.skips.append(
            f"segmentation overlays: the cohort folder {root} is not available, "
            "so there is no background image to draw the lung maps on"
        )
        return None
    from PIL import Image

    from benchmark.data.cohort import Cohort

    cohort = Cohort.load(root)
    plt = _plt()
    labels = sorted(data.lung_maps)
    fig, axes = plt.subplots(
        len(labels), per_method, figsize=(2.4 * per_method, 2.5 * len(labels)), squeeze=False
    )
    for row, label in zip(axes, labels):
        for ax, path in zip(row, [*data.lung_maps[label][:per_method], *[None] * per_method]):
            ax.axis("off")
            if path is None or path.stem not in cohort.images.index:
                continue
            record = cohort.load_image(path.stem)
            prob = np.asarray(Image.open(path), dtype=float) / 255.0
            ax.imshow(record.pixels, cmap="gray", vmin=0, vmax=255)
            if prob.shape == record.pixels.shape:
                ax.imshow(np.ma.masked_less(prob, 0.5), cmap="autumn", alpha=0.4, vmin=0, vmax=1)
            if record.mask is not None:
                ax.contour(record.mask, levels=[0.5], colors=["#00e5ff"], linewidths=0.8)
            ax.set_title(overlay_title(label, path.stem, prob), fontsize=7)
    fig.suptitle("cyan outline: hand-traced lung; orange: method's lung map (p ≥ 0.5)", fontsize=8)
    fig.tight_layout()
    return _save(fig, out, "fig_segmentation_overlays")


def cost_vs_accuracy(data: RunData, out: Path) -> str | None:
    cells = data.cells
    if cells.empty or "status" not in cells or "fit_seconds" not in cells:
        return None
    done = cells[cells["status"] == "done"]
    if done.empty:
        return None
    plt = _plt()
    fit = done.groupby("label")["fit_seconds"].mean()
    pooled = data.pooled_metrics("patient")
    mae = pooled[pooled["group"] == "all"].set_index("method")["mae"]
    labels = [m for m in data.labels if m in fit.index]
    colors = _colors(data.labels)
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    for label in labels:
        x = max(float(fit[label]), 1e-3)  # log axis: instant methods shown at 1 ms
        ax.scatter(x, mae[label], color=colors[label], s=30, zorder=3)
        ax.annotate(label, (x, mae[label]), textcoords="offset points", xytext=(4, 3), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("fit time per cell (s, log scale)")
    ax.set_ylabel("MAE, patient level (wk)")
    fig.tight_layout()
    return _save(fig, out, "fig_cost_vs_accuracy")


def _level_text(level: str) -> str:
    return "patient level" if level == "patient" else "image level"


@register_figure("pred_vs_true", order=10)
def fig_pred_vs_true(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    if ctx.data.predictions.empty:
        return None
    return (
        predicted_vs_true(ctx.data, out, ctx.level),
        f"Estimated vs true GA per method ({_level_text(ctx.level)}); dashed line = identity.",
    )


@register_figure("bland_altman", order=20)
def fig_bland_altman(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    if ctx.data.predictions.empty:
        return None
    return (
        bland_altman_fig(ctx.data, out, ctx.level),
        f"Bland–Altman plots ({_level_text(ctx.level)}): difference vs mean; solid = "
        "bias, dashed = 95 % limits of agreement.",
    )


@register_figure("error_boxes", order=30)
def fig_error_boxes(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    if ctx.data.predictions.empty:
        return None
    return (
        error_boxes(ctx.data, out, ctx.level),
        f"Absolute error per method (best first) and GA group ({_level_text(ctx.level)}).",
    )


@register_figure("segmentation_overlays", order=70)
def fig_segmentation_overlays(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    name = segmentation_overlays(ctx.data, out)
    return (name, "Lung maps on test images (paper Fig 1 style).") if name else None


@register_figure("cost_vs_accuracy", order=80)
def fig_cost_vs_accuracy(ctx: ReportContext, out: Path) -> tuple[str, str] | None:
    if ctx.data.predictions.empty:
        return None
    name = cost_vs_accuracy(ctx.data, out)
    return (
        (name, "Cost vs accuracy: mean fit seconds per cell vs patient-level MAE.")
        if name
        else None
    )
