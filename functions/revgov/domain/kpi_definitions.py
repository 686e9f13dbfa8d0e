"""The KPI definitions served with the OpenAPI operation of `GET /v1/kpis` (the same text as docs/kpis.md's table;
the figures are domain/kpis.py's)."""

DEFINITIONS = """\
All figures are for the period asked (a billing month `2026-11` or a quarter `2026-Q4`, i.e. its three months),
optionally for one partner (`partner_id`) or one partner tier (`tier`), and are read from rollups that the
`update_kpis` handler maintains as facts arrive.

- **Net realized margin by partner tier**: (Σ net amount − Σ cost of goods − Σ rebates) / Σ net amount,
  over the invoice lines (sales facts) of invoices of the period that carry a cost; credits count negative (a credit
  note against a line that carried a cost also in the margin base, with the cost of the units it takes back). Lines
  without a cost of goods (milestones, support overage) count in revenue only. A credit note paying a rebate
  (reason `rebate_settlement`) is not revenue (PA-1.2 / CPA-1.2) and is not deducted twice. A partner counts in
  the tier it held when its line was first counted. Rebates and commissions are those of the program periods the
  period holds whole (its months; a quarter also its quarter): the amounts settled for a settled period, the
  accruals for an open one (`rebates.periods` says which); a tier's are those of the partners counted in it.
  Direct invoices to Customers (PA-8.1, PA-8.2) count in the tenant's figures and `direct_sales`, no tier's (PA-1.2),
  and so do the commissions they earn (programs eligible only by the referral / sales agent channels).
- **Invoice cycle time**: for each shipment, subscription activation or accepted milestone, the hours from when
  it occurred (ERP time, no later than the end of the day the fact is dated: SOP-2.1's clock) to the posting of
  its first invoice line, counted in the month of posting; p50 and p90
  by nearest rank over hourly buckets up to 48 h (coarser to 720 h), reported as the bucket's upper edge;
  `sla_breaches`: invoice_sla_breach exceptions opened in the period (SOP-2.1 / COP-2.1: counted "even if the
  line is posted later").
- **Threshold attainment per program**: for each threshold (each level of a rebate program with volume
  thresholds, and each tier's annual commitment prorated to the period), the share of the partners it applies to
  whose invoiced revenue in the period reached it, and their median attainment (revenue / threshold; of an even
  number of partners, the mean of the two middle ones).
- **Renewal probability** (staff): for the Program Year end of the period (PA-13.1 / CPA-13.1), once passed the
  share of agreements that renewed, else the mean over running agreements of 0 (a notice of non-renewal on file) or
  the tenant's observed renewal rate over every year end passed (`null` without one).
- **Support hours per revenue dollar**: hours logged through `support.logged` events performed in the period,
  divided by the net invoiced revenue of the period (also given per 1,000 of revenue); beside it the service leakage
  of SOP-5.3 / COP-5.3: out-of-scope requests opened in the period (support on a family whose certification has
  expired, and support beyond the quarterly hours worked without written approval, other than severity 1 where the
  agreement excepts it (CPA-9.2; PA-9.2 does not): "support beyond the quarterly hours" is out of scope) and the
  support hours they name, none of them billed.
- **Policy exceptions per 100 transactions**: exceptions opened in the period (any category, by billing,
  agents or people, each SOP-4.1 / COP-4.1 category a quote check matched: one exception per category, and each
  invoice or rebate dispute filed: SOP-4.1 / COP-4.1 exception categories)
  × 100 / transactions, where transactions = quotes checked + ERP events billed.
- **Override rate**: quotes checked in the period that needed an approval to go ahead / quotes checked.
- **Approval rate**: pricing approvals decided in the period that were approved / pricing approvals decided.
  By tier, a quote and its approval count in the tier the partner held when the quote was decided (its decision
  records it), not the tier it holds when the figure is read.

Months and quarters are UTC calendar periods. Money is a decimal string with 2 places, percentages with 2,
`hours_per_revenue_dollar` with 8. An empty period gives counts and sums of 0 (`"0.00"`) and `null` for every
ratio or percentile whose denominator is 0 (no revenue, no quote, no event): never a guessed 0 %.
"""
