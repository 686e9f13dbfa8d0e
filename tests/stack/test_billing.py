"""ERP events become invoices on the running stack (webhook → bus → billing handler), checked to the cent."""

import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest

import clock_support
from billing_support import SAMPLES, as_received_now, billing_tenant_in, erp_event, month_after, sample, webhook_body
from engine_support import put_on_bus
from rebate_runs import issue_months
from revgov import cli
from revgov.domain.access import Principal, Role
from revgov.edge import handlers
from revgov.ports import Changes, Put
from revgov.services import billing
from support import assert_problem, scenario

SCENARIO = scenario("billing/erp-samples.json")
EDGE = scenario("billing/edge-cases.json")
LINE_FIELDS = ("kind", "sku", "quantity", "amount", "cost", "service_period", "order_ref", "family")


@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def _push_samples(tenant, order):
    tenant.add_partners(SCENARIO["partners"])
    received = [tenant.send(webhook_body(sample(name))) for name in order]
    assert not any(r["duplicate"] for r in received)
    tenant.wait_for([r["event_id"] for r in received])
    return received


def _lines(invoice):
    return sorted(({k: line[k] for k in LINE_FIELDS} for line in invoice["lines"]), key=json.dumps)


def _expected_lines(expected):
    return sorted(({k: line[k] for k in LINE_FIELDS} for line in expected["lines"]), key=json.dumps)


def _by_month(tenant):
    return {(i["partner_id"], i["period"]): i for i in tenant.invoices("draft")}


def _expected_invoices():
    """The scenario's invoices by (partner, period), the usage invoice on the one its usage goes on when sent now:
    the October sample is received after SOP-3.1's cut-off (5 November) whenever the suite runs, so it is "rated in
    the next run as an adjustment carrying [its] original service period" (`as_received_now`)."""
    by_key = {f"{e['partner_id']}#{e['period']}": e for e in SCENARIO["expected_invoices"]}
    moved = as_received_now(by_key, {key: e["lines"] for key, e in by_key.items()})
    return {tuple(key.split("#")): expected for key, expected in moved.items()}


def _late_usage_cites_the_cut_off(invoices):
    for (_, period), invoice in invoices.items():
        for line in invoice["lines"]:
            if line["kind"] in ("usage", "usage_adjustment") and period > line["service_period"]["end"][:7]:
                late = period != month_after(line["service_period"]["end"][:7])
                assert ("BILL-USAGE-CUTOFF" in line["rule_ids"]) is late and ("SOP-3.1" in line["clauses"]) is late


def test_the_scenario_uses_every_sample_of_the_catalog():
    used = (SCENARIO["samples"] + SCENARIO["payment_samples"] + SCENARIO["change_samples"] + SCENARIO["credit_samples"]
            + SCENARIO["renewal_samples"])
    assert sorted(used) == sorted(p.stem for p in SAMPLES.glob("*.json"))


def test_every_sample_goes_from_webhook_to_invoice_to_the_cent(billing_tenant):
    _push_samples(billing_tenant, SCENARIO["samples"])
    invoices = _by_month(billing_tenant)
    expected_invoices = _expected_invoices()
    assert set(invoices) == set(expected_invoices)
    _late_usage_cites_the_cut_off(invoices)
    for key, expected in expected_invoices.items():
        invoice = invoices[key]
        assert invoice["total"] == expected["total"], (expected["period"], invoice)
        assert invoice["status"] == "draft" and invoice["currency"] == "USD"
        assert _lines(invoice) == _expected_lines(expected)
        assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(expected["total"])
        for line in invoice["lines"]:
            assert line["rule_ids"] and line["clauses"] and line["event_ids"] and line["service_period"]
    breaches = [e for e in billing_tenant.exceptions() if e["category"] == "invoice_sla_breach"]
    assert len(breaches) == SCENARIO["expected_exceptions"]["invoice_sla_breach"]
    assert all(b["queue"] == "finance" and b["reasons"][1]["clause"] == "SOP-2.1" for b in breaches)


def test_the_samples_in_reverse_order_give_the_same_invoices(billing_tenant):
    """Usage and the cancellation arrive before the activation: parked, then re-applied when it comes."""
    received = _push_samples(billing_tenant, list(reversed(SCENARIO["samples"])))
    invoices = _by_month(billing_tenant)
    _late_usage_cites_the_cut_off(invoices)
    for key, expected in _expected_invoices().items():
        invoice = invoices[key]
        assert invoice["total"] == expected["total"]
        assert _lines(invoice) == _expected_lines(expected)
    credit = next(line for i in invoices.values() for line in i["lines"] if line["kind"] == "credit")
    activation = next(line for i in invoices.values() for line in i["lines"] if line["kind"] == "subscription")
    assert credit["references_line"] == activation["line_id"]
    usage_event = next(r["event_id"] for r in received if r["erp_event_id"].startswith("NW-ERP-USG"))
    assert billing_tenant.event(usage_event)["status"] == "processed"


