"""The branded portal: public HTML in the tenant's branding with a CSP that frames it only for its allowed origins,
and, in headless Chromium, a signed-in page whose approval button decides the approval in the API."""

import fcntl
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from support import ROOT, assert_problem, scenario

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_DIR = ROOT / ".revgov" / "browser"  # playwright-core from npm, installed on first use (gitignored)
DRIVER = ROOT / "tests" / "browser" / "portal_check.cjs"
SCREENSHOT = ROOT / "tests" / "artifacts" / "portal.png"
QUOTES = scenario("pricing/http.json")


TENANTS = sorted(p.parent.name for p in (ROOT / "tenants").glob("*/tenant.yaml"))


def _config(tenant_id: str) -> dict:
    return yaml.safe_load((ROOT / "tenants" / tenant_id / "tenant.yaml").read_text())


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def _csp(response) -> dict[str, str]:
    return dict(d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";"))


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_every_tenants_page_carries_its_own_branding_and_frames_only_for_its_origins(api, keys, tenant_id):
    branding, display_name = _config(tenant_id)["branding"], _config(tenant_id)["display_name"]
    page = api.get("/portal", tenant=tenant_id)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert f"<title>{branding['portal_title']}</title>" in html and display_name in html
    # the tenant's colours are the last word on --primary/--accent: they come after portal.css's defaults
    assert html.rfind("--primary:") == html.index(f"--primary:{branding['primary_color']}"), "portal.css wins"
    assert html.rfind("--accent:") == html.index(f"--accent:{branding['accent_color']}")
    directives = _csp(page)
    assert directives["frame-ancestors"] == " ".join(branding["allowed_origins"])
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "'self'"
    assert directives["script-src"].startswith("'sha256-") and "unsafe" not in page.headers["Content-Security-Policy"]
    logo = branding["logo_url"]
    assert ("data:" if logo.startswith("data:") else logo.split("/")[2]) in directives["img-src"]
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    for secret in [keys["operator_key"], *keys["tenants"][tenant_id]["keys"].values()]:
        assert secret not in html
    assert not re.search(r"ptr_[0-9A-Z]{26}|apr_[0-9A-Z]{26}", html), "no data in the page before a key is entered"


def test_before_sign_in_an_unknown_tenant_gets_the_same_answer_as_no_tenant(api):
    """The page must not tell whether a tenant id exists: no `?tenant`, an unknown id, and an id that could exist all
    get the same neutral HTML page (200, not JSON), framed by nobody."""
    neutral = api.get("/portal")
    unknown = api.get("/portal", tenant="no-such-tenant")
    for response in (neutral, unknown):
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
        assert _csp(response)["frame-ancestors"] == "'none'"
    assert neutral.text == unknown.text
    assert neutral.headers["Content-Security-Policy"] == unknown.headers["Content-Security-Policy"]
    assert "Northwind" not in neutral.text and "Contoso" not in neutral.text
    assert_problem(api.get("/portal", tenant="<script>"), 400)  # not a tenant id at all: bad input


def test_the_favicon_is_served(api):
    icon = api.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg") and "<script" not in icon.text


def test_me_names_the_role_and_the_queues_it_decides(api, keys):
    tenant = keys["tenants"]["northwind"]
    finance = api.as_key(tenant["keys"]["finance"]).get("/v1/me").json()
    assert finance["tenant_id"] == "northwind" and finance["role"] == "finance" and finance["decides"] == ["finance"]
    partner_id, partner_key = next((n, k) for n, k in tenant["keys"].items() if n.startswith("ptr_"))
    partner = api.as_key(partner_key).get("/v1/me").json()
    assert partner["role"] == "partner" and partner["partner_id"] == partner_id and partner["decides"] == []
    assert_problem(api.get("/v1/me"), 401)
    assert_problem(api.as_key(keys["operator_key"]).get("/v1/me"), 403)


@contextmanager
def _installing() -> Iterator[None]:
    """One installer at a time across the xdist workers (and the other browser suites, test_cors and test_ops_view):
    on a fresh clone the first browser test of each worker would otherwise run `npm install` into the same folder,
    or `apt-get install` against dpkg's lock, at once, and one of them use a half-installed package."""
    BROWSER_DIR.mkdir(parents=True, exist_ok=True)
    with (BROWSER_DIR.parent / "browser.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _chromium() -> Path:
    """Debian's chromium; installed with apt-get when missing. A machine that cannot install it fails the test."""
    with _installing():
        if not CHROMIUM.exists():
            subprocess.run(["apt-get", "update"], check=False, capture_output=True, timeout=600)
            done = subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, text=True,
                                  timeout=1200)
            assert CHROMIUM.exists(), f"chromium could not be installed: {done.stdout[-800:]} {done.stderr[-800:]}"
    return CHROMIUM


