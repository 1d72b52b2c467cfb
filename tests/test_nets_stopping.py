"""How a net stage ends (criterion or cap), the optional smoothed rule, progress reports,
and that none of it changed what the default nets predict."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from _nets_cohort import write_nets_cohort  # noqa: E402

from benchmark.contract import progress  # noqa: E402
from benchmark.contract.registry import create_method  # noqa: E402
from benchmark.data.cohort import Cohort  # noqa: E402
from benchmark.kits.nets.training import StageConfig, train_stage  # noqa: E402

GOLDEN = Path(__file__).parent / "golden" / "nets_predictions.json"
GRID = 8


class _Tiny(torch.nn.Module):
    """A patch → [0, 1] regressor small enough to train in milliseconds."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(GRID * GRID, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x.flatten(1) / 255.0))[:, 0]


def _draw(epoch: int):
    rng = np.random.default_rng(epoch)
    return rng.integers(0, 256, (32, GRID, GRID), dtype=np.uint8), rng.random(32, np.float32)


def _run(values, **cfg):
    """train_stage whose validation figure follows ``values``, one per epoch."""
    script = iter(values)
    torch.manual_seed(0)
    config = StageConfig(
        lr=1e-3,
        batch_size=16,
        monitor="val_loss",
        **{"max_steps": 2 * len(values), "patience": 3, **cfg},
    )
    return train_stage(
        _Tiny(),
        _draw,
        lambda model: {"val_loss": next(script)},
        config,
        np.random.default_rng(0),
        "cpu",
        "stage2",
        channels_last=False,
    )


