"""One throw-away plugin per extension kind, added the way a contributor adds one (a new
file where discovery looks), run through its kind's check suite; and a broken twin that
fails the check named for its fault."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from benchmark.testing import (
    CheckError,
    cli_checks,
    dataset_checks,
    figure_checks,
    method_checks,
    reader_checks,
    run_checks,
    table_checks,
)


def _write(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def _failed(pairs) -> set[str]:
    """Names of the checks that fail (each one run, whatever the others do)."""
    failed = set()
    for name, check in pairs:
        try:
            check()
        except CheckError:
            failed.add(name)
    return failed


# -- methods ----------------------------------------------------------------------------------
METHOD = """
    import pandas as pd

    from benchmark import BaseMethod, register_method


    @register_method
    class ThrowawayMedian(BaseMethod):
        name = "throwaway-median"
        parameters = {"quantile": [0.5]}
        test_params = {"quantile": 0.4}

        def fit(self, train):
            self.value_ = float(train.patients["ga_weeks"].quantile(self.quantile))
            return self

        def predict(self, test):
            return pd.Series(self.value_, index=test.images.index, dtype=float)
"""


def test_a_method_plugin_file_passes_its_checks(tmp_path, monkeypatch):
    from benchmark.contract import registry

    _write(tmp_path / "plugins", "throwaway_median.py", METHOD)
    monkeypatch.setenv("FLB_METHODS_PATH", str(tmp_path / "plugins"))
    monkeypatch.setattr(registry, "_METHODS", dict(registry._METHODS))
    registry.discover(force=True)
    try:
        done = run_checks(method_checks("throwaway-median"))
        assert "deterministic" in done and "save_load" not in done  # saves not declared
        failed = _failed(method_checks("throwaway-median", params={"quantile": 7}))
        assert "predict" in failed and "init" not in failed  # pandas refuses a 7-quantile
    finally:
        monkeypatch.delenv("FLB_METHODS_PATH")
        sys.modules.pop("benchmark._plugins.methods.throwaway_median", None)
        monkeypatch.undo()
        registry.discover(force=True)


# -- readers ----------------------------------------------------------------------------------
READER = '''
    """NumPy ``.npy`` frames (no pickles), spacing in a JSON sidecar-free header: none."""
    import numpy as np

    from benchmark.data.ingest.readers import register_reader
    from benchmark.data.ingest.readers.base import ImageReader, RawImage


    @register_reader
    class ThrowawayNpyReader(ImageReader):
        suffixes = (".npy",)

        def read(self, path):
            return RawImage(np.load(path, allow_pickle=False)[None])

        def write_sample(self, path, pixels, spacing_mm, identifying):
            np.save(path, pixels, allow_pickle=False)
'''

LEAKY_READER = '''
    """A text header (``key=value`` lines, then ``--``) and raw 8-bit pixels."""
    import numpy as np

    from benchmark.data.ingest.readers import register_reader
    from benchmark.data.ingest.readers.base import ImageReader, RawImage


    def _split(path):
        head, _, body = path.read_bytes().partition(b"--\\n")
        fields = dict(line.split("=", 1) for line in head.decode().splitlines() if "=" in line)
        return fields, body


    @register_reader
    class ThrowawayLeakyReader(ImageReader):
        suffixes = (".leaky",)
        has_header_spacing = True

        def read(self, path):
            fields, body = _split(path)
            rows, cols = int(fields["rows"]), int(fields["cols"])
            pixels = np.frombuffer(body, np.uint8)[: rows * cols].reshape(1, rows, cols)
            raw = RawImage(pixels, spacing_mm=float(fields["spacing"]))
            raw.notes.append(f"scanned for {fields.get('PatientName', '?')}")  # the leak
            return raw

        def header_spacing(self, path):
            return self.read(path).spacing_mm, "leaky header"  # decodes the pixels

        def write_sample(self, path, pixels, spacing_mm, identifying):
            head = [f"rows={pixels.shape[0]}", f"cols={pixels.shape[1]}",
                    f"spacing={spacing_mm}", *(f"{k}={v}" for k, v in identifying.items())]
            path.write_bytes("\\n".join(head).encode() + b"\\n--\\n" + pixels.tobytes())
'''


@pytest.fixture
def reader_folder(tmp_path, monkeypatch):
    """A folder that reader discovery searches, as a new file in the package would be."""
    from benchmark.data.ingest import readers

    folder = tmp_path / "readers"
    folder.mkdir()
    monkeypatch.setattr(readers, "__path__", [*readers.__path__, str(folder)])
    monkeypatch.setattr(readers, "_READERS", dict(readers.list_readers()))
    monkeypatch.setattr(readers, "_DISCOVERED", False)
    yield folder
    for name in [m for m in sys.modules if m.startswith(f"{readers.__name__}.throwaway")]:
        del sys.modules[name]


def test_a_reader_plugin_file_passes_its_checks(reader_folder):
    from benchmark.data.ingest.readers import reader_for

    _write(reader_folder, "throwaway_npy.py", READER)
    assert type(reader_for(Path("x.npy"))).__name__ == "ThrowawayNpyReader"
    assert run_checks(reader_checks(type(reader_for(Path("x.npy"))))) == [
        "declarations",
        "round_trip",
        "spacing_without_decoding",
        "no_identifying_field",
        "failures_are_input_errors",
    ]


def test_a_leaky_reader_fails_the_privacy_and_header_checks(reader_folder):
    from benchmark.data.ingest.readers import reader_for

    _write(reader_folder, "throwaway_leaky.py", LEAKY_READER)
    failed = _failed(reader_checks(type(reader_for(Path("x.leaky")))))
    assert failed == {"no_identifying_field", "spacing_without_decoding"}


# -- report tables and figures ----------------------------------------------------------------
SECTION = """
    import pandas as pd

    from benchmark.report.formatting import Table
    from benchmark.report.registry import register_figure, register_table


    @register_table("throwaway_counts", order=990)
    def counts(ctx):
        preds = ctx.data.predictions
        if preds.empty:
            return None
        frame = preds.groupby("label").size().rename("rows").reset_index()
        return Table("throwaway_counts", "Rows", "Prediction rows per label.", frame, frame)


    @register_figure("throwaway_hist", order=990)
    def hist(ctx, out):
        preds = ctx.data.predictions
        if preds.empty:
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.hist(preds["ga_pred"], bins=10)
        fig.savefig(out / "throwaway_hist.png", metadata={"Software": None})
        plt.close(fig)
        return "throwaway_hist", "Predicted GA."
