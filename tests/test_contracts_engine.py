"""Engine contracts: declared roles in cell records, prediction provenance and
``--fallback``, GA-free ``skip()``, and cell ids that change with the method's source."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from benchmark.contract.registry import discover
from benchmark.data.cohort import DatasetInfo
from benchmark.execution.cell import declared_roles
from benchmark.execution.runner import RunConfig, _one_line, run
from benchmark.testing import write_check_cohort

METHODS = ["dummy-mean", "oracle", "biometry-hadlock", "glcm-ridge[inner_folds=2]"]


@pytest.fixture(scope="module")
def check_root(tmp_path_factory) -> Path:
    return write_check_cohort(tmp_path_factory.mktemp("engine") / "cohort", n_patients=12)


@pytest.fixture(scope="module")
def predicted(check_root, tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    return run(
        RunConfig(
            dataset=str(check_root),
            methods=METHODS,
            split="kfold:3",
            runs_dir=str(runs),
            run_dir=str(runs / "predict"),
        )
    )


def test_cell_records_carry_declared_roles(predicted):
    cells = predicted.cells.set_index("label")
    assert (cells["status"] == "done").all(), cells.get("error")
    roles = cells.groupby(level=0)["role"].first().to_dict()
    assert roles["dummy-mean"] == "floor" and roles["oracle"] == "ceiling"
    assert roles["biometry-hadlock"] == "reference"
    assert pd.isna(roles["glcm-ridge[inner_folds=2]"])
    saved = pd.read_csv(predicted.run_dir / "cells.csv")
    assert {"role", "control_of"} <= set(saved.columns)


def test_control_of_names_the_controlled_cell_with_the_same_parameters():
    assert declared_roles("unet-scratch", "unet-scratch[lr=0.001]") == {
        "role": None,
        "control_of": "unet-transfer[lr=0.001]",
    }
    assert declared_roles("timm-resnet18-scratch")["control_of"] == "timm-resnet18"
    assert declared_roles("unet-transfer")["control_of"] is None
    assert declared_roles("no-such-method") == {"role": None, "control_of": None}


def test_every_prediction_row_has_its_provenance(predicted):
    preds = pd.read_csv(predicted.run_dir / "predictions.csv", dtype={"image_id": str})
    assert preds["provenance"].notna().all()
    glcm = preds[preds["method"] == "glcm-ridge"]
    untraced = glcm[glcm["image_id"] == "C11_1"]  # the check cohort's one untraced image
    assert untraced["provenance"].tolist() == ["fallback:train-median-features"]
    patient = glcm[(glcm["level"] == "patient") & (glcm["patient_id"] == "C11")]
    assert patient["provenance"].tolist() == ["fallback:train-median-features"]
    assert (
        glcm.drop(untraced.index).query("patient_id != 'C11'")["provenance"] == "measured"
    ).all()
    assert (preds[preds["method"] == "dummy-mean"]["provenance"] == "measured").all()
    cells = predicted.cells.set_index("label")
    glcm_cells = cells.loc[["glcm-ridge[inner_folds=2]"]]
    assert glcm_cells["n_measured"].sum() == glcm_cells["n_images"].sum() - 1


def test_the_terminal_line_shows_measured_over_all():
    record = {
        "label": "glcm-ridge",
        "status": "done",
        "fit_seconds": 1.0,
        "predict_seconds": 0.5,
        "peak_rss_mb": 100,
        "n_measured": 9,
        "n_images": 10,
        "n_excluded": 0,
    }
    assert "measured 9/10" in _one_line(record)
    assert "(1 excluded)" in _one_line({**record, "n_excluded": 1})


def test_fallback_exclude_lists_what_it_leaves_out(predicted, check_root, tmp_path):
    result = run(
        RunConfig(
            dataset=str(check_root),
            methods=["glcm-ridge[inner_folds=2]"],
            split="kfold:3",
            run_dir=str(tmp_path / "exclude"),
            fallback="exclude",
        )
    )
    assert (result.cells["status"] == "done").all()
    preds = pd.read_csv(result.run_dir / "predictions.csv", dtype={"image_id": str})
    assert (preds["provenance"] == "measured").all() and "C11_1" not in set(preds["image_id"])
    # C11 keeps a patient GA from its measured image C11_0
    assert "C11" in set(preds.loc[preds["level"] == "patient", "patient_id"])
    excluded = pd.read_csv(result.run_dir / "excluded.csv", dtype={"image_id": str})
    assert excluded[["level", "image_id", "provenance"]].values.tolist() == [
        ["image", "C11_1", "fallback:train-median-features"]
    ]
    assert int(result.cells["n_excluded"].sum()) == 1
    kept = pd.read_csv(predicted.run_dir / "predictions.csv", dtype={"image_id": str})
    kept = kept[kept["method"] == "glcm-ridge"]
    assert len(kept) == len(preds) + 1  # exactly the excluded row, nothing else dropped
    with pytest.raises(ValueError, match="fallback must be one of predict, exclude"):
        run(
            RunConfig(
                dataset=str(check_root),
                methods=["dummy-mean"],
                run_dir=str(tmp_path / "bad"),
                fallback="drop",
            )
        )
    assert not (tmp_path / "bad").exists()  # refused before anything ran


def test_skip_gets_a_description_without_ga(check_root):
    from benchmark.data.cohort import Cohort

    info = Cohort.load(check_root).describe()
    assert isinstance(info, DatasetInfo)
    assert "ga_weeks" not in info.patient_columns + info.image_columns
    assert "delivery_ga_weeks" not in info.patient_columns
    assert "truth_maturity" in info.patient_columns  # the name only, for the oracle's skip
    assert info.n_traced_images == info.n_images - 1
    assert not any(isinstance(v, pd.DataFrame | pd.Series) for v in vars(info).values())


PROBE = """
import pandas as pd
from benchmark import BaseMethod, register_method


