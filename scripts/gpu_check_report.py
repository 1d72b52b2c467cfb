"""The GPU check's figures, verdicts and summary (``summary.json``, ``summary.md``).

Tolerances, and why (docs/gpu-check.md):

- :data:`INFER_TOL_WK`: the same weights predicted on two devices, per image.
- :data:`DETERMINISM_TOL_WK`: two CUDA fits of one seed, per patient.
- :data:`TRAIN_TOL_R`, :data:`TRAIN_TOL_MAE`: a CUDA fit against the CPU fit of its seed.
"""

from __future__ import annotations

import ast
import json
import math
import shutil
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd

#: fp16 autocast keeps ~3 significant digits of a target in [0, 1] that spans 24 weeks
#: (≈ 0.01 wk per patch, less after averaging an image's 64 patches); 0.05 wk (8 h of GA)
#: is ~1/70 of the nets' MAE (3–4 wk), so a routing or AMP bug (a wrong layout, a missing
#: scale, an fp16 overflow) cannot hide under it; ``predict`` writes 2 decimals (≤ 0.005)
INFER_TOL_WK = 0.05
#: deterministic algorithms are on during a CUDA fit (warn-only): two runs should be
#: bitwise equal; 0.01 wk leaves room for an op that only warns
DETERMINISM_TOL_WK = 0.01
#: fp16 training follows another float trajectory than fp32 on the CPU, so the two fits
#: differ as fits do: pass if within these or 2 × the CPU arm's seed-to-seed SD, whichever
#: is larger (the committed transfer-seeds table: SD of r 0.03–0.10 over 3 seeds)
TRAIN_TOL_R, TRAIN_TOL_MAE = 0.05, 0.10
COPIED = ("cells.csv", "predictions.csv", "tables/training_stops.csv", "tables/dsc.csv")


def run_dir(step: dict) -> Path | None:
    path = Path(step.get("run_dir") or "/nonexistent")
    return path if (path / "predictions.csv").is_file() else None


def dataset_root(step: dict) -> str:
    return json.loads((run_dir(step) / "run.json").read_text())["config"]["dataset_root"]


def seed0_cell(step: dict) -> Path | None:
    folder = run_dir(step)
    if folder is None:
        return None
    cells = pd.read_csv(folder / "cells.csv")
    done = cells[(cells["seed"] == 0) & (cells["status"] == "done")]
    return folder / "cells" / done["cell_id"].iloc[0] if len(done) else None


def figures(step: dict, out: Path) -> list[dict]:
    """Per cell (one method per run; seeds): patient-level n, Pearson r, MAE; fit and
    predict seconds, throughput, DSC and how training stopped; tables copied to OUT."""
    folder = run_dir(step)
    if folder is None:
        return []
    keep = out / step["step"]
    keep.mkdir(parents=True, exist_ok=True)
    for rel in COPIED:
        if (folder / rel).is_file():
            shutil.copy(folder / rel, keep / Path(rel).name)
    preds = pd.read_csv(folder / "predictions.csv")
    cells = pd.read_csv(folder / "cells.csv").set_index("cell_id")
    dsc_csv = folder / "tables" / "dsc.csv"
    dsc = pd.read_csv(dsc_csv).set_index("method")["dsc_mean"] if dsc_csv.is_file() else {}
    rows = []
    patients = preds[preds["level"] == "patient"]
    for (label, seed, cell_id), p in patients.groupby(["label", "seed", "cell_id"]):
        cell = cells.loc[cell_id]
        cost = ast.literal_eval(cell["cost"]) if isinstance(cell["cost"], str) else {}
        rows.append(
            {
                "label": label,
                "seed": int(seed),
                "n": len(p),
                "r": float(np.corrcoef(p["ga_true"], p["ga_pred"])[0, 1]),
                "mae_wk": float((p["ga_pred"] - p["ga_true"]).abs().mean()),
                "dsc_pct": float(dsc[label]) if label in dsc else None,
                "fit_s": float(cell["fit_seconds"]),
                "predict_s": float(cell["predict_seconds"]),
                "device": cost.get("device"),
                "train_steps": cost.get("train_steps"),
                "train_patches_per_s": cost.get("train_patches_per_s"),
                "fraction_of_matmul_peak": cost.get("fraction_of_matmul_peak"),
                "stopped_by": cell.get("stopped_by"),
            }
        )
    return rows


