"""The recent features' service tests, run unchanged on the embedded engine (SQLite) and on DynamoDB (moto).

Their own modules run them on the in-memory store (tests/memory_store.py), which the store contract
(test_store_contract.py) proves equivalent to the others one primitive at a time. The features of the last sessions
compose those primitives in ways the contract does not name: a waiting-on-partner pointer committed beside its case
(CASEWAIT), a partner's audit pointers (AUDITBYPARTNER), VAT validation checks, invoice-dispute appeals, tier
reviews, the MDF ledger, territory, tier changes, retention, subscription renewals, sales tax, PA-14.2 reviews of
automated decisions (AUTO_REVIEW and its one-review-per-decision markers), ownership changes, manual legal holds,
entitled 0.00 lines, devices waiting for delivery (AWAITINGDELIVERY), suspensions to the second, bank transfer
requests (BANKTRANSFERREQUEST) with the open balance a run reads, customers' VIES checks and exemption certificates,
and the sweeps that walk them. DESIGN.md, "Two engines behind the same ports": the embedded engine runs the "Same
handlers, same use cases", so the product must behave the same on either; each of those modules' tests, every clause
it quotes, runs here once per engine: the store every runtime of `memory_store` builds is the engine's.

DynamoDB specifics the scenarios meet on moto: the 100-item transaction limit and the conditional writes of the
commit protocol (moto enforces both, tests/aws_emulator.py), LastEvaluatedKey cursors of partner-prefixed lists, and
the tenant-scoped functions' refusal of a commit that writes two tenants (moto enforces no IAM, so the store refuses it
here as DynamoDocumentStore does under REVGOV_TENANT_ROLE_ARN).
"""

from __future__ import annotations

import importlib
import inspect
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.fixtures import FixtureFunctionDefinition
from test_store_contract import dynamodb_endpoint  # noqa: F401  (the moto server, one per module)

import memory_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

# The service tests of the operations added recently (and of the sweeps over them), by feature.
FEATURE_MODULES = (
    "test_partner_waiting",  # CASEWAIT: a partner's waiting items, their pointers and backfill
    "test_watchers_waiting",  # CASEWAIT: watchers refreshing and closing exceptions waiting on the partner
    "test_partner_undecided_cases",  # CASEOPEN: a partner's undecided cases through its pointers, the mark, backfill
    "test_partner_invoice_reads",  # INVOICEKEY: a partner's issued invoices through its month pointers
    "test_tier_review_reads",  # INVOICEKEY + SALESFACT: a partner's sales facts through its invoices
    "test_kpi_partner_reads",  # RBTACCRUAL + SUBSCRIPTION lookup: one partner's KPI reads
    "test_usage_whatif_reads",  # USAGEMONTH: a month's usage records through its pointers, the mark, backfill
    "test_credit_hold_backfill",  # LINECREDIT: credit notes held before 1.46.4 marked held, the mark
    "test_audit_partner_records",  # AUDITBYPARTNER: each partner's audit pointers, pages and cursors
    "test_auditor3_vat_validation",  # VAT/VIES checks and the withholding they cause
    "test_invoice_dispute_appeals",  # invoice-dispute appeals and their four eyes
    "test_redteam2_appeals",
    "test_dispute_decide_by_sweep",  # the decide_by sweep (month_close_watch)
    "test_auditor5_tier_review",  # tier reviews
    "test_redteam3_tier_review_days",
    "test_mdf",  # the MDF ledger, claims and the expiry sweep
    "test_redteam2_mdf",
    "test_auditor5_territory",  # territory
    "test_partner_renewals",  # the term sweep
    "test_partner_lifecycle_sweep",  # the lifecycle sweep
    "test_overdue_credit_hold",  # the credit-hold sweep
    "test_tier_changes",  # tier changes recorded with notice, moved by the lifecycle sweep
    "test_retention_sweep",  # the retention sweep (copilot transcripts)
    "test_subscription_renewals",
    "test_sales_tax",
    "test_partner_audits",  # PA-12.1 / CPA-12.1: audits per partner (prefixed lists), findings, repayment four eyes
    "test_security_incidents",  # PA-11.2 / CPA-11.2: incidents, their watch pointers and the sweep's exceptions
    "test_automated_decision_reviews",  # PA-14.2 reviews of rebate lines, invoice lines, entitlement checks (rvw)
    "test_ownership_changes",  # PA-2.8 ownership changes on the partner record and the screening they make due
    "test_legal_holds",  # manual legal holds (lgh) and the retention sweep they stop
    "test_entitled_services_not_billed",  # entitled services as included 0.00 lines (PA-9.3 / PA-9.4)
    "test_auditor_device_delivery",  # contoso devices waiting for their delivery day (CPA-10.2)
    "test_same_day_suspension_rebates",  # suspensions counted to the second (PA-7.1)
    "test_usage_received_cutoff",  # SOP-3.1 / COP-3.1: the usage cut-off counts from the receipt kept with the event
    "test_storage_gb_month",  # COP-3.1: GB-month the month's average of daily records (average_daily), late ones too
    "test_shipment_billed_once",  # PA-10.1: one shipment billed once whatever ERP id (SHIPMENT by its identity)
    "test_settlement_bank_transfer",  # PA-7.8 / CPA-7.8: standing requests and the open balance read at each run
    "test_customer_vat_validation",  # CUSTOMERVATVALIDATION: a customer's VIES checks and its direct invoices' VAT
    "test_customer_tax_exemption",  # CUSTOMERTAXEXEMPTION: a customer's certificates and its direct invoices' tax
)
# Tests of one engine's own tooling (the embedded engine's CLI on its database file): not a question of parity.
ENGINE_OWN = {"test_the_cli_backfills_the_partner_index_on_the_embedded_engine_once_audited",
              "test_the_cli_backfills_the_pointers_on_the_embedded_engine_once_audited"}