def test_each_line_is_a_sales_fact_and_in_the_audit_chain_with_its_event(billing_tenant):
    received = _push_samples(billing_tenant, ["shipment.confirmed"])
    (invoice,) = billing_tenant.invoices()
    facts = billing_tenant.rt.store.lookup(billing_tenant.tenant_id, "SALESFACT#2026-10", limit=10).items
    assert sorted(f.data["net_amount"] for f in facts) == ["3400.00", "5000.00"]
    fact = next(f.data for f in facts if f.data["sku"] == "NW-SW-24P")
    assert fact == {
        **fact,
        "partner_id": SCENARIO["partners"][0]["partner_id"],
        "family": "networking",
        "quantity": "4",
        "cost": "3600.00",
        "period": "2026-10",
        "event_id": received[0]["event_id"],
    }
    records = billing_tenant.finance.get("/v1/audit", subject=invoice["invoice_id"]).json()["items"]
    posted = next(r for r in records if r["action"] == "invoice_lines.posted")
    assert posted["inputs"]["event_id"] == received[0]["event_id"]
    assert posted["inputs"]["erp_event_id"] == "NW-ERP-SHP-100231"
    assert {x["line_id"] for x in posted["inputs"]["lines"]} == {x["line_id"] for x in invoice["lines"]}
    assert "PRICE-NW-SW-24P" in posted["rule_ids"] and "PA-10.1" in posted["clauses"]
    assert billing_tenant.admin.get("/v1/audit/verify").json()["valid"] is True


def test_the_same_event_five_times_concurrently_is_one_line(billing_tenant):
    billing_tenant.add_partners(SCENARIO["partners"])
    body = webhook_body(sample("subscription.activated"))
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: billing_tenant.erp.post(body), range(5)))
    assert [a.status_code for a in answers] == [202] * 5
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True, True, True, True]
    assert len({a.json()["event_id"] for a in answers}) == 1
    event_id = answers[0].json()["event_id"]
    billing_tenant.wait_for([event_id])
    # The handler itself, five concurrent deliveries of the same bus event (powertools idempotency + the guard),
    # and five direct calls of the use case that bypass powertools (the guard alone).
    bus_event = billing_tenant.rt.store.get(billing_tenant.tenant_id, "INBOUND", event_id).data
    record = {"Records": [{"messageId": "m1", "body": json.dumps(bus_event)}]}
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda _: handlers.bill_erp_event(record, None), range(5)))
        list(pool.map(lambda _: billing.bill_erp_event(billing_tenant.rt, bus_event), range(5)))
    (invoice,) = billing_tenant.invoices()
    assert [line["amount"] for line in invoice["lines"]] == ["220.00"] and invoice["total"] == "220.00"
    assert billing_tenant.event(event_id)["status"] == "processed"


def test_finalize_after_month_end_then_immutable_and_late_events_go_on_the_next_invoice(billing_tenant, northwind):
    billing_tenant.add_partners(SCENARIO["partners"])
    first = billing_tenant.send(webhook_body(sample("shipment.confirmed")))
    billing_tenant.wait_for([first["event_id"]])
    (october,) = billing_tenant.invoices()
    assert_problem(northwind.get(f"/v1/invoices/{october['invoice_id']}"), 404)  # another tenant's: not found
    assert_problem(billing_tenant.channel_ops.post(f"/v1/invoices/{october['invoice_id']}/finalize"), 403)
    final = billing_tenant.finance.post(f"/v1/invoices/{october['invoice_id']}/finalize")
    assert final.status_code == 200, final.text
    assert final.json()["status"] == "finalized" and final.json()["total"] == "8400.00"
    again = assert_problem(billing_tenant.finance.post(f"/v1/invoices/{october['invoice_id']}/finalize"), 409)
    assert again["current_status"] == "finalized"
    data = {**sample("shipment.confirmed")["detail"]["data"], "order_ref": "SO-2026-1099", "shipped_on": "2026-10-30"}
    data["lines"] = [{"sku": "NW-SRV-R2", "quantity": 1}]
    late = erp_event("shipment.confirmed", data, occurred_at="2026-10-30T10:00:00Z")
    billing_tenant.wait_for([billing_tenant.send(late)["event_id"]])
    assert billing_tenant.finance.get(f"/v1/invoices/{october['invoice_id']}").json()["total"] == "8400.00"
    (november,) = billing_tenant.invoices("draft")
    (line,) = november["lines"]
    assert november["period"] == "2026-11" and line["amount"] == "5200.00"
    assert line["service_period"] == {"start": "2026-10-30", "end": "2026-10-30"}  # its original service period
    assert "BILL-LATE-EVENT" in line["rule_ids"] and "PA-10.7" in line["clauses"]
    listed = billing_tenant.finance.get("/v1/invoices", status="finalized", period="2026-10").json()["items"]
    assert [i["invoice_id"] for i in listed] == [october["invoice_id"]]


