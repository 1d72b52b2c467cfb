"""``python -m benchmark plan``: how many patients the next study needs, from a run.

For each ``--compare A B``: the power of the report's paired test at each n by
resampling the run's paired patient predictions (benchmark.stats.power), the type I
error of the same draws under no effect, the CI half-width of A's MAE in days and the n
for 80 % power; a power curve.  Where the cohort records a binary outcome, Riley et
al.'s (2020) minimum n for a model of the outcome on GA and each method's residual,
with the pilot's prevalence and Cox–Snell R².  Written to ``RUN/plan/`` (or ``--out``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.report.data import load_run
from benchmark.report.formatting import Table, num
from benchmark.stats import power
from benchmark.stats.metrics import pooled_patient_predictions
from benchmark.stats.outcome import MIN_EVENTS_FOR_CI

CAVEAT = (
    "Resampling the pilot assumes its observed effect and spread are the truth: it says how "
    "often a study of n patients like these would detect this difference, not whether the "
    "difference is real; a pilot's effect is uncertain, and the largest of many observed "
    "differences is optimistic. Under no effect (differences centred on 0) the same draws "
    "must reject about α = 5 % of the time: the 'no effect' column checks the test."
)


@dataclass
class PlanResult:
    out: Path
    tables: list[Table]
    figure: str | None


def _outcome(data) -> pd.Series | None:
    patients = data.table1_patients
    if patients is None or "outcome" not in patients or patients["outcome"].isna().all():
        return None
    y = pd.to_numeric(patients["outcome"], errors="coerce")
    y.index = patients["patient_id"].astype(str)
    return y


def power_table(
    pooled: pd.DataFrame,
    comparisons: list[tuple[str, str]],
    metric: str,
    group: str | None,
    n_values: list[int],
    n_sim: int,
    outcome: pd.Series | None,
) -> Table:
    rows = []
    for a, b in comparisons:
        pairs = power.paired(pooled, a, b, group, outcome)
        curve = power.resampled_power(pairs, metric, n_values, n_sim)
        effect = power.observed_effect(pairs, metric)
        d = np.abs(pairs.pred_a - pairs.ga_true) - np.abs(pairs.pred_b - pairs.ga_true)
        n80 = power.n_for_power(d) if metric == "mae" else np.nan
        if metric == "r":
            c = np.corrcoef([pairs.ga_true, pairs.pred_a, pairs.pred_b])
            n80 = power.n_for_r_difference(c[0, 1], c[0, 2], c[1, 2])
        for row in curve.to_dict("records"):
            rows.append(
                {
                    "method_a": a,
                    "method_b": b,
                    "metric": metric,
                    "group": group or "all",
                    "pilot_n": pairs.n,
                    "effect": effect,
                    **row,
                    "n_for_80": n80,
                }
            )
    frame = pd.DataFrame(rows)
    unit = {"mae": "MAE difference, weeks", "r": "Δr", "auc": "ΔAUC"}[metric]
    test = {
        "mae": "paired t-test of absolute errors (Table 2)",
        "r": "Williams' t for dependent correlations (the control table)",
        "auc": "DeLong's paired test (the outcome table)",
    }[metric]
    display = pd.DataFrame(
        {
            "A vs B": [f"{a} vs {b}" for a, b in zip(frame["method_a"], frame["method_b"])],
            "group": frame["group"],
            "pilot n": frame["pilot_n"],
            f"observed effect ({unit})": frame["effect"].map(lambda v: num(v, 3)),
            "n": frame["n"],
            "power": [
                f"{num(p, 3)} ± {num(s, 3)}" for p, s in zip(frame["power"], frame["power_se"])
            ],
            "no effect (type I)": frame["type1_no_effect"].map(lambda v: num(v, 3)),
            "95 % CI half-width of A's MAE (d)": frame["mae_a_ci_halfwidth_days"].map(
                lambda v: num(v, 1)
            ),
            "n for 80 % power": frame["n_for_80"].map(
                lambda v: "—" if not np.isfinite(v) else f"{int(v)}"
            ),
        }
    )
    return Table(
        f"power_{metric}",
        "Power of the paired comparison by resampling this run",
        f"Patients resampled with replacement from the pilot's {test} pairs "
        f"(measured patients both methods predicted), {n_sim} simulated studies per "
        "n; power ± Monte-Carlo SE; n for 80 % power: statsmodels TTestPower on the "
        "pilot's effect size (mae), Williams' t at the pilot's correlations (r). " + CAVEAT,
        frame,
        display,
    )


def pilot_outcome_table(pooled: pd.DataFrame, outcome: pd.Series) -> Table | None:
    rows = []
    for label, sub in pooled.groupby("label", sort=True):
        y = outcome.reindex(sub["patient_id"].astype(str)).to_numpy(float)
        ok = np.isfinite(y)
        y = y[ok].astype(int)
        events = int(y.sum())
        row = {"method": label, "pilot_n": len(y), "events": events}
        if min(events, len(y) - events) < MIN_EVENTS_FOR_CI:
            row["status"] = f"not computed: {events} events in {len(y)} (needs ≥ 10)"
            rows.append(row)
            continue
        ga = sub["ga_true"].to_numpy(float)[ok]
        resid = sub["ga_pred"].to_numpy(float)[ok] - ga
        x = np.column_stack([ga, resid]) if np.ptp(resid + ga) > 0 else ga[:, None]
        r2 = power.pilot_outcome_r2(y, x)
        row.update(
            status="computed",
            parameters=x.shape[1],
            **power.riley_binary(events / len(y), x.shape[1], r2),
        )
        rows.append(row)
    frame = pd.DataFrame(rows).reindex(
        columns=[
            "method",
            "pilot_n",
            "events",
            "status",
            "parameters",
            "r2_cs",
            "max_r2_cs",
            "n_criterion1",
            "n_criterion2",
            "n_criterion3",
            "n",
            "events_needed",
            "epp",
        ]
    )
    done = frame["status"] == "computed"
    display = pd.DataFrame(
        {
            "method": frame["method"],
            "pilot events / n": [f"{e} / {n}" for e, n in zip(frame["events"], frame["pilot_n"])],
            "Cox–Snell R²": [
                num(v, 3) if ok else s for v, ok, s in zip(frame["r2_cs"], done, frame["status"])
            ],
            "n (criteria 1 / 2 / 3)": [
                f"{int(a)} / {int(b)} / {int(c)}" if ok else "—"
                for a, b, c, ok in zip(
                    frame["n_criterion1"], frame["n_criterion2"], frame["n_criterion3"], done
                )
            ],
            "minimum n": [f"{int(v)}" if ok else "—" for v, ok in zip(frame["n"], done)],
            "events per parameter": [num(v, 1) if ok else "—" for v, ok in zip(frame["epp"], done)],
        }
    )
    return Table(
        "pilot_outcome",
        "Minimum n for a model of the outcome (Riley et al. 2020)",
        "A logistic model outcome ~ GA + residual (estimate − GA), 2 parameters, "
        "with the pilot's prevalence and Cox–Snell R² (statsmodels Logit): "
        "criterion 1 = expected shrinkage ≥ 0.9, 2 = optimism in Nagelkerke R² ≤ "
        "0.05, 3 = overall risk within ± 0.05 (pmsampsize's binary criteria, written "
        "out because its Python port needs Python ≥ 3.12; checked against its "
        "published example, n = 662). The pilot's R² is itself estimated: optimistic "
        "on the patients it was fitted to.",
        frame,
        display,
    )


def published_r_table(
    r_a: float, r_b: float, r_between: list[float], n_values: list[int], n_sim: int
) -> Table:
    """Power of Williams' t from a paper's two published correlations alone, for each
    assumed correlation between the two methods' estimates (papers do not report it)."""
    rows = []
    for r_ab in r_between:
        curve = power.power_from_summary_r(r_a, r_b, r_ab, n_values, n_sim)
        n80 = power.n_for_r_difference(r_a, r_b, r_ab)
        for row in curve.to_dict("records"):
            rows.append({"r_a": r_a, "r_b": r_b, "r_ab_assumed": r_ab, **row, "n_for_80": n80})
    frame = pd.DataFrame(rows)
    display = pd.DataFrame(
        {
            "r A / r B (published)": [f"{a:g} / {b:g}" for a, b in zip(frame["r_a"], frame["r_b"])],
            "r(A, B) assumed": frame["r_ab_assumed"].map(lambda v: f"{v:g}"),
            "n": frame["n"],
            "power": [
                f"{num(p, 3)} ± {num(e, 3)}" for p, e in zip(frame["power"], frame["power_se"])
            ],
            "n for 80 % power": frame["n_for_80"].map(
                lambda v: "—" if not np.isfinite(v) else f"{int(v)}"
            ),
        }
    )
    return Table(
        "published_power",
        "Power from published correlations (Williams' t)",
        f"Simulated studies ({n_sim} per n) drawing (GA, A, B) from a trivariate normal "
        "with the published r(GA, A) and r(GA, B) and an assumed r(A, B), which a "
        "paper rarely reports (two estimators of the same GA correlate: the higher, "
        "the more power); each study tested with Williams' t (df = n − 3). n for 80 % "
        "power: the n at which the expected Williams' t clears the critical value by "
        "z(0.8).",
        frame,
        display,
    )


