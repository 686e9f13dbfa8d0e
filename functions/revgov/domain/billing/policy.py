"""The tenant's billing policy, read once from its policy document: rules, price list, rate tables, schedules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..catalog import Catalog, CatalogItem, policy_catalog
from ..rules import Rule
from .periods import HUNDRED, ZERO
from .rating import RateTable


# --- the tenant's billing policy -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MilestoneService:
    service: str
    name: str
    entitlement: str | None  # the partner entitlement that puts the service in contracted scope
    rule: Rule


DEFAULT_PLAUSIBILITY = Rule("BILL-PLAUSIBILITY", "PA-2.2")
DEFAULT_RECONCILIATION = Rule("BILL-SUBSCRIPTION-RECONCILIATION", "SOP-2.2")
DEFAULT_CREDIT_NOTES = Rule("BILL-CREDIT-NOTES", "SOP-2.5")
DEFAULT_INVOICE_DISPUTES = Rule("BILL-INVOICE-DISPUTES", "SOP-6.1")
DEFAULT_SHIPMENT_ONCE = Rule("BILL-SHIPMENT-ONCE", "PA-10.1")
DEFAULT_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class BillingPolicy:
    sla_hours: int
    sla: Rule
    invoicing: Rule
    finalization: Rule
    late_events: Rule
    proration: Rule
    cancellation: Rule
    catalog: Catalog  # prices and costs: the one place that answers "SKU X on day D"
    usage: dict[str, RateTable]
    milestones: dict[str, Decimal]
    milestone_rule: Rule
    services: dict[str, MilestoneService]
    overage_rate: Decimal
    overage_entitlement: str
    overage_sku: str
    overage: Rule
    # SOP-5.4 / COP-5.4: the shares of the quarter's support allowance at which the partner is notified
    overage_notify_percents: tuple[int, ...] = ()
    # PA-9.2 / CPA-9.2: hours beyond the allowance are billed only with the Partner's prior written approval; the
    # rule says whether a severity-1 incident's are billed without it (CPA-9.2 "except for severity 1 incidents").
    # None: severity 1 is billed without approval (SOP-5.4 / COP-5.4, as before the rule existed).
    overage_approval: Rule | None = None
    severity_1_without_approval: bool = True
    # What holds an implausible event, what a reconciliation mismatch and a milestone beyond its SOW open
    # (defaults when a tenant's policy predates them).
    plausibility: Rule = DEFAULT_PLAUSIBILITY
    future_tolerance: timedelta = DEFAULT_TOLERANCE
    implausible_category: str = "implausible_event"
    reconciliation: Rule = DEFAULT_RECONCILIATION
    mismatch_category: str = "subscription_mismatch"
    sow_category: str = "milestone_beyond_sow"
    # Corrections of issued invoices and the partner's invoice-line disputes (SOP-2.5, SOP-6.1).
    credit_notes: Rule = DEFAULT_CREDIT_NOTES
    disputes: Rule = DEFAULT_INVOICE_DISPUTES
    dispute_window_days: int = 30
    dispute_category: str = "invoice_dispute"
    # SOP-2.5 / COP-2.4: a credit note above this amount (tenant currency) posts only once a finance queue member
    # other than its preparer approved it, through an approval of `credit_note_approval_category`. None: no limit.
    credit_note_approval_above: Decimal | None = None
    credit_note_approval_category: str = "credit_note_approval"
    # PA-10.4 / CPA-10.3: a subscription credit inside an approved renewal's committed term is held for that approval
    # whatever its amount ("credited only as the order allows"). None: credited like a monthly subscription's.
    committed_term_credit: Rule | None = None
    # SOP-2.4 / COP-2.3: a cancellation (or reduction) dated before its request takes effect at the end of the request's
    # day, for the kinds in `effective_day_kinds`. None: the effective_on given.
    effective_day: Rule | None = None
    effective_day_kinds: frozenset[str] = frozenset()
    # SOP-3.1 / COP-3.1: usage received more than this many days after its month's end is rated the month after it
    # is received, as an adjustment. None: rated with its month whenever it arrives.
    usage_cutoff: Rule | None = None
    usage_cutoff_days: int | None = None
    # SOP-5.3 / COP-5.3: work the partner is not entitled to (e.g. on a family whose certification expired) is an
    # out_of_scope_service exception, not billed without an accepted change order. None: not in the policy.
    out_of_scope: Rule | None = None
    # CPA-10.2: "devices are billed on delivery": shipped lines of these families whose delivery day the ERP reports
    # (`delivered_on`) are billed on that day, in its month (cited by `delivery_billing`); the others on shipment.
    delivery_families: frozenset[str] = frozenset()
    delivery_billing: Rule | None = None
    # PA-10.1 / CPA-10.1: one shipment (`shipment_identity`) is billed once, whatever ERP id it comes under; a repeat
    # is held as an exception of `duplicate_shipment_category`, not billed.
    shipment_once: Rule = DEFAULT_SHIPMENT_ONCE
    duplicate_shipment_category: str = "duplicate_shipment"
    # PA-2.5 / CPA-2.7: "An Implementation Partner may not be named on a statement of work for a Product Family in which
    # it does not hold a valid certification": the partner types it binds (`sow_certified_types`), cited by the rule.
    sow_certification: Rule | None = None
    sow_certified_types: frozenset[str] = frozenset()
    # PA-1.2 / PA-6.1 / CPA-6.1: a shipment or activation naming its quote's day is priced from the list in force that
    # day (and, with `increases_from_acceptance`, from the order's acceptance day where the price had risen by then).
    # None: the ship (activation) day's list.
    quoted_price: Rule | None = None
    increases_from_acceptance: bool = False
    quote_validity_days: int | None = None  # PA-6.1 / CPA-6.1 (`pricing.quote_validity_days`): 30 / 21

    def takes_effect(self, kind: str, given: date, requested_on: date) -> date:
        """The day a cancellation or reduction (`kind`) takes effect at the end of: SOP-2.4 "A cancellation or quantity
        reduction requested on a given day takes effect at the end of that day unless the Partner specifies a later
        date" (COP-2.3: a cancellation), so a day before the request's is the request's day; any other is `given`."""
        if self.effective_day is None or kind not in self.effective_day_kinds:
            return given
        return max(given, requested_on)

    def price(self, sku: str, on: date) -> CatalogItem | None:
        """The price-list item in force on `on`, or None: not on the price list that day."""
        return self.catalog.item(sku, on.isoformat())

    def subscription_item(self, subscription: dict[str, Any]) -> CatalogItem | None:
        """The price-list item a subscription was billed from at activation: the list of its quote's day where the
        activation named it (`priced_on`, PA-1.2 / PA-6.1 / CPA-6.1), else of its activation day."""
        return self.price(subscription["sku"], date.fromisoformat(subscription.get("priced_on") or
                                                                  subscription["activated_on"]))

    def price_day(self, data: dict[str, Any], sku: str, ordered: date) -> tuple[date, Rule | None]:
        """The day the List Price of a SKU shipped or activated on `ordered` is read on, and the rule that chose it
        (None: `ordered` itself).
        PA-1.2: "List Price" is the price "in force on the quote date" (CPA-6.1: "Prices are taken from the Contoso
        price list in force on the quote date"); PA-6.1: "price increases do not apply to quotes issued and accepted
        before the effective date", so where `increases_from_acceptance` an increase in force on the day the order was
        accepted applies. A SKU off the list on the day chosen is the caller's to refuse (no quote could name it)."""
        if self.quoted_price is None or not data.get("quoted_on"):
            return ordered, None
        quoted = date.fromisoformat(data["quoted_on"])
        at_quote = self.price(sku, quoted)
        if at_quote is not None and self.increases_from_acceptance and data.get("order_accepted_on"):
            accepted = date.fromisoformat(data["order_accepted_on"])
            at_acceptance = self.price(sku, accepted)
            if at_acceptance is not None and at_acceptance.list_price > at_quote.list_price:
                return accepted, self.quoted_price
        return quoted, self.quoted_price

    @classmethod
    def from_policy(cls, policy: dict[str, Any]) -> BillingPolicy:
        billing = policy.get("billing")
        if not billing:
            raise ValueError("the tenant policy has no billing section")
        schedule = billing["milestones"]
        percents = _milestone_percents(schedule)
        support = billing["support_overage"]
        if not billing.get("price_list"):
            raise ValueError("the billing policy has no price list")
        return cls(
            sla_hours=int(billing["invoice_sla"]["hours"]),
            sla=Rule.of(billing["invoice_sla"]),
            invoicing=Rule.of(billing["invoicing"]),
            finalization=Rule.of(billing["finalization"]),
            late_events=Rule.of(billing["late_events"]),
            proration=Rule.of(billing["proration"]),
            cancellation=Rule.of(billing["cancellation_credit"]),
            catalog=policy_catalog(policy),
            usage={t["metric"]: RateTable.from_policy(t) for t in billing["usage_rates"]},
            milestones=percents,
            milestone_rule=Rule.of(schedule),
            services=_services(billing),
            overage_rate=Decimal(support["hourly_rate"]),
            overage_entitlement=support["entitlement"],
            overage_sku=support["sku"],
            overage=Rule.of(support),
            overage_notify_percents=tuple(sorted(int(p) for p in support.get("notify_at_percent", ()))),
            overage_approval=_rule_or_none(support.get("written_approval")),
            severity_1_without_approval=bool((support.get("written_approval") or {}).get("severity_1_exempt", True)),
            **_settings(cls, policy, billing),
        )


