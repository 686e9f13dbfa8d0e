"""Which documents a suspended partner's own key may still file: the cure, read from each tenant's clauses.

PA-9.6: "A suspended Partner keeps read-only access to its statements and documents" (CPA-9.8: "Suspended Partners keep
read-only access"). PA-13.2: the suspension "is lifted when the reason is cured"; reason (a) "a required insurance
certificate has been expired for more than 15 days under PA-2.7", whose cure PA-2.7 names: "upload a renewed
certificate [...] until a valid certificate is verified" (CPA-2.4: "If a renewed certificate is not verified within
10 days after expiry, the Partner is suspended under CPA-13.2"). The required certificates per type: PA-2.2(c) every
partner's certificate of insurance, PA-2.4(a)(b) an MSP's professional and cyber liability, PA-2.5(a) an
Implementation Partner's professional liability; CPA-2.4 "MSPs and Implementation Partners additionally maintain
professional indemnity insurance [...] and MSPs cyber insurance". No other document cures a reason PA-13.2 / CPA-13.2
lists, so every other kind stays read-only (403 naming the portal-access clause); staff are not affected.
"""

from __future__ import annotations

import pytest

from rebates_support import tenant_policy
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Forbidden
from revgov.domain.partners.portal_access import check_suspended_filing, cure_documents

GENERAL, PROFESSIONAL, CYBER = "insurance_certificate", "professional_liability_insurance", "cyber_liability_insurance"


@pytest.mark.parametrize(("tenant", "partner_type", "cures"), [
    ("northwind", "reseller", [GENERAL]),
    ("northwind", "msp", [GENERAL, PROFESSIONAL, CYBER]),
    ("northwind", "implementation_partner", [GENERAL, PROFESSIONAL]),
    ("contoso", "reseller", [GENERAL]),
    ("contoso", "msp", [GENERAL, PROFESSIONAL, CYBER]),
    ("contoso", "implementation_partner", [GENERAL, PROFESSIONAL]),
])  # fmt: skip
def test_the_cure_is_the_insurance_certificates_the_type_requires(tenant: str, partner_type: str,
                                                                  cures: list[str]) -> None:
    partner = {"partner_id": "ptr_x", "partner_type": partner_type, "status": "suspended"}
    assert sorted(cure_documents(tenant_policy(tenant), partner)) == sorted(cures)


@pytest.mark.parametrize(("tenant", "clause"), [("northwind", "PA-9.6"), ("contoso", "CPA-9.8")])
def test_a_suspended_partner_key_files_only_the_cure_staff_anything(tenant: str, clause: str) -> None:
    policy = tenant_policy(tenant)
    partner = {"partner_id": "ptr_x", "partner_type": "msp", "status": "suspended"}
    own = Principal(tenant_id="t", key_id="k1", role=Role.PARTNER, partner_id="ptr_x")
    staff = Principal(tenant_id="t", key_id="k2", role=Role.CHANNEL_OPS)
    for cure in (GENERAL, PROFESSIONAL, CYBER):
        check_suspended_filing(policy, partner, cure, own)  # open
    for other in ("signed_agreement", "tax_form", "security_attestation"):
        with pytest.raises(Forbidden) as refused:
            check_suspended_filing(policy, partner, other, own)
        assert refused.value.extra == {"clause": clause} and refused.value.errors[0].path == "/document_type"
        check_suspended_filing(policy, partner, other, staff)  # staff are not read-only
        check_suspended_filing(policy, {**partner, "status": "active"}, other, own)  # reinstated: writes again
