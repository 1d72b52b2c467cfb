"""Positive control on a small cohort: the nets (the U-Net and the timm preset, same engine)
must learn GA where it is only in the texture.

``write_nets_cohort`` makes lung texture coarser with GA at constant grey mean and SD, so the
first-order patch floor (``patchstats-ridge``) has little to read and a net that learns
texture must beat it.  Slow (a real fit of a few hundred steps); the speed figure lives in
``tests/benchmarks/test_bench_nets.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

torch = pytest.importorskip("torch")

from _nets_cohort import write_nets_cohort  # noqa: E402

from benchmark.contract.registry import create_method  # noqa: E402
from benchmark.data.cohort import Cohort  # noqa: E402


@pytest.mark.slow
# timm's ResNet (batch norm) fits these 30 training patients
# within an epoch: its eval-mode validation MAE is best at epoch 1 and then rises (train
# MSE 0.04 → 0.006) while early stopping restores epoch 1, which reaches the r asked for;
# so the falling-curve check is the U-Net's only
@pytest.mark.parametrize(
    "name, curve_falls", [("unet-scratch", True), ("timm-test_resnet-scratch", False)]
)
def test_net_learns_texture_beyond_first_order_statistics(tmp_path, name, curve_falls):
    cohort = Cohort.load(write_nets_cohort(tmp_path / "c", n=40, seed=3))
    ids = list(cohort.patients.index)
    train_ids, test_ids = ids[0::4] + ids[1::4] + ids[2::4], ids[3::4]
    train, test = cohort.train_view(train_ids), cohort.test_view(test_ids)
    truth = cohort.patients.loc[test_ids, "ga_weeks"]

    net = create_method(name, patch_mm=4.0, max_steps=300)
    net.random_state, net.device = 0, "cpu"
    pred = net.fit(train).predict(test)
    r_net = stats.pearsonr(net.predict_patients(test, pred), truth)[0]

    floor = create_method("patchstats-ridge", patch_mm=4.0, n_patches=32, inner_folds=3)
    r_floor = stats.pearsonr(floor.fit(train).predict(test), truth)[0]

    curve = net.training_curves_
    if curve_falls:
        assert curve["val_mae_weeks"].iloc[-1] < curve["val_mae_weeks"].iloc[0]  # it learned
    assert r_net >= 0.8, (r_net, r_floor)
    assert r_net > r_floor + 0.1, (r_net, r_floor)
    assert np.isfinite(pred).all()
