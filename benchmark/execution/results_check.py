"""``check-results``: every folder under ``results/`` rebuilt from what it stores.

A folder is one of: the reference run (``results/`` itself: its ``tables/`` from its
``predictions.csv`` and other inputs), a study's folder (``studies/*.toml`` whose
``study.out`` names it: each exported run's ``tables/``, and the study tables and figures
from the runs' stored inputs), an exported run no study claims, or a folder nothing here
can rebuild (listed with the reason).  ``update`` writes what changed and lists it.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.report.build import compare_files, fresh_tables
from benchmark.report.studies.build import RUNS_FOLDER, fresh_outputs
from benchmark.report.studies.spec import Study, StudyFileError, load_study

#: sub-folders that belong to the folder above them (its outputs or its stored runs)
OWNED = ("tables", "figures", RUNS_FOLDER)


@dataclass
class FolderCheck:
    folder: Path
    what: str  # "reference run", "study scenarios (studies/scenarios.toml)", ...
    checked: list[str] = field(default_factory=list)  # what was rebuilt and compared
    problems: list[str] = field(default_factory=list)
    not_rebuilt: str = ""  # why (part of) this folder is not rebuilt from stored inputs
    #: file → the bytes it should hold (None: remove it); what ``update`` writes
    fixes: dict[Path, bytes | None] = field(default_factory=dict)
    #: ways the stored runs differ from what the study file now asks (re-run it)
    stale: list[str] = field(default_factory=list)
    #: the ``git_commit`` values of the stored cells (its predictions came from these)
    commits: list[str] = field(default_factory=list)

    def provenance(self) -> str:
        """Which commit(s) computed the stored predictions, and whether the code that
        computes predictions changed since (``git``; unknown outside a checkout)."""
        if not self.commits:
            return "predictions not stored here: their commit is unknown"
        stale = [c for c in self.commits if _code_changed_since(c)]
        line = "predictions computed by " + ", ".join(_short(c) for c in self.commits)
        if stale:
            line += (
                f"; the prediction code ({', '.join(PREDICTION_CODE)}) changed since "
                f"{', '.join(_short(c) for c in stale)}: not re-run since, re-run its study "
                "(or run) to refresh; its tables are rebuilt from the stored predictions only"
            )
        return line


#: what decides a prediction (a change elsewhere, e.g. the report, leaves them valid)
PREDICTION_CODE = ("methods", "datasets", "benchmark/kits", "benchmark/execution", "benchmark/data")
#: within those, files that only run studies or check folders, never compute a prediction
NOT_PREDICTION_CODE = ("benchmark/execution/study.py", "benchmark/execution/results_check.py")


def _short(commit: str) -> str:
    return commit[:12] + ("-dirty" if commit.endswith("-dirty") else "")


def _code_changed_since(commit: str) -> bool:
    """Whether ``PREDICTION_CODE`` differs between ``commit`` and HEAD; a ``-dirty`` commit
    (uncommitted edits) counts as changed, as does one git does not know."""
    from benchmark.contract.plugins import REPO_ROOT

    if commit.endswith("-dirty"):
        return True
    try:
        done = subprocess.run(
            [
                *("git", "diff", "--quiet", commit, "HEAD", "--", *PREDICTION_CODE),
                *(f":(exclude){path}" for path in NOT_PREDICTION_CODE),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            check=False,
        )
    except OSError:
        return True
    return done.returncode != 0


def stored_commits(folder: Path, recursive: bool = True) -> list[str]:
    """``git_commit`` of every cells.csv stored in ``folder`` (its runs and exports too)."""
    import pandas as pd

    commits: set[str] = set()
    for path in sorted(folder.rglob("cells.csv") if recursive else folder.glob("cells.csv")):
        cells = pd.read_csv(path, usecols=lambda c: c == "git_commit")
        if "git_commit" in cells:
            commits.update(str(c) for c in cells["git_commit"].dropna())
    return sorted(commits)


def _tables(folder: Path, check: FolderCheck) -> None:
    fresh = fresh_tables(folder)
    problems = compare_files(folder / "tables", fresh)
    where = (folder / "tables").relative_to(check.folder).as_posix()
    check.checked.append(f"{where}/ ({len(fresh)} files)")
    check.problems += problems
    committed = folder / "tables"
    for name, data in fresh.items():
        if not (committed / name).is_file() or (committed / name).read_bytes() != data:
            check.fixes[committed / name] = data
    for path in committed.glob("*") if committed.is_dir() else ():
        if path.is_file() and path.name not in fresh:
            check.fixes[path] = None


def _config_matches(study: Study, run, folder: Path) -> list[str]:
    """The stored run.json was made by the options the study file states."""
    path = folder / "run.json"
    if not path.is_file():
        return [f"{path}: missing (the run's configuration)"]
    stored = json.loads(path.read_text(encoding="utf-8")).get("config", {})
    options = dict(study.options)
    if run.dataset_seed is not None:
        options["seed"] = run.dataset_seed
    methods = list(study.methods or ())
    if stored.get("methods", [])[: len(methods)] == methods:
        methods = stored["methods"]  # an output's prepare may add methods (the oracle)
    expected = {
        "dataset": run.dataset,
        "dataset_options": options,
        "methods": methods,
        "split": study.split,
        "seeds": list(study.seeds),
        "group_edges": [float(g) for g in study.groups],
        "fallback": study.fallback,
    }
    return [
        f"{path}: config.{key} is {stored.get(key)!r}, {study.source} says {value!r}"
        for key, value in expected.items()
        if stored.get(key) != value
    ]


def _study(study: Study, folder: Path, check: FolderCheck) -> list[Path]:
    exported = []
    for run in study.runs if study.export is not None else ():
        target = (folder / study.export_dir(run)).resolve()
        exported.append(target)
        if not (target / "predictions.csv").is_file():
            check.problems.append(
                f"{target}: {study.source} exports run {run.key} here; no predictions.csv"
            )
            continue
        _tables(target, check)
        # made by an earlier version of the study file: stale, said so, not a byte difference
        # (its tables still reproduce from what it stores); re-running the study fixes it
        check.stale += _config_matches(study, run, target)
    if study.tables or study.figures:
        fresh = fresh_outputs(study, folder)
        names = ", ".join((*study.tables, *study.figures))
        if isinstance(fresh, str):
            check.not_rebuilt = f"study outputs ({names}) not rebuilt: {fresh}"
        else:
            check.checked.append(f"study outputs {names} ({len(fresh)} files)")
            for name, data in fresh.items():
                path = folder / name
                if not path.is_file():
                    check.problems.append(f"{path}: generated but not committed")
                elif path.read_bytes() != data:
                    check.problems.append(f"{path}: differs from the regenerated study output")
                else:
                    continue
                check.fixes[path] = data
    return exported


def studies_under(results: Path, studies: Path) -> dict[Path, Study]:
    """Study files whose ``study.out`` lies in ``results`` (``results/x`` → ``<results>/x``)."""
    found = {}
    for path in sorted(studies.glob("*.toml")):
        study = load_study(path)
        out = Path(study.out)
        if out.parts[:1] != ("results",):
            continue
        found[(results / Path(*out.parts[1:])).resolve()] = study
    return found


def check_all(results: str | Path, studies: str | Path) -> list[FolderCheck]:
    """One :class:`FolderCheck` per folder under ``results`` (and ``results`` itself)."""
    results = Path(results).resolve()
    claimed = studies_under(results, Path(studies))
    checks, covered = [], set()
    if (results / "predictions.csv").is_file():
        check = FolderCheck(results, "reference run")
        _tables(results, check)
        checks.append(check)
        covered.add(results)
    for folder, study in claimed.items():
        check = FolderCheck(folder, f"study {study.name} ({Path(study.source).as_posix()})")
        if not folder.is_dir():
            check.problems.append(f"{folder}: {study.source} writes here; the folder is missing")
        else:
            covered.update(_study(study, folder, check))
        covered.add(folder)
        checks.append(check)
    for folder in sorted(p for p in results.rglob("*") if p.is_dir()):
        if folder in covered or set(folder.relative_to(results).parts) & set(OWNED):
            continue
        if any(c != results and c in folder.parents for c in covered):
            continue  # inside a study's folder: its exports were checked with it
        check = FolderCheck(folder, "exported run")
        if (folder / "predictions.csv").is_file():
            _tables(folder, check)
        else:
            check.what = "other"
            check.not_rebuilt = (
                "not rebuilt: no study file names it and it stores no "
                "predictions.csv (results/README.md says what makes it)"
            )
        checks.append(check)
    for check in checks:  # the reference run's folder holds the others: its own cells only
        check.commits = stored_commits(check.folder, recursive=check.folder != results)
    return checks


def apply_fixes(checks: list[FolderCheck]) -> list[str]:
    """Write every fix; the files written or removed, one line each."""
    done = []
    for check in checks:
        for path, data in sorted(check.fixes.items()):
            if data is None:
                path.unlink(missing_ok=True)
                done.append(f"removed  {path}")
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                done.append(f"written  {path}")
    return done


__all__ = ["FolderCheck", "StudyFileError", "apply_fixes", "check_all", "studies_under"]
