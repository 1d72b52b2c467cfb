"""The project's metadata agrees with itself: one version, a changelog entry for it, the
licence file the metadata names."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import benchmark

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_is_written_once():
    project = PYPROJECT["project"]
    assert "version" not in project, "the version lives in benchmark/__init__.py only"
    assert "version" in project["dynamic"]
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "benchmark.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+|\.dev\d+)?", benchmark.__version__)


def test_changelog_has_an_entry_for_the_version():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (\S+)", changelog, re.M)
    assert headings[0] == "Unreleased", headings
    assert benchmark.__version__ in headings, f"CHANGELOG.md has no '## {benchmark.__version__}'"


def test_licence_file_matches_the_metadata():
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "the fetal-lung-bench authors" in text