def test_a_curve_that_flattens_stops_by_the_criterion():
    result = _run([1.0, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    assert (result.stopped_by, result.stop_reason) == ("criterion", "patience")
    assert result.steps < result.max_steps == 20 and result.best_epoch == 3
    assert result.record()["stopped_by"] == "criterion"


def test_a_curve_that_keeps_falling_hits_the_cap():
    result = _run(list(np.linspace(1.0, 0.1, 10)))
    assert (result.stopped_by, result.stop_reason) == ("cap", "max_steps")
    assert result.steps == result.max_steps == 20 and result.best_epoch == 10
    assert _run(list(np.linspace(1.0, 0.1, 10)), max_epochs=4).stop_reason == "max_epochs"


def test_min_steps_holds_the_criterion_back():
    flat = [1.0] + [0.5] * 9
    assert _run(flat).steps == 10  # best at epoch 2, three epochs without improvement
    held = _run(flat, min_steps=16)
    assert held.stopped_by == "criterion" and held.steps == 16


def test_plateau_decays_the_lr_on_a_stall_then_stops_by_the_criterion():
    """The light profile's rule: a stall of ``patience`` epochs first divides the lr (twice),
    and only a stall after the last decay ends the stage."""
    flat = [1.0, 0.6] + [0.6] * 28
    result = _run(flat, schedule="plateau", decay=0.5, max_decays=2, max_steps=60)
    assert (result.stopped_by, result.stop_reason) == ("criterion", "patience")
    assert len(result.history) == 11 and result.steps == 22 < result.max_steps  # 2 + 3 × 3
    lrs = [round(h["lr"] / 1e-3, 6) for h in result.history]
    assert lrs == [1.0] * 5 + [0.5] * 3 + [0.25] * 3


def test_plateau_on_a_curve_that_keeps_falling_hits_the_cap_and_is_flagged():
    result = _run(list(np.linspace(1.0, 0.1, 30)), schedule="plateau", max_steps=60)
    assert (result.stopped_by, result.stop_reason) == ("cap", "max_steps")
    assert result.steps == 60 and {h["lr"] for h in result.history} == {1e-3}


def test_an_improvement_smaller_than_min_delta_is_a_plateau_and_stops_by_the_criterion():
    creeping = list(0.994 ** np.arange(30))  # 0.6 % per epoch: 3 epochs make < 2 %
    result = _run(creeping, min_delta=0.02, max_steps=60)
    assert (result.stopped_by, result.stop_reason) == ("criterion", "patience")
    assert result.best_epoch == 1 and len(result.history) == 4  # 3 epochs of patience
    kept = _run(creeping, min_delta=0.005, max_steps=60)  # every epoch beats 0.5 %
    assert (kept.stopped_by, kept.best_epoch) == ("cap", 30)


def test_an_improvement_larger_than_min_delta_keeps_going_to_the_cap_and_is_flagged():
    falling = list(0.97 ** np.arange(30))  # 3 % per epoch
    result = _run(falling, min_delta=0.02, schedule="plateau", max_steps=60)
    assert (result.stopped_by, result.stop_reason) == ("cap", "max_steps")
    assert result.best_epoch == 30 and {h["lr"] for h in result.history} == {1e-3}
    assert result.record()["stopped_by"] == "cap"


def test_the_rule_cuts_where_torchs_reduce_lr_on_plateau_does():
    """min_delta is torch's relative threshold: same curve, same cut epochs (torch's patience
    is ours − 1: it cuts when the bad epochs exceed it)."""
    from benchmark.kits.nets.stopping import CUT, PlateauRule

    rng = np.random.default_rng(3)
    curve = (0.3 + np.exp(-np.arange(80) / 10)) * (1 + 0.02 * rng.standard_normal(80))
    for delta in (0.0, 0.005, 0.02, 0.05):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, "min", factor=0.5, patience=3, threshold=delta, threshold_mode="rel"
        )
        ours = PlateauRule(patience=4, min_delta=delta, max_decays=len(curve))
        torch_cuts, our_cuts = [], []
        for epoch, value in enumerate(curve, 1):
            lr = opt.param_groups[0]["lr"]
            theirs.step(value)
            if opt.param_groups[0]["lr"] < lr:
                torch_cuts.append(epoch)
            if ours.update(float(value), 0, epoch) == CUT:
                our_cuts.append(epoch)
        assert our_cuts == torch_cuts and len(our_cuts) >= 2, delta


def test_the_replay_takes_the_fits_own_decisions_on_its_recorded_curve():
    from benchmark.kits.nets.replay import replay_table

    rng = np.random.default_rng(1)
    values = list(np.exp(-np.arange(40) / 4) + 0.3 + 0.01 * rng.standard_normal(40))
    fit = _run(values, schedule="plateau", smoothing=0.7, min_delta=0.02, max_steps=80)
    curve = pd.DataFrame(fit.history).assign(
        label="unet-scratch[patience=3,min_steps=0,max_steps=80,min_delta=0.02]"
    )
    curve["val_r"] = 1.0 - curve["val_loss"]  # stage 2 (light) watches 1 − the patient r
    row = replay_table(curve, [0.02, 0.0]).iloc[0]
    assert fit.stopped_by == "criterion" and "cut" in row["recorded run"]
    assert row["min_delta=0.02"] == row["recorded run"]  # exact: the same decisions
    assert "then differs" in row["min_delta=0"]


@pytest.mark.parametrize(
    "settings",
    [
        {},  # light: the smoothed 1 − r, lr cuts on a stall, min_delta 2 %
        {"stage2_figure": "val_mae_weeks"},  # the smoothed MAE instead
        {"stop_on": "val_loss_ema", "schedule": "constant"},  # the smoothed loss, no cuts
        {"profile": "paper"},  # the raw MAE, constant lr, min_delta 0.5 %
    ],
)
def test_the_replay_reads_a_labels_stage_settings_as_the_fit_does(settings):
    """A stage trained with ``stage_config`` of a label's profile, replayed from its curve
    by that label alone: the same decisions, because both build their PlateauRule from one
    StageConfig (``PlateauRule.from_stage``).  The loss, the MAE and 1 − r follow different
    curves, so a replay watching the wrong figure would differ."""
    from benchmark.kits.nets.profiles import resolve_profile, stage_config
    from benchmark.kits.nets.replay import replay_table

    params = {"patience": 3, "min_steps": 0, "max_steps": 60, **settings}
    label = "unet-scratch[" + ",".join(f"{k}={v}" for k, v in params.items()) + "]"
    prof = resolve_profile(params.pop("profile", "light"), "unet-scratch", params)
    cfg = stage_config(prof, prof.max_steps_stage2, "stage2")
    noise = 0.01 * np.random.default_rng(2).standard_normal(100)
    epochs = iter(range(100))

    def validate(model):
        t = next(epochs)
        return {
            "val_mae_weeks": 0.3 + np.exp(-t / 4) + noise[t],
            "val_one_minus_r": 0.2 + 0.5 * np.exp(-t / 7) - noise[t],
            "val_loss": 0.5 + noise[t],
        }

    torch.manual_seed(0)
    fit = train_stage(
        _Tiny(),
        _draw,
        validate,
        cfg,
        np.random.default_rng(0),
        "cpu",
        "stage2",
        channels_last=False,
    )
    row = replay_table(pd.DataFrame(fit.history).assign(label=label), [cfg.min_delta]).iloc[0]
    assert fit.stopped_by == "criterion"
    assert row[f"min_delta={cfg.min_delta:g}"] == row["recorded run"]


def test_min_delta_is_a_profile_field_and_a_method_parameter():
    from benchmark.kits.nets.profiles import PROFILES, resolve_profile

    assert 0 < PROFILES["light"].min_delta < 0.1
    assert resolve_profile("light", "unet-scratch", {"min_delta": "0.05"}).min_delta == 0.05
    with pytest.raises(ValueError, match="min_delta must be in"):
        resolve_profile("light", "unet-scratch", {"min_delta": "1.5"})


def test_the_default_profile_stops_by_a_smoothed_loss_not_by_the_cap():
    from benchmark.kits.nets.profiles import PROFILES

    light = PROFILES["light"]
    assert (light.stop_on, light.schedule) == ("ema", "plateau")
    assert light.min_steps < min(light.max_steps_stage1, light.max_steps_stage2)


def test_smoothing_watches_the_moving_average():
    values = [1.0, 0.2, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    raw, smooth = _run(values), _run(values, smoothing=0.5)
    assert raw.best_value == pytest.approx(0.2) and raw.best_epoch == 2
    assert smooth.best_value == pytest.approx(0.6) and smooth.best_epoch == 2  # (1 + .2) / 2
    reports = []
    with progress.reporting_to(reports.append):
        _run(values, smoothing=0.5)
    assert {k for r in reports for k in r["figures"]} == {"val_loss_ema"}


def _views(root: Path):
    cohort = Cohort.load(write_nets_cohort(root / "c"))
    ids = list(cohort.patients.index)
    return cohort.train_view(ids[::2] + ids[1::4]), cohort.test_view(ids[3::4])


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    return _views(tmp_path_factory.mktemp("nets"))


def _fit(name, train, **params):
    method = create_method(
        name, **{"patch_mm": 4.0, "seg_stride_mm": 2.0, "stage1_px": 32, **params}
    )
    method.random_state, method.device = 0, "cpu"
    return method.fit(train)


@pytest.mark.slow
def test_default_predictions_are_bit_identical_to_the_recorded_ones(views):
    """The default profile's predictions, recorded (tests/golden) when the default last
    changed on purpose (issue 21: the light profile's stopping rule, then its min_delta 2 %;
    re-recorded with ``python tests/test_nets_stopping.py``): any other change must predict
    exactly that."""
    golden = json.loads(GOLDEN.read_text())
    if (golden["torch"], golden["machine"]) != (torch.__version__, platform.machine()):
        pytest.skip(f"golden recorded with torch {golden['torch']} on {golden['machine']}")
    train, test = views
    for name, case in golden["cases"].items():
        method = _fit(name, train, **case["params"])
        pred = method.predict(test)
        assert {k: float(v).hex() for k, v in pred.items()} == case["predictions"], name
        assert method.cost_["epochs"] == case["epochs"], name


def test_a_net_records_each_stage_and_reports_progress(views):
    reports = []
    with progress.reporting_to(reports.append):
        net = _fit("unet-transfer", views[0], max_steps=4, patience=100)
    stages = net.training_stages_
    assert [s["stage"] for s in stages] == ["stage1", "stage2"]
    assert all(s["stopped_by"] == "cap" and s["steps"] == s["max_steps"] == 4 for s in stages)
    assert {r["task"] for r in reports} == {"stage1", "stage2"}
    assert max(r["done"] for r in reports) == 4 and {r["total"] for r in reports} == {4}
    assert any("val_one_minus_r_ema" in r["figures"] for r in reports)  # stage 2's, smoothed
    assert any("lr_cuts_of_2" in r["figures"] for r in reports)  # how far the plateau rule is


def test_stop_on_val_loss_ema_is_a_named_option(views):
    net = _fit(
        "unet-scratch", views[0], max_steps=6, stop_on="val_loss_ema", min_steps=2, val_patches=8
    )
    assert {s["monitor"] for s in net.training_stages_} == {"val_loss"}
    with pytest.raises(ValueError, match="stop_on must be one of"):
        _fit("unet-scratch", views[0], stop_on="val_r")


@pytest.mark.slow
def test_stopped_by_reaches_cells_csv_and_the_report(tmp_path):
    from benchmark.execution.runner import RunConfig, run
    from benchmark.report.hook import build_report

    root = write_nets_cohort(tmp_path / "c")
    result = run(
        RunConfig(
            dataset=str(root),
            runs_dir=str(tmp_path / "runs"),
            device="cpu",
            methods=["unet-scratch[patch_mm=4,max_steps=3,patience=100]", "dummy-mean"],
        )
    )
    cells = pd.read_csv(result.run_dir / "cells.csv").set_index("method")
    assert cells.loc["unet-scratch", "stopped_by"] == "stage2:cap"
    assert cells.loc["unet-scratch", "stage_steps"] == "stage2:3"
    for column in ("stage_patches_per_s", "stage_pct_of_peak"):  # throughput per stage
        assert float(cells.loc["unet-scratch", column].split(":")[1]) > 0, column
    assert pd.isna(cells.loc["dummy-mean", "stopped_by"])  # not a trained method
    assert not list((result.run_dir / "cells").glob(".*.progress.json"))  # cleaned up
    build_report(result.run_dir)
    html = (result.run_dir / "report.html").read_text()
    assert "Not converged" in html and "unet-scratch[patch_mm=4,max_steps=3,patience=100]" in html
    stops = pd.read_csv(result.run_dir / "tables" / "training_stops.csv")
    assert stops[["stage", "at cap", "converged"]].values.tolist() == [
        ["stage2", 1, "not converged"]
    ]


def _record_golden() -> None:
    """Re-record tests/golden/nets_predictions.json (only when a default changes on purpose)."""
    import tempfile

    golden = json.loads(GOLDEN.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        train, test = _views(Path(tmp))
        for name, case in golden["cases"].items():
            method = _fit(name, train, **case["params"])
            pred = method.predict(test)
            case["predictions"] = {k: float(v).hex() for k, v in pred.items()}
            case["epochs"] = method.cost_["epochs"]
    golden.update(torch=torch.__version__, machine=platform.machine())
    GOLDEN.write_text(json.dumps(golden, indent=1) + "\n")


if __name__ == "__main__":
    _record_golden()
