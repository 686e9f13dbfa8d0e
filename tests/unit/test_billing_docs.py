"""docs/billing.md and the event schema say what the code does (issue 24): the dedupe window, the line kinds."""

from __future__ import annotations

import json
import re

from revgov.services import erp
from support import ROOT


def test_the_dedupe_window_is_the_same_in_the_code_the_docs_and_the_schema():
    days = erp.KEEP_SECONDS // (24 * 3600)
    docs = (ROOT / "docs" / "billing.md").read_text()
    schema = json.loads((ROOT / "schemas" / "events" / "erp-event.schema.json").read_text())
    stated_docs = re.findall(r"deduplicated for (\d+) days", docs)
    stated_schema = re.findall(r"in the last (\d+) days", json.dumps(schema))
    assert stated_docs == [str(days)] and stated_schema == [str(days)], (days, stated_docs, stated_schema)


def test_every_line_kind_billing_posts_is_documented():
    docs = (ROOT / "docs" / "billing.md").read_text()
    revgov = ROOT / "functions" / "revgov"
    packages = [revgov / "domain" / "billing", revgov / "services" / "billing"]  # were domain/ and services/billing.py
    files = [
        *(p for package in packages for p in sorted(package.glob("*.py"))),
        revgov / "services" / "subscription_billing.py",
    ]
    sources = "".join(p.read_text() for p in files)
    # the kinds of LineDraft(kind=...) in the billing sources (conditional ones included)
    drafts = re.findall(r"LineDraft\(\s*kind=([^\n]+)", sources)
    kinds = {k for expr in drafts for k in re.findall(r'"([a-z_]+)"', expr)}
    assert {"usage_adjustment", "credit_note"} <= kinds
    undocumented = sorted(k for k in kinds if f"`{k}`" not in docs)
    assert not undocumented, undocumented
