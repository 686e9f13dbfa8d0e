"""The branded portal page: public HTML in the tenant's name, colours and logo; no data until a key is entered.

`?tenant=<id>` picks the branding only. The page calls the API with the key the user types (kept in the tab's
sessionStorage). Its Content-Security-Policy allows its own inline script and style by hash, the API of its own
origin, the tenant's logo, and framing only by the tenant's `branding.allowed_origins`.
"""

from __future__ import annotations

import base64
import html
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...domain.cases import QUEUE_ROLES
from ...domain.errors import NotFound
from ...services import tenants
from ..http import Answer, Call
from ..pages import branded_page
from ..registry import PUBLIC, TENANT, QueryParam, operation

_ASSETS = Path(__file__).resolve().parents[1] / "portal"


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str, str]:
    return tuple(  # type: ignore[return-value]
        (_ASSETS / name).read_text(encoding="utf-8") for name in ("portal.html", "portal.css", "portal.js")
    )


# Before sign-in the page must not tell whether a tenant id exists: an unknown, suspended or offboarded tenant, and
# no `?tenant` at all, get this neutral page (same status, same shape); a key then decides what it may see.
NEUTRAL_BRANDING: dict[str, Any] = {
    "primary_color": "#334155",
    "accent_color": "#0EA5E9",
    "logo_url": "data:image/svg+xml;base64,"
    + base64.b64encode(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">'
        b'<rect width="32" height="32" rx="6" fill="#334155"/><path d="M9 23V9h8a4 4 0 0 1 0 8h-8m7 0 6 6" '
        b'stroke="#fff" stroke-width="3" fill="none"/></svg>'
    ).decode(),
    "portal_title": "Partner portal",
    "allowed_origins": [],
}
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#334155"/>'
    '<path d="M9 23V9h8a4 4 0 0 1 0 8h-8m7 0 6 6" stroke="#fff" stroke-width="3" fill="none"/></svg>'
)


def render(tenant_id: str, display_name: str, branding: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The portal page and its security headers for one tenant's branding (`tenant_id` "" for the neutral page)."""
    page, base_css, js = _assets()
    config = {
        "tenant_id": tenant_id,
        "display_name": display_name,
        "primary_color": branding["primary_color"],
        "accent_color": branding["accent_color"],
        "api_base": "",  # relative to the page: /portal -> /v1/..., /<stage>/portal -> /<stage>/v1/...
    }
    key_hint = html.escape(f"rgk.{tenant_id or '<tenant>'}.key_…", quote=True)
    return branded_page(page, base_css, js, tenant_id=tenant_id, display_name=display_name, branding=branding,
                        config=config, extra={"key_hint": key_hint})


def _branding_of(call: Call, tenant_id: str | None) -> tuple[str, str, dict[str, Any]]:
    if tenant_id:
        try:
            tenant, _ = tenants.load_tenant(call.runtime, tenant_id)
        except NotFound:
            tenant = None
        if tenant is not None and tenant.status == "active":
            return tenant.tenant_id, tenant.display_name, tenant.config["branding"]
    return "", "Partner portal", NEUTRAL_BRANDING


@operation(
    "GET",
    "/portal",
    summary="The tenant-branded portal page (dashboard, approvals, exceptions, partner view, copilot); embeddable by "
    "the tenant's allowed origins only",
    roles=PUBLIC,
    tag="portal",
    query=(QueryParam("tenant", "the tenant whose branding to show", pattern=r"[a-z][a-z0-9-]{2,39}"),),
    produces="text/html",
    description="Public HTML: `?tenant=<id>` chooses the branding only; the page shows no data until an API key is "
    "entered, keeps the key in sessionStorage and sends it only in the Authorization header. Its CSP "
    "`frame-ancestors` lists the tenant's `branding.allowed_origins` ('none' when empty). Without `?tenant`, or "
    "for a tenant id that is unknown or not active, the answer is the same neutral page (200), so the page never "
    "tells whether a tenant exists.",
)
def portal(call: Call) -> Answer:
    tenant_id, display_name, branding = _branding_of(call, call.query.get("tenant"))
    page, headers = render(tenant_id, display_name, branding)
    return Answer(200, page, headers, content_type="text/html; charset=utf-8")


@operation(
    "GET",
    "/favicon.ico",
    summary="The portal's icon (SVG)",
    roles=PUBLIC,
    tag="portal",
    produces="image/svg+xml",
)
def favicon(call: Call) -> Answer:
    return Answer(200, FAVICON, {"Cache-Control": "public, max-age=86400"}, content_type="image/svg+xml")


@operation(
    "GET",
    "/v1/me",
    summary="Who this key is: tenant, role, key id, partner id (partner keys) and the queues the role decides",
    roles=TENANT,
    tag="portal",
    response_schema="api/responses/me.schema.json",
    description="What a portal or a client needs to show only the actions the key may take: `decides` lists the "
    "approval and exception queues this role decides (cases it requested itself excepted).",
)
def me(call: Call) -> dict[str, Any]:
    who = call.who
    return {
        "tenant_id": who.tenant_id,
        "role": who.role.value,
        "key_id": who.key_id,
        "partner_id": who.partner_id,
        "decides": sorted(queue for queue, role in QUEUE_ROLES.items() if role is who.role),
    }
