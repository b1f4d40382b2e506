"""
The rate-limit algorithms behind simulated keys.

Pure and clock-free: every method takes ``now`` in seconds from any monotonic
clock, so the algorithms are tested without sleeping and the HTTP layer owns
the only clock.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from rotisserie.testing._limit import Limit

__all__ = ["Limiter", "Verdict", "make_limiter"]

# A client that waits exactly the advertised time must be admitted, even when
# float rounding puts its arrival a few ULPs short of the edge; 1 ns of
# tolerance covers that and is far below any real clock's resolution.
_EPSILON = 1e-9


@dataclass(frozen=True)
class Verdict:
    """
    The outcome of asking a limiter for a request, and its state afterwards.

    Attributes:
        admitted: whether the request was admitted (and counted).
        limit: the most requests the key can admit at once.
        remaining: requests the key would admit right now.
        reset: seconds until ``remaining`` next grows; 0 when it is full.
        retry_after: seconds until one request would be admitted; 0 when
            ``remaining`` is positive.
    """

    admitted: bool
    limit: int
    remaining: int
    reset: float
    retry_after: float


class Limiter(Protocol):
    """
    One key's limiter state.
    """

    def acquire(self, now: float) -> Verdict:
        """
        Admit and count one request at ``now`` if the limit allows it.
        """

    def peek(self, now: float) -> Verdict:
        """
        Report the state at ``now`` without counting a request.
        """


def make_limiter(limit: Limit, origin: float) -> Limiter:
    """
    Build a fresh limiter; ``origin`` is the moment fixed windows align to.
    """
    if limit.kind == "sliding":
        return SlidingWindow(limit)
    if limit.kind == "fixed":
        return FixedWindow(limit, origin)
    return TokenBucket(limit, origin)


class SlidingWindow:
    """
    At most ``limit`` admissions in any span ``(now - seconds, now]``.
    """

    def __init__(self, limit: Limit) -> None:
        self._limit = limit.limit
        self._seconds = limit.seconds
        # Admission times still inside the window, oldest first; never longer
        # than the limit because a full window admits nothing.
        self._admitted: deque[float] = deque()

    def acquire(self, now: float) -> Verdict:
        self._forget(now)
        admitted = len(self._admitted) < self._limit
        if admitted:
            self._admitted.append(now)
        return self._verdict(admitted, now)

    def peek(self, now: float) -> Verdict:
        self._forget(now)
        return self._verdict(False, now)

    def _forget(self, now: float) -> None:
        # A request made at t stops counting at exactly t + seconds.
        horizon = now - self._seconds + _EPSILON
        while self._admitted and self._admitted[0] <= horizon:
            self._admitted.popleft()

    def _verdict(self, admitted: bool, now: float) -> Verdict:
        remaining = self._limit - len(self._admitted)
        reset = self._admitted[0] + self._seconds - now if self._admitted else 0.0
        return Verdict(
            admitted=admitted,
            limit=self._limit,
            remaining=remaining,
            reset=reset,
            retry_after=0.0 if remaining > 0 else reset,
        )


class FixedWindow:
    """
    At most ``limit`` admissions per window; windows start at ``origin``.
    """

    def __init__(self, limit: Limit, origin: float) -> None:
        self._limit = limit.limit
        self._seconds = limit.seconds
        self._origin = origin
        self._window = 0  # index of the window ``_count`` belongs to
        self._count = 0

    def acquire(self, now: float) -> Verdict:
        self._roll(now)
        admitted = self._count < self._limit
        if admitted:
            self._count += 1
        return self._verdict(admitted, now)

    def peek(self, now: float) -> Verdict:
        self._roll(now)
        return self._verdict(False, now)

    def _roll(self, now: float) -> None:
        window = math.floor((now - self._origin) / self._seconds + _EPSILON)
        if window != self._window:
            self._window = window
            self._count = 0

    def _verdict(self, admitted: bool, now: float) -> Verdict:
        remaining = self._limit - self._count
        # Clamp: float division can place ``now`` a hair past its window end.
        reset = max(self._origin + (self._window + 1) * self._seconds - now, 0.0)
        return Verdict(
            admitted=admitted,
            limit=self._limit,
            remaining=remaining,
            reset=reset,
            retry_after=0.0 if remaining > 0 else reset,
        )


class TokenBucket:
    """
    A bucket of ``capacity`` tokens refilled continuously at ``rate`` per second.
    """

    def __init__(self, limit: Limit, origin: float) -> None:
        self._capacity = limit.capacity
        self._rate = limit.rate
        self._tokens = float(self._capacity)  # starts full: a burst is allowed
        self._updated = origin

    def acquire(self, now: float) -> Verdict:
        self._refill(now)
        admitted = self._tokens >= 1.0 - _EPSILON
        if admitted:
            self._tokens = max(self._tokens - 1.0, 0.0)
        return self._verdict(admitted)

    def peek(self, now: float) -> Verdict:
        self._refill(now)
        return self._verdict(False)

    def _refill(self, now: float) -> None:
        # A request stamped before the last one (clock granularity) adds nothing.
        elapsed = max(now - self._updated, 0.0)
        self._tokens = min(self._tokens + elapsed * self._rate, float(self._capacity))
        self._updated = max(now, self._updated)

    def _verdict(self, admitted: bool) -> Verdict:
        whole = min(math.floor(self._tokens + _EPSILON), self._capacity)
        # Time until the next whole token, i.e. until ``remaining`` grows.
        reset = (
            0.0 if whole >= self._capacity else (whole + 1 - self._tokens) / self._rate
        )
        reset = max(reset, 0.0)
        return Verdict(
            admitted=admitted,
            limit=self._capacity,
            remaining=whole,
            reset=reset,
            retry_after=0.0 if whole > 0 else reset,
        )
