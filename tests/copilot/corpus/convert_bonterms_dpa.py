"""Turn the Bonterms Data Protection Addendum (`Data-Protection-Addendum.md`, Version 1.0: an opening paragraph, ten
bold numbered sections, Section 1 a list of numbered quoted definitions with the default Schedules as a Markdown table,
the other sections numbered items `n.m.` with a lead title, some split into lettered paragraphs `(a)`, `(b)`, and a
copyright footer) into Revgov's contract format, keeping its wording: `**` dropped, runs of spaces made one; the
opening paragraph is `### BDPA-0 Preamble`; each section `## n. Title`; each definition of Section 1 a clause
`### BDPA-1.m Term` (kept whole; the table of 1.17 one line per row, `Schedule 1: Subject Matter and Details of
Processing`); each item of Sections 2 to 10 a clause `### BDPA-n.m Title` (its lead title taken off the text), its
lettered paragraphs lines of that clause as written; Section 6, which has no items, one clause `### BDPA-6 Title`.
The copyright footer is kept in the header with the `Document/Version/Effective` lines Revgov's parser needs; the
title `Preamble` is the only word added. Bonterms' DPA is a text of its own, not the Common Paper DPA (`CPDPA-`).
Usage: python convert_bonterms_dpa.py Data-Protection-Addendum.md > bonterms-dpa.md
"""

from __future__ import annotations

import re
import sys

HEADER = """# Bonterms Data Protection Addendum (DPA) (Version 1.0)

Document: BDPA
Version: 1.0
Effective: 2022-10-19

Source: https://github.com/Bonterms/Data-Protection-Addendum, file "Data-Protection-Addendum.md" (commit
68edf622cc850488492d74df62764ee943ef444a), the Bonterms Data Protection Addendum (DPA) (Version 1.0),
https://bonterms.com/. © 2022 Bonterms, Inc. Free to use under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
Bonterms does not provide legal advice, does not guarantee the enforceability or effect of these terms and has no
liability relating to use of these terms. Markup converted to Revgov clause headings (see
tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

SECTION = re.compile(r"^\*\*(\d+)\. (.+?)\*\*\.\s*(.*)$")
DEFINITION = re.compile(r"^1\.(\d+)\.\s+(“.+)$")
ITEM = re.compile(r"^(\d+)\.(\d+)\.\s+([^.]+)\.\s*(.*)$")
LETTERED = re.compile(r"^\([a-z]\) ")
ROW = re.compile(r"^\|\s*(.*?)\s*\|\s*(.*?)\s*\|$")
FOOTER = ("Bonterms Data Protection Addendum (DPA) (Version 1.0)<br/>", "© 2022 Bonterms", "Learn more:",
          "**Bonterms does not provide legal advice")


def clean(text: str) -> str:
    return re.sub(r" {2,}", " ", text.replace("**", "")).strip()


def convert(raw: str) -> str:
    out = [HEADER]
    section = ""
    for line in raw.splitlines():
        if not line.strip() or line.startswith("# ") or line.startswith(FOOTER):
            continue  # the title and the footer, kept in HEADER
        if line.startswith("This Data Protection Addendum") and not section:
            out += ["\n## Preamble\n", "### BDPA-0 Preamble", clean(line)]
            continue
        heading = SECTION.match(line)
        if heading:
            section, title, text = heading.group(1), clean(heading.group(2)), heading.group(3)
            out.append(f"\n## {section}. {title}")
            if text:
                out += [f"\n### BDPA-{section} {title}", clean(text)]
            continue
        definition = DEFINITION.match(line)
        if definition and section == "1":
            terms = " and ".join(re.findall(r"“\*\*(.+?)\*\*”", definition.group(2).split(" means ")[0]))
            out += [f"\n### BDPA-1.{definition.group(1)} {terms}", clean(definition.group(2))]
            continue
        row = ROW.match(line)
        if row and section == "1":
            cells = [clean(c) for c in row.groups()]
            if any(cells) and not set("".join(cells)) <= {"-"}:
                out.append(f"{cells[0]}: {cells[1]}")
            continue
        item = ITEM.match(line)
        if item and item.group(1) == section:
            out.append(f"\n### BDPA-{section}.{item.group(2)} {clean(item.group(3))}")
            if item.group(4):
                out.append(clean(item.group(4)))
            continue
        if LETTERED.match(line) and section:
            out.append(clean(line))
            continue
        raise ValueError(f"unexpected line: {line!r}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read()))
