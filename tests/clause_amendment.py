"""A policy draft that changes a figure carries the amendment of the clause that states it: a rule and the clause it
cites say the same thing, and the clause wins (domain/clause_figures.py). Tests whose draft moves a figure (a margin
floor, a rate band) attach the amended clause with it, as legal would (docs/policy.md "Contract amendments")."""

from __future__ import annotations

import re
from typing import Any

from revgov.domain.access import Principal, Role
from revgov.domain.contracts import parse_contract
from revgov.services import contracts, policy_drafts


def amend_figure(rt: Any, tenant_id: str, draft_id: str, clause_id: str, was: str, now: str) -> dict[str, Any]:
    """Attach to the draft the amendment of `clause_id` writing `now` wherever its text writes the figure `was` (by
    admin, a role that amends contracts and approves no policy change in the demo tenants)."""
    document = clause_id.split("-")[0]
    stored = rt.store.get(tenant_id, contracts.CURRENT, document)
    (clause,) = [c for c in parse_contract(stored.data["markdown"]).clauses if c.clause_id == clause_id]
    text = re.sub(rf"(?<![\d.]){re.escape(was)}(?![\d]|\.\d)", now, clause.text)
    assert text != clause.text, f"{clause_id} does not write {was}"
    admin = Principal(tenant_id, Role.ADMIN, "key_ADMINAMENDS000000000000000")
    return policy_drafts.attach_amendment(rt, admin, draft_id, {
        "document": document, "reason": f"{clause_id} now says {now}",
        "clauses": [{"clause_id": clause_id, "title": clause.title, "text": text}]})


def move_margin_floor(rt: Any, who: Principal, draft_id: str, before: str, after: str) -> dict[str, Any]:
    """The margin floor moved in a draft as the contract has it: PA-6.3 / CPA-6.3 state it ("below 12%" / "at least
    10%") and both the quote check's rule and the rebates' cite that clause, so both move and the clause is amended
    with them. Returns the draft as edited."""
    policy_drafts.patch_policy(rt, who, draft_id, {"operations": [
        {"op": "test", "path": "/pricing/margin_floor/percent", "value": before},
        {"op": "replace", "path": "/pricing/margin_floor/percent", "value": after},
        {"op": "replace", "path": "/rebates/margin_floor/percent", "value": after}]})
    clause = policy_drafts.get_draft(rt, who, draft_id)["policy"]["pricing"]["margin_floor"]["clause"]
    return amend_figure(rt, who.tenant_id, draft_id, clause, before, after)


def move_first_band_rate(rt: Any, who: Principal, draft_id: str, now: str) -> dict[str, Any]:
    """The first band rate of the first usage rate table moved in a draft with the clause that states it (SOP-3.2,
    contoso's rate table clause), amended with it. Returns the draft as edited."""
    table = policy_drafts.get_draft(rt, who, draft_id)["policy"]["billing"]["usage_rates"][0]
    was = table["bands"][0]["rate"]
    policy_drafts.patch_policy(rt, who, draft_id, {"operations": [
        {"op": "replace", "path": "/billing/usage_rates/0/bands/0/rate", "value": now}]})
    return amend_figure(rt, who.tenant_id, draft_id, table["clause"], was, now)


def amend_figure_http(api: Any, draft_path: str, clause_id: str, was: str, now: str) -> dict[str, Any]:
    """`amend_figure` over HTTP on a running stack: `api` a legal or admin key's client, `draft_path`
    `/v1/policy/drafts/{draft_id}`. Returns the draft as edited."""
    document = clause_id.split("-")[0]
    markdown = api.get(f"/v1/contracts/{document}").json()["contract"]["markdown"]
    (clause,) = [c for c in parse_contract(markdown).clauses if c.clause_id == clause_id]
    text = re.sub(rf"(?<![\d.]){re.escape(was)}(?![\d]|\.\d)", now, clause.text)
    assert text != clause.text, f"{clause_id} does not write {was}"
    answer = api.request("PUT", f"{draft_path}/amendment", {
        "document": document, "reason": f"{clause_id} now says {now}",
        "clauses": [{"clause_id": clause_id, "title": clause.title, "text": text}]})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def move_margin_floor_http(ops: Any, amender: Any, draft_path: str, was: str, now: str) -> dict[str, Any]:
    """`move_margin_floor` over HTTP (northwind's PA-6.3): both rules citing the clause, and the clause amended."""
    patched = ops.post(f"{draft_path}/patch", {"operations": [
        {"op": "replace", "path": "/pricing/margin_floor/percent", "value": now},
        {"op": "replace", "path": "/rebates/margin_floor/percent", "value": now}]})
    assert patched.status_code == 200, patched.text
    return amend_figure_http(amender, draft_path, "PA-6.3", was, now)
