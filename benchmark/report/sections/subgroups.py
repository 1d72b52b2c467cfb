"""Performance per subgroup (``report``/``run --subgroup COLUMN``, repeatable; the
``site`` column of a multi-site cohort always)."""

from __future__ import annotations

import pandas as pd

from benchmark.report.formatting import Table, interval, num
from benchmark.report.registry import ReportContext, register_table
from benchmark.report.sections.intervals import patient_intervals
from benchmark.report.sections.maturity import _pooled
from benchmark.stats.subgroups import MIN_SUBGROUP, subgroup_table


def _patient_column(ctx: ReportContext, column: str) -> pd.Series | None:
    """patient_id -> value, from the exported patients table or else the cohort."""
    patients = ctx.data.table1_patients
    if patients is not None and column in patients:
        return patients.set_index(patients["patient_id"].astype(str))[column]
    root = ctx.data.dataset_root
    if root is None or not root.is_dir():
        return None
    from benchmark.data.cohort import Cohort

    try:
        table = Cohort.load(root).patients
    except Exception:  # an unreadable cohort: the column is reported as unavailable
        return None
    return table[column].rename(index=str) if column in table else None


def subgroup_columns(ctx: ReportContext) -> dict[str, pd.Series]:
    wanted = list(ctx.options.subgroups)
    patients = ctx.data.table1_patients
    if (
        "site" not in wanted
        and patients is not None
        and "site" in patients
        and patients["site"].nunique() > 1
    ):
        wanted.append("site")  # a multi-site cohort is always read per site
    found = {}
    for column in wanted:
        values = _patient_column(ctx, column)
        if values is None:
            note = f"subgroups: no patient column {column!r} in this run's cohort"
            if note not in ctx.data.skips:
                ctx.data.skips.append(note)
        elif values.nunique() > 20:
            note = (
                f"subgroups: column {column!r} has {values.nunique()} values; "
                "--subgroup takes a categorical column (band it first)"
            )
            if note not in ctx.data.skips:
                ctx.data.skips.append(note)
        else:
            found[column] = values
    return found


@register_table("subgroups", order=76)
def subgroups_table(ctx: ReportContext) -> Table | None:
    columns = subgroup_columns(ctx)
    if not columns:
        return None
    frame = subgroup_table(_pooled(ctx), patient_intervals(ctx), columns)
    done = frame["status"] == "computed"
    display = pd.DataFrame(
        {
            "column": frame["column"],
            "subgroup": frame["subgroup"],
            "method": frame["method"],
            "n": frame["n"],
            "MAE (d)": [
                num(v, 1) if ok else s for v, ok, s in zip(frame["mae_days"], done, frame["status"])
            ],
            "calibration slope [95 % CI]": [
                interval(s, lo, hi) if ok else "—"
                for s, lo, hi, ok in zip(frame["slope"], frame["slope_lo"], frame["slope_hi"], done)
            ],
            f"{100 * ctx.options.interval_level:g} % interval coverage %": [
                num(100 * v, 1) if ok else "—" for v, ok in zip(frame["coverage"], done)
            ],
        }
    )
    return Table(
        "subgroups_patient",
        "Performance per subgroup",
        "Patient level, test patients, per categorical patient column (report --subgroup "
        "COLUMN; a multi-site cohort's site always): n, MAE in days, calibration slope of "
        "true on estimated GA (OLS, 95 % CI) and coverage of the conformal prediction "
        f"intervals (calibrated over all test patients, not per subgroup). Subgroups with "
        f"fewer than {MIN_SUBGROUP} patients are marked too small to read, not given a "
        "number.",
        frame,
        display,
    )
