"""``tripod_ai.md``: the TRIPOD+AI items (Collins et al., BMJ 2024) that apply to a
comparative benchmark of GA estimators, each answered from this run's own files.

Every item is *available* (with the run's numbers and the file that holds them), *not
available* (the run could have it but does not, e.g. no outcome column) or *not
applicable* (a benchmark of fixed methods has no model updating).  An item called
available always names a file written by this build or copied into the folder
(``tests/test_evaluation.py`` checks that each exists), so the list can be pasted into a
supplement as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from benchmark.report.data import RunData
from benchmark.report.formatting import Table


@dataclass(frozen=True)
class Item:
    number: str
    topic: str
    status: str  # available | not available | not applicable
    evidence: str
    files: tuple[str, ...] = ()


def _table_file(tables: dict[str, Table], *names: str) -> tuple[str, ...]:
    return tuple(
        f"tables/{n}.{'csv' if tables[n].csv_only else 'md'}" for n in names if n in tables
    )


def _first(tables: dict[str, Table], *names: str) -> str | None:
    return next((n for n in names if n in tables), None)


def checklist(
    data: RunData, tables: list[Table], figures: list[tuple[str, str]], level: str = "patient"
) -> list[Item]:
    by_name = {t.name: t for t in tables}
    stems = {stem for stem, _ in figures}
    cfg = data.run.get("config", {})
    meta = data.run.get("dataset_meta", {})
    preds = data.predictions
    patients = preds[preds["level"] == "patient"] if "level" in preds else preds
    n_test = patients["patient_id"].nunique()
    labels = data.labels
    items = []

    def add(number, topic, evidence, files=(), status=None):
        files = tuple(files)
        items.append(
            Item(
                number,
                topic,
                status or ("available" if files else "not available"),
                evidence,
                files,
            )
        )

    add(
        "5a",
        "Source of data",
        f"dataset '{cfg.get('dataset', '?')}' "
        f"(fingerprint {data.run.get('dataset_fingerprint', '?')}): "
        f"{meta.get('description', 'no description recorded')}",
        ("run.json",) if data.run else (),
    )
    add(
        "5b",
        "Dates of data collection",
        "not recorded by the benchmark (a cohort's own "
        "documentation holds them; simulated cohorts have none)",
        status="not available",
    )
    sites = _first(by_name, f"sites_{level}", "sites_patient")
    add(
        "6a",
        "Setting and centres",
        "performance per site"
        if sites
        else "one site recorded (no site column, or a single value)",
        _table_file(by_name, sites) if sites else (),
    )
    add(
        "6b",
        "Eligibility of participants",
        "the cohort's own criteria; the benchmark "
        "excludes only invalid rows (listed, never silent)",
        ("run.json",),
        "available",
    )
    t1 = _first(by_name, "table1")
    add(
        "7",
        "Data preparation",
        f"fallback policy '{cfg.get('fallback', 'predict')}' for "
        "images a method cannot measure; provenance per prediction",
        ("predictions.csv",) if (data.root / "predictions.csv").is_file() else (),
    )
    add(
        "8a",
        "Outcome (estimand)",
        "GA at the scan in weeks (the cohort's dating); binary "
        "outcome: " + ("recorded" if "outcome_auc" in by_name else "none recorded"),
        ("table1_patients.csv",)
        if (data.root / "table1_patients.csv").is_file()
        else ("predictions.csv",),
    )
    add(
        "9a",
        "Predictors",
        f"{len(labels)} method(s), each reading its declared inputs "
        "(images, masks, pixel spacing, or biometry columns)",
        ("cells.csv",) if (data.root / "cells.csv").is_file() else (),
    )
    plan = data.root / "plan"
    add(
        "10",
        "Sample size",
        f"{n_test} test patients; power and n for 80 % power: "
        + (
            "plan/ (python -m benchmark plan)"
            if any(plan.glob("power_*.md"))
            else "not yet planned (run python -m benchmark plan on this folder)"
        ),
        tuple(sorted(f"plan/{p.name}" for p in plan.glob("power_*.md")))
        if plan.is_dir() and any(plan.glob("power_*.md"))
        else (("tables/results.md",) if n_test else ()),
    )
    add(
        "11",
        "Missing data",
        "n measured / n per method (a fallback prediction is not measured)",
        ("tables/results.md",),
    )
    add(
        "12a",
        "How the data were used",
        f"split '{cfg.get('split', '?')}', seeds "
        f"{cfg.get('seeds', '?')}; patient-level, no patient in both train and test",
        ("run.json",) if data.run else (),
    )
    add(
        "12b",
        "Model type and building",
        "one row per method, grid and parameters",
        ("cells.csv",) if (data.root / "cells.csv").is_file() else (),
    )
    add(
        "12c",
        "Performance measures",
        "MAE, RMSE, bias, r with CIs, Bland–Altman",
        _table_file(by_name, f"metrics_{level}"),
    )
    add(
        "12e",
        "Calibration",
        "intercept and slope of true on estimated GA; Brier of the preterm-lung class "
        "and of the outcome risk",
        _table_file(
            by_name, "calibration_patient", "maturity_class_calibration", "outcome_calibration"
        ),
    )
    add(
        "12f",
        "Model updating / recalibration",
        "the benchmark compares fixed methods; none is updated",
        status="not applicable",
    )
    add(
        "12g",
        "Fairness: subgroups",
        "performance per categorical patient column",
        _table_file(by_name, "subgroups_patient"),
    )
    add(
        "20a",
        "Participants: flow and numbers",
        f"{n_test} test patients; train/test per GA group",
        _table_file(by_name, t1) if t1 else (),
    )
    add(
        "20b",
        "Participants: characteristics",
        "train vs test per GA group",
        _table_file(by_name, t1) if t1 else (),
    )
    outcome = by_name.get("outcome_auc")
    events = (
        (
            f"{int(outcome.data['events'].max())} events in "
            f"{int(outcome.data['n'].max())} test patients"
        )
        if outcome is not None
        else ""
    )
    add(
        "21",
        "Numbers of participants and outcome events",
        events or "no outcome recorded",
        _table_file(by_name, "outcome_auc"),
    )
    add(
        "23a",
        "Performance with confidence intervals",
        "r [Fisher and bootstrap CI], paired tests vs the reference (Holm)",
        _table_file(by_name, f"metrics_{level}", f"table2_{level}"),
    )
    add(
        "23a",
        "Calibration plot",
        "lowess smoother and ideal line",
        tuple(
            f"figures/{s}.png"
            for s in ("fig_calibration_patient", "fig_maturity_reliability")
            if s in stems
        ),
    )
    add(
        "23b",
        "Heterogeneity: subgroups and sites",
        "per subgroup / site",
        _table_file(by_name, "subgroups_patient", f"sites_{level}"),
    )
    utility = _table_file(by_name, "decision_curve")
    computed = (
        utility
        and "status" in by_name["decision_curve"].data
        and (by_name["decision_curve"].data["status"] == "computed").any()
    )
    add(
        "23c",
        "Clinical utility (decision curves)",
        "net benefit vs GA alone, treat all, treat none"
        if computed
        else "too few events for a risk model (the table says how many)"
        if utility
        else "no outcome recorded",
        utility if computed else (),
        None if computed else "not available",
    )
    add(
        "23d",
        "Uncertainty of individual estimates",
        "conformal prediction intervals with coverage",
        _table_file(by_name, "intervals_patient"),
    )
    add("24", "Model updating results", "no method is updated", status="not applicable")
    add(
        "18f",
        "Code and reproducibility",
        f"git commit {data.run.get('git_commit', '?')}; "
        "tables regenerate from predictions.csv (check-results)",
        ("run.json",) if data.run else (),
    )
    return items


def render(items: list[Item]) -> str:
    lines = [
        "# TRIPOD+AI checklist (evaluation items) for this run",
        "",
        "Collins et al., BMJ 2024. Items that apply to a comparative benchmark of GA "
        "estimators, answered from this run's files (paths relative to this file).",
        "",
        "| item | topic | status | evidence | file |",
        "|---|---|---|---|---|",
    ]
    for it in items:
        lines.append(
            f"| {it.number} | {it.topic} | {it.status} | "
            f"{it.evidence.replace('|', '/')} | {', '.join(it.files) or '—'} |"
        )
    return "\n".join(lines) + "\n"


def as_frame(items: list[Item]) -> pd.DataFrame:
    return pd.DataFrame([it.__dict__ for it in items])
