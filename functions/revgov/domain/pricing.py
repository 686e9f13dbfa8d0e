"""Quote checks: tier caps, stacking, margin floor, certifications, channel conflict and terms → one decision.

Pure and deterministic: the same quote, facts and policy give the same decision byte for byte, so a stored
decision can be replayed as of the policy version it was made under. The policy is compiled once per
version into dictionaries (`PricingIndex`), so checking a line costs lookups, not a scan of every rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .money import format_money, format_unit_price, less_percent, line_amount, round_money
from .rules import Rule

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
    standard_terms: dict[str, frozenset[int]]
    default_terms: frozenset[int]
    max_payment_days: int | None
    terms_rule: Rule
    partner_status_rule: Rule
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
        standard_terms={tier: frozenset(days) for tier, days in terms.get("standard_days_by_tier", {}).items()},
        default_terms=frozenset(terms["standard_days"]),
        max_payment_days=terms.get("max_days"),
        terms_rule=Rule.of(terms),
        partner_status_rule=Rule.of(pricing["partner_must_be_active"]),
        certification_rule=Rule.of(pricing["certification_required"]),
        quote_validity_days=int(pricing.get("quote_validity_days", 30)),
    )


_COMPILED: dict[str, PricingIndex] = {}
_COMPILED_MAX = 64


def pricing_index(policy: dict[str, Any], version: str) -> PricingIndex:
    """The compiled pricing policy, once per policy version (the version is the policy's content hash)."""
    index = _COMPILED.get(version)
    if index is None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)))
        index = _COMPILED[version] = compile_pricing(policy["pricing"])
    return index


def partner_wording(index: PricingIndex) -> dict[str, str]:
    """Rule id -> what a partner reads instead of a finding that states the Distributor's cost or margin."""
    return {
        index.margin_rule.rule_id: "the line margin is below the floor; Finance reviews the line",
        index.below_cost_rule.rule_id: "the net price is below the Distributor's cost; the line cannot be approved",
    }


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


def _check_line(
    index: PricingIndex,
    line: dict[str, Any],
    partner: PartnerFacts,
    quote: dict[str, Any],
    registration: Registration | None,
    rivals: dict[str, Registration],
    arithmetic: str,
) -> LineResult:
    result = LineResult(str(line["line_id"]))
    family = line["family"]
    quote_date = quote["quote_date"]
    add = result.findings.append
    if family in partner.barred_families:
        add(
            Finding(
                index.certification_rule,
                DENY,
                f"the partner's certification for {family} has expired and it holds no other valid one on {quote_date}",
            )
        )

    components: list[tuple[str, Decimal, Rule | None]] = [
        ("discretionary", Decimal(line.get("discount_percent", "0")), None)
    ]
    registered = registration is not None and registration.family == family
    if registered:
        components.append(("registration", index.registration_discount, index.registration_rule))
    applied_promotions: list[Promotion] = []
    for code in quote.get("promotions", []):
        promo = index.promotions.get(code)
        if promo is None:
            continue  # unknown codes were refused before evaluation
        if family not in promo.families:
            continue
        if not promo.starts_on <= quote_date <= promo.ends_on:
            add(Finding(promo.rule, ALLOW, f"promotion {code} is not valid on {quote_date}; not applied"))
            continue
        applied_promotions.append(promo)
        components.append((f"promotion:{code}", promo.percent, promo.rule))
    if any(p.exclusive for p in applied_promotions) and (len(applied_promotions) > 1 or registered):
        add(
            Finding(
                index.exclusive_rule,
                DENY,
                "an exclusive promotion cannot combine with another promotion or a registration discount",
            )
        )

    rival = rivals.get(family)
    if rival is not None and rival.partner_id != partner.partner_id:
        add(
            Finding(
                index.conflict_rule,
                APPROVAL,
                f"the customer is registered to another partner for {family} until {rival.expires_at[:10]}",
                "deal_registration_conflict",
            )
        )

    combined = combined_discount([pct for _, pct, _ in components], index.stacking)
    cap = index.caps.get((partner.tier, family))
    if combined > index.max_combined:
        add(
            Finding(
                index.max_combined_rule,
                DENY,
                f"combined discount {_pct(combined)}% exceeds the {_pct(index.max_combined)}% maximum",
            )
        )
    else:
        if cap is None:
            add(
                Finding(
                    index.cap_rule,
                    APPROVAL,
                    f"no discount cap for tier {partner.tier} and {family}",
                    "discount_above_tier_cap",
                )
            )
        elif combined > cap:
            add(
                Finding(
                    index.cap_rule,
                    APPROVAL,
                    f"combined discount {_pct(combined)}% is above the {partner.tier} cap of {_pct(cap)}% for {family}",
                    "discount_above_tier_cap",
                )
            )
        if combined > index.finance_threshold:
            add(
                Finding(
                    index.finance_rule,
                    APPROVAL,
                    f"combined discount {_pct(combined)}% is above {_pct(index.finance_threshold)}%",
                    "discount_above_finance_threshold",
                )
            )

    quantity = Decimal(line["quantity"])
    list_price = Decimal(line["list_price"])
    unit_cost = Decimal(line["unit_cost"])
    if arithmetic == LINE_ROUNDING:  # PA-1.3 / CPA-1.3: percentages on the unrounded base, the line rounded once
        net_unit = less_percent(list_price, combined)
        net_total = line_amount(list_price, quantity, combined)
    else:  # UNIT_ROUNDING: how decisions made before the fix were computed; kept so that they replay identically
        net_unit = round_money(list_price * (1 - combined / HUNDRED))
        net_total = round_money(net_unit * quantity)
    cost_total = round_money(unit_cost * quantity)
    margin = ((net_unit - unit_cost) / net_unit * HUNDRED) if net_unit > 0 else Decimal("-100")
    if net_unit < unit_cost:
        add(
            Finding(
                index.below_cost_rule,
                DENY,
                f"net price {_unit(net_unit, arithmetic)} is below cost {format_money(unit_cost)}",
            )
        )
    elif margin < index.margin_floor:
        add(
            Finding(
                index.margin_rule,
                APPROVAL,
                f"line margin {_pct(margin)}% is below the {_pct(index.margin_floor)}% floor",
                "margin_below_floor",
            )
        )

    result.values = {
        "line_id": result.line_id,
        "sku": line["sku"],
        "family": family,
        "quantity": line["quantity"],
        "list_price": format_money(list_price),
        "discount_components": [
            {"source": source, "percent": _pct(pct)} | (rule.as_dict() if rule else {})
            for source, pct, rule in components
        ],
        "combined_discount_percent": _pct(combined),
        "tier_cap_percent": _pct(cap) if cap is not None else None,
        "net_unit_price": _unit(net_unit, arithmetic),
        "net_total": format_money(net_total),
        "cost_total": format_money(cost_total),
        "margin_percent": _pct(margin),
    }
    return result