def _playwright_core() -> Path:
    modules = BROWSER_DIR / "node_modules"
    with _installing():
        if not (modules / "playwright-core" / "package.json").exists():
            npm = shutil.which("npm")
            assert npm, "npm is needed to install playwright-core"
            (BROWSER_DIR / "package.json").write_text('{"name": "revgov-browser-tests", "private": true}\n')
            done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "playwright-core@1"], cwd=BROWSER_DIR,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr[-2000:]
    return modules


@pytest.fixture(scope="module")
def pending_approval(keys, api):
    """A quote above the silver cap for northwind's active demo partner: a channel_ops approval waits."""
    tenant = keys["tenants"]["northwind"]
    partner_id = next(p["partner_id"] for p in tenant["partners"] if p["status"] == "active")
    sales = api.as_key(tenant["keys"]["sales"])
    checked = sales.post("/v1/pricing/check", {**QUOTES["above_cap"], "partner_id": partner_id}).json()
    assert checked["outcome"] == "approval_required", checked
    return checked["approvals"][0]["approval_id"]


def _drive(stack, tenant_id: str, **env: str) -> dict:
    chromium, modules = _chromium(), _playwright_core()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NODE_PATH": str(modules), "CHROMIUM": str(chromium),
           "PORTAL_URL": f"{stack.base_url}/portal?tenant={tenant_id}",
           "SCREENSHOT": str(SCREENSHOT.with_name(f"portal-{tenant_id}.png")), **env}
    run = subprocess.run(["node", str(DRIVER)], env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, f"{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_in_chromium_every_tenants_portal_shows_its_colours_title_and_logo(stack, tenant_id):
    branding, display_name = _config(tenant_id)["branding"], _config(tenant_id)["display_name"]
    seen = _drive(stack, tenant_id)
    assert seen["title"] == branding["portal_title"] and seen["heading"] == branding["portal_title"]
    assert seen["tenant_name"] == display_name
    assert seen["header_background"] == _rgb(branding["primary_color"]), seen  # not portal.css's default
    assert seen["h2_colour"] == _rgb(branding["primary_color"])
    assert seen["logo_src"] == branding["logo_url"] and seen["logo_loaded"] and seen["logo_visible"], seen
    assert seen["signin_visible"] and not seen["app_visible_before_key"]
    assert not [e for e in seen["console_errors"] if "Content Security Policy" in e], seen["console_errors"]


def test_in_chromium_the_portal_loads_branded_and_an_approval_made_there_is_in_the_api(
    api, keys, stack, pending_approval
):
    tenant = keys["tenants"]["northwind"]
    channel_ops = tenant["keys"]["channel_ops"]
    partner_key = next(key for name, key in tenant["keys"].items() if name.startswith("ptr_"))
    seen = _drive(stack, "northwind", PORTAL_KEY=channel_ops, APPROVAL_ID=pending_approval,
                  PARTNER_KEY=partner_key, FINANCE_KEY=tenant["keys"]["finance"], SCREENSHOT=str(SCREENSHOT))
    assert seen["title"] == "Northwind Partner Hub" and seen["heading"] == "Northwind Partner Hub"
    assert seen["tenant_name"] == "Northwind Distribution"
    assert seen["header_background"] == "rgb(31, 78, 121)"  # #1F4E79, the tenant's primary colour
    assert seen["signin_visible"] and not seen["app_visible_before_key"]
    # a portal is one tenant's: a key of another tenant is refused on the page and never used
    assert seen["foreign_key_status"] == "That is not a key of Northwind Distribution."
    assert not seen["app_visible_after_foreign_key"]
    assert seen["key_in_session_storage"] and not seen["key_in_any_url"]
    assert seen["who"] == "Staff view · Channel ops" and len(seen["kpi_cards"]) >= 6 and seen["charts"] >= 2
    # "only that queue decides" (docs/policy.md "Approvals and exceptions"): finance sees the channel-ops item,
    # with no buttons
    assert seen["finance_who"] == "Staff view · Finance"
    assert seen["finance_sees_row"] and seen["finance_buttons"] == 0, seen
    # a person reads the row: category and queue in words, the partner's name, a date without milliseconds, money
    request, partner, queue, due, escalation, total, _ = seen["approval_row"]
    assert not re.search(r"apr_|ptr_|_", request + partner + queue + escalation), seen["approval_row"]
    # SOP-4.2: the step it is at now and when the next is due (1.64.0), in words
    assert re.fullmatch(r"(Queue|Queue reminded|Queue lead)(, paused)? \(next: .+\)|Team head(, paused)?",
                        escalation), escalation
    assert queue == "Channel ops" and not re.search(r"\d{2}:\d{2}:\d{2}|\.\d{3}|T\d", due), due
    assert "$" in total or "USD" in total, total
    assert pending_approval in seen["status"] and seen["approval_row_gone"]
    assert seen["copilot_answer"] and not seen["copilot_answer"].startswith("The copilot could not")
    # docs/copilot.md: every answer carries the tenant's notice (PA-14.1, verbatim): the page shows it, its own words
    # only before the first answer
    notice = seen["copilot_reply_notice"]
    assert seen["copilot_notice_before"].startswith("You are interacting with an AI system.")
    assert notice["clause"] == "PA-14.1" and " ".join(seen["copilot_notice_after"].split()) == " ".join(
        f"{notice['text']} (PA-14.1)".split())
    assert not [e for e in seen["console_errors"] if "Content Security Policy" in e], seen["console_errors"]
    approval = api.as_key(channel_ops).get(f"/v1/approvals/{pending_approval}").json()
    assert approval["status"] == "approved" and approval["decision"]["note"] == "approved from the portal"
    assert approval["decision"]["role"] == "channel_ops"
    assert SCREENSHOT.stat().st_size > 10_000
    assert seen["partner_who"].startswith("Partner view") and seen["partner_forecast_chart"]
    assert not seen["partner_sees_approvals"] and seen["partner_margin_card"] == "withheld"
    # the partner view (#20: "its quotes and deals, rebate statements, invoices, entitlements"), in words
    assert set(seen["partner_sections"]) == {
        "partner-quotes-section", "partner-invoices-section", "partner-deals-section", "partner-rebates-section",
        "partner-entitlements-section", "partner-waiting-section"}  # what waits on it, with the desk (1.64.0)
    assert seen["partner_entitlements"] and all(not re.search(r"_", name) for name, _ in seen["partner_entitlements"])


def _quote_and_issued_invoice(party, partner_id: str) -> dict:
    """Through the API as its users would: sales checks a quote for the partner (a decision), the ERP ships to it
    in the month before the stack's today (billed on that month's draft invoice), finance issues that invoice."""
    from datetime import date, timedelta

    from billing_support import wait_until
    from revgov.ports import Changes, Put
    from security_support import quote_for, shipment

    quote = quote_for(party, partner_id, discount="5.00")
    checked = party.by_role["sales"].post("/v1/pricing/check", quote)
    assert checked.status_code == 200, checked.text
    today = date.fromisoformat(party.rt.clock.now_iso()[:10])  # the stack's clock, not the machine's calendar
    shipped = today.replace(day=1) - timedelta(days=10)  # inside the month before: an ended month, issuable
    stored = party.rt.store.get(party.tenant_id, "PARTNER", partner_id)
    # PA-2.2: nothing is billed for a partner before its activation, so it was active before it shipped
    activated = {**stored.data, "activated_at": f"{shipped.year - 1}-12-01T09:00:00Z"}
    party.rt.store.commit(party.tenant_id, Changes(puts=[Put("PARTNER", partner_id, activated)]))
    event = shipment(party, partner_id)
    event["occurred_at"] = f"{shipped.isoformat()}T10:00:00Z"
    event["data"]["shipped_on"] = shipped.isoformat()
    event["data"]["delivered_on"] = shipped.isoformat()  # CPA-7.5's SPIFF pays delivered units
    sent = party.erp.post({"events": [event]})
    assert sent.status_code == 202, sent.text
    finance, period = party.by_role["finance"], shipped.isoformat()[:7]

    def invoice() -> list:
        return finance.get("/v1/invoices", partner_id=partner_id, period=period).json()["items"]

    wait_until(lambda: bool(invoice()), 30, what=f"{partner_id}'s invoice for {period}")
    invoice_id = invoice()[0]["invoice_id"]
    issued = finance.post(f"/v1/invoices/{invoice_id}/finalize")
    assert issued.status_code == 200, issued.text
    return {"quote_ref": quote["quote_ref"], "decision_id": checked.json()["decision_id"], "invoice_id": invoice_id,
            "order_ref": event["data"]["order_ref"], "period": period, "total": issued.json()["total"]}


@pytest.mark.parametrize("tenant_id", TENANTS)
def test_in_chromium_a_partner_sees_its_own_quotes_and_invoices_disputes_a_line_and_never_sees_another_partner(
    api, operator, stack, tenant_id
):
    """#20: "a partner view (its quotes and deals, rebate statements, invoices, entitlements), readable names,
    amounts with currency and dates a person reads". SOP-6.1 (northwind) / COP-6.1 (contoso): a partner disputes a
    line of an issued invoice "through the Partner Portal". Two partners of one tenant each have a quote and an
    issued invoice; the first signs in: it sees its own, disputes a line there, and nothing of the other's is on
    the page or in any answer the API gave the page."""
    from security_support import make_party, offboard

    party = make_party(api, operator, stack, tenant_id)
    try:
        mine, rival = party.partners
        own, theirs = (_quote_and_issued_invoice(party, p) for p in (mine, rival))
        rival_name = party.admin.get(f"/v1/partners/{rival}").json()["legal_name"]
        reason = "Shipped 1 unit fewer than invoiced (portal test)"
        seen = _drive(stack, party.tenant_id, PARTNER_ONLY="1", PARTNER_KEY=party.partner_keys[mine].key,
                      DISPUTE_INVOICE=own["invoice_id"], DISPUTE_REASON=reason,
                      SCREENSHOT=str(SCREENSHOT.with_name(f"portal-{tenant_id}-partner.png")))
        currency = _config(tenant_id)["currency"]
        assert seen["partner_who"].startswith("Partner view"), seen["partner_who"]
        assert {"partner-quotes-section", "partner-invoices-section", "partner-deals-section",
                "partner-rebates-section", "partner-entitlements-section"} <= set(seen["partner_sections"])
        # its quote, by its own reference, with a readable date, money and outcome
        (quote_row,) = [row for row in seen["quotes"] if row[0] == own["quote_ref"]]
        _, checked_on, net_total, outcome, _ = quote_row
        assert not re.search(r"T\d{2}:|\.\d{3}Z|\d{4}-\d{2}-\d{2}", checked_on), checked_on
        assert currency in net_total or any(sign in net_total for sign in "$€£"), net_total
        assert outcome in ("Allow", "Approval required", "Deny") and "_" not in outcome
        # its issued invoice: the month in words, the total with its currency
        (invoice_row,) = [row for row in seen["invoices"] if row[1].startswith("Issued")]
        month, issued_on, _, total, _ = invoice_row
        assert not re.search(r"\d{4}-\d{2}", month) and month.split()[-1] == own["period"][:4], month
        assert not re.search(r"T\d{2}:|\.\d{3}Z", issued_on), issued_on
        assert currency in total or any(sign in total for sign in "$€£"), total
        assert any(own["order_ref"] in cell for row in seen["invoice_lines"] for cell in row), seen["invoice_lines"]
        # its rebate accruals of the running quarter (the default period): each program by name, money in currency
        if own["period"][:4] + "-Q" + str((int(own["period"][5:]) - 1) // 3 + 1) == seen["period"]:
            assert seen["rebates"] and all(row[0] not in ("", "–") and "_" not in row[0] for row in seen["rebates"])
            assert all(currency in row[-1] or any(s in row[-1] for s in "$€£") for row in seen["rebates"])
            assert not any("object" in cell or "_" in cell for row in seen["rebates"] for cell in row), seen["rebates"]
        # bad input (an amount with three decimals) is refused with the API's reason, and files nothing
        assert "Could not dispute line 1" in seen["bad_amount_status"] and "amount" in seen["bad_amount_status"]
        # the dispute filed from the page is in the API, the partner's, for line 1, with the reason typed
        assert "Dispute of line 1 filed" in seen["status"], seen["status"]
        dispute = party.by_role["finance"].get(f"/v1/invoice-disputes/{seen['dispute_id']}")
        assert dispute.status_code == 200, dispute.text
        assert dispute.json()["partner_id"] == mine and dispute.json()["invoice_id"] == own["invoice_id"]
        assert dispute.json()["line_no"] == 1 and dispute.json()["reason"] == reason
        # never another partner's data: not on the page, not in any answer the API gave this page
        for shown in (seen["page_text"], seen["page_html"], seen["api_answers"]):
            for secret in (rival, rival_name, theirs["quote_ref"], theirs["decision_id"], theirs["invoice_id"],
                           theirs["order_ref"]):
                assert secret not in shown, f"{secret} of the other partner reached the partner's portal"
        assert own["invoice_id"] in seen["api_answers"] and own["quote_ref"] in seen["page_text"]
        assert own["quote_ref"] not in seen["text_after_signout"] and own["order_ref"] not in seen["text_after_signout"]
        # exactly one dispute was filed: the refused attempt changed nothing
        approvals = party.by_role["finance"].get("/v1/approvals", limit=200).json()["items"]
        assert [a["subject"]["id"] for a in approvals if a["category"] == "invoice_dispute"] == [seen["dispute_id"]]
        assert not [e for e in seen["console_errors"] if "Content Security Policy" in e], seen["console_errors"]
    finally:
        offboard(operator, party)
