"""A partner's performance in a Quarter in plain sentences, each carrying its evidence (the seed whitepaper: copilots
"summarize the issue, supporting evidence, and recommended next actions"; "summarizing partner performance").

Pure and deterministic: the service hands in what the existing reads answered (the partner's forecast and its KPIs,
its rebate accrual, its open cases, its certifications, its support-hours entitlement, the tier review's findings)
and this module only words them. Every figure a sentence states is the value of a fact in `facts`, and each fact
names its source: the KPI or forecast figure and its period, or the rule and the clause it rests on. Nothing is
computed here that those reads did not answer, except that a probability is stated in percent.

A sentence marked `staff_only` (the tier review outlook, exceptions and approvals the partner does not read) is left
out of the partner's view, and so is every fact only such a sentence uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .explain_at_risk import at_risk
from .money import parse_money


@dataclass(frozen=True)
class CaseCounts:
    """The partner's undecided approvals and exceptions: disputes (rebate and invoice disputes, their appeals), the
    items waiting on its reply, and the other open exceptions and pending approvals (staff read those)."""

    disputes: int
    waiting_on_partner: int
    other_exceptions: int
    pending_approvals: int


@dataclass(frozen=True)
class Expiring:
    """A certification of the partner that stops counting within the reminder window, or has stopped counting."""

    cert_id: str
    name: str
    clause: str
    counts_until: str
    expired: bool


@dataclass(frozen=True)
class Readings:
    """What the existing reads answered for one partner and Quarter (see the module docstring)."""

    partner_id: str
    legal_name: str
    policy_version: str
    period: str
    today: str
    currency: str
    forecast: Mapping[str, Any]
    kpis: Mapping[str, Any]
    invoice_sla: Mapping[str, Any] | None
    accrual: Mapping[str, Any] | None  # None: the policy has no rebate programs
    cases: CaseCounts
    certifications: Sequence[Expiring]
    certification_window_ends: str
    lapse_rule: Mapping[str, Any]
    support_hours: Mapping[str, Any] | None
    tier_review: Mapping[str, Any] | None
    min_p_miss: Decimal


@dataclass
class Notes:
    """The facts and sentences being written: `fact` records a value with its source and hands the value back for the
    sentence; `say` records a sentence with the facts it states."""

    facts: list[dict[str, Any]] = field(default_factory=list)
    sentences: list[dict[str, Any]] = field(default_factory=list)

    def fact(self, fact_id: str, value: Any, unit: str, **source: Any) -> str:
        text = str(value)
        self.facts.append({"fact_id": fact_id, "value": text, "unit": unit,
                           "source": {k: v for k, v in source.items() if v is not None}})
        return text

    def say(self, topic: str, text: str, fact_ids: Sequence[str], *, staff_only: bool = False) -> None:
        self.sentences.append({"topic": topic, "text": text, "facts": list(fact_ids), "staff_only": staff_only})


def _clause(clause: Any) -> str:
    return f" ({clause})" if clause else ""


def revenue(notes: Notes, r: Readings) -> None:
    f = r.forecast
    notes.fact("revenue.to_date", f["to_date"], r.currency, kind="forecast", name="to_date", period=r.period)
    notes.fact("revenue.projected", f["projected"], r.currency, kind="forecast", name="projected", period=r.period,
               method=f.get("method"))
    notes.fact("period.elapsed", f["elapsed_percent"], "percent", kind="forecast", name="elapsed_percent",
               period=r.period)
    notes.say("revenue", f"Revenue invoiced in {r.period} to date is {f['to_date']} {r.currency}, with "
              f"{f['elapsed_percent']}% of the Quarter elapsed; the forecast for the whole Quarter is "
              f"{f['projected']} {r.currency}.", ["revenue.to_date", "period.elapsed", "revenue.projected"])


def _level_name(level: Mapping[str, Any], *, ahead: bool = False) -> str:
    if level.get("source") == "tier_commitment":  # the tier's annual commitment prorated to the Quarter
        return "the Quarter's share of the annual commitment"
    return "the next level" if ahead else "the level"


def _attained(r: Readings, level: Mapping[str, Any]) -> str | None:
    rows = r.kpis.get("threshold_attainment", {}).get("thresholds") or []
    row = next((x for x in rows if x["program_id"] == level["program_id"] and x["threshold"] == level["threshold"]),
               None)
    return None if row is None else row.get("median_attainment_percent")


def thresholds(notes: Notes, r: Readings) -> list[dict[str, Any]]:
    """Per programme the highest level reached and the lowest level ahead with its attainment, gap and P(miss); the
    levels ahead are handed back (the actions read their P(miss))."""
    to_date = parse_money(str(r.forecast["to_date"]))
    reached: dict[str, Mapping[str, Any]] = {}
    for level in r.forecast.get("thresholds") or []:
        if parse_money(str(level["threshold"])) <= to_date:
            reached[str(level["program_id"])] = level
    for pid, level in reached.items():
        fid = f"threshold.{pid}.reached"
        notes.fact(fid, level["threshold"], r.currency, kind="threshold", name=f"{level['program']}: {level['level']}",
                   rule_id=pid, clause=level.get("clause") or None, period=r.period)
        notes.say("thresholds", f"{level['program']}{_clause(level.get('clause'))}: {_level_name(level)} of "
                  f"{level['threshold']} {r.currency} is reached.", [fid])
    ahead = at_risk(r.forecast, Decimal(0))
    for level in ahead:
        _level_ahead(notes, r, level)
    return ahead


def _level_ahead(notes: Notes, r: Readings, level: Mapping[str, Any]) -> None:
    pid = level["program_id"]
    ids = [f"threshold.{pid}.next", f"threshold.{pid}.gap", f"threshold.{pid}.p_miss"]
    notes.fact(ids[0], level["threshold"], r.currency, kind="threshold", name=f"{level['program']}: {level['level']}",
               rule_id=pid, clause=level.get("clause"), period=r.period)
    notes.fact(ids[1], level["gap"], r.currency, kind="forecast", name="gap (threshold - to_date)", period=r.period)
    percent = notes.fact(ids[2], f"{Decimal(str(level['p_miss'])) * 100:.1f}", "percent", kind="forecast",
                         name="p_miss", period=r.period)
    attained = _attained(r, level)
    share = ""
    if attained is not None:
        ids.insert(1, f"threshold.{pid}.attainment")
        notes.fact(ids[1], attained, "percent", kind="kpi", name="threshold_attainment.median_attainment_percent",
                   period=r.period)
        share = f" is {attained}% attained and"
    notes.say("thresholds", f"{level['program']}{_clause(level.get('clause'))}: {_level_name(level, ahead=True)}, "
              f"{level['threshold']} {r.currency},{share} is {level['gap']} {r.currency} away; the forecast gives a "
              f"{percent}% chance of missing it by the end of {r.period}.", ids)


def rebates(notes: Notes, r: Readings) -> None:
    if r.accrual is None:
        return
    total = notes.fact("rebates.accrued", r.accrual.get("total") or "0.00", r.currency, kind="rebate_accrual",
                       name="total", period=r.period, as_of=r.accrual.get("as_of"))
    ids, parts = ["rebates.accrued"], []
    for program in r.accrual.get("programs") or []:
        if parse_money(str(program["payable"])) == 0:
            continue
        fid = f"rebates.{program['program_id']}"
        notes.fact(fid, program["payable"], r.currency, kind="rebate_accrual", name=f"{program['name']}: payable",
                   rule_id=program["program_id"], clause=program.get("clause"), period=r.period)
        ids.append(fid)
        parts.append(f"{program['name']}{_clause(program.get('clause'))} {program['payable']} {r.currency}")
    detail = f" ({'; '.join(parts)})" if parts else ""
    notes.say("rebates", f"Rebates and commissions accrued for {r.period} to date: {total} {r.currency}{detail}; "
              "an accrual is settled only after the Quarter closes.", ids)


def open_items(notes: Notes, r: Readings) -> None:
    c = r.cases
    notes.fact("cases.disputes", c.disputes, "count", kind="cases", name="open rebate and invoice disputes and appeals",
               as_of=r.today)
    notes.fact("cases.waiting", c.waiting_on_partner, "count", kind="cases", name="items waiting on the partner",
               as_of=r.today)
    notes.say("open_items", f"Open disputes: {c.disputes}; items waiting on the partner's reply: "
              f"{c.waiting_on_partner}.", ["cases.disputes", "cases.waiting"])
    notes.fact("cases.exceptions", c.other_exceptions, "count", kind="cases", name="other open exceptions",
               as_of=r.today)
    notes.fact("cases.approvals", c.pending_approvals, "count", kind="cases", name="other pending approvals",
               as_of=r.today)
    notes.say("open_items", f"Other open exceptions: {c.other_exceptions}; other pending approvals: "
              f"{c.pending_approvals}.", ["cases.exceptions", "cases.approvals"], staff_only=True)


def certifications(notes: Notes, r: Readings) -> None:
    rule = r.lapse_rule
    if not r.certifications:
        notes.fact("certifications.window", r.certification_window_ends, "date", kind="certifications",
                   name="end of the first expiry reminder window (60 days, PA-4.2 / CPA-4.2)", as_of=r.today)
        notes.say("certifications", "No certification stops counting before "
                  f"{r.certification_window_ends}.", ["certifications.window"])
        return
    notes.fact("certifications.effect", rule["id"], "rule", kind="rule", name="effect of an expired certification",
               rule_id=rule["id"], clause=rule["clause"])
    for cert in r.certifications:
        fid = f"certification.{cert.cert_id}"
        notes.fact(fid, cert.counts_until, "date", kind="certification", name=cert.cert_id, clause=cert.clause)
        verb = "stopped counting on" if cert.expired else "stops counting on"
        notes.say("certifications", f"Certification {cert.name} ({cert.clause}) {verb} {cert.counts_until}; "
                  f"from then {rule['clause']} applies to what depends on it.", [fid, "certifications.effect"])


def support_hours(notes: Notes, r: Readings) -> None:
    h = r.support_hours
    if h is None:
        return
    allowance = h.get("value") if h.get("entitled") else 0
    notes.fact("support.used", h["hours_used"], "hours", kind="support_hours", name="hours_used",
               period=h["quarter"])
    notes.fact("support.entitled", allowance, "hours", kind="entitlement", name="max_support_hours_per_quarter",
               rule_id=h.get("rule_id"), clause=h.get("clause"), period=h["quarter"])
    notes.fact("support.remaining", h["hours_remaining"], "hours", kind="support_hours", name="hours_remaining",
               period=h["quarter"])
    notes.say("support", f"Support hours used in {h['quarter']}: {h['hours_used']} of {allowance} included"
              f"{_clause(h.get('clause'))}; {h['hours_remaining']} remaining.",
              ["support.used", "support.entitled", "support.remaining"])


def invoice_cycle(notes: Notes, r: Readings) -> None:
    cycle = r.kpis["invoice_cycle_time"]
    notes.fact("cycle.events", cycle["events"], "count", kind="kpi", name="invoice_cycle_time.events",
               period=r.period)
    if not cycle["events"] or cycle.get("p50_hours") is None:
        notes.say("invoice_cycle", f"Billable events invoiced in {r.period}: {cycle['events']}; no invoice cycle "
                  "time to report yet.", ["cycle.events"])
        return
    ids = ["cycle.p50", "cycle.events"]
    notes.fact("cycle.p50", cycle["p50_hours"], "hours", kind="kpi", name="invoice_cycle_time.p50_hours",
               period=r.period)
    sla = ""
    if r.invoice_sla and cycle.get("sla_hours") is not None:
        notes.fact("cycle.sla", cycle["sla_hours"], "hours", kind="rule", name="invoice SLA",
                   rule_id=r.invoice_sla.get("id"), clause=r.invoice_sla.get("clause"))
        notes.fact("cycle.breaches", cycle["sla_breaches"], "count", kind="kpi", name="invoice_cycle_time.sla_breaches",
                   period=r.period)
        ids += ["cycle.sla", "cycle.breaches"]
        sla = (f", against an SLA of {cycle['sla_hours']} hours{_clause(r.invoice_sla.get('clause'))} with "
               f"{cycle['sla_breaches']} breaches")
    notes.say("invoice_cycle", f"Invoice cycle time in {r.period}: a median of {cycle['p50_hours']} hours over "
              f"{cycle['events']} billable events{sla}.", ids)


def tier_outlook(notes: Notes, r: Readings) -> None:
    t = r.tier_review
    if t is None:
        return
    basis = t.get("basis") or {}
    notes.fact("tier.review_day", t["review_day"], "date", kind="tier_review", name=f"{t['review']} review",
               rule_id=t.get("rule_id"), clause=t.get("clause"))
    notes.fact("tier.revenue", t["revenue"], r.currency, kind="tier_review", name="revenue measured so far",
               clause=t.get("clause"))
    notes.fact("tier.basis_from", basis.get("from"), "date", kind="tier_review", name="basis from")
    notes.fact("tier.basis_to", basis.get("to"), "date", kind="tier_review", name="basis to")
    ids = ["tier.review_day", "tier.revenue", "tier.basis_from", "tier.basis_to"]
    finding = f"outcome {t['outcome']}"
    if t.get("qualified_tier") and t.get("qualified_tier") != t.get("tier"):
        finding += f", tier {t['qualified_tier']}"
    if t.get("effective_on"):
        notes.fact("tier.effective_on", t["effective_on"], "date", kind="tier_review", name="effective_on")
        ids.append("tier.effective_on")
        finding += f", effective on {t['effective_on']}"
    notes.say("tier_review", f"Tier review outlook: the {t['review']} review of {t['review_day']}"
              f"{_clause(t.get('clause'))}, on the revenue invoiced so far ({t['revenue']} {r.currency} from "
              f"{basis.get('from')} to {basis.get('to')}), would find: {finding} (tier now: {t.get('tier')}).", ids,
              staff_only=True)


def renewal(notes: Notes, r: Readings) -> None:
    """The renewal KPI for the partner (staff only: `GET /v1/kpis` withholds it from a partner key)."""
    outlook = r.kpis.get("renewal_probability") or {}
    if "year_end" not in outlook:
        return
    ids = ["renewal.year_end", "renewal.notice_given"]
    notes.fact(ids[0], outlook["year_end"], "date", kind="kpi", name="renewal_probability.year_end",
               rule_id=outlook.get("rule_id"), clause=outlook.get("clause"), period=r.period)
    notes.fact(ids[1], outlook.get("notice_given", 0), "count", kind="kpi", name="renewal_probability.notice_given",
               period=r.period)
    percent = outlook.get("renewal_probability_percent")
    chance = "no renewal probability yet (no renewal history to base it on)"
    if percent is not None:
        ids.append("renewal.probability")
        notes.fact(ids[2], percent, "percent", kind="kpi", name="renewal_probability.renewal_probability_percent",
                   period=r.period)
        chance = f"a renewal probability of {percent}% ({outlook.get('source')})"
    notes.say("renewal", f"Agreement renewal at the Program Year end of {outlook['year_end']}"
              f"{_clause(outlook.get('clause'))}: {chance}; notices of non-renewal given: "
              f"{outlook.get('notice_given', 0)}.", ids, staff_only=True)


def summarize(r: Readings) -> tuple[Notes, list[dict[str, Any]]]:
    """Every sentence of the summary and its facts, and the threshold levels still ahead."""
    notes = Notes()
    revenue(notes, r)
    ahead = thresholds(notes, r)
    rebates(notes, r)
    open_items(notes, r)
    certifications(notes, r)
    support_hours(notes, r)
    invoice_cycle(notes, r)
    tier_outlook(notes, r)
    renewal(notes, r)
    return notes, ahead
