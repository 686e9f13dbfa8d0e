"""Turn Common Paper's Business Associate Agreement standard terms (`BAA.md`: Markdown with nested numbered lists and
<span> markup, the layout of its Partnership Agreement, DPA and Pilot Agreement) into Revgov's contract format, keeping
its wording: the same markup-only conversion as `convert_commonpaper.py` (unchanged), with the clause prefix `CPBAA`
(`### CPBAA-n.m Title`: the item's bold lead title, a definition's term, kept whole; lettered sub-items stay lines of
their clause under their lead-in, with the source's own letters) and the `Document/Version/Effective` header Revgov's
parser needs.
Usage: python convert_commonpaper_baa.py BAA.md > commonpaper-baa.md
"""

from __future__ import annotations

import sys

from convert_commonpaper import convert

HEADER = """# Common Paper Business Associate Agreement, BAA Standard Terms (Version 1.0)

Document: CPBAA
Version: 1.0
Effective: 2023-07-14

Source: https://github.com/CommonPaper/BAA, file "BAA.md" (commit 740476f331b4a65480bd5ec8ce99ffd0c31f11d3), the
Common Paper BAA Standard Terms, https://commonpaper.com/standards/business-associate-agreement/1.0. Licensed under
CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), Copyright Common Paper, Inc. Markup converted to Revgov
clause headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read(), HEADER, "CPBAA"))
