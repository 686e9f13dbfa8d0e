"""Turn Common Paper's Data Processing Agreement standard terms (Markdown with nested numbered lists and <span>
markup, the layout of its Partnership Agreement) into Revgov's contract format, keeping its wording.

Only markup changes, as in `convert_commonpaper.py`: the <span> tags and ** are dropped, each `n.` section becomes
`## n. Title`, each `n.m` item a clause `### CPDPA-n.m Title` (the item's bold lead title; a definition's term; or
the section's title when the item has none), lettered sub-items `a.` and their roman sub-items `i.` stay lines of
their clause under their lead-in, with the source's own letters and numerals. The `Document/Version/Effective` header
Revgov's parser needs is added. Usage: python convert_commonpaper_dpa.py DPA.md > commonpaper-dpa.md
"""

from __future__ import annotations

import re
import sys

from convert_commonpaper import clean

HEADER = """# Common Paper Data Processing Agreement, DPA Standard Terms (Version 1.1)

Document: CPDPA
Version: 1.1
Effective: 2025-05-09

Source: https://github.com/CommonPaper/DPA, file "DPA.md" (commit 9f1c40d3fb0bb900397a919d058a9c0870f6b0f0), the
Common Paper DPA Standard Terms, https://commonpaper.com/standards/data-processing-agreement/1.1. Licensed under
CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), Copyright Common Paper, Inc. Markup converted to Revgov
clause headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

_SECTION = re.compile(r"^(\d+)\.\s+<span class=\"header_2\">(.*?)</span>\s*$")
_ITEM = re.compile(r"^(\d+)\.\s+(.*)$")
_TITLED = re.compile(r"^<span class=\"header_3\">(.*?)</span>\s*(.*)$")
_DEFINITION = re.compile(r"^\*\*\"([^\"]+)\"\*\*")
_SUB = re.compile(r"^([a-z]|[ivx]+)\.\s+(.*)$")


def _clause(prefix: str, section_no: str, section_title: str, number: str, rest: str) -> str:
    titled, definition = _TITLED.match(rest), _DEFINITION.match(rest)
    if titled:
        title, text = clean(titled.group(1)).rstrip("."), clean(titled.group(2))
    elif definition:
        title, text = definition.group(1), clean(rest)
    else:
        title, text = section_title, clean(rest)
    return f"\n### {prefix}-{section_no}.{number} {title}\n" + (f"{text}\n" if text else "")


def convert(raw: str, header: str = HEADER, prefix: str = "CPDPA") -> str:
    out = [header]
    section_no, section_title = "", ""
    for line in raw.splitlines():
        if not line.strip() or line.startswith("# "):
            continue
        indent = len(line) - len(line.lstrip(" "))
        body = line.strip()
        top, item, sub = _SECTION.match(body), _ITEM.match(body), _SUB.match(body)
        if indent == 0 and top:
            section_no, section_title = top.group(1), clean(top.group(2))
            out.append(f"\n## {section_no}. {section_title}\n")
        elif indent == 4 and item:
            out.append(_clause(prefix, section_no, section_title, item.group(1), item.group(2)))
        elif indent in (8, 12) and sub:
            out.append(f"{sub.group(1)}. {clean(sub.group(2))}\n")
        else:
            raise ValueError(f"unexpected line: {line!r}")
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read()))
