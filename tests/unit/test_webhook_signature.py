"""ERP webhook signatures and secret rotation, with the clock handed in."""

import pytest

from revgov.domain.errors import Unauthenticated
from revgov.domain.webhooks import current_secrets, rotate, sign, verify

BODY = b'{"id":"NW-1"}'
NOW = 1_700_000_000


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    # computed independently: printf '1700000000.{"id":"NW-1"}' | openssl dgst -sha256 -hmac whsec_test
    assert sign("whsec_test", NOW, BODY) == "c8ea779cd3347cb5ce7c66688a61dfe08bf7dd52b23d4bc8b992ec1f3186483d"


def test_a_good_signature_within_300_seconds_either_way_is_accepted():
    for stamp in (NOW - 300, NOW, NOW + 300):
        verify(f"t={stamp},v1={sign('s', stamp, BODY)}", BODY, ["s"], now=NOW)


@pytest.mark.parametrize("stamp", [NOW - 301, NOW + 301])
def test_a_signature_outside_the_tolerance_is_refused(stamp):
    with pytest.raises(Unauthenticated, match="300 s"):
        verify(f"t={stamp},v1={sign('s', stamp, BODY)}", BODY, ["s"], now=NOW)


def test_a_stale_or_early_signature_is_told_how_far_it_is_from_revgovs_clock():
    # Found as a new ERP integrator (ninth round): a local stack run "as of" another day (README, REVGOV_CLOCK_START:
    # "webhook signatures come from this one clock") answered a push signed with the machine's time only "more than
    # 300 s away from now", without saying which now; an ERP whose clock drifts reads the same. RFC 9457 §3.1: the
    # detail helps the client correct the problem, so it names the `t` sent and Revgov's own `t`.
    with pytest.raises(Unauthenticated) as stale:
        verify(f"t={NOW - 3600},v1={sign('s', NOW - 3600, BODY)}", BODY, ["s"], now=NOW)
    assert f"t={NOW - 3600}" in stale.value.detail and "3600 s behind" in stale.value.detail
    assert f"t={NOW}" in stale.value.detail
    with pytest.raises(Unauthenticated) as early:
        verify(f"t={NOW + 400},v1={sign('s', NOW + 400, BODY)}", BODY, ["s"], now=NOW)
    assert "400 s ahead of" in early.value.detail and f"t={NOW}" in early.value.detail


def test_a_changed_body_or_another_secret_is_refused():
    header = f"t={NOW},v1={sign('s', NOW, BODY)}"
    with pytest.raises(Unauthenticated, match="no v1 signature matches"):
        verify(header, BODY + b" ", ["s"], now=NOW)
    with pytest.raises(Unauthenticated):
        verify(header, BODY, ["other"], now=NOW)
    with pytest.raises(Unauthenticated):
        verify(header, BODY, [], now=NOW)


def test_any_of_several_v1_signatures_may_match_any_current_secret_and_other_schemes_are_ignored():
    header = f"t={NOW},v0=abc,v1={'0' * 64},v1={sign('new', NOW, BODY).upper()},v9=x"
    verify(header, BODY, ["old", "new"], now=NOW)


@pytest.mark.parametrize(
    "header", [None, "", "v1=" + "a" * 64, "t=x,v1=" + "a" * 64, f"t={NOW},t={NOW},v1=" + "a" * 64, f"t={NOW},v0=a"]
)
def test_malformed_headers_are_refused(header):
    with pytest.raises(Unauthenticated):
        verify(header, BODY, ["s"], now=NOW)


def test_rotation_keeps_the_old_secret_until_the_grace_ends_then_drops_it():
    stored = [{"secret": "old", "valid_until": None}]
    rotated, grace_ends = rotate(stored, "new", "2026-11-27T10:00:00.000Z", 3600)
    assert grace_ends == "2026-11-27T11:00:00.000Z"
    assert rotated == [{"secret": "new", "valid_until": None}, {"secret": "old", "valid_until": grace_ends}]
    assert current_secrets(rotated, "2026-11-27T10:59:59.999Z") == ["new", "old"]
    assert current_secrets(rotated, "2026-11-27T11:00:00.000Z") == ["new"]
    again, _ = rotate(rotated, "newer", "2026-11-27T12:00:00.000Z", 600)
    assert [s["secret"] for s in again] == ["newer", "new"]  # the lapsed one is gone


def test_rotating_again_never_extends_an_older_secrets_grace_and_zero_grace_revokes_at_once():
    first, _ = rotate([{"secret": "a", "valid_until": None}], "b", "2026-11-27T10:00:00.000Z", 600)
    second, _ = rotate(first, "c", "2026-11-27T10:05:00.000Z", 3600)
    assert {s["secret"]: s["valid_until"] for s in second} == {
        "c": None,
        "b": "2026-11-27T11:05:00.000Z",
        "a": "2026-11-27T10:10:00.000Z",
    }
    revoked, _ = rotate(second, "d", "2026-11-27T10:06:00.000Z", 0)
    assert current_secrets(revoked, "2026-11-27T10:06:00.000Z") == ["d"]
