"""A partner's questions about its own records, told from questions about the contract, and answered in words. Pure.

PA-14.1: "The Partner Portal includes a contract copilot that answers questions about this Agreement, the Partner's own
tier, entitlements, rebates and invoices. […] every answer cites the document and clause it relies on […] The copilot
only accesses data of the Partner asking." CPA-14.1 says the same of Contoso's assistant.

`read_question` decides by rules, conservatively: a question is about the asker's own records only when it speaks of
itself (my/our, or I/we with a verb of having) and of one of the four subjects (tier, entitlements, rebates,
invoices), and reads as a question about the present, not about a rule: a condition (if, unless), a modal (can, must,
would), a question of how something is calculated, a tier named in general ("a Gold partner"), an amount of money, or
the words agreement/contract/clause send it to retrieval as before. Whose records are read is never taken from the
question: the service reads the principal's own partner only.

The answer builders take what the existing reads returned (the partner record and policy, the entitlement answers, the
accruals, the invoices) and say it with the figures as stored (Decimal strings) and, for each statement, the clause
that defines its figure. Nothing is added that the records do not hold; no staff-only figure (cost, margin, risk) is
read or said.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .copilot import Citation, Passage, units
from .money import format_money
from .partners.entitlements import effective_tier
from .partners.rules import tier as tier_rule
from .partners.tier_changes import assigned_on, in_effect, pending

TIER, ENTITLEMENTS, REBATES, INVOICES = "tier", "entitlements", "rebates", "invoices"
PREVIOUS_QUARTER = "previous quarter"

_CONTRACTIONS = ((re.compile(r"\b(can't|cannot|can not)\b"), "do not"), (re.compile(r"n't\b"), " not"))
_ABOUT_A_RULE = re.compile(
    r"\b(if|unless|suppose|supposing|assuming|would|could|should|must|can|may|might|shall|whose|what happens"
    r"|agreement|contract|clause|clauses|section|policy|partners|any partner|a partner|each partner|every partner)\b"
    r"|\bhow (is|are|do|does|will)\b.*\b(calculated|computed|determined|decided|work|works|worked|set)\b"
)
_PERIOD = re.compile(r"\b(20[0-9]{2})-(q[1-4]|0[1-9]|1[0-2])\b")
_AMOUNT = re.compile(r"(?<![\w-])[0-9][0-9,]*(\.[0-9]+)?\b|\$|%|\b(usd|eur|gbp)\b")
_OURS = r"\b(my|our)\s+(\w+\s+){0,3}?"
_WE = r"\b(i|we)\b"
# Each subject with the words that make it the asker's own record, not a rule about it: "our invoices", "do we owe",
# "have we accrued", "our rebate statement", "are we entitled", "what tier are we". A present "what rebate do we
# earn on X" asks what the contract grants (a side letter's rate): retrieval answers it.
_TOPICS = (
    (INVOICES, re.compile(
        _OURS + r"(invoices?|bills?|balance|statements?)\b|" + _WE + r"\s+(\w+\s+){0,2}?owe\b"
        r"|\b(do|did|have)\s+(i|we)\s+have\s+(any\s+)?(\w+\s+)?(invoices?|bills?)\b")),
    (REBATES, re.compile(
        r"\baccru(ed|al|als|e)\b.*" + _WE + "|" + _WE + r".*\baccru(ed|al|als|e)\b|" + _OURS
        + r"(rebates?|accruals?|spiffs?|rebate statements?)\b|\b(have|has|did)\s+(i|we)\s+(earned|earn|accrued)\b")),
    (ENTITLEMENTS, re.compile(_OURS + r"entitlements?\b|\b(am|are)\s+(i|we)\s+(not\s+)?entitled\b"
                              r"|\b(do|does|did)\s+(i|we)\s+(not\s+)?have\s+(any\s+)?entitlements?\b"
                              r"|\bentitlements?\s+(do|did)\s+(i|we)\s+(have|hold|get)\b")),
    (TIER, re.compile(_OURS + r"(tier|tier review|review)\b|\btier\s+(am\s+i|are\s+we|do\s+(i|we)\s+hold)\b")),
)
_HAVING = re.compile(_WE + r"\s+(do\s+not\s+|not\s+)?(have|hold|get|qualify)\b|\b(am|are)\s+(i|we)\s+(not\s+)?"
                     r"(entitled|eligible)\b|\b(do|did)\s+(i|we)\s+(not\s+)?(have|get|hold|qualify)\b|\b(my|our)\b")
_OVERDUE = re.compile(r"\b(overdue|late|past due)\b")
_NAME_NOISE = {"max", "per", "quarter", "year", "eligible", "percent", "access"}
_EXPANSIONS = {"mdf": "market development fund"}
_REVIEW_NAMES = {"annual": "annual", "mid_year": "mid-year"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


@dataclass(frozen=True)
class OwnQuestion:
    """What the partner asks about its own records: the subject, an entitlement it names, overdue only, a period."""

    topic: str
    entitlement: str | None = None
    overdue: bool = False
    period: str | None = None


def _normalized(question: str) -> str:
    text = question.lower().replace("’", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def _aliases(name: str) -> list[str]:
    """Phrases naming an entitlement in a question: its words, without counting words (max, per quarter, eligible)."""
    words = name.split("_")
    kept = [w for w in words if w not in _NAME_NOISE] or words
    phrases = {" ".join(words), " ".join(kept)}
    phrases |= {_EXPANSIONS[w] for w in kept if w in _EXPANSIONS and len(kept) == 1}
    return sorted(phrases, key=len, reverse=True)


def named_entitlement(text: str, names: Iterable[str]) -> str | None:
    """The entitlement a (normalized) question names, by its longest matching phrase (a word may be plural)."""
    found: list[tuple[int, str]] = []
    for name in sorted(names):
        for phrase in _aliases(name):
            if re.search(r"\b" + r"\s+".join(re.escape(w) + "s?" for w in phrase.split()) + r"\b", text):
                found.append((len(phrase), name))
                break
    return min(found, key=lambda f: (-f[0], f[1]))[1] if found else None


def _relative_period(text: str) -> str | None:
    """A quarter named without its year ("Q3": this year's) or relative to today ("last quarter"), for the service to
    resolve against the clock; None: the running quarter."""
    bare = re.search(r"\bq([1-4])\b", text)
    if bare:
        return f"Q{bare.group(1)}"
    return PREVIOUS_QUARTER if re.search(r"\b(last|previous|prior)\s+quarter\b", text) else None


def read_question(question: str, *, tier_names: Iterable[str], entitlement_names: Iterable[str]) -> OwnQuestion | None:
    """The own-data question this is, or None when it is (or may be) a question about the contract."""
    text = _normalized(question)
    if _ABOUT_A_RULE.search(text):
        return None
    if any(re.search(rf"\b{re.escape(name.lower())}\b", text) for name in tier_names):
        return None  # a tier named in general: what the contract grants it
    period_match = _PERIOD.search(text)
    if _AMOUNT.search(_PERIOD.sub(" ", text)):
        return None  # an amount asked about is a what-if for the contract, not a record
    period = f"{period_match.group(1)}-{period_match.group(2).upper()}" if period_match else _relative_period(text)
    overdue = bool(_OVERDUE.search(text))
    found = [topic for topic, pattern in _TOPICS if pattern.search(text)]
    entitlement = named_entitlement(text, entitlement_names)
    if entitlement is not None and found in ([], [ENTITLEMENTS]) and _HAVING.search(text):
        return OwnQuestion(ENTITLEMENTS, entitlement=entitlement)
    if not found:
        return None
    if found[0] == INVOICES and REBATES in found and re.search(r"\brebate statements?\b", text):
        return OwnQuestion(REBATES, period=period)
    return OwnQuestion(found[0], overdue=found[0] == INVOICES and overdue, period=period)


# --- answers ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One sentence from the records and the clause that defines its figure (`about`: what the quote should say)."""

    text: str
    clause: str | None
    about: str = ""


@dataclass
class OwnAnswer:
    """The statements, the figures as stored, and the ids of the records read."""

    topic: str
    statements: list[Statement]
    figures: dict[str, Any]
    records: list[str]
    citations: list[Citation] = field(default_factory=list)


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def quote_of(passage: Passage, about: str) -> str:
    """The unit of the clause (a sentence, list item or table row) sharing most words with `about`, the first on a
    tie; a table's header row alone is never chosen when a row or sentence shares as many."""
    candidates = units(passage.text) or [passage.text.strip()]
    wanted = _words(about)
    return max(candidates, key=lambda u: (len(wanted & _words(u)), not u.lstrip().startswith("|"),
                                          -candidates.index(u)))


def compose(answer: OwnAnswer, clauses: Mapping[str, Passage]) -> tuple[str, list[Citation]]:
    """The answer's text, each statement followed by the clause it rests on quoted verbatim, and those citations.
    A clause the scope cannot see is named without a quote (and so not cited)."""
    sentences: list[str] = []
    citations: dict[tuple[str, str], Citation] = {}
    for statement in answer.statements:
        passage = clauses.get(statement.clause or "")
        if passage is None:
            sentences.append(statement.text + (f" ({statement.clause})" if statement.clause else ""))
            continue
        quote = quote_of(passage, statement.about or statement.text)
        citations.setdefault((passage.clause_id, quote), Citation(passage.document, passage.clause_id, quote))
        sentences.append(f"{statement.text} {passage.clause_id} {passage.title}: “{quote}”")
    return "\n".join(sentences), list(citations.values())


def _upcoming(month: int, day: date) -> date:
    return date(day.year if month >= day.month else day.year + 1, month, 1)


def next_review(policy: Mapping[str, Any], day: date) -> dict[str, Any] | None:
    """The next tier review the policy holds (its `tier_review` rules with a month): kind, month, rule and clause."""
    reviews = policy.get("tier_review")
    if not isinstance(reviews, Mapping):
        return None
    held = [(_upcoming(int(rule["month"]), day), kind, rule) for kind, rule in reviews.items()
            if isinstance(rule, Mapping) and "month" in rule]
    if not held:
        return None
    on, kind, rule = min(held, key=lambda h: h[0])
    return {"kind": kind, "month": on.strftime("%Y-%m"), "rule_id": rule["id"], "clause": rule["clause"]}


def tier_answer(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date, currency: str) -> OwnAnswer:
    """The tier the partner holds today, since when, a change recorded and not yet in effect, the next review."""
    held = tier_rule(policy, assigned_on(partner, day)) if partner.get("status") in ("active", "suspended") else None
    records = [str(partner["partner_id"])]
    if held is None:  # PA-2.9 / CPA-2.9: the approval (admission decision) records the initial tier
        approval = (policy.get("onboarding") or {}).get("activation_approval") or {}
        text = f"No tier is recorded for you as of {day.isoformat()} (partner status {partner.get('status')})."
        if partner.get("status") in ("applied", "pending_documents", "pending_approval"):
            text += " A tier is recorded when your application is approved."
        statement = Statement(text, approval.get("clause"), "approval records initial tier")
        return OwnAnswer(TIER, [statement], {"tier": None, "as_of": day.isoformat()}, records)
    taken = in_effect(partner, day)
    since = str(taken["effective_on"]) if taken else (str(partner.get("activated_at") or "")[:10] or None)
    commitment = str(held["requirements"]["annual_commitment"])
    statements = [Statement(
        f"You hold the {held['name']} tier as of {day.isoformat()}"
        + (f", since {since}" if since else "")
        + f"; its annual commitment is {currency} {commitment}.",
        str(held["clause"]), f"{held['name']} tier annual commitment")]
    effective = effective_tier(policy, partner, day)
    if effective is not None and effective["tier"] != held["tier"]:
        statements.append(Statement(
            f"Your entitlements are those of the {effective['name']} tier until a certification your tier requires "
            "is valid again.", str(effective["clause"]), f"{effective['name']} tier certifications"))
    change = pending(partner, day)
    if change is not None:
        to = tier_rule(policy, str(change["tier"]))
        statements.append(Statement(
            f"A change to the {to['name'] if to else change['tier']} tier is recorded, effective on "
            f"{change['effective_on']}.", str(change.get("clause") or (to or held)["clause"]),
            "downgrade takes effect first day next Quarter notice" if change.get("outcome") == "downgrade"
            else "upgrades take effect first day Billing Month following approval"))
    review = next_review(policy, day)
    if review is not None:
        month = date.fromisoformat(review["month"] + "-01")
        statements.append(Statement(
            f"Your tier's next review is the {_REVIEW_NAMES.get(review['kind'], review['kind'])} review in "
            f"{_MONTHS[month.month - 1]} {month.year}.", review["clause"],
            f"{_REVIEW_NAMES.get(review['kind'], review['kind'])} review tier {_MONTHS[month.month - 1]} Program Year"))
    figures = {"tier": held["tier"], "tier_name": held["name"], "since": since,
               "effective_tier": effective["tier"] if effective else None,
               "annual_commitment": commitment, "currency": currency,
               "pending_change": {"tier": change["tier"], "effective_on": change["effective_on"]} if change else None,
               "next_review": review, "as_of": day.isoformat()}
    return OwnAnswer(TIER, statements, figures, records)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def entitlements_answer(every: Mapping[str, Any], day: date) -> OwnAnswer:
    """Every entitlement of the partner today (`GET /v1/partners/{id}/entitlements`), grouped by the clause that
    grants it: those held with their value, those not held with the reason the entitlement rules gave."""
    answers: Mapping[str, Mapping[str, Any]] = every.get("entitlements") or {}
    held = {n: a for n, a in answers.items() if a.get("entitled")}
    missing = {n: a for n, a in answers.items() if not a.get("entitled")}
    standing = (f"tier {every.get('tier')}, entitlements of the {every.get('effective_tier') or 'no'} tier"
                if every.get("tier") else "no tier held")
    statements = [Statement(f"As of {day.isoformat()} (status {every.get('status')}, {standing}):", None)]
    for clause in dict.fromkeys(str(a.get("clause")) for a in held.values()):
        names = [n for n, a in held.items() if str(a.get("clause")) == clause]
        listed = "; ".join(f"{n.replace('_', ' ')}: {_shown(held[n].get('value'))}"
                           + (f" ({held[n]['remaining']} remaining)" if held[n].get("remaining") is not None else "")
                           for n in names)
        statements.append(Statement(f"You hold {listed}.", clause, "entitled to " + " ".join(
            f"{n.replace('_', ' ')} {_shown(held[n].get('value'))}" for n in names)))
    for clause in dict.fromkeys(str(a.get("clause")) for a in missing.values()):
        names = [n for n, a in missing.items() if str(a.get("clause")) == clause]
        why = "; ".join(f"{n.replace('_', ' ')} ({missing[n].get('reason')})" for n in names)
        statements.append(Statement(f"You do not hold {why}.", clause,
                                    "entitled to " + " ".join(n.replace("_", " ") for n in names)))
    if not answers:
        statements.append(Statement("No entitlement is recorded for you.", None))
    figures = {"as_of": day.isoformat(), "status": every.get("status"), "tier": every.get("tier"),
               "effective_tier": every.get("effective_tier"),
               "entitlements": {n: {"entitled": bool(a.get("entitled")), "value": a.get("value"),
                                    "clause": a.get("clause")} for n, a in answers.items()}}
    return OwnAnswer(ENTITLEMENTS, statements, figures, [str(every.get("partner_id"))])


def entitlement_answer(
    partner_id: str, name: str, answer: Mapping[str, Any], explained: Mapping[str, Any]
) -> OwnAnswer:
    """One named entitlement (held, or why it is missing): the entitlement explainer's summary and reason
    (domain/explain_entitlements.py), with the clause that grants it quoted where it speaks of the entitlement."""
    figures = {"entitlement": name, "entitled": bool(answer.get("entitled")), "value": answer.get("value"),
               "tier": answer.get("tier"), "effective_tier": answer.get("effective_tier"),
               "as_of": answer.get("as_of"), "reason": answer.get("reason"), "clause": answer.get("clause"),
               "remaining": answer.get("remaining")}
    statements = [Statement(str(explained.get("summary") or ""), None)]
    if answer.get("remaining") is not None:
        statements.append(Statement(f"{answer['remaining']} remaining of {answer.get('value')}.", None))
    for reason in explained.get("reasons") or []:
        statements.append(Statement(f"Rule {reason.get('rule_id')}: {reason.get('message')}.", reason.get("clause"),
                                    f"entitled to {name.replace('_', ' ')}"))
    return OwnAnswer(ENTITLEMENTS, statements, figures, [partner_id])


def rebates_answer(accruals: Sequence[Mapping[str, Any]], period: str, currency: str, rebates: Mapping[str, Any],
                   record_of: Mapping[str, str], issued: Sequence[Mapping[str, Any]] = ()) -> OwnAnswer:
    """What has accrued to the partner for the period, per programme, from its accrual record, and the statements
    issued to it for the period (`issued`: the approved runs as its key lists them, its own line each). An accrual of a
    period no run has settled yet is said to be one (the policy's `rebates.settlement` clause says when Finance
    settles). None recorded: said so, with the clauses of the rebate programmes (commissions are not rebates: PA-8 /
    CPA-8)."""
    settlement = (rebates.get("settlement") or {}).get("clause")
    about = "calculates and settles rebates within days after the end of each Quarter"
    statements: list[Statement] = []
    rows = []
    settled = []
    for run in sorted(issued, key=lambda r: (int(r.get("run") or 0), str(r.get("approved_at")))):
        for line in run.get("partners") or []:
            settled.append({"settlement_id": run.get("settlement_id"), "run": run.get("run"),
                            "issued_on": str(run.get("approved_at"))[:10], "total": line.get("total"),
                            "status": line.get("status")})
    for accrual in accruals:
        statements.append(Statement(
            f"Accrued to you for {period} as of {str(accrual.get('as_of'))[:10]} (tier {accrual.get('tier')}): "
            f"{currency} {accrual.get('total')} in total" + ("." if settled else ", an accrual not yet settled."),
            settlement, about))
        for program in accrual.get("programs") or []:
            revenue = program.get("basis_revenue")
            statements.append(Statement(
                f"{program.get('name')}: {currency} {program.get('payable')} payable"
                + (f" on qualifying revenue of {currency} {revenue}" if revenue is not None else "")
                + (f" at {program.get('rate')}" if program.get("rate") is not None else "")
                + (f", after a cap reduction of {currency} {program.get('cap_reduction')}"
                   if Decimal(str(program.get("cap_reduction") or "0")) else "") + ".",
                str(program.get("clause")), f"{program.get('name')} earn"))
            rows.append({"program_id": program.get("program_id"), "name": program.get("name"),
                         "clause": program.get("clause"), "basis_revenue": revenue, "rate": program.get("rate"),
                         "amount": program.get("amount"), "cap_reduction": program.get("cap_reduction"),
                         "payable": program.get("payable")})
    for run in settled:
        statements.append(Statement(
            f"Settled: your {period} statement of run {run['run']} ({run['settlement_id']}), issued on "
            f"{run['issued_on']}, totals {currency} {run['total']} ({run['status']}).", settlement,
            "withheld while invoice more than days overdue" if run["status"] == "withheld" else about))
    if not accruals:
        statements.append(Statement(f"No rebate accrual is recorded for you for {period}.", None))
        for program in (rebates.get("programs") or []):
            if program.get("model") == "commission":
                continue
            statements.append(Statement(f"{program.get('name')}:", str(program.get("clause")),
                                        f"{program.get('name')} earn"))
    total = accruals[0].get("total") if len(accruals) == 1 else (
        format_money(sum((Decimal(str(a.get("total"))) for a in accruals), Decimal(0))) if accruals else None)
    figures = {"period": period, "currency": currency, "total": total, "programs": rows, "settled": settled}
    return OwnAnswer(REBATES, statements, figures, [record_of[str(a.get("partner_id"))] for a in accruals])


def invoices_answer(open_invoices: Sequence[Mapping[str, Any]], *, overdue_only: bool, day: date, currency: str,
                    terms_days: int, clause: str) -> OwnAnswer:
    """The partner's issued and unpaid invoices (`due_on`, `days_overdue` computed by the billing rules), or only the
    overdue ones; none: said so. Every figure rests on the payment clause (`billing.late_payment`)."""
    shown = [i for i in open_invoices if i["days_overdue"] > 0] if overdue_only else list(open_invoices)
    kind = "overdue" if overdue_only else "open (issued and unpaid)"
    statements = []
    for invoice in shown:
        late = f"{invoice['days_overdue']} days overdue" if invoice["days_overdue"] else "not yet due"
        statements.append(Statement(
            f"Invoice {invoice['invoice_id']} ({invoice['period']}): {currency} {invoice['total']}, issued "
            f"{invoice['issued_on']}, due {invoice['due_on']}, {late}.", None))
    total = format_money(sum((Decimal(str(i["total"])) for i in shown), Decimal(0)))
    overdue = format_money(sum((Decimal(str(i["total"])) for i in shown if i["days_overdue"]), Decimal(0)))
    summary = (f"You have {len(shown)} {kind} invoice(s) as of {day.isoformat()}, {currency} {total} in total"
               + (f", of which {currency} {overdue} overdue" if not overdue_only else "")
               + f"; your payment term is {terms_days} days." if shown
               else f"You have no {kind} invoices as of {day.isoformat()}; your payment term is {terms_days} days.")
    statements.append(Statement(summary, clause, "payable within the payment term"))
    figures = {"as_of": day.isoformat(), "currency": currency, "payment_terms_days": terms_days,
               "count": len(shown), "total": total, "overdue_total": overdue,
               "invoices": [{k: i[k] for k in ("invoice_id", "period", "total", "issued_on", "due_on", "days_overdue")}
                            for i in shown]}
    return OwnAnswer(INVOICES, statements, figures, [str(i["invoice_id"]) for i in open_invoices])
