"""Tests for reading rate-limit signals from HTTP answers."""

from __future__ import annotations

import calendar
import dataclasses
import json
import math
from collections.abc import Iterator, Mapping

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy
from requests.structures import CaseInsensitiveDict

from rotisserie._signals import (
    Signal,
    SignalKind,
    parse_duration,
    parse_retry_after,
    read_signal,
)
from rotisserie.errors import ConfigError

# 2015-10-21 07:27:50 UTC, ten seconds before the RFC 9110 example date.
NOW = float(calendar.timegm((2015, 10, 21, 7, 27, 50, 0, 0, 0)))
RFC_DATE = "Wed, 21 Oct 2015 07:28:00 GMT"
SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"


def body(document: object) -> bytes:
    """Encode a JSON document as a response body."""
    return json.dumps(document).encode()


# Field cases from the brief.


def test_retry_after_http_date_is_relative_to_now() -> None:
    """C01: an HTTP-date Retry-After counts from the injected clock."""
    signal = read_signal(429, {"Retry-After": RFC_DATE}, None, NOW)
    assert signal.kind is SignalKind.RATE_LIMITED
    assert signal.cooldown == 10.0


def test_retry_after_negative_is_no_hint() -> None:
    """C02: a negative Retry-After leaves the cooldown to the scheduler."""
    signal = read_signal(429, {"Retry-After": "-5"}, None, NOW)
    assert signal.kind is SignalKind.RATE_LIMITED
    assert signal.cooldown is None


def test_retry_after_ms_used_without_retry_after() -> None:
    """C03: retry-after-ms is read as milliseconds."""
    signal = read_signal(429, {"retry-after-ms": "1500"}, None, NOW)
    assert signal.cooldown == 1.5


def test_openai_reset_requests_duration_gives_cooldown() -> None:
    """C04: OpenAI's Go-duration reset of an exhausted window is the cooldown."""
    headers = {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1m30.5s",
    }
    signal = read_signal(429, headers, None, NOW)
    assert signal.cooldown == 90.5
    assert signal.remaining == 0
    assert signal.reset_after == 90.5
    assert signal.reason == "429 x-ratelimit-remaining-requests=0"


def test_github_403_with_remaining_zero_is_rate_limited() -> None:
    """C05: GitHub's 403 with remaining 0 and an epoch reset is a rate limit."""
    headers = {
        "X-RateLimit-Limit": "5000",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(NOW) + 60),
    }
    signal = read_signal(403, headers, body({"message": "API rate limit"}), NOW)
    assert signal.kind is SignalKind.RATE_LIMITED
    assert signal.cooldown == pytest.approx(60.0)
    assert signal.limit == 5000
    assert signal.reason == "403 x-ratelimit-remaining=0"


def test_401_invalid_api_key_body_is_revoked() -> None:
    """C08: a 401 naming invalid_api_key revokes the key and says why."""
    document = {"error": {"code": "invalid_api_key", "message": "Incorrect key"}}
    signal = read_signal(401, {}, body(document), NOW)
    assert signal.kind is SignalKind.REVOKED
    assert signal.reason is not None
    assert "invalid_api_key" in signal.reason


def test_429_insufficient_quota_body_is_quota() -> None:
    """C09: a 429 whose body says insufficient_quota is a quota signal."""
    document = {"error": {"type": "insufficient_quota", "code": None}}
    signal = read_signal(429, {}, body(document), NOW)
    assert signal.kind is SignalKind.QUOTA
    assert signal.reason == "429 insufficient_quota"
    assert signal.cooldown is None


# Retry-After.


@pytest.mark.parametrize(
    "value",
    ["soon", "1e309", "nan", "inf", "-inf", "", "   ", "+5", "1e3", "1_000", "٣", "5s"],
)
def test_retry_after_garbage_is_no_hint(value: str) -> None:
    """Unparsable, signed, exponent and non-finite values give no hint."""
    assert parse_retry_after(value, NOW) is None
    assert read_signal(429, {"Retry-After": value}, None, NOW).cooldown is None


