"""Turn the Bonterms Professional Services Agreement (Markdown, tab-separated numbering) into Revgov's contract
format, keeping its wording.

Only markup changes: `**` is dropped and runs of tabs/spaces become one space; each numbered section `n.` becomes
`## n. Title`; a section with numbered subsections gives one clause per subsection (`### BPSA-n.m Title`, the
subsection's lead title, which is taken off the text as in BCT), a section without them one clause `### BPSA-n Title`;
Section 2's definitions `2.k` become one clause each (`### BPSA-2.k Term`, the definition kept whole); lettered items
`(a)` and unnumbered definition paragraphs stay lines of their clause, without the blank lines between them.
Usage: python convert_bonterms_psa.py RAW.md > bonterms-professional-services.md
"""

from __future__ import annotations

import re
import sys

HEADER = """# Bonterms Professional Services Agreement (Version 1.2)

Document: BPSA
Version: 1.2
Effective: 2023-07-12

Source: https://github.com/Bonterms/Professional-Services-Agreement, file "Professional-Services-Agreement V1.2.md"
(commit c69bfa02ffc3940368744fa690f751806506f101), the Bonterms Professional Services Agreement (Version 1.2),
https://bonterms.com/. Bonterms Standard Agreements are free to use under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/legalcode). Markup converted to Revgov clause headings (see
tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""


def clean(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text.replace("**", "")).strip()


def convert(raw: str) -> str:
    out = [HEADER]
    section = ""
    for line in raw.splitlines():
        body = clean(line)
        if not body or line.startswith("# "):
            continue
        top = re.match(r"^(\d+)\. ([^.]+)\.\s*(.*)$", body)
        sub = re.match(r"^(\d+)\.(\d+)\. (.*)$", body)
        if top and not sub:
            section, title, text = top.group(1), top.group(2), top.group(3)
            out.append(f"\n## {section}. {title}\n")
            if text:
                out.append(f"\n### BPSA-{section} {title}\n{text}\n")
            continue
        if sub:
            if sub.group(1) != section:
                raise ValueError(f"subsection outside its section: {line!r}")
            rest = sub.group(3)
            definition = re.match(r"^“([^”\"]+)[”\"]", rest)  # 2.15 closes with a straight quote
            if definition:
                title, text = definition.group(1), rest
            else:
                head = re.match(r"^([^.]+)\.\s*(.*)$", rest)
                if not head:
                    raise ValueError(f"untitled subsection: {line!r}")
                title, text = head.group(1), head.group(2)
            out.append(f"\n### BPSA-{section}.{sub.group(2)} {title}\n")
            if text:
                out.append(text + "\n")
            continue
        if re.match(r"^\([a-z]\) ", body) or body.startswith("“"):
            out.append(body + "\n")
            continue
        raise ValueError(f"unexpected line: {line!r}")
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read()))
