"""Statistics on a large predictions table (20 methods × 5 seeds × 300 patients × 3 images)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark import stats


@pytest.fixture(scope="module")
def big_predictions() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n_pat, n_img, seeds = 300, 3, range(5)
    ga = rng.uniform(24, 41, n_pat)
    group = np.where(ga <= 30, "24–30", np.where(ga <= 36, ">30–36", ">36"))
    frames = []
    for m in range(20):
        label = "biometry-hadlock" if m == 0 else f"method-{m:02d}"
        for seed in seeds:
            img_pred = np.repeat(ga, n_img) + rng.normal(0, 1 + m / 10, n_pat * n_img)
            pat_ids = np.repeat([f"P{i:04d}" for i in range(n_pat)], n_img)
            images = pd.DataFrame(
                {
                    "label": label,
                    "seed": seed,
                    "fold": 0,
                    "level": "image",
                    "patient_id": pat_ids,
                    "image_id": [f"{p}_{k}" for p, k in zip(pat_ids, np.tile(range(n_img), n_pat))],
                    "ga_true": np.repeat(ga, n_img),
                    "ga_pred": img_pred,
                    "group": np.repeat(group, n_img),
                }
            )
            patients = (
                images.groupby("patient_id", sort=True)
                .agg(
                    ga_true=("ga_true", "first"),
                    ga_pred=("ga_pred", "mean"),
                    group=("group", "first"),
                )
                .reset_index()
            )
            patients = patients.assign(label=label, seed=seed, fold=0, level="patient", image_id="")
            frames += [images, patients]
    return pd.concat(frames, ignore_index=True)


def test_bench_split_metrics(benchmark, big_predictions):
    result = benchmark(stats.split_metrics, big_predictions, "patient", False)
    assert len(result) == 20 * 5 * 4


def test_bench_pooled_metrics_with_bootstrap(benchmark, big_predictions):
    result = benchmark.pedantic(
        stats.pooled_metrics, (big_predictions, "patient"), rounds=1, iterations=1
    )
    assert result["r_boot_lo"].notna().all()


def test_bench_table2_paired(benchmark, big_predictions):
    result = benchmark(stats.table2, big_predictions, "biometry-hadlock", "patient")
    assert result["p_t_holm"].notna().sum() == 19 * 4