def test_retry_after_zero_means_retry_now() -> None:
    """An explicit Retry-After: 0 is a valid hint of zero seconds."""
    assert read_signal(429, {"Retry-After": "0"}, None, NOW).cooldown == 0.0


def test_retry_after_decimal_is_accepted() -> None:
    """A decimal delta with surrounding blanks is read."""
    assert parse_retry_after(" 1.25 ", NOW) == 1.25


def test_retry_after_huge_is_clamped() -> None:
    """A huge delta is clamped to max_retry_after."""
    signal = read_signal(429, {"Retry-After": "99999999"}, None, NOW)
    assert signal.cooldown == 3600.0


def test_retry_after_clamp_follows_argument() -> None:
    """The clamp is the caller's max_retry_after."""
    signal = read_signal(429, {"Retry-After": "120"}, None, NOW, max_retry_after=30.0)
    assert signal.cooldown == 30.0


@pytest.mark.parametrize(
    "value", ["Wed, 21 Oct 2015 07:27:00 GMT", "Wed, 21 Oct 2015 07:27:50 GMT"]
)
def test_retry_after_date_not_in_future_is_no_hint(value: str) -> None:
    """A date at or before now gives no hint rather than a zero cooldown."""
    assert parse_retry_after(value, NOW) is None
    assert read_signal(429, {"Retry-After": value}, None, NOW).cooldown is None


@pytest.mark.parametrize(
    "value",
    [
        "Wednesday, 21-Oct-15 07:28:00 GMT",
        "Wed Oct 21 07:28:00 2015",
        "Wed, 21 Oct 2015 07:28:00 -0000",
    ],
)
def test_retry_after_obsolete_date_forms(value: str) -> None:
    """RFC 850 and asctime dates are read as UTC."""
    assert parse_retry_after(value, NOW) == 10.0


@pytest.mark.parametrize(
    "value",
    ["Wed, 32 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 99999 07:28:00 GMT", "12:00"],
)
def test_retry_after_broken_date_is_no_hint(value: str) -> None:
    """Dates with impossible fields give no hint."""
    assert parse_retry_after(value, NOW) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5, 10", 5.0),
        ("soon, 7", 7.0),
        ("-1, 0", 0.0),
        (f"{RFC_DATE}, Wed, 21 Oct 2015 07:29:00 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT, 3", 3.0),
        ("Wed", None),
    ],
)
def test_retry_after_repeated_takes_first_usable(
    value: str, expected: float | None
) -> None:
    """A repeated header joined with commas yields its first usable value."""
    assert parse_retry_after(value, NOW) == expected


def test_retry_after_repeated_in_multidict() -> None:
    """aiohttp's multidict repeats are joined before reading."""
    headers = CIMultiDict([("Retry-After", "junk"), ("retry-after", "4")])
    signal = read_signal(429, CIMultiDictProxy(headers), None, NOW)
    assert signal.cooldown == 4.0


def test_retry_after_ms_wins_over_rounded_retry_after() -> None:
    """The precise retry-after-ms comes before Retry-After, which vendors round up."""
    headers = {
        "Retry-After": "2",
        "retry-after-ms": "1500",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "50",
    }
    assert read_signal(429, headers, None, NOW).cooldown == 1.5


def test_retry_after_wins_over_window_reset() -> None:
    """Retry-After comes before the reset of an exhausted window."""
    headers = {
        "Retry-After": "2",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "50",
    }
    assert read_signal(429, headers, None, NOW).cooldown == 2.0


def test_unusable_retry_after_falls_through_to_ms() -> None:
    """An unusable Retry-After moves on to retry-after-ms."""
    headers = {"Retry-After": "nan", "retry-after-ms": "250"}
    assert read_signal(429, headers, None, NOW).cooldown == 0.25


@pytest.mark.parametrize("value", ["0", "-5", "x", "1e309"])
def test_retry_after_ms_unusable_falls_through(value: str) -> None:
    """A zero or unusable retry-after-ms moves on to the window reset."""
    headers = {
        "retry-after-ms": value,
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "7",
    }
    assert read_signal(429, headers, None, NOW).cooldown == 7.0


