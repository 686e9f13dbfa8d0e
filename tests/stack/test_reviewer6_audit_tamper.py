"""Reviewer round 6, the tamper-evident audit. The seed: "Maintain immutable audit logs for every automated decision,
data source, approval action, and AI-generated recommendation." DESIGN.md: "Every automated decision, approval
action, agent action, copilot answer and refused governance action [...] produces one audit record [...] `prev_hash`,
`hash` (SHA-256 over canonical JSON [...]). One chain per tenant [...]; verification walks the chain and names the
first broken record." API.md: `GET /v1/audit/verify` → `{records, valid, first_invalid}`.

An attacker with the embedded engine's file (`.revgov/revgov.sqlite`, README "The local stack") alters, deletes and
reorders stored records with sqlite3, behind the running product; each time `GET /v1/audit/verify` must name the
first record that no longer holds, and hold again once the file is put back. Then the MSP offboards the tenant and
verifies the export offline, without the product (DESIGN.md: offboard "export, then delete everything").
"""

from __future__ import annotations

import json

import pytest
from reviewer6_support import (
    ALPHA,
    audit_rows,
    branded_fixture,
    data_file,
    delete_row,
    full_rows,
    quote,
    restore,
    seq_key,
    set_head,
    set_text,
    walk,
)

from revgov import cli
from revgov.services import agents
from security_support import Party

pytestmark = pytest.mark.stack

tenant = branded_fixture("northwind", ALPHA, "pool")


def _verify(party: Party) -> dict:
    answer = party.by_role["finance"].get("/v1/audit/verify")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _record_kinds(party: Party) -> dict[str, dict]:
    """Make one record of each kind the seed and DESIGN.md name, through the API (and one agent run), and return the
    records by kind: a decision (a quote check), an approval action, an agent action, an AI answer."""
    partner_id = party.partners[0]
    decision = quote(party, partner_id, "25.00")
    assert decision["approvals"], decision  # 25 % is above a Silver partner's caps: someone must approve
    approval = decision["approvals"][0]
    role = approval.get("queue", "channel_ops")
    decided = party.by_role[role].post(f"/v1/approvals/{approval['approval_id']}/decision",
                                       {"outcome": "rejected", "note": "above the cap"})
    assert decided.status_code == 200, decided.text
    asked = party.partner_keys[partner_id].post("/v1/copilot/ask", {"question": "When are invoices due for payment?"})
    assert asked.status_code == 200, asked.text
    agents.run(party.rt, "threshold_watcher", [party.tenant_id])
    records = []
    cursor = None
    while True:
        page = party.admin.get("/v1/audit", limit=200, **({"cursor": cursor} if cursor else {})).json()
        records += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    by_kind = {
        "decision": next(r for r in records if r["subject"] == decision["decision_id"]),
        "approval": next(r for r in records if r["subject"] == approval["approval_id"]
                         and r["actor"].startswith(f"{role}:")),
        "agent": next(r for r in records if r["actor"] == "agent:threshold_watcher"),
        "ai_answer": next(r for r in records if r.get("record_id") == asked.json()["audit_id"]),
    }
    return by_kind


