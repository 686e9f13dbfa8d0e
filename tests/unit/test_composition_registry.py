"""The composition root's registries (issue #21): the use cases dispatched by a stored name are wired in
`runtime.Registry` with real imports, and built on first use, not at import (Lambda cold start).

#21: "Explicit registries built in the composition root (in the manner of cosmicpython's `bootstrap.py`) instead of
`importlib` and `"module:function"` strings"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from revgov.runtime import Registry
from revgov.services import (
    agents,
    credit_notes,
    deals,
    decision_reviews,
    invoice_dispute_appeals,
    invoice_disputes,
    partner_audits,
    partner_type_changes,
    partners,
    pricing,
    rebates,
)
from revgov.services.billing import overdue_charges

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def test_every_effect_name_a_case_carries_resolves_to_its_use_case():
    """A use case stores its effect's name on the case it opens; deciding the case applies that function. The names
    are unchanged, so cases opened before the registry existed still resolve."""
    effects = Registry().effects
    assert set(effects) == {"pricing.approval", "rebate.dispute", "invoice.dispute", "credit_note.approval",
                            "deal.registration", "deal.extension", "partner.activation", "late_payment.charge",
                            "rebate.credit_note", "rebate.dispute_appeal", "invoice.dispute_appeal",
                            "decision.human_review", "partner_audit.repayment", "partner.type_change"}
    stored_by = [
        (pricing.PRICING_EFFECT, pricing.apply_approval),
        (deals.REVIEW_EFFECT, deals.apply_review),
        (deals.EXTENSION_EFFECT, deals.apply_extension),
        (partners.EFFECT, partners.apply_activation_decision),
        (credit_notes.EFFECT, credit_notes.apply_decision),
        (invoice_disputes.EFFECT, invoice_disputes.apply_decision),
        (overdue_charges.EFFECT, overdue_charges.apply_decision),
        ("rebate.dispute", rebates.apply_dispute_decision),
        ("rebate.credit_note", rebates.apply_credit_note_decision),
        ("rebate.dispute_appeal", rebates.apply_appeal_decision),
        (invoice_dispute_appeals.EFFECT, invoice_dispute_appeals.apply_appeal_decision),
        (decision_reviews.EFFECT, decision_reviews.apply_review_decision),
        (partner_audits.EFFECT, partner_audits.apply_decision),  # PA-12.1: the repayment's second finance member
        (partner_type_changes.EFFECT, partner_type_changes.apply_decision),  # PA-2.1: channel ops approve the change
    ]
    for name, effect in stored_by:
        assert effects[name] is effect, name


def test_a_decision_kind_replays_and_shows_through_its_registered_functions():
    registry = Registry()
    assert dict(registry.evaluators) == {"pricing": pricing.evaluate}
    assert dict(registry.views) == {"pricing": pricing.partner_view}


def test_every_agent_name_runs_its_own_module():
    from revgov.services.agents import (
        billing_reconciler,
        certification_watcher,
        discount_churn,
        discount_drift,
        milestones_at_risk,
        support_margin,
        threshold_watcher,
    )

    assert set(Registry().agents) == set(agents.AGENTS)
    assert Registry().agents["discount_drift"] is discount_drift.run
    assert Registry().agents["threshold_watcher"] is threshold_watcher.run
    assert Registry().agents["billing_reconciler"] is billing_reconciler.run
    assert Registry().agents["certification_watcher"] is certification_watcher.run
    assert Registry().agents["support_margin"] is support_margin.run
    assert Registry().agents["milestones_at_risk"] is milestones_at_risk.run
    assert Registry().agents["discount_churn"] is discount_churn.run


def _loaded_after(code: str) -> set[str]:
    """The revgov.services modules a fresh interpreter holds after running `code`."""
    probe = code + "\nimport sys\nprint(' '.join(m for m in sys.modules if m.startswith('revgov.services.')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=FUNCTIONS)
    return set(out.stdout.split())


def test_the_tables_are_built_on_first_use_not_at_import():
    """Cold start: importing the services that dispatch by name loads none of the use cases they dispatch to; reading
    one table loads that table's modules (a replay loads pricing, not rebates)."""
    dispatching = "import revgov.services.cases, revgov.services.decisions, revgov.services.agents"
    dispatched = {"revgov.services.pricing", "revgov.services.rebates", "revgov.services.deals",
                  "revgov.services.credit_notes", "revgov.services.invoice_disputes", "revgov.services.agents.desk",
                  "revgov.services.agents.discount_drift", "revgov.services.agents.threshold_watcher",
                  "revgov.services.agents.support_margin", "revgov.services.agents.milestones_at_risk"}
    assert not _loaded_after(dispatching) & dispatched
    replaying = _loaded_after(dispatching + "\nfrom revgov.runtime import REGISTRY\nREGISTRY.evaluators")
    assert "revgov.services.pricing" in replaying and "revgov.services.rebates" not in replaying
    running = _loaded_after(dispatching + "\nfrom revgov.runtime import REGISTRY\nREGISTRY.agents")
    assert {"revgov.services.agents.discount_drift", "revgov.services.agents.threshold_watcher"} <= running
