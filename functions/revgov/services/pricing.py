"""Quote checks: gather the facts at quote time, evaluate the pure core, store the decision, open approvals."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..domain import audience, deal_evidence, pricing, quote_validity
from ..domain import cases as case_rules
from ..domain import partners as partner_rules
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.canonical import Canonical
from ..domain.cases import SAME_PERSON
from ..domain.errors import FieldError, Forbidden, NotFound, RuleViolation
from ..domain.partners import screening, territory
from ..domain.time import parse_instant
from ..ports import Changes, DomainEvent
from ..runtime import Runtime
from . import billing, cases, deals, decision_repository, decisions, key_lineage
from .catalog import price_lines, tenant_catalog
from .partners import load_partner
from .renewal_quotes import renewal_facts
from .tenants import load_tenant, policy_at

PRICING_EFFECT = "pricing.approval"


def evaluate(policy: dict[str, Any], version: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The pure evaluation from stored inputs: what a check computes, and what a replay recomputes.

    The inputs hold the catalog items the lines were priced from (`catalog.items`, by SKU), so a replay needs no
    catalog. Decisions stored before that carried the prices on their lines and were computed with the net unit
    price rounded first (`arithmetic` absent): they replay as they were made.
    """
    facts = inputs["partner"]
    quote = inputs["quote"]
    catalog = inputs.get("catalog")
    if catalog is not None:
        items = catalog["items"]
        quote = {**quote, "lines": [{**line, **_priced(items[line["sku"]])} for line in quote["lines"]]}
    certified = frozenset(facts["certified_families"])
    # Decisions recorded before `barred_families` existed barred every uncertified family: replay them as made.
    families = {c["product_family"] for c in policy.get("certifications", [])}
    barred = frozenset(facts["barred_families"]) if "barred_families" in facts else frozenset(families - certified)
    area = facts.get("territory")  # absent from decisions recorded before PA-2.6 was checked on quotes
    partner = pricing.PartnerFacts(facts["partner_id"], facts["status"], facts["tier"], certified, barred,
                                   tuple(area) if area is not None else None)
    # The partner's own registrations giving the discount, by family (PA-5.6 / CPA-5.5: the holder receives it).
    # Decisions recorded before that held only the one the quote named (`registration`): they replay as made.
    if "registrations" in inputs:
        own = {family: pricing.Registration(**reg) for family, reg in inputs["registrations"].items()}
    else:
        named = inputs.get("registration")
        own = {named["family"]: pricing.Registration(**named)} if named else {}
    rivals = {family: pricing.Registration(**reg) for family, reg in inputs.get("rivals", {}).items()}
    arithmetic = inputs.get("arithmetic", pricing.UNIT_ROUNDING)
    # Decisions recorded before 1.52.0 did not say why a held registration gave no discount: they replay as made.
    return pricing.check_quote(policy, version, quote, partner, own, rivals, arithmetic=arithmetic,
                               renewal=inputs.get("renewal"), cite_registration="registrations" in inputs,
                               withheld=inputs.get("withheld_registrations"))


def _priced(item: dict[str, str]) -> dict[str, str]:
    return {"family": item["family"], "list_price": item["list_price"], "unit_cost": item["unit_cost"]}


