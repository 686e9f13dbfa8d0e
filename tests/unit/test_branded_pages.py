"""Branded pages fill their template's slots in one pass (edge/pages.py).

The contract, `branded_page`: "the template's `@@name@@` slots filled (escaped)" — each slot receives its own value;
schemas/tenant.schema.json `branding.portal_title`: "Title of the branded partner portal page." A title is text.
Before the fix the slots were filled one after another, so a tenant's branding value containing a later slot's name
(`@@js@@`, `@@css@@`, `@@config@@`) received that slot's content: the page's whole script pasted into the title.
"""

from __future__ import annotations

from revgov.edge.pages import branded_page
from revgov.edge.routes import portal


def _branding(**changes: str) -> dict[str, object]:
    return {
        "primary_color": "#0f766e",
        "accent_color": "#f59e0b",
        "logo_url": "https://cdn.example.com/logo.svg",
        "portal_title": "Partner portal",
        "allowed_origins": [],
        **changes,
    }


TEMPLATE = "<title>@@title@@</title><h1>@@display_name@@</h1><style>@@css@@</style><script>@@js@@</script>@@config@@"


def test_a_branding_value_that_spells_a_later_slot_stays_text():
    page, _ = branded_page(TEMPLATE, "body{}", "SECRET_SCRIPT();", tenant_id="acme", display_name="Acme @@css@@",
                           branding=_branding(portal_title="Deals @@js@@ and @@config@@"), config={"k": "v"})
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title == "Deals @@js@@ and @@config@@"
    assert page.split("<h1>", 1)[1].split("</h1>", 1)[0] == "Acme @@css@@"
    assert page.count("SECRET_SCRIPT();") == 1  # only in the script slot
    assert page.count('{"k": "v"}') == 1


def test_every_slot_is_filled_even_when_it_appears_twice_and_unknown_slots_stay():
    template = "@@tenant_id@@|@@tenant_id@@|@@unknown@@|@@title@@"
    page, _ = branded_page(template, "", "", tenant_id="acme", display_name="Acme",
                           branding=_branding(portal_title="<Deals & more>"), config={})
    assert page == "acme|acme|@@unknown@@|&lt;Deals &amp; more&gt;"


def test_the_portal_page_keeps_a_title_with_slot_names_as_text():
    page, _ = portal.render("acme", "Acme", _branding(portal_title="@@js@@"))
    assert "<title>@@js@@</title>" in page or ">@@js@@<" in page
    assert page.count(portal._assets()[2][:40]) == 1  # the page's own script appears once, in its slot
