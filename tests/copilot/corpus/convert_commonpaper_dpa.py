"""Turn Common Paper's Data Processing Agreement standard terms (`DPA.md`: Markdown with nested numbered lists and
<span> markup, the layout of its Partnership Agreement) into Revgov's contract format, keeping its wording: the same
markup-only conversion as `convert_commonpaper.py`, with the clause prefix `CPDPA` (`### CPDPA-n.m Title`: the item's
bold lead title, a definition's term, or the section's title when the item has none; lettered items `a.` and their
roman sub-items `i.` stay lines of their clause under their lead-in, with the source's own letters and numerals) and
the `Document/Version/Effective` header Revgov's parser needs.
Usage: python convert_commonpaper_dpa.py DPA.md > commonpaper-dpa.md
"""

from __future__ import annotations

import sys

from convert_commonpaper import convert

HEADER = """# Common Paper Data Processing Agreement, DPA Standard Terms (Version 1.1)

Document: CPDPA
Version: 1.1
Effective: 2025-05-09

Source: https://github.com/CommonPaper/DPA, file "DPA.md" (commit 9f1c40d3fb0bb900397a919d058a9c0870f6b0f0), the
Common Paper DPA Standard Terms, https://commonpaper.com/standards/data-processing-agreement/1.1. Licensed under
CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), Copyright Common Paper, Inc. Markup converted to Revgov
clause headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read(), HEADER, "CPDPA"))
