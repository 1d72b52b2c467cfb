"""The common method checks (benchmark.testing.check_method) over every available method,
and proof that they catch broken plugins."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import BaseMethod
from benchmark.contract.registry import discover, list_methods
from benchmark.data.cohort import Cohort
from benchmark.testing import MethodCheckError, check_method, find_leaks, write_check_cohort

BROKEN_PLUGINS = Path(__file__).parent / "plugins_broken"


@pytest.fixture(scope="module")
def check_root(tmp_path_factory) -> Path:
    return write_check_cohort(tmp_path_factory.mktemp("common") / "cohort")


@pytest.mark.parametrize("name", list_methods("all", available_only=True))
def test_every_available_method_passes_the_common_checks(name, check_root):
    done = check_method(name, check_root)
    assert {"init", "fit", "predict", "no_leak", "deterministic", "provenance"} <= set(done)


# -- broken plugins fail -------------------------------------------------------------------
class _Mean(BaseMethod):
    name = "broken-base"

    def fit(self, train):
        self.mean_ = float(train.patients["ga_weeks"].mean())
        return self

    def predict(self, test) -> pd.Series:
        return pd.Series(self.mean_, index=test.images.index, dtype=float)


class _FitReturnsNone(_Mean):
    name = "broken-fit"

    def fit(self, train):
        super().fit(train)


class _InitComputes(_Mean):
    name = "broken-init"

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.scale_ = 2.0  # fitted state in __init__


class _WrongIndex(_Mean):
    name = "broken-index"

    def predict(self, test) -> pd.Series:
        return super().predict(test).iloc[1:]


class _OutOfRange(_Mean):
    name = "broken-range"

    def predict(self, test) -> pd.Series:
        return super().predict(test) * 7  # days, not weeks


class _BadProvenance(_Mean):
    name = "broken-provenance"

    def prediction_provenance(self, test) -> pd.Series:
        return pd.Series("guessed", index=test.images.index)


class _BadSegment(_Mean):
    name = "broken-segment"
    segments = True

    def segment(self, record) -> np.ndarray:
        return np.full((3, 3), 0.5)


class _ForgetsOnLoad(_Mean):
    name = "broken-load"
    saves = True

    def save(self, path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "model.json").write_text(json.dumps({"mean": self.mean_ + 1}))

    @classmethod
    def load(cls, path):
        method = cls()
        method.mean_ = json.loads((Path(path) / "model.json").read_text())["mean"]
        return method


class _Pickles(_ForgetsOnLoad):
    name = "broken-pickle"

    def save(self, path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "model.bin").write_bytes(pickle.dumps({"mean": self.mean_}))

    @classmethod
    def load(cls, path):
        method = cls()
        method.mean_ = pickle.loads((Path(path) / "model.bin").read_bytes())["mean"]
        return method


class _SavesUndeclaredLoad(_Mean):
    name = "broken-declaration"
    saves = True  # but no save/load


class _UnknownRole(_Mean):
    name = "broken-role"
    role = "champion"


@pytest.mark.parametrize("cls, check", [
    (_FitReturnsNone, "fit"), (_InitComputes, "init"), (_WrongIndex, "predict"),
    (_OutOfRange, "predict"), (_BadProvenance, "provenance"), (_BadSegment, "segment"),
    (_ForgetsOnLoad, "save_load"), (_Pickles, "save_load"),
    (_SavesUndeclaredLoad, "declarations"), (_UnknownRole, "declarations"),
])
def test_a_broken_method_fails_the_named_check(cls, check, check_root):
    with pytest.raises(MethodCheckError, match=f"{cls.name}: {check}:"):
        check_method(cls, check_root)
    check_method(_Mean, check_root)  # the same plumbing without the fault passes


def test_a_broken_registered_plugin_fails(check_root, monkeypatch):
    monkeypatch.setenv("FLB_METHODS_PATH", str(BROKEN_PLUGINS))
    discover(force=True)
    try:
        assert "broken-unseeded" in list_methods("all", available_only=True)
        with pytest.raises(MethodCheckError, match="broken-unseeded: deterministic:"):
            check_method("broken-unseeded", check_root)
    finally:
        monkeypatch.delenv("FLB_METHODS_PATH")
        discover(force=True)


def test_the_leak_check_sees_a_loader_holding_the_whole_table(check_root):
    cohort = Cohort.load(check_root)
    ids = list(cohort.patients.index)
    test = cohort.test_view(ids[5:])
    assert find_leaks(test) == []
    assert find_leaks(cohort.test_view(ids[5:], include_truth=True), allow_truth=True) == []
    # what the loader held before the contract: the whole images table, GA included
    test._loader._rows = cohort.images
    assert any("ga_weeks" in leak for leak in find_leaks(test))
    assert find_leaks({"cohort": cohort.patients})  # and truth/GA through a dict


def test_predict_round_trips_every_saving_method(check_root, tmp_path):
    """``benchmark predict`` reloads every saving method's model from a run and gives the
    run's own predictions for the traced test images."""
    from benchmark import cli
    from benchmark.contract.registry import get_method_class
    from benchmark.execution.runner import RunConfig, run
    from benchmark.testing import FAST_PARAMS

    selections = []
    for name in list_methods("all", available_only=True):
        cls = get_method_class(name)
        if cls.saves:
            fast = [f"{k}={v}" for k, v in FAST_PARAMS.items() if k in cls.parameters]
            selections.append(name + (f"[{','.join(fast)}]" if fast else ""))
    result = run(RunConfig(dataset=str(check_root), methods=selections,
                           run_dir=str(tmp_path / "run")))
    assert (result.cells["status"] == "done").all(), result.cells.get("error")
    preds = pd.read_csv(result.run_dir / "predictions.csv", dtype={"image_id": str})
    images = pd.read_csv(check_root / "images.csv").set_index("image_id")
    traced = set(images.index[images["lung_mask_path"].notna()])
    for label in result.cells["label"]:
        out = tmp_path / f"{label}.csv"
        assert cli.main(["predict", "--model", str(result.run_dir), "--method", label,
                         str(check_root), "--out", str(out)]) == 0, label
        got = pd.read_csv(out, dtype={"image_id": str}).set_index("image_id")["ga_pred_weeks"]
        mine = preds[(preds["label"] == label) & (preds["level"] == "image")
                     & preds["image_id"].isin(traced)].set_index("image_id")["ga_pred"]
        assert len(mine) > 0
        np.testing.assert_allclose(got.loc[mine.index], mine.round(2), atol=0.011,
                                   err_msg=label)