def partner_facts(policy: dict[str, Any], partner: dict[str, Any], at: str) -> dict[str, Any]:
    """Status, the tier held on the quote date and the families certified on it. The tier sets the discount caps
    (PA-3.1: "The tier determines the Partner's discount caps under PA-6.2"; CPA-2.1) and a lapsed certification
    lowers it only at the downgrade (PA-3.7: after 90 consecutive days, CPA-3.6: 60, from the next Billing Month);
    what it takes away at once are Section 9 entitlements (PA-4.3(a), CPA-4.3(a)) and the family (PA-4.3(b))."""
    day = parse_instant(at).date()
    tier = partner_rules.held_tier(policy, partner, day)
    # PA-2.7 / CPA-2.4: an insurance certificate not renewed within the grace days suspends new quotes at once (the
    # partner-lifecycle sweep records the suspension; a quote does not wait for it)
    insured = partner["status"] != "active" or partner_rules.insurance_lapse(policy, partner, day) is None
    families = {c["id"]: c["product_family"] for c in policy.get("certifications", [])}
    certified = sorted({families[c] for c in partner_rules.valid_certifications(partner, day) if c in families})
    status = partner["status"] if insured else "suspended"
    if status == "active" and screening.held_by(policy, partner) is not None:
        status = pricing.SCREENING_HELD  # PA-2.8 / CPA-2.8: held until Legal resolves the match
    return {
        "partner_id": partner["partner_id"],
        "status": status,
        "tier": tier["tier"] if tier else "none",
        "certified_families": certified,
        "barred_families": sorted(partner_rules.barred_families(policy, partner, day)),
        # PA-2.6 / CPA-2.5: a Regional Reseller quotes inside its declared territory (None: not limited to one)
        "territory": list(territory.declared(partner)) if territory.bound(partner) else None,
    }


