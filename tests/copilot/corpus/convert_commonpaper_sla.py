"""Turn the Common Paper Software License Agreement standard terms (a .docx) into Revgov's contract format, keeping
its wording.

Only markup changes: the text of each paragraph is read from `word/document.xml` in order, with the paragraph's
heading level; `&amp;`-style entities are decoded and runs of spaces become one space. A `Heading1` paragraph is a
numbered section (`## n. Title`); a `Heading2` paragraph is a clause `### CPSLA-n.m Title` (its bold lead title, the
text before the first full stop, is taken off the text as in BCT/BPSA; a definition `"X" means …` is kept whole and
titled X; an untitled one is titled with its section); a `Heading3` paragraph is a lettered item of the clause before
it and stays a line `(a) …` of that clause (the source numbers them (a), (b) by style; the letters are the only
text added). The `Document/Version/Effective` header Revgov's parser needs is added.
Usage: python convert_commonpaper_sla.py template.docx > commonpaper-software-license.md
"""

from __future__ import annotations

import html
import re
import sys
import zipfile

HEADER = """# Common Paper Software License Agreement, Standard Terms (Version 1.0)

Document: CPSLA
Version: 1.0
Effective: 2026-07-01

Source: https://github.com/open-agreements/open-agreements, file
"templates/common-paper-cc-by-4.0/common-paper-software-license-agreement/template.docx" (commit
9746f44e3e0cf525f01c4ac897c39c6a94be10e1), the Common Paper Software License Agreement standard terms,
https://commonpaper.com/standards/software-license-agreement. Licensed under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/), Copyright Common Paper, Inc. Markup converted to Revgov clause
headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""


def paragraphs(docx: str) -> list[tuple[str, str]]:
    xml = zipfile.ZipFile(docx).read("word/document.xml").decode("utf-8")
    out = []
    for para in re.findall(r"<w:p[ >].*?</w:p>", xml, re.S):
        text = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", para))
        text = re.sub(r"[ \t\u00a0]+", " ", html.unescape(text)).strip()
        style = re.search(r'<w:pStyle w:val="([^"]+)"', para)
        if text:
            out.append((style.group(1) if style else "", text))
    return out


def convert(docx: str, header: str = HEADER, prefix: str = "CPSLA") -> str:
    out = [header]
    section, sub, item, title = 0, 0, 0, ""
    for style, text in paragraphs(docx):
        if style == "Heading1":
            section, sub, title = section + 1, 0, text
            out.append(f"\n## {section}. {title}\n")
        elif style == "Heading2":
            sub, item = sub + 1, 0
            definition = re.match(r'^["\u201c]([^"\u201c\u201d]+)["\u201d] (?:means|will have)', text)
            head = re.match(r"^([^.]{1,60})\.\s*(.*)$", text)
            if definition:
                name, body = definition.group(1), text
            elif head and not re.search(r"\b(will|may|must|makes|is)\b", head.group(1)):
                name, body = head.group(1), head.group(2)
            else:
                name, body = title, text
            heading = f"\n### {prefix}-{section}.{sub} {name}\n"
            out.append(f"{heading}{body}\n" if body else heading)
        elif style == "Heading3":
            out[-1] += f"({'abcdefghij'[item]}) {text}\n"
            item += 1
        elif section:
            raise ValueError(f"unexpected paragraph: {text[:60]!r}")
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.write(convert(sys.argv[1]))
