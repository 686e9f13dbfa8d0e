"""PA-4.2: "Certification records are updated in the Partner Portal within 2 business days of receipt of evidence from
the certifying body." The Distributor's duty (its Partner Portal, its staff record certifications: never a partner
key); the clause names no consequence for the partner (validity runs "from the date it is earned or renewed"), so a
late recording changes nothing of the certification and opens an exception for channel operations
(`certification_recorded_late`, PTR-CERTIFICATION-RECORDING). Business days: PA-1.3, Monday to Friday without the
published holidays (northwind's calendar).

Evidence received Thursday 2026-11-19 at 10:00 UTC: two business days are Friday 20 and Monday 23, so it is due by
2026-11-23 10:00 UTC; recorded at 10:00 it is in time, at 10:01 late. Contoso's CPA-4.2 has no such sentence: no
deadline.
"""

from __future__ import annotations

from typing import Any

import pytest

from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.domain.partners.evidence import late_recording
from revgov.services import partners

OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")


def _policy(tenant: str = "northwind") -> dict[str, Any]:
    from revgov.tenant_files import load_tenant_file
    from support import ROOT

    return load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")["policy"]


CERT = {"certification_id": "cert-network-core", "earned_at": "2026-11-18",
        "evidence_received_at": "2026-11-19T10:00:00Z"}  # fmt: skip


@pytest.mark.parametrize(("recorded_at", "late"), [("2026-11-23T10:00:00Z", False), ("2026-11-23T10:01:00Z", True)])
def test_pa_4_2_a_certification_is_recorded_within_2_business_days_of_the_evidence(recorded_at, late):
    found = late_recording(_policy(), CERT, recorded_at)
    assert (found is not None) == late
    if found:
        assert (found["rule"]["id"], found["rule"]["clause"], found["due_by"]) == (
            "PTR-CERTIFICATION-RECORDING", "PA-4.2", "2026-11-23T10:00:00Z")


def test_pa_4_2_counts_business_days_on_the_calendar_so_a_holiday_does_not_count():
    # received Wednesday 2026-11-25; Thursday 26 is Thanksgiving (northwind's holidays), so Friday 27 and Monday 30
    received = {**CERT, "evidence_received_at": "2026-11-25T09:00:00Z"}
    assert late_recording(_policy(), received, "2026-11-30T09:00:00Z") is None
    assert late_recording(_policy(), received, "2026-11-30T09:00:01Z") is not None


def test_without_a_receipt_or_for_contoso_nothing_is_measured_and_a_future_receipt_is_refused():
    assert late_recording(_policy(), {k: v for k, v in CERT.items() if k != "evidence_received_at"},
                          "2027-01-01T00:00:00Z") is None  # fmt: skip
    assert late_recording(_policy("contoso"), CERT, "2027-01-01T00:00:00Z") is None  # CPA-4.2 names no deadline
    with pytest.raises(RuleViolation) as refused:
        late_recording(_policy(), CERT, "2026-11-19T09:59:59Z")
    assert [e.path for e in refused.value.errors] == ["/evidence_received_at"]


def test_a_late_recording_opens_one_exception_for_channel_ops_and_the_certification_is_recorded_as_earned():
    from memory_store import memory_runtime
    from revgov.domain.partners import tiers_by_rank
    from revgov.local.demo_partners import demo_application, onboard

    rt, clock = memory_runtime("2026-11-02T09:00:00.000Z")
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    gold = next(t for t in tiers_by_rank(policy) if t["tier"] == "gold")
    sales = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
    partner = onboard(rt, policy, demo_application("Recording Networks", "reseller", gold), "active", sales=sales,
                      approver=OPS)  # fmt: skip
    clock.set("2026-11-23T10:05:00.000Z")
    answer = partners.add_certification(rt, OPS, partner["partner_id"], CERT)
    assert answer["certification"]["earned_at"] == "2026-11-18"  # validity runs from the earned day regardless

    def late_cases() -> list[dict[str, Any]]:
        return [c.data for c in rt.store.query("northwind", "CASE", limit=200).items
                if c.data["category"] == "certification_recorded_late"]  # fmt: skip

    (case,) = late_cases()
    assert case["queue"] == "channel_ops" and case["context"]["due_by"] == "2026-11-23T10:00:00Z"
    assert any(r["clause"] == "PA-4.2" and r["rule_id"] == "PTR-CERTIFICATION-RECORDING" for r in case["reasons"])
    clock.set("2026-11-23T10:06:00.000Z")  # recorded in time: nothing more
    partners.add_certification(rt, OPS, partner["partner_id"], {**CERT, "evidence_received_at": "2026-11-23T08:00:00Z"})
    assert len(late_cases()) == 1