def test_429_without_hint_has_no_cooldown() -> None:
    """A bare 429 leaves the cooldown to the scheduler's backoff."""
    signal = read_signal(429, {"Content-Type": "text/plain"}, b"slow down", NOW)
    assert signal == Signal(SignalKind.RATE_LIMITED, reason="429")


def test_reset_ignored_while_requests_remain() -> None:
    """A window reset is no cooldown when requests still remain."""
    headers = {"x-ratelimit-remaining": "3", "x-ratelimit-reset": "40"}
    signal = read_signal(429, headers, None, NOW)
    assert signal.cooldown is None
    assert signal.remaining == 3
    assert signal.reset_after == 40.0


# Durations.


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1m30.5s", 90.5),
        ("6m0s", 360.0),
        ("850ms", 0.85),
        ("1h2m", 3720.0),
        ("20s", 20.0),
        ("20", 20.0),
        ("0.5", 0.5),
        ("0", 0.0),
        (".5s", 0.5),
        ("1500us", 0.0015),
        ("2µs", 2e-6),
        ("100ns", 1e-7),
        (" 7S ", 7.0),
    ],
)
def test_parse_duration_reads_go_form(value: str, expected: float) -> None:
    """Go durations and plain numbers are read as seconds."""
    assert parse_duration(value) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value",
    ["", "s", "-1s", "+1s", "1x", "1m-5s", "1 m", "nan", "inf", "1e3", "9" * 400],
)
def test_parse_duration_garbage_is_none(value: str) -> None:
    """Garbage, signs and non-finite values give None."""
    assert parse_duration(value) is None


def test_parse_duration_overflow_is_none() -> None:
    """A duration too large for a float gives None."""
    assert parse_duration("9" * 400 + "h") is None


# Windows learned from headers.


def test_openai_window_fields() -> None:
    """OpenAI request headers fill remaining, limit and reset_after."""
    headers = {
        "x-ratelimit-limit-requests": "500",
        "x-ratelimit-remaining-requests": "499",
        "x-ratelimit-reset-requests": "120ms",
        "x-ratelimit-limit-tokens": "30000",
        "x-ratelimit-remaining-tokens": "29000",
        "x-ratelimit-reset-tokens": "2s",
    }
    signal = read_signal(200, headers, None, NOW)
    assert signal == Signal(SignalKind.OK, None, 499, 500, 0.12)


def test_openai_token_window_gives_cooldown() -> None:
    """An exhausted OpenAI token window supplies the cooldown."""
    headers = {
        "x-ratelimit-remaining-requests": "10",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "6m0s",
    }
    signal = read_signal(429, headers, None, NOW)
    assert signal.cooldown == 360.0
    assert signal.remaining == 10
    assert signal.reason == "429 x-ratelimit-remaining-tokens=0"


def test_x_ratelimit_reset_small_is_delta() -> None:
    """A small x-ratelimit-reset is seconds from now."""
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "30"}
    signal = read_signal(429, headers, None, NOW)
    assert signal.reset_after == 30.0
    assert signal.cooldown == 30.0


def test_x_ratelimit_reset_epoch_millis() -> None:
    """An epoch reset in milliseconds is also understood."""
    headers = {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(NOW * 1000 + 5000),
    }
    assert read_signal(429, headers, None, NOW).cooldown == pytest.approx(5.0)


def test_x_ratelimit_reset_past_epoch_is_no_hint() -> None:
    """An epoch reset in the past gives neither reset_after nor cooldown."""
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) - 5)}
    signal = read_signal(429, headers, None, NOW)
    assert signal.reset_after is None
    assert signal.cooldown is None
    assert signal.remaining == 0


def test_ok_with_exhausted_window_gets_cooldown() -> None:
    """A 200 that used the last request tells the key to rest until reset."""
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "12"}
    signal = read_signal(200, headers, None, NOW)
    assert signal.kind is SignalKind.OK
    assert signal.cooldown == 12.0
    assert signal.reason is None


def test_ok_ignores_retry_after() -> None:
    """Retry-After on a success says nothing about the key."""
    assert read_signal(200, {"Retry-After": "30"}, None, NOW) == Signal(SignalKind.OK)


