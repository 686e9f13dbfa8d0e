"""Turn Common Paper's Pilot Agreement standard terms (`Pilot-Agreement.md`: Markdown with nested numbered lists and
<span> markup, the layout of its Partnership Agreement and DPA) into Revgov's contract format, keeping its wording:
the same markup-only conversion as `convert_commonpaper.py` (after dropping the anchor
ids and empty anchor spans), with the clause prefix `CPPLT` (`### CPPLT-n.m Title`:
the item's bold lead title, a definition's term, or the section's title when the item has none; lettered and roman
sub-items stay lines of their clause under their lead-in, with the source's own letters and numerals) and the
`Document/Version/Effective` header Revgov's parser needs.
Usage: python convert_commonpaper_pilot.py Pilot-Agreement.md > commonpaper-pilot.md
"""

from __future__ import annotations

import re
import sys

from convert_commonpaper import convert

HEADER = """# Common Paper Pilot Agreement, Standard Terms (Version 1.1)

Document: CPPLT
Version: 1.1
Effective: 2025-07-22

Source: https://github.com/CommonPaper/Pilot-Agreement, file "Pilot-Agreement.md" (commit
5e7cdd4678cd9d6b3178872cce4a01d632f41f14), the Common Paper Pilot Agreement Standard Terms,
https://commonpaper.com/standards/pilot-agreement/1.1. Licensed under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/), Copyright Common Paper, Inc. Markup converted to Revgov clause
headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

if __name__ == "__main__":
    # The Pilot Agreement's header spans carry an anchor id (`<span class="header_2" id="1">`) and each definition
    # an empty anchor span (`<span id="8.13"></span>`) the Partnership Agreement's do not; markup only, dropped first.
    raw = re.sub(r'(<span class="header_[23]") id="[^"]*">', r"\1>", open(sys.argv[1], encoding="utf-8").read())
    raw = re.sub(r'<span id="[^"]*"></span>', "", raw)
    sys.stdout.write(convert(raw, HEADER, "CPPLT"))
