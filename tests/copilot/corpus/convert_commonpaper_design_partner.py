"""Turn Common Paper's Design Partner Agreement standard terms (`design-partner-agreement.md`: Markdown with nested
numbered lists and <span> markup, the layout of its Partnership Agreement and BAA) into Revgov's contract format,
keeping its wording: the same markup-only conversion as `convert_commonpaper.py` (unchanged), with the clause prefix
`CPDP` (`### CPDP-n.m Title`: the item's bold lead title, a definition's term, kept whole; an untitled item titled
with its section; lettered sub-items stay lines of their clause under their lead-in, with the source's own letters)
and the `Document/Version/Effective` header Revgov's parser needs.
Usage: python convert_commonpaper_design_partner.py design-partner-agreement.md > commonpaper-design-partner.md
"""

from __future__ import annotations

import sys

from convert_commonpaper import convert

HEADER = """# Common Paper Design Partner Agreement, Standard Terms (Version 1.0)

Document: CPDP
Version: 1.0
Effective: 2025-05-30

Source: https://github.com/CommonPaper/Design-Partner-Agreement, file "design-partner-agreement.md" (commit
7e81fece7847ecf3e792806fc206960f16daa8cc), the Common Paper Design Partner Agreement Standard Terms,
https://commonpaper.com/standards/design-partner-agreement/1.0. Licensed under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/), Copyright Common Paper, Inc. Markup converted to Revgov clause
headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

if __name__ == "__main__":
    sys.stdout.write(convert(open(sys.argv[1], encoding="utf-8").read(), HEADER, "CPDP"))
