"""Turn the Bonterms Service Level Agreement (`Service-Level-Agreement.md`: a "How to Use" paragraph, seven numbered
paragraphs with bold lead titles, Section 6 a list of quoted definitions, Section 7 the SLA Key Terms Chart as a
Markdown table and a bold-titled Multiple Failures line) into Revgov's contract format, keeping its wording: source
lines hard-wrapped inside a paragraph are joined, `**` and `_` dropped; the "How to Use" paragraph is `### BSLA-0 How
to Use`; each numbered paragraph `## n. Title` with one clause `### BSLA-n Title` (its lead title taken off the text);
each definition of Section 6 a clause `### BSLA-6.m Term` (kept whole); Section 7 two clauses, `### BSLA-7.1 Target
Availability and Credit Tiers` (the chart, one line per row, each cell after its column's header: `Credit Tier 1:
Monthly Uptime Percentage: 99.00% - 99.89%; Service Credit: 5% of monthly fees`) and `### BSLA-7.2 Multiple Failures`
(the line as written). The clause titles of Section 7 are the only words added, with the `Document/Version/Effective`
header Revgov's parser needs. The title line under the heading ("Attachment to Bonterms Cloud Terms") is kept in the
header. Bonterms' SLA is a text of its own, not Common Paper's SLA or the Software License Agreement (`CPSLA-`).
Usage: python convert_bonterms_sla.py Service-Level-Agreement.md > bonterms-sla.md
"""

from __future__ import annotations

import re
import sys

HEADER = """# Bonterms Service Level Agreement (Version 1.0)

Attachment to Bonterms Cloud Terms

Document: BSLA
Version: 1.0
Effective: 2022-07-14

Source: https://github.com/Bonterms/Service-Level-Agreement, file "Service-Level-Agreement.md" (commit
4e50803a6cab008b576736d2ecb1723e9d476077), the Bonterms Service Level Agreement (Version 1.0), https://bonterms.com/.
Free to use under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), Bonterms. Markup converted to Revgov
clause headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

SECTION = re.compile(r"^\*\*(\d+)\.\s+(.+?)\.?\*\*\.?\s*(.*)$")
DEFINITION = re.compile(r"^“([^”]+)”\s")
ROW = re.compile(r"^(.+?)\s*\|\s*(.+?)\s*\|\s*(.+?)\s*$")
CHART_TITLE = "Target Availability and Credit Tiers"


def paragraphs(raw: str) -> list[str]:
    """Blank-line separated paragraphs, wrapped lines joined; a line opening a quoted definition or a table row
    starts a paragraph of its own."""
    out: list[str] = []
    current: list[str] = []
    for line in raw.splitlines():
        starts = DEFINITION.match(line) or "|" in line
        if not line.strip() or (starts and current):
            if current:
                out.append(" ".join(current))
            current = []
        if line.strip():
            current.append(line.strip())
    if current:
        out.append(" ".join(current))
    return out


def clean(text: str) -> str:
    return text.replace("**", "").replace("_", "")


def convert(raw: str) -> str:
    out = [HEADER]
    section = ""
    definitions = 0
    columns: list[str] = []
    for para in paragraphs(raw):
        if para.startswith("# ") or para == "Attachment to Bonterms Cloud Terms":
            continue  # the title lines, kept in HEADER
        if para.startswith("_How to Use_:"):
            out += ["\n## How to Use\n", "### BSLA-0 How to Use", clean(para.split(":", 1)[1].strip())]
            continue
        heading = SECTION.match(para)
        if heading:
            section, title, text = heading.group(1), clean(heading.group(2)), heading.group(3)
            out.append(f"\n## {section}. {title}\n")
            if section == "7":
                out.append(f"### BSLA-7.1 {CHART_TITLE}")
            elif section != "6":
                out += [f"### BSLA-{section} {title}", clean(text)]
            continue
        definition = DEFINITION.match(para)
        if section == "6" and definition:
            definitions += 1
            out += [f"\n### BSLA-6.{definitions} {definition.group(1)}", clean(para)]
            continue
        row = ROW.match(para)
        if section == "7" and row:
            cells = [clean(c).strip() for c in row.groups()]
            if cells[0] == "-":
                columns = [c.rstrip(":") for c in cells[1:]]
            elif set(cells[0]) != {"-"}:
                label = cells[0] if cells[0].endswith(":") else cells[0] + ":"
                out.append(f"{label} {columns[0]}: {cells[1]}; {columns[1]}: {cells[2]}")
            continue
        if section == "7" and para.startswith("**Multiple Failures:**"):
            out += ["\n### BSLA-7.2 Multiple Failures", clean(para)]
            continue
        raise ValueError(f"unexpected paragraph: {para!r}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read()))