def _power_figure(frame: pd.DataFrame, out: Path, metric: str) -> str:
    from benchmark.report.figures import _plt, _save

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for (a, b), sub in frame.groupby(["method_a", "method_b"], sort=True):
        ax.errorbar(
            sub["n"],
            sub["power"],
            yerr=1.96 * sub["power_se"],
            marker="o",
            ms=3,
            lw=1,
            capsize=2,
            label=f"{a} vs {b}",
        )
    ax.axhline(0.8, color="0.4", ls="--", lw=0.8)
    ax.axhline(0.05, color="0.6", ls=":", lw=0.8)
    ax.set_xlabel("patients (n)")
    ax.set_ylabel("power")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return _save(fig, out, f"fig_power_{metric}")


def simulated_table(frame: pd.DataFrame, metric: str) -> Table:
    """``plan --simulate``: power from fresh synthetic cohorts (benchmark.execution)."""
    unit = {"mae": "MAE difference, weeks", "r": "Δr"}[metric]
    display = pd.DataFrame(
        {
            "A vs B": [f"{a} vs {b}" for a, b in zip(frame["method_a"], frame["method_b"])],
            "n": frame["n"],
            "paired n (mean)": frame["paired_n_mean"].map(lambda v: num(v, 1)),
            f"mean effect ({unit})": frame["effect_mean"].map(lambda v: num(v, 3)),
            "power": [
                f"{num(p, 3)} ± {num(s, 3)}" for p, s in zip(frame["power"], frame["power_se"])
            ],
            "no effect (type I)": frame["type1_no_effect"].map(lambda v: num(v, 3)),
        }
    )
    n_sim = int(frame["n_sim"].iloc[0]) if len(frame) else 0
    return Table(
        f"power_{metric}_simulated",
        "Power of the paired comparison on fresh synthetic cohorts",
        f"{n_sim} simulated studies per n, each a new cohort of the run's generator (same "
        "options and split, a new seed) with both methods refitted; n = test patients "
        "the study aims at (the split decides the realised paired n); power ± "
        "Monte-Carlo SE. Only methods that read no pixels and cost no more than a table "
        "lookup are refitted (their declared uses_images and relative_cost). Type I: "
        "the same studies with the differences shifted by the generator's effect "
        "(pooled over every simulated patient). It assumes the generator, not a pilot.",
        frame,
        display,
    )


