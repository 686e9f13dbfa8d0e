"""A doc that sends the reader to a named section of another doc names one that exists.

Found by a new user walking docs/billing.md: 'See "SLA clocks" in docs/policy.md' pointed at a section no doc had
(the waiting-on-partner clock was described nowhere but the README and the changelog). Both forms the docs use are
checked: `"Title" in docs/x.md` and `docs/x.md "Title"`; the title must be a heading of that doc, or start one.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
POINTERS = (
    re.compile(r'"(?P<title>[A-Z][^"]{2,60})" in `?(?P<doc>docs/[a-z0-9-]+\.md)'),
    re.compile(r'(?P<doc>docs/[a-z0-9-]+\.md)`? "(?P<title>[A-Z][^"]{2,60})"'),
)


def _headings(doc: Path) -> list[str]:
    return [line.lstrip("#").strip() for line in doc.read_text().splitlines() if line.startswith("#")]


def test_every_named_section_a_doc_points_to_exists():
    pointers = []
    for doc in DOCS:
        text = doc.read_text()
        for pattern in POINTERS:
            pointers += [(doc.name, m["doc"], m["title"]) for m in pattern.finditer(text)]
    assert pointers, "the docs point to sections by name (docs/billing.md, docs/onboarding.md)"
    for source, target, title in pointers:
        path = ROOT / target
        assert path.exists(), f"{source} points to {target}, which does not exist"
        assert any(h == title or h.startswith(title) for h in _headings(path)), (
            f'{source} points to "{title}" in {target}, which has no such section'
        )