def test_the_invoice_of_the_running_month_cannot_be_finalized(billing_tenant):
    billing_tenant.add_partners(SCENARIO["partners"])
    today = clock_support.now().date().isoformat()
    data = {**sample("shipment.confirmed")["detail"]["data"], "shipped_on": today}
    event = erp_event("shipment.confirmed", data, occurred_at=f"{today}T00:00:01Z")
    billing_tenant.wait_for([billing_tenant.send(event)["event_id"]])
    (current,) = billing_tenant.invoices()
    refused = assert_problem(billing_tenant.finance.post(f"/v1/invoices/{current['invoice_id']}/finalize"), 422)
    assert "has not ended" in refused["detail"] and "SOP-2.2" in refused["detail"]
    assert billing_tenant.finance.get(f"/v1/invoices/{current['invoice_id']}").json()["status"] == "draft"


def test_usage_late_for_an_issued_month_is_adjusted_by_the_difference_on_the_next_invoice(billing_tenant):
    """Usage of a month M received within SOP-3.1's window ("received up to 5 calendar days after the end of the
    month are included in that month's rating") is on M+1's invoice (SOP-7.1: "posted to the open invoice of the
    following month"); once that is issued, more usage of M, received after the cut-off, is "rated in the next run as
    an adjustment carrying their original service period": M re-rated, and only the difference on the next draft
    (SOP-3.4). The test clock moves forward into M+1's first days, then past M+1's end (PA-1.3: UTC days)."""
    now = clock_support.now()
    if now.day > 4:  # into the window of the month before: the first minutes of the next month
        clock_support.forward_to((now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=10))
    now = clock_support.now()
    following = now.strftime("%Y-%m")  # M+1, the running month
    month = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")  # M
    billing_tenant.add_partners(SCENARIO["partners"])
    partner = SCENARIO["partners"][0]["partner_id"]
    activation = erp_event(
        "subscription.activated",
        {
            "partner_id": partner,
            "subscription_id": "SUB-6001",
            "sku": "NW-CLOUD-PLATFORM",
            "quantity": 1,
            "activated_on": f"{month}-01",
            "order_ref": "SO-6001",
        },
        occurred_at=f"{month}-01T08:00:00Z",
    )

    def usage(quantity, day):
        data = {
            "partner_id": partner,
            "subscription_id": "SUB-6001",
            "metric": "cloud_compute",
            "quantity": quantity,
            "usage_date": day,
        }
        return erp_event("usage.reported", data, occurred_at=f"{day}T23:00:00Z")

    sent = [billing_tenant.send(e)["event_id"] for e in (activation, usage("800", f"{month}-10"))]
    billing_tenant.wait_for(sent)
    issued = next(i for i in billing_tenant.invoices() if i["period"] == following)
    assert issued["total"] == "96.00"  # 800 x 0.12, received within the window
    clock_support.forward_to((now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=10))
    assert billing_tenant.finance.post(f"/v1/invoices/{issued['invoice_id']}/finalize").status_code == 200
    billing_tenant.wait_for([billing_tenant.send(usage("700", f"{month}-28"))["event_id"]])
    after = clock_support.now().strftime("%Y-%m")  # M+2: received on its first day, after M's cut-off
    draft = next(i for i in billing_tenant.invoices() if i["period"] == after)
    (line,) = draft["lines"]
    # 1500 CUH: 1000 x 0.12 + 500 x 0.10 = 170.00, of which 96.00 was invoiced: 74.00 more, 700 more units
    assert (line["kind"], line["amount"], line["quantity"]) == ("usage_adjustment", "74.00", "700")
    first, last = f"{month}-01", (now.replace(day=1) - timedelta(days=1)).date().isoformat()
    assert line["service_period"] == {"start": first, "end": last}
    assert line["detail"]["month_total"] == "170.00" and line["detail"]["invoiced_before"] == "96.00"
    assert "BILL-USAGE-CUTOFF" in line["rule_ids"] and "SOP-3.1" in line["clauses"]


