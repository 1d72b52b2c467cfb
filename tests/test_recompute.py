"""``check-results --recompute K``: cells rerun from scratch against committed predictions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from benchmark.execution import runner
from benchmark.execution.recompute import _family, choose_cells, recompute, scratch_seconds

RESULTS = Path(__file__).resolve().parents[1] / "results"
EXECUTION = {"backend": "sequential", "n_jobs": 1}


@pytest.fixture(scope="module")
def committed(tabular_cohort, tmp_path_factory):
    """A run of three cheap methods on the tabular cohort, as results/ would hold it."""
    root = tmp_path_factory.mktemp("recompute")
    mp = pytest.MonkeyPatch()
    mp.setenv("FLB_CACHE", str(root / "cache"))
    done = runner.run(
        runner.RunConfig(
            dataset=str(tabular_cohort),
            methods=["dummy-mean", "biometry-hadlock", "biometry-fit"],
            runs_dir=str(root / "runs"),
            **EXECUTION,
        )
    )
    yield done.run_dir
    mp.undo()


def test_recompute_reproduces_a_run_and_fails_on_a_changed_prediction(committed, tmp_path):
    result = recompute(committed, 3, execution=EXECUTION)
    # one cell per method family: dummy-mean and the cheaper of the two biometry cells
    assert {c.family for c in result.cells} == {"dummy_mean", "biometry"}
    assert not result.problems and all(c.max_abs_diff == 0 for c in result.cells)
    biometry = next(c.label for c in result.cells if c.family == "biometry")
    # a committed number the code no longer computes fails, naming the cell
    changed = tmp_path / "changed"
    shutil.copytree(committed, changed)
    predictions = pd.read_csv(changed / "predictions.csv")
    first = predictions["label"] == biometry
    predictions.loc[first.idxmax(), "ga_pred"] += 0.01
    predictions.to_csv(changed / "predictions.csv", index=False)
    result = recompute(changed, 3, execution=EXECUTION)
    assert len(result.problems) == 1 and result.problems[0].startswith(f"{biometry}: ")


def test_choice_follows_declared_cost_and_committed_seconds_not_names():
    if not (RESULTS / "cells.csv").is_file():
        pytest.skip("results/ has no cells.csv")
    cells = pd.read_csv(RESULTS / "cells.csv")
    chosen, left = choose_cells(cells, 100)
    from benchmark.contract.registry import get_method_class

    method = dict(zip(cells["label"], cells["method"]))
    # the first is the cheapest device job (a net: declared uses_gpu or torch), then one
    # per family
    declared = {label: get_method_class(method[label]) for label in method}
    nets = [
        label
        for label, cls in declared.items()
        if (cls.uses_gpu if cls.uses_gpu is not None else "torch" in cls.requirements)
    ]
    assert chosen[0].device_job and chosen[0].label in nets
    net_seconds = scratch_seconds(cells.assign(family=[_family(m) for m in cells["method"]]))[
        cells["label"].isin(nets)
    ]
    assert chosen[0].committed_seconds == net_seconds.min()
    assert len({c.family for c in chosen}) == len(chosen)
    assert [c.committed_seconds for c in chosen[1:]] == sorted(
        c.committed_seconds for c in chosen[1:]
    )
    # the families after the net must each fit the one-minute budget; the net is rerun
    # whatever it costs (the CI's only check of a net's code), and is not listed as left out
    assert all(c.committed_seconds < 60 for c in chosen[1:])
    assert not any(entry.startswith(f"{chosen[0].family} ") for entry in left)
    # the .ci/run sample (K = 6) is the net and the five cheapest families
    assert [c.label for c in choose_cells(cells, 6)[0]] == [c.label for c in chosen[:6]]


def test_a_cell_that_read_cached_features_costs_its_family_s_feature_seconds():
    cells = pd.DataFrame(
        {
            "family": ["glcm", "glcm", "biometry"],
            "fit_seconds": [9.0, 0.5, 0.0],
            "predict_seconds": [9.0, 0.1, 0.0],
            "cost": [
                "{'fit_feature_seconds': 6.0, 'predict_feature_seconds': 8.0}",
                "{'fit_feature_seconds': 0.0, 'predict_feature_seconds': 0.0}",
                "{}",
            ],
        }
    )
    assert list(scratch_seconds(cells)) == pytest.approx([18.0, 14.6, 0.0])
