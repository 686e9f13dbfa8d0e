"""Deal registration: eligibility, one live registration per customer and family, first approved wins."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from . import partners as partner_rules
from .caller_text import shown
from .errors import Conflict, FieldError, RuleViolation
from .partners.rules import onboarding
from .time import parse_instant

PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"
_NEXT = {PENDING: {APPROVED, REJECTED, WITHDRAWN}, APPROVED: {WITHDRAWN}}


def _at(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def registered_customer(customer: dict[str, Any]) -> str:
    """The Customer an opportunity is registered for. PA-5.4: "Affiliates of a Customer are treated as the same
    Customer where they share the same ultimate parent and purchase centrally"; CPA-5.3: "Group companies purchasing
    through a central procurement function count as one End Customer". An affiliate declared with its ultimate
    parent's registration number (`ultimate_parent_id`) and `purchases_centrally` is its parent's opportunity; any
    other customer is its own (its tax or company registration number, PA-5.2)."""
    parent = customer.get("ultimate_parent_id")
    return str(parent) if parent and customer.get("purchases_centrally") is True else str(customer["id"])


def period_end(approved_at: str, days: int) -> str:
    """The last instant of a registration's period. PA-5.3: "for 90 days from the approval date"; CPA-5.2: "for 60
    days from approval"; PA-1.3 / CPA-1.3: "a day runs from 00:00:00 to 23:59:59 UTC". Days count from the day after
    the approval (as a quote's "30 days from its issue date", quote_validity.py) and the period ends with its last
    day: approved 2026-11-10 15:00 UTC, 90 days: through 2027-02-08 23:59:59.999 (not 15:00 that day)."""
    last = _at(approved_at).date() + timedelta(days=days)
    return _iso(datetime.combine(last, time(23, 59, 59, 999000), tzinfo=UTC))


def last_instant(expires_at: str) -> datetime:
    """The period's last instant: the end (23:59:59.999 UTC) of the day `expires_at` falls on (PA-1.3 / CPA-1.3: "a
    day runs from 00:00:00 to 23:59:59 UTC"). A registration approved since 1.56.3 stores exactly that (`period_end`);
    one approved before stored the approval's time of day on its last day (approved 2026-11-10 15:00 UTC, 90 days:
    2027-02-08 15:00) and is read to the end of that same day, so nothing needs migrating."""
    return datetime.combine(_at(expires_at).date(), time(23, 59, 59, 999000), tzinfo=UTC)


def ends_at(expires_at: str | None) -> str | None:
    """`expires_at` as it is read and told: the end of its day (`last_instant`); None for no period yet."""
    return _iso(last_instant(expires_at)) if expires_at else None


def _within(moment: datetime, deal: dict[str, Any]) -> bool:
    """Whether `moment` is on or before the period's last instant (the end of `expires_at`'s day, inclusive)."""
    return moment <= last_instant(deal["expires_at"])


def in_period(deal: dict[str, Any], now: str) -> bool:
    """Approved and inside its exclusivity (PA-5.3) or protection (CPA-5.2) period, its last day included."""
    return deal["status"] == APPROVED and bool(deal.get("expires_at")) and _within(_at(now), deal)


def is_live(deal: dict[str, Any], now: str) -> bool:
    """Approved and unexpired: inside its period, or kept past it by an order accepted within it. PA-5.3: "A
    registration expires at the end of its exclusivity period unless an order has been accepted"; CPA-5.2:
    "Protection ends at the end of the period unless an order has been accepted". A live registration bars other
    partners (PA-5.4 "Only one approved registration may exist ... at any time"; PA-5.5 "conflicts with an approved,
    unexpired registration")."""
    return in_period(deal, now) or (deal["status"] == APPROVED and bool(deal.get("order")))


def discounted(policy: dict[str, Any], deal: dict[str, Any], now: str) -> bool:
    """Whether the registration discount applies now. PA-5.6: "during the exclusivity period" — the period does not
    run on when an order keeps the registration (`keeps: registration`); CPA-5.5: "during the protection period" —
    and an order keeps the protection itself (CPA-5.2, `keeps: protection`)."""
    if in_period(deal, now):
        return True
    rule = policy["deal_registration"].get("order_accepted") or {}
    return is_live(deal, now) and rule.get("keeps") == "protection"


def order_problem(
    policy: dict[str, Any], deal: dict[str, Any], accepted_at: str, now: str
) -> RuleViolation | Conflict | None:
    """Why this order may not be recorded against the registration (None: it may): the program has the rule, the
    registration is approved, the order was accepted after the approval and before its period ended (PA-5.3 "expires
    at the end of its exclusivity period unless an order has been accepted"), not in the future, and no order was
    recorded before."""
    rule = policy["deal_registration"].get("order_accepted")
    if rule is None:
        return RuleViolation("this program keeps no registration past its period for an accepted order")
    cite = {"rule_id": rule["id"], "clause": rule["clause"]}
    if deal.get("order"):
        return Conflict(f"an accepted order is already recorded for {deal['deal_id']} ({rule['clause']})",
                        extra={**cite, "order": deal["order"]})
    if deal["status"] != APPROVED:
        return Conflict(f"deal registration {deal['deal_id']} is {deal['status']}; only an approved registration is "
                        f"kept by an accepted order ({rule['clause']})",
                        extra={**cite, "current_status": deal["status"]})
    at = parse_instant(accepted_at, field_path="/accepted_at")
    if at > _at(now):
        return RuleViolation("accepted_at is in the future", errors=[FieldError("/accepted_at", "not after now")])
    if not (_at(deal["approved_at"]) <= at and _within(at, deal)):
        return RuleViolation(
            f"the order was not accepted within the registration's period ({deal['approved_at']} to "
            f"{deal['expires_at']}): a registration expires at the end of its period unless an order has been "
            f"accepted ({rule['clause']})",
            errors=[FieldError("/accepted_at", "within the registration's period")], extra=cite,
        )
    return None


def order_recorded(deal: dict[str, Any], body: dict[str, Any], policy: dict[str, Any], at: str) -> dict[str, Any]:
    """The registration kept by its accepted order (PA-5.3 / CPA-5.2)."""
    rule = policy["deal_registration"]["order_accepted"]
    order = {
        "order_ref": body["order_ref"],
        "accepted_at": _iso(parse_instant(body["accepted_at"], field_path="/accepted_at")),
        "recorded_at": at,
        "rule_id": rule["id"],
        "clause": rule["clause"],
    }
    return {**deal, "order": order}


SUSPENDED, LAPSED = "suspended", "lapsed"


def certification_hold(policy: dict[str, Any], deal: dict[str, Any], expired_on: date | None, now: str) -> Any:
    """PA-4.3(d): "approved deal registrations in that Product Family are suspended, with the exclusivity period
    continuing to run, and they lapse if a valid certification is not recorded within 30 days after expiry"
    (CPA-4.3(d): "frozen and lapse if no valid certification is recorded within 21 days").

    `expired_on` is the last valid day of the certification whose expiry left the partner with none in the deal's
    family (None: it holds one). A certification expires at 23:59:59 UTC on that day, so the registration lapses
    `days` days after 00:00 UTC of the next day. Returns None (no hold) or the hold: status, rule, clause, dates."""
    rule = policy["deal_registration"].get("certification_lapse")
    if rule is None or expired_on is None or deal["status"] != APPROVED:
        return None
    expired_at = datetime.combine(expired_on + timedelta(days=1), time(0), tzinfo=UTC)
    lapses_at = expired_at + timedelta(days=int(rule["days"]))
    lapsed = _at(now) >= lapses_at
    return {
        "status": LAPSED if lapsed else SUSPENDED,
        "rule_id": rule["id"],
        "clause": rule["clause"],
        "certification_expired_at": _iso(expired_at),
        "lapses_at": _iso(lapses_at),
        "message": (
            f"the partner's certification for {deal['family']} expired on {expired_on.isoformat()} and it holds no "
            f"other valid one: the registration is {'lapsed' if lapsed else 'suspended'} ({rule['clause']}); "
            + ("" if lapsed else f"it lapses on {_iso(lapses_at)[:10]} unless a valid certification is recorded")
        ),
    }


def lapsed_in_past_gap(
    policy: dict[str, Any], deal: dict[str, Any], gaps: list[tuple[date, str]], now: str
) -> Any:
    """The PA-4.3(d) lapse that already happened in a past spell without certification (see `family_expiry_gaps`):
    the spell began before the exclusivity ended and ended (validity recorded again) after the registration was
    approved, and only after the lapse; None when no such spell. A lapse stays a lapse."""
    rule = policy["deal_registration"].get("certification_lapse")
    if rule is None or deal["status"] != APPROVED or not deal.get("approved_at"):
        return None
    for expired_on, recorded_again_at in sorted(gaps):
        expired_at = datetime.combine(expired_on + timedelta(days=1), time(0), tzinfo=UTC)
        if not (expired_at < last_instant(deal["expires_at"]) and _at(deal["approved_at"]) < _at(recorded_again_at)):
            continue  # the spell ended before the registration was approved, or began after its exclusivity
        if _at(recorded_again_at) >= expired_at + timedelta(days=int(rule["days"])):
            lapsed = certification_hold(policy, deal, expired_on, recorded_again_at)
            late = f"; a valid certification was recorded only on {recorded_again_at[:10]}"
            return {**lapsed, "message": lapsed["message"].rstrip("; ") + late}
    return None


def hold_on(policy: dict[str, Any], deal: dict[str, Any], partner: dict[str, Any], now: str) -> Any:
    """The PA-4.3(d) / CPA-4.3(d) hold on an approved registration from its partner's certification records: held
    now (no valid certification in the family), or lapsed in a past spell that ended too late; None: no hold."""
    day = parse_instant(now).date()
    expired_on = partner_rules.family_expired_on(policy, partner, deal["family"], day)
    held = certification_hold(policy, deal, expired_on, now)
    if held is None:
        gaps = partner_rules.family_expiry_gaps(policy, partner, deal["family"])
        held = lapsed_in_past_gap(policy, deal, gaps, now)
    return held


def protects(deal: dict[str, Any], hold: dict[str, Any] | None, now: str) -> bool:
    """Still bars other partners: live, and not lapsed (a suspended registration's exclusivity keeps running)."""
    return is_live(deal, now) and (hold is None or hold["status"] != LAPSED)


ENDED = "ended"


def ended_by_termination(
    policy: dict[str, Any], deal: dict[str, Any], partner: dict[str, Any]
) -> dict[str, Any] | None:
    """PA-13.3 "On termination: [...] deal registrations end" (CPA-13.3 "registrations end"): a pending or approved
    registration of a terminated partner is over. It is never approved, no longer bars other partners (PA-5.5 "other
    Partners may register the opportunity afresh") and is not extended. None while the partner is not terminated."""
    if partner.get("status") != "terminated" or deal["status"] not in (PENDING, APPROVED):
        return None
    rule = onboarding(policy)["termination"]  # the rule the partner was terminated under
    return {
        "rule_id": rule["id"],
        "clause": rule["clause"],
        "message": f"the partner was terminated: its deal registrations end ({rule['clause']})",
    }


def view(
    deal: dict[str, Any], now: str, hold: dict[str, Any] | None = None, ended: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What callers see: a registration of a terminated partner reads as ended, with the clause (PA-13.3); an
    approved registration past its exclusivity reads as expired; one in a family whose certification expired reads
    as suspended or lapsed, with the hold (PA-4.3(d) / CPA-4.3(d))."""
    if deal.get("expires_at"):  # the period's last instant as it is read (a record stored before 1.56.3 included)
        deal = {**deal, "expires_at": ends_at(deal["expires_at"])}
    if ended is not None:
        return {**deal, "status": ENDED, "ended": ended}
    if deal["status"] == APPROVED and not is_live(deal, now):
        return {**deal, "status": "expired"}
    if hold is not None:
        return {**deal, "status": hold["status"], "certification_hold": hold}
    return deal


def eligibility_problems(
    policy: dict[str, Any], *, partner_status: str, entitled: bool, certified: bool, family: str, tier: str
) -> list[dict[str, str]]:
    """Why a partner may not register a deal for this family (empty: it may)."""
    rules = policy["deal_registration"]
    eligibility = rules["eligibility"]
    cite = {"rule_id": eligibility["id"], "clause": eligibility["clause"]}
    problems = []
    if partner_status != "active":
        problems.append({**cite, "message": f"partner is {partner_status}, not active"})
    if not entitled:
        problems.append({**cite, "message": f"tier {tier} carries no {eligibility['entitlement']} entitlement"})
    if not certified and not certification_exempt(eligibility, family, tier):
        problems.append({**cite, "message": f"no valid certification for {family}"})
    return problems


def problem_fields(problems: list[dict[str, str]]) -> list[FieldError]:
    """The request field each eligibility problem is about: a missing or lapsed certification is the family's
    (`/family`), the partner's status and its tier's entitlement the partner's (`/partner_id`)."""
    return [FieldError("/family" if "certification" in p["message"] else "/partner_id", p["message"]) for p in problems]


def registration_problems(
    policy: dict[str, Any], partner: dict[str, Any], family: str, now: str
) -> list[dict[str, str]]:
    """Why this partner may not register a deal for `family` now (empty: it may): the eligibility rule (status,
    entitlement, certification), PA-4.3(b) / CPA-4.3(b) (one there expired, no other valid); unknown family: 422."""
    eligibility = policy["deal_registration"]["eligibility"]
    known = {c["product_family"] for c in policy.get("certifications", [])}
    if family not in (families := known | set(eligibility.get("certification_exempt_families", []))):
        raise RuleViolation(f"unknown product family {shown(family)}",
                            errors=[FieldError("/family", f"one of {', '.join(sorted(families))}")])
    day = parse_instant(now).date()
    entitled = partner_rules.entitlements(policy, partner, now)
    found = entitled.get("entitlements", entitled).get(eligibility["entitlement"])
    valid = partner_rules.valid_certifications(partner, day)
    certified = any(c["id"] in valid and c["product_family"] == family for c in policy.get("certifications", []))
    tier = partner_rules.effective_tier(policy, partner, day)
    problems = eligibility_problems(
        policy,
        partner_status=partner["status"],
        entitled=bool(found and found.get("entitled")),
        certified=certified,
        family=family,
        tier=tier["tier"] if tier else "none",
    )
    if family in partner_rules.barred_families(policy, partner, day):
        lapse = policy["onboarding"]["certification_lapse"]
        problems.append({
            "rule_id": lapse["id"],
            "clause": lapse["clause"],
            "message": f"the partner's certification for {family} has expired and it holds no other valid one",
        })
    uninsured = partner_rules.insurance_lapse(policy, partner, day) if partner["status"] == "active" else None
    if uninsured:  # PA-2.7 / CPA-2.4: suspended from new deal registrations at once, before the sweep records it
        problems.append(uninsured)
    return problems


def certification_exempt(eligibility: dict[str, Any], family: str, tier: str) -> bool:
    """CPA-5.1: "for Authorized Partners, for the collaboration and devices Product Families without certification"
    — the exemption holds for the families listed and, when tiers are listed, for those tiers only."""
    if family not in eligibility.get("certification_exempt_families", []):
        return False
    tiers = eligibility.get("certification_exempt_tiers")
    return tiers is None or tier in tiers


def conflict_rule(policy: dict[str, Any]) -> dict[str, Any]:
    """The clause that rejects a conflicting registration (PA-5.5 / CPA-5.4); older policies name only the
    one-per-customer rule."""
    rules = policy["deal_registration"]
    return dict(rules.get("conflict") or rules["one_per_customer_family"])


def conflict_reason(policy: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """Why a registration loses to a live one: the rule, the clause and when the winner's exclusivity ends — never
    who holds it (PA-5.5, PA-11.1)."""
    rule = conflict_rule(policy)
    ends = (
        f"Its exclusivity ends {live['expires_at'][:10]}; you may register again after that date"
        if not live.get("order")
        else f"Its period ended {live['expires_at'][:10]} but an order was accepted within it, so it does not expire "
        f"({policy['deal_registration']['order_accepted']['clause']}); you may register again only if it is withdrawn"
    )
    return {
        "rule_id": rule["id"],
        "clause": rule["clause"],
        "message": (
            f"another partner's approved registration for this customer and {live['family']} is in force; the first "
            f"approved registration wins ({rule['clause']}). {ends}"
        ),
        "exclusivity_ends": ends_at(live["expires_at"]),
    }


def conflict(policy: dict[str, Any], live: dict[str, Any] | None, partner_id: str) -> Conflict | None:
    """Another partner's live registration wins; the refused partner learns when it ends, never who holds it."""
    if live is None or live["partner_id"] == partner_id:
        return None
    reason = conflict_reason(policy, live)
    return Conflict(
        f"registration rejected: {reason['message']}",
        extra={
            "exclusivity_ends": reason["exclusivity_ends"],
            "rule_id": reason["rule_id"],
            "clause": reason["clause"],
            "reasons": [{k: reason[k] for k in ("rule_id", "clause", "message")}],
        },
    )


OUT_OF_ORDER = "out_of_order"


def _submitted(deal: dict[str, Any]) -> tuple[str, str]:
    return (str(deal["registered_at"]), str(deal["deal_id"]))


def earlier_pending(deal: dict[str, Any], same_opportunity: list[dict[str, Any]]) -> dict[str, Any] | None:
    """PA-5.5 / CPA-5.4: "Pending registrations are decided in order of submission time": the first registration of
    another partner for the same customer and family that was submitted before `deal` and is still pending, or None.
    Submission order is `registered_at`, ties broken by id (the store's order)."""
    waiting = [
        other
        for other in same_opportunity
        if other["status"] == PENDING
        and other["partner_id"] != deal["partner_id"]
        and _submitted(other) < _submitted(deal)
    ]
    return min(waiting, key=_submitted) if waiting else None


def out_of_order(policy: dict[str, Any], earlier: dict[str, Any]) -> Conflict:
    """The reviewer decided a registration while another partner's, submitted earlier for the same customer and
    family, still waits: refused (and recorded as a refused governance action), naming the one to decide first."""
    rule = conflict_rule(policy)
    return Conflict(
        f"pending registrations for this customer and {earlier['family']} are decided in order of submission "
        f"({rule['clause']}): decide {earlier['deal_id']}, submitted {earlier['registered_at']}, first",
        extra={
            "refusal": OUT_OF_ORDER,
            "rule_id": rule["id"],
            "clause": rule["clause"],
            "decide_first": earlier["deal_id"],
        },
    )


def rejected_for_conflict(deal: dict[str, Any], reason: dict[str, Any], at: str) -> dict[str, Any]:
    """A pending registration that lost to a live one: rejected, with the clause and the reason it may read."""
    return rejected_for_cause(deal, {k: reason[k] for k in ("rule_id", "clause", "message", "exclusivity_ends")}, at)


def rejected_for_cause(deal: dict[str, Any], reason: dict[str, Any], at: str) -> dict[str, Any]:
    """A pending registration a rule rejects whatever the reviewer asked (`reason`: rule_id, clause, message)."""
    return {**moved_to(deal, REJECTED), "decided_at": at, "rejection_reason": reason["message"],
            "rejection": dict(reason)}


def decided(deal: dict[str, Any], outcome: str, at: str, policy: dict[str, Any]) -> dict[str, Any]:
    moved = moved_to(deal, outcome)
    if outcome == APPROVED:
        days = int(policy["deal_registration"]["exclusivity"]["days"])
        moved = {**moved, "approved_at": at, "expires_at": period_end(at, days)}
    return moved


def moved_to(deal: dict[str, Any], status: str) -> dict[str, Any]:
    allowed = _NEXT.get(deal["status"], set())
    if status not in allowed:
        raise Conflict(
            f"deal registration {deal['deal_id']} is {deal['status']}; it cannot become {status}",
            extra={"current_status": deal["status"], "allowed_next": sorted(allowed)},
        )
    return {**deal, "status": status}


def check_dates(expected_close: str, registered_on: str, max_days: int = 180) -> None:
    """The expected close date is not past and falls within the policy's window (PA-5.1: 180 days; CPA-5.1: 120)."""
    close, today = datetime.fromisoformat(expected_close), datetime.fromisoformat(registered_on[:10])
    if close < today:
        raise RuleViolation(f"expected_close {expected_close} is in the past",
                            errors=[FieldError("/expected_close", f"on or after {today.date().isoformat()}")])
    if (close - today).days > max_days:
        raise RuleViolation(f"expected_close must be within {max_days} days of registration",
                            errors=[FieldError("/expected_close", f"within {max_days} days")])


# --- PA-5.5 / CPA-5.4 submission order, read consistently ----------------------------------------------------
def queue_entry(deal: dict[str, Any]) -> dict[str, str]:
    """What the per-opportunity queue keeps of a pending registration: enough to order and name it."""
    return {
        "deal_id": deal["deal_id"],
        "partner_id": deal["partner_id"],
        "family": deal["family"],
        "registered_at": deal["registered_at"],
        "status": PENDING,
    }


def queue_with(queue: list[dict[str, Any]], deal: dict[str, Any]) -> list[dict[str, Any]]:
    """The pending queue with `deal` added (once), in order of submission."""
    kept = [entry for entry in queue if entry["deal_id"] != deal["deal_id"]]
    return sorted([*kept, queue_entry(deal)], key=_submitted)


def queue_without(queue: list[dict[str, Any]], deal_id: str) -> list[dict[str, Any]]:
    """The pending queue once `deal_id` is decided or withdrawn."""
    return [entry for entry in queue if entry["deal_id"] != deal_id]
