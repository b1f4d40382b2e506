"""
How the simulator writes rate-limit state into response headers.

Every duration is rounded *up* (to the millisecond, or to the second where a
format only allows whole seconds) so that a client waiting the advertised time
never arrives early.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Literal

from rotisserie.testing._limit import Limit
from rotisserie.testing._limiters import Verdict

__all__ = [
    "RATE_HEADER_STYLES",
    "RetryAfterStyle",
    "ceil_ms",
    "go_duration",
    "rate_headers",
    "retry_after_headers",
    "seconds_text",
]

RetryAfterStyle = Literal["seconds", "date"]

RATE_HEADER_STYLES: frozenset[str] = frozenset({"x-ratelimit", "openai", "ietf"})

# Tolerance for values such as 0.95 * 1000 == 950.0000000000001.
_FUZZ = 1e-6


def ceil_ms(seconds: float) -> int:
    """
    Return ``seconds`` as whole milliseconds, rounded up.
    """
    return max(math.ceil(seconds * 1000 - _FUZZ), 0)


def _ceil_seconds(seconds: float) -> int:
    return max(math.ceil(seconds - _FUZZ / 1000), 0)


def seconds_text(seconds: float) -> str:
    """
    Format seconds as a short decimal with millisecond precision: ``0.95``, ``2``.
    """
    ms = ceil_ms(seconds)
    whole, frac = divmod(ms, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".") if frac else str(whole)


def go_duration(seconds: float) -> str:
    """
    Format seconds the way Go prints a ``time.Duration``: ``1m30.5s``, ``850ms``.

    OpenAI sends its reset times in this form. Precision is one millisecond.
    """
    ms = ceil_ms(seconds)
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    text = seconds_text(rest / 1000) + "s"
    # Go always prints every unit below the largest one present: 1h0m5s.
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text


def retry_after_headers(
    style: RetryAfterStyle | None, wait: float, now: float
) -> dict[str, str]:
    """
    Build the headers that tell a rejected client how long to wait.

    Args:
        style: ``"seconds"`` sends ``Retry-After`` in whole seconds plus
            ``retry-after-ms`` with millisecond precision; ``"date"`` sends an
            HTTP-date; ``None`` sends nothing.
        wait: seconds until the key can admit again.
        now: the current ``time.time()``, for the HTTP-date.
    """
    if style is None:
        return {}
    if style == "seconds":
        return {
            "Retry-After": str(_ceil_seconds(wait)),
            "retry-after-ms": str(ceil_ms(wait)),
        }
    # An HTTP-date has one-second resolution; round up so it is never early.
    moment = datetime.fromtimestamp(math.ceil(now + wait), tz=timezone.utc)
    return {"Retry-After": format_datetime(moment, usegmt=True)}


def rate_headers(
    styles: frozenset[str], limit: Limit, verdict: Verdict
) -> dict[str, str]:
    """
    Build the informational rate-limit headers for one answer.

    Args:
        styles: any of ``"x-ratelimit"``, ``"openai"`` and ``"ietf"``.
        limit: the key's configured limit, for the IETF policy.
        verdict: the key's state after this request.
    """
    headers: dict[str, str] = {}
    if "x-ratelimit" in styles:
        headers["x-ratelimit-limit"] = str(verdict.limit)
        headers["x-ratelimit-remaining"] = str(verdict.remaining)
        headers["x-ratelimit-reset"] = seconds_text(verdict.reset)
    if "openai" in styles:
        headers["x-ratelimit-limit-requests"] = str(verdict.limit)
        headers["x-ratelimit-remaining-requests"] = str(verdict.remaining)
        headers["x-ratelimit-reset-requests"] = go_duration(verdict.reset)
    if "ietf" in styles:
        # The draft's fields are integers; the window keeps its decimals so a
        # sub-second policy is not misreported, and reset rounds up.
        window = seconds_text(limit.seconds)
        headers["RateLimit-Policy"] = f"{limit.limit};w={window}"
        headers["RateLimit"] = (
            f"limit={verdict.limit}, remaining={verdict.remaining}, "
            f"reset={_ceil_seconds(verdict.reset)}"
        )
    return headers
