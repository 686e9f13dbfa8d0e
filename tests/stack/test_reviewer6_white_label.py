"""Reviewer round 6, the white-label SaaS as an MSP and a reseller use it: the operator provisions two tenants through
`POST /v1/tenants` (a pool one on northwind's program, a silo one on contoso's, each in its own branding), mints and
revokes keys, and a reseller embeds the API and the branded portal page.

Sources quoted in each test: API.md (the public contract), DESIGN.md ("Tenancy and isolation"), the tenant schema
(`branding`: "White-label branding applied to the tenant's portal page and outbound documents."; `tier`: "pool
tenants share functions and a table fenced by leading keys; silo tenants get their own stack"), PA-1.1 ("Partner
Portal" means the branded web portal and API through which the Partner [...] receives statements") and the seed
("A white-label platform can provide branded partner portals [...]"; "tenant isolation for white-label deployments").
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from reviewer6_support import ALPHA, BETA, Brand, branded_fixture, preflight, quote, walk

from revgov.services import agents
from security_support import make_party, offboard, random_id, shipment
from support import Api, assert_problem

pytestmark = pytest.mark.stack

alpha = branded_fixture("northwind", ALPHA, "pool")
beta = branded_fixture("contoso", BETA, "silo")


def _platform_records(operator: Api, subject: str) -> list[dict]:
    answer = operator.get("/v1/audit", subject=subject, limit=200)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_the_operator_reads_each_tenant_in_the_tier_and_branding_it_was_given(operator, alpha, beta):
    """API.md: `GET /v1/tenants/{tenant_id}` (operator). The tenant schema: `tier` is pool or silo. DESIGN.md: "Silo vs
    pool is a tenant's tier"; "a platform chain (`_platform`) for operator actions": each provisioning is on it."""
    for party, brand, tier in ((alpha, ALPHA, "pool"), (beta, BETA, "silo")):
        read = operator.get(f"/v1/tenants/{party.tenant_id}")
        assert read.status_code == 200, read.text
        body = read.json()
        assert body["tier"] == tier
        assert body["display_name"] == brand.display_name
        assert body["config"]["branding"]["portal_title"] == brand.portal_title  # the config as provisioned
        assert body["config"]["branding"]["allowed_origins"] == [brand.origin]
        assert any(r["action"].startswith("tenant.") and r["subject"] == party.tenant_id
                   for r in _platform_records(operator, party.tenant_id)), "provisioning is not on the platform chain"
    # the operator is the platform: it never reads into a tenant (API.md: `operator` "control plane only")
    assert operator.get("/v1/partners").status_code == 403


def test_each_portal_carries_its_own_brand_and_nothing_of_the_other_tenant_or_the_source_program(api, alpha, beta):
    """PA-1.1: the Partner Portal is "the branded web portal". The tenant schema: branding is "applied to the tenant's
    portal page". README: "`GET /portal?tenant=<id>` is the tenant-branded portal (colours, title, logo, framed only by
    those origins)". Expected by hand: alpha's page has title "Alpha Parts Partner Desk", `--primary:#0A3D62`,
    `--accent:#E58E26`, frame-ancestors exactly https://partners.alpha-parts.example; none of beta's title, colours,
    display name or origin, and none of the demo program it was copied from ("Northwind Partner Hub")."""
    pages = {party.tenant_id: api.get("/portal", tenant=party.tenant_id) for party in (alpha, beta)}
    for party, own, other in ((alpha, ALPHA, BETA), (beta, BETA, ALPHA)):
        page = pages[party.tenant_id]
        assert page.status_code == 200
        html = page.text
        assert f"<title>{own.portal_title}</title>" in html and own.display_name in html
        assert f"--primary:{own.primary_color}" in html and f"--accent:{own.accent_color}" in html
        for leak in (other.portal_title, other.display_name, other.primary_color, other.origin, "Northwind Partner Hub",
                     "Contoso Partner Portal", "Northwind Distribution", other_id(party, alpha, beta)):
            assert leak not in html, leak
        csp = dict(d.strip().split(" ", 1) for d in page.headers["Content-Security-Policy"].split(";"))
        assert csp["frame-ancestors"] == own.origin


