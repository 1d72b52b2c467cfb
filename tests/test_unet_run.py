"""unet-transfer and unet-scratch end to end through the real runner on a small synthetic
cohort: predictions, DSC, training curves and costs land in the run folder."""

from __future__ import annotations

import ast

import pandas as pd
import pytest

pytest.importorskip("torch")


@pytest.mark.slow
def test_nets_through_the_runner(tmp_path):
    from benchmark.data.sources import resolve_dataset
    from benchmark.execution.runner import RunConfig, run

    try:
        root = resolve_dataset("synthetic", patients=24, images_per_patient=1, size=256)
    except LookupError as exc:
        pytest.skip(f"synthetic cohort unavailable: {exc}")
    result = run(
        RunConfig(
            dataset=str(root),
            runs_dir=str(tmp_path / "runs"),
            device="cpu",
            methods=["unet-transfer[max_steps=1,seg_stride_mm=8]", "unet-scratch[max_steps=1]"],
        )
    )
    cells = pd.read_csv(result.run_dir / "cells.csv")
    assert result.n_failed == 0, cells.get("error")
    assert set(cells["method"]) == {"unet-transfer", "unet-scratch"}
    preds = pd.read_csv(result.run_dir / "predictions.csv")
    for method, rows in preds.groupby("method"):
        assert set(rows["level"]) == {"image", "patient"}
        assert rows["ga_pred"].between(20, 44).all(), method
    by_method = dict(zip(cells["method"], cells["cell_id"]))
    cell_dir = result.run_dir / "cells"
    dsc = pd.read_csv(cell_dir / by_method["unet-transfer"] / "dsc.csv")
    assert len(dsc) and dsc["dsc"].between(0, 1).all()
    assert not (cell_dir / by_method["unet-scratch"] / "dsc.csv").exists()
    curves = pd.read_csv(cell_dir / by_method["unet-transfer"] / "curves.csv")
    assert set(curves["stage"]) == {"stage1", "stage2"}
    cost = cells.set_index("method").loc["unet-transfer", "cost"]
    cost = ast.literal_eval(cost) if isinstance(cost, str) else cost  # the store's repr
    assert cost["layers"] == 39 and cost["fraction_of_matmul_peak"] > 0
    assert (cell_dir / by_method["unet-transfer"] / "model" / "model.pt").is_file()
