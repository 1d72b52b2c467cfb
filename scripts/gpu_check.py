"""The GPU check (``scripts/gpu_check.sh``; docs/gpu-check.md): the CUDA-marked tests, the nets
on the default cohort on CUDA, CPU/GPU agreement and CUDA determinism, with timings.

Every step is a real command (``pytest``, ``python -m benchmark run`` / ``predict``), logged
under ``OUT/logs``; ``OUT/summary.json`` and ``OUT/summary.md`` hold the timings, the figures
and a verdict per check.  Run folders (models of the paper profile: ~220 MB) go to the work
folder, not to OUT; each run's cells.csv, predictions.csv and training_stops.csv are copied.

Order, within ``--budget-s`` (default 480 s: the 8 minutes one GPU may take):
prepare (cohort; engine and report import) → the CPU arm in the background (the default net,
``--cpu-seeds`` seeds at once) → CUDA tests → the default net on the device (run A) →
``profile=paper-px`` on the device, its ``--timeout`` what is left after a second run A → the
default net again (run B: determinism) → the CPU-trained model predicted on both devices.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_check_report import checks_table, write_summary  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NET = "unet-transfer"
PAPER = "unet-transfer[profile=paper-px]"
#: same weights on both devices, per image: fp16 autocast keeps ~3 significant digits of a
#: target in [0, 1] that spans 24 weeks (≈ 0.01 wk per patch, less after averaging 64
#: patches); 0.05 wk (8 h of GA) is 1/60 of the nets' MAE, so a routing or AMP bug (a
#: wrong layout, a missing scale, an fp16 overflow) cannot hide under it
INFER_TOL_WK = 0.05
#: two CUDA fits with one seed, per patient: deterministic algorithms are on (warn-only),
#: so the runs should be bitwise equal; 0.01 wk leaves room for the ops that only warn
DETERMINISM_TOL_WK = 0.01
#: a CUDA fit against the CPU fit of the same seed, on the same test patients: fp16
#: training follows another float trajectory, so the two differ as fits do; pass if within
#: these or 2 × the CPU arm's seed-to-seed SD, whichever is larger
TRAIN_TOL_R, TRAIN_TOL_MAE = 0.05, 0.10
RESERVE_S = 25.0  # predict on both devices + the summary


class Check:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out, self.work = Path(args.out), Path(args.work)
        self.t0 = time.perf_counter()
        self.steps: list[dict] = []
        self.env = {
            **os.environ,
            "PYTHONHASHSEED": "0",
            "MPLBACKEND": "Agg",
            "FLB_CACHE": os.environ.get("FLB_CACHE", str(self.work / "cache")),
        }

    def left(self) -> float:
        return self.args.budget_s - (time.perf_counter() - self.t0)

    def net(self, spec: str) -> str:
        extra = self.args.net_params
        if not extra:
            return spec
        return spec[:-1] + f",{extra}]" if spec.endswith("]") else f"{spec}[{extra}]"

    def cohort(self) -> list[str]:
        opts = []
        if self.args.patients:
            opts += ["--patients", str(self.args.patients)]
        if self.args.images_per_patient:
            opts += ["--images-per-patient", str(self.args.images_per_patient)]
        return opts

    def command(self, name: str, argv: list[str], timeout: float | None = None, **info) -> dict:
        log = self.out / "logs" / f"{name}.log"
        step = {"step": name, "command": " ".join(argv), "log": str(log.relative_to(self.out))}
        start = time.perf_counter()
        with log.open("w") as sink:
            try:
                rc = subprocess.run(
                    argv,
                    cwd=ROOT,
                    env=self.env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                ).returncode
            except subprocess.TimeoutExpired:
                rc = 124
        step.update(seconds=round(time.perf_counter() - start, 1), rc=rc, **info)
        self.steps.append(step)
        return step

    def run(self, name: str, method: str, device: str, extra: list[str] = (), **kw) -> dict:
        runs = self.work / "runs" / name
        shutil.rmtree(runs, ignore_errors=True)
        argv = [sys.executable, "-m", "benchmark", "run", "--methods", method]
        argv += ["--device", device, "--runs-dir", str(runs), *self.cohort(), *extra]
        step = self.command(name, argv, **kw)
        step["run_dir"] = str(next(runs.glob("*/run.json"), Path()).parent)
        return step


def run_dir(step: dict) -> Path | None:
    path = Path(step.get("run_dir", ""))
    return path if (path / "run.json").is_file() else None


def figures(step: dict, out: Path) -> list[dict]:
    """Per (method label, seed): patient-level n, Pearson r, MAE; fit/predict seconds,
    throughput and DSC from the run folder (copied to ``out/<step>/``)."""
    folder = run_dir(step)
    if folder is None or not (folder / "predictions.csv").is_file():
        return []
    keep = out / step["step"]
    keep.mkdir(parents=True, exist_ok=True)
    for rel in ("cells.csv", "predictions.csv", "tables/training_stops.csv", "tables/dsc.csv"):
        if (folder / rel).is_file():
            shutil.copy(folder / rel, keep / Path(rel).name)
    preds = pd.read_csv(folder / "predictions.csv")
    cells = pd.read_csv(folder / "cells.csv").set_index("cell_id")
    dsc = pd.read_csv(folder / "tables/dsc.csv") if (folder / "tables/dsc.csv").is_file() else None
    rows = []
    for (label, seed, cell_id), p in preds[preds["level"] == "patient"].groupby(
        ["label", "seed", "cell_id"]
    ):
        cell = cells.loc[cell_id]
        cost = ast.literal_eval(cell["cost"]) if isinstance(cell["cost"], str) else {}
        row = {
            "label": label,
            "seed": int(seed),
            "n": len(p),
            "r": float(np.corrcoef(p["ga_true"], p["ga_pred"])[0, 1]) if len(p) > 2 else math.nan,
            "mae_wk": float((p["ga_pred"] - p["ga_true"]).abs().mean()),
            "fit_s": float(cell["fit_seconds"]),
            "predict_s": float(cell["predict_seconds"]),
            "device": cost.get("device"),
            "train_steps": cost.get("train_steps"),
            "train_patches_per_s": cost.get("train_patches_per_s"),
            "fraction_of_matmul_peak": cost.get("fraction_of_matmul_peak"),
        }
        if dsc is not None and label in set(dsc["method"]):
            row["dsc_pct"] = float(dsc.set_index("method").loc[label, "dsc_mean"])
        if "stopped_by" in cells.columns:
            row["stopped_by"] = cell["stopped_by"]
        rows.append(row)
    return rows


def patient_preds(step: dict, seed: int = 0) -> pd.Series:
    folder = run_dir(step)
    if folder is None or not (folder / "predictions.csv").is_file():
        return pd.Series(dtype=float)
    p = pd.read_csv(folder / "predictions.csv")
    p = p[(p["level"] == "patient") & (p["seed"] == seed)]
    return p.set_index("patient_id")["ga_pred"]


def verdict(name: str, value: float, tol: float, what: str, unit: str = "wk") -> dict:
    ok = not math.isnan(value) and value <= tol
    return {
        "check": name,
        "value": value,
        "tolerance": tol,
        "unit": unit,
        "what": what,
        "status": "pass" if ok else "fail",
    }


def not_run(name: str, why: str) -> dict:
    return {"check": name, "status": "not run", "what": why}


def training_agreement(dev: list[dict], cpu: list[dict]) -> list[dict]:
    """Run A's seed-0 fit against the CPU arm's (one method per run: no label matching,
    the engine writes parameters in its own order)."""
    a = next((r for r in dev if r["seed"] == 0), None)
    c0 = next((r for r in cpu if r["seed"] == 0), None)
    if a is None or c0 is None:
        return [not_run("train agreement", "a device or CPU fit of seed 0 is missing")]
    c, label = cpu, a["label"]
    spread = {
        k: float(np.std([r[k] for r in c], ddof=1)) if len(c) > 1 else 0.0 for k in ("r", "mae_wk")
    }
    tol_r, tol_mae = max(TRAIN_TOL_R, 2 * spread["r"]), max(TRAIN_TOL_MAE, 2 * spread["mae_wk"])
    what = f"{label}: device fit vs CPU fit, seed 0, same {a['n']} test patients"
    return [
        verdict("train agreement |Δr|", abs(a["r"] - c0["r"]), tol_r, what, "r"),
        verdict("train agreement |ΔMAE|", abs(a["mae_wk"] - c0["mae_wk"]), tol_mae, what),
    ]


def inference_agreement(check: Check, cpu_step: dict) -> list[dict]:
    """The CPU arm's seed-0 model, reloaded by ``predict`` on each device, against the
    predictions its own run made (same weights, same test images)."""
    folder = run_dir(cpu_step)
    if folder is None:
        return [not_run("inference agreement", "the CPU arm has no run folder")]
    cells = pd.read_csv(folder / "cells.csv")
    cell = cells[(cells["seed"] == 0) & (cells["status"] == "done")]
    if cell.empty:
        return [not_run("inference agreement", "the CPU arm's seed-0 cell did not finish")]
    cell_dir = folder / "cells" / cell["cell_id"].iloc[0]
    ran = pd.read_csv(cell_dir / "predictions.csv")
    ran = ran[ran["level"] == "image"].set_index("image_id")["ga_pred"]
    dataset = json.loads((folder / "run.json").read_text())["config"]["dataset_root"]
    results = []
    for device in dict.fromkeys([check.args.device, "cpu"]):
        csv = check.out / f"predict-{device}.csv"
        argv = [sys.executable, "-m", "benchmark", "predict", "--model", str(cell_dir)]
        step = check.command(
            f"predict-{device}", argv + ["--device", device, "--out", str(csv), dataset]
        )
        if step["rc"] or not csv.is_file():
            results.append(not_run(f"inference agreement ({device})", f"predict failed: {step}"))
            continue
        got = pd.read_csv(csv).set_index("image_id")["ga_pred_weeks"].reindex(ran.index)
        # predict writes 2 decimals: up to 0.005 wk of the difference is its rounding
        diff = float((got - ran).abs().max())
        what = f"model trained on CPU, predicted on {device}: max |Δ| over {len(ran)} images"
        results.append(verdict(f"inference agreement ({device})", diff, INFER_TOL_WK, what))
    return results


def environment(device: str) -> dict:
    import torch
    from gpu_check_deps import missing

    info = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "device": device,
        "missing_requirements": missing(),
    }
    if torch.cuda.is_available():
        info.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda)
    return info


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--work", required=True, help="run folders and the cohort cache")
    parser.add_argument("--budget-s", type=float, default=480.0)
    parser.add_argument("--patients", type=int)
    parser.add_argument("--images-per-patient", type=int)
    parser.add_argument("--net-params", default="", help="appended to every net, e.g. max_steps=2")
    parser.add_argument("--cpu-seeds", type=int, default=3)
    parser.add_argument("--skip-tests", action="store_true")
    args = parser.parse_args(argv)
    check = Check(args)
    (check.out / "logs").mkdir(parents=True, exist_ok=True)
    env = environment(args.device)
    if args.device == "cuda" and not env["cuda_available"]:
        print("gpu_check: --device cuda, but torch sees no CUDA device; use --device cpu")
        return 2
    dev = args.device
    prep = check.run("prepare", "dummy-mean", "cpu", ["--n-jobs", "1"])
    if prep["rc"]:
        write_summary(check.out, env, check.steps, [], [not_run("all", "prepare failed")])
        print(f"gpu_check: preparing the cohort failed; see {check.out / prep['log']}")
        return 2
    seeds = [str(s) for s in range(args.cpu_seeds)]
    cpu_cmd = [
        sys.executable,
        "-m",
        "benchmark",
        "run",
        "--methods",
        check.net(NET),
        "--device",
        "cpu",
        "--seeds",
        *seeds,
        "--n-jobs",
        str(len(seeds)),
        "--runs-dir",
        str(check.work / "runs" / "cpu"),
        *check.cohort(),
    ]
    shutil.rmtree(check.work / "runs" / "cpu", ignore_errors=True)
    cpu_log = (check.out / "logs" / "cpu.log").open("w")
    cpu_start = time.perf_counter()
    cpu_proc = subprocess.Popen(
        cpu_cmd, cwd=ROOT, env=check.env, stdout=cpu_log, stderr=subprocess.STDOUT
    )
    if not args.skip_tests:
        check.command(
            "cuda-tests",
            [
                sys.executable,
                "-m",
                "pytest",
                "-m",
                "cuda",
                "-q",
                "-rA",
                "-p",
                "no:cacheprovider",
                "tests/test_cuda.py",
                f"--junitxml={check.out / 'cuda-tests.xml'}",
            ],
        )
    a = check.run(f"{dev}-a", check.net(NET), dev, ["--n-jobs", "1"])
    paper_timeout = check.left() - 1.3 * a["seconds"] - RESERVE_S
    if paper_timeout > 30:
        paper = check.run(
            f"{dev}-paper-px",
            check.net(PAPER),
            dev,
            ["--n-jobs", "1", "--timeout", f"{paper_timeout:.0f}"],
        )
    else:
        paper = {"step": f"{dev}-paper-px", "rc": None, "status": "not run: time budget"}
        check.steps.append(paper)
    b = check.run(f"{dev}-b", check.net(NET), dev, ["--n-jobs", "1"])
    try:
        cpu_proc.wait(timeout=max(check.left() - RESERVE_S, 1))
    except subprocess.TimeoutExpired:
        cpu_proc.kill()
        cpu_proc.wait()
    cpu_log.close()
    cpu = {
        "step": "cpu",
        "command": " ".join(cpu_cmd),
        "log": "logs/cpu.log",
        "rc": cpu_proc.returncode,
        "seconds": round(time.perf_counter() - cpu_start, 1),
        "run_dir": str(next((check.work / "runs" / "cpu").glob("*/run.json"), Path()).parent),
    }
    check.steps.append(cpu)
    fig = {s["step"]: figures(s, check.out) for s in (a, paper, b, cpu)}
    checks = training_agreement(fig[a["step"]], fig["cpu"])
    label = fig[a["step"]][0]["label"] if fig[a["step"]] else check.net(NET)
    pa, pb = patient_preds(a), patient_preds(b)
    if len(pa) and len(pb):
        what = f"{label}: two {dev} runs, seed 0: max |Δ| over {len(pa)} patients"
        checks.append(
            verdict(f"determinism ({dev})", float((pa - pb).abs().max()), DETERMINISM_TOL_WK, what)
        )
    else:
        checks.append(not_run(f"determinism ({dev})", "run A or B has no predictions"))
    checks += inference_agreement(check, cpu)
    for step in (prep, a, paper, b, cpu):
        if step.get("rc") not in (0, None):
            checks.append(
                {
                    "check": f"{step['step']} ran",
                    "status": "fail",
                    "what": f"exit {step['rc']}; see {step.get('log')}",
                }
            )
    rows = [dict(r, step=s) for s, rs in fig.items() for r in rs]
    write_summary(check.out, env, check.steps, rows, checks, args.budget_s)
    print(checks_table(checks))
    print(f"summary: {check.out / 'summary.md'}  ({time.perf_counter() - check.t0:.0f} s)")
    return 1 if any(c["status"] == "fail" for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