def test_ietf_separate_headers() -> None:
    """RateLimit-Limit/-Remaining/-Reset are read; draft-03 parameters dropped."""
    headers = {
        "RateLimit-Limit": "10, 10;w=1, 1000;w=3600",
        "RateLimit-Remaining": "4",
        "RateLimit-Reset": "7",
    }
    assert read_signal(200, headers, None, NOW) == Signal(
        SignalKind.OK, None, 4, 10, 7.0
    )


def test_ietf_combined_dictionary() -> None:
    """The draft-07 RateLimit dictionary gives all three fields."""
    headers = {"RateLimit": "limit=10, remaining=0, reset=5"}
    signal = read_signal(429, headers, None, NOW)
    assert (signal.remaining, signal.limit, signal.reset_after) == (0, 10, 5.0)
    assert signal.cooldown == 5.0
    assert signal.reason == "429 ratelimit=0"


@pytest.mark.parametrize(
    "policy", ['"default";q=10;w=60', "10;w=60", '"other";q=99, "default";q=10']
)
def test_ietf_structured_with_policy(policy: str) -> None:
    """The draft-08 RateLimit list takes its quota from RateLimit-Policy."""
    headers = {"RateLimit": '"default";r=0;t=5', "RateLimit-Policy": policy}
    signal = read_signal(429, headers, None, NOW)
    assert (signal.remaining, signal.limit, signal.reset_after) == (0, 10, 5.0)
    assert signal.cooldown == 5.0


def test_ietf_structured_binding_policy() -> None:
    """With several policies, the one with the fewest remaining counts."""
    headers = {
        "RateLimit": '"burst";r=3;t=1, "day";r=0;t=500',
        "RateLimit-Policy": '"burst";q=10;w=1, "day";q=1000;w=86400',
    }
    signal = read_signal(200, headers, None, NOW)
    assert (signal.remaining, signal.limit, signal.cooldown) == (0, 1000, 500.0)


@pytest.mark.parametrize(
    ("value", "remaining", "reset"),
    [
        ('"a";r=0;t=5, "b";r=0;t=50', 0, 50.0),
        ('"a";r=0;t=50, "b";r=0;t=5', 0, 50.0),
        ('"a";t=5, "b";r=2;t=1', 2, 1.0),
        ('"a";r=2;t=1, "b";t=5', 2, 1.0),
        ('"a";t=5, "b";t=1', None, 5.0),
    ],
)
def test_ietf_structured_tie_breaks(
    value: str, remaining: int | None, reset: float
) -> None:
    """Ties go to the later reset; items without a count never bind."""
    signal = read_signal(200, {"RateLimit": value}, None, NOW)
    assert (signal.remaining, signal.reset_after) == (remaining, reset)


def test_ietf_structured_without_policy() -> None:
    """A RateLimit item without a policy header has no limit."""
    signal = read_signal(200, {"RateLimit": "default;r=4;t=9"}, None, NOW)
    assert (signal.remaining, signal.limit, signal.reset_after) == (4, None, 9.0)


def test_ietf_structured_garbage_is_ignored() -> None:
    """A RateLimit header with nothing usable adds nothing."""
    signal = read_signal(200, {"RateLimit": '"x";r=-1;t=nan, ;;'}, None, NOW)
    assert signal == Signal(SignalKind.OK)


def test_specific_family_is_shown_first() -> None:
    """OpenAI request headers win over the generic x-ratelimit family."""
    headers = {
        "x-ratelimit-remaining": "50",
        "x-ratelimit-remaining-requests": "5",
    }
    assert read_signal(200, headers, None, NOW).remaining == 5


@pytest.mark.parametrize("value", ["-1", "1.5", "²", "ten", "9" * 30, ""])
def test_bad_counts_are_ignored(value: str) -> None:
    """Counts that are not small non-negative integers are dropped."""
    signal = read_signal(200, {"x-ratelimit-remaining": value}, None, NOW)
    assert signal.remaining is None


# Header mappings.