def test_every_kind_of_record_is_on_the_chain_and_an_edit_delete_or_swap_in_the_file_is_named(tenant, stack):
    """By hand: the kinds are a quote decision (`decision_id` its subject), the queue's rejection of its approval, the
    threshold watcher's task and the partner's copilot answer, each on the tenant's one chain. Then, in the file:
    - the agent's record edited (its outcome "escalated" -> "open", the JSON still valid): first_invalid is that
      record's seq;
    - the decision's record deleted: first_invalid is the decision's seq (the gap: the record found there is the
      next one, whose seq and prev_hash do not fit);
    - the approval's record and the one after it swapped: first_invalid is the approval's seq;
    - the last record deleted (a cut tail): invalid, though every record left links to the one before it;
    and after each, the rows put back exactly: valid again, the same number of records as before."""
    kinds = _record_kinds(tenant)
    path, tid = data_file(stack), tenant.tenant_id
    clean = _verify(tenant)
    assert clean["valid"] is True and clean["first_invalid"] is None
    original = full_rows(path, tid)
    assert len(original) == clean["records"]

    agent_seq = kinds["agent"]["seq"]
    text = audit_rows(path, tid)[seq_key(agent_seq)]
    assert '"outcome":"escalated"' in text.replace(" ", "")
    set_text(path, tid, {seq_key(agent_seq): text.replace('"escalated"', '"open"')})
    broken = _verify(tenant)
    assert broken["valid"] is False and broken["first_invalid"]["seq"] == agent_seq, broken
    restore(path, original)
    assert _verify(tenant) == clean

    decision_seq = kinds["decision"]["seq"]
    delete_row(path, tid, seq_key(decision_seq))
    broken = _verify(tenant)
    assert broken["valid"] is False and broken["first_invalid"]["seq"] == decision_seq, broken
    restore(path, original)
    assert _verify(tenant) == clean

    approval_seq = kinds["approval"]["seq"]
    texts = audit_rows(path, tid)
    set_text(path, tid, {seq_key(approval_seq): texts[seq_key(approval_seq + 1)],
                         seq_key(approval_seq + 1): texts[seq_key(approval_seq)]})
    broken = _verify(tenant)
    assert broken["valid"] is False and broken["first_invalid"]["seq"] == approval_seq, broken
    restore(path, original)
    assert _verify(tenant) == clean

    last = max(original)
    delete_row(path, tid, last)
    broken = _verify(tenant)
    assert broken["valid"] is False, broken
    restore(path, original)
    assert _verify(tenant) == clean


def test_the_offboarding_export_verifies_offline_and_an_edit_in_it_is_named(tenant, operator, tmp_path, capsys):
    """DESIGN.md: the operator offboards ("export, then delete everything") and the chain is tamper-evident; README:
    `revgov tenants offboard` writes "every item as JSON lines". Verifying the export must not need the product
    (the tenant is gone from it): `revgov tenants verify-export FILE` walks the export's audit chain up to its head
    and answers `{records, valid, first_invalid}` as `GET /v1/audit/verify` does, exit 0 when it holds, 1 when not.

    By hand: the export's chain has as many records as the last `GET /v1/audit/verify` counted (nothing is written
    between them) and holds; with the decision's record edited in the file (its outcome changed), first_invalid is
    its seq; with the last record's line removed (a cut tail), it does not hold."""
    kinds = _record_kinds(tenant)
    counted = _verify(tenant)["records"]
    gone = operator.delete(f"/v1/tenants/{tenant.tenant_id}")
    assert gone.status_code == 200, gone.text
    export = gone.json()["export"]
    out = tmp_path / "export.jsonl"
    out.write_text("".join(json.dumps(item, sort_keys=True) + "\n" for item in export))

    def verify_file(items: list[dict]) -> tuple[int, dict]:
        out.write_text("".join(json.dumps(item, sort_keys=True) + "\n" for item in items))
        capsys.readouterr()
        code = cli.main(["tenants", "verify-export", str(out), "--json"])
        return code, json.loads(capsys.readouterr().out)

    code, verdict = verify_file(export)
    assert (code, verdict["valid"], verdict["records"], verdict["first_invalid"]) == (0, True, counted, None), verdict
    assert verdict["tenant_id"] == tenant.tenant_id

    seq = kinds["decision"]["seq"]
    edited = [dict(i) for i in export]
    (item,) = [i for i in edited if i["collection"] == "AUDIT" and i["key"] == seq_key(seq)]
    item["data"] = {**item["data"], "outcome": "allow" if item["data"]["outcome"] != "allow" else "deny"}
    code, verdict = verify_file(edited)
    assert code == 1 and verdict["valid"] is False and verdict["first_invalid"]["seq"] == seq, verdict

    last = max(i["key"] for i in export if i["collection"] == "AUDIT" and i["key"].startswith("R#"))
    code, verdict = verify_file([i for i in export if not (i["collection"] == "AUDIT" and i["key"] == last)])
    assert code == 1 and verdict["valid"] is False, verdict

    out.write_text("not an export\n")
    assert cli.main(["tenants", "verify-export", str(out)]) == 2


