"""A setting the user got wrong is a user error of the `revgov` command, said as such.

README (Configuration): `REVGOV_CLOCK_START` takes "ISO 8601 with its UTC offset; anything else stops start-up with a
message saying so". docs/local-stack.md (the `revgov` command): "a user error is one line on stderr, `revgov: error:
…`, never a
traceback, with exit code 2 (bad input), 3 (the product cannot be reached) or 1 (the operation failed)". A mistyped
setting is bad input: exit 2, the message naming the setting and its form, not "unexpected ValueError".
"""

from __future__ import annotations

import pytest

from revgov.adapters.system import CLOCK_ANCHOR, CLOCK_START, clock_offset_ms
from revgov.cli_support import BAD_INPUT, run_safely
from revgov.settings import SettingError, Settings


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({CLOCK_START: "2027-01-01"}, "REVGOV_CLOCK_START must carry its UTC offset (e.g. 2027-01-01T09:00:00Z)"),
        ({CLOCK_START: "garbage"}, "REVGOV_CLOCK_START must be an ISO 8601 instant such as 2027-01-01T09:00:00Z"),
        ({CLOCK_START: "2027-01-01T00:00:00Z", CLOCK_ANCHOR: "soon"}, "REVGOV_CLOCK_ANCHOR must be epoch milliseconds"),
    ],
)
def test_a_bad_clock_setting_is_one_line_of_bad_input(env, says, capsys):
    code = run_safely(lambda: clock_offset_ms(dict(env)))
    err = capsys.readouterr().err
    assert code == BAD_INPUT == 2
    assert err.startswith(f"revgov: error: {says}"), err
    assert "unexpected" not in err and "Traceback" not in err and err.count("\n") == 1


def test_a_bad_whatif_worker_count_is_bad_input_too(capsys):
    code = run_safely(lambda: Settings.from_env({"REVGOV_WHATIF_WORKERS": "two"}))
    assert code == BAD_INPUT
    assert capsys.readouterr().err.startswith("revgov: error: REVGOV_WHATIF_WORKERS must be a whole number")


def test_the_setting_error_is_still_a_value_error_for_callers_that_catch_one():
    with pytest.raises(ValueError):
        clock_offset_ms({CLOCK_START: "2027-01-01"})
    assert issubclass(SettingError, ValueError)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"REVGOV_MAX_BODY_BYTES": "256KB"}, "REVGOV_MAX_BODY_BYTES must be a whole number of bytes, not '256KB'"),
        ({"REVGOV_MAX_BODY_BYTES": "-1"}, "REVGOV_MAX_BODY_BYTES must be a whole number of bytes"),
        ({"REVGOV_COPILOT_REFUSAL_BASELINE": "28%"}, "REVGOV_COPILOT_REFUSAL_BASELINE must be a rate from 0 to 1"),
        ({"REVGOV_COPILOT_REFUSAL_BASELINE": "28"}, "REVGOV_COPILOT_REFUSAL_BASELINE must be a rate from 0 to 1"),
    ],
)
def test_the_numeric_settings_of_the_configuration_table_say_what_they_take(env, says, capsys):
    """README (Configuration): `REVGOV_MAX_BODY_BYTES` default `262144` ("request bodies above this get 413");
    `REVGOV_COPILOT_REFUSAL_BASELINE` default `0.28` ("the copilot's refusal rate on its evaluation set")."""
    assert run_safely(lambda: Settings.from_env(dict(env))) == BAD_INPUT
    assert capsys.readouterr().err.startswith(f"revgov: error: {says}")


def test_the_defaults_of_the_configuration_table_still_hold():
    defaults = Settings.from_env({})
    assert defaults.max_body_bytes == 262144 and defaults.copilot_refusal_baseline == 0.28
    assert Settings.from_env({"REVGOV_MAX_BODY_BYTES": "1024"}).max_body_bytes == 1024
