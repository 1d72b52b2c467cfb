"""The null pooling: image methods on several independent null cohorts (one per generator
seed), each method's r pooled by Fisher z with a Holm verdict (``null_check.*``,
``per_cohort.csv``): the leak detector."""

from __future__ import annotations

import math

import pandas as pd

from benchmark.report.studies.registry import StudyContext, StudyFiles, register_study_table

CAPTION = (
    "Each dataset seed is an independent cohort whose images carry no GA. A method's "
    "patient-level r with GA is taken on each test set and pooled by inverse-variance "
    "Fisher z. `alone`: cohorts where r was significant by itself (chance alone gives "
    "{chance:.2g} of {k}). Verdicts are Holm-adjusted over the {n_methods} method(s); the CI "
    "and `detectable` (smallest |r| found with 80 % power) use the matching Bonferroni "
    "level. Controls (the oracle reads the simulated maturity) check the cohort itself, "
    "outside that family."
)


def select_methods(selections: list[str] | None) -> tuple[list[str], list[str], list[str]]:
    """(selections to run, labels refused, control labels).

    Only methods that read pixels can leak GA here; tabular methods read columns that
    carry GA in a null cohort by design. A selection keeps its ``[params]`` text, so the
    runner expands exactly what the user asked for. Controls are the methods that read
    simulation truth (``reads_truth``) or declare the ``ceiling`` role; by default every
    available one is run beside the image methods.
    """
    from benchmark.contract.registry import get_method_class, list_methods

    explicit = selections is not None
    available = set(list_methods("all", available_only=True))
    run, refused, controls = [], [], []
    for selection in selections or ["all"]:
        # the runner parses the ``[params]`` text; here only the name pattern matters
        pattern, bracket, params = selection.strip().partition("[")
        params = params[:-1] if bracket and params.endswith("]") else params
        suffix = f"[{params}]" if params else ""
        for name in list_methods(pattern):
            try:
                cls = get_method_class(name)
            except LookupError:  # unknown or broken: the runner reports why
                run.append(name + suffix)
                continue
            if not (cls.uses_images or cls.reads_truth):
                if explicit:
                    refused.append(name)
                continue
            if explicit or name in available:
                run.append(name + suffix)
            if cls.reads_truth or cls.role == "ceiling":
                controls.append(name)
    if not explicit:
        for name in sorted(available):
            cls = get_method_class(name)
            if cls.role == "ceiling" and name not in controls:
                run.append(name)
                controls.append(name)
    return list(dict.fromkeys(run)), refused, controls


def prepare(study):
    """Refuse what would fake independence, keep the image methods and the controls."""
    where = study.source or study.name
    alpha = study.parameters.get("alpha", 0.05)
    if not 0 < alpha < 1:
        raise ValueError(f"--alpha must be between 0 and 1, got {alpha:g}")
    seeds = study.dataset_seeds or ()
    if len(set(seeds)) != len(seeds):
        raise ValueError("--dataset-seeds repeats a seed: pooled cohorts must be independent")
    if not seeds:
        raise ValueError(
            f"{where}: runs.dataset_seeds: the null pooling needs one cohort per generator seed"
        )
    if len(study.seeds) != 1:
        raise ValueError(
            "null-check uses one split seed (--seeds): its independent cohorts "
            "come from --dataset-seeds"
        )
    if len(study.datasets) != 1:
        raise ValueError(
            f"{where}: runs.datasets: the null pooling pools one source's "
            f"cohorts, got {len(study.datasets)}"
        )
    selections, refused, _ = select_methods(
        list(study.methods) if study.methods is not None else None
    )
    notes = [
        f"not checked: {name} reads no pixels; its tabular inputs carry GA in a null "
        "cohort by design"
        for name in refused
    ]
    if not selections:
        raise ValueError("null-check: no image method selected")
    study = study.with_changes(methods=tuple(selections))
    _refuse_repeated_cohorts(study)
    return study, notes


def _refuse_repeated_cohorts(study) -> None:
    """Before any method runs: each seed must give other data (a folder ignores the seed),
    or pooling would count one cohort several times as if independent."""
    from benchmark.data.cohort import Cohort
    from benchmark.data.sources import resolve_dataset

    fingerprints = [
        Cohort.load(
            resolve_dataset(run.dataset, **study.options, seed=run.dataset_seed)
        ).fingerprint()
        for run in study.runs
    ]
    if len(set(fingerprints)) < len(fingerprints):
        raise ValueError(
            f"{study.datasets[0]}: different dataset seeds gave the same cohort "
            "(a folder ignores the seed); pooling it would fake independence"
        )


