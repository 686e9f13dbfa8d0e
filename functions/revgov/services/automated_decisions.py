"""The automated decisions other than quote checks that a partner may have reviewed by a person (PA-14.2 / CPA-14.2):
which decision a request names, whose it is, when its partner was notified of it, and where its review is kept.

PA-14.2: "Quote checks, discount approval routing, rebate calculations, entitlement checks and invoice validations may
be made automatically under the policy in force. [...] A Partner may request human review of any automated decision
within 30 days of being notified of it". A quote check is a stored decision and keeps its review on itself
(`decision_reviews.request_review`); the kinds here (`decision_review.KINDS`: a rebate statement line, an invoice
line, an entitlement check) keep theirs in a review record `rvw_…`, one per decision (`SUBJECTS`), listed under its
partner. When each kind notifies its partner is `domain.decision_review`'s.

A partner names only its own decisions: another partner's, and one that does not exist, answer the same 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain import decision_review as review_rules
from ..domain.access import Principal
from ..domain.errors import Conflict, FieldError, MalformedRequest, NotFound, RuleViolation
from ..domain.rebates import audience as rebate_audience
from ..domain.rules import Rule
from ..domain.time import iso, parse_instant
from ..ports import Put
from ..runtime import Runtime
from . import support_hours
from .billing.repository import line_of, load_invoice, sees_invoice
from .rebates import repository as rebate_repository

REVIEWS = "AUTO_REVIEW"  # review id -> the review of an automated decision, listed under its partner
SUBJECTS = "AUTO_REVIEW_SUBJECT"  # kind#reference -> {review_id}: one review per automated decision
# entitlement_check#partner#entitlement -> {review_id}: the latest review of the entitlement; while it is open, no other
OPEN_CHECKS = "AUTO_REVIEW_OPEN_CHECK"


@dataclass(frozen=True)
class Reviewed:
    """An automated decision a review request names: its kind, what identifies it, its partner, when the partner was
    notified of it, its outcome and what it decided as the partner may read it, with the rules it applied."""

    kind: str
    subject: dict[str, Any]
    partner_id: str
    notified_at: str
    outcome: str
    decided: dict[str, Any]

    @property
    def key(self) -> str:
        """What makes it one decision: its kind, its partner and what identifies it (two partners' lines of one
        programme in one run are two decisions)."""
        return "#".join([self.kind, self.partner_id, *(str(self.subject[k]) for k in sorted(self.subject))])


def named(rt: Runtime, who: Principal, body: dict[str, Any]) -> Reviewed:
    """The automated decision the request names (`kind` and its references); NotFound for another partner's or one
    that does not exist, a RuleViolation for one its partner has not been notified of yet."""
    kind = body["kind"]
    _fields_of(kind, body)
    if kind == review_rules.REBATE_STATEMENT:
        return _statement_line(rt, who, body["settlement_id"], _partner(who, body), body["program_id"])
    if kind == review_rules.INVOICE_LINE:
        return _invoice_line(rt, who, body["invoice_id"], int(body["line_no"]))
    return _entitlement_check(rt, who, _partner(who, body), body["entitlement"], body.get("at"))


# The fields that name each kind's decision: those it requires, and those it may have besides (`kind`, `reason`).
_FIELDS = {
    review_rules.REBATE_STATEMENT: ({"settlement_id", "program_id"}, {"partner_id"}),
    review_rules.INVOICE_LINE: ({"invoice_id", "line_no"}, set()),
    review_rules.ENTITLEMENT_CHECK: ({"entitlement"}, {"partner_id", "at"}),
}


def _fields_of(kind: str, body: dict[str, Any]) -> None:
    """A 400 naming each field the kind requires and lacks, and each it does not take."""
    required, optional = _FIELDS[kind]
    given = set(body) - {"kind", "reason"}
    errors = [FieldError(f"/{name}", f"required for kind {kind}") for name in sorted(required - given)]
    errors += [FieldError(f"/{name}", f"not a field of kind {kind}") for name in sorted(given - required - optional)]
    if errors:
        article = "an" if kind[0] in "aeiou" else "a"
        raise MalformedRequest(f"{article} {kind} review request names its decision by {', '.join(sorted(required))}"
                               f" and takes no field of another kind", errors=errors)


def _partner(who: Principal, body: dict[str, Any]) -> str:
    """The partner the request concerns: a partner key's own when it names none; staff name it."""
    partner_id = body.get("partner_id") or who.partner_id
    if partner_id is None:
        raise RuleViolation("name the partner whose decision is to be reviewed",
                            errors=[FieldError("/partner_id", "required: the partner of the decision")])  # fmt: skip
    return str(partner_id)


