from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from benchmark.cli.commands.run import add_grid_arguments, config_from_args

HELP = ("Run a method selection on every synthetic scenario (default world, texture-only "
        "positive control, anatomy-only, null) and tabulate r and MAE per scenario.")

#: The registered synthetic scenarios (docs/synthetic.md), in the order they are read:
#: the default world, then what each route alone gives, then the negative control.
SCENARIOS = ("synthetic", "synthetic-texture", "synthetic-anatomy", "synthetic-null")
COLUMNS = ["scenario", "method", "status", "n", "r", "r_low", "r_high", "mae", "mae_sd",
           "oracle_r", "uses_images", "ci_excludes_0", "fit_seconds"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_grid_arguments(parser, methods_default=["all"], methods_help=(
        "names or globs (default: all); the methods that read the simulated truth (the "
        "oracle) are always added: their r is each scenario's ceiling"))
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), metavar="NAME",
                        help=f"dataset sources to run (default: {' '.join(SCENARIOS)})")
    parser.add_argument("--dataset-seed", type=int, help="generator seed of every scenario")
    parser.add_argument("--out", default="results/scenarios",
                        help="folder for summary.csv, summary.md and scenarios.png "
                        "(default: results/scenarios)")


def _truth_readers() -> list[str]:
    """Available methods that declare ``reads_truth`` (the ceiling of each scenario)."""
    from benchmark.contract.registry import get_method_class, list_methods

    return [name for name in list_methods("all", available_only=True)
            if get_method_class(name).reads_truth]


def scenario_rows(scenario: str, predictions, cells) -> list[dict]:
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
                "scenario": scenario, "method": rec["method"], "status": "done",
                "n": int(rec["n"]), "r": r, "r_low": lo, "r_high": hi, "mae": rec["mae"],
                "mae_sd": rec["mae_sd"], "fit_seconds": rec["fit_seconds"],
                "ci_excludes_0": bool(lo > 0 or hi < 0) if not math.isnan(r) else False}
    if len(cells) and "status" in cells:
        for cell in cells[cells["status"] != "done"].drop_duplicates("label").itertuples():
            rows.setdefault(cell.label, {"scenario": scenario, "method": cell.label,
                                         "status": f"{cell.status}: {cell.error}",
                                         "n": 0, "ci_excludes_0": False})
    ceilings = [row["r"] for label, row in rows.items() if "r" in row
                and declares(methods.get(label, label), "reads_truth")]
    for label, row in rows.items():
        row["oracle_r"] = ceilings[0] if ceilings else math.nan
        row["uses_images"] = declares(methods.get(label, label), "uses_images")
    return list(rows.values())


def markdown(table, args: argparse.Namespace, seconds: float) -> str:
    import pandas as pd

    scenarios = list(dict.fromkeys(table["scenario"]))
    lines = [
        "# Scenarios: which route from GA to the pixels each method reads",
        "",
        "Patient-level Pearson r with GA [Fisher-z 95 % CI] and MAE (weeks) on each "
        "synthetic scenario (docs/synthetic.md): `synthetic` every route at its literature "
        "magnitude; `synthetic-texture` only lung texture carries GA (positive control, "
        "deliberately strong); `synthetic-anatomy` only size and zoom; `synthetic-null` "
        "nothing. The oracle reads the simulated lung maturity: its r is the most the "
        "texture could give.",
        "",
        f"Command: `python -m benchmark scenarios --methods {' '.join(args.selection)} "
        f"--split {args.split}` (this invocation: {seconds / 60:.1f} min; cells finished "
        "by earlier runs were reused, not recomputed). Cells: r [95 % CI] · MAE.",
        "",
        "| method | " + " | ".join(scenarios) + " |",
        "|---|" + "---|" * len(scenarios),
    ]
    for method, rows in table.groupby("method", sort=False):
        cells = []
        by = rows.set_index("scenario")
        for s in scenarios:
            if s not in by.index:
                cells.append("—")
            elif by.at[s, "status"] != "done" or pd.isna(by.at[s, "r"]):
                cells.append(f"MAE {by.at[s, 'mae']:.2f}" if by.at[s, "status"] == "done"
                             else str(by.at[s, "status"]).split(":")[0])
            else:
                cells.append(f"{by.at[s, 'r']:.2f} [{by.at[s, 'r_low']:.2f}, "
                             f"{by.at[s, 'r_high']:.2f}] · {by.at[s, 'mae']:.2f}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    null = table[(table["scenario"] == "synthetic-null") & table["r"].notna()
                 & table["uses_images"].astype(bool)]
    if len(null):
        excl = null[null["ci_excludes_0"].astype(bool)]["method"].tolist()
        lines += ["", f"`synthetic-null`: {len(excl)} of {len(null)} image methods' 95 % CIs "
                  f"exclude 0 (chance alone: about {0.05 * len(null):.1f})"
                  + (f": {', '.join(excl)}" if excl else "") + ". Tabular methods "
                  "(biometry) read GA-carrying columns by design and are not counted; one "
                  "null cohort is not a leak test (`null-check` pools cohorts)."]
    return "\n".join(lines) + "\n"


def figure(table, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    scenarios = list(dict.fromkeys(table["scenario"]))
    methods = list(dict.fromkeys(table["method"]))
    grid = table.pivot_table(index="method", columns="scenario", values="r", aggfunc="first")
    grid = grid.reindex(index=methods, columns=scenarios)
    fig, ax = plt.subplots(figsize=(1.6 * len(scenarios) + 2.5, 0.32 * len(methods) + 1.4))
    image = ax.imshow(grid.to_numpy(float), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(grid.to_numpy(float)):
        ax.text(j, i, "—" if np.isnan(value) else f"{value:.2f}", ha="center", va="center",
                fontsize=8, color="white" if abs(value) > 0.6 else "black")
    ax.set_xticks(range(len(scenarios)), scenarios, rotation=20, ha="right")
    ax.set_yticks(range(len(methods)), methods)
    ax.set_title("patient-level r with GA, by scenario")
    fig.colorbar(image, ax=ax, fraction=0.04, label="Pearson r")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(args: argparse.Namespace) -> int:
    import pandas as pd

    from benchmark.execution import runner

    args.selection = list(args.methods)  # as typed, for the summary's command line
    args.methods = list(dict.fromkeys([*args.methods, *_truth_readers()]))
    rows, failed, started = [], 0, time.perf_counter()
    for k, scenario in enumerate(args.scenarios, 1):
        print(f"\n[{k}/{len(args.scenarios)}] scenario {scenario}", file=sys.stderr)
        args.dataset = scenario
        result = runner.run(config_from_args(args))
        failed += result.n_failed
        predictions = pd.read_csv(result.run_dir / "predictions.csv") \
            if (result.run_dir / "predictions.csv").stat().st_size > 1 else pd.DataFrame()
        rows += scenario_rows(scenario, predictions, result.cells)
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "summary.csv", index=False, float_format="%.4f")
    text = markdown(table, args, time.perf_counter() - started)
    (out / "summary.md").write_text(text, encoding="utf-8")
    figure(table, out / "scenarios.png")
    print(text)
    print(f"written: {out}/summary.csv, summary.md, scenarios.png")
    return 1 if failed else 0
