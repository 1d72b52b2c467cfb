from __future__ import annotations

import argparse
import os
import sys

from benchmark.contract.domain import DEFAULT_GROUP_EDGES

HELP = "Run methods on a dataset over patient-level splits; results go to a run folder."


def default_n_jobs() -> int:
    # every core, but not more than 4: each worker holds its own copy of a net's patches
    return int(os.environ.get("FLB_N_JOBS", min(os.cpu_count() or 1, 4)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        default="synthetic",
        help="source name or folder (default: the embedded synthetic cohort)",
    )
    add_grid_arguments(parser, methods_default=["all"])
    parser.add_argument(
        "--dataset-seed",
        type=int,
        help="synthetic cohort: generator seed (vary it for the null check)",
    )
    parser.add_argument("--run-dir", help="exact run folder (default: derived from the options)")
    parser.add_argument(
        "--subgroup",
        action="append",
        default=[],
        metavar="COLUMN",
        help="report performance per value of this categorical patient column (repeatable)",
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="leave out rows and patients with validation errors and run the "
        "rest; every one is listed (terminal, run.json, skipped_inputs.csv)",
    )
    parser.add_argument(
        "--no-figures",
        dest="figures",
        action="store_false",
        help="tables and report only (a run whose figures nobody reads: `report` draws "
        "them later from the same folder)",
    )


def add_grid_arguments(
    parser: argparse.ArgumentParser,
    methods_default: list[str] | None = None,
    methods_help: str = "names or globs, e.g. all | 'unet*' | "
    "'biometry-hadlock[combination=HC+FL]' (default: all)",
) -> None:
    """What a grid runs (methods, split, seeds, synthetic options) and how
    (:func:`add_execution_arguments`): ``run``, ``scenarios``, ``null-check``."""
    parser.add_argument("--methods", nargs="+", default=methods_default, help=methods_help)
    parser.add_argument(
        "--split",
        default="paper",
        help="paper (first 166/316 by enrolment) | paper:FRACTION | kfold:K | "
        "site (leave one site out) | site:NAME",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="repeat with seeds")
    parser.add_argument(
        "--groups",
        nargs="+",
        type=float,
        default=list(DEFAULT_GROUP_EDGES),
        metavar="EDGE",
        help="GA group edges in weeks (right-closed)",
    )
    parser.add_argument("--patients", type=int, help="synthetic cohort: number of patients")
    parser.add_argument("--images-per-patient", type=int, help="synthetic cohort: frames each")
    parser.add_argument(
        "--sites",
        type=int,
        help="synthetic cohort: mix K scanner/site "
        "presets (1 = one generic site, the default; 2-4 named presets)",
    )
    parser.add_argument(
        "--enrich-preterm",
        action="store_true",
        help="synthetic cohort: every fetus delivered within 48 h of its scan, "
        "as lung-maturity studies sample (Burgos-Artizzu 2019): an outcome "
        "with enough events for CIs (images unchanged)",
    )
    parser.add_argument(
        "--fallback",
        default="predict",
        choices=["predict", "exclude"],
        help="images a method cannot measure (no usable lung): 'predict' "
        "them by the method's documented fallback, marked in the "
        "provenance column (default), or 'exclude' them, listed in "
        "excluded.csv",
    )
    add_execution_arguments(parser)


def add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    """How cells run (never what they compute): shared by ``run``, ``study`` and the
    study aliases."""
    parser.add_argument("--runs-dir", default="runs", help="parent folder of run folders")
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=default_n_jobs(),
        help="local worker processes, or --cluster local workers "
        "(default: $FLB_N_JOBS or every core, at most 4)",
    )
    parser.add_argument(
        "--backend",
        default=None,
        help="sequential | joblib | dask (default: by --n-jobs, --scheduler, --cluster)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run cells on a Dask cluster, e.g. tcp://host:8786 (docs/scaling.md)",
    )
    parser.add_argument(
        "--cluster",
        choices=["local"],
        help="start a Dask LocalCluster on this machine (--n-jobs workers)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="per-cell time limit: a cell still running is killed and "
        "recorded as failed (cells then run in child processes)",
    )
    parser.add_argument(
        "--memory-limit",
        type=float,
        metavar="MIB",
        dest="memory_limit_mb",
        help="per-cell memory allowance (address space above the cell "
        "process's start size); exceeding it fails that cell",
    )
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--no-resume", dest="resume", action="store_false", help="recompute cells even if finished"
    )


