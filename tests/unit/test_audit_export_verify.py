"""An offboarding export's audit chain verified offline (`domain.audit.verify_export`, `revgov tenants
verify-export`): the same verdict the live walk gives, from the exported items alone (reviewer 6).

DESIGN.md: "verification walks the chain and names the first broken record"; the export holds every item of the
tenant as `{collection, key, data, ...}` (`DELETE /v1/tenants/{tenant_id}`, `revgov tenants offboard`)."""

import copy
import json

from test_audit_chain import chain

from revgov import cli
from revgov.domain.audit import verify_export


def export_of(records: list[dict], *, head: bool = True) -> list[dict]:
    items = [{"collection": "PARTNER", "key": "ptr_1", "data": {"name": "not a record"}}]
    items += [{"collection": "AUDIT", "key": f"R#{r['seq']:012d}", "data": copy.deepcopy(r)} for r in records]
    if head and records:
        items.append({"collection": "AUDIT", "key": "HEAD", "data": {"seq": records[-1]["seq"],
                                                                     "hash": records[-1]["hash"]}})
    return items


def test_an_untouched_export_holds_whatever_the_order_of_its_lines():
    items = export_of(chain(4))
    tenant_id, verdict = verify_export(reversed(items))
    assert tenant_id == "northwind"
    assert verdict.as_dict() == {"records": 4, "valid": True, "first_invalid": None}


def test_an_edited_a_missing_and_two_swapped_records_are_named_by_seq():
    items = export_of(chain(5))
    items[3]["data"]["outcome"] = "approved"  # R#3
    assert verify_export(items)[1].first_invalid["seq"] == 3

    items = [i for i in export_of(chain(5)) if i["key"] != "R#000000000002"]
    assert verify_export(items)[1].first_invalid["seq"] == 2

    items = export_of(chain(5))
    items[2]["data"], items[3]["data"] = items[3]["data"], items[2]["data"]  # R#2 and R#3 swapped
    assert verify_export(items)[1].first_invalid["seq"] == 2


def test_a_cut_tail_or_a_missing_head_does_not_hold():
    records = chain(5)
    cut = [i for i in export_of(records) if i["key"] != "R#000000000005"]
    verdict = verify_export(cut)[1]
    assert not verdict.valid and verdict.first_invalid["reason"] == "chain ends at seq 4 but its head says 5"
    assert not verify_export(export_of(records, head=False))[1].valid
    assert verify_export(export_of([], head=False))[1].as_dict() == {"records": 0, "valid": True,
                                                                     "first_invalid": None}


def test_the_command_answers_json_and_exits_1_when_broken_2_on_a_file_that_is_no_export(tmp_path, capsys):
    path = tmp_path / "export.jsonl"
    items = export_of(chain(3))
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    assert cli.main(["tenants", "verify-export", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"tenant_id": "northwind", "records": 3, "valid": True,
                                                   "first_invalid": None}
    items[2]["data"]["actor"] = "someone else"  # R#2
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    assert cli.main(["tenants", "verify-export", str(path)]) == 1
    assert "BROKEN at seq 2" in capsys.readouterr().out
    path.write_text("[1, 2]\n")
    assert cli.main(["tenants", "verify-export", str(path)]) == 2
    assert cli.main(["tenants", "verify-export", str(tmp_path / "missing.jsonl")]) == 2


def _rewritten_tail(records: list[dict]) -> list[dict]:
    """The last record edited and re-sealed by someone who knows the (public) algorithm, the head moved with it: the
    chain alone holds again."""
    from revgov.domain.canonical import canonical_json, sha256_text

    forged = copy.deepcopy(records)
    last = {k: v for k, v in forged[-1].items() if k != "hash"}
    last["outcome"] = "forged"
    forged[-1] = {**last, "hash": sha256_text(canonical_json(last))}
    return forged


def test_a_rewritten_tail_holds_as_a_chain_and_is_named_against_a_receipt_kept_outside():
    """A hash chain without a secret is tamper-evident only against a partial edit: whoever can write the store can
    re-seal the records from an edited one to the head and move the head. What an auditor kept outside (a receipt: the
    seq and hash of a record, read from `GET /v1/audit` before) names it: `verify_export(items, receipt=(seq, hash))`
    is invalid at that seq when the record there is no longer the one the receipt names."""
    records = chain(4)
    receipt = (4, records[-1]["hash"])
    forged = export_of(_rewritten_tail(records))
    assert verify_export(forged)[1].valid  # the limitation: the chain alone cannot see it
    assert verify_export(export_of(records), receipt=receipt)[1].valid
    verdict = verify_export(forged, receipt=receipt)[1]
    assert not verdict.valid and verdict.first_invalid["seq"] == 4, verdict
    assert "receipt" in verdict.first_invalid["reason"]
    missing = verify_export(export_of(records[:2]), receipt=receipt)[1]
    assert not missing.valid and missing.first_invalid["seq"] == 4


def test_the_command_takes_a_receipt(tmp_path, capsys):
    records = chain(3)
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in export_of(_rewritten_tail(records))))
    assert cli.main(["tenants", "verify-export", str(path)]) == 0
    assert cli.main(["tenants", "verify-export", str(path), "--receipt", f"3:{records[-1]['hash']}"]) == 1
    assert cli.main(["tenants", "verify-export", str(path), "--receipt", "three"]) == 2
