"""Synthetic histories for the support-vs-margin and milestones-at-risk agents, split into seeds for tuning and seeds
held out for the one reported evaluation (written before the detection code was tuned; the held-out seeds are
evaluated only by `python tests/agents_eval.py heldout` and tests/unit/test_agents_eval.py).

Support: a tenant of 40 accounts over four Quarters (three baseline, one recent). Each account has its own revenue
level (log-normal), margin percent (8-25 %), quarterly noise on both, and a support rate (hours per 1,000 of margin,
log-normal); hours arrive as tickets (Poisson count, log-normal size rounded up to 15 minutes, SOP-5.2) with a
quarter-level random effect on top (hours are clumpier than tickets alone). In a "drift" history a quarter of the
accounts double their support rate in the recent Quarter, or keep it while their margin percent halves. A "fair"
history has no change at all: whatever an agent opens there is a false task.

Milestones: a tenant of 80 statements of work started over 540 days; each step (kickoff → next → acceptance) lasts a
log-normal number of days around the step's median, with a per-partner pace. In a "risky" history 15 % of the
statements of work stall at one step (the step lasts 2.5-5 × as long); a "fair" history has none.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))

from revgov.domain import agents_churn as ch
from revgov.domain import agents_milestones as ms
from revgov.domain import agents_support as sup

TUNING_SEEDS = tuple(range(1000, 1100))
HELD_OUT_SEEDS = tuple(range(7300, 7400))  # never evaluated while tuning
ACCOUNTS = 40
SOWS = 80
TODAY = date(2027, 3, 15)
SCHEDULE = {"kickoff": Decimal(30), "deployment": Decimal(40), "acceptance": Decimal(30)}
STEP_MEDIANS = {("kickoff", "deployment"): 40.0, ("deployment", "acceptance"): 15.0}


# --- support vs margin -----------------------------------------------------------------------------------------
def _hours(rng: random.Random, expected: float) -> Decimal:
    size_median, size_sigma = 1.5, 0.8
    mean_size = size_median * pow(2.718281828, size_sigma**2 / 2)
    lam = max(expected, 0.0) / mean_size
    tickets = _poisson(rng, lam)
    total = Decimal(0)
    for _ in range(tickets):
        raw = Decimal(str(rng.lognormvariate(0, size_sigma) * size_median))
        total += (raw * 4).to_integral_value(rounding=ROUND_CEILING) / 4
    return total


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 50:
        return max(0, round(rng.gauss(lam, lam**0.5)))
    threshold, k, p = pow(2.718281828, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p < threshold:
            return k
        k += 1


@dataclass
class Account:
    windows: list[sup.Window]
    drifting: bool


def support_history(seed: int, *, drift: bool) -> list[Account]:
    rng = random.Random(seed)
    accounts = []
    for i in range(ACCOUNTS):
        level = rng.lognormvariate(12.2, 0.8)  # quarterly revenue, median ~200,000
        margin_pct = rng.uniform(0.08, 0.25)
        rate = rng.lognormvariate(0.0, 0.6)  # hours per 1,000 of margin
        drifting = drift and i % 4 == 0
        how = rng.choice(("hours", "margin"))
        windows = []
        for q in range(4):
            revenue = level * rng.lognormvariate(0, 0.15)
            pct = max(0.01, margin_pct + rng.gauss(0, 0.02))
            q_rate = rate
            if drifting and q == 3:
                if how == "hours":
                    q_rate = rate * 2
                else:
                    pct = pct / 2
            margin = revenue * pct
            expected = q_rate * margin / 1000 * rng.lognormvariate(-0.02, 0.2)
            windows.append(sup.Window(f"Q{q}", _hours(rng, expected), Decimal(f"{revenue:.2f}"),
                                      Decimal(f"{margin:.2f}")))
        accounts.append(Account(windows, drifting))
    return accounts


def judge_support(accounts: list[Account], required: float) -> list[tuple[bool, str]]:
    """(drifting, verdict) per account: verdict is task (acted), escalated or none."""
    spread = sup.dispersion([a.windows[:3] for a in accounts])
    out = []
    for account in accounts:
        rise = sup.support_rise(account.windows[3], account.windows[:3], spread)
        if rise is None or rise.confidence < 0.75:
            verdict = "none"
        elif rise.confidence >= required and spread.trusted:
            verdict = "task"
        else:
            verdict = "escalated"
        out.append((account.drifting, verdict))
    return out


# --- milestones ------------------------------------------------------------------------------------------------
@dataclass
class Project:
    sow: ms.StatementOfWork
    stalled: bool  # the step it is in now is stalled


def milestone_history(seed: int, *, risky: bool) -> list[Project]:
    rng = random.Random(seed)
    pace = {f"P{i}": rng.lognormvariate(0, 0.2) for i in range(12)}
    names = list(SCHEDULE)
    projects = []
    for i in range(SOWS):
        partner = f"P{rng.randrange(12)}"
        start = TODAY - timedelta(days=rng.randrange(0, 540))
        stall_step = rng.randrange(len(names) - 1) if risky and rng.random() < 0.15 else None
        accepted = {names[0]: start}
        day, stalled_now = start, False
        for step in range(len(names) - 1):
            days = STEP_MEDIANS[(names[step], names[step + 1])] * pace[partner] * rng.lognormvariate(0, 0.35)
            if step == stall_step:
                days *= rng.uniform(2.5, 5.0)
            day = day + timedelta(days=max(1, round(days)))
            if day > TODAY:
                stalled_now = step == stall_step
                break
            accepted[names[step + 1]] = day
        sow = ms.StatementOfWork(partner, f"SOW-{i}", Decimal("120000.00"), accepted)
        projects.append(Project(sow, stalled_now))
    return projects


def judge_milestones(projects: list[Project], required: float) -> list[tuple[bool, str]]:
    durations = ms.step_durations([p.sow for p in projects], list(SCHEDULE))
    out = []
    for project in projects:
        if len(project.sow.accepted) == len(SCHEDULE):
            continue  # complete: not an open statement of work
        risk = ms.milestone_risk(project.sow, SCHEDULE, durations, TODAY)
        if risk is None:
            verdict = "none"
        elif risk.confidence >= required:
            verdict = "task"
        else:
            verdict = "escalated"
        out.append((project.stalled, verdict))
    return out


# --- discount behaviour before churn -----------------------------------------------------------------------------
CHURN_PARTNERS = 80
THIS_MONTH = "2027-07"


def churn_history(seed: int, *, linked: bool) -> tuple[list[tuple[dict, str | None]], set[int]]:
    """80 partners over 30 past months (+6 ahead): quotes Poisson(6)/month, own override rate 5-25 %, churn hazard
    1.2 %/month, half by termination, half by going quiet. Linked: the 5 months before a churn, the override rate is
    2.5x. Returns what the agent sees (months up to THIS_MONTH - 1, the churn month when observable) and the partners
    that churn within the 6 months from THIS_MONTH (the truth)."""
    rng = random.Random(seed)
    first = ev_shift(THIS_MONTH, -30)
    seen, truth = [], set()
    for i in range(CHURN_PARTNERS):
        base = rng.uniform(0.05, 0.25)
        churn = next((m for m in range(36) if rng.random() < 0.012), None)
        terminated = rng.random() < 0.5
        months = {}
        for m in range(30):
            alive = churn is None or m < churn
            rate = base * (2.5 if linked and churn is not None and churn - 5 <= m < churn else 1.0)
            quotes = _poisson(rng, 6) if alive else 0
            overrides = sum(rng.random() < min(rate, 0.9) for _ in range(quotes))
            months[ev_shift(first, m)] = ch.Month(100_000 if alive else 0, quotes, overrides)
        if churn is not None and 30 <= churn < 36:
            truth.add(i)
        gone = ev_shift(first, churn) if churn is not None and churn < 30 and terminated else None
        seen.append((months, gone))
    return seen, truth


def ev_shift(month: str, by: int) -> str:
    from revgov.domain.kpis import shift_month

    return shift_month(month, by)


def judge_churn(seen: list[tuple[dict, str | None]], truth: set[int]) -> tuple[bool, list[tuple[bool, str]]]:
    last = ev_shift(THIS_MONTH, -1)
    partners = [(months, ch.churn_month(months, gone, last)) for months, gone in seen]
    found = ch.association(partners, THIS_MONTH)
    established = found is not None and found.established
    out = []
    for i, (months, churned) in enumerate(partners):
        if churned is not None and churned <= last:
            continue  # already gone: not a current partner
        verdict = "task" if established and ch.rising(months, last) else "none"
        out.append((i in truth, verdict))
    return established, out


# --- scoring ---------------------------------------------------------------------------------------------------
def score(verdicts: list[tuple[bool, str]]) -> dict[str, float]:
    positives = [v for truth, v in verdicts if truth]
    negatives = [v for truth, v in verdicts if not truth]
    return {
        "positives": len(positives),
        "negatives": len(negatives),
        "detected": sum(v == "task" for v in positives) / len(positives) if positives else float("nan"),
        "detected_or_escalated": sum(v != "none" for v in positives) / len(positives) if positives else float("nan"),
        "false_task_rate": sum(v == "task" for v in negatives) / len(negatives) if negatives else 0.0,
        "false_escalation_rate": sum(v == "escalated" for v in negatives) / len(negatives) if negatives else 0.0,
    }


def evaluate_churn(seeds: tuple[int, ...]) -> dict[str, float]:
    linked_est = null_est = 0
    linked: list[tuple[bool, str]] = []
    null: list[tuple[bool, str]] = []
    for seed in seeds:
        est, verdicts = judge_churn(*churn_history(seed, linked=True))
        linked_est, linked = linked_est + est, linked + verdicts
        est, verdicts = judge_churn(*churn_history(seed + 50_000, linked=False))
        null_est, null = null_est + est, null + verdicts
    tasked = [truth for truth, v in linked if v == "task"]
    return {
        "linked_histories_established": linked_est / len(seeds),
        "null_histories_established": null_est / len(seeds),
        "linked_precision": sum(tasked) / len(tasked) if tasked else float("nan"),
        "linked_recall": sum(1 for truth, v in linked if truth and v == "task") / max(1, sum(t for t, _ in linked)),
        "linked_base_rate": sum(t for t, _ in linked) / len(linked),
        "null_tasks_per_partner": sum(v == "task" for _, v in null) / len(null),
    }


def evaluate(seeds: tuple[int, ...], *, support_required: float, milestone_required: float) -> dict[str, dict]:
    results: dict[str, list[tuple[bool, str]]] = {"support_drift": [], "support_fair": [],
                                                  "milestones_risky": [], "milestones_fair": []}
    for seed in seeds:
        results["support_drift"] += judge_support(support_history(seed, drift=True), support_required)
        results["support_fair"] += judge_support(support_history(seed + 50_000, drift=False), support_required)
        results["milestones_risky"] += judge_milestones(milestone_history(seed, risky=True), milestone_required)
        results["milestones_fair"] += judge_milestones(milestone_history(seed + 50_000, risky=False),
                                                       milestone_required)
    return {name: score(verdicts) for name, verdicts in results.items()}


if __name__ == "__main__":
    split = sys.argv[1] if len(sys.argv) > 1 else "tuning"
    support_required = float(sys.argv[2]) if len(sys.argv) > 2 else 0.99
    milestone_required = float(sys.argv[3]) if len(sys.argv) > 3 else 0.95
    seeds = HELD_OUT_SEEDS if split == "heldout" else TUNING_SEEDS
    if len(sys.argv) > 4 and sys.argv[4] == "churn":
        print("churn", {k: round(v, 4) for k, v in evaluate_churn(seeds).items()})
        sys.exit(0)
    for name, figures in evaluate(seeds, support_required=support_required,
                                  milestone_required=milestone_required).items():
        print(name, {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()})
