"""The 10× patients budget (results/performance.md): time and process-tree peak memory at n
and 10·n.

Runs the same grid at both sizes through ``tree_peak.py`` (time and the summed RSS of the
whole process tree), with the default report (tables and figures), each size with its own
empty ``FLB_CACHE`` so nothing is reused. Two cohorts:

- ``--cohort tabular`` (default): noise frames (``tests/_cohorts.py``, 2 per patient) and
  ``dummy-mean`` + ``biometry-*`` over ``kfold:5``: the engine, statistics and report alone;
- ``--cohort synthetic``: the simulated cohort generated at that size, and image methods
  (``--methods``) on the paper split: generation, patches, features and nets included.

    python tests/benchmarks/scaling.py --out /tmp/scaling
    python tests/benchmarks/scaling.py --cohort synthetic --methods dummy-mean glcm-ridge \
        radiomics-ridge unet-transfer --out /tmp/scaling-images
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from _cohorts import write_tabular_cohort  # noqa: E402
from tree_peak import measure  # noqa: E402

TABULAR_GRID = ["--split", "kfold:5", "--n-jobs", "1"]
TABULAR_METHODS = ["dummy-mean", "biometry-*"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=316)
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--cohort", choices=["tabular", "synthetic"], default="tabular")
    parser.add_argument("--methods", nargs="+", default=TABULAR_METHODS)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = []
    for n in (args.patients, args.patients * args.factor):
        if args.cohort == "tabular":
            cohort = args.out / f"cohort-{n}"
            if not (cohort / "images.csv").exists():
                write_tabular_cohort(cohort, n=n, seed=1)
            dataset = ["--dataset", str(cohort), *TABULAR_GRID]
        else:
            dataset = ["--dataset", "synthetic", "--patients", str(n)]
        run_dir = args.out / f"run-{n}"
        command = [
            sys.executable,
            "-m",
            "benchmark",
            "run",
            *dataset,
            "--methods",
            *args.methods,
            "--run-dir",
            str(run_dir),
            "--no-resume",
        ]
        os.environ["FLB_CACHE"] = str(args.out / f"cache-{n}")
        result = measure(command)
        result["patients"] = n
        rows.append(result)
        print(json.dumps(result), flush=True)
    small, large = rows
    ratios = {key: round(large[key] / small[key], 2) for key in ("wall_s", "peak_tree_rss_mib")}
    cpu = [r["cpu_user_s"] + r["cpu_sys_s"] for r in rows]
    ratios["cpu_s"] = round((cpu[1] - cpu[0]) / cpu[0], 2)  # rusage is cumulative
    print(json.dumps({"ratios": ratios, "loadavg": os.getloadavg()[0]}))
    return 0 if all(r["returncode"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