def _adopt(module_name: str) -> None:
    """Each test (and fixture) of the module becomes one of this module too, so pytest runs it here per engine."""
    module = importlib.import_module(module_name)
    for name, value in vars(module).items():
        if isinstance(value, FixtureFunctionDefinition):
            globals().setdefault(name, value)
        elif name.startswith("test_") and inspect.isfunction(value) and value.__module__ == module_name:
            if name not in ENGINE_OWN:
                assert name not in globals(), f"two feature modules define {name}"
                globals()[name] = value


for _module in FEATURE_MODULES:
    _adopt(_module)


def _sqlite(tmp_path: Path) -> Any:
    from revgov.adapters.sqlite_db import Database
    from revgov.adapters.sqlite_store import SqliteDocumentStore

    def make(clock: Any, ids: Any) -> Any:
        return SqliteDocumentStore(Database(tmp_path / f"parity-{uuid.uuid4().hex[:8]}.sqlite"), clock, ids)

    return make


def _dynamodb(endpoint: str) -> Any:
    import boto3

    from revgov.adapters.dynamo import DynamoDocumentStore
    from revgov.adapters.tenant_sessions import CrossTenantWrite
    from revgov.resources import TABLE

    class TenantScopedWrites(DynamoDocumentStore):
        """The table as the tenant-scoped functions reach it in AWS (REVGOV_TENANT_ROLE_ARN set): a commit that
        writes two tenants' items is refused (CrossTenantWrite) before IAM would refuse it, whereas the embedded
        engine would take it. Only provisioning, which runs in the operator function, unscoped, may."""

        operator = False

        def _check_writers(self, tenant_id: str, written: set[str]) -> None:
            if not self.operator and len(written) > 1:
                raise CrossTenantWrite(sorted(written))

    def make(clock: Any, ids: Any) -> Any:
        table = f"parity-{uuid.uuid4().hex[:10]}"
        boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint).create_table(
            **TABLE.create_table_args(table)
        )
        return TenantScopedWrites(table, "us-east-1", clock, ids, host=endpoint)

    return make


def _as_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tenant provisioning (services.tenants.create_tenant) writes the platform registry and the tenant in one
    transaction: in AWS it runs in the operator function, whose store is not tenant-scoped."""
    from revgov.services import tenants

    provision = tenants.create_tenant

    def as_operator(rt: Any, *args: Any, **kwargs: Any) -> Any:
        rt.store.operator = True
        try:
            return provision(rt, *args, **kwargs)
        finally:
            rt.store.operator = False

    monkeypatch.setattr(tenants, "create_tenant", as_operator)


@pytest.fixture(autouse=True, params=["sqlite", "dynamodb"])
def engine_store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every runtime the test builds (memory_store.memory_runtime, Ledger) stores on this engine."""
    if request.param == "sqlite":
        make = _sqlite(tmp_path)
    else:
        make = _dynamodb(request.getfixturevalue("dynamodb_endpoint"))
        _as_operator(monkeypatch)
    monkeypatch.setattr(memory_store, "STORE_FACTORY", make)
    yield request.param


def test_every_feature_module_is_adopted_whole() -> None:
    """A test added to a feature module runs here too: what is adopted is read from the modules, not listed."""
    adopted = {name for name, value in globals().items() if name.startswith("test_") and inspect.isfunction(value)}
    for module_name in FEATURE_MODULES:
        module = sys.modules[module_name]
        own = {n for n, v in vars(module).items() if n.startswith("test_") and inspect.isfunction(v)
               and v.__module__ == module_name and n not in ENGINE_OWN}
        assert own and own <= adopted, module_name


def test_a_commit_writing_two_tenants_is_refused_where_the_functions_are_tenant_scoped(engine_store: str) -> None:
    """Why the DynamoDB runs above prove something of AWS: a use case writing another tenant's items in its commit
    (the embedded engine takes it, one database) is refused there, as under TenantAccessRole; provisioning is not."""
    from revgov.adapters.tenant_sessions import CrossTenantWrite
    from revgov.ports import Changes, Put

    rt, _ = memory_store.memory_runtime("2026-03-01T09:00:00Z")  # provisioned as the operator function does
    changes = Changes(puts=[Put("THING", "a", {"n": 1}), Put("THING", "b", {"n": 2}, tenant_id="contoso")])
    if engine_store == "sqlite":
        rt.store.commit("northwind", changes)
        assert rt.store.get("contoso", "THING", "b") is not None
    else:
        with pytest.raises(CrossTenantWrite):
            rt.store.commit("northwind", changes)
        assert rt.store.get("northwind", "THING", "a") is None and rt.store.get("contoso", "THING", "b") is None
