"""Every relative link in the README and docs/ reaches a file of the clone, and every `#anchor` a heading of it.

The README is a guide whose details are "one link away" in docs/: a link to a moved or renamed file, or to a section
whose title changed, would leave the reader at a dead end. Anchors are matched as GitHub renders them (the heading
lower-cased, punctuation other than `-` and `_` dropped, spaces to `-`, a repeated heading suffixed `-1`, `-2`, ...).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "stacks" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for line in FENCE.sub("", page.read_text()).splitlines():
        if not line.startswith("#"):
            continue
        base = slug(line.lstrip("#"))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def test_slug_is_githubs():
    assert slug(" SLA clocks") == "sla-clocks"
    assert slug("Tax on each line (`policy.billing.tax`; CPA-10.1, CPA-2.3, COP-2.2; PA-10.1)") == (
        "tax-on-each-line-policybillingtax-cpa-101-cpa-23-cop-22-pa-101")


def test_every_relative_link_and_anchor_resolves():
    checked = 0
    for page in PAGES:
        for target in LINK.findall(FENCE.sub("", page.read_text())):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{page.name}: {target} does not exist"
            if anchor:
                assert resolved.suffix == ".md", f"{page.name}: {target} anchors into a file without headings"
                assert anchor in anchors(resolved), f"{page.name}: {target} names no heading of {resolved.name}"
            checked += 1
    assert checked >= 30  # the README's guide links each docs/ page