def other_id(party, alpha, beta) -> str:
    return beta.tenant_id if party is alpha else alpha.tenant_id


def test_a_revoked_key_is_refused_at_once_is_listed_revoked_and_both_steps_are_audited(api, alpha):
    """API.md: "Keys are stored hashed, shown once at creation, revocable"; "401 carries `WWW-Authenticate`".
    DESIGN.md: "Every [...] approval action [...] produces one audit record"; README: "Every decision, approval and
    key or tenant change writes an audit record". Expected: after `DELETE /v1/keys/{key_id}` the very next request with
    that key is a 401 (no grace: nothing in the contract gives a revoked key one), also when it replays an
    Idempotency-Key it used before the revocation; `GET /v1/keys` shows `revoked_at`; the chain holds the mint and the
    revocation, by the admin, and still verifies."""
    minted = alpha.admin.post("/v1/keys", {"role": "finance", "label": "month-end rotation"})
    assert minted.status_code == 201, minted.text
    key_id, finance = minted.json()["key_id"], api.as_key(minted.json()["key"])
    assert finance.get("/v1/me").json()["role"] == "finance"
    retry = {"Idempotency-Key": f"rv6-{uuid.uuid4().hex}"}
    body = {"question": "What is the payment term of an invoice?"}
    assert finance.post("/v1/copilot/ask", body, headers=retry).status_code == 200

    revoked = alpha.admin.delete(f"/v1/keys/{key_id}")
    assert revoked.status_code in (200, 204), revoked.text
    refused = finance.get("/v1/me")
    assert_problem(refused, 401)
    assert refused.headers.get("WWW-Authenticate", "").lower().startswith("bearer")
    assert_problem(finance.post("/v1/copilot/ask", body, headers=retry), 401)  # a replay is no way back in

    listed = {k["key_id"]: k for k in walk(alpha.admin, "/v1/keys", 200)[0]}
    assert listed[key_id]["revoked_at"] is not None
    records = alpha.admin.get("/v1/audit", subject=key_id, limit=50).json()["items"]
    actions = [r["action"] for r in records]
    assert len(actions) >= 2 and any("revok" in a for a in actions), actions
    assert all(r["actor"].startswith("admin:") for r in records if r["action"].startswith("key."))
    assert alpha.admin.get("/v1/audit/verify").json()["valid"] is True
    # revoking it again changes nothing; another tenant's admin cannot name it (404, never 403)
    again = alpha.admin.delete(f"/v1/keys/{key_id}")
    assert again.status_code in (404, 409)


def test_another_tenants_key_id_and_objects_are_the_404_of_an_unknown_id(alpha, beta):
    """API.md: "404 not found (also for another tenant's or partner's object: never confirm it exists)". DESIGN.md:
    "No repository method can be called without a tenant context taken from the authenticated principal". Expected:
    beta's partner and beta's admin key id read or revoked with alpha's admin key answer exactly what a well-formed id
    that nobody holds answers (status and body, but for `instance`, the request's path)."""
    def same_404(path: str, fake: str, method: str = "GET") -> None:
        real = alpha.admin.request(method, path)
        unknown = alpha.admin.request(method, path.replace(path.rsplit("/", 1)[1], fake))
        assert real.status_code == unknown.status_code == 404, (path, real.text)
        # the same problem but for what names the request itself (its path, the id asked, its correlation id)
        def strip(r, asked):
            return {k: str(v).replace(asked, "<id>") for k, v in r.json().items()
                    if k not in ("instance", "correlation_id")}
        asked = path.rsplit("/", 1)[1]
        assert strip(real, asked) == strip(unknown, fake)

    same_404(f"/v1/partners/{beta.partners[0]}", random_id("ptr"))
    same_404(f"/v1/keys/{beta.key_ids['finance']}", random_id("key"), "DELETE")
    assert beta.by_role["finance"].get("/v1/me").status_code == 200  # and beta's key still works
    # a partner key of alpha cannot reach beta's partner either
    partner = alpha.partner_keys[alpha.partners[0]]
    assert partner.get(f"/v1/partners/{beta.partners[0]}").status_code == 404


