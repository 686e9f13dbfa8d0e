"""Clause audit, eleventh round: where the code enforces a rule otherwise than the clause it cites, and where two
clauses apply at once and the agreement's order of precedence decides.

PA-1.3: "If documents conflict, the following order applies: (a) a written amendment signed by both parties; (b) this
Agreement; (c) the Northwind Billing & Service Operations SOP; [...]".

Every expectation is worked by hand from the clause quoted beside it (docs/clause-audit.md, "Eleventh round").
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from test_auditor3_rebates import FINANCE, _filed_dispute  # noqa: E402

from revgov.services import rebates  # noqa: E402


def test_pa_7_9_prevails_over_sop_6_2_the_decision_is_due_15_business_days_after_the_dispute_not_its_acknowledgement():
    """PA-7.9: "Finance acknowledges a dispute within 2 business days and decides it within 15 business days". Both
    periods run from the dispute (the sentence's one subject). SOP-6.2: "(2) acknowledge within 2 business days; [...]
    (5) decide within 15 business days of acknowledgement" would allow up to 2 + 15 = 17; PA-1.3 puts the Agreement
    (b) over the SOP (c), so the decision is due 15 business days after the filing, acknowledged or not (contoso's
    CPA-7.9 "decides within 20 business days" was already counted so).

    Filed Friday 2026-10-09 10:00 UTC; Monday 2026-10-12 is a holiday published for 2026 (PA-1.3). Business days after
    the filing: Oct 13 (1), 14 (2: acknowledge by), 15, 16, 19, 20, 21, 22, 23, 26, 27, 28, 29, 30 (14), Monday
    2026-11-02 (15): decide by 2026-11-02 10:00 UTC. The product said 2026-11-04 10:00 (15 after the acknowledge-by
    day), and after an acknowledgement on Tuesday 2026-10-13 09:00, 2026-11-03 09:00."""
    ledger, dispute = _filed_dispute()
    due = dispute["deadlines"]
    assert (due["acknowledge_by"], due["decide_by"]) == ("2026-10-14T10:00:00.000Z", "2026-11-02T10:00:00.000Z")
    assert (due["decide_from"], due["rule_id"], due["clause"]) == ("filing", "RBT-DISPUTES", "PA-7.9")
    ledger.clock.set("2026-10-13T09:00:00Z")
    acknowledged = rebates.acknowledge_dispute(ledger.rt, FINANCE, dispute["dispute_id"])
    assert acknowledged["deadlines"]["decide_by"] == "2026-11-02T10:00:00.000Z"  # the acknowledgement moves nothing