def config_from_args(args: argparse.Namespace):
    from benchmark.execution.runner import RunConfig

    options = {}
    if args.patients:
        options["patients"] = args.patients
    if args.images_per_patient:
        options["images_per_patient"] = args.images_per_patient
    if getattr(args, "sites", None):
        options["sites"] = args.sites
    if getattr(args, "enrich_preterm", False):
        options["enrich_preterm"] = True
    if getattr(args, "dataset_seed", None) is not None:
        options["seed"] = args.dataset_seed
    return RunConfig(
        dataset=args.dataset,
        dataset_options=options,
        methods=args.methods,
        split=args.split,
        seeds=args.seeds,
        group_edges=tuple(args.groups),
        run_dir=getattr(args, "run_dir", None),
        fallback=args.fallback,
        **execution_from_args(args),
    )


def execution_from_args(args: argparse.Namespace) -> dict:
    """The RunConfig fields of :func:`add_execution_arguments` (how cells run)."""
    backend_options = {}
    if args.scheduler:
        backend_options["scheduler"] = args.scheduler
    if args.cluster:
        backend_options["cluster"] = args.cluster
    default_backend = "dask" if backend_options else "joblib" if args.n_jobs != 1 else "sequential"
    for name, value in (("--timeout", args.timeout), ("--memory-limit", args.memory_limit_mb)):
        if value is not None and value <= 0:
            raise ValueError(f"{name} must be positive, got {value:g}")
    return {
        "runs_dir": args.runs_dir,
        "backend": args.backend or default_backend,
        "n_jobs": args.n_jobs,
        "device": args.device,
        "resume": args.resume,
        "backend_options": backend_options,
        "timeout": args.timeout,
        "memory_limit_mb": args.memory_limit_mb,
    }


def main(args: argparse.Namespace) -> int:
    from benchmark.execution import runner
    from benchmark.execution.gridspec import duplicate_selections
    from benchmark.report.hook import build_report

    config = config_from_args(args)
    config.skip_invalid = args.skip_invalid
    for note in duplicate_selections(config.methods, "--methods", "--methods"):
        print(note, file=sys.stderr)
    result = runner.run(config)
    print()
    options = None
    if args.subgroup:
        from benchmark.report.registry import ReportOptions

        options = ReportOptions(subgroups=tuple(args.subgroup))
    print(build_report(result.run_dir, figures=args.figures, options=options))
    print(
        f"run folder: {result.run_dir}  ({result.n_computed} cell(s) computed, "
        f"{result.n_cached} reused)"
    )
    _say_outside_ga_range(result.run_dir)
    skipped = result.run_dir / "skipped_inputs.csv"
    if skipped.is_file() and skipped.stat().st_size:
        import pandas as pd

        from benchmark.data.ingest.skip import skip_summary

        table = pd.read_csv(skipped)
        if len(table):
            print(f"{skip_summary(table)}: listed in {skipped} and run.json (skipped_inputs)")
    if result.n_failed:
        print(
            f"{result.n_failed} cell(s) failed; reasons in {result.run_dir}/cells.csv, "
            f"tracebacks in {result.run_dir}/log.txt",
            file=sys.stderr,
        )
        return 1
    return 0


def _say_outside_ga_range(run_dir) -> None:
    """Estimates outside the accepted GA range are kept (never clipped) and said here."""
    import pandas as pd

    path = run_dir / "predictions.csv"
    if not path.is_file() or not path.stat().st_size:
        return
    flags = pd.read_csv(path, usecols=lambda c: c in ("level", "ga_flag"), dtype=str)
    if "ga_flag" not in flags:
        return
    flagged = flags[flags["ga_flag"].fillna("") != ""]
    if len(flagged):
        images = int((flagged["level"] == "image").sum())
        print(
            f"WARNING {path.name}: {images} image estimate(s) outside the accepted GA range "
            f"(e.g. {flagged['ga_flag'].iloc[0]}): kept as estimated, flagged in ga_flag"
        )