def test_an_operator_minted_key_works_in_its_tenant_only_and_is_audited(api, operator, alpha, beta):
    """API.md: "operator: `POST /v1/tenants/{tenant_id}/keys`". DESIGN.md: "a platform chain (`_platform`) for operator
    actions". Expected: the key acts as the role it was given in that tenant only, and the minting is on a chain."""
    minted = operator.post(f"/v1/tenants/{alpha.tenant_id}/keys", {"role": "legal", "label": "msp break-glass"})
    assert minted.status_code == 201, minted.text
    key = api.as_key(minted.json()["key"])
    me = key.get("/v1/me").json()
    assert (me["tenant_id"], me["role"]) == (alpha.tenant_id, "legal")
    assert key.get(f"/v1/partners/{beta.partners[0]}").status_code == 404
    key_id = minted.json()["key_id"]
    on_tenant = alpha.admin.get("/v1/audit", subject=key_id, limit=50).json()["items"]
    on_platform = _platform_records(operator, key_id)
    assert on_tenant or on_platform, "an operator's key minting is on no chain"


def test_cors_answers_only_the_callers_own_tenants_origin(api, alpha, beta):
    """API.md: "Browsers: CORS from the tenant's `branding.allowed_origins` only." README: "`Vary: Origin`; never
    `Access-Control-Allow-Credentials`". Expected: a preflight from alpha's reseller origin is allowed (it lists the
    methods and the Authorization and Idempotency-Key headers a reseller sends); alpha's key from alpha's origin gets
    `Access-Control-Allow-Origin: https://partners.alpha-parts.example`; beta's key from alpha's origin, and alpha's
    key from beta's origin, get no Allow-Origin (the browser keeps the answer from the page)."""
    pre = preflight(api, "/v1/pricing/check", ALPHA.origin, "POST")
    assert pre.status_code in (200, 204)
    assert pre.headers.get("Access-Control-Allow-Origin") == ALPHA.origin
    allowed_headers = pre.headers.get("Access-Control-Allow-Headers", "").lower()
    assert "authorization" in allowed_headers and "idempotency-key" in allowed_headers
    assert "POST" in pre.headers.get("Access-Control-Allow-Methods", "")
    assert "Access-Control-Allow-Credentials" not in pre.headers

    def acao(client: Api, origin: str) -> str | None:
        answer = client.get("/v1/me", headers={"Origin": origin})
        assert answer.status_code == 200
        assert "origin" in answer.headers.get("Vary", "").lower()
        assert "Access-Control-Allow-Credentials" not in answer.headers
        return answer.headers.get("Access-Control-Allow-Origin")

    partner_alpha = alpha.partner_keys[alpha.partners[0]]
    assert acao(partner_alpha, ALPHA.origin) == ALPHA.origin
    assert acao(partner_alpha, BETA.origin) is None
    assert acao(beta.partner_keys[beta.partners[0]], ALPHA.origin) is None
    assert acao(beta.admin, BETA.origin) == BETA.origin


def test_a_partner_key_reads_the_portal_page_and_its_own_me_and_nothing_of_staff(api, alpha):
    """README: "A partner key sees the partner view [...] and nothing of another partner"; API.md roles: a partner key
    is "bound to one partner id". The portal page is public HTML (no key in it); with a partner key the page's own calls
    (`/v1/me`, its decisions) answer the partner; staff-only lists answer 403."""
    partner_id = alpha.partners[0]
    key = alpha.partner_keys[partner_id]
    me = key.get("/v1/me").json()
    assert me["role"] == "partner" and me["partner_id"] == partner_id and me["tenant_id"] == alpha.tenant_id
    for staff_only in ("/v1/keys", "/v1/tasks", "/v1/audit/verify", "/v1/approvals"):
        assert key.get(staff_only).status_code in (403, 404), staff_only
    assert key.get("/v1/partners").status_code == 403  # docs/routes.md: the partner list is staff only
    assert key.get(f"/v1/partners/{partner_id}").status_code == 200
    assert key.get(f"/v1/partners/{alpha.partners[1]}").status_code == 404
    assert alpha.partners[1] not in api.get("/portal", tenant=alpha.tenant_id).text


