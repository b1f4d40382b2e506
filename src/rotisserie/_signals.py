"""
Read what an HTTP answer says about the key that made the request.

The scheduler calls :func:`read_signal` once per reported response. It turns
the status, the headers and (for 401/403/429) the start of the body into a
:class:`Signal`: what happened to the key, how long it must rest, and what the
server said about its rate-limit window.

Everything here is pure: no I/O, no clock (``now`` is injected) and no
exceptions for anything a server can send. A header that cannot be parsed is
treated as absent, so the scheduler falls back to its own backoff.

Header forms understood, by vendor:

- ``Retry-After`` as delta-seconds or an HTTP-date (RFC 9110 section 10.2.3);
  most APIs, GitHub for secondary rate limits.
- ``retry-after-ms`` (OpenAI, Azure OpenAI).
- ``x-ratelimit-{limit,remaining,reset}-requests`` with Go durations such as
  ``6m0s`` (OpenAI, Groq), plus the ``-tokens`` twins for the cooldown only.
- ``x-ratelimit-{limit,remaining,reset}`` with the reset as epoch seconds
  (GitHub, Twitter/X) or as delta seconds (many smaller APIs).
- ``RateLimit-{Limit,Remaining,Reset}``, ``RateLimit: limit=, remaining=,
  reset=`` and ``RateLimit: "p";r=;t=`` with ``RateLimit-Policy`` (the
  successive IETF httpapi rate-limit drafts).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import TypeVar

from rotisserie.errors import ConfigError

__all__ = [
    "Signal",
    "SignalKind",
    "parse_duration",
    "parse_retry_after",
    "read_signal",
]


class SignalKind(str, Enum):
    """
    What a response says about the key that made the request.

    The members are strings, so ``kind == "rate_limited"`` works as well.
    """

    #: 1xx-3xx: the key worked.
    OK = "ok"
    #: Too many requests for now; the key will recover by itself.
    RATE_LIMITED = "rate_limited"
    #: The key is invalid, revoked or its account is deactivated.
    REVOKED = "revoked"
    #: The account's quota or credit is used up; waiting minutes won't help.
    QUOTA = "quota"
    #: A 4xx/5xx that says nothing about the key (bad request, server error).
    OTHER = "other"
    #: No answer at all: the request failed in transport.
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Signal:
    """
    The reading of one response.

    Attributes:
        kind: what the response says about the key.
        cooldown: seconds the key must rest according to the response, at
            most ``max_retry_after``; ``None`` when the response gave no
            usable hint and the scheduler should use its own backoff. It is
            ``0.0`` only for an explicit ``Retry-After: 0``.
        remaining: requests left in the current window, when a header said so.
        limit: requests allowed per window, when a header said so.
        reset_after: seconds until the window resets, when a header said so.
        reason: a short printable reason for ``revoked``, ``quota`` and
            ``rate_limited`` (such as ``"401 invalid_api_key"``), built only
            from the status, known error codes and known header names.
    """

    kind: SignalKind
    cooldown: float | None = None
    remaining: int | None = None
    limit: int | None = None
    reset_after: float | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Window:
    """One rate-limit window as a header family described it."""

    source: str  # the header that carried ``remaining``, used in reasons
    remaining: int | None
    limit: int | None
    reset_after: float | None


_T = TypeVar("_T")

_OK = Signal(SignalKind.OK)
_ERROR = Signal(SignalKind.ERROR)

# Body values are compared after lowercasing and dropping everything but
# letters and digits, so "insufficient_quota", "INSUFFICIENT-QUOTA" and
# Google's camelCase "quotaExceeded" all meet the same entry. The value is
# the spelling shown in reasons; it never comes from the body itself.
_REVOKED_CODES = {
    "invalidapikey": "invalid_api_key",  # OpenAI, Mistral
    "incorrectapikey": "incorrect_api_key",
    "apikeyinvalid": "api_key_invalid",  # Google
    "invalidkey": "invalid_key",
    "apikeyrevoked": "api_key_revoked",
    "keyrevoked": "key_revoked",
    "apikeyexpired": "api_key_expired",
    "accountdeactivated": "account_deactivated",  # OpenAI
    "accountdisabled": "account_disabled",
    "accountsuspended": "account_suspended",
    "organizationdeactivated": "organization_deactivated",
    "authenticationerror": "authentication_error",  # Anthropic
}
_QUOTA_CODES = {
    "insufficientquota": "insufficient_quota",  # OpenAI
    "quotaexceeded": "quota_exceeded",  # Google v3 "quotaExceeded"
    "dailylimitexceeded": "daily_limit_exceeded",  # Google v3
    "billinghardlimitreached": "billing_hard_limit_reached",  # OpenAI
    "billingnotactive": "billing_not_active",  # OpenAI
    "insufficientbalance": "insufficient_balance",
    "insufficientcredits": "insufficient_credits",
}
_RATE_CODES = {
    "ratelimitexceeded": "rate_limit_exceeded",  # OpenAI, Google
    "ratelimiterror": "rate_limit_error",  # Anthropic
    "userratelimitexceeded": "user_rate_limit_exceeded",  # Google v3
    "ratelimited": "rate_limited",
    "toomanyrequests": "too_many_requests",
    "resourceexhausted": "resource_exhausted",  # Google gRPC status
}
# Only these JSON members hold machine-readable codes. Messages are never
# read: OpenAI's 401 message quotes part of the key.
_BODY_KEYS = frozenset({"code", "type", "reason", "status", "error", "error_code"})
_BODY_MAX = 65536  # bytes looked at; adapters send a few KB
_BODY_MAX_DEPTH = 6
_BODY_MAX_VALUES = 64
# For bodies json cannot read (cut off by the adapter, or not UTF-8): a code
# member whose value is a plain quoted string.
_BODY_CODE_RE = re.compile(
    r'"(?:code|type|reason|status|error|error_code)"\s*:\s*"([^"\\]{1,64})"',
    re.IGNORECASE,
)

# RFC 9110 delta-seconds is 1*DIGIT; a decimal fraction is tolerated because
# some proxies send "1.5". Signs, exponents, "nan", "inf" and "1_0" (all of
# which float() accepts) are refused.
_DECIMAL_RE = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_GO_PART = r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)"
_GO_RE = re.compile(f"(?:{_GO_PART})+")
_GO_PART_RE = re.compile(_GO_PART)
_GO_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,  # micro sign, as Go prints it
    "\u03bcs": 1e-6,  # Greek mu, also accepted by Go
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_MAX_COUNT_DIGITS = 18
# Day names open IMF-fixdate ("Wed,") and RFC 850 dates ("Wednesday,").
_DAY_NAMES = frozenset(
    (
        *("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
        *("monday", "tuesday", "wednesday", "thursday", "friday"),
        *("saturday", "sunday"),
    )
)

# A reset larger than this is an epoch timestamp, not a delta: 1e9 s is
# 31 years, and epoch seconds passed 1e9 in 2001 (GitHub, Twitter/X send
# epoch seconds). Above 1e12 it is epoch milliseconds.
_EPOCH_SECONDS = 1e9
_EPOCH_MILLIS = 1e12

_OPENAI_REQUESTS = (
    "x-ratelimit-remaining-requests",
    "x-ratelimit-limit-requests",
    "x-ratelimit-reset-requests",
)
_OPENAI_TOKENS = (
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-reset-tokens",
)
_X_RATELIMIT = ("x-ratelimit-remaining", "x-ratelimit-limit", "x-ratelimit-reset")
_IETF_SEPARATE = ("ratelimit-remaining", "ratelimit-limit", "ratelimit-reset")
# Every header a successful response is read for; without any of them a
# 1xx-3xx answer is plain "ok" and nothing else is parsed.
_RATE_HEADERS = frozenset(
    (*_OPENAI_REQUESTS, *_OPENAI_TOKENS, *_X_RATELIMIT, *_IETF_SEPARATE, "ratelimit")
)


def read_signal(
    status: int | None,
    headers: Mapping[str, str] | None,
    body: bytes | None,
    now: float,
    *,
    max_retry_after: float = 3600.0,
) -> Signal:
    """
    Read what a response says about its key.

    Args:
        status: the HTTP status, or ``None`` when the request failed in
            transport.
        headers: the response headers, any mapping (names are matched
            case-insensitively; repeated headers may be joined with ", ").
        body: the start of the body when the adapter read it (it does for
            401, 403 and 429), else ``None``. Only read for those statuses.
        now: the current wall-clock time, epoch seconds.
        max_retry_after: the largest cooldown returned, seconds; larger
            hints are clamped to it.

    Returns:
        The signal. Kinds map as follows: ``None`` is ``error``; 1xx-3xx are
        ``ok``; 401 is ``revoked``; 402 is ``quota``; 429 is ``quota`` when
        the body names a quota code, else ``rate_limited``; 403 is
        ``revoked`` or ``quota`` when the body names such a code,
        ``rate_limited`` when the body names a rate-limit code, a rate
        header shows 0 remaining or ``Retry-After`` is set, else ``other``;
        any other status is ``other``.

    Raises:
        ConfigError: ``max_retry_after`` is negative or NaN.
    """
    if not max_retry_after >= 0.0:
        raise ConfigError("max_retry_after", f"must be >= 0, got {max_retry_after!r}")
    if status is None:
        return _ERROR

    lowered = _lower_headers(headers)
    if 100 <= status < 400 and _RATE_HEADERS.isdisjoint(lowered):
        return _OK  # the common case: nothing to learn
    windows = list(_windows(lowered, now))
    shown = next((w for w in windows if w.source not in _OPENAI_TOKENS), None)
    exhausted = next((w for w in windows if w.remaining == 0), None)

    kind, detail = _classify(status, lowered, body, exhausted, now)
    cooldown = _cooldown(kind, lowered, windows, now, max_retry_after)
    reason = None
    if kind in (SignalKind.RATE_LIMITED, SignalKind.QUOTA, SignalKind.REVOKED):
        reason = f"{status} {detail}" if detail else str(status)
    if shown is None:
        return Signal(kind, cooldown, reason=reason)
    return Signal(
        kind, cooldown, shown.remaining, shown.limit, shown.reset_after, reason
    )


def parse_retry_after(value: str, now: float) -> float | None:
    """
    Parse a ``Retry-After`` value into seconds from ``now``.

    Accepts delta-seconds (``"120"``, also ``"1.5"``) and HTTP-dates in the
    three RFC 9110 forms. When the header was repeated and joined with
    commas, the first usable element counts.

    Args:
        value: the header value.
        now: the current wall-clock time, epoch seconds.

    Returns:
        Seconds to wait, not clamped; ``0.0`` for an explicit ``0``. ``None``
        for anything unusable: empty, negative, ``nan``, ``inf``, overflow,
        unparsable text, or a date that is not after ``now``.
    """
    for element in _retry_after_elements(value):
        seconds = _parse_decimal(element)
        if seconds is None:
            seconds = _parse_http_date(element, now)
        if seconds is not None:
            return seconds
    return None


def parse_duration(value: str) -> float | None:
    """
    Parse a Go-style duration or a plain number into seconds.

    OpenAI and Groq send resets such as ``"6m0s"``, ``"1m30.5s"``, ``"850ms"``
    or ``"1h2m"``; a bare number such as ``"20"`` or ``"0.5"`` means seconds.
    Units are ``h``, ``m``, ``s``, ``ms``, ``us``/``µs`` and ``ns``, in any
    letter case.

    Args:
        value: the text to parse.

    Returns:
        Seconds, or ``None`` for garbage, a sign, or a non-finite result.
    """
    text = value.strip().lower()
    seconds = _parse_decimal(text)
    if seconds is not None or not _GO_RE.fullmatch(text):
        return seconds
    total = 0.0
    for match in _GO_PART_RE.finditer(text):
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
    return total if math.isfinite(total) else None


def _lower_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """
    Return the headers with lowercase names, repeated names joined by ", ".

    aiohttp's multidict yields a repeated header once per value, while
    requests and httpx already join them; joining here gives one shape.
    """
    if not headers:
        return {}
    lowered: dict[str, str] = {}
    # Typed wider than the contract on purpose: a caller's hand-made mapping
    # may hold bytes or None, and one odd header must not hide the others.
    items: Iterable[tuple[object, object]] = headers.items()
    for name, value in items:
        if not isinstance(name, str) or not isinstance(value, str):
            continue
        key = name.lower()
        if key in lowered:
            lowered[key] = f"{lowered[key]}, {value}"
        else:
            lowered[key] = value
    return lowered


def _classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes | None,
    exhausted: _Window | None,
    now: float,
) -> tuple[SignalKind, str | None]:
    """Return the kind and a reason detail for a response that arrived."""
    if 100 <= status < 400:
        return SignalKind.OK, None
    if status == 402:
        # Payment Required: DeepSeek and OpenRouter answer it when the
        # account's balance is used up.
        return SignalKind.QUOTA, None
    if status not in (401, 403, 429):
        return SignalKind.OTHER, None

    codes = _body_codes(body)
    if status == 401:
        return SignalKind.REVOKED, _find_code(codes, _REVOKED_CODES)
    if status == 429:
        quota = _find_code(codes, _QUOTA_CODES)
        if quota is not None:
            return SignalKind.QUOTA, quota
        return SignalKind.RATE_LIMITED, _rate_detail(codes, exhausted)
    return _classify_403(headers, codes, exhausted, now)


def _classify_403(
    headers: Mapping[str, str],
    codes: tuple[str, ...],
    exhausted: _Window | None,
    now: float,
) -> tuple[SignalKind, str | None]:
    """
    Classify a 403, which means many things across vendors.

    A bare 403 is usually a permission problem (no access to a model or
    repository) that says nothing about the key, hence ``other``.
    """
    revoked = _find_code(codes, _REVOKED_CODES)
    if revoked is not None:
        return SignalKind.REVOKED, revoked
    quota = _find_code(codes, _QUOTA_CODES)
    if quota is not None:
        return SignalKind.QUOTA, quota
    if exhausted is not None or _find_code(codes, _RATE_CODES) is not None:
        # GitHub's primary limit: 403 with x-ratelimit-remaining: 0.
        # Google v3: 403 with reason rateLimitExceeded.
        return SignalKind.RATE_LIMITED, _rate_detail(codes, exhausted)
    retry_after = headers.get("retry-after")
    if retry_after is not None and parse_retry_after(retry_after, now) is not None:
        # GitHub's secondary limits: 403 with only Retry-After.
        return SignalKind.RATE_LIMITED, "retry-after"
    return SignalKind.OTHER, None


def _rate_detail(codes: tuple[str, ...], exhausted: _Window | None) -> str | None:
    """Return the reason detail of a rate-limited response."""
    rate = _find_code(codes, _RATE_CODES)
    if rate is not None:
        return rate
    if exhausted is not None:
        return f"{exhausted.source}=0"
    return None


def _cooldown(
    kind: SignalKind,
    headers: Mapping[str, str],
    windows: list[_Window],
    now: float,
    max_retry_after: float,
) -> float | None:
    """
    Return the rest the response asks for, clamped, or ``None``.

    For ``rate_limited`` and ``quota`` every source counts, in order:
    ``retry-after-ms``, ``Retry-After``, then the reset of the first window
    with nothing remaining. The milliseconds come first because vendors that
    send both round ``Retry-After`` up to whole seconds: trusting it would rest
    a key for a second where a few milliseconds were asked. For other kinds only an exhausted window counts:
    a 200 that used the last request still means the next one will fail,
    whereas a 503's Retry-After is about the server, not the key.
    """
    seconds: float | None = None
    if kind in (SignalKind.RATE_LIMITED, SignalKind.QUOTA):
        seconds = _parse_retry_after_ms(headers.get("retry-after-ms"))
        retry_after = headers.get("retry-after")
        if seconds is None and retry_after is not None:
            seconds = parse_retry_after(retry_after, now)
    if seconds is None:
        seconds = next(
            (w.reset_after for w in windows if w.remaining == 0 and w.reset_after),
            None,
        )
    return None if seconds is None else min(seconds, max_retry_after)


def _parse_retry_after_ms(value: str | None) -> float | None:
    """Parse ``retry-after-ms`` (OpenAI): milliseconds, more than zero."""
    if value is None:
        return None
    for element in value.split(","):
        millis = _parse_decimal(element)
        # Zero is refused: only an explicit Retry-After: 0 may end a
        # cooldown at once.
        if millis:
            return millis / 1000.0
    return None


def _windows(headers: Mapping[str, str], now: float) -> Iterator[_Window]:
    """
    Yield each rate-limit window the headers describe, most specific first.

    The first window that is not OpenAI's token window fills the signal's
    ``remaining``, ``limit`` and ``reset_after``; any window with nothing
    remaining can supply a cooldown.
    """
    for names in (_OPENAI_REQUESTS, _X_RATELIMIT, _IETF_SEPARATE, _OPENAI_TOKENS):
        window = _separate_window(headers, names, now)
        if window is not None:
            yield window
    combined = headers.get("ratelimit")
    if combined is not None:
        window = _combined_window(combined, headers.get("ratelimit-policy"), now)
        if window is not None:
            yield window


def _separate_window(
    headers: Mapping[str, str], names: tuple[str, str, str], now: float
) -> _Window | None:
    """Read a window sent as three headers: remaining, limit, reset."""
    remaining_name, limit_name, reset_name = names
    raw_remaining = headers.get(remaining_name)
    raw_limit = headers.get(limit_name)
    raw_reset = headers.get(reset_name)
    if raw_remaining is None and raw_limit is None and raw_reset is None:
        return None
    remaining = _first(raw_remaining, _parse_count)
    limit = _first(raw_limit, _parse_count)
    reset = _first(raw_reset, lambda text: _parse_reset(text, now))
    if remaining is None and limit is None and reset is None:
        return None
    return _Window(remaining_name, remaining, limit, reset)


def _combined_window(value: str, policy: str | None, now: float) -> _Window | None:
    """
    Read the IETF ``RateLimit`` header in either of its draft shapes.

    Drafts up to -07 send one dictionary, ``limit=10, remaining=0, reset=5``.
    Draft -08 on sends a list of named policies, ``"default";r=0;t=5``, with
    the quota in ``RateLimit-Policy: "default";q=10;w=60``; when several
    policies are listed, the one with the fewest remaining binds.
    """
    items = _sf_items(value)
    if items[0][0] is None:
        merged: dict[str, str] = {}
        for _, params in items:
            merged.update(params)
        items = [(None, merged)]
    best: _Window | None = None
    for name, params in items:
        remaining = _parse_count(params.get("r", params.get("remaining", "")))
        reset = _parse_reset(params.get("t", params.get("reset", "")), now)
        limit = _parse_count(params.get("limit", ""))
        if limit is None:
            limit = _policy_quota(policy, name)
        if remaining is None and reset is None and limit is None:
            continue
        window = _Window("ratelimit", remaining, limit, reset)
        if best is None or _binds_before(window, best):
            best = window
    return best


def _binds_before(window: _Window, other: _Window) -> bool:
    """Tell whether ``window`` runs out before ``other``."""
    if window.remaining is None:
        return False
    if other.remaining is None or window.remaining < other.remaining:
        return True
    return window.remaining == other.remaining and (window.reset_after or 0.0) > (
        other.reset_after or 0.0
    )


def _policy_quota(policy: str | None, name: str | None) -> int | None:
    """
    Find the quota for policy ``name`` in ``RateLimit-Policy``.

    The header is ``"default";q=10;w=60`` in draft -08 on and ``10;w=60``
    before; a bare number stands for the current policy whatever its name.
    """
    if policy is None:
        return None
    for item_name, params in _sf_items(policy):
        bare = _parse_count(item_name or "")
        if bare is not None:
            return bare  # "10;w=60" names no policy: it is the current one
        if name is None or item_name == name:
            return _parse_count(params.get("q", ""))
    return None


def _sf_items(value: str) -> list[tuple[str | None, dict[str, str]]]:
    """
    Split a structured-field list or dictionary into items and parameters.

    This is a lenient reading of RFC 8941 that is enough for rate-limit
    headers: an item is ``name;key=value;...``, and an item whose first part
    already holds ``=`` has no name (a dictionary member of draft -07).
    """
    items: list[tuple[str | None, dict[str, str]]] = []
    for element in value.split(","):
        parts = element.split(";")
        head = parts[0].strip()
        name: str | None = head.strip('"')
        if "=" in head:
            name = None
        else:
            parts = parts[1:]
        params: dict[str, str] = {}
        for part in parts:
            key, sep, raw = part.partition("=")
            if sep:
                params[key.strip().lower()] = raw.strip().strip('"')
        items.append((name, params))
    return items


def _first(value: str | None, parse: Callable[[str], _T | None]) -> _T | None:
    """Return the first comma-separated element of ``value`` that parses."""
    if value is None:
        return None
    for element in value.split(","):
        # IETF draft-03 limits look like "10, 10;w=1": drop the parameters.
        parsed = parse(element.partition(";")[0])
        if parsed is not None:
            return parsed
    return None


def _parse_count(text: str) -> int | None:
    """Parse a non-negative decimal integer, or return ``None``."""
    text = text.strip()
    # isascii() because isdigit() accepts "²" and other digits int() refuses.
    if text.isascii() and text.isdigit() and len(text) <= _MAX_COUNT_DIGITS:
        return int(text)
    return None


def _parse_decimal(text: str) -> float | None:
    """Parse a non-negative finite decimal such as ``"2"`` or ``"1.5"``."""
    text = text.strip()
    if not _DECIMAL_RE.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _parse_reset(text: str, now: float) -> float | None:
    """
    Parse a window reset into seconds from ``now``, or ``None``.

    The value is a delta (number or Go duration) or, when it is very large,
    an epoch timestamp in seconds or milliseconds. A reset in the past says
    nothing usable.
    """
    seconds = parse_duration(text)
    if seconds is None:
        return None
    if seconds > _EPOCH_MILLIS:
        seconds = seconds / 1000.0 - now
    elif seconds > _EPOCH_SECONDS:
        seconds -= now
    return seconds if seconds > 0.0 else None


def _retry_after_elements(value: str) -> Iterator[str]:
    """
    Split a possibly repeated ``Retry-After`` into single values.

    A comma also sits inside an HTTP-date after the day name
    (``Wed, 21 Oct 2015 ...``), so a piece that is only a day name is glued
    to the piece after it.
    """
    pending = ""
    for piece in value.split(","):
        if pending:
            piece = f"{pending},{piece}"
            pending = ""
        stripped = piece.strip()
        if stripped.lower() in _DAY_NAMES:
            pending = stripped
            continue
        yield stripped
    if pending:
        yield pending


def _parse_http_date(text: str, now: float) -> float | None:
    """Parse an HTTP-date into seconds after ``now``; ``None`` if not after."""
    # Every HTTP-date form has a time with colons; checking first keeps
    # words like "soon" away from the lenient email parser.
    if ":" not in text:
        return None
    try:
        moment = parsedate_to_datetime(text)
        if moment.tzinfo is None:
            # asctime and "-0000" dates carry no zone; HTTP-dates are UTC.
            moment = moment.replace(tzinfo=timezone.utc)
        seconds = moment.timestamp() - now
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return seconds if seconds > 0.0 else None


def _body_codes(body: bytes | None) -> tuple[str, ...]:
    """
    Return the normalised error codes a response body names.

    Codes are the string values of members such as ``code``, ``type`` and
    ``reason`` at any depth, so OpenAI's ``{"error": {"code": ...}}``,
    Google's ``errors``/``details`` lists and top-level arrays all work.
    """
    if not body:
        return ()
    head = body[:_BODY_MAX]
    values: list[str] = []
    try:
        _collect_codes(json.loads(head), values, 0)
    except (ValueError, RecursionError):
        # Cut off, not UTF-8, or not JSON: look for quoted code members.
        text = head.decode("utf-8", "replace")
        values = _BODY_CODE_RE.findall(text)[:_BODY_MAX_VALUES]
    return tuple(_normalise(value) for value in values)


def _collect_codes(node: object, values: list[str], depth: int) -> None:
    """Append the code members found in a parsed JSON document."""
    if depth > _BODY_MAX_DEPTH or len(values) >= _BODY_MAX_VALUES:
        return
    if isinstance(node, list):
        for item in node[:_BODY_MAX_VALUES]:
            _collect_codes(item, values, depth + 1)
    elif isinstance(node, dict):
        for key, item in node.items():
            if isinstance(item, str):
                if key.lower() in _BODY_KEYS and len(item) <= 64:
                    values.append(item)
            else:
                _collect_codes(item, values, depth + 1)


def _normalise(code: str) -> str:
    """Lowercase a code and keep only its ASCII letters and digits."""
    return "".join(ch for ch in code.lower() if ch.isascii() and ch.isalnum())


def _find_code(codes: tuple[str, ...], table: Mapping[str, str]) -> str | None:
    """Return the display spelling of the first code found in ``table``."""
    for code in codes:
        display = table.get(code)
        if display is not None:
            return display
    return None