def test_header_names_case_insensitive_in_plain_dict() -> None:
    """A plain dict with mixed-case names is matched case-insensitively."""
    signal = read_signal(429, {"RETRY-AFTER": "3"}, None, NOW)
    assert signal.cooldown == 3.0


@pytest.mark.parametrize(
    "headers",
    [
        httpx.Headers({"Retry-After": "3"}),
        CaseInsensitiveDict({"Retry-After": "3"}),
        CIMultiDictProxy(CIMultiDict({"Retry-After": "3"})),
    ],
    ids=["httpx", "requests", "aiohttp"],
)
def test_client_header_mappings(headers: Mapping[str, str]) -> None:
    """The header types of httpx, requests and aiohttp are read."""
    assert read_signal(429, headers, None, NOW).cooldown == 3.0


def test_headers_none() -> None:
    """Missing headers are tolerated."""
    assert read_signal(429, None, None, NOW) == Signal(
        SignalKind.RATE_LIMITED, reason="429"
    )


class OddHeaders(Mapping[str, str]):
    """A mapping that breaks the contract by holding non-str entries."""

    def __init__(self) -> None:
        """Hold one bytes value, one None key and one good header."""
        self._items: list[tuple[object, object]] = [
            ("X-Bytes", b"1"),
            (None, "2"),
            ("Retry-After", "6"),
        ]

    def __getitem__(self, key: str) -> str:
        """Look a header up; never used by the code under test."""
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        """Iterate names; never used by the code under test."""
        return iter(())

    def __len__(self) -> int:
        """Count the entries."""
        return len(self._items)

    def items(self) -> Iterator[tuple[object, object]]:  # type: ignore[override]
        """Yield the raw entries."""
        return iter(self._items)


def test_non_str_headers_are_skipped() -> None:
    """Entries that are not str pairs are skipped, the rest still read."""
    assert read_signal(429, OddHeaders(), None, NOW).cooldown == 6.0


# Kinds by status.


@pytest.mark.parametrize("status", [100, 200, 204, 301, 304, 399])
def test_success_statuses_are_ok(status: int) -> None:
    """1xx to 3xx answers are ok."""
    assert read_signal(status, {}, None, NOW) == Signal(SignalKind.OK)


@pytest.mark.parametrize("status", [400, 404, 408, 500, 502, 503, 529, 0, 999])
def test_unrelated_statuses_are_other(status: int) -> None:
    """Statuses that say nothing about the key are other, with no cooldown."""
    signal = read_signal(status, {"Retry-After": "30"}, b'{"error": "x"}', NOW)
    assert signal == Signal(SignalKind.OTHER)


def test_transport_failure_is_error() -> None:
    """A missing status means the request failed in transport."""
    assert read_signal(None, {"Retry-After": "5"}, None, NOW) == Signal(
        SignalKind.ERROR
    )


def test_plain_401_is_revoked() -> None:
    """Any 401 revokes the key, even without a body."""
    assert read_signal(401, {}, None, NOW) == Signal(SignalKind.REVOKED, reason="401")


def test_402_is_quota() -> None:
    """Payment Required is a quota signal."""
    assert read_signal(402, {}, None, NOW).kind is SignalKind.QUOTA


def test_plain_403_is_other() -> None:
    """A 403 without any sign about the key is other."""
    document = {"error": {"type": "permission_error", "message": "no access"}}
    assert read_signal(403, {}, body(document), NOW) == Signal(SignalKind.OTHER)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"error": {"code": "account_deactivated"}}, "403 account_deactivated"),
        ({"error": {"code": "invalid_api_key"}}, "403 invalid_api_key"),
        (
            {"error": {"details": [{"reason": "API_KEY_INVALID"}]}},
            "403 api_key_invalid",
        ),
    ],
)
def test_403_with_revoked_code_is_revoked(document: object, reason: str) -> None:
    """A 403 whose body names a dead key or account is revoked."""
    signal = read_signal(403, {}, body(document), NOW)
    assert signal.kind is SignalKind.REVOKED
    assert signal.reason == reason


