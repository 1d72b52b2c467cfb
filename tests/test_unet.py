"""The paper's U-Net and the two-stage protocol on a tiny cohort (small and fast)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from _nets_cohort import write_nets_cohort  # noqa: E402

from benchmark.contract.registry import create_method  # noqa: E402
from benchmark.data.cohort import Cohort  # noqa: E402

#: 4 mm patches on 16 px: the 64 px (16 mm) test images hold lung and non-lung patches;
#: one epoch per stage where nothing needs to be learned
TINY = {"patch_mm": 4.0, "max_steps": 2, "seg_stride_mm": 2.0, "stage1_px": 32}


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    cohort = Cohort.load(write_nets_cohort(tmp_path_factory.mktemp("nets") / "c"))
    ids = list(cohort.patients.index)
    return cohort.train_view(ids[::2] + ids[1::4]), cohort.test_view(ids[3::4])


def _fit(name, train, seed=0, **params):
    method = create_method(name, **{**TINY, **params})
    method.random_state, method.device = seed, "cpu"
    return method.fit(train)


@pytest.fixture(scope="module")
def transfer(views):
    # 5 epochs: enough for stage 1 to separate the (easy) lung from the rest
    return _fit("unet-transfer", views[0], max_steps=60)


def test_architecture_is_the_documented_reading():
    from benchmark.kits.nets.unet import ResidualUNet, count_blocks, count_layers

    net = ResidualUNet(width=4).eval()  # eval: dropout off, so two passes agree
    assert count_layers(net) == 39 and count_blocks(net) == 9
    x = torch.rand(3, 1, 32, 32) * 255
    out, dense = net(x), net.dense(x)
    assert out.shape == (3,) and dense.shape == (3, 1, 32, 32)
    assert torch.allclose(out, dense.mean(dim=(1, 2, 3)))  # scalar = mean of the dense map
    assert ((out > 0) & (out < 1)).all()
    assert sum(p.numel() for p in ResidualUNet(8).parameters()) > 3 * sum(
        p.numel() for p in net.parameters()
    )


def test_transfer_fits_predicts_and_segments(views, transfer):
    train, test = views
    pred = transfer.predict(test)
    assert list(pred.index) == list(test.images.index)
    assert np.isfinite(pred).all() and pred.between(20, 44).all()
    curves = transfer.training_curves_
    assert set(curves["stage"]) == {"stage1", "stage2"}
    assert curves[["train_loss", "val_loss"]].notna().all().all()
    cost = transfer.cost_
    assert cost["layers"] == 39 and cost["flops_per_step"] > 0
    assert 0 < cost["fraction_of_matmul_peak"] and cost["train_patches_per_s"] > 0
    record = test.load_image(test.images.index[0])
    prob = transfer.segment(record)
    assert prob.shape == record.pixels.shape and 0 <= prob.min() <= prob.max() <= 1
    # stage 1 learned the (easy) lung: higher scores inside the traced lung than outside
    assert prob[record.mask].mean() > prob[~record.mask].mean() + 0.1
    patients = transfer.predict_patients(test, pred)
    assert list(patients.index) == list(test.patients.index) and patients.notna().all()


def test_stage2_starts_from_stage1_weights(views, transfer):
    from benchmark.kits.nets.training import state_digest

    starts = transfer.stage_start_digest_
    assert starts["stage1"] == state_digest(transfer.init_state_)
    assert starts["stage2"] == state_digest(transfer.stage1_state_)  # the trained stage 1
    assert starts["stage2"] != starts["stage1"]
    assert state_digest(transfer.model_.state_dict()) != starts["stage2"]  # stage 2 trained
    scratch = _fit("unet-scratch", views[0])
    assert scratch.stage1_state_ is None and set(scratch.stage_start_digest_) == {"stage2"}
    # the control starts stage 2 from the same seeded initialisation stage 1 started from
    assert scratch.stage_start_digest_["stage2"] == starts["stage1"]
    assert set(scratch.training_curves_["stage"]) == {"stage2"}
    assert not scratch.segments and scratch.control_of == "unet-transfer"  # no lung head


def test_same_seed_same_predictions(views, transfer):
    train, test = views
    first, again = _fit("unet-transfer", train), _fit("unet-transfer", train)
    assert np.array_equal(first.predict(test), again.predict(test))
    record = test.load_image(test.images.index[0])
    assert np.array_equal(first.segment(record), again.segment(record))
    other = _fit("unet-transfer", train, seed=1)
    assert not np.array_equal(first.predict(test), other.predict(test))


def test_save_and_load_round_trip(views, transfer, tmp_path):
    test = views[1]
    transfer.save(tmp_path / "model")
    state = torch.load(tmp_path / "model" / "model.pt", weights_only=True)
    assert set(state) == set(transfer.model_.state_dict())
    assert json.loads((tmp_path / "model" / "config.json").read_text())["method"] == (
        "unet-transfer"
    )
    loaded = type(transfer).load(tmp_path / "model", device="cpu")
    pd.testing.assert_series_equal(loaded.predict(test), transfer.predict(test))
    record = test.load_image(test.images.index[0])
    assert np.array_equal(loaded.segment(record), transfer.segment(record))


def test_bad_geometry_is_a_one_line_error(views):
    with pytest.raises(ValueError, match="no training image has a lung region") as err:
        _fit("unet-transfer", views[0], patch_mm=30.0)
    assert "\n" not in str(err.value)
