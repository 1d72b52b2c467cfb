"""Synthetic generation speed (results/performance.md budget: ≥ 20 images/s at 512×512 on 2 cores).

Run: ``python -m pytest tests/benchmarks/test_bench_synthetic.py --benchmark-enable``.
The figure printed in ``extra_info`` is images/s for one process; ``write_dataset`` runs
two processes on a 2-core machine.
"""

from __future__ import annotations

import importlib

import pytest

from benchmark.data.sources import list_datasets

N_FRAMES = 8


@pytest.fixture(scope="module")
def frame_args():
    list_datasets()
    gen = importlib.import_module("benchmark._plugins.datasets._synth_generate")
    cohort = importlib.import_module("benchmark._plugins.datasets._synth_cohort")
    rows = [row for _, row in cohort.make_cohort(N_FRAMES, seed=0, null=False).iterrows()]
    gen.frame(rows[0], 0, 0, 512)  # warm-up (imports, FFT plans)
    return gen, rows


def test_generate_frames_512(benchmark, frame_args) -> None:
    gen, rows = frame_args

    def render_all():
        return [gen.frame(row, 0, 0, 512) for row in rows]

    frames = benchmark.pedantic(render_all, rounds=3, iterations=1)
    assert len(frames) == N_FRAMES and frames[0][0].image.shape == (512, 512)
    if benchmark.stats is not None:  # None when run with --benchmark-disable
        benchmark.extra_info["images_per_s_one_process"] = N_FRAMES / benchmark.stats["mean"]


def test_write_dataset_512_two_processes(benchmark, frame_args, tmp_path, monkeypatch) -> None:
    """The budget's figure (results/performance.md): images/s of the whole write path (frames
    + PNGs + manifests) with the two forked workers used on a 2-core machine."""
    gen, _ = frame_args
    monkeypatch.setattr(gen, "MIN_PARALLEL_IMAGES", 0)
    rounds = iter(range(100))
    n_images = 16

    def write():
        root = tmp_path / f"r{next(rounds)}"
        root.mkdir()
        gen.write_dataset(
            root,
            "synthetic",
            patients=n_images // 2,
            images_per_patient=2,
            seed=0,
            size=512,
            routes=gen.SCENARIOS["synthetic"],
            progress=False,
            n_jobs=2,
        )
        return root

    root = benchmark.pedantic(write, rounds=2, iterations=1)
    assert len(list((root / "images").glob("*.png"))) == n_images
    if benchmark.stats is not None:
        benchmark.extra_info["images_per_s_two_processes"] = n_images / benchmark.stats["mean"]
