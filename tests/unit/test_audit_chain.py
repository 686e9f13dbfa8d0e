"""The audit chain: sealing links records; verification names the first broken one."""

import copy

from revgov.domain.audit import GENESIS, AuditEntry, seal, verify


def chain(n: int) -> list[dict]:
    records, prev = [], GENESIS
    for seq in range(1, n + 1):
        entry = AuditEntry(
            actor="admin:key_1",
            action="key.created",
            subject=f"key_{seq}",
            outcome="created",
            inputs={"role": "finance", "n": seq},
            rule_ids=("R-1",),
            clauses=("PA-1.1",),
        )
        record = seal(
            entry, tenant_id="northwind", seq=seq, record_id=f"aud_{seq}", at="2026-01-01T00:00:00.000Z", prev_hash=prev
        )
        records.append(record)
        prev = record["hash"]
    return records


def test_an_untouched_chain_verifies():
    records = chain(5)
    result = verify(records, head=(5, records[-1]["hash"]))
    assert result.as_dict() == {"records": 5, "valid": True, "first_invalid": None}


def test_changing_any_field_is_reported_at_that_record():
    for index, field, value in [(2, "outcome", "approved"), (0, "actor", "someone"), (4, "rule_ids", [])]:
        records = copy.deepcopy(chain(5))
        records[index][field] = value
        result = verify(records)
        assert not result.valid and result.first_invalid["seq"] == index + 1


def test_rehashing_a_changed_record_still_breaks_the_next_link():
    records = chain(4)
    forged = {k: v for k, v in records[1].items() if k != "hash"}
    forged["outcome"] = "approved"
    records[1] = seal(
        AuditEntry(
            actor=forged["actor"],
            action=forged["action"],
            subject=forged["subject"],
            outcome="approved",
            inputs=forged["inputs"],
        ),
        tenant_id="northwind",
        seq=2,
        record_id="aud_2",
        at=forged["at"],
        prev_hash=forged["prev_hash"],
    )
    assert verify(records).first_invalid["seq"] == 3


def test_a_deleted_record_or_a_cut_tail_is_reported():
    records = chain(5)
    assert verify(records[:2] + records[3:]).first_invalid["seq"] == 3
    assert verify(records[:4], head=(5, records[-1]["hash"])).first_invalid["reason"].startswith("chain ends at seq 4")


def test_inputs_must_match_their_hash():
    records = chain(3)
    records[1]["inputs"]["role"] = "admin"
    assert verify(records).first_invalid["seq"] == 2


def test_a_sealed_records_hashes_are_those_of_its_canonical_json_as_before() -> None:
    """DESIGN.md: each audit record's `hash` is SHA-256 over the canonical JSON of the record without `hash`, and
    `inputs_hash` over its inputs. The inputs are now serialised once; the hashes must not move by a bit (pinned:
    computed by the sealing code before that change)."""
    from decimal import Decimal

    from revgov.domain.audit import AuditEntry, seal, verify
    from revgov.domain.canonical import canonical_json, canonical_object, sha256_hex

    entry = AuditEntry(actor="k", action="a", subject="s", outcome="o", actor_role="sales", rule_ids=("r",),
                       inputs={"lines": [{"q": Decimal("1.5"), "é": "ü"}], 2: "x"})
    record = seal(entry, tenant_id="t", seq=1, record_id="aud_1", at="2026-01-01T00:00:00Z", prev_hash="0" * 64)
    assert record["hash"] == "5d18792cfbb444a9742a27f21ceed3d03eab7810a19ff21811a4a540bba375bf"
    assert record["inputs_hash"] == "a6cfa8f660976b8048c7c7224da402b0ba8eeb0931f893b26e55419d3121170c"
    assert record["hash"] == sha256_hex({k: v for k, v in record.items() if k != "hash"})
    assert verify([record]).valid
    body = {"b": [1, Decimal("2.50")], "a": "é", "z": None}
    assert canonical_object({"b": body["b"], "z": None}, {"a": canonical_json("é")}) == canonical_json(body)
    assert canonical_object({}, {}) == canonical_json({})


def test_inputs_given_with_their_canonical_json_seal_and_store_exactly_as_the_plain_inputs() -> None:
    """A quote check serialises its inputs once (`Canonical`) for the decision's stored body, its audit inputs and
    the audit hash. DESIGN.md: the hash is over the canonical JSON of the record; so the record, its hashes and the
    stored decision (inline or in parts bound by their SHA-256) must be byte-identical to those of the plain inputs."""
    from decimal import Decimal

    from revgov.domain.access import Principal, Role
    from revgov.domain.audit import AuditEntry, seal, verify
    from revgov.domain.canonical import Canonical
    from revgov.services import decision_repository, decisions

    who = Principal(tenant_id="t", role=Role.SALES, key_id="key_1")
    for lines in (2, 6000):  # inline, and large enough for a body in parts and audit inputs kept by hash
        inputs = {"quote": {"lines": [{"line_id": str(i), "discount": Decimal("5.50"), "sku": "é"}
                                      for i in range(lines)]}}
        decision = {"decision_id": "dec_1", "partner_id": None, "inputs": inputs, "result": {"outcome": "approved"}}
        made = Canonical.of(inputs)
        assert decision_repository.puts(decision, made) == decision_repository.puts(decision)
        plain_inputs = inputs if len(made.text) <= decisions.AUDIT_INLINE_CHARS else {
            "decision_id": "dec_1", "inputs_kept_with": "decision dec_1", "inputs_sha256": made.sha256,
            "inputs_chars": len(made.text)}
        sealed = [
            seal(AuditEntry.by(who, "pricing.checked", "dec_1", "approved", inputs=given), tenant_id="t", seq=1,
                 record_id="aud_1", at="2026-01-01T00:00:00Z", prev_hash="0" * 64)
            for given in (decisions.audit_inputs("dec_1", made), plain_inputs)
        ]
        assert sealed[0] == sealed[1]
        assert verify([sealed[0]]).valid
