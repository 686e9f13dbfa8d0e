"""The served OpenAPI document matches the routes, and every example request works against the stack."""

import json
import os
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import clock_support
import revgov.edge.api  # noqa: F401  (fills the route table)
from rebate_runs import prepare, settle_approved
from rebates_support import sales_fact
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict
from revgov.domain.rebates.policy import Period, month_index, month_name
from revgov.edge.openapi import example_body
from revgov.edge.registry import OPERATIONS
from revgov.local.demo_partners import demo_application, onboard, onboarded_at_program_start
from revgov.ports import Changes, Put
from revgov.services import cases, mdf_repository, mdf_requests, partners, rebates
from revgov.tenant_files import load_tenant_file
from support import ROOT, Api, example_tenant


def test_openapi_lists_every_operation_with_its_roles(api):
    doc = api.get("/v1/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    served = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    assert served == {(op.path, op.method) for op in OPERATIONS}
    for op in OPERATIONS:
        documented = doc["paths"][op.path][op.method.lower()]
        assert documented["x-revgov-roles"] == sorted(r.value for r in op.roles)
        if op.body_schema:
            assert documented["requestBody"]["content"]["application/json"]["examples"]["default"]["value"]


def test_the_idempotency_key_header_of_a_settlement_is_documented_with_the_keys_it_accepts(api):
    import re

    params = api.get("/v1/openapi.json").json()["paths"]["/v1/rebates/settlements"]["post"]["parameters"]
    [header] = [p for p in params if p["in"] == "header"]
    assert (header["name"], header["required"]) == ("Idempotency-Key", False)
    assert "422" in header["description"]
    pattern = header["schema"]["pattern"]
    assert re.fullmatch(pattern, "close-2026-Q3") and not re.fullmatch(pattern, "bad key with spaces")


class Replay:
    """A fresh tenant with a key per role, to replay examples in."""

    def __init__(self, api: Api, operator: Api, stack: Any) -> None:
        config = example_tenant()
        created = operator.post("/v1/tenants", config).json()
        self.tenant_id = config["tenant_id"]
        self.policy = config["policy"]
        self.rt = stack.runtime
        self.api = api
        self.operator = operator
        self.extra_tenants: list[str] = []
        self.vat_tenant = ""
        self.admin = api.as_key(created["admin_key"]["key"])
        self.by_role = {"operator": operator, "admin": self.admin}
        for role in ("finance", "channel_ops", "legal", "customer_success", "sales", "viewer"):
            self.by_role[role] = api.as_key(self.admin.post("/v1/keys", {"role": role, "label": role}).json()["key"])
        self.onboarding_tenant()

    def tenant_standing(self, status: str) -> str:
        """The replay tenant, suspended or active as asked (each example stands alone: xdist may split the module)."""
        verb = {"active": "resume", "suspended": "suspend"}[status]
        moved = self.operator.post(f"/v1/tenants/{self.tenant_id}/{verb}", {"reason": "replaying an example"})
        assert moved.status_code in (200, 409), moved.text  # 409: already there
        return self.tenant_id

    def open_case(self, kind: str) -> str:
        requester = Principal(self.tenant_id, Role.SALES, "key_01JX0000000000000000000000")
        case, changes = cases.open_case(
            self.rt,
            self.policy,
            kind=kind,
            category="discount_above_tier_cap",
            subject_kind="test",
            subject_id="probe",
            requested_by=requester,
        )
        self.rt.commit(self.tenant_id, changes)
        return case["case_id"]

    def onboarding_tenant(self) -> tuple[str, dict[str, Any]]:
        """The example tenant has no onboarding rules: partner examples replay in a copy of northwind's policy."""
        if not self.extra_tenants:
            config = {**load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")}
            config["tenant_id"] = example_tenant()["tenant_id"]
            # the examples propose changes at once on the machine's date: no SOP-7.3 calendar (tested elsewhere)
            del config["policy"]["policy_change_calendar"]
            del config["policy"]["policy_changes"]["takes_effect"]
            created = self.operator.post("/v1/tenants", config).json()
            self.extra_tenants.append(config["tenant_id"])
            self.onboarding_policy = config["policy"]
            admin = self.api.as_key(created["admin_key"]["key"])
            self.onboarding_admin = admin
            for role in ("channel_ops", "sales", "finance", "legal"):
                key = admin.post("/v1/keys", {"role": role, "label": role}).json()["key"]
                self.by_role[f"partners:{role}"] = self.api.as_key(key)
        return self.extra_tenants[0], self.onboarding_policy

    def partner(self, status: str, tier: int = 0) -> str:
        """A partner in `status` (at the tier of that rank index), onboarded as the demo seed does."""
        tid, policy = self.onboarding_tenant()
        sales, approver = (
            Principal(tid, role, f"key_01JX00000000000000000000{n}") for n, role in enumerate(_SEEDERS, 10)
        )
        application = demo_application("Replay Reseller", "reseller", policy["partner_tiers"][tier])
        goal = "active" if status == "suspended" else status
        partner_id = str(onboard(self.rt, policy, application, goal, sales=sales, approver=approver)["partner_id"])
        if status == "suspended":
            partners.change_status(self.rt, approver, partner_id, "suspended", "replay of reinstate")
        return partner_id

    def partner_at_program_start(self, tier: int = 0) -> str:
        """An active partner onboarded at the program start, as the demo seed's active partner is."""
        tid, policy = self.onboarding_tenant()
        application = demo_application("Replay Reseller", "reseller", policy["partner_tiers"][tier])
        recorder = Principal(tid, Role.ADMIN, f"key_01JX{'0' * 20}09")
        return str(onboarded_at_program_start(self.rt, policy, application, recorder=recorder)["partner_id"])


_SEEDERS = (Role.SALES, Role.CHANNEL_OPS)


def _in_60_days() -> str:
    return (clock_support.today() + timedelta(days=60)).isoformat()


def _rebate_statement(r: Replay) -> tuple[str, str]:
    """A 2026-Q2 settlement with a volume rebate line for a silver partner (settled by another finance key), made
    once per replay: a period is settled once."""
    from revgov.ports import Changes, Put
    from revgov.services import rebates

    if hasattr(r, "rebate_statement"):
        return r.rebate_statement  # type: ignore[no-any-return]
    tid, _ = r.onboarding_tenant()
    partner_id = r.rt.ids.new("ptr")
    cert = {"cert_id": "cert-network-core", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
    partner = {"partner_id": partner_id, "partner_type": "reseller", "status": "active", "tier": "silver",
               "certifications": {"cert-network-core": cert}, "activated_at": "2025-01-10T00:00:00Z", "history": []}
    fact = {"line_id": f"inv_{partner_id[4:]}.1", "invoice_id": f"inv_{partner_id[4:]}", "partner_id": partner_id,
            "period": "2026-05", "service_period": {"start": "2026-05-04", "end": "2026-05-04"}, "kind": "shipment",
            "family": "networking", "sku": "NW-SW-24P", "quantity": "100", "net_amount": "125000.00",
            "cost": "90000.00", "currency": "USD", "event_id": r.rt.ids.new("evt")}
    r.rt.store.commit(tid, Changes(puts=[Put("PARTNER", partner_id, partner)]))
    rebates.project(r.rt, tid, [fact])
    finance = Principal(tid, Role.FINANCE, "key_01JX0000000000000000000FIN")
    _, settled = settle_approved(r.rt, finance, {"period": "2026-Q2"})  # a dispute is on an issued statement
    r.rebate_statement = (settled["settlement_id"], partner_id)  # type: ignore[attr-defined]
    return r.rebate_statement  # type: ignore[attr-defined,no-any-return]


def _prepared_run(r: Replay, period: str) -> str:
    """A settlement run of the replay tenant prepared by a finance key of its own, so the replaying finance key (a
    second member of the finance queue, SOP-7.2) may approve or reject it."""
    tid, _ = r.onboarding_tenant()
    preparer = Principal(tid, Role.FINANCE, "key_01JX0000000000000000000PRP")
    _, prepared = prepare(r.rt, preparer, {"period": period})  # its months issued first (PA-1.2)
    assert prepared["status"] == "prepared", prepared
    return str(prepared["settlement_id"])


def _rebate_dispute(r: Replay) -> str:
    from revgov.services import rebates

    settlement_id, partner_id = _rebate_statement(r)
    tid, _ = r.onboarding_tenant()
    ops = Principal(tid, Role.CHANNEL_OPS, "key_01JX0000000000000000000OPS")
    body = {"settlement_id": settlement_id, "partner_id": partner_id, "program_id": "RBT-VOLUME", "amount": "1250.00",
            "reason": "a May order is missing", "evidence": [{"kind": "order", "reference": "SO-1"}]}
    try:
        return str(rebates.file_dispute(r.rt, ops, body)["dispute_id"])
    except Conflict as still_open:  # one open dispute per statement line: the one the file_dispute example opened
        return str(still_open.extra["open_dispute_id"])


def _rejected_dispute(r: Replay) -> str:
    """A dispute on the statement line rejected by a finance member (not the preparer), and a key of its partner, who
    appeals it (SOP-6.3: "The Partner may appeal once, within 10 business days of the decision")."""
    from revgov.services import rebates

    dispute_id = _rebate_dispute(r)
    tid, _ = r.onboarding_tenant()
    decider = Principal(tid, Role.FINANCE, "key_01JX0000000000000000000DEC")
    rebates.resolve_dispute(r.rt, decider, dispute_id, {"outcome": "rejected", "reason": "the order is counted"})
    partner_id = _rebate_statement(r)[1]
    minted = r.onboarding_admin.post("/v1/keys", {"role": "partner", "label": "appeal", "partner_id": partner_id})
    r.by_role["appeal:partner"] = r.api.as_key(minted.json()["key"])
    return dispute_id


def _automated_decision(r: Replay) -> str:
    """A quote check at list price by an active partner's own key (`review:partner`): an automated decision, final,
    whose review that partner requests (PA-14.2 / CPA-14.2: "within 30 days of being notified of it")."""
    partner_id = r.partner("active", 1)
    minted = r.onboarding_admin.post("/v1/keys", {"role": "partner", "label": "review", "partner_id": partner_id})
    r.by_role["review:partner"] = r.api.as_key(minted.json()["key"])
    quote = {"partner_id": partner_id, "customer": {"id": "CUST-REVIEW", "name": "Review Clinic"},
             "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "0.00"}]}
    checked = r.by_role["review:partner"].post("/v1/pricing/check", quote)
    assert checked.status_code == 200 and checked.json()["status"] == "final", checked.text
    return str(checked.json()["decision_id"])


def _issued_invoice(r: Replay, partner_id: str | None = None) -> str:
    """An invoice of a partner issued now (so inside the SOP-6.1 window), with one 1,250.00 line to dispute."""
    from decimal import Decimal

    from revgov.domain import billing as core
    from revgov.ports import Changes, Put
    from revgov.services import billing

    tid, _ = r.onboarding_tenant()
    now = r.rt.clock.now_iso()
    header = core.new_invoice(
        invoice_id=r.rt.ids.new("inv"), partner_id=partner_id or r.rt.ids.new("ptr"), period="2026-05", currency="USD",
        opened_at=now,
    )
    draft = core.LineDraft(
        kind="shipment", description="24-port managed switch", family="networking", sku="NW-SW-24P",
        quantity=Decimal(1), unit_price=Decimal("1250.00"), amount=Decimal("1250.00"), cost=Decimal("900.00"),
        service_period=core.ServicePeriod.month("2026-05"), order_ref="SO-1", rules=(),
    )  # fmt: skip
    header, (line,) = core.add_lines(header, [draft], event_id="evt", erp_event_id="ERP-1", posted_at=now)
    header = {**header, "status": "finalized", "finalized_at": now, "finalized_by": "finance:key_x"}
    r.rt.store.commit(
        tid,
        Changes(
            puts=[
                Put(billing.INVOICES, header["invoice_id"], header),
                Put(billing.LINES, f"{header['invoice_id']}#00001", line),
            ]
        ),
    )
    return str(header["invoice_id"])


def _legal_hold(r: Replay) -> str:
    """A legal hold legal placed on an active partner of the onboarding tenant (docs/retention.md "Legal hold")."""
    from revgov.services import retention

    tid, _ = r.onboarding_tenant()
    legal = Principal(tid, Role.LEGAL, "key_01JX0000000000000000000LGH")
    placed = retention.place_hold(r.rt, legal, {"partner_id": r.partner("active"), "matter": "litigation",
                                                "reason": "replay"})  # fmt: skip
    return str(placed["hold_id"])


def _partner_case(r: Replay, kind: str, *, waiting: bool) -> str:
    """An approval or exception of an active partner of the onboarding tenant, in the channel_ops queue; `waiting`:
    channel ops asked the partner (SOP-1.3 "waiting on partner"), and `reply:partner` is a key of that partner."""
    from revgov.services import case_waiting

    tid, policy = r.onboarding_tenant()
    partner_id = r.partner("active")
    requester = Principal(tid, Role.SALES, "key_01JX0000000000000000000000")
    case, changes = cases.open_case(r.rt, policy, kind=kind, category="discount_above_tier_cap", subject_kind="test",
                                    subject_id="probe", requested_by=requester, partner_id=partner_id)  # fmt: skip
    r.rt.commit(tid, changes)
    if waiting:
        asker = Principal(tid, Role.CHANNEL_OPS, "key_01JX0000000000000000000ASK")
        case_waiting.ask_partner(r.rt, asker, kind, case["case_id"], "the end customer's legal name?")
        minted = r.onboarding_admin.post("/v1/keys", {"role": "partner", "label": "reply", "partner_id": partner_id})
        r.by_role["reply:partner"] = r.api.as_key(minted.json()["key"])
    return str(case["case_id"])


def _own_key_id(r: Replay, role: str) -> str:
    """The key id of the replay's key for `role` (GET /v1/me)."""
    return str(r.by_role[role].get("/v1/me").json()["key_id"])


def _rejected_invoice_dispute(r: Replay) -> str:
    """A line of an active partner's issued invoice disputed by finance for it and rejected by another finance member
    now, and `ivd:partner` a key of that partner, who appeals it (SOP-6.3: "within 10 business days of the
    decision")."""
    from revgov.services import invoice_disputes

    tid, _ = r.onboarding_tenant()
    partner_id = r.partner("active")
    invoice_id = _issued_invoice(r, partner_id)
    filer = Principal(tid, Role.FINANCE, "key_01JX0000000000000000000IVF")
    dispute = invoice_disputes.file_dispute(r.rt, filer, invoice_id, {"line_no": 1, "reason": "billed twice"})
    decider = Principal(tid, Role.FINANCE, "key_01JX0000000000000000000IVR")
    cases.decide_case(r.rt, decider, "approval", dispute["approval_id"], "rejected", "shipped and signed for")
    minted = r.onboarding_admin.post("/v1/keys", {"role": "partner", "label": "appeal", "partner_id": partner_id})
    r.by_role["ivd:partner"] = r.api.as_key(minted.json()["key"])
    return str(dispute["dispute_id"])


def _vat_partner(r: Replay) -> str:
    """A partner of a copy of contoso's policy (CPA-7.8 / CPA-2.3: the VAT check rule is contoso's) with a finance
    key `vat:finance` to record its check."""
    from revgov.ports import Changes, Put

    if "vat:finance" not in r.by_role:
        config = {**load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")}
        config["tenant_id"] = example_tenant()["tenant_id"]
        created = r.operator.post("/v1/tenants", config).json()
        r.extra_tenants.append(config["tenant_id"])
        admin = r.api.as_key(created["admin_key"]["key"])
        minted = admin.post("/v1/keys", {"role": "finance", "label": "vat"}).json()["key"]
        r.by_role["vat:finance"] = r.api.as_key(minted)
        r.vat_tenant = config["tenant_id"]
    partner_id = r.rt.ids.new("ptr")
    record = {"partner_id": partner_id, "legal_name": "Replay GmbH", "partner_type": "reseller", "status": "active",
              "tier": "authorized", "country": "DE"}  # fmt: skip
    r.rt.store.commit(r.vat_tenant, Changes(puts=[Put("PARTNER", partner_id, record)]))
    return str(partner_id)


def _vat_customer(r: Replay) -> str:
    """A customer id of the VAT tenant (contoso's policy), which `vat:finance` records a VIES check for."""
    _vat_partner(r)
    return "CUST-DIR-1"


def _bank_transfer_requested(r: Replay) -> str:
    """An active partner of the onboarding tenant whose request for settlement by bank transfer stands (PA-7.8)."""
    from revgov.services.rebates import bank_transfer

    tid, _ = r.onboarding_tenant()
    partner_id = r.partner("active")
    bank_transfer.request(r.rt, Principal(tid, Role.CHANNEL_OPS, f"key_01JX{'0' * 20}11"), partner_id, {})
    return partner_id


def _exemption_filed(r: Replay) -> str:
    """An active partner of the onboarding tenant (northwind's policy: its sales-tax table) with the example's
    exemption certificate for US-CA on file, as the partner's own filing would leave it (PA-10.1)."""
    tid, _ = r.onboarding_tenant()
    partner_id = r.partner("active", 1)
    record = r.rt.store.get(tid, "PARTNER", partner_id)
    filed = {"document_type": "exemption_certificate", "reference": "dms://exemptions/ca-resale.pdf",
             "checksum": "sha256:" + "0" * 64, "issued_at": clock_support.today().isoformat(), "expires_at": None,
             "jurisdiction": "US-CA", "recorded_at": r.rt.clock.now_iso(), "recorded_by": "partner:replay"}
    documents = {**record.data.get("documents", {}), "exemption_certificate:US-CA": filed}
    r.rt.store.commit(tid, Changes(puts=[Put("PARTNER", partner_id, {**record.data, "documents": documents},
                                             expected_version=record.version)]))
    return partner_id


def _overdue_invoice(r: Replay) -> dict[str, str]:
    """The prepare_late_payment_charge body: an invoice of 1,250.00 issued 70 days ago (net 30: 40 days overdue),
    charged through today."""
    from revgov.domain import billing as core
    from revgov.ports import Changes
    from revgov.services import billing

    tid, _ = r.onboarding_tenant()
    issued = (clock_support.now() - timedelta(days=70)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    header = core.new_invoice(invoice_id=r.rt.ids.new("inv"), partner_id=r.rt.ids.new("ptr"), period="2026-05",
                              currency="USD", opened_at=issued)  # fmt: skip
    header = {**header, "status": "finalized", "finalized_at": issued, "finalized_by": "finance:key_x",
              "total": "1250.00", "line_count": 1}  # fmt: skip
    r.rt.store.commit(tid, Changes(puts=[billing.invoice_put(header, None)]))
    return {"invoice_id": header["invoice_id"], "through": clock_support.today().isoformat()}


def _history_rows(partner_id: str) -> dict[str, Any]:
    """The import_history example's rows for a partner of this stack, dated in a month that has ended."""
    op = next(o for o in OPERATIONS if o.name == "import_history")
    body = example_body(op)
    last_month_end = (clock_support.today().replace(day=1) - timedelta(days=1)).isoformat()
    lines = [{**row, "partner_id": partner_id, "invoice_date": last_month_end, "service_date": last_month_end}
             for row in body["lines"]]  # fmt: skip
    payments = [{**row, "partner_id": partner_id, "paid_on": last_month_end} for row in body["payments"]]
    return {"lines": lines, "payments": payments}


def _approved_deal(r: Replay) -> str:
    """An approved registration of an active silver partner in the replay tenant (PA-5.3: only such a one may ask for
    its extension), registered by sales and approved by another key of channel ops."""
    from revgov.services import deals

    tid, _ = r.onboarding_tenant()
    sales = Principal(tid, Role.SALES, "key_01JX0000000000000000000SLS")
    ops = Principal(tid, Role.CHANNEL_OPS, "key_01JX0000000000000000000OPS")
    customer = {"id": f"CUST-{r.rt.ids.new('dl')[-8:]}", "name": "Replay Customer", "contact": "Dana Ortiz"}
    body = {"partner_id": r.partner("active", 1), "customer": customer, "family": "networking",
            "estimated_value": "84000.00", "expected_close": _in_60_days()}
    deal = deals.register(r.rt, sales, body)
    cases.decide_case(r.rt, ops, "approval", deal["approval_id"], "approved", None)
    return str(deal["deal_id"])


def _contract(r: Replay, document: str) -> str:
    """The put_contract example stored in the replay tenant (a no-op if it is there already)."""
    op = next(o for o in OPERATIONS if o.name == "put_contract")
    body = example_body(op)
    response = r.by_role["admin"].request("PUT", f"/v1/contracts/{document}", body)
    assert response.status_code == 200, response.text
    return document


def _policy_draft(r: Replay, *, changed: bool = False, proposed: bool = False) -> str:
    """A draft of the onboarding tenant's policy (its margin floor raised when asked, and proposed) by a channel ops
    key of its own, so the replaying finance key may approve or reject it."""
    from clause_amendment import move_margin_floor
    from revgov.services import policy_drafts

    tid, _ = r.onboarding_tenant()
    author = Principal(tid, Role.CHANNEL_OPS, "key_01JX0000000000000000000PDR")
    draft = policy_drafts.create_draft(r.rt, author, {"reason": "replay"})
    if changed or proposed:
        floor = draft["policy"]["pricing"]["margin_floor"]["percent"]
        move_margin_floor(r.rt, author, draft["draft_id"], floor, "13")  # its clause amended with it: the clause wins
    if proposed:
        policy_drafts.propose(r.rt, author, draft["draft_id"], {})
    return str(draft["draft_id"])


def _mdf_partner(r: Replay) -> tuple[str, str]:
    """An active silver partner of the onboarding tenant, activated a year ago, with 500,000.00 invoiced in the
    previous Quarter (PA-9.5: its 2% accrues this Quarter, 10,000.00), and its tenant id."""
    tid, _ = r.onboarding_tenant()
    partner_id = r.partner("active", 1)
    record = r.rt.store.get(tid, "PARTNER", partner_id)
    year_ago = (clock_support.now() - timedelta(days=400)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    held = {cid: {**cert, "earned_at": year_ago[:10]} for cid, cert in record.data["certifications"].items()}
    backdated = {**record.data, "activated_at": year_ago, "certifications": held}  # silver since a year ago
    r.rt.store.commit(tid, Changes(puts=[Put("PARTNER", partner_id, backdated, expected_version=record.version)]))
    previous = Period.containing(month_index(clock_support.today()), "quarter").shifted(-3)
    month = month_name(previous.first + 1)
    rebates.project(r.rt, tid, [sales_fact({"id": f"{partner_id}-mdf", "partner": partner_id, "month": month,
                                            "amount": "500000.00"}, {})])
    return tid, partner_id


def _mdf_activity(r: Replay, *, ended: bool) -> tuple[str, str]:
    """An MDF activity of such a partner requested by its own key: upcoming and requested, or ended three days ago
    and approved before it started (written as channel ops approved it then)."""
    tid, partner_id = _mdf_partner(r)
    key = Principal(tid, Role.PARTNER, "key_01JX0000000000000000000PMD", partner_id)
    today = clock_support.today()
    activity = mdf_requests.request_activity(r.rt, key, partner_id, {
        "title": "Replay roadshow", "starts_on": (today + timedelta(days=10)).isoformat(),
        "ends_on": (today + timedelta(days=12)).isoformat(), "planned_amount": "9000.00"})
    if ended:
        stored, version = mdf_repository.activity(r.rt, tid, partner_id, activity["activity_id"])
        moved = {**stored, "status": "approved", "decided_by": "channel_ops:key_01JX0000000000000000000OPS",
                 "starts_on": (today - timedelta(days=5)).isoformat(),
                 "ends_on": (today - timedelta(days=3)).isoformat()}
        r.rt.store.commit(tid, Changes(puts=[mdf_repository.activity_put(moved, version)]))
    return partner_id, str(activity["activity_id"])


def _mdf_claim(r: Replay) -> tuple[str, str]:
    """A submitted claim of 100.00 on such an ended activity, by the partner's own key."""
    partner_id, activity_id = _mdf_activity(r, ended=True)
    tid, _ = r.onboarding_tenant()
    key = Principal(tid, Role.PARTNER, "key_01JX0000000000000000000PMD", partner_id)
    claim = mdf_requests.submit_claim(r.rt, key, partner_id, {"activity_id": activity_id, "amount": "100.00",
                                                              "evidence": {"proof_of_execution": "dms://x",
                                                                           "invoices": ["SUP-1"]}})
    return partner_id, str(claim["claim_id"])


def _audit_partner(r: Replay, stage: str) -> dict[str, str]:
    """A partner of the onboarding tenant (northwind's policy: PA-12.1's 30 days' notice), new each time (at most one
    audit per Program Year), and for `findings` / `close` an audit of it that started today, written as scheduling
    it 30 days ago would have left it (`close`: with the previous Quarter's finding recorded)."""
    from revgov.domain import partner_audits as audit_rules
    from revgov.services import partner_audits

    tid, _ = r.onboarding_tenant()
    partner_id = r.rt.ids.new("ptr")
    record = {"partner_id": partner_id, "legal_name": "Audited Replay LLC", "partner_type": "reseller",
              "status": "active", "tier": "silver", "country": "US"}  # fmt: skip
    r.rt.store.commit(tid, Changes(puts=[Put("PARTNER", partner_id, record)]))
    if stage == "schedule":
        return {"partner_id": partner_id}
    today = clock_support.today()
    audit_id = r.rt.ids.new("pau")
    audit = {"audit_id": audit_id, "partner_id": partner_id, "status": "scheduled", "auditor": None, "scope": None,
             "starts_on": today.isoformat(), "program_year": today.year,
             "notice": {"given_at": r.rt.clock.now_iso(), "period": "30 days' written notice",
                        "earliest_start": today.isoformat()},
             "allowed_by_discrepancy_of": None, "scheduled_by": "finance:key_01JX0000000000000000000AUD",
             "findings": [], "discrepancy_found": False, "overpaid_above_percent": "5", "audit_cost": None,
             "repayment": None, "closed_at": None, "closed_by": None, "rule_id": "PTR-AUDIT", "clause": "PA-12.1"}
    if stage == "close":
        zero = {k: audit_rules.ZERO for k in audit_rules.INCENTIVES}
        audit["findings"] = [audit_rules.finding(audit_rules.AuditRule.of(r.onboarding_tenant()[1]) or _never(),
                                                 _previous_quarter(), zero, zero, at=r.rt.clock.now_iso(),
                                                 by="finance:key_01JX0000000000000000000AUD")]
    key = f"{partner_id}#{audit_id}"
    r.rt.store.commit(tid, Changes(puts=[Put(partner_audits.AUDITS, key, audit)]))
    return {"partner_id": partner_id, "audit_id": audit_id}


def _incident(r: Replay) -> str:
    """An incident affecting a partner's data of the onboarding tenant, recorded by legal a minute ago, unnotified."""
    from revgov.services import security_incidents

    tid, _ = r.onboarding_tenant()
    legal = Principal(tid, Role.LEGAL, "key_01JX0000000000000000000LGL")
    incident = security_incidents.record(r.rt, legal, {"partner_id": r.partner("active", 1), "summary": "replay",
                                                       "became_aware_at": r.rt.clock.now_iso()})  # fmt: skip
    return str(incident["incident_id"])


def _never() -> Any:
    raise AssertionError("northwind's policy has a partner_audits rule")


def _previous_quarter() -> str:
    return Period.containing(month_index(clock_support.today()), "quarter").shifted(-3).name


def _audit_start(r: Replay) -> str:
    """The first day an audit may start when scheduled now (PA-12.1: 30 days' written notice, a business day)."""
    from revgov.domain import partner_audits as audit_rules
    from revgov.domain.calendar import BusinessCalendar
    from revgov.domain.time import instant

    policy = r.onboarding_tenant()[1]
    rule = audit_rules.AuditRule.of(policy) or _never()
    return rule.earliest_start(instant(r.rt.clock.now_iso()), BusinessCalendar.from_policy(policy)).isoformat()


def _last_january_review() -> str:
    """The latest 15 January not after today: a day of the annual tier review (PA-3.6 / CPA-3.5)."""
    today = clock_support.today()
    year = today.year if (today.month, today.day) >= (1, 15) else today.year - 1
    return f"{year}-01-15"


# What each example needs to exist first: path values, the role that replays it, and (third, optional) the body
# fields that must name objects of this stack (ids, dates relative to today) instead of the documented ones.
PREPARE: dict[str, Callable[[Replay], tuple[Any, ...]]] = {
    "check_quote": lambda r: ({}, "partners:sales", {"partner_id": r.partner("active", 1)}),
    "register_deal": lambda r: (
        {},
        "partners:sales",
        {"partner_id": r.partner("active", 1), "expected_close": _in_60_days()},
    ),
    "request_deal_extension": lambda r: (
        {"deal_id": _approved_deal(r)},
        "partners:sales",
        {"proposal_date": clock_support.today().isoformat()},
    ),
    "record_deal_order": lambda r: (
        {"deal_id": _approved_deal(r)}, "partners:channel_ops", {"accepted_at": r.rt.clock.now_iso()}
    ),
    "create_tenant": lambda r: ({}, "operator"),
    "suspend_tenant": lambda r: ({"tenant_id": r.tenant_standing("active")}, "operator"),
    "resume_tenant": lambda r: ({"tenant_id": r.tenant_standing("suspended")}, "operator"),
    "create_tenant_key": lambda r: ({"tenant_id": r.tenant_id}, "operator"),
    "create_key": lambda r: ({}, "admin"),
    # loopback is accepted on a local stack only; a type the replay never emits, so nothing is delivered to it
    "create_subscription": lambda r: (
        {}, "admin", {"url": "http://127.0.0.1:9/revgov-events", "event_types": ["invoice.finalized"]}
    ),
    "rotate_webhook_secret": lambda r: ({"tenant_id": r.tenant_id}, "operator"),
    "decide_approval": lambda r: ({"approval_id": r.open_case("approval")}, "channel_ops"),
    "resolve_exception": lambda r: ({"exception_id": r.open_case("exception")}, "channel_ops"),
    "reroute_exception": lambda r: ({"exception_id": _partner_case(r, "exception", waiting=False)},
                                    "partners:channel_ops"),
    "ask_copilot": lambda r: ({}, "legal"),
    "put_contract": lambda r: ({"document": "FRA"}, "admin"),
    "put_retention": lambda r: ({}, "admin"),
    "amend_contract": lambda r: ({"document": _contract(r, "FRA")}, "admin"),
    "create_partner": lambda r: ({}, "partners:sales"),
    "amend_partner_terms": lambda r: ({"partner_id": r.partner("pending_documents")}, "partners:sales"),
    "add_partner_document": lambda r: ({"partner_id": r.partner("pending_documents")}, "partners:channel_ops"),
    "add_partner_certification": lambda r: ({"partner_id": r.partner("pending_documents")}, "partners:channel_ops"),
    # the registered tier's partner holds the catalogue's first certification, earned 60 days before today
    "record_certification_departure": lambda r: (
        {"partner_id": r.partner("active")}, "partners:channel_ops",
        {"certification_id": r.onboarding_tenant()[1]["certifications"][0]["id"],
         "last_day": clock_support.today().isoformat()},
    ),
    # a notice for the next Program Year's end is in time whatever today is (PA-13.1: 60 days; CPA-13.1: 90)
    "give_partner_non_renewal": lambda r: (
        {"partner_id": r.partner("active")}, "partners:channel_ops",
        {"effective_at": f"{int(r.rt.clock.now_iso()[:4]) + 1}-12-31"},
    ),
    # PA-3.6 / CPA-3.5: January's review of a tier-1 partner with no revenue the year before moves it down (PA-3.7);
    # the partner was active by then (a review day before its activation is a 422)
    "record_tier_change": lambda r: (
        {"partner_id": r.partner_at_program_start(1)}, "partners:channel_ops", {"on": _last_january_review()},
    ),
    "suspend_partner": lambda r: ({"partner_id": r.partner("active")}, "partners:channel_ops"),
    "reinstate_partner": lambda r: ({"partner_id": r.partner("suspended")}, "partners:channel_ops"),
    "terminate_partner": lambda r: ({"partner_id": r.partner("active")}, "partners:channel_ops"),
    "settle_period": lambda r: ({}, "partners:finance"),
    "file_dispute": lambda r: (
        {}, "partners:channel_ops", dict(zip(("settlement_id", "partner_id"), _rebate_statement(r), strict=True))
    ),
    "resolve_dispute": lambda r: ({"dispute_id": _rebate_dispute(r)}, "partners:finance"),
    "appeal_dispute": lambda r: ({"dispute_id": _rejected_dispute(r)}, "appeal:partner"),
    "approve_settlement": lambda r: ({"settlement_id": _prepared_run(r, "2026-Q1")}, "partners:finance"),
    "reject_settlement": lambda r: ({"settlement_id": _prepared_run(r, "2025-Q4")}, "partners:finance"),
    "file_invoice_dispute": lambda r: ({"invoice_id": _issued_invoice(r)}, "partners:finance"),
    "appeal_invoice_dispute": lambda r: ({"invoice_dispute_id": _rejected_invoice_dispute(r)}, "ivd:partner"),
    "request_decision_review": lambda r: ({"decision_id": _automated_decision(r)}, "review:partner"),
    # PA-14.2: channel ops files the review of an issued invoice's line on its partner's behalf
    "request_automated_review": lambda r: (
        {}, "partners:channel_ops", {"invoice_id": _issued_invoice(r, r.partner("active")), "line_no": 1}
    ),
    # PA-2.8: channel ops records an ownership change of an active partner, today
    "record_partner_ownership_change": lambda r: (
        {"partner_id": r.partner("active")}, "partners:channel_ops", {"changed_on": clock_support.today().isoformat()}
    ),
    "place_legal_hold": lambda r: ({}, "partners:legal", {"partner_id": r.partner("active")}),
    "lift_legal_hold": lambda r: ({"hold_id": _legal_hold(r)}, "partners:legal"),
    "ask_partner_approval": lambda r: ({"approval_id": _partner_case(r, "approval", waiting=False)},
                                       "partners:channel_ops"),
    "ask_partner_exception": lambda r: ({"exception_id": _partner_case(r, "exception", waiting=False)},
                                        "partners:channel_ops"),
    # SOP-1.3: a member of the queue assigns the item to a member of that queue (here, the caller's own key)
    "assign_approval": lambda r: ({"approval_id": _partner_case(r, "approval", waiting=False)},
                                  "partners:channel_ops", {"assignee": _own_key_id(r, "partners:channel_ops")}),
    "assign_exception": lambda r: ({"exception_id": _partner_case(r, "exception", waiting=False)},
                                   "partners:channel_ops", {"assignee": _own_key_id(r, "partners:channel_ops")}),
    "partner_reply_approval": lambda r: ({"approval_id": _partner_case(r, "approval", waiting=True)}, "reply:partner"),
    "partner_reply_exception": lambda r: ({"exception_id": _partner_case(r, "exception", waiting=True)},
                                          "reply:partner"),
    "prepare_late_payment_charge": lambda r: ({}, "partners:finance", _overdue_invoice(r)),
    "import_catalog": lambda r: ({}, "partners:finance"),
    # PA-7.8: channel ops asks on an active partner's behalf; finance withdraws a request standing for another one
    "request_bank_transfer": lambda r: ({"partner_id": r.partner("active")}, "partners:channel_ops"),
    # PA-2.1: channel ops files an active reseller's application to become an MSP (the example's body)
    "request_partner_type_change": lambda r: ({"partner_id": r.partner("active")}, "partners:channel_ops"),
    "withdraw_bank_transfer": lambda r: ({"partner_id": _bank_transfer_requested(r)}, "partners:finance"),
    # PA-8.1 / CPA-8.1: a customer of the direct invoice, its VIES check in the VAT tenant, its certificate in the
    # sales-tax one (PA-10.1), issued a month ago and valid for a year from today
    "record_customer_vat_validation": lambda r: (
        {"customer_id": _vat_customer(r)}, "vat:finance", {"checked_at": r.rt.clock.now_iso()}
    ),
    "record_customer_tax_exemption": lambda r: (
        {"customer_id": "CUST-CA-1"}, "partners:finance",
        {"issued_at": (clock_support.today() - timedelta(days=30)).isoformat(),
         "expires_at": (clock_support.today() + timedelta(days=365)).isoformat()},
    ),
    "record_vat_validation": lambda r: (
        {"partner_id": _vat_partner(r)}, "vat:finance", {"checked_at": r.rt.clock.now_iso()}
    ),
    "verify_tax_exemption": lambda r: (
        {"partner_id": _exemption_filed(r)}, "partners:finance",
        {"expires_at": (clock_support.today() + timedelta(days=365)).isoformat()},
    ),
    "create_policy_draft": lambda r: ({}, "partners:channel_ops"),
    "patch_policy_draft": lambda r: ({"draft_id": _policy_draft(r)}, "partners:channel_ops"),
    "replace_policy_draft": lambda r: (
        {"draft_id": _policy_draft(r)}, "partners:channel_ops", {"policy": r.onboarding_tenant()[1]}
    ),
    "whatif_policy_draft": lambda r: ({"draft_id": _policy_draft(r)}, "partners:finance"),
    "whatif_policy_draft_rebates": lambda r: ({"draft_id": _policy_draft(r)}, "partners:finance"),
    "whatif_policy_draft_usage": lambda r: ({"draft_id": _policy_draft(r)}, "partners:finance"),
    "whatif_policy_draft_billing": lambda r: ({"draft_id": _policy_draft(r)}, "partners:finance"),
    "propose_policy_draft": lambda r: (  # revision 3: the patch and the clause amended with it
        {"draft_id": _policy_draft(r, changed=True)}, "partners:channel_ops", {"expected_revision": 3}
    ),
    "attach_policy_amendment": lambda r: ({"draft_id": _policy_draft(r)}, "partners:legal"),
    "set_policy_shadow": lambda r: ({"draft_id": _policy_draft(r, proposed=True)}, "partners:channel_ops"),
    "approve_policy_draft": lambda r: ({"draft_id": _policy_draft(r, proposed=True)}, "partners:finance"),
    "reject_policy_draft": lambda r: ({"draft_id": _policy_draft(r, proposed=True)}, "partners:finance"),
    "import_history": lambda r: ({}, "partners:finance", _history_rows(r.partner("active"))),
    "request_mdf_activity": lambda r: (
        {"partner_id": r.partner("active", 1)}, "partners:channel_ops",
        {"starts_on": (clock_support.today() + timedelta(days=10)).isoformat(),
         "ends_on": (clock_support.today() + timedelta(days=12)).isoformat()},
    ),
    "approve_mdf_activity": lambda r: (
        dict(zip(("partner_id", "activity_id"), _mdf_activity(r, ended=False), strict=True)), "partners:channel_ops"
    ),
    "reject_mdf_activity": lambda r: (
        dict(zip(("partner_id", "activity_id"), _mdf_activity(r, ended=False), strict=True)), "partners:channel_ops"
    ),
    "submit_mdf_claim": lambda r: (
        {"partner_id": (found := _mdf_activity(r, ended=True))[0]}, "partners:channel_ops", {"activity_id": found[1]}
    ),
    "approve_mdf_claim": lambda r: (
        dict(zip(("partner_id", "claim_id"), _mdf_claim(r), strict=True)), "partners:finance"
    ),
    "reject_mdf_claim": lambda r: (
        dict(zip(("partner_id", "claim_id"), _mdf_claim(r), strict=True)), "partners:finance"
    ),
    "schedule_partner_audit": lambda r: (
        _audit_partner(r, "schedule"), "partners:legal", {"starts_on": _audit_start(r)}
    ),
    "record_partner_audit_finding": lambda r: (
        _audit_partner(r, "findings"), "partners:finance", {"quarter": _previous_quarter()}
    ),
    "close_partner_audit": lambda r: (_audit_partner(r, "close"), "partners:finance"),
    "record_security_incident": lambda r: (
        {}, "partners:legal", {"partner_id": r.partner("active", 1), "became_aware_at": r.rt.clock.now_iso()}
    ),
    "record_security_incident_notice": lambda r: (
        {"incident_id": _incident(r)}, "partners:legal", {"notified_at": r.rt.clock.now_iso()}
    ),
}
ORDER = ["suspend_tenant", "resume_tenant"]


@pytest.fixture(scope="module")
def replay(api, operator, stack):
    replay = Replay(api, operator, stack)
    yield replay
    for tenant_id in (replay.tenant_id, *replay.extra_tenants):
        operator.delete(f"/v1/tenants/{tenant_id}")


def test_every_body_operation_has_a_preparer():
    assert {op.name for op in OPERATIONS if op.body_schema} <= set(PREPARE)


@pytest.mark.parametrize(
    "op",
    sorted(
        (op for op in OPERATIONS if op.body_schema),
        key=lambda o: (o.name in ORDER, ORDER.index(o.name) if o.name in ORDER else 0),
    ),
    ids=lambda op: op.name,
)
def test_the_example_request_is_accepted_by_the_running_stack(op, replay, api):
    doc = api.get("/v1/openapi.json").json()
    example = doc["paths"][op.path][op.method.lower()]["requestBody"]["content"]["application/json"]["examples"][
        "default"
    ]["value"]
    values, role, *overrides = PREPARE[op.name](replay)
    example = {**example, **(overrides[0] if overrides else {})}
    if op.name == "create_tenant":  # the example's id is taken by the time it is replayed twice
        example = {**example, "tenant_id": example_tenant()["tenant_id"]}
    response = replay.by_role[role].request(op.method, op.path.format(**values), example)
    assert 200 <= response.status_code < 300, (op.name, response.status_code, response.text)
    dump = os.environ.get("REVGOV_DUMP_RESPONSES")  # test_response_schemas.py: answers to write a schema from
    if dump:
        Path(dump, f"{op.name}.{role.split(':')[-1]}.json").write_text(json.dumps(response.json(), indent=1))
    if op.response_schema:  # the answer is what the contract says it is
        from revgov import schemas

        assert not schemas.problems(op.response_schema, response.json()), (op.name, response.text[:800])
    if op.name == "create_tenant":
        replay.operator.delete(f"/v1/tenants/{example['tenant_id']}")


def test_the_contract_is_versioned_and_the_changelog_names_the_version(api):
    """docs/api-changelog.md: "its `info.version` is the newest entry here"."""
    spec = api.get("/v1/openapi.json").json()
    changelog = (ROOT / "docs" / "api-changelog.md").read_text()
    newest = re.search(r"^## (\d+\.\d+\.\d+)", changelog, re.M)
    assert newest and spec["info"]["version"] == newest.group(1)


def test_every_reference_names_a_whole_component(api):
    """openapi-python-client resolves only `#/components/schemas/<name>`: references into `$defs` or properties of a
    component made it drop schemas and POST /v1/tenants."""
    spec = api.get("/v1/openapi.json").json()
    text = json.dumps(spec)
    refs = set(re.findall(r'"\$ref": "([^"]+)"', text))
    schemas = spec["components"]["schemas"]
    for ref in refs:
        parts = ref.split("/")
        assert parts[:3] == ["#", "components", parts[2]] and len(parts) == 4, ref
        assert parts[3] in spec["components"][parts[2]], ref

    def keys(node: Any) -> set[str]:
        if isinstance(node, dict):
            return set(node).union(*(keys(v) for v in node.values()))
        return set().union(*(keys(v) for v in node)) if isinstance(node, list) else set()

    assert "$defs" not in keys(schemas)


def test_the_erp_webhook_declares_its_body_and_signed_headers(api):
    spec = api.get("/v1/openapi.json").json()
    webhook = spec["paths"]["/v1/webhooks/erp"]["post"]
    headers = {p["name"]: p for p in webhook["parameters"] if p["in"] == "header"}
    assert headers["Revgov-Tenant"]["required"] and headers["Revgov-Signature"]["required"]
    body = webhook["requestBody"]["content"]["application/json"]["schema"]
    assert {r["$ref"] for r in body["oneOf"]} == {
        "#/components/schemas/events_erp_event", "#/components/schemas/api_erp_event_batch"}


def test_outbound_events_are_under_webhooks(api):
    spec = api.get("/v1/openapi.json").json()
    hooks = spec["webhooks"]
    assert {"quote.approved", "quote.rejected", "partner.activated", "settlement.completed"} <= set(hooks)
    for hook in hooks.values():
        post = hook["post"]
        assert post["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/events_webhook_delivery"}
        assert any(p["name"] == "Revgov-Signature" and p["required"] for p in post["parameters"])


def test_every_sku_in_the_contracts_examples_is_on_a_demo_price_list():
    # #15: "OpenAPI response schemas ... and examples that use SKUs of the demo price list"; PA-6.1: products are
    # "quoted from the Distributor's price list in force on the quote date", so an example SKU that no price list
    # carries shows a client a call that can only fail.
    from revgov.edge.openapi import document

    listed: set[str] = set()
    for tenant_dir in (ROOT / "tenants").iterdir():
        if (tenant_dir / "tenant.yaml").exists():
            listed |= set(re.findall(r'"sku": "([^"]+)"', json.dumps(load_tenant_file(tenant_dir / "tenant.yaml"))))
    used = set(re.findall(r'"sku": "([^"]+)"', json.dumps(document())))
    assert used, "the contract's examples name no SKU at all"
    assert used <= listed, f"example SKUs on no demo price list: {sorted(used - listed)}"


def test_a_query_parameter_an_operation_cannot_do_without_is_documented_required(api, keys):
    # The OpenAPI document is "the machine-readable truth" of the contract (API.md); its Parameter Object's `required`
    # "determines whether this parameter is mandatory" (OpenAPI 3.1.0 4.8.12.1), which a generated client follows.
    # Every query parameter was documented optional, `period` of GET /v1/revenue/recognition (1.38.0: "bad period
    # ... 400 naming /query/<name>") and of GET /v1/kpis among them, though the call without it is a 400 naming it.
    # A parameter only staff must give (a partner key's is itself) says so in its description and stays optional.
    doc = api.get("/v1/openapi.json").json()
    tenant = keys["tenants"]["northwind"]
    partner_id = next(name for name in tenant["keys"] if name.startswith("ptr_"))
    admin = api.as_key(tenant["admin_key"])
    checked = set()
    for path, ops in doc["paths"].items():
        op = ops.get("get")
        query = {p["name"]: p for p in (op or {}).get("parameters", []) if p["in"] == "query"}
        if not query or re.search(r"\{(?!partner_id\})", path):
            continue
        answer = admin.get(path.replace("{partner_id}", partner_id))
        named = set()
        if answer.status_code == 400:
            named = {e["path"].removeprefix("/query/") for e in answer.json().get("errors", [])}
        required = {name for name, p in query.items() if p.get("required")}
        staff_only = {name for name, p in query.items() if "staff: required" in p.get("description", "")
                      or "required for staff" in p.get("description", "")}  # fmt: skip
        assert named - staff_only == required, (path, answer.status_code, answer.text[:300])
        checked |= {(path, name) for name in required}
    assert ("/v1/revenue/recognition", "period") in checked and ("/v1/catalog/diff", "to") in checked
