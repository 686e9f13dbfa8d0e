"""Every environment variable the product reads at start-up is in the README's Configuration table.

Found as a new AWS deployer (ninth round): README "Configuration" lists "Environment variables, read once at start-up",
but `revgov/settings.py` also read the copilot's engine and models, the tenant access role and the search roles
(`REVGOV_COPILOT_INDEX`, `REVGOV_EMBEDDER`, `REVGOV_TENANT_ROLE_ARN`, ...), which the CDK stacks set on the functions
(stacks/README.md) and a deployer running `revgov dev --backend dynamodb` against a deployed table must know; none of
them was in the table, and `AWS_DEFAULT_REGION`, read when `AWS_REGION` is not set, was not said either.
"""

from __future__ import annotations

import re

from support import ROOT

SETTINGS = ROOT / "functions" / "revgov" / "settings.py"
CLOCK = ROOT / "functions" / "revgov" / "adapters" / "system.py"


def _configuration_table() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("|"))


def _read_by(path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    return set(re.findall(r'"((?:REVGOV|AWS)_[A-Z0-9_]+)"', text))


def test_every_variable_the_settings_read_is_in_the_readme_configuration_table():
    table = _configuration_table()
    read = _read_by(SETTINGS) | _read_by(CLOCK)
    read -= {"AWS_LAMBDA_FUNCTION_NAME"}  # set by Lambda itself; the table names it under REVGOV_METRICS_EMF
    assert "REVGOV_TENANT_ROLE_ARN" in read and "REVGOV_COPILOT_INDEX" in read  # the reader finds what it should
    missing = sorted(name for name in read if f"`{name}`" not in table)
    assert not missing, f"read by revgov/settings.py but not in README's Configuration table: {missing}"
