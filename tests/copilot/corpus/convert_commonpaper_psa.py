"""Turn the Common Paper Professional Services Agreement standard terms (a .docx) into Revgov's contract format,
keeping its wording: the same markup-only conversion as `convert_commonpaper_sla.py` (the forms share the publisher's
.docx layout), with the clause prefix `CPPSA` (Common Paper's, not the Bonterms PSA of `bonterms-professional-
services.md`, `BPSA-`). The Key Terms and SOW cover pages before the first section are left out: they are fill-in
fields, not terms.
Usage: python convert_commonpaper_psa.py template.docx > commonpaper-professional-services.md
"""

from __future__ import annotations

import sys

from convert_commonpaper_sla import convert

HEADER = """# Common Paper Professional Services Agreement, Standard Terms (Version 1.1)

Document: CPPSA
Version: 1.1
Effective: 2026-07-01

Source: https://github.com/open-agreements/open-agreements, file
"templates/common-paper-cc-by-4.0/common-paper-professional-services-agreement/template.docx" (commit
9746f44e3e0cf525f01c4ac897c39c6a94be10e1), the Common Paper Professional Services Agreement standard terms,
https://commonpaper.com/standards/professional-services-agreement/1.1. Licensed under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/), Copyright Common Paper, Inc. Markup converted to Revgov clause
headings (see tests/copilot/corpus/SOURCE.txt); the wording is unchanged.
"""

if __name__ == "__main__":
    sys.stdout.write(convert(sys.argv[1], HEADER, "CPPSA"))
