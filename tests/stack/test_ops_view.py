"""The operations view (/ops): public HTML in the tenant's branding with the portal's CSP, and, in headless Chromium,
the tenant's own metrics over the last hour as charts plus the channel-equity comparisons, after a staff key."""

import json
import os
import subprocess

import pytest

# the portal suite's browser setup: Debian's chromium and playwright-core installed on first use
from test_portal import _chromium, _playwright_core

from support import ROOT, assert_problem

pytestmark = pytest.mark.stack
DRIVER = ROOT / "tests" / "browser" / "ops_check.cjs"
SCREENSHOT = ROOT / "tests" / "artifacts" / "ops.png"


def test_the_view_is_a_branded_page_with_the_portals_security_headers(api):
    page = api.get("/ops", tenant="northwind")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp and "frame-ancestors" in csp
    assert "Operations · Northwind Distribution" in page.text and "rgk." not in page.text.replace("rgk.northwind", "")
    assert_problem(api.get("/ops"), 400)
    assert_problem(api.get("/ops", tenant="no-such-tenant"), 404)
    assert_problem(api.get("/ops", tenant="<script>"), 400)


@pytest.mark.parametrize("tenant", sorted(p.name for p in (ROOT / "tenants").iterdir() if p.is_dir()))
def test_the_view_wears_each_tenants_own_colours(api, tenant):
    """Issue 20: a tenant's colours (tenant.yaml `branding`) must win over the stylesheet's defaults, so they are
    declared after it; the last declaration of a custom property is the one the page uses (CSS cascade, order)."""
    import yaml

    branding = yaml.safe_load((ROOT / "tenants" / tenant / "tenant.yaml").read_text())["branding"]
    page = api.get("/ops", tenant=tenant).text
    assert page.rsplit("--primary:", 1)[1].startswith(branding["primary_color"])
    assert page.rsplit("--accent:", 1)[1].startswith(branding["accent_color"])


def test_in_chromium_the_view_charts_the_tenants_metrics_over_time(api, keys, stack):
    chromium, modules = _chromium(), _playwright_core()
    finance = keys["tenants"]["northwind"]["keys"]["finance"]
    client = api.as_key(finance)
    for _ in range(5):
        client.get("/v1/partners", limit=1)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NODE_PATH": str(modules), "CHROMIUM": str(chromium), "OPS_KEY": finance,
           "OPS_URL": f"{stack.base_url}/ops?tenant=northwind", "SCREENSHOT": str(SCREENSHOT)}
    run = subprocess.run(["node", str(DRIVER)], env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, f"{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["title"].endswith("operations") and not seen["app_visible_before_key"]
    assert seen["charts"] == 8 and seen["chart_titles"][0] == "Requests per minute"
    assert seen["polylines"] >= 2  # a line per series that has data: at least requests and latency
    heights = [float(p.split(",")[1]) for p in seen["request_points"].split()]
    assert min(heights) < max(heights)  # this minute's requests rise above the empty minutes before
    assert any(c.startswith("Requests") and c != "Requests0" for c in seen["cards"])
    assert "comparisons" in seen["equity"] and "docs/equity.md" in seen["equity"]
    assert not seen["key_in_any_url"]
    assert not seen["page_errors"], seen["page_errors"]  # no script error (the demo logo's host may not resolve here)
    assert not [e for e in seen["console_errors"] if "Content Security Policy" in e], seen["console_errors"]
    assert SCREENSHOT.stat().st_size > 10_000