def test_who_may_verify_which_chain(tenant, operator):
    """docs/routes.md: `GET /v1/audit/verify` — "admin, finance, legal, operator"; DESIGN.md: "One chain per tenant,
    plus a platform chain (`_platform`) for operator actions". Expected: the tenant's admin, finance and legal verify
    the tenant's chain (the same count); the operator verifies the platform chain, which holds this tenant's
    provisioning (so at least one record) and is valid; a partner key, a viewer and sales get a 403 problem."""
    answers = [tenant.by_role[role].get("/v1/audit/verify").json() for role in ("admin", "finance", "legal")]
    assert all(a["valid"] for a in answers) and len({a["records"] for a in answers}) == 1
    platform = operator.get("/v1/audit/verify")
    assert platform.status_code == 200 and platform.json()["valid"] is True and platform.json()["records"] >= 1
    for client in (tenant.partner_keys[tenant.partners[0]], tenant.by_role["viewer"], tenant.by_role["sales"]):
        refused = client.get("/v1/audit/verify")
        assert refused.status_code == 403 and refused.headers["Content-Type"].startswith("application/problem+json")


def test_a_resealed_tail_passes_the_chain_but_not_a_receipt_kept_outside(tenant, operator, stack, tmp_path, capsys):
    """A hash chain has no secret (DESIGN.md: "SHA-256 over canonical JSON"): whoever writes the file can edit the
    last record, seal it again and move the head, and `GET /v1/audit/verify` holds (docs/audit.md says so since this
    round). What catches it is a receipt an auditor keeps outside: the seq and `hash` of a record read from `GET
    /v1/audit` before. By hand: the receipt is the last record's (seq N, hash H); after the forgery the record at N
    reads another hash, and the offboarding export verified with `--receipt N:H` is broken at N (exit 1)."""
    from revgov.domain.canonical import canonical_json, sha256_text

    kinds = _record_kinds(tenant)
    path, tid = data_file(stack), tenant.tenant_id
    records = walk(tenant.admin, "/v1/audit", 200)[0]
    last = records[-1]
    receipt = f"{last['seq']}:{last['hash']}"
    assert kinds["agent"]["seq"] <= last["seq"]

    stored = json.loads(audit_rows(path, tid)[seq_key(last["seq"])])
    body = {k: v for k, v in stored.items() if k != "hash"}
    body["outcome"] = "forged"
    forged = {**body, "hash": sha256_text(canonical_json(body))}
    set_text(path, tid, {seq_key(last["seq"]): json.dumps(forged)})
    set_head(path, tid, last["seq"], forged["hash"])
    assert _verify(tenant)["valid"] is True  # the chain alone cannot see a re-sealed tail
    now = walk(tenant.admin, "/v1/audit", 200)[0]
    assert now[-1]["seq"] == last["seq"] and now[-1]["hash"] != last["hash"]  # the receipt can

    gone = operator.delete(f"/v1/tenants/{tid}")
    assert gone.status_code == 200, gone.text
    out = tmp_path / "export.jsonl"
    out.write_text("".join(json.dumps(item, sort_keys=True) + "\n" for item in gone.json()["export"]))
    assert cli.main(["tenants", "verify-export", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["tenants", "verify-export", str(out), "--receipt", receipt, "--json"]) == 1
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["valid"] is False and verdict["first_invalid"]["seq"] == last["seq"], verdict
