"""The faithful ``paper`` profile builds and trains (tiny data, one step per stage)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _nets_cohort import write_nets_cohort  # noqa: E402

from benchmark.cohort import Cohort  # noqa: E402
from benchmark.nets.method import PROFILES  # noqa: E402
from benchmark.registry import create_method  # noqa: E402


@pytest.mark.slow
def test_paper_profile_builds_and_trains(tmp_path):
    prof = PROFILES["paper"]
    assert (prof.size_mm, prof.lr, prof.batch_size, prof.width, prof.grid) == (
        32.0, 1e-5, 16, 64, 64)
    # 32 mm at 0.125 mm/px = 256 px: a 256 px lung holds exactly one whole-patch centre,
    # so one training image gives 1 lung + 1 non-lung patch: one small step per stage (a
    # full batch of 16 at width 64 costs ~230 GFLOP, a minute on a laptop CPU)
    root = write_nets_cohort(tmp_path / "c", n=2, size=512, spacing=0.125,
                             lung=(slice(0, 256), slice(0, 256)))
    cohort = Cohort.load(root)
    ids = list(cohort.patients.index)
    method = create_method("unet-transfer", profile="paper", max_epochs=1)
    method.random_state, method.device = 0, "cpu"
    method.fit(cohort.train_view(ids[:1]))
    assert method.cost_["layers"] == 39 and method.cost_["width"] == 64
    assert method.cost_["parameters"] > 25_000_000
    assert method.cost_["n_stage1_patches"] == 2 and method.cost_["n_stage2_patches"] == 1
    assert list(method.training_curves_["stage"]) == ["stage1", "stage2"]
    assert method.cost_["train_steps"] == 2  # one step per stage
    pred = method.predict(cohort.test_view(ids[1:]))
    assert np.isfinite(pred).all()