def _controls(ctx: StudyContext) -> frozenset[str]:
    """Labels that are a method's own name and whose class reads truth or is a ceiling."""
    from benchmark.contract.registry import declares, get_method_class

    labels = set()
    for run in ctx.runs:
        if len(run.cells) and "label" in run.cells:
            labels.update(run.cells["label"])
    out = set()
    for label in labels:
        try:
            cls = get_method_class(label)
        except LookupError:
            continue
        if declares(label, "reads_truth") or cls.role == "ceiling":
            out.add(label)
    return frozenset(out)


def _fmt(value: float, spec: str) -> str:
    return "—" if math.isnan(value) else format(value, spec)


@register_study_table(
    "null_pooling",
    title="Null check",
    caption=CAPTION,
    unit="patient",
    order=20,
    reading="A learned method passes with `no evidence of a leak`; the control must read "
    "`cohort is null`.",
    prepare=prepare,
    uses_record=True,
)
def null_pooling(ctx: StudyContext) -> StudyFiles:
    from benchmark.stats.null_check import NO_LEAK, NULL_OK, fold_r, null_check, per_cohort

    study, alpha = ctx.study, ctx.study.parameters.get("alpha", 0.05)
    frames, problems = [], []
    for run in ctx.runs:
        seed = run.run.dataset_seed
        for cell in run.cells.itertuples() if len(run.cells) else ():
            if cell.status != "done":
                problems.append(
                    f"dataset seed {seed}: {cell.label} {cell.status}: {getattr(cell, 'error', '')}"
                )
        if len(run.predictions):
            frames.append(run.predictions.assign(dataset_seed=seed))
    preds = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            columns=["label", "dataset_seed", "seed", "fold", "level", "ga_true", "ga_pred"]
        )
    )
    folds = fold_r(preds)
    table = null_check(folds, alpha, _controls(ctx))
    cohorts = per_cohort(folds)
    seeds = [run.run.dataset_seed for run in ctx.runs]
    caption = ctx.output.caption.format(
        chance=alpha * len(seeds), k=len(seeds), n_methods=int((table["role"] == "method").sum())
    )
    lines = [
        f"# {ctx.output.title}: {study.datasets[0]}, dataset seeds "
        f"{' '.join(map(str, seeds))}, split {study.split}",
        "",
        caption,
        "",
        "| method | role | r per cohort (seed: r) | alone | pooled r [CI] | p adj. | "
        "detectable | verdict |",
        "|---|---|---|---:|---|---:|---:|---|",
    ]
    for row in table.itertuples():
        mine = cohorts[cohorts["method"] == row.method].set_index("dataset_seed")["r"]
        per = " ".join(f"{s}: {_fmt(mine.get(s, float('nan')), '+.2f')}" for s in seeds)
        lines.append(
            f"| {row.method} | {row.role} | {per} | {row.significant_alone} | "
            f"{_fmt(row.r_pooled, '+.3f')} [{_fmt(row.lo, '+.3f')}, {_fmt(row.hi, '+.3f')}] "
            f"| {_fmt(row.p_adjusted, '.3g')} | {_fmt(row.detectable_r, '.3f')} | "
            f"{row.verdict} |"
        )
    if problems:
        lines += [
            "",
            "Cells that did not finish (their cohorts are missing above):",
            *[f"- {p}" for p in problems],
        ]
    lines += [
        "",
        "Run folders:",
        *[f"- seed {run.run.dataset_seed}: {run.run_dir}" for run in ctx.runs],
        "",
    ]
    text = "\n".join(lines)
    flagged = table.loc[~table["verdict"].isin([NO_LEAK, NULL_OK]), "method"].tolist()
    summary = (
        f"{len(table) - len(flagged)} of {len(table)} checked clean"
        + (f"; flagged or not testable: {', '.join(flagged)}" if flagged else "")
        + (f"; {len(problems)} cell(s) not done" if problems else "")
    )
    return StudyFiles(
        {
            "per_cohort.csv": cohorts.to_csv(index=False, float_format="%.6g"),
            "null_check.csv": table.to_csv(index=False, float_format="%.6g"),
            "null_check.md": text,
        },
        message=text + "\n" + summary,
        failed=bool(flagged or problems),
    )
