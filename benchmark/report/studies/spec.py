"""A study file (``studies/NAME.toml``): which runs to make and which study outputs to build.

A study is data: the datasets (names, or every source declaring a tag), their generator
options and seeds, the method selection, split and fit seeds, and the registered study
tables and figures built from those runs' predictions.  ``docs/studies.md`` shows one::

    [study]
    name = "scenarios"
    out = "results/scenarios"

    [runs]
    datasets = { tag = "scenario" }
    methods = ["all"]

    [outputs]
    tables = ["scenario_matrix"]

Every mistake is one line naming the file and the key (``studies/x.toml: runs.split: ...``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

#: the keys each section accepts (anything else is a typo, refused by name)
KEYS = {
    "study": {"name", "out", "summary"},
    "runs": {
        "datasets",
        "dataset_seeds",
        "options",
        "methods",
        "split",
        "seeds",
        "groups",
        "fallback",
    },
    "outputs": {"tables", "figures", "parameters", "store_inputs", "export", "export_figures"},
}
DATASET_OPTIONS = {"patients", "images_per_patient", "sites", "size", "seed"}
#: generator switches (true / false), as ``run --enrich-preterm``
DATASET_FLAGS = {"enrich_preterm"}


class StudyFileError(ValueError):
    """A study file that cannot be run: one line, naming the file and the key."""


@dataclass(frozen=True)
class RunSpec:
    """One run of a study: a dataset (with its generator seed) under the shared grid."""

    key: str  # unique within the study; the folder name of its stored inputs
    dataset: str
    dataset_seed: int | None = None


@dataclass(frozen=True)
class Study:
    name: str
    out: str
    datasets: tuple[str, ...]
    methods: tuple[str, ...] | None = ("all",)
    dataset_seeds: tuple[int, ...] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    split: str = "paper"
    seeds: tuple[int, ...] = (0,)
    groups: tuple[float, ...] = (30.0, 36.0)
    fallback: str = "predict"
    tables: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    #: keep each run's predictions.csv / cells.csv under ``<out>/runs/<key>/`` and the
    #: invocation record in ``<out>/study.json``: what ``check-results`` rebuilds from
    store_inputs: bool = False
    #: export each run as a report folder, ``<out>/<export>`` ("{dataset}" → its name)
    export: str | None = None
    export_figures: bool = False
    summary: str = ""
    source: str = ""  # the study file, for messages

    @property
    def runs(self) -> list[RunSpec]:
        seeds = self.dataset_seeds or (None,)
        runs = []
        for dataset in self.datasets:
            for seed in seeds:
                key = dataset if seed is None else f"{dataset}-seed{seed}"
                runs.append(RunSpec(key, dataset, seed))
        return runs

    def export_dir(self, run: RunSpec) -> str | None:
        if self.export is None:
            return None
        return self.export.format(dataset=run.dataset, key=run.key)

    def with_changes(self, **changes: Any) -> Study:
        return replace(self, **changes)


def load_study(path: str | Path) -> Study:
    """Parse and check a study file; every problem is a :class:`StudyFileError`."""
    path = Path(path)
    where = path.as_posix()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudyFileError(f"{where}: no such study file") from None
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{where}: not valid TOML: {exc}") from None
    for section, value in raw.items():
        if section not in KEYS:
            raise StudyFileError(
                f"{where}: unknown section [{section}] (known: {', '.join(sorted(KEYS))})"
            )
        if not isinstance(value, dict):
            raise StudyFileError(f"{where}: {section} must be a [{section}] table")
        for key in value:
            if key not in KEYS[section]:
                raise StudyFileError(
                    f"{where}: unknown key {section}.{key} "
                    f"(known: {', '.join(sorted(KEYS[section]))})"
                )
    reader = _Reader(where, raw)
    name = reader.text("study.name", required=True)
    study = Study(
        name=name,
        out=reader.text("study.out", default=f"results/{name}"),
        summary=reader.text("study.summary", default=""),
        datasets=reader.datasets(),
        methods=reader.texts("runs.methods", default=("all",), allow_none=True),
        dataset_seeds=reader.ints("runs.dataset_seeds", default=None),
        options=reader.options(),
        split=reader.text("runs.split", default="paper"),
        seeds=reader.ints("runs.seeds", default=(0,)),
        groups=tuple(float(x) for x in reader.numbers("runs.groups", default=(30.0, 36.0))),
        fallback=reader.text("runs.fallback", default="predict"),
        tables=reader.texts("outputs.tables", default=()),
        figures=reader.texts("outputs.figures", default=()),
        parameters=reader.get("outputs.parameters", {}, dict),
        store_inputs=reader.get("outputs.store_inputs", False, bool),
        export=reader.text("outputs.export", default=None),
        export_figures=reader.get("outputs.export_figures", False, bool),
        source=where,
    )
    check_study(study)
    return study


def check_study(study: Study) -> None:
    """What a study needs before anything runs: known outputs, unique seeds and keys."""
    from benchmark.report.studies.registry import list_study_figures, list_study_tables

    where = study.source or study.name
    for kind, names, known in (
        ("tables", study.tables, list_study_tables()),
        ("figures", study.figures, list_study_figures()),
    ):
        for name in names:
            if name not in known:
                raise StudyFileError(
                    f"{where}: outputs.{kind}: no study {kind[:-1]} "
                    f"{name!r} (registered: {', '.join(known) or 'none'})"
                )
    if study.dataset_seeds is not None and len(set(study.dataset_seeds)) != len(
        study.dataset_seeds
    ):
        raise StudyFileError(f"{where}: runs.dataset_seeds repeats a seed")
    if not study.datasets:
        raise StudyFileError(f"{where}: runs.datasets selects no dataset")
    if not (study.tables or study.figures or study.export or study.store_inputs):
        raise StudyFileError(
            f"{where}: outputs: nothing to build (tables, figures, export or store_inputs)"
        )


class _Reader:
    """Typed access to ``section.key`` values, each mistake named by its key."""

    def __init__(self, where: str, raw: dict) -> None:
        self.where, self.raw = where, raw

    def get(self, dotted: str, default: Any, kind: type | tuple[type, ...]) -> Any:
        section, key = dotted.split(".")
        if key not in self.raw.get(section, {}):
            return default
        value = self.raw[section][key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise StudyFileError(f"{self.where}: {dotted} must be {_article(names)}, got {value!r}")
        return value

    def text(self, dotted: str, default: Any = None, required: bool = False) -> Any:
        value = self.get(dotted, None, str)
        if value is None:
            if required:
                raise StudyFileError(f"{self.where}: {dotted} is missing")
            return default
        if not value.strip():
            raise StudyFileError(f"{self.where}: {dotted} is empty")
        return value

    def _list(
        self, dotted: str, default: Any, kind: type | tuple[type, ...], allow_none: bool = False
    ) -> Any:
        value = self.get(dotted, None, (list, str) if allow_none else list)
        if value is None:
            return default
        if allow_none and value == "default":  # the verb's own default selection
            return None
        if isinstance(value, str):
            raise StudyFileError(f'{self.where}: {dotted} must be a list or "default"')
        for item in value:
            if not isinstance(item, kind) or isinstance(item, bool):
                raise StudyFileError(
                    f"{self.where}: {dotted}: {item!r} is not "
                    f"{_article(getattr(kind, '__name__', 'number'))}"
                )
        if not value:
            raise StudyFileError(f"{self.where}: {dotted} is an empty list")
        return tuple(value)

    def texts(self, dotted: str, default: Any, allow_none: bool = False) -> Any:
        return self._list(dotted, default, str, allow_none)

    def ints(self, dotted: str, default: Any) -> Any:
        return self._list(dotted, default, int)

    def numbers(self, dotted: str, default: Any) -> Any:
        return self._list(dotted, default, (int, float))

    def options(self) -> dict[str, Any]:
        options = self.get("runs.options", {}, dict)
        for key, value in options.items():
            if key not in DATASET_OPTIONS | DATASET_FLAGS:
                raise StudyFileError(
                    f"{self.where}: unknown key runs.options.{key} "
                    f"(known: {', '.join(sorted(DATASET_OPTIONS | DATASET_FLAGS))})"
                )
            if key in DATASET_FLAGS:
                if not isinstance(value, bool):
                    raise StudyFileError(
                        f"{self.where}: runs.options.{key} must be true or false, got {value!r}"
                    )
                continue
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or value < (0 if key == "seed" else 1)
            ):
                raise StudyFileError(
                    f"{self.where}: runs.options.{key} must be a "
                    f"{'non-negative' if key == 'seed' else 'positive'} "
                    f"integer, got {value!r}"
                )
        # false is the generator's default: left out, so the run (and its cache key) is the
        # one `run` makes without the flag
        return {k: v for k, v in options.items() if v is not False}

    def datasets(self) -> tuple[str, ...]:
        """A list of names or folders, or ``{tag = "..."}``: every source declaring it."""
        raw = self.raw.get("runs", {}).get("datasets", ["synthetic"])
        if isinstance(raw, dict):
            if set(raw) != {"tag"} or not isinstance(raw["tag"], str):
                raise StudyFileError(
                    f'{self.where}: runs.datasets must be a list of names or {{ tag = "NAME" }}'
                )
            from benchmark.data.sources import list_datasets

            names = tuple(list_datasets(tag=raw["tag"]))
            if not names:
                raise StudyFileError(
                    f"{self.where}: runs.datasets: no dataset source "
                    f"declares the tag {raw['tag']!r}"
                )
            return names
        return self.texts("runs.datasets", ("synthetic",))


def _article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun
