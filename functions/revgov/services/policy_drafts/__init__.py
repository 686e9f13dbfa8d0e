"""Policy drafts: create from the active policy, edit, validate, diff, propose, approve (four eyes), activate.

One module per use case: `editing` (create, edit, amendment), `validation` (problems, diff), `approvals` (propose,
approve, reject, withdraw), `activation` (activate, the schedule, history); `repository` owns the collections.

Every step is one commit with its audit record on the tenant's chain and, from proposal on, an event
(`revgov.policy`: policy.proposed, policy.approved, policy.rejected, policy.activated). The approvers are the roles the
ACTIVE policy names (`policy_changes.approver_roles`, by default finance and legal), fixed when the draft is proposed;
nobody who created, changed or proposed the draft approves it (SOP-4.3 / COP-4.3), and a draft takes effect only once
every role has approved and its effective time has come. Activation makes the draft the tenant's policy; every
version stays stored (POLICY collection), so each decision replays under the version it recorded. A draft may carry
the contract amendment it implements; it becomes the document's next revision in the activation's own commit, never
alone. Where the policy in force has a change calendar (SOP-7.3 / COP-7.2), proposals, approvals and activations keep
to it (`domain/change_calendar.py`).
"""

from .activation import activate, activate_due, active_policy, history
from .approvals import approve, propose, reject, withdraw
from .editing import (
    attach_amendment,
    create_draft,
    detach_amendment,
    get_draft,
    list_drafts,
    patch_policy,
    replace_policy,
)
from .repository import ACTIVATIONS, DRAFTS, SOURCE, load, view
from .validation import diff_draft, problems_of, validate_draft

__all__ = [
    "ACTIVATIONS",
    "DRAFTS",
    "SOURCE",
    "activate",
    "activate_due",
    "active_policy",
    "approve",
    "attach_amendment",
    "create_draft",
    "detach_amendment",
    "diff_draft",
    "get_draft",
    "history",
    "list_drafts",
    "load",
    "patch_policy",
    "problems_of",
    "propose",
    "reject",
    "replace_policy",
    "validate_draft",
    "view",
    "withdraw",
]
