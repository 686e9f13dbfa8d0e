"""Turn the Common Paper Cloud Service Agreement standard terms (a .docx) into Revgov's contract format, keeping its
wording: the same markup-only conversion as `convert_commonpaper_sla.py` (the two forms share the publisher's .docx
layout), with the clause prefix `CPCSA`. The Order Form and Key Terms cover pages before the first section are left
out: they are fill-in fields (`{payment_display}`), not terms.
Usage: python convert_commonpaper_csa.py template.docx > commonpaper-cloud-service.md
"""

from __future__ import annotations

import sys

from convert_commonpaper_sla import convert

HEADER = """# Common Paper Cloud Service Agreement, Standard Terms (Version 2.1)

Document: CPCSA
Version: 2.1
Effective: 2026-07-01

Source: https://github.com/open-agreements/open-agreements, file
"templates/common-paper-cc-by-4.0/common-paper-cloud-service-agreement/template.docx" (commit
9746f44e3e0cf525f01c4ac897c39c6a94be10e1), the Common Paper Cloud Service Agreement standard terms,
https://commonpaper.com/standards/cloud-service-agreement/2.1. Licensed under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/), Copyright Common Paper, Inc. Markup converted to Revgov clause
headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

if __name__ == "__main__":
    sys.stdout.write(convert(sys.argv[1], HEADER, "CPCSA"))