@pytest.mark.parametrize("case", EDGE["cases"], ids=lambda c: c["name"])
def test_edge_cases_from_the_scenario_file(billing_tenant, case):
    billing_tenant.add_partners(EDGE["partners"])
    sent = []
    for event in case["events"]:
        sent.append(billing_tenant.send(event))
    billing_tenant.wait_for([s["event_id"] for s in sent], ("processed", "failed", "parked"))
    statuses = [billing_tenant.event(s["event_id"])["status"] for s in sent]
    assert statuses == case["expected_statuses"], [billing_tenant.event(s["event_id"]) for s in sent]
    totals = {f"{i['partner_id']}#{i['period']}": i["total"] for i in billing_tenant.invoices()}
    expected_lines = case.get("expected_lines", {})
    assert totals == as_received_now(case["expected_totals"], expected_lines)  # SOP-3.1's cut-off, from receipt
    lines = {f"{i['partner_id']}#{i['period']}": _lines(i) for i in billing_tenant.invoices()}
    for key, expected in as_received_now(expected_lines, expected_lines).items():
        assert lines[key] == sorted(({k: x[k] for k in LINE_FIELDS} for x in expected), key=json.dumps)
    categories = sorted(e["category"] for e in billing_tenant.exceptions())
    assert categories == sorted(case["expected_exceptions"])


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal (where `revgov` draws its progress bars)."""

    def isatty(self) -> bool:
        return True


def test_an_unknown_partner_fails_with_an_exception_and_bills_once_replayed_after_onboarding(
    billing_tenant, monkeypatch, capsys
):
    stranger = EDGE["unknown_partner"]
    event = erp_event(
        "shipment.confirmed",
        {
            "partner_id": stranger["partner_id"],
            "order_ref": "SO-77",
            "shipped_on": "2026-10-12",
            "lines": [{"sku": "NW-RTR-EDGE", "quantity": 2}],
        },
        occurred_at="2026-10-12T08:00:00Z",
    )
    event_id = billing_tenant.send(event)["event_id"]
    billing_tenant.wait_for([event_id], ("failed",))
    failed = billing_tenant.event(event_id)
    assert "is not known" in failed["reason"] and "exception exc_" in failed["reason"]
    (case,) = billing_tenant.exceptions()
    # SOP-4.1: "An item that matches no category goes to channel_ops for triage within 8 hours."
    assert case["category"] == "unknown_partner_or_sku" and (case["queue"], case["sla_hours"]) == ("channel_ops", 8)
    assert case["subject"] == {"kind": "erp_event", "id": event_id} and case["context"]["erp_event_id"] == event["id"]
    assert billing_tenant.invoices() == []
    billing_tenant.add_partners([stranger])
    # #20: with --json a script gets JSON lines only, and no progress bar even on a terminal's stderr
    capsys.readouterr()
    monkeypatch.setattr("sys.stderr", terminal := _Terminal())
    assert cli.main(["events", "replay", "--tenant", billing_tenant.tenant_id, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["event_id"] == event_id and lines[0]["status"] == "replayed"
    assert lines[-1] == {"replayed": 1, "of": 1} and terminal.getvalue() == ""
    billing_tenant.wait_for([event_id])
    (invoice,) = billing_tenant.invoices()
    assert invoice["total"] == "4200.00"
    assert [e["category"] for e in billing_tenant.exceptions()].count("unknown_partner_or_sku") == 1


def test_a_bus_event_that_does_not_match_its_schema_is_dead_lettered_with_the_reason(billing_tenant):
    """Put on the bus behind the webhook's back: retried, then dead-lettered; the validation error is kept."""
    rt = billing_tenant.rt
    event_id = rt.ids.new("evt")
    detail = {**sample("shipment.confirmed")["detail"], "tenant_id": billing_tenant.tenant_id, "event_id": event_id}
    detail["data"] = {**detail["data"], "lines": [{"sku": "NW-SW-24P", "quantity": "four"}]}
    put_on_bus(rt, billing_tenant.tenant_id, "revgov.erp", "shipment.confirmed", detail)
    billing_tenant.wait_for([event_id], ("dead_lettered",), seconds=40)
    logged = billing_tenant.event(event_id)
    assert "failed every delivery" in logged["reason"] and "/detail/data/lines/0/quantity" in logged["last_error"]
    # never received through the webhook, so there is nothing to replay: the CLI says so and exits non-zero
    assert cli.main(["events", "replay", "--tenant", billing_tenant.tenant_id, "--event-id", event_id]) == 1


