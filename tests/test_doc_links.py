"""Every relative link of the hand-written docs points at a file that exists, and no comment
cites a document that is not in the repository (an internal tracker, a ``docs/paper.md``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: the hand-written Markdown (results/ tables are generated and carry no links)
DOCS = sorted(
    [
        REPO / "README.md",
        REPO / "CONTRIBUTING.md",
        REPO / "CHANGELOG.md",
        REPO / "results" / "README.md",
        REPO / "results" / "performance.md",
        *(REPO / "docs").glob("*.md"),
    ]
)
#: ``[text](target)`` and ``![alt](target)``; reference definitions ``[name]: target``
INLINE = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def relative_links(text: str) -> list[str]:
    """Link targets that name a file of this repository (not a URL, not a page anchor)."""
    text = CODE_SPAN.sub("", FENCE.sub("", text))  # examples in code are not links
    targets = INLINE.findall(text) + REFERENCE.findall(text)
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:|#", t, re.I)]


def test_link_parser_finds_relative_links_only():
    text = (
        '[a](docs/x.md) ![b](fig.png "t") [c](https://e.org) [d](#top) [e](y.md#part)\n'
        "`[f](in-code.md)`\n```\n[g](in-fence.md)\n```\n[h]: ref.md\n"
    )
    assert relative_links(text) == ["docs/x.md", "fig.png", "y.md#part", "ref.md"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_resolve(doc: Path):
    if not doc.is_file():
        pytest.fail(f"{doc.relative_to(REPO)} is listed as a doc but does not exist")
    broken = []
    for target in relative_links(doc.read_text(encoding="utf-8")):
        path = target.split("#", 1)[0]
        if path and not (doc.parent / path).exists():
            broken.append(target)
    assert not broken, f"{doc.relative_to(REPO)}: links to missing files: {broken}"


#: ``docs/NAME.md`` named in prose or a comment (not a Markdown link) must exist too
DOC_MENTION = re.compile(r"\bdocs/[\w.-]+\.md\b")
#: tags of a tracker that is not in the repository: ``I2``, ``spec §7``
TRACKER_TAG = re.compile(r"\(I[0-9]+\b|\bI[0-9]+:|\bspec §|\bspec's\b")
SOURCES = ("benchmark", "methods", "datasets", "tests", "scripts", "docs")


def _source_files() -> list[Path]:
    files = [REPO / "README.md", REPO / "CONTRIBUTING.md", REPO / "results" / "README.md"]
    for folder in SOURCES:
        files += [p for p in (REPO / folder).rglob("*") if p.suffix in (".py", ".md", ".yaml")]
    return sorted(p for p in files if p.is_file() and p != Path(__file__))


def test_mentioned_docs_exist_and_no_tracker_tags():
    missing, tags = [], []
    for path in _source_files():
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(REPO).as_posix()
        missing += [f"{where}: {m}" for m in DOC_MENTION.findall(text) if not (REPO / m).is_file()]
        tags += [f"{where}: {m.group(0)!r}" for m in TRACKER_TAG.finditer(text)]
    assert not missing, f"docs named but not in the repository: {missing}"
    assert not tags, f"cite the document or paper instead of a tracker tag: {tags}"
