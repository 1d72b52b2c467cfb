"""Cost accounting of a net fit: FLOPs per step, achieved FLOP/s against the matmul peak.

Rates are given twice: by wall clock and by this process's CPU time.  The CPU-time rate is
what an otherwise idle machine would show (wall-clock rates fall when other processes share
the cores; :func:`benchmark.kits.nets.runtime.matmul_peak` measures the peak the same way).
"""

from __future__ import annotations

import copy
from typing import Any


def count_flops(model, grid: int, batch_size: int, device: str) -> int:
    """FLOPs of one training step (forward + backward) of ``batch_size`` patches.

    Counted on a throw-away copy, so neither the weights nor the RNG stream are touched.
    FLOPs are linear in the batch: two samples are counted (two, because batch-norm nets
    refuse a batch of one in training mode) and scaled.
    """
    import torch

    from benchmark.kits.nets.runtime import step_flops

    state = torch.random.get_rng_state()
    probe = copy.deepcopy(model).train()
    x = torch.zeros(2, 1, grid, grid, device=device)
    y = torch.zeros(2, device=device)

    def step() -> None:
        torch.nn.functional.mse_loss(probe(x), y).backward()

    flops = step_flops(step) * batch_size // 2
    torch.random.set_rng_state(state)
    return flops


def training_cost(results: list, peak: float, threads: int, device: str) -> dict[str, Any]:
    """Throughput figures of the stages ``results`` (``training.StageResult``)."""
    seconds = sum(r.seconds for r in results)
    cpu_seconds = sum(r.cpu_seconds for r in results)
    steps = sum(r.steps for r in results)
    flops = sum(r.flops_per_step * r.steps for r in results)
    achieved = flops / seconds if seconds else float("nan")
    idle = flops * threads / cpu_seconds if cpu_seconds and device == "cpu" else None
    return {
        "device": device,
        "threads": threads,
        "train_patches_per_s": round(sum(r.patches_seen for r in results) / seconds, 1)
        if seconds
        else None,
        "train_steps": steps,
        "train_seconds": round(seconds, 2),
        "flops_per_step": results[-1].flops_per_step if results else 0,  # stage 2's
        "flops_per_step_by_stage": {
            r.history[0]["stage"]: r.flops_per_step for r in results if r.history
        },
        "train_flops_per_s": achieved,
        "matmul_peak_flops_per_s": peak,
        "fraction_of_matmul_peak": round(achieved / peak, 4),
        "train_cpu_seconds": round(cpu_seconds, 2),
        "train_flops_per_s_idle": idle,
        "fraction_of_matmul_peak_idle": round(idle / peak, 4) if idle else None,
        "epochs": {r.history[0]["stage"]: len(r.history) for r in results if r.history},
        "best_epoch": {r.history[0]["stage"]: r.best_epoch for r in results if r.history},
    }