def test_an_event_received_through_the_webhook_is_validated_once_at_intake(billing_tenant, monkeypatch):
    """#17: intake verified the signature and validated the event before storing it (docs/billing.md "verify ·
    validate · dedupe"); the billing handler trusts that stored form and does not validate it again. A bus event
    that differs from what intake stored under its id (here: its data altered on the way) is validated as before
    and dead-lettered with the validation error."""
    from revgov import schemas

    billing_tenant.add_partners(SCENARIO["partners"])
    real, checked = schemas.validate, []

    def spy(name, payload, **kwargs):
        # the router validates other tenants' bus events in the background meanwhile (a bus event of an earlier
        # test, put there behind the webhook's back): only this tenant's validations, and the ERP event at intake
        detail = payload.get("detail") if isinstance(payload, dict) else None
        if not isinstance(detail, dict) or detail.get("tenant_id") == billing_tenant.tenant_id:
            checked.append(name)
        return real(name, payload, **kwargs)

    monkeypatch.setattr(schemas, "validate", spy)
    event_id = billing_tenant.send(webhook_body(sample("shipment.confirmed")))["event_id"]
    billing_tenant.wait_for([event_id])
    assert "events/erp-event.schema.json" in checked  # at intake
    assert "events/shipment.confirmed.schema.json" not in checked  # not again in billing
    rt = billing_tenant.rt
    stored = rt.store.get(billing_tenant.tenant_id, "INBOUND", event_id).data
    altered = {**stored["detail"], "replay": 1}
    altered["data"] = {**altered["data"], "lines": [{"sku": "NW-SW-24P", "quantity": "four"}]}
    put_on_bus(rt, billing_tenant.tenant_id, "revgov.erp", "shipment.confirmed", altered)
    billing_tenant.wait_for([event_id], ("dead_lettered",), seconds=40)
    assert "events/shipment.confirmed.schema.json" in checked
    assert "/detail/data/lines/0/quantity" in billing_tenant.event(event_id)["last_error"]
    (invoice,) = billing_tenant.invoices()
    assert invoice["total"] == "8400.00"  # billed once, by the event intake received


def test_a_dead_lettered_event_is_billed_once_replayed_after_its_cause_is_fixed(billing_tenant, monkeypatch, capsys):
    """The tenant's billing policy is broken: every delivery fails, the event is dead-lettered; once the policy is
    mended, `revgov events replay` puts it back on the bus and it is billed."""
    rt, tenant_id = billing_tenant.rt, billing_tenant.tenant_id
    billing_tenant.add_partners(SCENARIO["partners"])
    profile = rt.store.get(tenant_id, "TENANT", "PROFILE").data
    broken = json.loads(json.dumps(profile))
    del broken["config"]["policy"]["billing"]["price_list"]
    rt.store.commit(tenant_id, Changes(puts=[Put("TENANT", "PROFILE", broken)]))
    event_id = billing_tenant.send(webhook_body(sample("shipment.confirmed")))["event_id"]
    billing_tenant.wait_for([event_id], ("dead_lettered",), seconds=40)
    assert "billing policy cannot be used" in billing_tenant.event(event_id)["last_error"]
    rt.store.commit(tenant_id, Changes(puts=[Put("TENANT", "PROFILE", profile)]))
    # #20: a person at a terminal sees a progress bar on stderr; stdout keeps the table alone
    capsys.readouterr()
    monkeypatch.setattr("sys.stderr", terminal := _Terminal())
    assert cli.main(["events", "replay", "--tenant", tenant_id]) == 0
    assert "Replaying 1 events" in terminal.getvalue() and "1/1" in terminal.getvalue()
    table = capsys.readouterr().out
    assert "1 of 1 ERP events replayed" in table and "Replaying" not in table
    billing_tenant.wait_for([event_id])
    (invoice,) = billing_tenant.invoices()
    assert invoice["total"] == "8400.00"
    replays = billing_tenant.admin.get("/v1/audit", subject=event_id).json()["items"]
    assert [r["action"] for r in replays] == ["erp_event.replayed"]


