"""``plan --simulate``: fresh synthetic cohorts per n, the cheap methods refitted."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmark.execution.plan_simulate import SIM_SIZE, refusal, simulate

#: the reference run's configuration, one frame per patient (cheaper; the methods that
#: qualify read no pixels); the paper split tests 150 of 316 patients
CONFIG = {
    "dataset": "synthetic",
    "dataset_options": {"images_per_patient": 1},
    "split": "paper",
    "group_edges": [30.0, 36.0],
}
FRACTION = 150 / 316


def test_only_methods_declared_cheap_and_pixel_free_qualify() -> None:
    assert all(refusal(m) is None for m in ("biometry-hadlock", "dummy-mean", "oracle"))
    assert "uses_images" in refusal("glcm-ridge") and "uses_images" in refusal("unet-transfer")
    with pytest.raises(ValueError, match="glcm-ridge: reads images") as caught:
        simulate(CONFIG, FRACTION, [("glcm-ridge", "biometry-hadlock")], "mae", [10], 1)
    assert "\n" not in str(caught.value)


def test_the_patient_table_does_not_depend_on_the_frame_size(tmp_path) -> None:
    # why simulated cohorts may be rendered at the smallest frame
    from benchmark.data.sources import get_dataset_source

    source = get_dataset_source("synthetic")
    small = source.factory(tmp_path / "a", patients=12, size=SIM_SIZE, seed=3, progress=False)
    large = source.factory(tmp_path / "b", patients=12, size=96, seed=3, progress=False)
    assert (small / "patients.csv").read_bytes() == (large / "patients.csv").read_bytes()
    # the per-frame maturity the oracle reads, too
    frames = [pd.read_csv(root / "images.csv")["truth_maturity"] for root in (small, large)]
    assert frames[0].equals(frames[1])


@pytest.mark.slow
def test_simulated_power_rises_with_n_and_is_alpha_at_no_effect(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLB_CACHE", str(tmp_path / "cache"))
    # two fixed biometry formulas (nothing fitted): on the reference run Hadlock's MAE is
    # 0.17 wk above INTERGROWTH's, paired effect size 0.27, so a paired t-test has little
    # power at 8 test patients and most at 120
    pair = [("biometry-hadlock", "biometry-intergrowth")]
    # 8 studies per n (each a generated cohort and a run, ~1 s): at α = 0.05, 3 or more
    # rejections of 8 has probability 0.006
    table = simulate(CONFIG, FRACTION, pair, "mae", [8, 120], 8)
    low, high = table["power"]
    assert high > low + 0.3 and high >= 0.5
    assert table["effect_mean"].iloc[1] > 0  # Hadlock's error is the larger
    # the same studies shifted to no effect reject about α (≤ 2 of 8; without the shift
    # the n = 120 row would reject as often as its power)
    assert (table["type1_no_effect"] <= 2 / 8).all()
    assert table["paired_n_mean"].iloc[1] == pytest.approx(120, abs=4)
