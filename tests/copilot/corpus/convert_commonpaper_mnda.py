"""Turn Common Paper's Mutual NDA Standard Terms (`Mutual-NDA.md`: eleven numbered paragraphs, each with a bold lead
title, Cover Page terms in <span class="coverpage_link"> markup) into Revgov's contract format, keeping its wording:
the <span> tags and `**` dropped, each numbered paragraph `## n. Title` with one clause `### CPNDA-n Title` (its lead
title taken off the text), the publisher's closing notice left out (it is not a term of the MNDA; SOURCE.txt quotes
it) and the `Document/Version/Effective` header Revgov's parser needs added. Common Paper's MNDA is a text of its own,
not the Bonterms Mutual NDA (`convert_bonterms_nda.py`).
Usage: python convert_commonpaper_mnda.py Mutual-NDA.md > commonpaper-mnda.md
"""

from __future__ import annotations

import re
import sys

HEADER = """# Common Paper Mutual Non-Disclosure Agreement, Standard Terms (Version 1.0)

Document: CPNDA
Version: 1.0
Effective: 2021-07-19

Source: https://github.com/CommonPaper/Mutual-NDA, file "Mutual-NDA.md" (commit
2a3068b6c0ab6015c440f541d5b215bc3ac2f4cb), the Common Paper Mutual NDA Standard Terms,
https://commonpaper.com/standards/mutual-nda/1.0. Free to use under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/), Copyright Common Paper, Inc. Markup converted to Revgov clause
headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

SECTION = re.compile(r"^(\d+)\.\s+\*\*(.+?)\*\*\.\s*(.*)$")


def clean(text: str) -> str:
    return re.sub(r"<span[^>]*>(.*?)</span>", r"\1", text).replace("**", "")


def convert(raw: str) -> str:
    out = [HEADER]
    for line in raw.splitlines():
        if line.startswith("Common Paper Mutual Non-Disclosure Agreement [Version 1.0]"):
            break  # the publisher's notice, not a term of the MNDA
        if not line.strip() or line == "# Standard Terms":
            continue
        section = SECTION.match(line)
        if not section:
            raise ValueError(f"unexpected line: {line!r}")
        number, title = section.group(1), clean(section.group(2))
        out += [f"\n## {number}. {title}\n", f"### CPNDA-{number} {title}", clean(section.group(3))]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read()))
