"""Net training throughput (patches/s, FLOP/s vs the measured matmul peak) and a fit."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "width,grid,batch",
    [(8, 16, 16), (8, 16, 128), (16, 32, 64), (64, 64, 2)],
    ids=["light-batch16", "light", "width16-32px", "paper-width-batch2"],
)
def test_bench_unet_training_step(benchmark, width, grid, batch):
    """One Adam step, 1 thread, channels-last as the engine trains (see nets/training).
    ``light`` is the default profile's shape; ``width16-32px`` shows the fraction of the
    matmul peak once convolutions have enough channels (docs/nets.md, efficiency).  The
    paper's width runs a batch of 2, not 16: a full paper step is ~230 GFLOP."""
    from benchmark.kits.nets.runtime import deterministic, matmul_peak, step_flops
    from benchmark.kits.nets.unet import ResidualUNet

    with deterministic(0, "cpu"):
        net = ResidualUNet(width).to(memory_format=torch.channels_last)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        x = (torch.rand(batch, 1, grid, grid) * 255).contiguous(memory_format=torch.channels_last)
        y = torch.rand(batch)

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss

        flops = step_flops(lambda: torch.nn.functional.mse_loss(net(x), y).backward())
        rounds = 1 if width == 64 else 3
        benchmark.pedantic(step, rounds=rounds, iterations=1, warmup_rounds=1)
        peak = matmul_peak("cpu")
    assert flops > 0 and peak > 0
    if benchmark.stats is not None:
        mean = benchmark.stats.stats.mean
        benchmark.extra_info.update(
            patches_per_s=batch / mean,
            flops_per_s=flops / mean,
            matmul_peak=peak,
            fraction_of_peak=flops / mean / peak,
        )


def test_bench_unet_transfer_fit(benchmark, small_synthetic_root, tmp_path, monkeypatch):
    """Light-profile unet-transfer on the 24-patient cohort, 40 steps per stage."""
    from benchmark.contract.registry import create_method
    from benchmark.data.cohort import Cohort

    monkeypatch.setenv("FLB_CACHE", str(tmp_path))  # cold patch cache: measure the work
    cohort = Cohort.load(small_synthetic_root)
    ids = list(cohort.patients.sort_values("enrolment_order").index)
    train = cohort.train_view(ids[:16])

    def fit():
        method = create_method("unet-transfer", max_steps=40)
        method.random_state, method.device = 0, "cpu"
        return method.fit(train)

    method = benchmark.pedantic(fit, rounds=1, iterations=1)
    assert np.isfinite(method.training_curves_["train_loss"]).all()
    if benchmark.stats is not None:
        benchmark.extra_info.update(
            {
                k: method.cost_[k]
                for k in (
                    "train_patches_per_s",
                    "train_flops_per_s",
                    "fraction_of_matmul_peak",
                    "fraction_of_matmul_peak_idle",
                )
            }
        )