def test_the_sla_sweep_opens_a_breach_for_a_billable_event_still_without_a_line(billing_tenant):
    event = erp_event(
        "shipment.confirmed",
        {
            "partner_id": SCENARIO["partners"][0]["partner_id"],
            "order_ref": "SO-88",
            "shipped_on": "2026-10-12",
            "lines": [{"sku": "NW-NOT-LISTED", "quantity": 1}],
        },
        occurred_at="2026-10-12T08:00:00Z",
    )
    billing_tenant.add_partners(SCENARIO["partners"])
    event_id = billing_tenant.send(event)["event_id"]
    billing_tenant.wait_for([event_id], ("failed",))
    assert handlers.billing_sla_sweep({}, None)["opened"] >= 1  # due 48 h after 12 Oct 08:00, long past
    categories = sorted(e["category"] for e in billing_tenant.exceptions())
    assert categories == ["invoice_sla_breach", "unknown_partner_or_sku"]
    breach = next(e for e in billing_tenant.exceptions() if e["category"] == "invoice_sla_breach")
    assert breach["subject"] == {"kind": "erp_event", "id": event_id} and breach["queue"] == "finance"
    assert breach["context"]["due_at"] == "2026-10-14T08:00:00.000Z"
    handlers.billing_sla_sweep({}, None)
    assert sorted(e["category"] for e in billing_tenant.exceptions()) == categories  # once, not per sweep


def test_the_largest_shipment_the_schema_allows_is_billed_in_one_transaction(billing_tenant):
    """40 lines, each with its sales fact, plus the header, guard, log, audit record and an SLA breach: under the
    100 items of one DynamoDB transaction (the emulator enforces the limit too)."""
    billing_tenant.add_partners(SCENARIO["partners"])
    data = {**sample("shipment.confirmed")["detail"]["data"], "lines": [{"sku": "NW-SW-24P", "quantity": 1}] * 40}
    at = "2026-10-05T00:00:00Z"
    too_many = erp_event("shipment.confirmed", {**data, "lines": data["lines"] * 2}, occurred_at=at)
    assert_problem(billing_tenant.erp.post(too_many), 400)
    event_id = billing_tenant.send(erp_event("shipment.confirmed", data, occurred_at=at))["event_id"]
    billing_tenant.wait_for([event_id])
    (invoice,) = billing_tenant.invoices()
    assert (len(invoice["lines"]), invoice["total"]) == (40, "50000.00")  # 40 x 1250.00
    assert [e["category"] for e in billing_tenant.exceptions()] == ["invoice_sla_breach"]


def test_the_cli_settles_a_period_with_a_spinner_for_people_and_json_for_scripts(billing_tenant, monkeypatch, capsys):
    """#20: "progress bars on long work (imports, replays, settlements)": `revgov rebates settle` shows its spinner
    on a terminal's stderr, never with --json; it is finance's settlement (once per period and run, the API's)."""
    from datetime import date

    today = date.fromisoformat(billing_tenant.rt.clock.now_iso()[:10])  # the stack's clock
    quarter = (today.month - 1) // 3  # the running quarter's index; the one before it has ended
    period = f"{today.year if quarter else today.year - 1}-Q{quarter or 4}"
    # PA-1.2: a run counts issued invoices; finance issues the Quarter's months first (rebate_runs.issue_months)
    issue_months(billing_tenant.rt, Principal(billing_tenant.tenant_id, Role.FINANCE, "key_fin_cli"), period)
    capsys.readouterr()
    monkeypatch.setattr("sys.stderr", terminal := _Terminal())
    assert cli.main(["rebates", "settle", "--tenant", billing_tenant.tenant_id, "--period", period]) == 0
    table = " ".join(capsys.readouterr().out.split())
    # SOP-7.2 / COP-7.2: the run is prepared here and "approved by a second member of the finance queue" (the API)
    assert f"{period} run 1 prepared" in table and "/approve" in table and "Settling" not in table, table
    assert f"Settling {period} (run 1)" in terminal.getvalue()
    monkeypatch.setattr("sys.stderr", quiet := _Terminal())
    assert cli.main(["rebates", "settle", "--tenant", billing_tenant.tenant_id, "--period", period, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert answer["period"] == period and answer["run"] == 1 and answer["replayed"] is True  # the same preparation
    assert answer["status"] == "prepared"
    assert quiet.getvalue() == ""
    settled = billing_tenant.finance.get(f"/v1/rebates/settlements/{answer['settlement_id']}")
    assert settled.status_code == 200 and settled.json()["settled_by"].startswith("finance:cli-"), settled.text
