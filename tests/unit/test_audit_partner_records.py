"""PA-12.1 / CPA-12.1: the records relating to a partner, who may list them, what a partner reads of them, and the
backfill of the index for records sealed before records named their partner.

PA-12.1: "The Distributor keeps an audit trail of every automated decision and approval under this Agreement and
provides the Partner, on request, with the records relating to the Partner." CPA-12.1: "Contoso keeps an audit trail of
every automated decision and approval and provides the Partner with its own records on request." PA-11.1 / CPA-11.1
keep each party's confidential information from third parties: a partner's copy names no rival and no staff key.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from test_auditor4_audit_records import _ledger_with_a_shipment

from memory_store import Ledger
from revgov.bootstrap import build_runtime
from revgov.domain import audit as audit_domain
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.domain.audit import AuditEntry, partner_of
from revgov.domain.audit_view import ANOTHER_PARTNER, partner_view
from revgov.domain.errors import Forbidden, MalformedRequest, NotFound
from revgov.local.demo_partners import demo_application, onboard
from revgov.ports import Changes, Delete, Put
from revgov.services import audit, audit_backfill, tenants
from revgov.settings import Settings
from revgov.tenant_files import load_tenant_file
from support import ROOT

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
STAFF_KEY = "key_01JBNWSTAFF0000000000000A"
PARTNER_KEY = "key_01JBNWPKEY00000000000000A"
FINANCE = Principal("northwind", Role.FINANCE, STAFF_KEY)
PARTNER = Principal("northwind", Role.PARTNER, PARTNER_KEY, partner_id=P1)


# --- which partner a record concerns ------------------------------------------------------------------------------
def test_the_partner_is_derived_once_from_the_entry_and_a_partner_keys_own_partner_wins() -> None:
    assert partner_of(AuditEntry.by(PARTNER, "quote.checked", "dec_1", "allow", inputs={"partner_id": P2})) == P1
    assert partner_of(AuditEntry.by(FINANCE, "deal.approved", "dl_1", "approved", partner_id=P2)) == P2
    assert partner_of(AuditEntry(actor="system:erp", action="x", subject="inv_1", outcome="o",
                                 inputs={"partner_id": P1})) == P1  # fmt: skip
    assert partner_of(AuditEntry(actor="system:x", action="x", subject=P2, outcome="o")) == P2
    for inputs in ({"partner_id": None}, {"partner_id": "not-a-partner"}, {"partner_id": 7}, {}):
        assert partner_of(AuditEntry(actor="a", action="x", subject="key_1", outcome="o", inputs=inputs)) is None


# --- what a partner reads -------------------------------------------------------------------------------------------
def test_a_partners_copy_names_no_rival_no_staff_key_no_email_and_no_cost() -> None:
    record = {
        "record_id": "aud_1", "seq": 3, "actor": f"channel_ops:{STAFF_KEY}", "actor_role": "channel_ops",
        "action": "pricing.checked", "subject": "dec_1", "partner_id": P1, "outcome": "approval_required",
        "inputs": {
            "quote": {"partner_id": P1, "lines": [{"sku": "A", "unit_cost": "10.00", "discount_percent": "5"}]},
            "rivals": {"networking": {"partner_id": P2, "registration_id": "dl_9"}},
            "note": f"checked against {P2}'s registration by jane.doe@northwind.example with {STAFF_KEY}",
            P2: {"any": "thing"},
            "approvals": [{"by": f"finance:{STAFF_KEY}", "requested_by_key": STAFF_KEY}],
            "decided_by": "operator:cli-jane", "reviewed_by": "jane.doe@northwind.example",
        },
        "rule_ids": ["PRC-CHANNEL-CONFLICT"], "clauses": ["PA-5.5"], "hash": "h", "inputs_hash": "i",
    }  # fmt: skip
    shown = partner_view(record, P1)
    text = json.dumps(shown)
    assert P2 not in text and "dl_9" not in text and STAFF_KEY not in text and "jane" not in text
    assert "unit_cost" not in text and "rivals" not in shown["inputs"]
    assert shown["actor"] == "channel_ops" and shown["inputs"]["decided_by"] == "operator"
    assert shown["inputs"]["reviewed_by"] == "staff" and "@" not in text
    assert shown["inputs"]["approvals"] == [{"by": "finance", "requested_by_key": None}]
    assert ANOTHER_PARTNER in shown["inputs"]["note"] and P1 in text  # its own id stays
    assert shown["partner_view"] is True and shown["rule_ids"] == ["PRC-CHANNEL-CONFLICT"]
    # no hash over what was masked: with the rest of the inputs, a guessed unit cost could be confirmed against it
    assert not {"hash", "inputs_hash", "prev_hash"} & set(shown)
    assert record["inputs"]["rivals"]  # the record itself is untouched


# --- who may list -------------------------------------------------------------------------------------------------
def _listed(ledger: Ledger, who: Principal, **query: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"subject": None, "partner_id": None, "limit": 200, "cursor": None, **query}
    return audit.list_for(ledger.rt, who, **args)


def test_staff_list_a_partners_records_and_a_partner_key_its_own_masked() -> None:
    ledger = _ledger_with_a_shipment()
    staff = _listed(ledger, FINANCE, partner_id=P1)["items"]
    assert staff and all(r["partner_id"] == P1 for r in staff) and "partner_view" not in staff[0]
    own = _listed(ledger, PARTNER)["items"]
    assert [r["record_id"] for r in own] == [r["record_id"] for r in staff]
    assert all(r["partner_view"] is True for r in own)
    assert _listed(ledger, PARTNER, partner_id=P1)["items"] == own


@pytest.mark.parametrize(("who", "query", "error"), [
    (PARTNER, {"partner_id": P2}, NotFound),  # another partner: as if it did not exist
    (PARTNER, {"subject": "inv_1"}, Forbidden),
    (Principal("northwind", Role.PARTNER, PARTNER_KEY), {}, Forbidden),  # a partner key bound to no partner
    (FINANCE, {"partner_id": "ptr_01JX0000000000000000000000"}, NotFound),
    (FINANCE, {"partner_id": P1, "subject": "inv_1"}, MalformedRequest),
])  # fmt: skip
def test_refused_lists_change_nothing(who: Principal, query: dict[str, Any], error: type[Exception]) -> None:
    ledger = _ledger_with_a_shipment()
    head = ledger.rt.store.audit_head("northwind")
    with pytest.raises(error):
        _listed(ledger, who, **query)
    assert ledger.rt.store.audit_head("northwind") == head


def test_a_cursor_of_another_partners_list_is_refused() -> None:
    ledger = _ledger_with_a_shipment()
    ledger.rt.commit("northwind", Changes(audit=[AuditEntry(actor="system:x", action="x", subject=P2, outcome="o"),
                                                 AuditEntry(actor="system:x", action="x", subject=P2, outcome="o")]))
    theirs = _listed(ledger, FINANCE, partner_id=P2, limit=1)["next_cursor"]
    assert theirs
    with pytest.raises(MalformedRequest):
        _listed(ledger, PARTNER, cursor=theirs)


# --- the backfill ------------------------------------------------------------------------------------------------
def _as_before(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records sealed by the version before records named their partner: no `partner_id`, no pointer."""
    ledger.rt.commit("northwind", Changes(puts=[Put("KEY", PARTNER_KEY, {"key_id": PARTNER_KEY, "partner_id": P2})]))
    with monkeypatch.context() as patched:
        patched.setattr(audit_domain, "partner_of", lambda entry: None)
        ledger.rt.commit("northwind", Changes(audit=[
            AuditEntry(actor="system:erp", action="invoice_lines.posted", subject="inv_1", outcome="posted",
                       inputs={"partner_id": P1}),
            AuditEntry(actor="system:x", action="partner.suspended", subject=P2, outcome="suspended"),
            AuditEntry(actor=f"partner:{PARTNER_KEY}", action="pricing.checked", subject="dec_1", outcome="allow"),
            AuditEntry(actor="admin:key_1", action="policy.activated", subject="2026-10-01.1", outcome="active"),
        ]))  # fmt: skip


