"""Policy lifecycle over HTTP: drafts, JSON Patch edits, validation, rule diff, what-if, four-eyes approval, history."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...domain.errors import MalformedRequest, UnsupportedMediaType
from ...services import policy_drafts, policy_whatif
from ..http import Call, parse_json
from ..registry import STAFF, QueryParam, operation

DRAFTERS = frozenset({Role.ADMIN, Role.FINANCE, Role.LEGAL, Role.CHANNEL_OPS})
ACTIVATORS = frozenset({Role.ADMIN, Role.FINANCE, Role.LEGAL})
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
    from ...schemas import validate

    operations = parse_json(call.raw_body)
    validate("api/json-patch.schema.json", operations)
    return policy_drafts.patch_policy(call.runtime, call.who, call.params["draft_id"], {"operations": operations})


@operation("GET", "/v1/policy/drafts/{draft_id}/validation", summary="Check the draft against schemas/ and the "
           "tenant's contracts (every clause cited exists)", roles=STAFF, tag="policy", id_params=_DRAFT,
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
           example={"period": "2026-Q3"},
           description="The period's stored rebate lines (the sales already projected for rebates) rated as the "
           "policy in force rates them and as the draft would; nothing is settled or written.",
           response_schema="api/responses/policy-rebate-whatif.schema.json")
def whatif_policy_draft_rebates(call: Call) -> dict[str, Any]:
    return policy_whatif.whatif_rebates(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("POST", "/v1/policy/drafts/{draft_id}/propose", summary="Propose the draft: the roles the active policy "
           "names approve it", roles=DRAFTERS, tag="policy", id_params=_DRAFT, status=200,
           body_schema="api/policy-proposal.schema.json", example={"effective_at": None, "note": "margin floor 14%"},
           description="Refused (422) if the draft has problems (schema, an unknown clause), changes nothing, or "
           "`effective_at` is in the past or, under the policy's `policy_changes.takes_effect` (SOP-7.3 / COP-7.2), "
           "not 00:00:00Z on the first day of a month; 409 if the active policy moved since the draft was made. Emits "
           "`policy.proposed`.", response_schema="api/responses/policy-draft.schema.json")
def propose_policy_draft(call: Call) -> dict[str, Any]:
    return policy_drafts.propose(call.runtime, call.who, call.params["draft_id"], call.body)


@operation("POST", "/v1/policy/drafts/{draft_id}/approve", summary="Approve a proposed policy change (one of the "
           "required roles; never its proposer or editor)", roles=STAFF, tag="policy", id_params=_DRAFT, status=200,
           body_schema="api/policy-approval.schema.json", example={"note": "checked against the 2027 agreement"},
           description="403 for a role the change does not need or for whoever created, changed or proposed it "
           "(segregation of duties, recorded on the audit chain as `policy.approval_refused`); 409 when the role "
           "already approved or the draft is not proposed. The last approval activates the change at once when its "
           "effective time has come (`policy.approved`, `policy.activated`).",
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