def check(rt: Runtime, who: Principal, quote: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/pricing/check: gather the facts at quote time, evaluate, and store the decision with the approvals it
    needs, its audit record and its `quote.checked` event in one commit."""
    tenant, _ = load_tenant(rt, who.tenant_id)
    policy, version = tenant.policy, tenant.policy_version
    if not who.sees_partner(quote["partner_id"]):
        raise NotFound(f"no partner {quote['partner_id']}")
    now = rt.clock.now_iso()
    inputs = _inputs(rt, who.tenant_id, policy, quote, now)
    result = evaluate(policy, version, inputs)
    decision_id = rt.ids.new("dec")
    decision = decisions.new_decision(
        decision_id=decision_id,
        kind="pricing",
        subject={"kind": "quote", "id": str(quote.get("quote_ref") or decision_id)},
        partner_id=quote["partner_id"],
        policy_version=version,
        inputs=inputs,
        result=result,
        actor=who,
        at=now,
    )
    opened, changes = _open_approvals(rt, who, policy, decision)
    decision["approvals"] = [o["approval_id"] for o in opened]
    made = Canonical.of(inputs)  # serialised once: for the stored body, the audit inputs and the audit hash
    changes.puts.extend(decision_repository.puts(decision, made))
    changes.audit.insert(0, _checked(who, decision, made))
    changes.events.append(
        DomainEvent(
            "revgov.pricing",
            "quote.checked",
            {
                "decision_id": decision_id,
                "partner_id": quote["partner_id"],
                "outcome": result["outcome"],
                "net_total": result["totals"]["net_total"],
                "approvals": decision["approvals"],
            },
        )
    )
    rt.commit(who.tenant_id, changes)
    if who.role is Role.PARTNER:
        wording = _partner_wording(pricing.pricing_index(policy, version))
        return response(audience.partner_decision(decision, wording), opened)
    return response(decision, opened)


def _locate(policy: dict[str, Any], partner: dict[str, Any], quote: dict[str, Any]) -> None:
    """PA-2.6 / CPA-2.5: a Regional Reseller's quote states where the customer is (`customer.country`), as its
    registrations do; without it the territory cannot be checked: 422 naming /customer/country, nothing recorded."""
    rule = policy["deal_registration"].get("territory")
    missing = deal_evidence.location_errors(rule, partner, quote["customer"])
    if missing and rule is not None:
        found = territory.problem(rule, partner, None)
        raise RuleViolation("the customer's location is needed to check the partner's territory", errors=missing,
                            extra={"reasons": [found] if found else []})


def _refuse_unknown(policy: dict[str, Any], quote: dict[str, Any]) -> None:
    """Promotion codes the policy does not know, and line ids repeated within the quote, are refused (422)."""
    known = {p["code"] for p in policy["pricing"].get("promotions", [])}
    unknown = [(i, code) for i, code in enumerate(quote.get("promotions", [])) if code not in known]
    if unknown:
        raise RuleViolation(f"unknown promotion code(s): {', '.join(code for _, code in unknown)}", errors=[
            FieldError(f"/promotions/{i}", f"{code} is not a promotion of this tenant's policy")
            for i, code in unknown])
    first: dict[str, int] = {}
    repeated = []
    for i, line in enumerate(quote["lines"]):
        line_id = str(line["line_id"])
        if line_id in first:
            repeated.append(FieldError(f"/lines/{i}/line_id",
                                       f"line_id {line_id} is already that of /lines/{first[line_id]}"))
        first.setdefault(line_id, i)
    if repeated:
        raise RuleViolation("line_id values must be unique within a quote", errors=repeated)


def _inputs(rt: Runtime, tenant_id: str, policy: dict[str, Any], quote: dict[str, Any], now: str) -> dict[str, Any]:
    """Everything the evaluation reads, as recorded on the decision for replay: the quote, the catalog items its lines
    are priced from on the quote date, the partner's facts, the registration the quote named, the partner's own
    registrations giving the discount and other partners' live ones."""
    partner, _ = load_partner(rt, tenant_id, quote["partner_id"])
    _refuse_unknown(policy, quote)
    _locate(policy, partner, quote)
    quote_date = now[:10]
    catalog = tenant_catalog(rt, tenant_id, policy)
    items = price_lines(catalog, quote["lines"], quote_date, policy["pricing"].get("price_list_only"))
    customer_id = quote["customer"]["id"]
    named = None
    if quote.get("deal_registration_id"):  # a registration the quote names must be the partner's and give it now
        named = deals.registration_for_quote(
            rt, tenant_id, quote["deal_registration_id"], quote["partner_id"], customer_id, now, policy
        )
    renewal = renewal_facts(rt, tenant_id, quote)  # the subscription a renewal quote renews (None: no renewal)
    families = sorted({item.family for item in items.values()})
    # PA-5.6 / CPA-5.5: the holder of a registration of this customer and family receives its discount, named or not;
    # PA-5.3 / CPA-5.2: only the registering partner does. A renewal of a subscription the ERP named no customer for
    # cannot be shown to be the registered Customer's: no discount (as naming one there is refused).
    own, rivals, withheld = deals.quote_registrations(rt, tenant_id, customer_id, families, partner, now, policy)
    if renewal is not None and not renewal.get("customer_id"):
        own, withheld = {}, {}
    if named is not None and named["family"] in families:
        # validated above; a group registration approved before each company got its own lock is found only by name
        own[named["family"]] = named
    return {
        **({"renewal": renewal} if renewal else {}),
        "quote": {
            **{k: v for k, v in quote.items() if k != "deal_registration_id"},
            "quote_date": quote_date,
            "customer_id": customer_id,
        },
        "catalog": {"version": catalog.version, "items": {sku: item.facts() for sku, item in sorted(items.items())}},
        "arithmetic": pricing.LINE_ROUNDING,
        "partner": partner_facts(policy, partner, now),
        "registration": named,  # the one the quote named (None: none)
        "registrations": own,
        "withheld_registrations": withheld,  # the partner's own, held under PA-4.3(d) / CPA-4.3(d): why no discount
        "rivals": rivals,
    }


def _open_approvals(
    rt: Runtime, who: Principal, policy: dict[str, Any], decision: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], Changes]:
    """One approval per category the result needs, each citing the reasons of its category (and the uncategorised)."""
    result, decision_id = decision["result"], decision["decision_id"]
    changes = Changes()
    opened = []
    for category in result["approval_categories"]:
        reasons = [r for r in result["reasons"] if _category_of(result, r) in (category, None)]
        case, case_changes = cases.open_case(
            rt,
            policy,
            kind="approval",
            category=category,
            subject_kind="decision",
            subject_id=decision_id,
            requested_by=who,
            reasons=reasons[:20],
            risk_score=_risk(result),
            partner_id=decision["partner_id"],
            effect=PRICING_EFFECT,
            context={"decision_id": decision_id, "net_total": result["totals"]["net_total"]},
            policy_version=decision["policy_version"],
        )
        opened.append(
            {"approval_id": case["case_id"], "category": category, "queue": case["queue"], "due_at": case["due_at"]}
        )
        changes.merge(case_changes)
    return opened, changes


