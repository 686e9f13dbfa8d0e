"""The work a quote check does grows with its lines only where it must: the pure evaluation of each line. Its store
reads and its one commit do not, and its lines are serialised once for everything that keeps them.

docs/architecture.md, "One request, hop by hop: POST /v1/pricing/check": the catalog item of each line's SKU is read
by `price_lines`; the registrations in "one batched read of the opportunity locks" (8d); then "One commit: the
decision (`services/decision_repository.py: puts`), its approvals, the `pricing.checked` audit record [...], the
`quote.checked` event as an outbox item" (13). README (#17 quote CPU): "a check's inputs serialised once for the
decision's body, its audit inputs and the audit hash (same bytes, same hashes)".

Counts, never timings (the team's standard): a read or a serialisation per line coming back fails here on any machine.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.adapters import store_base
from revgov.domain import canonical
from revgov.domain.access import Principal, Role
from revgov.domain.canonical import canonical_json
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import decision_repository, pricing
from store_counting import Counting

AT = "2026-11-10T10:00:00.000Z"
SKUS = ("NW-SW-24P", "NW-RTR-EDGE", "NW-NET-MGMT")  # networking items of the northwind price list (the bench's)


@pytest.fixture(scope="module")
def quoting() -> tuple[Any, Principal, str]:
    """Northwind on the in-memory runtime with one active platinum partner (certified in networking, PA-5.1)."""
    rt, _ = memory_runtime(AT)
    sales = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
    ops = Principal("northwind", Role.CHANNEL_OPS, "key_01JX0000000000000000000OPS")
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    level = next(t for t in tiers_by_rank(policy) if t["tier"] == "platinum")
    partner = onboard(rt, policy, demo_application("Work Counted", "reseller", level), "active", sales=sales,
                      approver=ops)
    return rt, sales, partner["partner_id"]


def _quote(partner_id: str, lines: int) -> dict[str, Any]:
    return {"partner_id": partner_id, "customer": {"id": "US-EIN-55-5550101", "name": "Counted Co"},
            "lines": [{"line_id": str(i), "sku": SKUS[i % 3], "quantity": i % 9 + 1, "discount_percent": f"{i % 8}.50"}
                      for i in range(lines)]}  # fmt: skip


def test_a_quote_check_reads_the_same_whatever_its_number_of_lines(quoting):
    rt, sales, partner_id = quoting
    seen = []
    for lines in (3, 50):  # the same three SKUs: the catalog hands back the same three items
        commits = Counter()  # what each commit writes (publishing then deletes the outbox items: AWS's path)
        commit = rt.store.commit
        rt.store.commit = lambda tenant_id, changes: commits.update(
            ["writes" if changes.puts or changes.audit else "deletes"]) or commit(tenant_id, changes)
        try:
            with Counting(rt.store) as counted:
                checked = pricing.check(rt, sales, _quote(partner_id, lines))
        finally:
            del rt.store.commit
        assert len(checked["lines"]) == lines
        seen.append((dict(counted.calls), counted.documents, counted.partitions, dict(commits)))
    assert seen[0] == seen[1], seen
    assert seen[1][3]["writes"] == 1  # one commit (architecture hop 13)


class _Serialisations:
    """Every JSON text the check makes through the product's encoders (canonical JSON, the store's `dumps`), kept."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        for owner, name in ((canonical, "_ENCODE"), (canonical, "_ENCODE_DECODED"), (json, "dumps")):
            monkeypatch.setattr(owner, name, self._kept(getattr(owner, name)))

    def _kept(self, encode: Any) -> Any:
        def kept(*args: Any, **kwargs: Any) -> str:
            text: str = encode(*args, **kwargs)
            self.texts.append(text)
            return text

        return kept

    def holding(self, marker: str, times: int) -> int:
        """How many of the texts hold `marker` at least `times` times (each one a serialisation of every line)."""
        return sum(1 for text in self.texts if text.count(marker) >= times)


def test_a_quote_check_serialises_its_lines_once(quoting, monkeypatch):
    rt, sales, partner_id = quoting
    made = _Serialisations(monkeypatch)
    checked = pricing.check(rt, sales, _quote(partner_id, 50))
    monkeypatch.undo()
    # the result's lines (only they carry "net_unit_price"): once, for the stored decision
    assert made.holding('"net_unit_price"', 50) == 1
    # the quote's lines as sent (only they carry "discount_percent"): once, for the decision's inputs, the audit
    # record's inputs and the audit hash
    assert made.holding('"discount_percent"', 50) == 1
    # what is stored is what the check decided: the decision reads back equal, its body's JSON canonical
    stored = decision_repository.read(rt.store, "northwind", checked["decision_id"])
    assert stored is not None and stored.data["result"]["lines"] == checked["lines"]
    record = next(r for r in rt.store.iter_audit_records("northwind") if r["subject"] == checked["decision_id"])
    assert record["inputs"] == stored.data["inputs"]
    assert record["inputs_hash"] == canonical.sha256_text(canonical_json(stored.data["inputs"]))
    assert store_base.dumps(record)  # the record is plain JSON data


def test_a_decision_too_large_for_one_item_is_still_stored_in_parts(quoting, monkeypatch):
    rt, sales, partner_id = quoting
    monkeypatch.setattr(decision_repository, "BODY_INLINE_CHARS", 2_000)  # a 50-line body is ~22,000 characters
    checked = pricing.check(rt, sales, _quote(partner_id, 50))
    head = decision_repository.read(rt.store, "northwind", checked["decision_id"])
    assert head is not None and "result" not in head.data and head.data["body"]["parts"] >= 1
    whole = decision_repository.whole(rt.store, "northwind", head.data)
    assert whole["result"]["lines"] == checked["lines"]


def test_the_kpis_count_a_quote_in_the_tier_its_decision_recorded_without_reading_the_decision(quoting):
    """docs/kpis.md / services/analytics/facts.py: KPIs by tier count a quote "in the tier the partner held when it
    was decided" (`inputs.partner.tier` of its decision). The handler runs once per quote.checked: it reads that one
    field, not the whole decision (its inputs and result: every line) for it."""
    from revgov.services import analytics
    from revgov.services.decisions import tier_at_decision

    rt, sales, partner_id = quoting
    checked = pricing.check(rt, sales, _quote(partner_id, 50))
    event = next(e for e in rt.publisher.published
                 if e["detail"].get("decision_id") == checked["decision_id"])  # fmt: skip
    stored = decision_repository.read(rt.store, "northwind", checked["decision_id"])
    assert stored is not None and tier_at_decision(stored.data) == "platinum"
    decision_reads = Counter()
    get = rt.store.get
    rt.store.get = lambda tenant_id, collection, key: decision_reads.update([collection]) or get(
        tenant_id, collection, key)
    try:
        bus = {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}
        assert analytics.record_facts(rt, [bus]) == ["counted"]
    finally:
        del rt.store.get
    assert decision_reads[decision_repository.DECISIONS] == 0, decision_reads
    assert decision_repository.recorded_tier(rt.store, "northwind", checked["decision_id"]) == "platinum"
    assert decision_repository.recorded_tier(rt.store, "northwind", "dec_01JX0000000000000000000000") is None