def _statement_line(rt: Runtime, who: Principal, settlement_id: str, partner_id: str, program_id: str) -> Reviewed:
    """A rebate calculation: the partner's line of one programme on an issued run's statement; notified when the run
    was issued (`settled_at`). A run not approved has issued nothing: the same 404 as one that does not exist."""
    unknown = NotFound(f"no settlement {settlement_id} for partner {partner_id}")
    if not who.sees_partner(partner_id):
        raise unknown
    statement = rebate_repository.statement(rt, who.tenant_id, settlement_id, partner_id)
    header = rebate_repository.find_settlement(rt, who.tenant_id, settlement_id) if statement else None
    if statement is None or header is None or header["status"] != "settled":
        raise unknown
    lines = [ln for ln in rebate_audience.partner_statement(statement)["lines"] if ln["program_id"] == program_id]
    if not lines:
        raise NotFound(f"the statement of {settlement_id} for {partner_id} has no line for {program_id}")
    subject = {"settlement_id": settlement_id, "program_id": program_id}
    decided = {"period": header["period"], "lines": lines, "rule_id": header["rule_id"], "clause": header["clause"]}
    return Reviewed(review_rules.REBATE_STATEMENT, subject, partner_id, header["settled_at"], "issued", decided)


def _invoice_line(rt: Runtime, who: Principal, invoice_id: str, line_no: int) -> Reviewed:
    """An invoice validation: a line of an issued invoice with the rules that billed it; notified when the invoice
    was issued (`finalized_at`). A draft is not issued yet: a RuleViolation."""
    try:
        invoice, _ = load_invoice(rt, who.tenant_id, invoice_id)
    except NotFound:
        invoice = None
    if invoice is None or not sees_invoice(who, invoice):
        raise NotFound(f"no invoice {invoice_id}")
    stored = line_of(rt, who.tenant_id, invoice_id, line_no)
    if stored is None:
        raise NotFound(f"invoice {invoice_id} has no line {line_no}")
    if invoice["status"] != "finalized" or not invoice.get("finalized_at"):
        raise RuleViolation(f"invoice {invoice_id} is not issued: its partner has not been notified of its lines yet",
                            extra={"current_status": invoice["status"]})  # fmt: skip
    line = stored.data
    kept = ("line_id", "kind", "description", "sku", "quantity", "unit_price", "amount", "service_period",
            "order_ref", "rule_ids", "clauses")  # fmt: skip
    decided = {"period": invoice["period"], "line": {k: line.get(k) for k in kept}}
    subject = {"invoice_id": invoice_id, "line_no": line_no}
    return Reviewed(review_rules.INVOICE_LINE, subject, invoice["partner_id"], invoice["finalized_at"], "billed",
                    decided)  # fmt: skip


