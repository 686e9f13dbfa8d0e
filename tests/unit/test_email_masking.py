"""E-mail addresses in free text are masked wherever they are: a copilot question or answer as recorded
(`copilot.mask_sensitive`) and the text of an audit record a partner reads (`audit_view.partner_view`).

RFC 5321 §4.1.2: `Mailbox = Local-part "@" ( Domain / address-literal )`, `Domain = sub-domain *("." sub-domain)`:
one sub-domain is a domain, so `jdoe@northwind` is an address (§2.3.5: a local alias is allowed "in a local
context"), and it is masked like `jdoe@northwind.example`. Text with `@` that holds no address stays as written: a
mention (`@jdoe`: there is no local part), a quantity at a price (`2@5`), an `@` inside a longer token.
PA-14.1 (northwind): personal data in what is logged is masked; PA-11.1: the distributor's staff are not named to a
partner.
"""

from __future__ import annotations

import pytest

from revgov.domain.audit_view import partner_view
from revgov.domain.copilot import mask_sensitive

P1 = "ptr_01JBNWPARTNER0000000000001"

ADDRESSES = [
    ("mail jdoe@northwind today", "mail [email] today"),
    ("ask jdoe@northwind.", "ask [email]."),
    ("<j.doe+rebates@north-wind>", "<[email]>"),
    ("mailto:jdoe@northwind", "mailto:[email]"),
    ("cc jdoe@northwind, ops@finance; thanks", "cc [email], [email]; thanks"),
    ("from jdoe@northwind- see below", "from [email]- see below"),
    ("jane.doe@reseller.example and jdoe@mailhost", "[email] and [email]"),
]
NOT_ADDRESSES = [
    "ask @jdoe to review",
    "@channel_ops please look at it",
    "ship 2@5 units at 10@1250",
    "price at 10@USD each",
    "the tag a@b@c stays",
    "a handle x@north_wind_ops stays",
]


@pytest.mark.parametrize(("said", "masked"), ADDRESSES)
def test_an_address_whose_domain_has_no_dot_is_masked_like_any_other(said, masked):
    assert mask_sensitive(said) == masked


@pytest.mark.parametrize("said", NOT_ADDRESSES)
def test_an_at_sign_that_holds_no_address_is_left_as_written(said):
    assert mask_sensitive(said) == said


def test_a_partner_reads_an_audit_note_without_a_local_address_but_with_its_mentions():
    record = {
        "action": "exception.resolved",
        "actor": "finance:key_01JBNWFINANCE00000000000001",
        "partner_id": P1,
        "outcome": "resolved after a call with jdoe@northwind; @channel_ops informed, 2@5 units",
        "inputs": {"note": "sent to ap@northwind."},
    }
    shown = partner_view(record, P1)
    assert shown["outcome"] == "resolved after a call with e-mail address; @channel_ops informed, 2@5 units"
    assert shown["inputs"]["note"] == "sent to e-mail address."
    assert "northwind" not in str({k: v for k, v in shown.items() if k != "partner_id"})
