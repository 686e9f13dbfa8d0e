"""The branded portal: public HTML in the tenant's branding with a CSP that frames it only for its allowed origins,
and, in headless Chromium, a signed-in page whose approval button decides the approval in the API."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from support import ROOT, assert_problem, scenario

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_DIR = ROOT / ".revgov" / "browser"  # playwright-core from npm, installed on first use (gitignored)
DRIVER = ROOT / "tests" / "browser" / "portal_check.cjs"
SCREENSHOT = ROOT / "tests" / "artifacts" / "portal.png"
QUOTES = scenario("pricing/http.json")


def test_the_page_is_branded_and_framed_only_by_the_tenants_origins(api, keys):
    page = api.get("/portal", tenant="northwind")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "<title>Northwind Partner Hub</title>" in html and "Northwind Distribution" in html
    assert "--primary:#1F4E79" in html and "https://cdn.northwind.example/brand/northwind-logo.svg" in html
    csp = page.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["frame-ancestors"] == "https://partners.northwind.example https://portal.northwind.example"
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "'self'"
    assert directives["script-src"].startswith("'sha256-") and "unsafe" not in csp
    assert "https://cdn.northwind.example" in directives["img-src"]
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    for secret in [keys["operator_key"], *keys["tenants"]["northwind"]["keys"].values()]:
        assert secret not in html
    assert not re.search(r"ptr_[0-9A-Z]{26}|apr_[0-9A-Z]{26}", html), "no data in the page before a key is entered"
    contoso = api.get("/portal", tenant="contoso")
    assert "Contoso Channel Portal" in contoso.text and "--primary:#5B2A86" in contoso.text
    assert "frame-ancestors https://channel.contoso.example;" in contoso.headers["Content-Security-Policy"] + ";"
    assert "img-src 'self' data:" in contoso.headers["Content-Security-Policy"]  # its logo is an inline SVG


def test_unknown_or_missing_tenants_get_problems_not_pages(api):
    assert_problem(api.get("/portal"), 400)
    assert_problem(api.get("/portal", tenant="no-such-tenant"), 404)
    assert_problem(api.get("/portal", tenant="<script>"), 400)


def _chromium() -> Path:
    """Debian's chromium; installed with apt-get when missing. A machine that cannot install it fails the test."""
    if not CHROMIUM.exists():
        subprocess.run(["apt-get", "update"], check=False, capture_output=True, timeout=600)
        done = subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, text=True, timeout=1200)
        assert CHROMIUM.exists(), f"chromium could not be installed: {done.stdout[-800:]} {done.stderr[-800:]}"
    return CHROMIUM


def _playwright_core() -> Path:
    modules = BROWSER_DIR / "node_modules"
    if not (modules / "playwright-core" / "package.json").exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install playwright-core"
        BROWSER_DIR.mkdir(parents=True, exist_ok=True)
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


def test_in_chromium_the_portal_loads_branded_and_an_approval_made_there_is_in_the_api(
    api, keys, stack, pending_approval
):
    chromium, modules = _chromium(), _playwright_core()
    tenant = keys["tenants"]["northwind"]
    channel_ops = tenant["keys"]["channel_ops"]
    partner_key = next(key for name, key in tenant["keys"].items() if name.startswith("ptr_"))
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NODE_PATH": str(modules), "CHROMIUM": str(chromium), "PORTAL_KEY": channel_ops,
           "PORTAL_URL": f"{stack.base_url}/portal?tenant=northwind", "APPROVAL_ID": pending_approval,
           "SCREENSHOT": str(SCREENSHOT), "PARTNER_KEY": partner_key}
    run = subprocess.run(["node", str(DRIVER)], env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, f"{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["title"] == "Northwind Partner Hub" and seen["heading"] == "Northwind Partner Hub"
    assert seen["tenant_name"] == "Northwind Distribution"
    assert seen["header_background"] == "rgb(31, 78, 121)"  # #1F4E79, the tenant's primary colour
    assert seen["signin_visible"] and not seen["app_visible_before_key"]
    assert seen["key_in_session_storage"] and not seen["key_in_any_url"]
    assert seen["who"] == "Staff view" and len(seen["kpi_cards"]) >= 6 and seen["charts"] >= 2
    assert pending_approval in seen["status"] and seen["approval_row_gone"]
    assert seen["copilot_answer"] and not seen["copilot_answer"].startswith("The copilot could not")
    assert not [e for e in seen["console_errors"] if "Content Security Policy" in e], seen["console_errors"]
    approval = api.as_key(channel_ops).get(f"/v1/approvals/{pending_approval}").json()
    assert approval["status"] == "approved" and approval["decision"]["note"] == "approved from the portal"
    assert approval["decision"]["role"] == "channel_ops"
    assert SCREENSHOT.stat().st_size > 10_000
    assert seen["partner_who"].startswith("Partner view") and seen["partner_forecast_chart"]
    assert not seen["partner_sees_approvals"] and seen["partner_margin_card"] == "withheld"