def _checked(who: Principal, decision: Mapping[str, Any], inputs: Canonical) -> AuditEntry:
    """The check's audit record: its inputs (or their hash when too large), the rules and clauses it applied."""
    reasons = decision["result"]["reasons"]
    return AuditEntry.by(
        who,
        "pricing.checked",
        decision["decision_id"],
        decision["result"]["outcome"],
        inputs=decisions.audit_inputs(decision["decision_id"], inputs),
        policy_version=decision["policy_version"],
        rule_ids=dict.fromkeys(r["rule_id"] for r in reasons),
        clauses=dict.fromkeys(r["clause"] for r in reasons),
        partner_id=decision["partner_id"],
    )


def partner_view(rt: Runtime, who: Principal, decision: dict[str, Any]) -> dict[str, Any]:
    """The decision as `who` may read it: staff the whole record, a partner no rival, no cost, no margin."""
    if who.role is not Role.PARTNER:
        return decision
    policy, version = _policy_of(rt, who.tenant_id, decision["policy_version"])
    wording = _partner_wording(pricing.pricing_index(policy, version))
    return audience.partner_decision(decision, wording)


def _policy_of(rt: Runtime, tenant_id: str, version: str) -> tuple[dict[str, Any], str]:
    """The policy a decision was made under, or the tenant's current one when that version is no longer kept."""
    try:
        return policy_at(rt, tenant_id, version), version
    except NotFound:
        tenant, _ = load_tenant(rt, tenant_id)
        return tenant.policy, tenant.policy_version


