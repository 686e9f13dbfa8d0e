"""The KPI rollups' handler reads the sales facts an `invoice.lines_posted` event names. Billing committed them, but a
read may not see them yet; `analytics.record_fact` reads again (up to 10 attempts, jittered), as it always did, rather
than failing the delivery ("a lost race reads again and retries", services/analytics docstring). The toolkit's retry
now retries only a lost write (`StaleWrite`), so the unreadable fact must be raised as one to keep that behaviour."""

from __future__ import annotations

from typing import Any

import pytest

from revgov.bootstrap import build_memory_runtime
from revgov.domain.errors import ConcurrentUpdate
from revgov.ports import Changes, Put
from revgov.services import analytics, toolkit
from revgov.services.analytics import facts
from revgov.services.billing import SALES_FACTS
from revgov.settings import Settings
from support import for_this_thread

TENANT, LINE = "t1", "line_1"
EVENT = {
    "source": "revgov.billing",
    "detail-type": "invoice.lines_posted",
    "detail": {"tenant_id": TENANT, "event_id": "evt_1", "line_ids": [LINE]},
}


class LateStore:
    """The memory store, except that the first `late` reads of the sales facts do not see them yet."""

    def __init__(self, store: Any, late: int) -> None:
        self._store, self.late = store, late

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def get_many(self, refs: list[tuple[str, str, str]]) -> Any:
        if self.late and any(collection == SALES_FACTS for _, collection, _ in refs):
            self.late -= 1
            return {}
        return self._store.get_many(refs)


@pytest.fixture
def rt(monkeypatch: pytest.MonkeyPatch) -> Any:
    # for this test's thread: the worker's stack sleeps and loads tenants through the same modules in the background
    for_this_thread(monkeypatch, toolkit.time, "sleep", lambda _s: None)
    for_this_thread(monkeypatch, facts.tenants, "load_tenant", lambda rt, tenant_id: None)
    runtime = build_memory_runtime(Settings.from_env({"REVGOV_BACKEND": "memory"}))
    fact = {"partner_id": "ptr_1", "period": "2026-11", "net_amount": "100.00", "cost": "60.00"}
    runtime.store.commit(TENANT, Changes(puts=[Put(SALES_FACTS, LINE, fact)]))
    return runtime


def test_a_sales_fact_not_readable_yet_is_read_again_and_counted(rt: Any) -> None:
    rt.store = LateStore(rt.store, late=2)
    assert analytics.record_fact(rt, EVENT) == "counted 1 change(s)"
    rollup = rt.store.get(TENANT, analytics.ROLLUPS, analytics.rollup_key("2026-11", "all"))
    assert rollup is not None and rollup.data["revenue_minor"] == 10000


def test_a_sales_fact_never_readable_gives_up_after_ten_reads(rt: Any) -> None:
    rt.store = LateStore(rt.store, late=10)
    with pytest.raises(ConcurrentUpdate, match="lost the race 10 times"):
        analytics.record_fact(rt, EVENT)
