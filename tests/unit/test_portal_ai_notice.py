"""The portal's copilot section shows the tenant's AI notice from the answer, not words of its own.

docs/copilot.md: "Every answer [...] carries `notice: {text, clause, document, rule_id}` (since 1.58.0): the clause the
tenant's policy names in `copilot_notice`, quoted verbatim". PA-14.1: partners "are informed that they are interacting
with an AI system". The page kept a hard-coded text; now the notice of each answer replaces it (its clause named), and
the page's words stay only as the fallback before the first answer (and after sign-out). page.js `noticeText` runs here
in node; portal.js is checked to put it in `#copilot-notice`. The page in a browser: tests/stack/test_portal.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from support import ROOT

ASSETS = ROOT / "functions" / "revgov" / "edge" / "portal"
FALLBACK = "You are interacting with an AI system."

DRIVER = r"""
const fs = require("fs");
globalThis.document = { getElementById: () => ({ textContent: JSON.stringify({ tenant_id: "t1", api_base: "/" }) }) };
globalThis.sessionStorage = { getItem: () => null, setItem: () => {}, removeItem: () => {} };
eval(fs.readFileSync(process.argv[1], "utf8") + "\n;globalThis.revgovPage = revgovPage;");
const page = globalThis.revgovPage("portal-config", "revgov.portal.");
const cases = JSON.parse(process.argv[2]);
console.log(JSON.stringify(cases.map(([notice, fallback]) => page.noticeText(notice, fallback))));
"""


def _clause_text(tenant: str, document: str, clause: str) -> str:
    text = (ROOT / "tenants" / tenant / "contracts" / document).read_text(encoding="utf-8")
    return re.search(r"^### " + re.escape(clause) + r" [^\n]*\n(.+?)\n", text, re.M | re.S).group(1).strip()


def _shown(*cases) -> list[str]:
    node = shutil.which("node")
    assert node, "node is needed to run the portal's script"
    done = subprocess.run([node, "-e", DRIVER, str(ASSETS / "page.js"), json.dumps(cases)], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_the_answer_s_notice_is_shown_with_its_clause():
    pa = _clause_text("northwind", "partner-agreement.md", "PA-14.1")
    cpa = _clause_text("contoso", "partner-agreement.md", "CPA-14.1")
    northwind = {"text": pa, "clause": "PA-14.1", "document": "PA", "rule_id": "COPILOT-AI-NOTICE"}
    contoso = {"text": cpa, "clause": "CPA-14.1", "document": "CPA", "rule_id": "COPILOT-AI-NOTICE"}
    assert _shown([northwind, FALLBACK], [contoso, FALLBACK]) == [f"{pa} (PA-14.1)", f"{cpa} (CPA-14.1)"]


def test_the_page_s_words_before_an_answer_or_without_a_notice():
    # the platform's notice with no clause named (a policy without `copilot_notice`) is shown without one
    platform = {"text": "Platform words.", "clause": None, "document": None, "rule_id": None}
    assert _shown([None, FALLBACK], [{}, FALLBACK], [{"text": "  "}, FALLBACK], [platform, FALLBACK]) == [
        FALLBACK, FALLBACK, FALLBACK, "Platform words."]


def test_the_portal_shows_each_answer_s_notice_and_keeps_its_words_as_the_fallback():
    script = (ASSETS / "portal.js").read_text(encoding="utf-8")
    html = (ASSETS / "portal.html").read_text(encoding="utf-8")
    assert re.search(r'\$\("copilot-notice"\)\.textContent = noticeText\(reply\.notice, fallbackNotice\)', script)
    assert 'const fallbackNotice = $("copilot-notice").textContent' in script
    assert 'id="copilot-notice">' + FALLBACK in html
