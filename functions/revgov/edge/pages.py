"""Branded pages (the portal, the operations view): a template filled with the tenant's branding, the shared
script prelude, and a Content-Security-Policy that allows exactly the page's own script and style."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_ASSETS = Path(__file__).resolve().parent / "portal"
_SLOT = re.compile(r"@@([a-z_]+)@@")


@lru_cache(maxsize=1)
def prelude() -> str:
    """page.js: the script every branded page runs before its own (config, DOM helpers, key, API calls)."""
    return (_ASSETS / "page.js").read_text(encoding="utf-8")


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


def branded_page(
    template: str,
    base_css: str,
    js: str,
    *,
    tenant_id: str,
    display_name: str,
    branding: dict[str, Any],
    config: dict[str, Any],
    extra: dict[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """A page of the tenant's branding (the portal, the operations view) and its security headers: the template's
    `@@name@@` slots filled (escaped), the tenant's colours after the base CSS so they win over its defaults, the
    config as inert JSON, the shared prelude (page.js) before the page's own script, and a CSP that allows exactly
    this page's script and style."""
    js = f"{prelude()}\n{js}"
    css = f"{base_css}\n:root{{--primary:{branding['primary_color']};--accent:{branding['accent_color']};}}\n"
    # `</` can never close the JSON block early; the JSON is data (type application/json), never executed.
    values = {
        "title": html.escape(branding["portal_title"]),
        "display_name": html.escape(display_name),
        "tenant_id": html.escape(tenant_id),
        "logo_url": html.escape(branding["logo_url"], quote=True),
        "config": json.dumps(config).replace("<", "\\u003c"),
        **(extra or {}),
        "css": css,
        "js": js,
    }
    # One pass over the template: a value is never searched again, so a branding value that spells another slot
    # (`@@js@@` in the portal title) stays text instead of receiving that slot's content.
    page = _SLOT.sub(lambda slot: values.get(slot.group(1), slot.group(0)), template)
    headers = {
        "Content-Security-Policy": content_security_policy(branding, css, js),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return page, headers