def test_the_backfill_indexes_old_records_once_and_the_chain_still_verifies(monkeypatch) -> None:
    ledger = Ledger("2026-10-05T10:00:00Z")
    _as_before(ledger, monkeypatch)
    old = list(ledger.rt.store.iter_audit_records("northwind"))[-4:]
    assert not [r for r in old if "partner_id" in r]
    assert audit.list_records(ledger.rt, "northwind", subject=None, partner_id=P2, limit=50, cursor=None)["items"] == []
    ran = audit_backfill.backfill_partner_pointers(ledger.rt, "northwind", actor="operator:cli-test")
    assert ran["backfilled"] == 3 and ran["scanned"] >= 4
    mine = audit.list_records(ledger.rt, "northwind", subject=None, partner_id=P1, limit=50, cursor=None)["items"]
    theirs = audit.list_records(ledger.rt, "northwind", subject=None, partner_id=P2, limit=50, cursor=None)["items"]
    assert [r["action"] for r in mine] == ["invoice_lines.posted"]
    assert [r["action"] for r in theirs] == ["partner.suspended", "pricing.checked"]  # the key's partner
    assert audit.verify_chain(ledger.rt, "northwind")["valid"] is True
    assert audit_backfill.backfill_partner_pointers(ledger.rt, "northwind", actor="x")["backfilled"] == 0
    head = ledger.rt.store.audit_head("northwind")
    assert audit_backfill.backfill_if_unfinished(ledger.rt, ["northwind"], actor="system:revgov-dev") == []
    assert ledger.rt.store.audit_head("northwind") == head  # nothing new: nothing written
    with pytest.raises(NotFound):
        audit_backfill.backfill_partner_pointers(ledger.rt, "no-such-tenant", actor="x")


