"""The GPU check (``scripts/gpu_check.sh``; docs/gpu-check.md): the CUDA-marked tests, the nets
on the default cohort on CUDA, CPU/GPU agreement and CUDA determinism, with timings.

Every step is a real command (``pytest``, ``python -m benchmark run`` / ``predict``), logged
under ``OUT/logs``; ``OUT/summary.json`` and ``OUT/summary.md`` hold the timings, the figures
and a verdict per check (scripts/gpu_check_report.py: tolerances and why).  Run folders
(the paper profile's models: ~220 MB) go to the work folder, not to OUT; each run's
cells.csv, predictions.csv, dsc.csv and training_stops.csv are copied to ``OUT/<step>/``.

Order, within ``--budget-s`` (default 480 s: the 8 minutes one GPU may take):

1. prepare: the cohort, generated once (and the engine and report imported once);
2. in the background: the CPU arm (the default net, ``--cpu-seeds`` seeds at once) and
   ``profile=paper-px`` on the device, each with what the budget leaves as its limit — the
   small nets leave most of an H200 idle, so the paper net shares it with 3–5;
3. the CUDA-marked tests; 4. the default net on the device (run A); 5. again (run B:
   determinism); 6. the background runs are waited for; 7. the CPU arm's seed-0 model is
   predicted by ``predict`` on both devices.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpu_check_report as report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NET = "unet-transfer"
PAPER = "unet-transfer[profile=paper-px]"
#: the CUDA-marked tests (``-rA``: the log shows each one, and what it printed)
CUDA_TESTS = ["-m", "pytest", "-m", "cuda", "-q", "-rA", "-p", "no:cacheprovider"]
CUDA_TESTS += ["tests/test_cuda.py"]
RESERVE_S = 30.0  # what the end needs: predict on both devices and the summary
REPORT_S = 20.0  # a run's report after its last cell: a cell's limit leaves room for it


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
            # cuBLAS reads it when its first handle is made: set before any process starts
            # (the kit sets it at its first fit, too late for a process that ran cuBLAS)
            "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
        }

    def left(self) -> float:
        return self.args.budget_s - (time.perf_counter() - self.t0)

    def net(self, spec: str) -> str:
        extra = self.args.net_params
        if not extra:
            return spec
        return spec[:-1] + f",{extra}]" if spec.endswith("]") else f"{spec}[{extra}]"

    def run_argv(self, name: str, method: str, device: str, *extra: str) -> list[str]:
        runs = self.work / "runs" / name
        shutil.rmtree(runs, ignore_errors=True)
        argv = [sys.executable, "-m", "benchmark", "run", "--methods", method]
        # the check reads predictions and cells only, and the run folders stay on the
        # machine: drawing their figures (~8 CPU s a run) would be waste
        argv += ["--device", device, "--runs-dir", str(runs), "--no-figures", *extra]
        if self.args.patients:
            argv += ["--patients", str(self.args.patients)]
        if self.args.images_per_patient:
            argv += ["--images-per-patient", str(self.args.images_per_patient)]
        return argv

    def start(self, name: str, argv: list[str], **env: str) -> dict:
        log = self.out / "logs" / f"{name}.log"
        sink = log.open("w")
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a timeout ends its workers too
        )
        step = {"step": name, "command": " ".join(argv), "log": f"logs/{name}.log"}
        step.update(_proc=proc, _sink=sink, _start=time.perf_counter(), _argv=argv)
        self.steps.append(step)
        return step

    def wait(self, step: dict, limit: float) -> dict:
        proc = step.pop("_proc")
        try:
            step["rc"] = proc.wait(timeout=max(limit, 1.0))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            step["rc"] = 124
        step.pop("_sink").close()
        step["seconds"] = round(time.perf_counter() - step.pop("_start"), 1)
        argv = step.pop("_argv")
        if "--runs-dir" in argv:  # a run: the one run folder under its --runs-dir
            runs = Path(argv[argv.index("--runs-dir") + 1])
            found = next(runs.glob("*/run.json"), None)
            step["run_dir"] = str(found.parent) if found else None
        return step

    def command(self, name: str, argv: list[str]) -> dict:
        return self.wait(self.start(name, argv), self.left())


def inference_agreement(check: Check, cpu_step: dict) -> list[dict]:
    """The CPU arm's seed-0 model, reloaded by ``predict`` on each device, against the
    predictions its own run made (same weights, same test images)."""
    cell_dir = report.seed0_cell(cpu_step)
    if cell_dir is None:
        return [report.not_run("inference agreement", "the CPU arm's seed-0 cell did not finish")]
    dataset = report.dataset_root(cpu_step)
    results = []
    for device in dict.fromkeys([check.args.device, "cpu"]):
        csv = check.out / f"predict-{device}.csv"
        argv = [sys.executable, "-m", "benchmark", "predict", "--model", str(cell_dir)]
        step = check.command(
            f"predict-{device}", [*argv, "--device", device, "--out", str(csv), dataset]
        )
        results.append(report.inference_verdict(cell_dir, csv, device, step))
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
        "cpus": os.cpu_count(),
    }
    if torch.cuda.is_available():
        info.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda)
    return info


def parse(argv: list[str]) -> argparse.Namespace:
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
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    check, dev = Check(args), args.device
    (check.out / "logs").mkdir(parents=True, exist_ok=True)
    env = environment(dev)
    if dev == "cuda" and not env["cuda_available"]:
        print("gpu_check: --device cuda, but torch sees no CUDA device; use --device cpu")
        return 2
    prep = check.command("prepare", check.run_argv("prepare", "dummy-mean", "cpu", "--n-jobs", "1"))
    if prep["rc"]:
        report.write_summary(check.out, env, check.steps, [], [report.not_run("all", "prepare")])
        print(f"gpu_check: preparing the cohort failed; see {check.out / prep['log']}")
        return 2
    seeds = [str(s) for s in range(args.cpu_seeds)]
    # the cores the device runs leave (4 kept for them), shared by the CPU arm's cells; one
    # thread each where that is all there is (runtime.torch_threads: why 1 by default)
    spare = max(1, ((env["cpus"] or 1) - 4) // len(seeds))
    env["cpu_arm_threads"] = threads = os.environ.get("FLB_TORCH_THREADS") or str(spare)
    cpu_argv = check.run_argv("cpu", check.net(NET), "cpu", "--seeds", *seeds)
    cpu = check.start("cpu", [*cpu_argv, "--n-jobs", str(len(seeds))], FLB_TORCH_THREADS=threads)
    limit = f"{check.left() - RESERVE_S - REPORT_S:.0f}"
    paper = check.start(
        f"{dev}-paper-px",
        check.run_argv(
            f"{dev}-paper-px", check.net(PAPER), dev, "--n-jobs", "1", "--timeout", limit
        ),
    )
    tests = None
    if not args.skip_tests:
        xml = f"--junitxml={check.out / 'cuda-tests.xml'}"
        tests = check.command("cuda-tests", [sys.executable, *CUDA_TESTS, xml])

    a = check.command(f"{dev}-a", check.run_argv(f"{dev}-a", check.net(NET), dev, "--n-jobs", "1"))
    b = check.command(f"{dev}-b", check.run_argv(f"{dev}-b", check.net(NET), dev, "--n-jobs", "1"))
    for step in (paper, cpu):
        check.wait(step, check.left() - RESERVE_S)
    figures = {s["step"]: report.figures(s, check.out) for s in (a, b, paper, cpu)}
    checks = report.training_agreement(figures[a["step"]], figures["cpu"])
    checks.append(report.determinism(a, b, dev))
    checks += inference_agreement(check, cpu)
    if tests is not None:
        checks.append(report.tests_verdict(check.out / "cuda-tests.xml", dev, tests))
    checks += [report.ran(s) for s in (a, b, paper, cpu) if s.get("rc")]
    rows = [dict(r, step=s) for s, rs in figures.items() for r in rs]
    report.write_summary(check.out, env, check.steps, rows, checks, args.budget_s)
    print(report.checks_table(checks))
    print(f"summary: {check.out / 'summary.md'}  ({time.perf_counter() - check.t0:.0f} s)")
    return 1 if any(c["status"] == "fail" for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
