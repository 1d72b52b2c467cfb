"""On-the-fly patch sampling of the nets: fresh per epoch, deterministic per seed, both norms."""

from __future__ import annotations

import numpy as np
import pytest
from _nets_cohort import write_nets_cohort

from benchmark.cohort import Cohort
from benchmark.nets.profiles import PROFILES, resolve_profile
from benchmark.nets.sampler import IMAGE_NORM_HIGH, IMAGE_NORM_LOW, PatchPool


@pytest.fixture(scope="module")
def view(tmp_path_factory):
    cohort = Cohort.load(write_nets_cohort(tmp_path_factory.mktemp("pool") / "c", n=6))
    return cohort.train_view(list(cohort.patients.index))


def _stage2_draw(view, seed):
    from benchmark.nets.stages import stage2_data

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
    from benchmark.nets.training import lr_factor

    f = [lr_factor(s, 10, 100) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == 1.0 and max(f) == 1.0
    assert all(a >= b for a, b in zip(f[10:], f[11:])) and f[-1] < 0.01
    assert lr_factor(50, 0, 100, "constant") == 1.0
