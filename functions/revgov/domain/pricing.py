"""Quote checks: tier caps, stacking, margin floor, certifications, channel conflict and terms → one decision.

Pure and deterministic: the same quote, facts and policy give the same decision byte for byte, so a stored
decision can be replayed as of the policy version it was made under. The policy is compiled once per
version into dictionaries (`PricingIndex`), so checking a line costs lookups, not a scan of every rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from .compiled import PerVersion
from .deal_holds import withheld_reason
from .money import format_money, format_unit_price, less_percent, line_amount, round_money
from .partners import territory as territories
from .rules import Rule
from .subscription_renewals import CATEGORY as RENEWAL_CATEGORY
from .subscription_renewals import assess as assess_renewal

HUNDRED = Decimal(100)
PCT = Decimal("0.01")
ALLOW, APPROVAL, DENY = "allow", "approval_required", "deny"
# How line amounts are computed. LINE_ROUNDING is the contracts' rule (PA-1.3, CPA-1.3). UNIT_ROUNDING (the net unit
# price rounded, then multiplied) is what decisions stored before that fix were computed with: replay only.
LINE_ROUNDING, UNIT_ROUNDING = "line", "unit"
_SEVERITY = {ALLOW: 0, APPROVAL: 1, DENY: 2}


@dataclass(frozen=True)
class Promotion:
    code: str
    percent: Decimal
    families: frozenset[str]
    starts_on: str
    ends_on: str
    exclusive: bool
    rule: Rule


@dataclass(frozen=True)
class PricingIndex:
    """A pricing policy compiled for lookups. Built once per policy version."""

    caps: dict[tuple[str, str], Decimal]
    cap_rule: Rule
    max_combined: Decimal
    max_combined_rule: Rule
    finance_threshold: Decimal
    finance_rule: Rule
    margin_floor: Decimal
    margin_rule: Rule
    below_cost_rule: Rule
    stacking: str
    stacking_rule: Rule
    registration_discount: Decimal
    registration_rule: Rule
    conflict_rule: Rule
    promotions: dict[str, Promotion]
    exclusive_rule: Rule
    # `promotion_validity`: None, or the rule under which a quote issued on a promotion's end date does not get it
    # (PA-6.4: "only to quotes issued before its end date"; CPA-6.4's "within its campaign dates" includes it)
    end_date_excluded: Rule | None
    standard_terms: dict[str, frozenset[int]]
    default_terms: frozenset[int]
    max_payment_days: int | None
    terms_rule: Rule
    partner_status_rule: Rule
    onboarded_rule: Rule  # PA-2.2: a partner not onboarded yet may not quote (else partner_status_rule)
    screening_rule: Rule  # PA-2.8 / CPA-2.8: a partner held by a screening match may not quote
    certification_rule: Rule
    quote_validity_days: int


def compile_pricing(pricing: dict[str, Any]) -> PricingIndex:
    caps = pricing["discount_caps"]
    stacking = pricing["stacking"]
    terms = pricing["payment_terms"]
    promotions = {
        p["code"]: Promotion(
            p["code"],
            Decimal(p["percent"]),
            frozenset(p["families"]),
            p["starts_on"],
            p["ends_on"],
            bool(p.get("exclusive", False)),
            Rule.of(p),
        )
        for p in pricing.get("promotions", [])
    }
    return PricingIndex(
        caps={
            (tier, family): Decimal(pct)
            for tier, by_family in caps["caps"].items()
            for family, pct in by_family.items()
        },
        cap_rule=Rule.of(caps),
        max_combined=Decimal(stacking["max_combined_percent"]),
        max_combined_rule=Rule(stacking["max_combined_id"], stacking["clause"]),
        finance_threshold=Decimal(pricing["finance_approval"]["above_percent"]),
        finance_rule=Rule.of(pricing["finance_approval"]),
        margin_floor=Decimal(pricing["margin_floor"]["percent"]),
        margin_rule=Rule.of(pricing["margin_floor"]),
        below_cost_rule=Rule.of(pricing["below_cost"]),
        stacking=stacking["mode"],
        stacking_rule=Rule.of(stacking),
        registration_discount=Decimal(pricing["registration_discount"]["percent"]),
        registration_rule=Rule.of(pricing["registration_discount"]),
        conflict_rule=Rule.of(pricing["channel_conflict"]),
        promotions=promotions,
        exclusive_rule=Rule.of(pricing["exclusive_promotions"]),
        end_date_excluded=_end_date_excluded(pricing.get("promotion_validity")),
        standard_terms={tier: frozenset(days) for tier, days in terms.get("standard_days_by_tier", {}).items()},
        default_terms=frozenset(terms["standard_days"]),
        max_payment_days=terms.get("max_days"),
        terms_rule=Rule.of(terms),
        partner_status_rule=Rule.of(pricing["partner_must_be_active"]),
        onboarded_rule=Rule.of(pricing.get("partner_must_be_onboarded") or pricing["partner_must_be_active"]),
        screening_rule=Rule.of(pricing.get("partner_screening_hold") or pricing["partner_must_be_active"]),
        certification_rule=Rule.of(pricing["certification_required"]),
        quote_validity_days=int(pricing.get("quote_validity_days", 30)),
    )


def _end_date_excluded(validity: dict[str, Any] | None) -> Rule | None:
    return Rule.of(validity) if validity and validity["end_date"] == "exclusive" else None


_COMPILED: PerVersion[PricingIndex] = PerVersion(lambda policy: compile_pricing(policy["pricing"]))


def pricing_index(policy: dict[str, Any], version: str) -> PricingIndex:
    """The compiled pricing policy, once per policy version (the version is the policy's content hash)."""
    return _COMPILED.get(policy, version)


# PartnerFacts.status of an active partner held by an unresolved compliance screening match (PA-2.8 / CPA-2.8)
SCREENING_HELD = "screening_held"


@dataclass(frozen=True)
class PartnerFacts:
    """What the check needs to know about the partner at quote time (taken from onboarding)."""

    partner_id: str
    status: str
    tier: str
    certified_families: frozenset[str]
    # Families barred by PA-4.3(b) / CPA-4.3(b): a certification the partner held there has expired and it holds no
    # other valid one there. A partner that never held one may quote (PA-3.2: the lowest tier "requires no
    # certification" and "may quote").
    barred_families: frozenset[str] = frozenset()
    # A Regional Reseller's declared territory (PA-2.6 / CPA-2.5); None: the partner type is not limited to one.
    territory: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Registration:
    """An approved, unexpired deal registration for one customer and product family."""

    registration_id: str
    partner_id: str
    customer_id: str
    family: str
    expires_at: str


@dataclass
class Finding:
    rule: Rule
    outcome: str
    message: str
    category: str | None = None  # the approval category this finding routes to

    def as_dict(self) -> dict[str, Any]:
        found = {
            **self.rule.as_dict(),
            "outcome": self.outcome,
            "message": self.message,
        }
        return found | ({"category": self.category} if self.category else {})


@dataclass
class LineResult:
    line_id: str
    findings: list[Finding] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        return max((f.outcome for f in self.findings), key=_SEVERITY.__getitem__, default=ALLOW)


def _unit(price: Decimal, arithmetic: str) -> str:
    return format_unit_price(price) if arithmetic == LINE_ROUNDING else format_money(price)


def _pct(value: Decimal) -> str:
    return f"{value.quantize(PCT):f}"


def combined_discount(components: list[Decimal], mode: str) -> Decimal:
    """Additive: percentages are summed. Compounding: each applies to what the previous ones left."""
    if mode == "additive":
        return sum(components, Decimal(0))
    remaining = Decimal(1)
    for pct in components:
        remaining *= 1 - pct / HUNDRED
    return (1 - remaining) * HUNDRED


Component = tuple[str, Decimal, Rule | None]  # (source, percent, the rule that grants it; None: discretionary)


class LineAmounts(NamedTuple):
    """A line's money: net unit price and total at the combined discount, its cost and its margin."""

    list_price: Decimal
    unit_cost: Decimal
    net_unit: Decimal
    net_total: Decimal
    cost_total: Decimal
    margin: Decimal


def _certification_required(index: PricingIndex, partner: PartnerFacts, family: str, on: str) -> list[Finding]:
    """PA-4.3(b) / CPA-4.3(b): no quote in a family whose certification expired with no other valid one there."""
    if family not in partner.barred_families:
        return []
    message = f"the partner's certification for {family} has expired and it holds no other valid one on {on}"
    return [Finding(index.certification_rule, DENY, message)]


def _promotions(index: PricingIndex, family: str, quote: dict[str, Any]) -> tuple[list[Promotion], list[Finding]]:
    """The quote's promotions that apply to the family on the quote date; one outside its dates is noted, not
    applied. Issued on the end date: applied unless the policy excludes the end date (PA-6.4)."""
    on = quote["quote_date"]
    applied: list[Promotion] = []
    findings: list[Finding] = []
    for code in quote.get("promotions", []):
        promo = index.promotions.get(code)
        if promo is None or family not in promo.families:
            continue  # unknown codes were refused before evaluation
        if not promo.starts_on <= on <= promo.ends_on:
            findings.append(Finding(promo.rule, ALLOW, f"promotion {code} is not valid on {on}; not applied"))
            continue
        if on == promo.ends_on and index.end_date_excluded is not None:
            message = (f"promotion {code} ends on {on} and applies only to quotes issued before its end date "
                       f"({index.end_date_excluded.clause}); not applied")
            findings.append(Finding(index.end_date_excluded, ALLOW, message))
            continue
        applied.append(promo)
    return applied, findings


def _exclusive_promotions(index: PricingIndex, applied: list[Promotion], registered: bool) -> list[Finding]:
    if any(p.exclusive for p in applied) and (len(applied) > 1 or registered):
        message = "an exclusive promotion cannot combine with another promotion or a registration discount"
        return [Finding(index.exclusive_rule, DENY, message)]
    return []


def _channel_conflict(
    index: PricingIndex, partner: PartnerFacts, family: str, rivals: dict[str, Registration]
) -> list[Finding]:
    """Another partner's live registration of this customer and family: the quote needs an approval."""
    rival = rivals.get(family)
    if rival is None or rival.partner_id == partner.partner_id:
        return []
    message = f"the customer is registered to another partner for {family} until {rival.expires_at[:10]}"
    return [Finding(index.conflict_rule, APPROVAL, message, "deal_registration_conflict")]


def _stacking(index: PricingIndex, combined: Decimal) -> list[Finding]:
    """`stacking.max_combined_percent`: a combined discount above the maximum is denied (no cap or finance check)."""
    if combined <= index.max_combined:
        return []
    message = f"combined discount {_pct(combined)}% exceeds the {_pct(index.max_combined)}% maximum"
    return [Finding(index.max_combined_rule, DENY, message)]


def _discount_caps(index: PricingIndex, tier: str, family: str, combined: Decimal) -> list[Finding]:
    """`discount_caps`: above the tier's cap for the family (or no cap for it), channel ops approves."""
    cap = index.caps.get((tier, family))
    if cap is None:
        message = f"no discount cap for tier {tier} and {family}"
    elif combined > cap:
        message = f"combined discount {_pct(combined)}% is above the {tier} cap of {_pct(cap)}% for {family}"
    else:
        return []
    return [Finding(index.cap_rule, APPROVAL, message, "discount_above_tier_cap")]


def _finance_approval(index: PricingIndex, combined: Decimal) -> list[Finding]:
    """`finance_approval.above_percent`: above it, Finance approves."""
    if combined <= index.finance_threshold:
        return []
    message = f"combined discount {_pct(combined)}% is above {_pct(index.finance_threshold)}%"
    return [Finding(index.finance_rule, APPROVAL, message, "discount_above_finance_threshold")]


def line_amounts(line: dict[str, Any], combined: Decimal, arithmetic: str) -> LineAmounts:
    quantity = Decimal(line["quantity"])
    list_price = Decimal(line["list_price"])
    unit_cost = Decimal(line["unit_cost"])
    if arithmetic == LINE_ROUNDING:  # PA-1.3 / CPA-1.3: percentages on the unrounded base, the line rounded once
        net_unit = less_percent(list_price, combined)
        net_total = line_amount(list_price, quantity, combined)
    else:  # UNIT_ROUNDING: how decisions made before the fix were computed; kept so that they replay identically
        net_unit = round_money(list_price * (1 - combined / HUNDRED))
        net_total = round_money(net_unit * quantity)
    margin = ((net_unit - unit_cost) / net_unit * HUNDRED) if net_unit > 0 else Decimal("-100")
    return LineAmounts(list_price, unit_cost, net_unit, net_total, round_money(unit_cost * quantity), margin)


def _below_cost(index: PricingIndex, amounts: LineAmounts, arithmetic: str) -> list[Finding]:
    """`below_cost`: a net price below the Distributor's cost is denied."""
    if amounts.net_unit >= amounts.unit_cost:
        return []
    message = f"net price {_unit(amounts.net_unit, arithmetic)} is below cost {format_money(amounts.unit_cost)}"
    return [Finding(index.below_cost_rule, DENY, message)]


def _margin_floor(index: PricingIndex, amounts: LineAmounts) -> list[Finding]:
    """`margin_floor`: a line margin under the floor, Finance approves."""
    if amounts.margin >= index.margin_floor:
        return []
    message = f"line margin {_pct(amounts.margin)}% is below the {_pct(index.margin_floor)}% floor"
    return [Finding(index.margin_rule, APPROVAL, message, "margin_below_floor")]


def _check_line(
    index: PricingIndex,
    line: dict[str, Any],
    partner: PartnerFacts,
    quote: dict[str, Any],
    registrations: Mapping[str, Registration],
    rivals: dict[str, Registration],
    arithmetic: str,
    cite_registration: bool, withheld: Mapping[str, Mapping[str, Any]],
) -> LineResult:
    result = LineResult(str(line["line_id"]))
    family = line["family"]
    result.findings += _certification_required(index, partner, family, quote["quote_date"])
    components: list[Component] = [("discretionary", Decimal(line.get("discount_percent", "0")), None)]
    own = registrations.get(family)
    registered = own is not None
    if own is not None:
        components.append(("registration", index.registration_discount, index.registration_rule))
    elif family in withheld:  # its own, held under PA-4.3(d) / CPA-4.3(d): the line says why it has none
        result.findings.append(Finding(**withheld_reason(withheld[family], index.registration_rule), outcome=ALLOW))
    applied, noted = _promotions(index, family, quote)
    components += [(f"promotion:{promo.code}", promo.percent, promo.rule) for promo in applied]
    result.findings += noted
    result.findings += _exclusive_promotions(index, applied, registered)
    result.findings += _channel_conflict(index, partner, family, rivals)
    combined = combined_discount([pct for _, pct, _ in components], index.stacking)
    result.findings += _stacking(index, combined) or [
        *_discount_caps(index, partner.tier, family, combined), *_finance_approval(index, combined)
    ]
    amounts = line_amounts(line, combined, arithmetic)
    result.findings += _below_cost(index, amounts, arithmetic) or _margin_floor(index, amounts)
    cap = index.caps.get((partner.tier, family))
    result.values = {
        "line_id": result.line_id,
        "sku": line["sku"],
        "family": family,
        "quantity": line["quantity"],
        "list_price": format_money(amounts.list_price),
        "discount_components": [
            {"source": source, "percent": _pct(pct)} | (rule.as_dict() if rule else {})
            | ({"registration_id": own.registration_id} if own and cite_registration and source == "registration"
               else {})
            for source, pct, rule in components
        ],
        "combined_discount_percent": _pct(combined),
        "tier_cap_percent": _pct(cap) if cap is not None else None,
        "net_unit_price": _unit(amounts.net_unit, arithmetic),
        "net_total": format_money(amounts.net_total),
        "cost_total": format_money(amounts.cost_total),
        "margin_percent": _pct(amounts.margin),
    }
    return result


def _partner_must_be_active(index: PricingIndex, partner: PartnerFacts) -> list[Finding]:
    """Only an active partner quotes: a suspended or terminated one is denied under `partner_must_be_active`
    (PA-13.2), one whose onboarding is not verified yet under `partner_must_be_onboarded` (PA-2.2), an active one held
    by an unresolved screening match under `partner_screening_hold` (PA-2.8 "no quote, order or incentive may be
    processed for the Partner while the match is unresolved"; CPA-2.8 "until Legal resolves it")."""
    if partner.status == "active":
        return []
    if partner.status == SCREENING_HELD:
        return [Finding(index.screening_rule, DENY, "a compliance screening match is unresolved: no quote is "
                                                    "processed for the partner until Legal resolves it")]
    rule = index.partner_status_rule if partner.status in ("suspended", "terminated") else index.onboarded_rule
    return [Finding(rule, DENY, f"partner is {partner.status}, not active")]


def _territory(policy: dict[str, Any], partner: PartnerFacts, quote: dict[str, Any]) -> list[Finding]:
    """PA-2.6: "Quotes, orders and deal registrations for Customers whose billing address is outside the declared
    territory are rejected unless Channel Operations approves a written territory exception for the specific
    opportunity before the quote is issued." CPA-2.5: "[...] unless Channel Operations grants a written territory
    exception for the specific opportunity before quoting." A Regional Reseller's quote for a customer outside its
    territory waits for that exception (`territory_exception`, Channel Operations' queue); one whose customer's
    location is not stated cannot be checked and is denied. The registrations' rule and territory test
    (`deal_registration.territory`, `partners.territory.problem`)."""
    rule = (policy.get("deal_registration") or {}).get("territory")
    if rule is None or partner.territory is None:
        return []
    declared = {"partner_type": territories.REGIONAL, "terms": {"territory": partner.territory}}
    location = (quote.get("customer") or {}).get("country")
    found = territories.problem(rule, declared, location)
    if found is None:
        return []
    if location is None:
        return [Finding(Rule.of(rule), DENY, found["message"])]
    return [Finding(Rule.of(rule), APPROVAL, found["message"], "territory_exception")]


def _payment_terms(index: PricingIndex, quote: dict[str, Any], tier: str) -> list[Finding]:
    """`payment_terms`: beyond the maximum is denied; a term not standard for the tier (or marked non-standard) needs
    an approval."""
    terms = quote.get("terms", {})
    days = int(terms.get("payment_days", 30))
    if index.max_payment_days is not None and days > index.max_payment_days:
        message = f"payment terms of {days} days exceed the {index.max_payment_days}-day maximum"
        return [Finding(index.terms_rule, DENY, message)]
    if days not in index.standard_terms.get(tier, index.default_terms) or terms.get("non_standard"):
        message = f"net {days} is not a standard term for tier {tier}"
        return [Finding(index.terms_rule, APPROVAL, message, "non_standard_payment_terms")]
    return []


def _totals(lines: list[LineResult]) -> dict[str, str | None]:
    """The quote's list, net and cost totals (sums of rounded line amounts) and its margin."""
    list_total = sum(
        (round_money(Decimal(ln.values["list_price"]) * Decimal(ln.values["quantity"])) for ln in lines), Decimal(0)
    )
    net = Decimal(format_money(sum((Decimal(ln.values["net_total"]) for ln in lines), Decimal(0))))
    cost = Decimal(format_money(sum((Decimal(ln.values["cost_total"]) for ln in lines), Decimal(0))))
    return {
        "list_total": format_money(list_total),
        "net_total": format_money(net),
        "cost_total": format_money(cost),
        "margin_percent": _pct((net - cost) / net * HUNDRED) if net > 0 else None,
    }


def check_quote(
    policy: dict[str, Any],
    version: str,
    quote: dict[str, Any],
    partner: PartnerFacts,
    registrations: Mapping[str, Registration],
    rivals: dict[str, Registration],
    *,
    arithmetic: str = LINE_ROUNDING,
    renewal: dict[str, Any] | None = None,
    cite_registration: bool = True, withheld: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Evaluate a quote whose lines are priced: each carries the `family`, `list_price` and `unit_cost` of its SKU
    as the catalog had them on the quote date (the service looks them up; a caller never supplies them).
    `registrations`: the partner's own registrations of this customer that give the registration discount now, by
    family (PA-5.6 "A Partner holding an approved registration receives an additional registration discount [...] on
    quote lines for the registered Customer and Product Family during the exclusivity period"; CPA-5.5); a line's
    registration component names the registration that gave it (`cite_registration`; decisions recorded before it
    did replay without it). `rivals`: other partners' approved registrations of this customer by family. `renewal`:
    the subscription its one line renews (subscription_renewals.py): checked as every line is, and against the
    tenant's renewal approval threshold. `withheld`: the partner's own held registrations (`deal_holds.withheld`)."""
    index = pricing_index(policy, version)
    quote_findings = (_partner_must_be_active(index, partner) + _payment_terms(index, quote, partner.tier)
                      + _territory(policy, partner, quote))
    lines = [_check_line(index, line, partner, quote, registrations, rivals, arithmetic, cite_registration,
                         withheld or {})
             for line in quote["lines"]]
    renewed: dict[str, Any] = {}
    if renewal is not None:
        renewed["renewal"], needs = assess_renewal(policy, renewal, lines[0].values)
        quote_findings += [Finding(needs[0], APPROVAL, needs[1], RENEWAL_CATEGORY)] if needs else []
    every = quote_findings + [f for line in lines for f in line.findings]
    outcome = max((f.outcome for f in every), key=_SEVERITY.__getitem__, default=ALLOW)
    categories = sorted({f.category for f in every if f.category and f.outcome == APPROVAL})
    reasons: dict[tuple[str, str], dict[str, str]] = {}
    for f in every:
        reasons.setdefault((f.rule.rule_id, f.message), {**f.rule.as_dict(), "message": f.message})
    return {
        "outcome": outcome,
        "approval_categories": categories if outcome == APPROVAL else [],
        "findings": [f.as_dict() for f in quote_findings],
        "lines": [
            line.values | {"outcome": line.outcome, "findings": [f.as_dict() for f in line.findings]} for line in lines
        ],
        "totals": _totals(lines),
        "reasons": list(reasons.values()),
        **renewed,
    }