def verdict(name: str, value: float, tol: float, what: str, unit: str = "wk") -> dict:
    ok = not math.isnan(value) and value <= tol
    status = "pass" if ok else "fail"
    return {
        "check": name,
        "value": value,
        "tolerance": tol,
        "unit": unit,
        "what": what,
        "status": status,
    }


def not_run(name: str, why: str) -> dict:
    return {"check": name, "status": "not run", "what": why}


def ran(step: dict) -> dict:
    """A step that exited non-zero, with its failed cells' first error line (a cell past
    its --timeout says so there)."""
    why = "killed at the budget" if step["rc"] == 124 else "failed"
    cells_csv = Path(step.get("run_dir") or "/nonexistent") / "cells.csv"
    if cells_csv.is_file():
        cells = pd.read_csv(cells_csv)
        errors = cells.get("error", pd.Series(dtype=str)).dropna().astype(str)
        why += "".join(f"; {e.splitlines()[0][:160]}" for e in errors.head(2) if e.strip())
    return {"check": f"{step['step']} ran", "status": "fail",
            "what": f"exit {step['rc']}: {why}; see {step['log']}"}  # fmt: skip


def training_agreement(dev: list[dict], cpu: list[dict]) -> list[dict]:
    """Run A's seed-0 fit against the CPU arm's (one method per run: no label matching;
    the engine writes a label's parameters in its own order)."""
    a = next((r for r in dev if r["seed"] == 0), None)
    c0 = next((r for r in cpu if r["seed"] == 0), None)
    if a is None or c0 is None:
        return [not_run("train agreement", "a device or CPU fit of seed 0 is missing")]
    sd = {
        k: float(np.std([r[k] for r in cpu], ddof=1)) if len(cpu) > 1 else 0.0
        for k in ("r", "mae_wk")
    }
    what = (
        f"{a['label']}: {a['device']} fit vs CPU fit, seed 0, same {a['n']} test patients "
        f"(CPU seed-to-seed SD over {len(cpu)}: r {sd['r']:.3f}, MAE {sd['mae_wk']:.3f} wk)"
    )
    tol_r, tol_mae = max(TRAIN_TOL_R, 2 * sd["r"]), max(TRAIN_TOL_MAE, 2 * sd["mae_wk"])
    return [
        verdict("train agreement |Δr|", abs(a["r"] - c0["r"]), tol_r, what, "r"),
        verdict("train agreement |ΔMAE|", abs(a["mae_wk"] - c0["mae_wk"]), tol_mae, what),
    ]


def _patient_preds(step: dict) -> pd.Series:
    folder = run_dir(step)
    if folder is None:
        return pd.Series(dtype=float)
    p = pd.read_csv(folder / "predictions.csv")
    return p[(p["level"] == "patient") & (p["seed"] == 0)].set_index("patient_id")["ga_pred"]


def determinism(a: dict, b: dict, device: str) -> dict:
    pa, pb = _patient_preds(a), _patient_preds(b)
    if pa.empty or pb.empty:
        return not_run(f"determinism ({device})", "run A or B has no predictions")
    what = f"two {device} runs of one seed: max |Δ| over {len(pa)} patients"
    return verdict(
        f"determinism ({device})", float((pa - pb).abs().max()), DETERMINISM_TOL_WK, what
    )


