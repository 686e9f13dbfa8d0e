"""Rebates and commissions: programs as policy, rated over sales lines, accrued as facts arrive, settled per period.

`policy` compiles `policy.rebates` (no numpy); `ledger`, the models and `engine` rate columns of sales lines with
numpy and are imported only where a period is rated, never when the API is imported.
"""