"""

BROKEN_SECTION = """
    import itertools

    import pandas as pd

    from benchmark.report.formatting import Table
    from benchmark.report.registry import register_table

    _calls = itertools.count()


    @register_table("throwaway_drifting", order=991)
    def drifting(ctx):  # a different number each build, and a table from nothing
        frame = pd.DataFrame({"build": [next(_calls)]})
        return Table("throwaway_drifting", "Builds", "How often it was built.", frame, frame)


    @register_table("throwaway_clash", order=992)
    def clash(ctx):  # writes the file of the built-in costs table
        frame = pd.DataFrame({"x": [1]})
        return None if ctx.data.predictions.empty else Table("costs", "X", "X.", frame, frame)
"""


@pytest.fixture
def section_folder(tmp_path, monkeypatch):
    """A folder that report discovery searches, as a new file in sections/ would be."""
    from benchmark.report import registry, sections

    registry.list_tables()  # the built-in registrations, before the copies below
    folder = tmp_path / "sections"
    folder.mkdir()
    monkeypatch.setattr(sections, "__path__", [*sections.__path__, str(folder)])
    monkeypatch.setattr(registry, "_TABLES", dict(registry._TABLES))
    monkeypatch.setattr(registry, "_FIGURES", dict(registry._FIGURES))
    monkeypatch.setattr(registry, "_loaded", False)
    yield folder
    for name in [m for m in sys.modules if m.startswith(f"{sections.__name__}.throwaway")]:
        del sys.modules[name]


@pytest.mark.slow
def test_a_report_section_file_passes_its_checks(section_folder):
    from benchmark.report.registry import list_figures, list_tables

    _write(section_folder, "throwaway_section.py", SECTION)
    assert "throwaway_counts" in list_tables() and "throwaway_hist" in list_figures()
    assert len(run_checks(table_checks("throwaway_counts"))) == 4
    assert len(run_checks(figure_checks("throwaway_hist"))) == 4


@pytest.mark.slow
def test_a_broken_report_section_fails_the_named_checks(section_folder):
    from benchmark.report.registry import list_tables

    _write(section_folder, "throwaway_broken.py", BROKEN_SECTION)
    list_tables()
    assert _failed(table_checks("throwaway_drifting")) == {"deterministic", "empty_run"}
    assert _failed(table_checks("throwaway_clash")) == {"unique_name"}


# -- dataset sources --------------------------------------------------------------------------
SOURCE = """
    from pathlib import Path

    from benchmark.data.sources import register_dataset
    from benchmark.testing import write_check_cohort


    @register_dataset("throwaway-tiny", summary="a tiny cohort", test_options={"seed": 3})
    def tiny(cache_dir: Path, seed: int = 0) -> Path:
        folder = Path(cache_dir) / f"throwaway-tiny-{seed}"
        if not (folder / "patients.csv").is_file():
            write_check_cohort(folder, seed=seed)
        return folder


    @register_dataset("throwaway-drifting", test_options={})
    def drifting(cache_dir: Path) -> Path:  # new pixels every generation, no cache
        import time

        folder = Path(cache_dir) / "throwaway-drifting"
        return write_check_cohort(folder, seed=time.perf_counter_ns() % 1000)


    @register_dataset("throwaway-no-ga")
    def no_ga(cache_dir: Path) -> Path:  # patients.csv without the GA column
        import pandas as pd

        folder = write_check_cohort(Path(cache_dir) / "throwaway-no-ga")
        patients = pd.read_csv(folder / "patients.csv").drop(columns=["ga_weeks"])
        patients.to_csv(folder / "patients.csv", index=False)
        return folder