def test_at_dev_start_the_backfill_reads_only_what_was_sealed_since_its_last_run(monkeypatch) -> None:
    ledger = Ledger("2026-10-05T10:00:00Z")
    assert len(audit_backfill.backfill_if_unfinished(ledger.rt, ["northwind"], actor="system:revgov-dev")) == 1
    _as_before(ledger, monkeypatch)
    (again,) = audit_backfill.backfill_if_unfinished(ledger.rt, ["northwind"], actor="system:revgov-dev")
    assert again["scanned"] == 4 and again["backfilled"] == 3


def test_the_cli_backfills_the_partner_index_on_the_embedded_engine_once_audited(tmp_path) -> None:
    """`revgov maintenance backfill-audit-pointers` on SQLite: pointers of every record about a partner that an
    earlier version sealed without one (deleted here to stand for them), once; a second run writes nothing."""
    rt = build_runtime(Settings.from_env({"REVGOV_BACKEND": "sqlite", "REVGOV_DATA_FILE": str(tmp_path / "r.db")}))
    tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "key_test"),
                          load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml"))  # fmt: skip
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    sales, ops = Principal("northwind", Role.SALES, "key_s"), Principal("northwind", Role.CHANNEL_OPS, "key_o")
    partner_id = onboard(rt, policy, demo_application("Trail GmbH", "reseller", policy["partner_tiers"][1]), "active",
                         sales=sales, approver=ops)["partner_id"]  # fmt: skip
    listed = audit.list_records(rt, "northwind", subject=None, partner_id=partner_id, limit=200, cursor=None)["items"]
    assert len(listed) >= 3
    rt.store.commit("northwind", Changes(deletes=[Delete(f"AUDITBYPARTNER#{partner_id}", f"{r['seq']:012d}")
                                                  for r in listed]))  # fmt: skip
    assert not audit.list_records(rt, "northwind", subject=None, partner_id=partner_id, limit=9, cursor=None)["items"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REVGOV_"))}
    env.update(PYTHONPATH=str(ROOT / "functions"), REVGOV_BACKEND="sqlite", REVGOV_DATA_FILE=str(tmp_path / "r.db"))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "revgov.cli", "maintenance", "backfill-audit-pointers", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)

    refused = cli("--tenant", "no-such-tenant", "--json")
    assert refused.returncode == 2 and "no-such-tenant" in refused.stderr and "Traceback" not in refused.stderr
    done = cli("--tenant", "northwind", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["backfilled"] == len(listed)
    again = audit.list_records(rt, "northwind", subject=None, partner_id=partner_id, limit=200, cursor=None)["items"]
    assert again == listed and audit.verify_chain(rt, "northwind")["valid"] is True
    head = rt.store.audit_head("northwind")
    assert json.loads(cli("--tenant", "northwind", "--json").stdout.strip().splitlines()[-1])["backfilled"] == 0
    assert rt.store.audit_head("northwind") == head
    (trail,) = [r for r in rt.store.audit_records("northwind") if r["action"] == audit_backfill.ACTION]
    assert trail["actor"].startswith("operator:cli-") and "partner_id" not in trail
