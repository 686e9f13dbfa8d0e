"""Clause audit, eighth round (auditor8): the leftovers of the earlier rounds and the clauses cited least. Where the
product did something other than the clause it cites, the clause won. Every figure is computed by hand from the
clause quoted; fixed days only, no wall clock.

The audit's record (each clause checked, where it is built, the verdict) is docs/clause-audit.md, "Eighth round
(auditor8)".
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from revgov.services import subscription_billing


def _screening(outcome: str, issued_at: str) -> dict[str, Any]:
    return {"document_type": "compliance_screening", "reference": f"dms://screening/{outcome}.pdf",
            "checksum": "sha256:" + "7" * 64, "issued_at": issued_at, "outcome": outcome}  # fmt: skip


def _screening_cases(ledger: Ledger, partner_id: str) -> list[dict[str, Any]]:
    return [c for c in ledger.exceptions()
            if c["category"] == "compliance_screening_match" and c["partner_id"] == partner_id]  # fmt: skip


def test_pa_2_8_a_partner_terminated_on_a_confirmed_match_is_not_sent_to_legal_again_every_month():
    """PA-2.8: "A potential match is routed to Legal, and no quote, order or incentive may be processed for the Partner
    while the match is unresolved. A confirmed match is grounds for immediate termination under PA-13.3." PA-13.3:
    "The Distributor may terminate immediately on a confirmed compliance screening match". SOP-4.1:
    "| compliance_screening_match | legal | 24 |".

    Legal resolved the match by confirming it and a person terminated the partner: there is nothing left for Legal's
    queue. The partner's running subscription stays uncharged (the hold of the confirmed match), but the monthly
    billing run no longer opens a new Legal exception for every month after the termination. Before, December,
    January and February each opened one more (a month-keyed exception for a matter closed in November)."""
    ledger = Ledger("2026-10-10T10:00:00Z")
    partner = ledger.partners[0]
    pid = partner["partner_id"]
    activated = ledger.bill("subscription.activated", {"partner_id": pid, "subscription_id": "SUB-T",
                                                        "sku": "NW-NET-MGMT", "quantity": 1,
                                                        "activated_on": "2026-10-10", "order_ref": "SO-T"},
                            occurred_at="2026-10-10T09:00:00Z")  # fmt: skip
    assert activated["status"] == "processed", activated
    documents = partner.get("documents", {})
    ledger.add_partners([{**partner, "documents": {**documents,
                                                   "compliance_screening": _screening("potential_match", "2026-10-20")}}])
    ledger.clock.set("2026-11-01T00:05:00Z")  # the match is unresolved: November is held, Legal is told
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 0
    assert len(_screening_cases(ledger, pid)) == 1
    # Legal confirms the match on 2026-11-03 and a person terminates the partner (PA-13.3)
    ledger.add_partners([{**partner, "status": "terminated", "terminated_at": "2026-11-03T10:00:00.000Z",
                          "documents": {**documents,
                                        "compliance_screening": _screening("confirmed_match", "2026-11-03")}}])
    before = len(_screening_cases(ledger, pid))
    for at in ("2026-12-01T00:05:00Z", "2027-01-01T00:05:00Z", "2027-02-01T00:05:00Z"):
        ledger.clock.set(at)
        assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 0  # still held: nothing is processed
    assert len(_screening_cases(ledger, pid)) == before  # no Legal exception again every month
