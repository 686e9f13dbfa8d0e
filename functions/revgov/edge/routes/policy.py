"""Policy lifecycle over HTTP: drafts, JSON Patch edits, validation, rule diff, what-if, four-eyes approval, history."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...domain.errors import MalformedRequest, UnsupportedMediaType
from ...schemas import validate
from ...services import (
    policy_drafts,
    policy_shadow,
    policy_whatif,
    policy_whatif_billing,
    policy_whatif_rebates,
    policy_whatif_usage,
)
from ..http import Call, parse_json
from ..registry import STAFF, QueryParam, operation

DRAFTERS = frozenset({Role.ADMIN, Role.FINANCE, Role.LEGAL, Role.CHANNEL_OPS})
ACTIVATORS = frozenset({Role.ADMIN, Role.FINANCE, Role.LEGAL})
AMENDERS = frozenset({Role.ADMIN, Role.LEGAL})  # who may amend a contract (routes/contracts.py)
_DRAFT = {"draft_id": "pdr"}
_STATUSES = ("draft", "proposed", "approved", "active", "rejected")


@operation("POST", "/v1/policy/drafts", summary="Start a policy draft from the active policy (or an earlier version: "
           "a rollback)", roles=DRAFTERS, tag="policy", status=201, body_schema="api/policy-draft-create.schema.json",
           example={"reason": "2027 discount caps"}, response_schema="api/responses/policy-draft.schema.json")
def create_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.create_draft(call.runtime, call.who, call.body)


@operation("GET", "/v1/policy/drafts", summary="Policy drafts and proposals", roles=STAFF, tag="policy",
           paginated=True, query=(QueryParam("status", "Only drafts in this status", enum=_STATUSES),),
           response_schema="api/responses/policy-draft-page.schema.json")
def list_policy_drafts(call: Call) -> dict[str, Any]:
    return policy_drafts.list_drafts(call.runtime, call.who, status=call.query.get("status"), limit=call.limit,
                                     cursor=call.cursor)


@operation("GET", "/v1/policy/drafts/{draft_id}", summary="A policy draft: its document, status, approvals",
           roles=STAFF, tag="policy", id_params=_DRAFT, response_schema="api/responses/policy-draft.schema.json")
def get_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.get_draft(call.runtime, call.who, call.params["draft_id"])


@operation("PUT", "/v1/policy/drafts/{draft_id}/policy", summary="Replace the draft's whole policy document",
           roles=DRAFTERS, tag="policy", id_params=_DRAFT, body_schema="api/policy-draft-document.schema.json",
           example="policy-draft-document.json", response_schema="api/responses/policy-draft.schema.json")
def replace_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.replace_policy(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("POST", "/v1/policy/drafts/{draft_id}/patch", summary="Edit the draft with an RFC 6902 JSON Patch",
           roles=DRAFTERS, tag="policy", id_params=_DRAFT, body_schema="api/policy-draft-patch.schema.json", status=200,
           example={"operations": [{"op": "test", "path": "/pricing/margin_floor/percent", "value": "12"},
                                   {"op": "replace", "path": "/pricing/margin_floor/percent", "value": "14"}]},
           response_schema="api/responses/policy-draft.schema.json")
def patch_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.patch_policy(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("PUT", "/v1/policy/drafts/{draft_id}/amendment", summary="Attach the contract amendment this policy change "
           "implements (takes effect only with it)", roles=AMENDERS, tag="policy", id_params=_DRAFT,
           body_schema="api/policy-draft-amendment.schema.json", status=200,
           example={"document": "PA", "reason": "amendment no. 2: 14% margin floor",
                    "clauses": [{"clause_id": "PA-6.3", "title": "Margin floor",
                                 "text": "The Net Price of each quote line must preserve a gross margin of at least "
                                         "14% over Line Cost."}]},
           description="New text for clauses of one stored contract document, as `POST /v1/contracts/{document}/"
           "amendments` takes it, kept in the draft (an edit: a new revision, and its author may not approve). The "
           "draft's validation and proposal check its clause citations against the contracts as amended. On "
           "activation the amendment becomes the document's next revision in the same commit as the policy "
           "(`contract.amended` audited with the draft id, `contract.changed` emitted); it never takes effect alone, "
           "and if the document moved meanwhile neither does (409). 404 for an unknown document, 422 for an "
           "amendment that changes nothing or a clause id of another document, 409 unless the draft is a draft.",
           response_schema="api/responses/policy-draft.schema.json")
def attach_policy_amendment(call: Call) -> dict[str, Any]:
    return policy_drafts.attach_amendment(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("DELETE", "/v1/policy/drafts/{draft_id}/amendment", summary="Detach the draft's contract amendment",
           roles=AMENDERS, tag="policy", id_params=_DRAFT, status=200,
           description="404 if the draft carries none; 409 unless the draft is a draft.",
           response_schema="api/responses/policy-draft.schema.json")
def detach_policy_amendment(call: Call) -> dict[str, Any]:
    return policy_drafts.detach_amendment(call.runtime, call.who, call.params["draft_id"])


@operation("PUT", "/v1/policy/drafts/{draft_id}/shadow", summary="Start or stop shadow mode: live quote checks "
           "evaluated under the draft, without effect", roles=DRAFTERS, tag="policy", id_params=_DRAFT,
           body_schema="api/policy-shadow.schema.json", status=200, example={"enabled": True},
           description="Only a proposed or approved draft is shadowed (409 otherwise); idempotent; audited "
           "(`policy.shadow_started`, `policy.shadow_stopped`). Each quote checked afterwards is evaluated under the "
           "draft after its own commit (rule `policy-shadow`) and the comparison recorded; the quote is unchanged. "
           "Answers what `GET …/shadow` answers.", response_schema="api/responses/policy-shadow.schema.json")
def set_policy_shadow(call: Call) -> dict[str, Any]:
    return policy_shadow.set_shadow(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("GET", "/v1/policy/drafts/{draft_id}/shadow", summary="Live quote checks evaluated under the draft in "
           "shadow mode: totals and the checks it would decide otherwise", roles=STAFF, tag="policy",
           id_params=_DRAFT, paginated=True,
           query=(QueryParam("all", "Every evaluated check, not only those the draft decides otherwise",
                             enum=("true", "false")),),
           description="`evaluated`, `differing` and `summary` (as the what-if sums: outcomes, approvals per queue, "
           "net total and margin before and after, by partner segment) over every check recorded; `items`: a page "
           "of the records (decision id, segment, before, after, differs).",
           response_schema="api/responses/policy-shadow.schema.json")
def get_policy_shadow(call: Call) -> dict[str, Any]:
    return policy_shadow.report(call.runtime, call.who, call.params["draft_id"],
                                differences_only=call.query.get("all") != "true", limit=call.limit,
                                cursor=call.cursor)


@operation("PATCH", "/v1/policy/drafts/{draft_id}", summary="Edit the draft's policy with a JSON Patch document "
           "(RFC 6902, Content-Type application/json-patch+json)", roles=DRAFTERS, tag="policy", id_params=_DRAFT,
           raw_body=True, raw_body_schemas=("api/json-patch.schema.json",),
           content_types=("application/json-patch+json", "application/json"),
           description="The same edit as `POST …/patch` with the patch as the whole body (RFC 5789 PATCH with the "
           "RFC 6902 media type `application/json-patch+json`; `application/json` is accepted too, and is the one "
           "listed here, for client generators). A failing operation, a `test` included, fails the whole patch (422 "
           "naming `/operations/<n>`) and nothing changes.", response_schema="api/responses/policy-draft.schema.json")
def json_patch_policy_draft(call: Call) -> dict[str, Any]:
    media = (call.headers.get("content-type") or "application/json-patch+json").split(";")[0].strip().lower()
    if media not in ("application/json-patch+json", "application/json"):
        raise UnsupportedMediaType(f"send application/json-patch+json, not {media}")
    if not call.raw_body.strip():
        raise MalformedRequest("this operation needs a JSON Patch document (an array of operations)")

    operations = parse_json(call.raw_body)
    validate("api/json-patch.schema.json", operations)
    return policy_drafts.patch_policy(call.runtime, call.who, call.params["draft_id"], {"operations": operations})


@operation("GET", "/v1/policy/drafts/{draft_id}/validation", summary="Check the draft against schemas/ and the "
           "tenant's contracts (every clause cited exists and writes each figure of its rule)", roles=STAFF,
           tag="policy", id_params=_DRAFT,
           response_schema="api/responses/policy-validation.schema.json")
def validate_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.validate_draft(call.runtime, call.who, call.params["draft_id"])


@operation("GET", "/v1/policy/drafts/{draft_id}/diff", summary="What the draft changes against the active policy, "
           "rule by rule", roles=STAFF, tag="policy", id_params=_DRAFT,
           response_schema="api/responses/policy-diff.schema.json")
def diff_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.diff_draft(call.runtime, call.who, call.params["draft_id"])


@operation("POST", "/v1/policy/drafts/{draft_id}/whatif", summary="Replay a window of stored quote decisions under "
           "the draft: outcome changes, approvals per queue, margin, by partner tier", roles=STAFF, tag="policy",
           id_params=_DRAFT, body_schema="api/policy-whatif.schema.json", status=200,
           example={"from": "2026-10-01", "to": "2026-12-31"},
           response_schema="api/responses/policy-whatif.schema.json")
def whatif_policy_draft(call: Call) -> dict[str, Any]:
    return policy_whatif.whatif(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("POST", "/v1/policy/drafts/{draft_id}/rebates-whatif", summary="Rate a rebate or commission period "
           "under the draft: payable and tier reached per partner and program, by partner tier", roles=STAFF,
           tag="policy", id_params=_DRAFT, body_schema="api/policy-whatif-rebates.schema.json", status=200,
           example={"period": "2026-Q3", "examples": 5},
           description="The period's stored rebate lines (the sales already projected for rebates) rated as the "
           "policy in force rates them and as the draft would, by the engine a settlement run uses; nothing is "
           "settled or written. Each changed partner and program carries `recorded` (the settled amount and the "
           "settlement runs that paid it, or the accrual while the period is open) and `examples` (rebate lines it "
           "counts, with their invoices); `by_partner` totals; `kpis`: net realized margin after rebates (overall "
           "and by tier) and threshold attainment, as `GET /v1/kpis` computes them, under each policy.",
           response_schema="api/responses/policy-rebate-whatif.schema.json")
def whatif_policy_draft_rebates(call: Call) -> dict[str, Any]:
    return policy_whatif_rebates.whatif_rebates(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("POST", "/v1/policy/drafts/{draft_id}/usage-whatif", summary="Rate a month's (or quarter's) metered "
           "usage under the draft's usage rate tables: amount per partner and metric, with the invoices carrying it",
           roles=STAFF, tag="policy", id_params=_DRAFT, body_schema="api/policy-whatif-usage.schema.json",
           status=200, example={"period": "2026-10", "examples": 5},
           description="Billing's usage records of the period (one per partner, metric and month: the metered "
           "quantity and what each invoice carries for it) rated with the rating a posted usage line uses, as the "
           "policy in force's rate tables rate them and as the draft's would (null: no table for that metric); "
           "totals per partner and by partner tier. Nothing is written.",
           response_schema="api/responses/policy-usage-whatif.schema.json")
def whatif_policy_draft_usage(call: Call) -> dict[str, Any]:
    return policy_whatif_usage.whatif_usage(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("POST", "/v1/policy/drafts/{draft_id}/billing-whatif", summary="Replay a month's (or quarter's) invoice "
           "lines under the draft's billing rules: invoice amount per partner and tier, changes with their records",
           roles=STAFF, tag="policy", id_params=_DRAFT, body_schema="api/policy-whatif-billing.schema.json",
           status=200, example={"period": "2026-10", "examples": 5},
           description="The lines of the period's invoices (draft and issued) and the credit notes held for approval, "
           "each replayed from what it records with the function billing posted it with, under the policy in force "
           "and under the draft: shipments (price list), activation months (proration), cancellation credits, "
           "milestones (schedule, within the statement of work), every credit against the credit-note limit; other "
           "lines kept as invoiced. Per partner and tier the invoice amount before and after, per kind of line the "
           "changed lines with their invoice, line and event ids, the credit-note limits, lines the policy in force "
           "would not bill as invoiced, and `kpis`: revenue and net realized margin overall and by tier. Nothing is "
           "written.", response_schema="api/responses/policy-billing-whatif.schema.json")
def whatif_policy_draft_billing(call: Call) -> dict[str, Any]:
    return policy_whatif_billing.whatif_billing(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("POST", "/v1/policy/drafts/{draft_id}/propose", summary="Propose the draft: the roles the active policy "
           "names approve it", roles=DRAFTERS, tag="policy", id_params=_DRAFT, status=200,
           body_schema="api/policy-proposal.schema.json", example={"effective_at": None, "note": "margin floor 14%"},
           description="Refused (422) if the draft has problems (schema, an unknown clause, a figure of a rule its "
           "clause does not write), changes nothing, or "
           "`effective_at` is in the past; under the policy in force's `policy_changes.takes_effect` (SOP-7.3 / "
           "COP-7.2: \"take effect only on the first day of a Billing Month\") an `effective_at` that is not "
           "00:00:00Z on day 1 of a month, or none (at once) on another day than a first of a month; under its "
           "`policy_change_calendar`, a proposal in a Quarter's last 5 business days or before the last Quarter's "
           "rebate run is settled (each 422 with `rule_id` and `clause`). 409 if the active policy moved since the "
           "draft was made. Emits `policy.proposed`.", response_schema="api/responses/policy-draft.schema.json")
def propose_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.propose(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("POST", "/v1/policy/drafts/{draft_id}/approve", summary="Approve a proposed policy change (one of the "
           "required roles; never its proposer or editor)", roles=STAFF, tag="policy", id_params=_DRAFT, status=200,
           body_schema="api/policy-approval.schema.json", example={"note": "checked against the 2027 agreement"},
           description="403 for a role the change does not need or for whoever created, changed or proposed it "
           "(segregation of duties, recorded on the audit chain as `policy.approval_refused`); 409 when the role "
           "already approved or the draft is not proposed; 422 (recorded too) when the change calendar refuses it "
           "(SOP-7.3 / COP-7.2: approved in a freeze, or after the change's first day of a Billing Month has "
           "passed). The last approval activates the change at once when its effective time has come "
           "(`policy.approved`, `policy.activated`).",
           response_schema="api/responses/policy-draft.schema.json")
def approve_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.approve(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("POST", "/v1/policy/drafts/{draft_id}/reject", summary="Reject a proposed policy change (a required role, "
           "with a reason)", roles=STAFF, tag="policy", id_params=_DRAFT, status=200,
           body_schema="api/policy-rejection.schema.json", example={"note": "the cap exceeds PA-6.2"},
           response_schema="api/responses/policy-draft.schema.json")
def reject_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.reject(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("POST", "/v1/policy/drafts/{draft_id}/withdraw", summary="Take a proposal back to draft (its approvals "
           "are void)", roles=DRAFTERS, tag="policy", id_params=_DRAFT, status=200,
           response_schema="api/responses/policy-draft.schema.json")
def withdraw_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.withdraw(call.runtime, call.who, call.params["draft_id"])


@operation("POST", "/v1/policy/drafts/{draft_id}/activate", summary="Activate an approved draft whose effective time "
           "has come (the schedule does it too)", roles=ACTIVATORS, tag="policy", id_params=_DRAFT, status=200,
           description="409 unless approved and due; 422 (SOP-7.3 / COP-7.2) when the change's first day of a "
           "Billing Month has passed: it never takes effect on a later day.",
           response_schema="api/responses/policy-draft.schema.json")
def activate_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.activate(call.runtime, call.who, call.params["draft_id"])


@operation("GET", "/v1/policy/versions", summary="The policy's activations, oldest first (version, draft, approvers)",
           roles=STAFF, tag="policy", paginated=True,
           response_schema="api/responses/policy-version-page.schema.json")
def list_policy_versions(call: Call) -> dict[str, Any]:
    return policy_drafts.history(call.runtime, call.who, limit=call.limit, cursor=call.cursor)


@operation("GET", "/v1/policy/drafts/{draft_id}/whatif/{decision_id}", summary="One stored quote decision replayed "
           "under the draft (the row the what-if sums for it)", roles=STAFF, tag="policy",
           id_params={**_DRAFT, "decision_id": "dec"},
           response_schema="api/responses/policy-decision-whatif.schema.json")
def whatif_policy_decision(call: Call) -> dict[str, Any]:
    return policy_whatif.whatif_decision(call.runtime, call.who, call.params["draft_id"], call.params["decision_id"])


@operation("GET", "/v1/policy", summary="The policy in force: its version and document", roles=STAFF, tag="policy",
           response_schema="api/responses/active-policy.schema.json")
def get_active_policy(call: Call) -> dict[str, Any]:
    return policy_drafts.active_policy(call.runtime, call.who)
