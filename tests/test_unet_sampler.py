"""On-the-fly patch sampling of the nets: fresh per epoch, deterministic per seed, both norms."""

from __future__ import annotations

import numpy as np
import pytest
from _nets_cohort import write_nets_cohort

from benchmark.data.cohort import Cohort
from benchmark.kits.nets.profiles import PROFILES, resolve_profile
from benchmark.kits.nets.sampler import IMAGE_NORM_HIGH, IMAGE_NORM_LOW, PatchPool


@pytest.fixture(scope="module")
def view(tmp_path_factory):
    cohort = Cohort.load(write_nets_cohort(tmp_path_factory.mktemp("pool") / "c", n=6))
    return cohort.train_view(list(cohort.patients.index))


def _stage2_draw(view, seed):
    from benchmark.kits.nets.stages import stage2_data

    prof = resolve_profile("light", "t", {"patch_mm": 4.0})
    pool = PatchPool(view, prof.grid, prof.size_mm, prof.norm)
    ga = view.ga_by_image.reindex([im.image_id for im in pool.images]).to_numpy(float)
    draw, _ = stage2_data(pool, np.arange(len(pool)), np.array([], int), prof, seed, ga, "cpu")
    return draw


def test_fresh_patches_every_epoch_and_same_seed_same_patches(view):
    draw, again, other = _stage2_draw(view, 0), _stage2_draw(view, 0), _stage2_draw(view, 1)
    x1, y1 = draw(1)
    assert x1.shape == (6 * PROFILES["light"].lung_per_image, 16, 16) and x1.dtype == np.uint8
    assert np.array_equal(x1, again(1)[0]) and np.array_equal(y1, again(1)[1])
    assert not np.array_equal(x1, draw(2)[0])  # a fresh draw each epoch
    assert not np.array_equal(x1, other(1)[0])  # another seed, other patches
    # targets follow the patch's image: normalised GA in [0, 1]
    assert ((y1 >= 0) & (y1 <= 1)).all() and len(np.unique(y1)) == 6


def test_windows_respect_the_label_rules(view):
    pool = PatchPool(view, 16, 4.0)
    rng = np.random.default_rng(0)
    for kind, lo, hi in (("lung", 1.0, 1.0), ("nonlung", 0.0, 0.0), ("edge", 1e-6, 1 - 1e-6)):
        _, _, cover = pool.draw(kind, 20, rng, with_cover=True)
        share = (cover >= 0.5).mean(axis=(1, 2))
        assert len(share) and (share >= lo).all() and (share <= hi).all(), kind


def test_image_norm_maps_field_percentiles(view):
    fixed, image = PatchPool(view, 16, 4.0, "fixed"), PatchPool(view, 16, 4.0, "image")
    record = view.load_image(view.images.index[0])
    lo, hi = np.percentile(record.pixels[record.pixels > 0], [5, 95])
    a, b = fixed.images[0].pixels.astype(float), image.images[0].pixels.astype(float)
    inside = (a > lo + 2) & (a < hi - 2)
    expected = IMAGE_NORM_LOW + (a - lo) * (IMAGE_NORM_HIGH - IMAGE_NORM_LOW) / (hi - lo)
    assert np.abs(b[inside] - expected[inside]).max() <= 1.5  # rounding of two uint8 steps
    with pytest.raises(ValueError, match="norm must be"):
        resolve_profile("light", "unet-transfer", {"norm": "zscore"})


def test_lr_schedule_warms_up_then_decays_to_zero():
    from benchmark.kits.nets.training import lr_factor

    f = [lr_factor(s, 10, 100) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == 1.0 and max(f) == 1.0
    assert all(a >= b for a, b in zip(f[10:], f[11:])) and f[-1] < 0.01
    assert lr_factor(50, 0, 100, "constant") == 1.0


def test_stage_loss_mse_and_bce_dice():
    torch = pytest.importorskip("torch")
    from benchmark.kits.nets.training import stage_loss

    target = torch.zeros(2, 1, 8, 8)
    target[0, :, 2:6, 2:6] = 1.0  # one tile with a lung square, one without lung
    perfect = 0.98 * target + 0.01  # 0.99 on the lung, 0.01 elsewhere
    inverted = 1.0 - perfect
    assert stage_loss(perfect, target) == pytest.approx(float(((perfect - target) ** 2).mean()))
    good, bad = stage_loss(perfect, target, "bce+dice"), stage_loss(inverted, target, "bce+dice")
    assert float(good) < 0.25 < 1.0 < float(bad)
    # Dice scores overlap: missing half the lung (8 of 128 pixels) costs far more than the
    # 6 % of pixels per-pixel MSE sees
    half = perfect.clone()
    half[0, :, 2:4, 2:6] = 0.01
    assert float(stage_loss(half, target, "bce+dice")) > float(good) + 0.15
    assert float(stage_loss(half, target)) < float(stage_loss(perfect, target)) + 0.07
    with pytest.raises(ValueError, match="dense loss must be"):
        stage_loss(perfect, target, "l1")


def test_profile_overrides_per_stage():
    light = resolve_profile("light", "unet-transfer", {})
    assert light.stage1_loss == "bce+dice"
    assert resolve_profile("paper", "unet-transfer", {}).stage1_loss == "mse"
    prof = resolve_profile(
        "light",
        "unet-transfer",
        {"max_steps": 50, "max_steps_stage2": 70, "patience": 9, "stage1_loss": "mse"},
    )
    assert (prof.max_steps_stage1, prof.max_steps_stage2, prof.patience) == (50, 70, 9)
    assert prof.stage1_loss == "mse"
    with pytest.raises(ValueError, match="stage1_loss must be"):
        resolve_profile("light", "unet-transfer", {"stage1_loss": "l1"})