def test_lists_page_with_limit_and_cursor_as_api_md_states(alpha):
    """API.md: "Lists: `?limit=` (max 200) and `?cursor=`; responses `{"items": [...], "next_cursor": ...}`";
    "validation errors name the field in `path`"; 400 malformed. Expected by hand: alpha's keys are its admin key, 6
    staff keys (finance, channel_ops, legal, customer_success, sales, viewer) and 2 partner keys made by the fixture =
    9, plus 3 minted here = 12; read 5 at a time that is 3 pages (5, 5, 2) holding each key once; `limit=201` and
    `limit=0` are 400s naming `limit`; a cursor that is not one is a 400 naming `cursor`."""
    for n in range(3):
        assert alpha.admin.post("/v1/keys", {"role": "viewer", "label": f"page {n}"}).status_code == 201
    items, pages = walk(alpha.admin, "/v1/keys", 5)
    ids = [k["key_id"] for k in items]
    assert len(ids) == len(set(ids)) == 12 and pages == 3
    assert set(ids) >= set(alpha.key_ids.values())
    for bad in ("201", "0", "ten"):
        problem = assert_problem(alpha.admin.get("/v1/keys", limit=bad), 400)
        assert any(re.search(r"limit", e["path"]) for e in problem["errors"]), problem
    problem = assert_problem(alpha.admin.get("/v1/keys", cursor="not-a-cursor"), 400)
    assert any("cursor" in e["path"] for e in problem["errors"]), problem


def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(alpha):
    """API.md: "Every POST that creates or changes state accepts `Idempotency-Key` (Stripe's semantics): recorded before
    the work runs; the same key and body return the first response (kept ≥ 24 h); the same key with another body is a
    422". README: keys are kept "per tenant and API key". Expected: a partner's quote check sent twice with one key is
    one decision (same `decision_id`, `Idempotent-Replayed: true`); with the quantity changed it is a 422 and makes no
    decision; the other partner sending the same key runs its own check."""
    first_partner, second_partner = alpha.partners
    key = alpha.partner_keys[first_partner]
    sku = next(p["sku"] for p in alpha.policy["billing"]["price_list"] if p.get("billing") == "shipment")
    body = {"partner_id": first_partner, "quote_ref": f"Q-RV6-{uuid.uuid4().hex[:8]}",
            "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Embed Test"},
            "lines": [{"line_id": "1", "sku": sku, "quantity": 2, "discount_percent": "5.00"}],
            "promotions": [], "terms": {"payment_days": 30}}
    headers = {"Idempotency-Key": f"rv6-{uuid.uuid4().hex}"}
    first = key.post("/v1/pricing/check", body, headers=headers)
    assert first.status_code == 200, first.text
    again = key.post("/v1/pricing/check", body, headers=headers)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["decision_id"] == first.json()["decision_id"]
    changed = {**body, "lines": [{**body["lines"][0], "quantity": 3}]}
    assert_problem(key.post("/v1/pricing/check", changed, headers=headers), 422)
    other = alpha.partner_keys[second_partner].post(
        "/v1/pricing/check", {**body, "partner_id": second_partner}, headers=headers)
    assert other.status_code == 200 and other.json()["decision_id"] != first.json()["decision_id"]


def _shipment_event(party) -> dict:
    return shipment(party, party.partners[0])


