"""The branded portal page: public HTML in the tenant's name, colours and logo; no data until a key is entered.

`?tenant=<id>` picks the branding only. The page calls the API with the key the user types (kept in the tab's
sessionStorage). Its Content-Security-Policy allows its own inline script and style by hash, the API of its own
origin, the tenant's logo, and framing only by the tenant's `branding.allowed_origins`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...services import tenants
from ..http import Answer, Call
from ..registry import PUBLIC, QueryParam, operation

_ASSETS = Path(__file__).resolve().parents[1] / "portal"


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str, str]:
    return tuple(  # type: ignore[return-value]
        (_ASSETS / name).read_text(encoding="utf-8") for name in ("portal.html", "portal.css", "portal.js")
    )


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def content_security_policy(branding: dict[str, Any], css: str, js: str) -> str:
    logo = branding["logo_url"]
    logo_source = "data:" if logo.startswith("data:") else "{0.scheme}://{0.netloc}".format(urlsplit(logo))
    ancestors = " ".join(branding.get("allowed_origins") or []) or "'none'"
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {_hash(js)}",
            f"style-src {_hash(css)}",
            f"img-src 'self' {logo_source}",
            "connect-src 'self'",
            f"frame-ancestors {ancestors}",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def render(tenant_id: str, display_name: str, branding: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The page and its security headers for one tenant's branding."""
    page, base_css, js = _assets()
    css = f":root{{--primary:{branding['primary_color']};--accent:{branding['accent_color']};}}\n{base_css}"
    config = {
        "tenant_id": tenant_id,
        "display_name": display_name,
        "primary_color": branding["primary_color"],
        "accent_color": branding["accent_color"],
        "api_base": "",  # relative to the page: /portal -> /v1/..., /<stage>/portal -> /<stage>/v1/...
    }
    # `</` can never close the JSON block early; the JSON is data (type application/json), never executed.
    config_json = json.dumps(config).replace("<", "\\u003c")
    values = {
        "title": html.escape(branding["portal_title"]),
        "display_name": html.escape(display_name),
        "tenant_id": html.escape(tenant_id),
        "logo_url": html.escape(branding["logo_url"], quote=True),
        "config": config_json,
        "css": css,
        "js": js,
    }
    for name, value in values.items():
        page = page.replace(f"@@{name}@@", value)
    headers = {
        "Content-Security-Policy": content_security_policy(branding, css, js),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return page, headers


@operation(
    "GET",
    "/portal",
    summary="The tenant-branded portal page (dashboard, approvals, exceptions, copilot); embeddable by the tenant's "
    "allowed origins only",
    roles=PUBLIC,
    tag="portal",
    query=(QueryParam("tenant", "the tenant whose branding to show", pattern=r"[a-z][a-z0-9-]{2,39}"),),
    produces="text/html",
    description="Public HTML: `?tenant=<id>` chooses the branding only; the page shows no data until an API key is "
    "entered, keeps the key in sessionStorage and sends it only in the Authorization header. Its CSP "
    "`frame-ancestors` lists the tenant's `branding.allowed_origins` ('none' when empty).",
)
def portal(call: Call) -> Answer:
    from ...domain.errors import FieldError, MalformedRequest

    tenant_id = call.query.get("tenant")
    if not tenant_id:
        raise MalformedRequest("open the portal as /portal?tenant=<tenant id>", errors=[FieldError("/query/tenant",
                                                                                                  "required")])
    tenant, _ = tenants.load_tenant(call.runtime, tenant_id)
    page, headers = render(tenant.tenant_id, tenant.display_name, tenant.config["branding"])
    return Answer(200, page, headers, content_type="text/html; charset=utf-8")