def _entitlement_check(rt: Runtime, who: Principal, partner_id: str, name: str, at: str | None) -> Reviewed:
    """An entitlement check: the answer for `name` at `at` (default: now), as GET …/entitlements/{name} gives it;
    notified no earlier than `at`. A check of the future has notified nothing yet: a RuleViolation."""
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    now = rt.clock.now_iso()
    # one instant, one check: written as the product writes instants (…00Z, …00.0Z and …00.000000Z are one decision)
    at = iso(parse_instant(at or now, field_path="/at"))
    if parse_instant(at) > parse_instant(now):
        raise RuleViolation(f"the check at {at} is in the future: it has notified nothing to review yet",
                            errors=[FieldError("/at", "not after now")])  # fmt: skip
    answer = support_hours.entitlement(rt, who.tenant_id, partner_id, name, at)
    subject = {"entitlement": name, "at": at}
    outcome = "entitled" if answer.get("entitled") else "not_entitled"
    return Reviewed(review_rules.ENTITLEMENT_CHECK, subject, partner_id, at, outcome, answer)


def one_open_check(rt: Runtime, tenant_id: str, decision: Reviewed, review_id: str, rule: Rule) -> list[Put]:
    """One open review per partner and entitlement (PA-14.2 "any automated decision [...] within 30 days of being
    notified of it"): an entitlement check is the answer at an instant and a request without `at` checks now, so each
    request named a decision the product never made nor notified, and a partner key opened a customer_success case per
    request. A second request while one is open, at any instant, is a Conflict naming the open review and its case;
    once it is decided, the partner may ask again. The marker is written over what was read: two requests at once open
    one review. Other kinds name a stored decision (one review each, `SUBJECTS`): nothing here."""
    if decision.kind != review_rules.ENTITLEMENT_CHECK:
        return []
    key = f"{decision.kind}#{decision.partner_id}#{decision.subject['entitlement']}"
    stored = rt.store.get(tenant_id, OPEN_CHECKS, key)
    if stored is not None:
        latest, _ = stored_review(rt, tenant_id, str(stored.data["review_id"]))
        review = latest["human_review"]
        if review.get("status") == review_rules.OPEN:
            raise Conflict(
                f"a human review of entitlement {decision.subject['entitlement']} is already open for partner "
                f"{decision.partner_id} ({latest['review_id']}, the check at {latest['subject']['at']}): one open "
                f"review per entitlement ({rule.rule_id}, {rule.clause})",
                extra={"review_id": latest["review_id"], "approval_id": review["approval_id"],
                       "at": latest["subject"]["at"], "rule_id": rule.rule_id, "clause": rule.clause},
            )  # fmt: skip
    return [Put(OPEN_CHECKS, key, {"review_id": review_id}, must_be_absent=stored is None,
                expected_version=stored.version if stored is not None else None,
                conflict_detail="a review of this entitlement was requested meanwhile")]  # fmt: skip


def review_of(rt: Runtime, tenant_id: str, decision: Reviewed) -> dict[str, Any] | None:
    """The review already requested of this decision, or None."""
    marker = rt.store.get(tenant_id, SUBJECTS, decision.key)
    if marker is None:
        return None
    return stored_review(rt, tenant_id, str(marker.data["review_id"]))[0]


def stored_review(rt: Runtime, tenant_id: str, review_id: str) -> tuple[dict[str, Any], int]:
    stored = rt.store.get(tenant_id, REVIEWS, review_id)
    if stored is None:
        raise NotFound(f"no review {review_id}")
    return stored.data, stored.version


def new_puts(record: dict[str, Any], key: str) -> list[Put]:
    """A new review and the marker that makes it the one review of its decision."""
    return [_put(record, None), Put(SUBJECTS, key, {"review_id": record["review_id"]}, must_be_absent=True,
                                    conflict_detail="a review of this decision was requested meanwhile")]


def put(record: dict[str, Any], version: int) -> Put:
    return _put(record, version)


def _put(record: dict[str, Any], version: int | None) -> Put:
    return Put(REVIEWS, record["review_id"], record, lookup=(f"{REVIEWS}#{record['partner_id']}", record["review_id"]),
               must_be_absent=version is None, expected_version=version,
               conflict_detail=f"review {record['review_id']} changed meanwhile")  # fmt: skip
