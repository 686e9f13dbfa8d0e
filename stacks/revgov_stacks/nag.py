"""cdk-nag (v3: a CDK policy-validation plugin). Every acknowledged finding goes through `acknowledge` with a reason.

cdk-nag v3 removed `NagSuppressions`; the replacement is CDK's own `Validations.of(construct).acknowledge(...)`,
which records the rule id and the reason on the construct (and, with write_suppressions_to_cloud_formation, in the
template's Metadata so the justification ships with the template).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one finding (or one granular finding, `Rule[Finding]`) on `scope` and its children, with a reason."""
    if len(reason) < 20:
        raise ValueError(f"{rule_id}: give a real reason, not {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
