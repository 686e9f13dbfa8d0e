"""Route modules, one per product area; importing them fills the route table."""


def load_all() -> None:
    from . import (
        allowances,  # noqa: F401
        analytics,  # noqa: F401
        bank_transfer,  # noqa: F401
        billing,  # noqa: F401
        cases,  # noqa: F401
        catalog,  # noqa: F401
        contracts,  # noqa: F401
        copilot,  # noqa: F401
        disputes,  # noqa: F401
        erp,  # noqa: F401
        events,  # noqa: F401
        explain,  # noqa: F401
        history,  # noqa: F401
        mdf,  # noqa: F401
        observability,  # noqa: F401
        overdue,  # noqa: F401
        partner_audits,  # noqa: F401
        partners,  # noqa: F401
        platform,  # noqa: F401
        policy,  # noqa: F401
        portal,  # noqa: F401
        pricing,  # noqa: F401
        rebates,  # noqa: F401
        renewals,  # noqa: F401
        retention,  # noqa: F401
        security_incidents,  # noqa: F401
        subscriptions,  # noqa: F401
        tax_exemptions,  # noqa: F401
        tier_review,  # noqa: F401
        vat_validation,  # noqa: F401
    )
