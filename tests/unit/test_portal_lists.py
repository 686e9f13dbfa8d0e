"""The branded portal shows whole lists: it follows the API's `next_cursor` instead of stopping at the first page.

API.md: "Lists: `?limit=` (max 200) and `?cursor=`; responses `{"items": [...], "next_cursor": ...}`." The portal read
one page of 50 of each list (pending approvals, open exceptions, tasks, a partner's quotes, deals and invoices), so a
partner with a 51st quote or a queue with a 51st approval never saw it there. page.js `list` (shared by the branded
pages) is run here in node against a fake API of 450 items in pages of 200; the portal's own script is checked to read
every list through it. The page in a browser: tests/stack/test_portal.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from support import ROOT

ASSETS = ROOT / "functions" / "revgov" / "edge" / "portal"

DRIVER = r"""
const fs = require("fs");
const calls = [];
const ITEMS = Array.from({ length: 450 }, (_, i) => ({ id: "item-" + i }));
globalThis.document = { getElementById: () => ({ textContent: JSON.stringify({ tenant_id: "t1", api_base: "/" }) }) };
globalThis.sessionStorage = { getItem: () => "rgk.t1.key_x", setItem: () => {}, removeItem: () => {} };
globalThis.fetch = async (url, init) => {
  calls.push({ url, auth: init.headers.Authorization });
  const cursor = new URL(url, "https://portal.example").searchParams.get("cursor");
  const start = cursor ? Number(cursor.slice(1)) : 0;  // an opaque cursor to the page: "c200", "c400"
  const end = Math.min(start + 200, ITEMS.length);
  const body = { items: ITEMS.slice(start, end), next_cursor: end < ITEMS.length ? "c" + end : null };
  return { ok: true, status: 200, json: async () => body };
};
eval(fs.readFileSync(process.argv[1], "utf8") + "\n;globalThis.revgovPage = revgovPage;");
(async () => {
  const page = globalThis.revgovPage("portal-config", "revgov.portal.");
  const whole = await page.list("v1/deals?limit=200");
  const wholeCalls = calls.splice(0);
  const capped = await page.list("v1/rebates/accruals", 2);
  const cappedCalls = calls.splice(0);
  console.log(JSON.stringify({ whole, wholeCalls, capped, cappedCalls }));
})();
"""


def _run() -> dict:
    node = shutil.which("node")
    assert node, "node is needed to run the portal's script (tests/stack/test_portal.py needs it too)"
    done = subprocess.run([node, "-e", DRIVER, str(ASSETS / "page.js")], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_list_follows_next_cursor_to_the_last_page_in_order():
    seen = _run()
    assert [item["id"] for item in seen["whole"]["items"]] == [f"item-{i}" for i in range(450)]
    assert seen["whole"]["more"] is False
    assert [c["url"] for c in seen["wholeCalls"]] == [
        "/v1/deals?limit=200", "/v1/deals?limit=200&cursor=c200", "/v1/deals?limit=200&cursor=c400"]
    assert all(c["auth"] == "Bearer rgk.t1.key_x" for c in seen["wholeCalls"])  # the key in the header only


def test_list_stops_at_its_page_limit_and_says_there_is_more():
    seen = _run()
    assert len(seen["capped"]["items"]) == 400 and seen["capped"]["more"] is True
    assert [c["url"] for c in seen["cappedCalls"]] == ["/v1/rebates/accruals", "/v1/rebates/accruals?cursor=c200"]


def test_the_portal_reads_every_list_through_list():
    script = (ASSETS / "portal.js").read_text(encoding="utf-8")
    for path in ("approvals?", "exceptions?", "tasks?", "decisions?", "deals?", "invoices?status", "rebates/accruals"):
        assert re.search(r'list\("v1/' + re.escape(path), script), path
    assert not re.search(r'api\("GET", "v1/[a-z/]+\?[^"]*limit=', script), "a list read as one page"