def plan(
    run_dir: str | Path,
    comparisons: list[tuple[str, str]],
    metric: str | list[str] = "mae",
    group: str | None = None,
    n_values: list[int] | None = None,
    n_sim: int = power.N_SIM,
    out: str | Path | None = None,
    published_r: tuple[float, float] | None = None,
    r_between: list[float] | None = None,
    simulated: dict[str, pd.DataFrame] | None = None,
) -> PlanResult:
    """Every metric's power table and curve (one folder); ``simulated``: the
    ``--simulate`` frames per metric, tabulated beside them."""
    data = load_run(run_dir)
    out = Path(out) if out is not None else Path(run_dir) / "plan"
    out.mkdir(parents=True, exist_ok=True)
    pooled = pooled_patient_predictions(data.predictions, "patient")
    if group is not None and group not in set(pooled["group"]):
        raise ValueError(
            f"--group {group!r}: the run's GA groups are {', '.join(data.group_labels)}"
        )
    outcome = _outcome(data)
    metrics = [metric] if isinstance(metric, str) else list(metric)
    n_list = list(n_values or power.DEFAULT_N)
    tables = [power_table(pooled, comparisons, m, group, n_list, n_sim, outcome) for m in metrics]
    figures = [_power_figure(t.data, out, m) for t, m in zip(tables, metrics)]
    for m, frame in (simulated or {}).items():
        tables.append(simulated_table(frame, m))
        figures.append(_power_figure(frame, out, f"{m}_simulated"))
    binary = outcome is not None and set(outcome.dropna().unique()) <= {0, 1}
    if binary:
        tables.append(pilot_outcome_table(pooled, outcome))
    if published_r is not None:
        tables.append(
            published_r_table(*published_r, list(r_between or (0.5, 0.7, 0.9)), n_list, n_sim)
        )
    for table in tables:
        (out / f"{table.name}.csv").write_text(table.to_csv(), encoding="utf-8")
        (out / f"{table.name}.md").write_text(table.to_markdown(), encoding="utf-8")
    return PlanResult(out, tables, figures[0])
