"""Red team, eleventh round: the clause-figure check (API 1.56.2) against a clause written to be slow to read.

Every draft validation, proposal, `POST /v1/tenants` and tenant file reads the figures written in each cited clause
(domain/clause_figures.written_figures). A clause's text is the tenant's legal team's to write: `PUT
/v1/contracts/{document}` takes up to 200,000 characters (contract-document.schema.json `maxLength`), an amendment's
clause 20,000 (contract-amendment.schema.json). The percentage matcher tried every digit of a run of digits and
commas as a start and scanned to the run's end from each (quadratic): "1," x 8,000 (16 KB) took 15 s of CPU, a
200 KB clause about 40 minutes, on the server every tenant shares (STYLE / DESIGN: a request is answered within the
API's timeout, never a worker held). Now each number is read once (the same matcher as every other number), then
whether a percent sign or word follows it: linear.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from revgov.domain.clause_figures import written_figures

LIMIT = 200_000  # contract-document.schema.json: "markdown" maxLength


@pytest.mark.parametrize("text", [
    "1," * (LIMIT // 2),  # one run of digits and commas: every digit a start
    "1" * (LIMIT - 1) + "x",  # one run of digits, no percent after it
    "12 percent " + "9," * (LIMIT // 2 - 6),
], ids=["digits-and-commas", "digits", "a-percent-then-a-run"])
def test_a_clause_of_the_largest_size_is_read_in_linear_time(text: str) -> None:
    """A 200,000-character clause of the shapes that made the matcher quadratic is read in well under a second of
    CPU (a 16 KB one took 15 s before); 2 s leaves room for a loaded machine."""
    started = time.process_time()
    written_figures(text)
    assert time.process_time() - started < 2.0


@pytest.mark.parametrize("text, percent", [
    ("a cap of 12% on hardware", Decimal(12)),
    ("12 percent", Decimal(12)),
    ("12 per cent", Decimal(12)),
    ("2.5 %", Decimal("2.5")),
    ("USD 5,000.00 or 7,500%", Decimal(7500)),
    ("fifteen percent", Decimal(15)),
], ids=["sign", "percent", "per-cent", "decimal-space", "thousands", "words"])
def test_a_percentage_is_still_read_in_each_form_the_module_names(text: str, percent: Decimal) -> None:
    """clause_figures: a figure is written "in some form ("12%", "12 percent", "12 per cent", "twelve", "5,000.00",
    "5000"; 0.5 as "50%")": each form is still a percentage after the fix."""
    numbers, percents = written_figures(text)
    assert percent in percents and percent in numbers, (numbers, percents)


def test_a_policy_of_many_rules_citing_one_long_clause_is_checked_in_linear_time() -> None:
    """A policy draft is the tenant's to write (`PUT /v1/policy/drafts/…`, no bound on the price list's items) and
    PA-6.1's text its legal team's: 1,500 price-list items each citing a 198,000-character PA-6.1 (every line a table
    row) were checked by reading the clause again for each item, 165 s of CPU for one validation. Each clause is now
    read once however many rules cite it: well under a second (2 s for a loaded machine); nothing is refused."""
    import copy
    from pathlib import Path

    from revgov.domain.clause_figures import figure_problems
    from revgov.tenant_files import load_tenant_file
    from support import ROOT

    policy = copy.deepcopy(load_tenant_file(Path(ROOT / "tenants" / "northwind" / "tenant.yaml"))["policy"])
    item = policy["billing"]["price_list"][0]
    policy["billing"]["price_list"] = [dict(item, id=f"PRICE-X{n}", sku=f"NW-X{n}") for n in range(1500)]
    clause = "Products are quoted from the price list in force, valid 30 days. | tier | 1 | 2 |\n" * 2400
    started = time.process_time()
    problems = figure_problems(policy, {"PA-6.1": clause})
    assert time.process_time() - started < 2.0
    assert problems == []