def _settings(cls: type[BillingPolicy], policy: dict[str, Any], billing: dict[str, Any]) -> dict[str, Any]:
    """The billing policy's optional settings, each its class default when the policy leaves it out."""
    plausible = billing.get("plausibility") or {}
    reconciled = billing.get("subscription_reconciliation") or {}
    credit_notes = billing.get("credit_notes") or {}
    effective_day = billing["cancellation_credit"].get("effective_day") or {}
    disputes = billing.get("invoice_disputes") or {}
    cutoff = billing.get("usage_cutoff") or {}
    once = billing.get("shipment_once") or {}
    return dict(
        plausibility=Rule.of(plausible) if plausible else cls.plausibility,
        future_tolerance=timedelta(seconds=int(plausible.get("future_tolerance_seconds", 300))),
        implausible_category=plausible.get("category", cls.implausible_category),
        reconciliation=Rule.of(reconciled) if reconciled else cls.reconciliation,
        mismatch_category=reconciled.get("category", cls.mismatch_category),
        credit_notes=Rule.of(credit_notes) if credit_notes else cls.credit_notes,
        disputes=Rule.of(disputes) if disputes else cls.disputes,
        dispute_window_days=int(disputes.get("window_days", cls.dispute_window_days)),
        dispute_category=disputes.get("category", cls.dispute_category),
        credit_note_approval_above=_decimal_or_none(credit_notes.get("approval_above")),
        credit_note_approval_category=credit_notes.get("approval_category", cls.credit_note_approval_category),
        effective_day=Rule.of(effective_day) if effective_day else None,
        effective_day_kinds=frozenset(effective_day.get("applies_to", ())),
        committed_term_credit=_rule_or_none(billing.get("committed_term_credit")),
        usage_cutoff=Rule.of(cutoff) if cutoff else None,
        usage_cutoff_days=int(cutoff["days_after_month_end"]) if cutoff else None,
        out_of_scope=Rule.of(billing["out_of_scope_service"]) if billing.get("out_of_scope_service") else None,
        delivery_families=frozenset((billing.get("delivery_billing") or {}).get("families", ())),
        delivery_billing=Rule.of(billing["delivery_billing"]) if billing.get("delivery_billing") else None,
        shipment_once=Rule.of(once) if once else cls.shipment_once,
        duplicate_shipment_category=once.get("category", cls.duplicate_shipment_category),
        sow_certification=_rule_or_none(billing.get("sow_certification")),
        sow_certified_types=frozenset((billing.get("sow_certification") or {}).get("partner_types", ())),
        quoted_price=_rule_or_none(billing.get("quoted_price")),
        increases_from_acceptance=bool((billing.get("quoted_price") or {}).get("increases_from_acceptance")),
        quote_validity_days=_int_or_none((policy.get("pricing") or {}).get("quote_validity_days")),
    )


def _services(billing: dict[str, Any]) -> dict[str, MilestoneService]:
    """The milestone-billed services by service code."""
    return {s["service"]: MilestoneService(s["service"], s["name"], s.get("entitlement"), Rule.of(s))
            for s in billing["services"]}


def _decimal_or_none(value: Any) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _milestone_percents(schedule: dict[str, Any]) -> dict[str, Decimal]:
    """A milestone schedule's percentages by milestone, which must total 100 %."""
    percents = {name: Decimal(pct) for name, pct in schedule["schedule"].items()}
    if sum(percents.values(), ZERO) != HUNDRED:
        raise ValueError(f"milestones {schedule['id']} must total 100%")
    return percents


def _rule_or_none(section: dict[str, Any] | None) -> Rule | None:
    """The rule of an optional policy node, None where the tenant's policy has none."""
    return Rule.of(section) if section else None


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