def response(decision: Mapping[str, Any], approvals: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    result = decision["result"]
    return {
        "decision_id": decision["decision_id"],
        "policy_version": decision["policy_version"],
        "outcome": decision["outcome"],
        "status": decision["status"],
        "partner_id": decision["partner_id"],
        "approver_roles": sorted({a["queue"] for a in approvals or []}),
        "approvals": approvals or [],
        "lines": result["lines"],
        "totals": result["totals"],
        "findings": result["findings"],
        "reasons": result["reasons"],
        **({"renewal": result["renewal"]} if "renewal" in result else {}),
    }


def _category_of(result: dict[str, Any], reason: dict[str, Any]) -> str | None:
    for finding in result["findings"] + [f for line in result["lines"] for f in line["findings"]]:
        if finding["rule_id"] == reason["rule_id"] and finding["message"] == reason["message"]:
            category: str | None = finding.get("category")
            return category
    return None


def _risk(result: dict[str, Any]) -> int:
    """0–100: how far the quote leans on exceptions (categories) and how thin its margin is."""
    margin = result["totals"].get("margin_percent")
    thin = 0 if margin is None else max(0, 30 - int(Decimal(margin)))
    return min(100, 20 * len(result["approval_categories"]) + thin)


def _two_people(rt: Runtime, who: Principal, case: dict[str, Any], others: list[dict[str, Any]]) -> None:
    """SOP-4.3 / COP-4.3: "Where a request needs two approvals, for example Channel Operations and Finance under
    PA-6.6, they must be given by two different people". Another approval of the same quote, of another queue or of
    the same one (a quote above 25% off with a margin under the floor needs two of finance's, PA-6.6 (b) and (c)),
    given by whoever holds this key (the same key, or one minted for the purpose: services/key_lineage.py) is
    refused."""
    for other in others:
        given = other.get("decision") or {}
        other_key = str(given.get("by") or "").partition(":")[2]
        if other["case_id"] == case["case_id"] or other["status"] != "approved" or not other_key.startswith("key_"):
            continue
        if key_lineage.same_person(rt, who.tenant_id, (who.key_id, case["opened_at"]),
                                   (other_key, other["opened_at"])):
            tenant, _ = load_tenant(rt, who.tenant_id)
            rule = tenant.policy["exception_routing"].get("segregation_of_duties") or {
                "id": case["reasons"][0]["rule_id"], "clause": case["reasons"][0]["clause"]}
            raise Forbidden(
                f"segregation of duties: this quote's {other['category']} approval ({other['queue']}) was given by "
                "whoever holds this key; "
                f"its two approvals must be given by two different people ({rule['clause']})",
                extra={"refusal": SAME_PERSON, "rule_id": rule["id"], "clause": rule["clause"]},
            )


def _expired(rt: Runtime, tenant_id: str, decision: dict[str, Any]) -> dict[str, str] | None:
    """The reason an approval given now approves nothing because the quote has expired (PA-6.1 / PA-6.6, SOP-4.4;
    CPA-6.1 / CPA-6.6, COP-4.4), or None while the quote is valid (or the policy has no such rule)."""
    pricing_policy = _policy_of(rt, tenant_id, decision["policy_version"])[0]["pricing"]
    rule = pricing_policy.get("quote_approval_expiry")
    days = int(pricing_policy.get("quote_validity_days", 30))
    if rule is None or not quote_validity.expired(decision["created_at"], days, rt.clock.now_iso()):
        return None
    return quote_validity.expiry_reason(rule, decision["created_at"], days)


def _lapsed(rt: Runtime, tenant_id: str, decision: dict[str, Any]) -> dict[str, str] | None:
    """The reason an approval given now approves nothing because the partner's certification for a family the quote
    prices has expired with no other valid one held (PA-4.3(c) "quotes for that Product Family that have not been
    converted to an order are invalid"; CPA-4.3(c) "open quotes of that Product Family that have not become orders
    lapse"), or None."""
    policy = _policy_of(rt, tenant_id, decision["policy_version"])[0]
    rule = policy["pricing"].get("certification_required")
    if rule is None:
        return None
    partner, _ = load_partner(rt, tenant_id, decision["partner_id"])
    day = parse_instant(rt.clock.now_iso()).date()
    families = {str(line["family"]) for line in decision["result"]["lines"]}
    barred = sorted(families & partner_rules.barred_families(policy, partner, day))
    if not barred:
        return None
    ended = ", ".join(f"{f} on {partner_rules.family_expired_on(policy, partner, f, day)}" for f in barred)
    return {"rule_id": rule["id"], "clause": rule["clause"],
            "message": f"the partner's certification expired ({ended}) and it holds no other valid one in that family: "
                       f"the quote, not yet an order, has lapsed with it ({rule['clause']}); its approvals approve "
                       "nothing"}


def _not_held(rt: Runtime, tenant_id: str, decision: dict[str, Any]) -> None:
    """PA-2.8 / CPA-2.8: no quote is processed for a partner while a screening match holds it, one checked before
    the match included: its approval is refused (a RuleViolation naming the hold) and waits for Legal."""
    partner, _ = load_partner(rt, tenant_id, decision["partner_id"])
    screening.refuse_while_held(load_tenant(rt, tenant_id)[0].policy, partner, f"quote {decision['decision_id']}")


def _partner_active(rt: Runtime, tenant_id: str, decision: dict[str, Any]) -> None:
    """PA-13.2 / CPA-13.2: a suspended partner is suspended "from new quotes" (and a terminated one's agreement has
    ended, PA-13.3): the check of either is denied under `partner_must_be_active`, and so is the approval of a quote
    checked before (a RuleViolation naming that rule): a suspended partner's quote waits for the suspension to be
    lifted (or expires as any other)."""
    partner, _ = load_partner(rt, tenant_id, decision["partner_id"])
    status = partner.get("status")
    if status not in ("suspended", "terminated"):
        return
    rule = _policy_of(rt, tenant_id, decision["policy_version"])[0]["pricing"]["partner_must_be_active"]
    raise RuleViolation(
        f"quote {decision['decision_id']} is not approved: partner {decision['partner_id']} is {status} "
        f"({rule['id']}, {rule['clause']}: only an active partner's quotes are processed)",
        extra={"rule_id": rule["id"], "clause": rule["clause"], "partner_status": status},
    )


def apply_approval(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes | cases.Resolved:
    """An approval of a quote decided: all approved → the same decision becomes allow; one rejected → deny. An
    approval given after the quote expired, or after it lapsed with the partner's certification for one of its
    families (PA-4.3(c) / CPA-4.3(c)), approves nothing: it resolves as a rejection citing that rule, and the quote is
    denied (a new check gives a new quote). An approval while a screening match holds the partner is refused
    (PA-2.8 / CPA-2.8 "no quote ... processed"): the quote waits for Legal; so is one while the partner is suspended
    or terminated (PA-13.2 / CPA-13.2 "new quotes"; `_partner_active`)."""
    decision_id = case["subject"]["id"]
    stored = decisions.head(rt, who.tenant_id, decision_id)
    decision = stored.data
    others = [c for c in (cases.find(rt, who.tenant_id, cid) for cid in decision["approvals"]) if c is not None]
    resolved: case_rules.Case | None = None
    if case["status"] == "approved":
        _two_people(rt, who, case, [c.data for c in others])
        _not_held(rt, who.tenant_id, decision)
        _partner_active(rt, who.tenant_id, decision)
        expiry = _expired(rt, who.tenant_id, decision) or _lapsed(rt, who.tenant_id, decision)
        if expiry is not None:
            resolved = case_rules.resolved_otherwise(case, "rejected", expiry)
            case = dict(resolved)
    statuses = {c.data["case_id"]: c.data["status"] for c in others} | {case["case_id"]: case["status"]}
    history = [
        *decision["history"],
        {
            "approval_id": case["case_id"],
            "outcome": "expired" if resolved else case["status"],
            "by": who.actor,
            "at": rt.clock.now_iso(),
        },
    ]
    if case["status"] == "rejected":
        outcome, status = "deny", "rejected"
    elif all(s == "approved" for s in statuses.values()):
        outcome, status = "allow", "approved"
    else:
        outcome, status = decision["outcome"], decision["status"]
    updated = {**decision, "outcome": outcome, "status": status, "history": history}
    changes = Changes(puts=[decision_repository.put(updated, version=stored.version)])
    if status != decision["status"]:
        cited = [*case["reasons"], *([case["decision"]["resolved_by_rule"]] if resolved else [])]
        changes.audit.append(
            AuditEntry.by(
                who,
                f"pricing.{status}",
                decision_id,
                outcome,
                inputs={"approvals": statuses},
                policy_version=decision["policy_version"],
                rule_ids=[r["rule_id"] for r in cited],
                clauses=[r["clause"] for r in cited],
            )
        )
        changes.events.append(
            DomainEvent("revgov.pricing", f"quote.{status}", {"decision_id": decision_id, "outcome": outcome})
        )
        # a renewal quote: the renewal its ERP event recorded is billed (approved) or lost (rejected) from now on
        policy = _policy_of(rt, who.tenant_id, decision["policy_version"])[0]
        changes.merge(billing.settle_decided(rt, who.tenant_id, decision, status, rt.clock.now_iso(), policy))
    return cases.Resolved(changes, resolved) if resolved is not None else changes


def _partner_wording(index: pricing.PricingIndex) -> dict[str, str]:
    """Rule id -> what a partner reads instead of a finding that states the Distributor's cost or margin."""
    return {
        index.margin_rule.rule_id: "the line margin is below the floor; Finance reviews the line",
        index.below_cost_rule.rule_id: "the net price is below the Distributor's cost; the line cannot be approved",
    }
