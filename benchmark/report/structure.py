"""Structural check of a rendered report, without a browser (runs in CI).

:func:`check_report` lists every way a page breaks the layout contract of
:mod:`benchmark.report.layout`: a section missing, moved or unknown; an internal link
without a target or a section missing from the contents bar; anything that would load
from outside the file (script, stylesheet link, frame, a ``src``/``href`` that is not
``data:`` or ``#``, CSS ``url()``/``@import``); a figure without its "how to read it"
line; a folded table without a visible summary.  An empty list means the page keeps the
contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from benchmark.report.layout import FIRST_SCREEN_FIGURES, SECTIONS

#: Tags that fetch or run something: never in a self-contained report.
FORBIDDEN_TAGS = (
    "script",
    "link",
    "iframe",
    "frame",
    "object",
    "embed",
    "base",
    "audio",
    "video",
    "source",
    "track",
    "portal",
)
URL_ATTRIBUTES = (
    "src",
    "href",
    "srcset",
    "data",
    "poster",
    "action",
    "formaction",
    "background",
    "xlink:href",
    "ping",
)
_CSS_FETCH = re.compile(r"@import|url\(\s*['\"]?(?!data:)", re.IGNORECASE)


@dataclass
class _Page(HTMLParser):
    sections: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # every '#x' link of the page
    toc: list[str] = field(default_factory=list)  # the '#x' links of the contents bar
    problems: list[str] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (figure id, its section)
    readings: set[str] = field(default_factory=set)  # figure ids that have a reading line
    details: int = 0
    summaries: int = 0
    _stack: list[str] = field(default_factory=list)
    _section: str = ""
    _figure: str = ""
    _in_toc: bool = False
    _in_style: bool = False

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element: the report must not load or run anything")
        for name in URL_ATTRIBUTES:
            value = a.get(name, "").strip()
            if value and not value.startswith(("data:", "#")):
                self.problems.append(f"<{tag} {name}='{value[:60]}'>: external reference")
        if _CSS_FETCH.search(a.get("style", "")):
            self.problems.append(f"<{tag} style=...>: CSS that fetches a resource")
        if any(k.startswith("on") for k in a):
            self.problems.append(f"<{tag}> with an event handler: no script in the report")
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "section":
            self._section = a.get("id", "")
            self.sections.append(self._section)
        elif tag == "nav" and a.get("id") == "toc":
            self._in_toc = True
        elif tag == "a" and a.get("href", "").startswith("#"):
            self.links.append(a["href"])
            if self._in_toc:
                self.toc.append(a["href"])
        elif tag == "figure":
            self._figure = a.get("id", "")
            self.figures.append((self._figure, self._section))
        elif tag == "p" and "reading" in a.get("class", "").split() and self._figure:
            self.readings.add(self._figure)
        elif tag == "details":
            self.details += 1
        elif tag == "summary":
            self.summaries += 1
        elif tag == "style":
            self._in_style = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_toc = False
        elif tag == "figure":
            self._figure = ""
        elif tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and _CSS_FETCH.search(data):
            self.problems.append("<style> fetches a resource (@import or url())")


def check_report(html: str) -> list[str]:
    """Every breach of the layout contract in ``html``; empty when it keeps it."""
    page = _Page()
    page.feed(html)
    page.close()
    problems = list(page.problems)
    order = [anchor for anchor, _, _ in SECTIONS]
    required = [anchor for anchor, _, optional in SECTIONS if not optional]
    for anchor in page.sections:
        if anchor not in order:
            problems.append(f"section {anchor!r} is not one of the documented sections")
    known = [s for s in page.sections if s in order]
    if known != sorted(known, key=order.index):
        problems.append(f"sections out of order: {known}; documented order: {order}")
    if len(set(page.sections)) != len(page.sections):
        problems.append(f"a section appears twice: {page.sections}")
    for anchor in required:
        if anchor not in page.sections:
            problems.append(f"required section {anchor!r} is missing")
    ids = set(page.ids)
    if len(ids) != len(page.ids):
        problems.append("duplicate id attributes (anchors would be ambiguous)")
    for href in page.links:
        if href[1:] not in ids:
            problems.append(f"link {href!r} has no target in the page")
    linked = {h[1:] for h in page.toc}
    for anchor in page.sections:
        if anchor not in linked:
            problems.append(f"section {anchor!r} has no entry in the contents")
    for figure, _ in page.figures:
        if figure not in page.readings:
            problems.append(f"figure {figure!r} has no 'how to read it' line")
    for prefix in FIRST_SCREEN_FIGURES:
        placed = [sec for fig, sec in page.figures if fig.startswith(f"fig-{prefix}")]
        if placed and placed[0] != "agreement":
            problems.append(
                f"figure {prefix} belongs on the first screen (section "
                f"'agreement'), found in {placed[0]!r}"
            )
    if page.summaries < page.details:
        problems.append("a <details> block without a <summary>: its content is unnamed")
    return problems
