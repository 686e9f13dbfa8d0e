"""A partner key's `?partner_id=` answers one way on every route that takes it (SECURITY.md "Partner keys and
`?partner_id=`", API.md errors: "404 not found (also for another tenant's or partner's object: never confirm it
exists)"; DESIGN.md tenancy: "a `partner` principal sees only objects of its own partner id (object-level checks on
every read, list, search [...])").

The rule: a partner key naming any partner but its own (a rival's of the same tenant, another tenant's, or an id no
one holds) gets the same 404 body on every such route; its own id, or no filter, reads its own; a staff key's filter is
unchanged. The routes are read from the route table, so a route that declares `partner_id` later is covered without
an edit here (a required query parameter it adds needs a value in REQUIRED below, or this test fails naming it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import clock_support
from revgov.domain.access import Role
from revgov.edge import api as _routes  # noqa: F401  (imports every route module, filling OPERATIONS)
from revgov.edge.registry import OPERATIONS, Operation
from security_support import Party, make_party, offboard, random_id
from support import assert_problem

pytestmark = pytest.mark.stack

# every operation a partner key may call that declares the `partner_id` query filter
FILTERED = [op for op in OPERATIONS
            if Role.PARTNER in op.roles and op.method == "GET" and any(q.name == "partner_id" for q in op.query)]
LISTS = [op for op in FILTERED if not op.id_params]
# the ten list routes of the new-user finding (a floor: the table may grow, never silently shrink)
FOUND = {"/v1/kpis", "/v1/waiting", "/v1/audit", "/v1/billing/overdue", "/v1/invoices", "/v1/rebates/accruals",
         "/v1/rebates/settlements", "/v1/billing/subscriptions", "/v1/security-incidents", "/v1/decisions"}
# values of the query parameters a route requires, read when the test runs (the shared stack's clock moves)
REQUIRED = {"period": lambda: clock_support.today().strftime("%Y-%m")}


def _path(op: Operation) -> str:
    """The operation's path with each id parameter a well-formed id (the filter is checked before the object)."""
    path = op.path
    for name, prefix in op.id_params.items():
        path = path.replace("{" + name + "}", random_id(prefix.split("|")[0]))
    return path


def _required(op: Operation) -> dict[str, str]:
    missing = [q.name for q in op.query if q.required and q.name not in REQUIRED]
    assert not missing, f"{op.method} {op.path} requires {missing}: give a value in REQUIRED"
    return {q.name: REQUIRED[q.name]() for q in op.query if q.required}


def _same_problem(answer: Any, named: str) -> dict[str, Any]:
    """The problem body without what belongs to this one request (its correlation id) and the id the caller sent."""
    body = assert_problem(answer, 404)
    body.pop("correlation_id")
    return {k: (v.replace(named, "<partner_id>") if isinstance(v, str) else v) for k, v in body.items()}


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


@pytest.fixture(scope="module", autouse=True)
def incidents(party: Party) -> dict[str, str]:
    """Each of the tenant's two partners reports a security incident (PA-11.2), so the filtered lists hold rows of
    both (the incident, its audit record) before any test reads them: {partner_id: incident_id}."""
    aware = (clock_support.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    made = {}
    for partner_id in party.partners:
        reported = party.partner_keys[partner_id].post("/v1/security-incidents", {
            "became_aware_at": aware, "summary": f"Phishing at {partner_id}'s support mailbox"})
        assert reported.status_code == 201, reported.text
        made[partner_id] = reported.json()["incident_id"]
    return made


@pytest.fixture(scope="module")
def stranger(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "contoso")
    yield made
    offboard(operator, made)


def test_the_table_declares_the_filter_on_every_list_route_of_the_finding():
    assert FOUND <= {op.path for op in LISTS}, sorted(FOUND - {op.path for op in LISTS})


@pytest.mark.parametrize("op", FILTERED, ids=lambda op: f"{op.method} {op.path}")
def test_a_rivals_id_answers_as_an_unknown_one(party: Party, stranger: Party, op: Operation):
    """API.md: "404 not found (also for another tenant's or partner's object: never confirm it exists)"."""
    mine, rival = party.partners
    key, path, required = party.partner_keys[mine], _path(op), _required(op)
    unknown, foreign = random_id("ptr"), stranger.partners[0]
    expected = _same_problem(key.get(path, **required, partner_id=unknown), unknown)
    assert _same_problem(key.get(path, **required, partner_id=rival), rival) == expected
    assert _same_problem(key.get(path, **required, partner_id=foreign), foreign) == expected


@pytest.mark.parametrize("op", LISTS, ids=lambda op: f"{op.method} {op.path}")
def test_its_own_id_reads_what_no_filter_reads_and_a_staff_filter_is_unchanged(party: Party, op: Operation):
    """DESIGN.md: a partner principal "sees only objects of its own partner id": naming itself is no filter at all;
    staff (finance reads every partner, docs/routes.md) list the partner they name."""
    mine, rival = party.partners
    key, required = party.partner_keys[mine], _required(op)
    own = key.get(op.path, **required, partner_id=mine)
    assert own.status_code == 200, own.text
    unfiltered = key.get(op.path, **required)
    assert own.json() == unfiltered.json()
    items = own.json().get("items", []) if op.paginated else []
    assert all(item.get("partner_id", mine) == mine for item in items), items
    staff = party.by_role["finance"].get(op.path, **required, partner_id=rival)
    assert staff.status_code == 200, staff.text
    listed = staff.json().get("items", []) if op.paginated else []
    assert all(item.get("partner_id", rival) == rival for item in listed), listed


def test_its_own_id_lists_its_own_incident_and_never_the_rivals(party: Party, incidents: dict[str, str]):
    """PA-11.2: each partner reported its own incident; DESIGN.md: a partner key "sees only objects of its own partner
    id". Its own id lists its incident (and the audit record of it), never the rival's; staff naming the rival list
    the rival's."""
    mine, rival = party.partners
    key = party.partner_keys[mine]
    listed = key.get("/v1/security-incidents", partner_id=mine).json()["items"]
    assert [i["incident_id"] for i in listed] == [incidents[mine]], listed
    trail = key.get("/v1/audit", partner_id=mine, limit=200).json()["items"]
    subjects = {r.get("subject") for r in trail}
    assert incidents[mine] in subjects and incidents[rival] not in subjects, subjects
    staff = party.by_role["legal"].get("/v1/security-incidents", partner_id=rival).json()["items"]
    assert [i["incident_id"] for i in staff] == [incidents[rival]], staff