def test_webhook_secret_rotation_keeps_the_old_secret_for_its_grace_only_and_is_audited(api, operator, alpha, beta):
    """API.md: ERP webhooks carry `Revgov-Tenant` and `Revgov-Signature: t=<unix>,v1=<hex>[,v1=<hex>]`; DESIGN.md:
    "HMAC-SHA256 over `{timestamp}.{raw body}`, 300 s tolerance, several signatures accepted during secret rotation";
    docs/billing.md: rotation `{"grace_seconds": 86400}` "answers the new secret once; the current secrets keep working
    until the grace ends (0 revokes them at once)". README: every "key or tenant change writes an audit record".

    Expected: after a rotation with a day's grace both the old and the new secret sign accepted events (202); after a
    second rotation with grace 0 only the newest does: the old ones are a 401 at once, and so is an event signed with
    beta's secret naming alpha as its tenant. Each rotation is on an audit chain (the operator's platform chain or the
    tenant's), and the secret itself is in neither."""
    old = alpha.erp.secret
    rotated = operator.post(f"/v1/tenants/{alpha.tenant_id}/webhook-secret/rotate", {"grace_seconds": 86400})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["webhook_secret"]
    assert new != old
    for secret in (old, new):
        assert alpha.erp.post(_shipment_event(alpha), secret=secret).status_code == 202, secret[:6]

    again = operator.post(f"/v1/tenants/{alpha.tenant_id}/webhook-secret/rotate", {"grace_seconds": 0})
    assert again.status_code == 200, again.text
    newest = again.json()["webhook_secret"]
    for secret in (old, new):
        assert_problem(alpha.erp.post(_shipment_event(alpha), secret=secret), 401)
    assert alpha.erp.post(_shipment_event(alpha), secret=newest).status_code == 202
    assert_problem(alpha.erp.post(_shipment_event(alpha), secret=beta.erp.secret), 401)

    trail = _platform_records(operator, alpha.tenant_id) + alpha.admin.get("/v1/audit", limit=200).json()["items"]
    rotations = [r for r in trail if "rotat" in r["action"]]
    assert len(rotations) >= 2, [r["action"] for r in trail]
    assert not [r for r in rotations if any(s in json.dumps(r) for s in (old, new, newest))]


def test_a_partner_key_cannot_be_minted_for_another_tenants_partner_nor_by_a_partner(api, alpha, beta):
    """API.md: "`partner` (bound to one partner id)"; "404 not found (also for another tenant's or partner's object:
    never confirm it exists)"; docs/routes.md: `POST /v1/keys` is admin only. Expected: alpha's admin naming beta's
    partner gets what an unknown partner id gets (no key is made: alpha's key list is unchanged), and a partner key
    minting any key is a 403."""
    before = {k["key_id"] for k in walk(alpha.admin, "/v1/keys", 200)[0]}
    rival = alpha.admin.post("/v1/keys", {"role": "partner", "partner_id": beta.partners[0], "label": "x"})
    unknown = alpha.admin.post("/v1/keys", {"role": "partner", "partner_id": random_id("ptr"), "label": "x"})
    assert rival.status_code == unknown.status_code and rival.status_code in (404, 422), rival.text
    assert rival.json()["title"] == unknown.json()["title"]
    assert {k["key_id"] for k in walk(alpha.admin, "/v1/keys", 200)[0]} == before
    partner = alpha.partner_keys[alpha.partners[0]]
    assert partner.post("/v1/keys", {"role": "admin", "label": "escalate"}).status_code == 403
    sibling = {"role": "partner", "partner_id": alpha.partners[1], "label": "x"}
    assert partner.post("/v1/keys", sibling).status_code == 403


@pytest.mark.parametrize("path", ["/v1/keys", "/v1/audit", "/v1/tasks", "/v1/approvals"])
def test_a_cursor_minted_in_one_tenant_reads_nothing_of_it_in_another(alpha, beta, path):
    """DESIGN.md: "No repository method can be called without a tenant context taken from the authenticated principal,
    never from the request body, path or a header the caller controls" — a cursor is such a caller-controlled value.
    API.md: lists page with `?cursor=`; 400 for a malformed request. Expected: alpha's cursor on `path` given to beta's
    admin is a 400 naming `cursor`, or beta's own items; never one of alpha's ids."""
    made = [alpha.admin.post("/v1/keys", {"role": "viewer", "label": f"cursor {n}"}).json()["key_id"] for n in range(3)]
    agents.run(alpha.rt, "threshold_watcher", [alpha.tenant_id])  # 2 partners x 2 levels: 4 tasks
    for partner_id in alpha.partners:  # an approval each
        assert quote(alpha, partner_id, "25.00")["approvals"]
    first = alpha.admin.get(path, limit=1, **({"status": "pending"} if path == "/v1/approvals" else {}))
    assert first.status_code == 200, first.text
    cursor = first.json()["next_cursor"]
    assert cursor, f"alpha has more than one item of {path}"
    answer = beta.admin.get(path, limit=200, cursor=cursor)
    if answer.status_code == 400:
        assert any("cursor" in e["path"] for e in answer.json()["errors"]), answer.text
        return
    assert answer.status_code == 200, answer.text
    text = answer.text
    assert alpha.tenant_id not in text and not [k for k in (*made, *alpha.key_ids.values()) if k in text]


