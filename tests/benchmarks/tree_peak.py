"""Wall time and peak resident memory of a command's whole process tree.

``/usr/bin/time -v`` reports the largest single process, and the runner's per-cell
``peak_rss_mb`` only its own process; worker processes (joblib, Dask, cell children) add
up, so this samples the sum of RSS over the tree every ``--interval`` seconds (psutil).

    python tests/benchmarks/tree_peak.py --json out.json -- python -m benchmark run ...
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import psutil


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def measure(command: list[str], interval: float = 0.1) -> dict[str, float]:
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    child = subprocess.Popen(command)
    proc = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        try:
            peak = max(peak, tree_rss(proc))
        except psutil.NoSuchProcess:
            break
        time.sleep(interval)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "returncode": child.returncode,
        "wall_s": round(wall, 2),
        "peak_tree_rss_mib": round(peak / 2**20, 1),
        "cpu_user_s": round(ru.ru_utime, 2),
        "cpu_sys_s": round(ru.ru_stime, 2),
        "max_single_rss_mib": round(ru.ru_maxrss / 1024, 1),
        "loadavg_before": round(load_before, 2),
        "loadavg_after": round(os.getloadavg()[0], 2),
        "command": " ".join(command),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="append the result as one JSON line to this file")
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    result = measure(command, args.interval)
    line = json.dumps(result)
    print(line, file=sys.stderr)
    if args.json:
        with open(args.json, "a") as fh:
            fh.write(line + "\n")
    return int(result["returncode"] or 0)


if __name__ == "__main__":
    raise SystemExit(main())