def inference_verdict(cell_dir: Path, csv: Path, device: str, step: dict) -> dict:
    name = f"inference agreement ({device})"
    if step["rc"] or not csv.is_file():
        return not_run(name, f"predict failed (exit {step['rc']}); see {step['log']}")
    ran_ = pd.read_csv(cell_dir / "predictions.csv")
    ran_ = ran_[ran_["level"] == "image"].set_index("image_id")["ga_pred"]
    got = pd.read_csv(csv).set_index("image_id")["ga_pred_weeks"].reindex(ran_.index)
    what = f"the CPU-trained model reloaded on {device}: max |Δ| over {len(ran_)} test images"
    return verdict(name, float((got - ran_).abs().max()), INFER_TOL_WK, what)


def tests_verdict(xml: Path, device: str, step: dict) -> dict:
    """The CUDA-marked tests: on CUDA every one must run and pass (all skipped = the skip
    misfired); without CUDA they are skipped, which is not a result."""
    if not xml.is_file():
        return not_run("cuda tests", f"no junit report (exit {step.get('rc')}); see {step['log']}")
    suite = ElementTree.parse(xml).getroot()
    suite = suite.find("testsuite") if suite.tag == "testsuites" else suite
    n, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
    bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    what = f"tests/test_cuda.py: {n} tests, {bad} failed, {skipped} skipped; see {step['log']}"
    if device == "cpu" and not bad:
        return not_run("cuda tests", what)
    ok = not bad and n > skipped
    return {"check": "cuda tests", "status": "pass" if ok else "fail", "what": what}


# -- summary --------------------------------------------------------------------------------
def _fmt(value, digits: int = 3) -> str:
    """A table cell: floats to ``digits``, a missing value as –, pipes escaped (|Δr|)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|")


def checks_table(checks: list[dict]) -> str:
    lines = ["| check | value | tolerance | status | what |", "|---|---|---|---|---|"]
    for c in checks:
        value = f"{_fmt(c.get('value'), 4)} {c.get('unit', '')}".strip()
        cells = [_fmt(c["check"]), value, _fmt(c.get("tolerance")), c["status"], _fmt(c["what"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _table(rows: list[dict], cols: list[str]) -> str:
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


FIGURE_COLS = ["step", "label", "seed", "device", "n", "r", "mae_wk", "dsc_pct", "fit_s"]
FIGURE_COLS += ["predict_s", "train_steps", "train_patches_per_s", "fraction_of_matmul_peak"]
FIGURE_COLS += ["stopped_by"]


def write_summary(
    out: Path,
    env: dict,
    steps: list[dict],
    rows: list[dict],
    checks: list[dict],
    budget_s: float = math.nan,
) -> None:
    status = "fail" if any(c["status"] == "fail" for c in checks) else "pass"
    if status == "pass" and any(c["status"] == "not run" for c in checks):
        status = "incomplete"
    wall = max((s.get("seconds") or 0 for s in steps), default=0)
    summary = {
        "status": status,
        "environment": env,
        "budget_s": budget_s,
        "checks": checks,
        "steps": steps,
        "figures": rows,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    missing = ", ".join(env.get("missing_requirements") or []) or "none"
    steps_table = _table(
        [
            {**s, "seconds": _fmt(s.get("seconds"), 1), "command": f"`{s['command']}`"}
            for s in steps
        ],
        ["step", "seconds", "rc", "command"],
    )
    md = [
        f"# GPU check: {status}",
        "",
        f"Device `{env['device']}` ({env.get('gpu') or 'no GPU'}), {env.get('cpus')} CPUs "
        f"(CPU arm: {env.get('cpu_arm_threads')} torch thread(s) a cell); "
        f"Python {env['python']}, torch {env['torch']}; requirements missing: {missing}.  "
        f"Budget {budget_s:.0f} s; the CPU arm and the paper-px run ran in the background "
        f"(longest step {wall:.0f} s), so their seconds are shared-machine seconds.",
        "",
        "## Checks",
        "",
        checks_table(checks),
        "",
        "## Figures (patient level; DSC in %)",
        "",
        _table(rows, FIGURE_COLS),
        "",
        "## Timings",
        "",
        steps_table,
        "",
    ]
    (out / "summary.md").write_text("\n".join(md))
