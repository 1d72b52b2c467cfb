"""The serial pass reads only the test files that write the serial mark (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from _serial_pass import check_serial_marks_are_visible, ignore_in_serial_pass


def _config(markexpr: str) -> SimpleNamespace:
    return SimpleNamespace(getoption=lambda name: markexpr if name == "markexpr" else None)


def _item(path: Path, serial: bool) -> SimpleNamespace:
    marker = object() if serial else None
    return SimpleNamespace(
        path=path, get_closest_marker=lambda name: marker if name == "serial" else None
    )


def test_the_serial_pass_skips_files_without_the_mark_and_the_parallel_pass_reads_all(tmp_path):
    marked, plain = tmp_path / "test_marked.py", tmp_path / "test_plain.py"
    marked.write_text("import pytest\n\n@pytest.mark.serial\ndef test_a(): pass\n")
    plain.write_text("def test_b(): pass\n")
    assert ignore_in_serial_pass(plain, _config("serial")) is True
    assert ignore_in_serial_pass(marked, _config("serial")) is None
    assert ignore_in_serial_pass(plain, _config("not serial")) is None
    assert ignore_in_serial_pass(tmp_path / "helpers.py", _config("serial")) is None


def test_a_serial_mark_the_serial_pass_cannot_see_is_an_error(tmp_path):
    hidden = tmp_path / "test_hidden.py"
    hidden.write_text("import pytest\n\nSERIAL = getattr(pytest.mark, 'ser' + 'ial')\n")
    check_serial_marks_are_visible([_item(hidden, serial=False)])  # not marked: fine
    with pytest.raises(pytest.UsageError, match=r"test_hidden\.py: a test is marked serial"):
        check_serial_marks_are_visible([_item(hidden, serial=True)])
