"""Replay the stopping rule on recorded training curves, offline (no training).

``python -m benchmark.kits.nets.replay results/curves.csv --min-delta 0.005 0.02`` prints,
for every net stage of a run's ``curves.csv`` and every ``min_delta``, where
:class:`benchmark.kits.nets.stopping.PlateauRule` (the rule a fit uses) would cut the lr or
stop.  A replay is exact only while it takes the recorded run's decisions: after its first
different one (a cut or stop elsewhere) the fit's trajectory would have changed, so the
replay reports that epoch and stops there.  Each label's rule is the profile's (``light``
unless the label names another), with the label's own settings, e.g. ``[min_steps=0]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from benchmark.execution.gridspec import parse_selection
from benchmark.kits.nets.profiles import resolve_profile, stage_config
from benchmark.kits.nets.stopping import CUT, STOP, PlateauRule
from benchmark.kits.nets.training import StageConfig


def _figure(curve: pd.DataFrame, monitor: str) -> pd.Series:
    """The watched figure per epoch; ``curves.csv`` records r, the rule watches 1 − r."""
    if monitor == "val_one_minus_r":
        return 1.0 - curve["val_r"]
    return curve[monitor]


def _label_params(label: str) -> tuple[str, dict[str, object]]:
    """A cell label's method name and its settings, parsed as a ``--methods`` selection."""
    name, overrides = parse_selection(label)
    return name, {key: values[0] for key, values in overrides.items()}


def stage_settings(label: str, stage: str) -> StageConfig:
    """The settings a fit of ``label`` trained ``stage`` with, read as the fit reads them
    (:func:`benchmark.kits.nets.profiles.stage_config`)."""
    name, params = _label_params(label)
    prof = resolve_profile(str(params.pop("profile", "light")), name, params)
    steps = prof.max_steps_stage1 if stage == "stage1" else prof.max_steps_stage2
    return stage_config(prof, steps, stage)


def rule_for(label: str, stage: str) -> tuple[PlateauRule, int]:
    """The stopping rule a fit of ``label`` used in ``stage``, and that stage's step cap."""
    cfg = stage_settings(label, stage)
    return PlateauRule.from_stage(cfg), cfg.max_steps


def _recorded(curve: pd.DataFrame, cap: int) -> list[str]:
    """The run's decision after each epoch: cut (the next epoch's lr is lower), stop / cap
    (the last epoch), else go."""
    lr, steps = curve["lr"].to_numpy(), curve["step"].to_numpy()
    out = ["cut" if nxt < cur * 0.999 else "go" for cur, nxt in zip(lr[:-1], lr[1:])]
    return [*out, "cap" if steps[-1] >= cap else "stop"]


def replay(curve: pd.DataFrame, rule: PlateauRule, cap: int, monitor: str) -> dict[str, object]:
    """Replay ``rule`` on one stage's curve (rows in epoch order) watching ``monitor``: the
    steps at which it cuts (while it agrees with the run), and where it first differs or
    how it ends."""
    recorded = _recorded(curve, cap)
    values = _figure(curve, monitor).to_numpy(float)
    cuts: list[int] = []
    for i, row in enumerate(curve.itertuples(index=False)):
        decision = rule.update(float(values[i]), int(row.step), int(row.epoch))
        mine = {CUT: "cut", STOP: "stop"}.get(decision, "go")
        if recorded[i] == "cap" and mine == "go":
            return {"cuts": cuts, "end": "cap", "step": int(row.step), "exact": True}
        if mine != recorded[i]:
            what = mine if mine != "go" else f"no {recorded[i]}"
            return {"cuts": cuts, "end": what, "step": int(row.step), "exact": False}
        if mine == "cut":
            cuts.append(int(row.step))
    return {"cuts": cuts, "end": "stop", "step": int(curve["step"].iloc[-1]), "exact": True}


def _describe(result: dict[str, object]) -> str:
    cuts = ", ".join(f"{c:,}" for c in result["cuts"])  # type: ignore[attr-defined]
    head = f"cuts {cuts}; " if cuts else ""
    if result["exact"]:
        return f"{head}{result['end']} {result['step']:,}"
    return f"{head}**{result['end']} at {result['step']:,}** (then differs)"


def replay_table(curves: pd.DataFrame, min_deltas: list[float]) -> pd.DataFrame:
    """One row per (label, stage): what the recorded run did (from its lr column), then the
    replay with each ``min_delta`` (the one the run used must read the same)."""
    rows = []
    for (label, stage), curve in curves.groupby(["label", "stage"], sort=True):
        curve = curve.sort_values("epoch")
        cfg = stage_settings(str(label), str(stage))
        recorded = _recorded(curve, cfg.max_steps)
        steps = curve["step"].to_numpy()
        run = {
            "cuts": [int(s) for s, d in zip(steps, recorded) if d == "cut"],
            "end": recorded[-1],
            "step": int(steps[-1]),
            "exact": True,
        }
        row = {"net": label, "stage": stage, "recorded run": _describe(run)}
        for delta in min_deltas:
            rule = PlateauRule.from_stage(cfg)
            rule.min_delta = delta
            row[f"min_delta={delta:g}"] = _describe(replay(curve, rule, cfg.max_steps, cfg.monitor))
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curves", type=Path, help="a run's curves.csv")
    parser.add_argument("--min-delta", type=float, nargs="+", default=[0.005, 0.01, 0.02])
    args = parser.parse_args(argv)
    table = replay_table(pd.read_csv(args.curves), args.min_delta)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