"""


def test_a_dataset_source_file_passes_its_checks(tmp_path, monkeypatch):
    from benchmark.contract.plugins import load_plugin_folder
    from benchmark.data import sources

    sources.list_datasets()  # the built-in sources, before the copy below
    monkeypatch.setattr(sources, "_SOURCES", dict(sources._SOURCES))
    _write(tmp_path / "datasets", "throwaway_sources.py", SOURCE)
    try:
        assert load_plugin_folder(tmp_path / "datasets", "datasets") == {}
        assert run_checks(dataset_checks("throwaway-tiny")) == [
            "resolves",
            "validates",
            "stable_fingerprint",
        ]
        assert _failed(dataset_checks("throwaway-drifting")) == {"stable_fingerprint"}
        assert "validates" in _failed(dataset_checks("throwaway-no-ga"))
    finally:
        sys.modules.pop("benchmark._plugins.datasets.throwaway_sources", None)


# -- CLI verbs --------------------------------------------------------------------------------
VERB = '''
    """``python -m benchmark hello``: a throw-away verb."""

    HELP = "say hello (a throw-away verb)"


    def add_arguments(parser):
        parser.add_argument("--name", default="world")


    def main(args):
        print(f"hello, {args.name}")
        return 0
'''

HEAVY_VERB = """
    import pandas  # at import time: every --help would pay for it

    HELP = "a verb that imports pandas at the top"


    def add_arguments(parser):
        pass


    def main(args):
        return 0
"""


@pytest.fixture
def command_folder(tmp_path, monkeypatch):
    from benchmark.cli import commands

    folder = tmp_path / "commands"
    folder.mkdir()
    monkeypatch.setattr(commands, "__path__", [*commands.__path__, str(folder)])
    yield folder
    for name in [m for m in sys.modules if m.startswith(f"{commands.__name__}.throwaway")]:
        del sys.modules[name]


def test_a_cli_verb_file_passes_its_checks(command_folder, capsys):
    from benchmark.cli import main

    _write(command_folder, "throwaway_hello.py", VERB)
    assert main(["throwaway-hello", "--name", "checks"]) == 0
    assert capsys.readouterr().out == "hello, checks\n"
    done = run_checks(cli_checks("throwaway-hello", (str(command_folder),)))
    assert done == ["declarations", "help_fast", "light_imports", "bad_option"]


def test_a_cli_verb_importing_pandas_fails_light_imports(command_folder):
    _write(command_folder, "throwaway_heavy.py", HEAVY_VERB)
    failed = _failed(cli_checks("throwaway-heavy", (str(command_folder),)))
    assert "light_imports" in failed and "declarations" not in failed