@pytest.mark.parametrize(
    "document",
    [
        {"error": {"code": "quota_exceeded"}},
        {"error": {"code": "billing_hard_limit_reached"}},
        {"error": {"errors": [{"reason": "dailyLimitExceeded"}], "code": 403}},
    ],
)
def test_403_with_quota_code_is_quota(document: object) -> None:
    """A 403 whose body names an exhausted quota is quota."""
    assert read_signal(403, {}, body(document), NOW).kind is SignalKind.QUOTA


def test_403_google_rate_reason_is_rate_limited() -> None:
    """Google v3's 403 rateLimitExceeded is a rate limit."""
    document = {"error": {"errors": [{"reason": "userRateLimitExceeded"}]}}
    signal = read_signal(403, {}, body(document), NOW)
    assert signal.kind is SignalKind.RATE_LIMITED
    assert signal.reason == "403 user_rate_limit_exceeded"


def test_403_with_retry_after_is_rate_limited() -> None:
    """GitHub's secondary limit, a 403 with only Retry-After, is a rate limit."""
    signal = read_signal(403, {"Retry-After": "60"}, None, NOW)
    assert signal == Signal(SignalKind.RATE_LIMITED, 60.0, reason="403 retry-after")


def test_403_with_unusable_retry_after_is_other() -> None:
    """A 403 whose Retry-After is unusable stays other."""
    assert read_signal(403, {"Retry-After": "-1"}, None, NOW).kind is SignalKind.OTHER


def test_429_rate_code_in_reason() -> None:
    """A 429 body's rate-limit code is shown in the reason."""
    document = {"type": "error", "error": {"type": "rate_limit_error"}}
    signal = read_signal(429, {"retry-after": "8"}, body(document), NOW)
    assert signal == Signal(SignalKind.RATE_LIMITED, 8.0, reason="429 rate_limit_error")


def test_quota_keeps_header_cooldown() -> None:
    """A quota answer still reports the rest its headers ask for."""
    document = {"error": {"code": "insufficient_quota"}}
    signal = read_signal(429, {"Retry-After": "20"}, body(document), NOW)
    assert (signal.kind, signal.cooldown) == (SignalKind.QUOTA, 20.0)


def test_kind_compares_as_string() -> None:
    """Kinds are str members, so plain strings compare equal."""
    assert read_signal(429, {}, None, NOW).kind == "rate_limited"


def test_signal_is_frozen() -> None:
    """A signal cannot be changed after it is made."""
    signal = read_signal(200, {}, None, NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        signal.kind = SignalKind.ERROR  # type: ignore[misc]


# Bodies.


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><body>Unauthorized</body></html>",
        b"\xff\xfe\x00garbage\x80",
        b"[1, 2, 3]",
        b'"invalid_api_key"',
        b"null",
        b"[" * 100_000,
        b'{"a": ' * 5000 + b"1" + b"}" * 5000,
        b" " * 1_000_000,
        b"",
    ],
    ids=[
        "html",
        "not-utf8",
        "array",
        "string",
        "null",
        "deep",
        "nested",
        "huge",
        "empty",
    ],
)
def test_odd_bodies_give_no_code(raw: bytes) -> None:
    """Bodies without a code member are read without raising."""
    assert read_signal(403, {}, raw, NOW) == Signal(SignalKind.OTHER)
    assert read_signal(401, {}, raw, NOW) == Signal(SignalKind.REVOKED, reason="401")


def test_deeply_nested_code_is_ignored() -> None:
    """Codes nested deeper than any vendor puts them are not looked for."""
    document: object = {"code": "invalid_api_key"}
    for _ in range(10):
        document = {"wrap": document}
    assert read_signal(403, {}, body(document), NOW).kind is SignalKind.OTHER


def test_json_array_body_is_searched() -> None:
    """A top-level JSON array of errors is searched."""
    raw = body([{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}])
    assert read_signal(429, {}, raw, NOW).reason == "429 resource_exhausted"


def test_truncated_json_body_is_scanned() -> None:
    """A body cut off by the adapter is still scanned for code members."""
    raw = b'{"error": {"message": "You exceeded", "type": "insufficient_quota", "par'
    assert read_signal(429, {}, raw, NOW).kind is SignalKind.QUOTA


