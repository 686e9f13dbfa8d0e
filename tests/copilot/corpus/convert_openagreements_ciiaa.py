"""Turn the OpenAgreements Confidentiality & Invention Assignment Agreement (`template.md`: a Cover Terms list of
fill-in fields, then `## Standard Terms` with one `### Title` per provision) into Revgov's contract format, keeping
its wording.

Only markup changes. The Cover Terms (fill-in fields such as `{company_name}`) and the signature block are left out
(not terms); the one sentence under `## Signatures` before the signature lines ("In consideration of Employee's
employment …") is a term and is kept as the last clause. Each `### Title` of the Standard Terms becomes a numbered
section `## n. Title` with one clause `### OACIA-n Title`, except `Defined Terms`, whose two definitions are two
clauses `### OACIA-1.m Term`, titled with the defined term. The `[[Term]]` markup around a defined term is dropped.
The `Document/Version/Effective` header Revgov's parser needs is added.
Usage: python convert_openagreements_ciiaa.py template.md > openagreements-ciiaa.md
"""

from __future__ import annotations

import re
import sys

HEADER = """# OpenAgreements Confidentiality & Invention Assignment Agreement (CIIAA), Standard Terms (Version 0.4.0)

Document: OACIA
Version: 0.4.0
Effective: 2026-07-30

Source: https://github.com/open-agreements/open-agreements, file
"templates/openagreements-cc-by-4.0/openagreements-confidentiality-invention-assignment-agreement/template.md" (commit
9746f44e3e0cf525f01c4ac897c39c6a94be10e1). Authored by OpenAgreements contributors. Licensed under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). Markup converted to Revgov clause headings (see
tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""
PREFIX = "OACIA"
DEFINITION = re.compile(r"^\[\[([^\]]+)\]\] means ")


def convert(raw: str) -> str:
    lines = raw.splitlines()
    start = lines.index("## Standard Terms")
    out, section, sub, title = [HEADER], 0, 0, ""
    for line in lines[start + 1:]:
        if title == "Signatures" and line.strip():
            out[-1] += f"{line.strip()}\n"
            break  # the signature lines after the consideration sentence: fill-in fields, not terms
        if line == "## Signatures":
            section, title = section + 1, "Signatures"
            out.append(f"\n## {section}. {title}\n\n### {PREFIX}-{section} {title}\n")
        elif line.startswith("### "):
            section, sub, title = section + 1, 0, line[4:].strip()
            out.append(f"\n## {section}. {title}\n")
            if title != "Defined Terms":
                out.append(f"\n### {PREFIX}-{section} {title}\n")
        elif line.strip():
            definition = DEFINITION.match(line)
            text = re.sub(r"\[\[([^\]]+)\]\]", r"\1", line.strip())
            if definition:
                sub += 1
                out.append(f"\n### {PREFIX}-{section}.{sub} {definition.group(1)}\n{text}\n")
            else:
                out[-1] += f"{text}\n"
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read()))
