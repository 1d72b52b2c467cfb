"""``summary.json`` and ``summary.md`` of the GPU check (scripts/gpu_check.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def checks_table(checks: list[dict]) -> str:
    lines = ["| check | value | tolerance | status | what |", "|---|---|---|---|---|"]
    for c in checks:
        value = f"{_fmt(c.get('value'), 4)} {c.get('unit', '')}".strip()
        lines.append(
            f"| {c['check']} | {value} | {_fmt(c.get('tolerance'), 3)} | {c['status']} "
            f"| {c.get('what', '')} |"
        )
    return "\n".join(lines)


def _steps_table(steps: list[dict]) -> str:
    lines = ["| step | seconds | exit | command |", "|---|---:|---:|---|"]
    for s in steps:
        command = s.get("command") or s.get("status", "")
        lines.append(f"| {s['step']} | {_fmt(s.get('seconds'), 1)} | {s.get('rc')} | `{command}` |")
    return "\n".join(lines)


def _figures_table(rows: list[dict]) -> str:
    cols = ["step", "label", "seed", "device", "n", "r", "mae_wk", "dsc_pct", "fit_s"]
    cols += ["predict_s", "train_steps", "train_patches_per_s", "fraction_of_matmul_peak"]
    if any("stopped_by" in r for r in rows):
        cols.append("stopped_by")
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
    return "\n".join(lines)


def write_summary(
    out: Path,
    env: dict,
    steps: list[dict],
    rows: list[dict],
    checks: list[dict],
    budget_s: float = math.nan,
) -> None:
    total = sum(s.get("seconds") or 0 for s in steps if s["step"] != "cpu")
    status = "fail" if any(c["status"] == "fail" for c in checks) else "pass"
    if status == "pass" and any(c["status"] == "not run" for c in checks):
        status = "incomplete"
    summary = {
        "status": status,
        "environment": env,
        "budget_s": budget_s,
        "seconds_foreground": round(total, 1),
        "checks": checks,
        "steps": steps,
        "figures": rows,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    gpu = env.get("gpu") or "no GPU"
    missing = ", ".join(env.get("missing_requirements") or []) or "none"
    md = [
        f"# GPU check: {status}",
        "",
        f"Device `{env['device']}` ({gpu}); Python {env['python']}, torch {env['torch']}; "
        f"requirements missing: {missing}.",
        f"Foreground steps {total:.0f} s of a {budget_s:.0f} s budget (the CPU arm runs beside "
        "them).",
        "",
        "## Checks",
        "",
        checks_table(checks),
        "",
        "## Figures (patient level; DSC in %)",
        "",
        _figures_table(rows),
        "",
        "## Timings",
        "",
        _steps_table(steps),
        "",
    ]
    (out / "summary.md").write_text("\n".join(md))