LISTS = ("/v1/keys", "/v1/audit", "/v1/tasks", "/v1/approvals", "/v1/exceptions", "/v1/invoices", "/v1/deals",
         "/v1/partners", "/v1/rebates/settlements", "/v1/decisions", "/v1/subscriptions")


@pytest.mark.parametrize("path", LISTS)
def test_every_list_takes_limit_up_to_200_and_names_a_bad_one(alpha, path):
    """API.md: "Lists: `?limit=` (max 200) and `?cursor=`; responses `{"items": [...], "next_cursor": ...}`";
    "validation errors name the field in `path`". Expected: limit=200 answers the list shape; 201 is a 400 naming
    `limit`; a cursor that is not one is a 400 naming `cursor`."""
    ok = alpha.admin.get(path, limit=200)
    assert ok.status_code == 200, ok.text
    assert set(ok.json()) >= {"items", "next_cursor"}
    for params, field in (({"limit": 201}, "limit"), ({"cursor": "%%%not-a-cursor"}, "cursor")):
        problem = assert_problem(alpha.admin.get(path, **params), 400)
        assert any(field in e["path"] for e in problem.get("errors", [])), (path, problem)


def test_an_offboarded_tenants_portal_is_the_neutral_page_and_its_keys_are_gone(api, operator, alpha):
    """README: "without `?tenant`, or for an unknown id, the same neutral page, so it never tells whether a tenant
    exists"; API.md: `DELETE /v1/tenants/{tenant_id}` (offboard: export, then delete everything). Expected: once alpha
    is offboarded its page is byte for byte the page of an id no one holds (none of its brand is served any more), and
    its admin and partner keys are a 401."""
    assert ALPHA.portal_title in api.get("/portal", tenant=alpha.tenant_id).text
    assert operator.delete(f"/v1/tenants/{alpha.tenant_id}").status_code == 200
    gone = api.get("/portal", tenant=alpha.tenant_id)
    never = api.get("/portal", tenant=f"nort-{uuid.uuid4().hex[:10]}")
    assert gone.status_code == never.status_code == 200
    assert gone.text == never.text and ALPHA.portal_title not in gone.text and ALPHA.primary_color not in gone.text
    assert_problem(alpha.admin.get("/v1/me"), 401)
    assert_problem(alpha.partner_keys[alpha.partners[0]].get("/v1/me"), 401)


HOSTILE = Brand('Evil & "Co" <b>Distribution</b>', "</title><script>alert('t')</script>", "#101010", "#202020",
                "https://evil.example")


def test_a_brand_holding_markup_is_shown_as_text_on_the_portal(api, operator, stack):
    """The tenant schema: `portal_title` is any text of 1..120 characters, `display_name` any text: the MSP types them,
    the portal shows them. The portal is public HTML that resellers frame (API.md "portal"); text from the config must
    be text there (HTML escaping, WHATWG HTML §13.1.2.6 "escapable raw text" for <title>). Expected: the page holds
    `&lt;/title&gt;&lt;script&gt;` and `&lt;b&gt;` and no `<script>alert` nor `<b>Distribution`."""
    made = make_party(api, operator, stack, "northwind", edit=HOSTILE.apply("pool"))
    try:
        html = api.get("/portal", tenant=made.tenant_id).text
        assert "<script>alert" not in html and "<b>Distribution" not in html
        assert "&lt;/title&gt;&lt;script&gt;" in html and "&lt;b&gt;Distribution&lt;/b&gt;" in html
    finally:
        offboard(operator, made)
