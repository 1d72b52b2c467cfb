"""The serial pass of tox -e test (`pytest -m serial`) collects only the files that can
hold a serial test; tests/conftest.py calls these from its hooks."""

from __future__ import annotations

from pathlib import Path

import pytest

#: how a test file marks a test serial; the serial pass (`pytest -m serial`, tox -e test)
#: imports only the files whose text holds it
SERIAL_MARK = "mark.serial"


def _serial_pass(config: pytest.Config) -> bool:
    return config.getoption("markexpr") == "serial"


def ignore_in_serial_pass(collection_path: Path, config: pytest.Config) -> bool | None:
    # the serial pass would otherwise import all ~70 test files (torch and timm among them,
    # ~10 s on 2 cores) to keep 3 tests; a file that never writes the mark holds none
    if _serial_pass(config) and collection_path.suffix == ".py":
        name = collection_path.name
        if name.startswith("test_") and SERIAL_MARK not in collection_path.read_text():
            return True
    return None


def check_serial_marks_are_visible(items: list[pytest.Item]) -> None:
    # the parallel pass deselects every serial test and the serial pass reads only files
    # that write SERIAL_MARK: a test marked serial another way would run in neither
    hidden = sorted(
        {
            str(item.path)
            for item in items
            if item.get_closest_marker("serial") and SERIAL_MARK not in item.path.read_text()
        }
    )
    if hidden:
        raise pytest.UsageError(
            f"{', '.join(hidden)}: a test is marked serial without the text {SERIAL_MARK!r}; "
            f"write @pytest.mark.serial so the serial pass collects the file"
        )