def check_quote(
    policy: dict[str, Any],
    version: str,
    quote: dict[str, Any],
    partner: PartnerFacts,
    registration: Registration | None,
    rivals: dict[str, Registration],
    *,
    arithmetic: str = LINE_ROUNDING,
) -> dict[str, Any]:
    """Evaluate a quote whose lines are priced: each carries the `family`, `list_price` and `unit_cost` of its SKU
    as the catalog had them on the quote date (the service looks them up; a caller never supplies them).
    `registration` is the partner's own (validated) registration, `rivals` other partners' approved registrations
    of this customer by family."""
    index = pricing_index(policy, version)
    quote_findings: list[Finding] = []
    if partner.status != "active":
        quote_findings.append(Finding(index.partner_status_rule, DENY, f"partner is {partner.status}, not active"))
    days = int(quote.get("terms", {}).get("payment_days", 30))
    standard = index.standard_terms.get(partner.tier, index.default_terms)
    if index.max_payment_days is not None and days > index.max_payment_days:
        quote_findings.append(
            Finding(
                index.terms_rule, DENY, f"payment terms of {days} days exceed the {index.max_payment_days}-day maximum"
            )
        )
    elif days not in standard or quote.get("terms", {}).get("non_standard"):
        quote_findings.append(
            Finding(
                index.terms_rule,
                APPROVAL,
                f"net {days} is not a standard term for tier {partner.tier}",
                "non_standard_payment_terms",
            )
        )

    lines = [_check_line(index, line, partner, quote, registration, rivals, arithmetic) for line in quote["lines"]]
    every = quote_findings + [f for line in lines for f in line.findings]
    outcome = max((f.outcome for f in every), key=_SEVERITY.__getitem__, default=ALLOW)
    categories = sorted({f.category for f in every if f.category and f.outcome == APPROVAL})
    totals: dict[str, str | None] = {
        "list_total": format_money(
            sum(
                (round_money(Decimal(ln.values["list_price"]) * Decimal(ln.values["quantity"])) for ln in lines),
                Decimal(0),
            )
        ),
        "net_total": format_money(sum((Decimal(ln.values["net_total"]) for ln in lines), Decimal(0))),
        "cost_total": format_money(sum((Decimal(ln.values["cost_total"]) for ln in lines), Decimal(0))),
    }
    net, cost = Decimal(str(totals["net_total"])), Decimal(str(totals["cost_total"]))
    totals["margin_percent"] = _pct((net - cost) / net * HUNDRED) if net > 0 else None
    reasons: dict[tuple[str, str], dict[str, str]] = {}
    for finding in every:
        key = (finding.rule.rule_id, finding.message)
        reasons.setdefault(key, {**finding.rule.as_dict(), "message": finding.message})
    return {
        "outcome": outcome,
        "approval_categories": categories if outcome == APPROVAL else [],
        "findings": [f.as_dict() for f in quote_findings],
        "lines": [
            line.values | {"outcome": line.outcome, "findings": [f.as_dict() for f in line.findings]} for line in lines
        ],
        "totals": totals,
        "reasons": list(reasons.values()),
    }