def test_non_utf8_body_is_scanned() -> None:
    """A body with a broken byte before the code is still scanned."""
    raw = b'{"msg": "\xff", "code": "account_deactivated"}'
    assert read_signal(403, {}, raw, NOW).reason == "403 account_deactivated"


def test_code_past_read_limit_is_ignored() -> None:
    """Only the first 64 KiB of a body are looked at."""
    raw = b'{"pad": "' + b"x" * 70_000 + b'", "code": "invalid_api_key"}'
    assert read_signal(403, {}, raw, NOW).kind is SignalKind.OTHER


def test_body_ignored_for_other_statuses() -> None:
    """Bodies are not read for statuses other than 401, 403 and 429."""
    raw = body({"error": {"code": "invalid_api_key"}})
    assert read_signal(400, {}, raw, NOW) == Signal(SignalKind.OTHER)


def test_reason_never_holds_message_or_key() -> None:
    """The reason is built from known codes, never from body text."""
    document = {
        "error": {
            "message": f"Incorrect API key provided: {SECRET}",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
            "param": SECRET,
        }
    }
    headers = {"Authorization": f"Bearer {SECRET}", "x-api-key": SECRET}
    signal = read_signal(401, headers, body(document), NOW)
    assert signal.reason == "401 invalid_api_key"
    assert SECRET not in repr(signal)


def test_secret_in_code_member_is_not_shown() -> None:
    """An unknown code, even a secret one, never reaches the reason."""
    raw = body({"error": {"code": SECRET}})
    assert read_signal(429, {}, raw, NOW).reason == "429"


# Configuration.


@pytest.mark.parametrize("value", [-1.0, math.nan])
def test_invalid_max_retry_after_raises(value: float) -> None:
    """A negative or NaN clamp is a configuration error."""
    with pytest.raises(ConfigError, match="max_retry_after"):
        read_signal(429, {}, None, NOW, max_retry_after=value)


# Property.

RATE_NAMES = [
    "Retry-After",
    "retry-after-ms",
    "x-ratelimit-remaining",
    "x-ratelimit-limit",
    "x-ratelimit-reset",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
    "RateLimit",
    "RateLimit-Policy",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Content-Type",
]
header_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["0", "-5", "nan", "1e309", "60", "1m30.5s", RFC_DATE, "r=0;t=5"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
body_values = st.one_of(
    st.none(),
    st.binary(max_size=200),
    st.sampled_from([b'{"error": {"code": "insufficient_quota"}}', b"[[[", b"{}"]),
)


@settings(max_examples=400, deadline=None)
@given(
    status=st.one_of(st.none(), st.sampled_from([200, 401, 402, 403, 429, 503])),
    headers=st.dictionaries(
        st.one_of(st.sampled_from(RATE_NAMES), st.text(max_size=10)),
        header_values,
        max_size=6,
    ),
    raw=body_values,
    now=st.floats(min_value=0.0, max_value=4e9),
    clamp=st.floats(min_value=0.0, max_value=1e6),
)
def test_read_signal_never_raises(
    status: int | None,
    headers: dict[str, str],
    raw: bytes | None,
    now: float,
    clamp: float,
) -> None:
    """Any text headers and bytes body give a signal with a sane cooldown."""
    signal = read_signal(status, headers, raw, now, max_retry_after=clamp)
    if signal.cooldown is not None:
        assert math.isfinite(signal.cooldown)
        assert 0.0 <= signal.cooldown <= clamp
    if signal.reset_after is not None:
        assert math.isfinite(signal.reset_after)
        assert signal.reset_after > 0.0
    if signal.reason is not None:
        assert len(signal.reason) <= 80
        assert signal.reason.isprintable()


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=60), now=st.floats(min_value=0.0, max_value=4e9))
def test_parsers_never_raise(value: str, now: float) -> None:
    """The public parsers return a finite non-negative number or None."""
    for result in (parse_retry_after(value, now), parse_duration(value)):
        assert result is None or (math.isfinite(result) and result >= 0.0)
