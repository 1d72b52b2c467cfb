"""The first key finding: name a best method only when the data show one.

The candidate is the non-ceiling method with the lowest MAE on its measured patients.
It is called the most accurate only when the paired comparison of absolute errors
(paired t, the test of Table 2, 95 % CI of the mean difference) on the patients both
measured puts it below the runner-up *and* below every floor control.  Otherwise the line
says what the run does show — level with the runner-up, or not distinguishable from the
floor on these n patients — followed by the patients a paired study would need to detect
a difference of the observed size with 80 % power (benchmark.stats.power, as ``plan``).
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd
from scipy import stats

from benchmark.report.data import RunData
from benchmark.stats.metrics import pooled_patient_predictions
from benchmark.stats.power import n_for_power


def _paired_mae(pooled: pd.DataFrame, a: str, b: str) -> dict[str, float]:
    """MAE(a) − MAE(b) (weeks) with its paired-t 95 % CI on the patients both measured."""
    frames = {k: v.set_index("patient_id") for k, v in pooled.groupby("label") if k in (a, b)}
    fa, fb = frames[a], frames[b]
    common = fa.index[fa["measured"]].intersection(fb.index[fb["measured"]])
    d = (
        (fa.loc[common, "ga_pred"] - fa.loc[common, "ga_true"]).abs()
        - (fb.loc[common, "ga_pred"] - fb.loc[common, "ga_true"]).abs()
    ).to_numpy()
    out = {
        "n": len(d),
        "diff": float(d.mean()) if len(d) else np.nan,
        "lo": np.nan,
        "hi": np.nan,
        "n_80": np.nan,
    }
    if len(d) > 2 and d.std(ddof=1) > 0:
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
        out.update(lo=out["diff"] - half, hi=out["diff"] + half, n_80=n_for_power(d))
    return out


def _fmt_diff(c: dict[str, float]) -> str:
    return f"{c['diff']:+.2f} wk, 95 % CI {c['lo']:+.2f} to {c['hi']:+.2f}, n = {c['n']}"


def best_method_finding(data: RunData, level: str = "patient") -> str | None:
    """The first line of the key findings (HTML), or None without predictions."""
    pooled = pooled_patient_predictions(data.predictions, level)
    if pooled.empty:
        return None
    ceilings, floors = set(data.labels_with_role("ceiling")), data.labels_with_role("floor")
    measured = pooled[pooled["measured"]]
    mae = (
        (measured["ga_pred"] - measured["ga_true"])
        .abs()
        .groupby(measured["label"])
        .mean()
        .sort_values(kind="stable")
    )
    candidates = [m for m in mae.index if m not in ceilings and m not in floors]
    if not candidates:
        return None
    best = candidates[0]
    n_best = int((measured["label"] == best).sum())
    n_all = int((pooled["label"] == best).sum())
    head = (
        f"<b>{escape(best)}</b> has the lowest MAE, {mae[best]:.2f} weeks "
        f"(n measured = {n_best} of {n_all})"
    )
    vs_floor = {f: _paired_mae(pooled, best, f) for f in floors if f in mae.index}
    beaten = {f: c for f, c in vs_floor.items() if c["hi"] < 0}
    if vs_floor and len(beaten) < len(vs_floor):
        f, c = next((f, c) for f, c in vs_floor.items() if f not in beaten)
        need = (
            "a paired study would need about "
            f"{int(c['n_80'])} patients to detect a difference of this size with 80 % "
            "power"
            if np.isfinite(c["n_80"])
            else "no difference was observed to plan for"
        )
        return (
            f"No method is distinguishable from the floor on these {c['n']} patients: "
            f"{head}, and its difference from the floor control <b>{escape(f)}</b> is "
            f"{_fmt_diff(c)}; {need} (python -m benchmark plan)."
        )
    floor_text = "; ".join(
        f"vs the floor <b>{escape(f)}</b> {_fmt_diff(c)}" for f, c in vs_floor.items()
    )
    if len(candidates) > 1:
        runner = candidates[1]
        c = _paired_mae(pooled, best, runner)
        if not c["hi"] < 0:
            need = (
                f"; about {int(c['n_80'])} patients would show a difference of this size "
                "with 80 % power"
                if np.isfinite(c["n_80"])
                else ""
            )
            return (
                f"No single most accurate method: {head}, but the runner-up "
                f"<b>{escape(runner)}</b> ({mae[runner]:.2f} weeks) is not distinguishable "
                f"from it ({_fmt_diff(c)}{need})"
                + (f"; it is below every floor control: {floor_text}." if floor_text else ".")
            )
        floor_text = f"vs the runner-up <b>{escape(runner)}</b> {_fmt_diff(c)}" + (
            f"; {floor_text}" if floor_text else ""
        )
    return (
        f"Most accurate method overall: {head}; paired difference in absolute error {floor_text}."
        if floor_text
        else f"Most accurate method overall: {head}."
    )
