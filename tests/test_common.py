"""Every check suite of benchmark.testing over everything registered, one test per
(subject, check): methods, readers, report tables and figures, dataset sources, CLI verbs;
and proof that the method suite catches broken plugins (the other kinds' throw-away
plugins are in tests/test_check_suites.py)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import BaseMethod
from benchmark.cli import command_modules
from benchmark.contract.registry import discover, list_methods
from benchmark.data.cohort import Cohort
from benchmark.report.registry import list_figures, list_tables
from benchmark.testing import (
    CheckError,
    MethodCheckError,
    check_method,
    cli_checks,
    dataset_checks,
    figure_checks,
    find_leaks,
    method_checks,
    parametrize_with_checks,
    reader_checks,
    registered_readers,
    registered_sources,
    run_checks,
    table_checks,
    write_check_cohort,
)

BROKEN_PLUGINS = Path(__file__).parent / "plugins_broken"


@pytest.fixture(scope="module")
def check_root(tmp_path_factory) -> Path:
    return write_check_cohort(tmp_path_factory.mktemp("common") / "cohort")


@parametrize_with_checks(list_methods("all", available_only=True), method_checks)
def test_method(check):
    check()


def test_every_method_has_a_determinism_check():
    """What ``pytest -k deterministic`` selects: one check per available method."""
    names = list_methods("all", available_only=True)
    ids = [c.id for n in names for _, c in method_checks(n) if c.name == "deterministic"]
    assert ids == [f"{n}-deterministic" for n in names]


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
    def load(cls, path, device="cpu"):
        method = cls()
        method.mean_ = json.loads((Path(path) / "model.json").read_text())["mean"]
        return method


class _Pickles(_ForgetsOnLoad):
    name = "broken-pickle"

    def save(self, path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "model.bin").write_bytes(pickle.dumps({"mean": self.mean_}))

    @classmethod
    def load(cls, path, device="cpu"):
        method = cls()
        method.mean_ = pickle.loads((Path(path) / "model.bin").read_bytes())["mean"]
        return method


class _LoadWithoutDevice(_Mean):
    name = "broken-load-signature"
    saves = True

    def save(self, path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "model.json").write_text(json.dumps({"mean": self.mean_}))

    @classmethod
    def load(cls, path):  # BaseMethod.load(cls, path, device="cpu"): the engine passes it
        method = cls()
        method.mean_ = json.loads((Path(path) / "model.json").read_text())["mean"]
        return method


class _CurvesAsList(_Mean):
    name = "broken-curves"

    def fit(self, train):
        self.training_curves_ = [(1, 0.5)]
        return super().fit(train)


class _TestParamsTypo(_Mean):
    name = "broken-test-params"
    test_params = {"max_epoch": 1}


class _SavesUndeclaredLoad(_Mean):
    name = "broken-declaration"
    saves = True  # but no save/load


class _UnknownRole(_Mean):
    name = "broken-role"
    role = "champion"


@pytest.mark.parametrize(
    "cls, check",
    [
        (_FitReturnsNone, "fit"),
        (_InitComputes, "init"),
        (_WrongIndex, "predict"),
        (_OutOfRange, "predict"),
        (_BadProvenance, "provenance"),
        (_BadSegment, "segment"),
        (_ForgetsOnLoad, "save_load"),
        (_Pickles, "save_load"),
        (_SavesUndeclaredLoad, "declarations"),
        (_UnknownRole, "declarations"),
        (_LoadWithoutDevice, "save_load"),
        (_CurvesAsList, "optional_outputs"),
        (_TestParamsTypo, "declarations"),
    ],
)
def test_a_broken_method_fails_the_named_check(cls, check, check_root):
    with pytest.raises(MethodCheckError, match=f"{cls.name}: {check}:"):
        check_method(cls, check_root)
    check_method(_Mean, check_root)  # the same plumbing without the fault passes


def test_later_checks_still_run_after_a_failure(check_root):
    checks = dict(method_checks(_WrongIndex, check_root))
    with pytest.raises(CheckError, match="broken-index: predict:"):
        checks["predict"]()
    checks["no_leak"]()  # independent checks are unaffected
    checks["fit"]()
    with pytest.raises(CheckError, match="broken-index: deterministic:"):
        checks["deterministic"]()  # compares predictions, which are malformed


class _KnownFault(_FitReturnsNone):
    name = "known-fault"
    expected_failed_checks = {"fit": "returns None (a documented fault of this test class)"}


def test_a_declared_expected_failure_is_xfail_with_its_reason(check_root):
    checks = dict(method_checks(_KnownFault, check_root))
    assert checks["fit"].expected_failure.startswith("returns None")
    assert checks["init"].expected_failure is None
    mark = parametrize_with_checks([_KnownFault], method_checks)
    params = {p.id: p for p in mark.args[1]}
    (xfail,) = params["known-fault-fit"].marks
    assert xfail.name == "xfail" and xfail.kwargs["reason"].startswith("returns None")
    assert xfail.kwargs["strict"] and not params["known-fault-init"].marks
    # run outside pytest: the expected failure is not an error, the rest passes
    done = run_checks(
        (n, c)
        for n, c in method_checks(_KnownFault, check_root)
        if n in ("declarations", "init", "fit")
    )
    assert done == ["declarations", "init", "fit"]


def test_an_expected_failure_that_passes_is_reported(check_root):
    class FixedFault(_Mean):
        name = "fixed-fault"
        expected_failed_checks = {"fit": "used to return None"}

    with pytest.raises(CheckError, match="fixed-fault-fit: expected to fail"):
        check_method(FixedFault, check_root)


def test_an_expected_failure_naming_no_check_is_refused(check_root):
    class Typo(_Mean):
        name = "typo-fault"
        expected_failed_checks = {"determinstic": "typo"}

    with pytest.raises(ValueError, match="unknown check.*determinstic"):
        list(method_checks(Typo, check_root))


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

    selections = []
    for name in list_methods("all", available_only=True):
        cls = get_method_class(name)
        if cls.saves:
            fast = [f"{k}={v}" for k, v in cls.test_params.items()]
            selections.append(name + (f"[{','.join(fast)}]" if fast else ""))
    result = run(
        RunConfig(dataset=str(check_root), methods=selections, run_dir=str(tmp_path / "run"))
    )
    assert (result.cells["status"] == "done").all(), result.cells.get("error")
    preds = pd.read_csv(result.run_dir / "predictions.csv", dtype={"image_id": str})
    images = pd.read_csv(check_root / "images.csv").set_index("image_id")
    traced = set(images.index[images["lung_mask_path"].notna()])
    for label in result.cells["label"]:
        out = tmp_path / f"{label}.csv"
        assert (
            cli.main(
                [
                    "predict",
                    "--model",
                    str(result.run_dir),
                    "--method",
                    label,
                    str(check_root),
                    "--out",
                    str(out),
                ]
            )
            == 0
        ), label
        got = pd.read_csv(out, dtype={"image_id": str}).set_index("image_id")["ga_pred_weeks"]
        mine = preds[
            (preds["label"] == label) & (preds["level"] == "image") & preds["image_id"].isin(traced)
        ].set_index("image_id")["ga_pred"]
        assert len(mine) > 0
        np.testing.assert_allclose(got.loc[mine.index], mine.round(2), atol=0.011, err_msg=label)


# -- the other extension kinds: every registered one passes its suite -----------------------
@parametrize_with_checks(registered_readers(), reader_checks)
def test_reader(check):
    check()


@parametrize_with_checks(list_tables(), table_checks)
def test_table(check):
    check()


@parametrize_with_checks(list_figures(), figure_checks)
def test_figure(check):
    check()


@parametrize_with_checks(registered_sources(), dataset_checks)
def test_dataset_source(check):
    check()


@parametrize_with_checks(command_modules(), cli_checks)
def test_cli_verb(check):
    check()
