"""``plan --simulate``: power of the report's paired test from fresh synthetic cohorts.

Where the resampling planner reuses the pilot's patients, this draws a new cohort from
the run's own generator for every simulated study (same source, options and split; a
new generator seed each time), refits both methods through the runner and applies the
same paired test to the new test patients.  So it assumes the generator, not the pilot's
observed effect.

Only methods cheap enough to refit hundreds of times take part: those whose class
declares ``uses_images = False`` (no pixel is read) and a ``relative_cost`` no higher than
the base class's table-lookup cost — on the embedded generator ``biometry-*``,
``dummy-mean`` and ``oracle``; every texture method and net is refused with that reason.
Since none reads a pixel, cohorts are rendered at the generator's smallest frame
(``SIM_SIZE``): the patient table they read (GA, biometry, maturity, outcome) does not
depend on the frame size (``tests/test_plan_simulate.py`` checks it).

Type I error: the same studies with each study's absolute-error differences shifted by
the effect pooled over every simulated patient (the generator's effect, estimated) must
reject about α of the time (``mae`` only, as in the resampling planner).
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.execution import runner
from benchmark.execution.recompute import private_cache
from benchmark.stats import power
from benchmark.stats.metrics import pooled_patient_predictions

#: frame size of simulated cohorts: the generator's smallest (no qualifying method reads it)
SIM_SIZE = 64
#: seeds of simulated cohorts start here (the reference cohort is seed 0)
SEED_BASE = 1_000_000


def refusal(label: str) -> str | None:
    """Why ``label`` cannot be refitted per simulated study (None: it can)."""
    from benchmark.contract.base import BaseMethod
    from benchmark.contract.registry import get_method_class

    method = label.split("[", 1)[0]
    cls = get_method_class(method)
    if cls.uses_images:
        return f"{label}: reads images (uses_images), too costly to refit per simulated study"
    if cls.relative_cost > BaseMethod.relative_cost:
        return (
            f"{label}: relative_cost {cls.relative_cost:g} above a table lookup's "
            f"({BaseMethod.relative_cost:g}), too costly to refit per simulated study"
        )
    return None


def simulate(
    config: dict[str, Any],
    test_fraction: float,
    comparisons: list[tuple[str, str]],
    metric: str,
    n_values: list[int],
    n_sim: int,
) -> pd.DataFrame:
    """One row per comparison × n: power, its MC SE, type I error under no effect, mean
    effect and the mean realised number of paired test patients."""
    from benchmark.data.sources import list_datasets

    dataset = str(config["dataset"])
    if dataset not in list_datasets():
        raise ValueError(
            f"--simulate needs a run on a registered generator (synthetic sources: "
            f"{', '.join(list_datasets(tag='scenario'))}); this run's dataset is {dataset}"
        )
    refused = [why for pair in comparisons for label in pair if (why := refusal(label))]
    if refused:
        raise ValueError("--simulate: " + "; ".join(refused))
    labels = sorted({label for pair in comparisons for label in pair})
    studies: dict[tuple[int, int], pd.DataFrame] = {}
    with tempfile.TemporaryDirectory(prefix="flb-simulate-") as tmp:
        with private_cache(Path(tmp), share_datasets=False):
            for k, n in enumerate(n_values):
                patients = max(8, math.ceil(n / test_fraction))
                for s in range(n_sim):
                    studies[(n, s)] = _one_study(
                        config, labels, patients, SEED_BASE + 10_000 * k + s, Path(tmp)
                    )
    rows = []
    for a, b in comparisons:
        pairs = {key: power.paired(pooled, a, b) for key, pooled in studies.items()}
        d_all = np.concatenate([_differences(p) for p in pairs.values()])
        centre = float(d_all.mean())
        for n in n_values:
            mine = [pairs[(n, s)] for s in range(n_sim)]
            p = np.array([power.p_value(q, metric) for q in mine])
            null = (
                np.array([power.p_value(q, "mae", centre) for q in mine])
                if metric == "mae"
                else np.full(len(mine), np.nan)
            )
            share = float((p < power.ALPHA).mean())
            rows.append(
                {
                    "method_a": a,
                    "method_b": b,
                    "metric": metric,
                    "n": int(n),
                    "paired_n_mean": float(np.mean([q.n for q in mine])),
                    "effect_mean": float(np.mean([power.observed_effect(q, metric) for q in mine])),
                    "power": share,
                    "power_se": float(np.sqrt(share * (1 - share) / n_sim)),
                    "type1_no_effect": float((null < power.ALPHA).mean())
                    if metric == "mae"
                    else np.nan,
                    "n_sim": n_sim,
                }
            )
    return pd.DataFrame(rows)


def _differences(pairs: power.Pairs) -> np.ndarray:
    return np.abs(pairs.pred_a - pairs.ga_true) - np.abs(pairs.pred_b - pairs.ga_true)


def _one_study(
    config: dict[str, Any], labels: list[str], patients: int, seed: int, tmp: Path
) -> pd.DataFrame:
    options = {**config.get("dataset_options", {}), "patients": patients, "seed": seed}
    options["size"] = SIM_SIZE
    chatter = io.StringIO()  # the runner's progress, shown only if the study fails
    with contextlib.redirect_stderr(chatter), contextlib.redirect_stdout(chatter):
        done = runner.run(
            runner.RunConfig(
                dataset=str(config["dataset"]),
                dataset_options=options,
                methods=labels,
                split=str(config.get("split", "paper")),
                seeds=[0],
                group_edges=tuple(config.get("group_edges", (30.0, 36.0))),
                runs_dir=str(tmp / "runs"),
                backend="sequential",
                n_jobs=1,
                resume=False,
            )
        )
    if done.n_failed or not (done.run_dir / "predictions.csv").stat().st_size > 1:
        raise RuntimeError(
            f"simulated study (seed {seed}, {patients} patients) failed:\n"
            + chatter.getvalue()[-2000:]
        )
    predictions = pd.read_csv(done.run_dir / "predictions.csv")
    return pooled_patient_predictions(predictions, "patient")
