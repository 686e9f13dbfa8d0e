"""Turn Common Paper's Partnership Agreement (Markdown with nested numbered lists and <span> markup) into Revgov's
contract format (`### CPPA-n.n Title` per clause), keeping its wording.

Only markup changes: the <span> tags and ** are dropped, each `n.` section becomes `## n. Title`, each `n.m` item a
clause `### CPPA-n.m Title` (the item's bold lead title, or the section's title when the item has none), lettered
sub-items (and their roman sub-items) stay list lines under their lead-in. `convert_commonpaper_dpa.py` runs it with
its own header and prefix. Usage: python convert_commonpaper.py RAW.md > partnership-agreement.md
"""

from __future__ import annotations

import re
import sys

HEADER = """# Common Paper Partnership Agreement (Standard Terms)

Document: CPPA
Version: 1.0
Effective: 2025-05-23

Source: https://github.com/CommonPaper/Partnership-Agreement (commit 6edeb5a285206893cfd0ac482267db44d90f317c),
the Common Paper Partnership Standard Terms, https://commonpaper.com/standards/partnership-agreement.
Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), Copyright Common Paper, Inc. Markup converted
to Revgov clause headings; the wording is unchanged.
"""


def clean(text: str) -> str:
    text = re.sub(r"<span[^>]*>(.*?)</span>", r"\1", text)
    text = text.replace("**", "")
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def convert(raw: str, header: str = HEADER, prefix: str = "CPPA") -> str:
    out = [header]
    section_title = ""
    section_no = ""
    for line in raw.splitlines():
        if not line.strip() or line.startswith("# "):
            continue
        indent = len(line) - len(line.lstrip(" "))
        body = line.strip()
        top = re.match(r"^(\d+)\.\s+<span class=\"header_2\">(.*?)</span>\s*$", body)
        if indent == 0 and top:
            section_no, section_title = top.group(1), clean(top.group(2))
            out.append(f"\n## {section_no}. {section_title}\n")
            continue
        item = re.match(r"^(\d+)\.\s+(.*)$", body)
        if indent == 4 and item:
            rest = item.group(2)
            titled = re.match(r"^<span class=\"header_3\">(.*?)</span>\s*(.*)$", rest)
            definition = re.match(r"^\*\*\"([^\"]+)\"\*\*", rest)
            if titled:
                title, text = clean(titled.group(1)).rstrip("."), clean(titled.group(2))
            elif definition:
                title, text = definition.group(1), clean(rest)
            else:
                title, text = section_title, clean(rest)
            out.append(f"\n### {prefix}-{section_no}.{item.group(1)} {title}\n")
            if text:
                out.append(text + "\n")
            continue
        sub = re.match(r"^([a-z]|[ivx]+)\.\s+(.*)$", body)
        if indent >= 8 and sub:
            out.append(f"{sub.group(1)}. {clean(sub.group(2))}\n")
            continue
        raise ValueError(f"unexpected line: {line!r}")
    return "".join(out)


if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read()))
