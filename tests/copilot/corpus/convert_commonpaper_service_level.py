"""Turn Common Paper's Service Level Agreement Standard Terms (`sla.md`, Version 2.0: four numbered sections as a
nested Markdown list, each item with a <span class="header_3"> lead title, Cover Page and Order Form terms in
<span class="coverpage_link"> / <span class="orderform_link"> markup, Section 4 a list of bold quoted definitions)
into Revgov's contract format, keeping its wording: the <span> tags, `**` and the angle brackets of the one autolink
dropped, runs of spaces made one; each section `## n. Title`; each item of a section a clause `### CPSVL-n.m Title`
(its lead title taken off the text); each definition of Section 4 a clause `### CPSVL-4.m Term` (kept whole); the
lettered sub-items `a.`/`b.` of 3.2 stay lines of that clause, as written. The `Document/Version/Effective` header
Revgov's parser needs is added. Common Paper's Service Level Agreement is a text of its own: not the Bonterms SLA
(`BSLA-`) and not the Common Paper Software License Agreement (`CPSLA-`, tenant `commonpaper-sla`).
Usage: python convert_commonpaper_service_level.py sla.md > commonpaper-service-level.md
"""

from __future__ import annotations

import re
import sys

HEADER = """# Common Paper Service Level Agreement, Standard Terms (Version 2.0)

Document: CPSVL
Version: 2.0
Effective: 2024-02-06

Source: https://github.com/CommonPaper/SLA, file "sla.md" (commit 2a5d1e53497f1beaa32b0cc0038c9a47469d5416), the
Common Paper Service Level Agreement Standard Terms Version 2.0,
https://commonpaper.com/standards/service-level-agreement/2.0/. Free to use and modify under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/), Common Paper, Inc. Markup converted to Revgov clause headings (see
tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

SECTION = re.compile(r'^(\d+)\.\s+<span class="header_2" id="\d+">(.+?)</span>$')
ITEM = re.compile(r'^ {4}(\d+)\.\s+<span class="header_3" id="[\d.]+">(.+?)\.</span>\s+(.*)$')
DEFINITION = re.compile(r'^ {4}(\d+)\.\s+<span id="[\d.]+">\*\*"([^"]+)"\*\*</span>\s+(.*)$')
SUBITEM = re.compile(r"^ {8}([a-z])\.\s+(.*)$")


def clean(text: str) -> str:
    text = re.sub(r"<span[^>]*>(.*?)</span>", r"\1", text).replace("**", "")
    text = re.sub(r"<(https://[^>]+)>", r"\1", text)
    return re.sub(r" {2,}", " ", text).strip()


def convert(raw: str) -> str:
    out = [HEADER]
    section = ""
    for line in raw.splitlines():
        if not line.strip() or line == "# Service Level Agreement":
            continue  # the title, kept in HEADER
        heading = SECTION.match(line)
        if heading:
            section = heading.group(1)
            out.append(f"\n## {section}. {clean(heading.group(2))}")
            continue
        item = ITEM.match(line)
        if item and section:
            out += [f"\n### CPSVL-{section}.{item.group(1)} {clean(item.group(2))}", clean(item.group(3))]
            continue
        definition = DEFINITION.match(line)
        if definition and section == "4":
            term = definition.group(2)
            out += [f"\n### CPSVL-4.{definition.group(1)} {term}", clean(f'"{term}" {definition.group(3)}')]
            continue
        sub = SUBITEM.match(line)
        if sub and section:
            out.append(f"{sub.group(1)}. {clean(sub.group(2))}")
            continue
        raise ValueError(f"unexpected line: {line!r}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read()))