@register_method
class DigestProbe(BaseMethod):
    name = "digest-probe"

    def fit(self, train):
        self.mean_ = float(train.patients["ga_weeks"].mean()){extra}
        return self

    def predict(self, test):
        return pd.Series(self.mean_, index=test.images.index, dtype=float)
"""


def test_resume_recomputes_a_cell_after_its_method_changed(check_root, tmp_path, monkeypatch):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "digest_probe.py").write_text(PROBE.format(extra=""))
    monkeypatch.setenv("FLB_METHODS_PATH", str(plugins))
    discover(force=True)
    try:
        config = RunConfig(
            dataset=str(check_root), methods=["digest-probe"], run_dir=str(tmp_path / "run")
        )
        first = run(config)
        assert (first.n_computed, first.n_cached) == (1, 0)
        again = run(config)
        assert (again.n_computed, again.n_cached) == (0, 1)  # unchanged code: reused
        (plugins / "digest_probe.py").write_text(PROBE.format(extra="  # changed"))
        changed = run(config)
        assert (changed.n_computed, changed.n_cached) == (1, 0)  # changed code: recomputed
        assert set(changed.cells["cell_id"]).isdisjoint(first.cells["cell_id"])
    finally:
        monkeypatch.delenv("FLB_METHODS_PATH")
        discover(force=True)


BAD_DECLARATION = """
from benchmark import BaseMethod, register_method


@register_method
class SavesWithoutLoad(BaseMethod):
    name = "declares-saves"
    saves = True

    def save(self, path):
        pass

    def load(self, path):  # an instance method: predict could never call it
        return self
"""


def test_a_plugin_whose_declarations_lie_is_unavailable_with_the_reason(tmp_path, monkeypatch):
    from benchmark.contract.registry import list_methods, method_info

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "declares_saves.py").write_text(BAD_DECLARATION)
    monkeypatch.setenv("FLB_METHODS_PATH", str(plugins))
    discover(force=True)
    try:
        assert "declares-saves" not in list_methods("all", available_only=True)
        info = method_info("declares-saves")
        assert not info.available and "load must be a classmethod" in info.reason
    finally:
        monkeypatch.delenv("FLB_METHODS_PATH")
        discover(force=True)
