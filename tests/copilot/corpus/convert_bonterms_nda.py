"""Turn the Bonterms Mutual NDA (`Mutual-NDA.md`: twelve numbered paragraphs, each with a bold lead title, Section 5
with two lettered, italic-titled items) into Revgov's contract format, keeping its wording: `**` and `_` dropped,
each numbered paragraph `## n. Title` with one clause `### BNDA-n Title` (its lead title taken off the text),
lettered items kept as lines of their clause, the publisher's closing notice left out (it is not a term of the NDA;
SOURCE.txt quotes it) and the `Document/Version/Effective` header Revgov's parser needs added.
Usage: python convert_bonterms_nda.py Mutual-NDA.md > bonterms-nda.md
"""

from __future__ import annotations

import re
import sys

HEADER = """# Bonterms Mutual NDA (Version 1.0)

Document: BNDA
Version: 1.0
Effective: 2022-02-11

Source: https://github.com/Bonterms/Mutual-NDA, file "Mutual-NDA.md" (commit
1b6e3a67176d47bbb89633bd4ec2be2c32d6cacf), the Bonterms Mutual NDA (Version 1.0), https://bonterms.com/.
Free to use under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), (c) 2021 Bonterms. Markup converted to
Revgov clause headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

SECTION = re.compile(r"^(\d+)\.\s+\*\*(.+?)\*\*\.?\s*(.*)$")
ITEM = re.compile(r"^\s*-\s+(\([a-z]\))\s+(.*)$")


def convert(raw: str) -> str:
    out = [HEADER]
    for line in raw.splitlines():
        if line.startswith("Bonterms Mutual NDA (Version 1.0). <br />"):
            break  # the publisher's notice, not a term of the NDA
        section, item = SECTION.match(line), ITEM.match(line)
        if section:
            # Section 9 is bold as a whole ("**Disclaimer. Confidential ... faults.**"): title and text split at ". "
            number, (title, _, lead) = section.group(1), section.group(2).partition(". ")
            title, text = title.rstrip("."), " ".join(t for t in (lead, section.group(3)) if t)
            out += [f"\n## {number}. {title}\n", f"### BNDA-{number} {title}"]
            if text:
                out.append(text.replace("**", ""))
        elif item:
            out.append(f"{item.group(1)} {item.group(2)}".replace("**", "").replace("_", ""))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read()))
