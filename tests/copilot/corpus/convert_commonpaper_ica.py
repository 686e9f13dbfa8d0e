"""Turn the Common Paper Independent Contractor Agreement terms and conditions (a .docx) into Revgov's contract
format, keeping its wording.

Only markup changes. The publisher's .docx styles every numbered paragraph `Heading1` and tells the levels apart by
the list level (`w:ilvl`), so the levels are read from there: level 0 is a numbered section (`## n. Title`), level 1
a clause `### CPICA-n.m Title` (its bold lead title, the text before the first full stop, taken off the text as in
`convert_commonpaper_sla.py`; a definition `"X" means …` kept whole and titled X), level 2 a lettered item of the
clause before it, kept as a line `(a) …` of that clause (the source letters them by style; the letters are the only
text added). One definition ("Applicable Laws") is an unnumbered, unstyled paragraph among the numbered ones and is a
clause of its section like its neighbours. The opening paragraph of the terms ("This Independent Contractor
Agreement is entered into …") is `### CPICA-0 Preamble` (the title `Preamble` is the only word added, as in
`convert_bonterms_dpa.py`). The SOW cover page before it (fill-in fields and signature block, not terms) and the
help page are left out. `&amp;`-style entities are decoded and runs of spaces become one space. The
`Document/Version/Effective` header Revgov's parser needs is added.
Usage: python convert_commonpaper_ica.py template.docx > commonpaper-independent-contractor.md
"""

from __future__ import annotations

import html
import re
import sys
import zipfile

HEADER = """# Common Paper Independent Contractor Agreement, Terms and Conditions (Version 1.0)

Document: CPICA
Version: 1.0
Effective: 2026-07-16

Source: https://github.com/open-agreements/open-agreements, file
"templates/common-paper-cc-by-4.0/common-paper-independent-contractor-agreement/template.docx" (commit
9746f44e3e0cf525f01c4ac897c39c6a94be10e1), the Common Paper Independent Contractor Agreement,
https://commonpaper.com/standards/independent-contractor-agreement. Licensed under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/), Copyright Common Paper, Inc. Markup converted to Revgov clause
headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""
PREFIX = "CPICA"
START = "TERMS AND CONDITIONS"  # the line before the preamble; everything before it is the cover page


def paragraphs(docx: str) -> list[tuple[int | None, str]]:
    """Each non-empty paragraph's list level (None when it is not a numbered paragraph) and text, in order."""
    xml = zipfile.ZipFile(docx).read("word/document.xml").decode("utf-8")
    out = []
    for para in re.findall(r"<w:p[ >].*?</w:p>", xml, re.S):
        text = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", para))
        text = re.sub(r"[ \t\u00a0]+", " ", html.unescape(text)).strip()
        level = re.search(r'<w:ilvl w:val="(\d+)"', para)
        if text:
            out.append((int(level.group(1)) if level else None, text))
    return out


def convert(docx: str) -> str:
    paras = paragraphs(docx)
    start = next(i for i, (_, text) in enumerate(paras) if text == START)
    out = [HEADER, "\n## Preamble\n", f"\n### {PREFIX}-0 Preamble\n{paras[start + 1][1]}\n"]
    section, sub, item, title = 0, 0, 0, ""
    for level, text in paras[start + 2:]:
        if level == 0:
            section, sub, title = section + 1, 0, text
            out.append(f"\n## {section}. {title}\n")
        elif level == 1 or (level is None and section):
            sub, item = sub + 1, 0
            definition = re.match(r'^["\u201c]([^"\u201c\u201d]+)["\u201d] means? ', text)
            head = re.match(r"^([^.]{1,60})\.\s*(.*)$", text)
            if definition:
                name, body = definition.group(1), text
            elif head and not re.search(r"\b(will|may|must|makes|is)\b", head.group(1)):
                name, body = head.group(1), head.group(2)
            else:
                name, body = title, text
            heading = f"\n### {PREFIX}-{section}.{sub} {name}\n"
            out.append(f"{heading}{body}\n" if body else heading)
        elif level == 2:
            out[-1] += f"({'abcdefghij'[item]}) {text}\n"
            item += 1
        else:
            raise ValueError(f"unexpected paragraph: {text[:60]!r}")
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.write(convert(sys.argv[1]))
