"""
Per-key state: sliding windows, cooldowns, learned budgets and health.

A :class:`KeyState` holds everything the pool knows about one key. The
scheduler decides *which* key serves a request; this module decides *whether*
a key can serve at a given instant and keeps the books when it does. Nothing
here sleeps or reads a clock: every method takes ``now`` (epoch seconds).
"""

from __future__ import annotations

import bisect
import contextlib
import math
from collections import deque

from ._config import KeyConfig, Window
from ._redact import fingerprint

__all__ = ["KeyState"]

INF = math.inf
# Window margins grow from this step, and never past this share of the window.
_MARGIN_STEP = 0.005
_MARGIN_CAP = 0.05
# The longest gap pacing puts between two grants of one key (seconds).
_PACE_CAP = 0.1


class _WindowLog:
    """The grant times still inside one sliding window, oldest first."""

    __slots__ = ("limit", "seconds", "times")

    def __init__(self, window: Window, margin: float) -> None:
        self.limit = window.limit
        # The span actually kept: the configured one plus the key's margin.
        self.seconds = window.seconds + margin
        self.times: deque[float] = deque()

    def prune(self, now: float) -> None:
        # A grant at t counts in every span (x - seconds, x] with x < t + seconds,
        # so it leaves the window exactly `seconds` after it was made. The test
        # is written `t + seconds <= now`, the same sum free_at() returns, so
        # that floating-point rounding cannot tell the two apart.
        seconds = self.seconds
        times = self.times
        while times and times[0] + seconds <= now:
            times.popleft()

    def free_at(self, now: float) -> float:
        """The earliest instant at which this window admits one more grant."""
        self.prune(now)
        excess = len(self.times) - self.limit
        if excess < 0:
            return -INF
        return self.times[excess] + self.seconds

    def left(self, now: float) -> int:
        self.prune(now)
        return max(self.limit - len(self.times), 0)


class KeyState:
    """
    What the pool knows about one key, as custom policies and snapshots see it.

    Read-only for users: the pool changes it. ``token`` is available for
    callers that build requests by hand, and is masked in ``repr`` and ``str``.
    """

    __slots__ = (
        "_budget",
        "_budget_from",
        "_budget_reset_at",
        "_cached_at",
        "_cached_for",
        "_in_flight_sent",
        "_learned_period",
        "_pace",
        "_previous_grant_at",
        "_probing",
        "_seen_at",
        "_windows",
        "config",
        "cooldown_until",
        "disabled_reason",
        "failures",
        "grants",
        "in_flight",
        "last_granted_at",
        "lease_seconds",
        "streak",
        "successes",
        "version",
        "window_margin",
    )

    def __init__(self, config: KeyConfig) -> None:
        self.config = config
        #: Seconds added to every window of this key (see :meth:`widen_windows`).
        self.window_margin = 0.0
        self._windows = [_WindowLog(w, 0.0) for w in config.windows]
        # Asked on every reindex while requests wait; changes only with the margin.
        self._pace = self._even_pace()
        #: Requests granted on this key and not yet reported or released.
        self.in_flight = 0
        #: The key rests until this instant after a 429 or a transport error.
        self.cooldown_until = -INF
        #: Consecutive failures; the exponent of the next fallback backoff.
        self.streak = 0
        #: Set when the vendor said the key is revoked; the key never serves again.
        self.disabled_reason: str | None = None
        self.successes = 0
        self.failures = 0
        self.last_granted_at = -INF
        self._previous_grant_at = -INF
        # What the vendor's rate-limit headers said: grants left until a reset.
        # None while unknown; the budget is spent locally between answers.
        self._budget: int | None = None
        self._budget_reset_at = -INF
        # When the request whose answer set the budget was sent: an answer
        # to an earlier request is older news and changes nothing.
        self._budget_from: tuple[float, int] = (-INF, 0)
        # Set while one request probes what a reset freed.
        self._probing = False
        # When each request in flight was sent (or granted), with its grant
        # number to order requests granted at the same instant; in order.
        self._in_flight_sent: list[tuple[float, int]] = []
        #: How many grants this key has made; the number of the latest.
        self.grants = 0
        self._learned_period = 0.0
        # The latest instant the pool looked at this key; `remaining` uses it.
        self._seen_at = -INF
        #: Bumped on every change, so stale timer entries can be recognised.
        self.version = 0
        #: Seconds a lease on this key lasts; set by the scheduler.
        self.lease_seconds = INF
        # A shared store's last word on readiness, and the instant it was for.
        self._cached_for = -INF
        self._cached_at = -INF

    # -- what policies read -------------------------------------------------

    @property
    def name(self) -> str:
        """The key's configured name."""
        return self.config.name

    @property
    def token(self) -> str:
        """The secret token. Never log it."""
        return self.config.token

    @property
    def pace_interval(self) -> float:
        """
        Seconds between grants while requests wait: ``seconds / limit`` of the
        window allowing the fastest rate, at most 0.1 s, 0 without windows.

        The cap keeps long windows (5 a minute, say) able to hand out their
        grants within moments; a gap of 0.1 s is enough to keep a burst from
        leaving the client as one volley.
        """
        return self._pace

    @property
    def disabled(self) -> bool:
        """Whether the key was retired (revoked by the vendor)."""
        return self.disabled_reason is not None

    @property
    def remaining(self) -> int | None:
        """
        Grants the key may still make now, by its windows and by what the
        vendor last said; ``None`` when nothing limits it.
        """
        return self.remaining_at(self._seen_at)

    def remaining_at(self, now: float) -> int | None:
        """Grants left at ``now`` (``None``: unlimited as far as we know)."""
        lefts = self.windows_left(now)
        if self._budget is not None and now < self._budget_reset_at:
            lefts.append(max(self._budget, 0))
        return min(lefts) if lefts else None

    def next_available_at(self, now: float) -> float:
        """
        The earliest instant (epoch seconds) at which this key could serve,
        ``now`` if it can serve now, ``inf`` if only a release (or nothing,
        when disabled) can free it.
        """
        return max(self.ready_at(now), now)

    def windows_left(self, now: float) -> list[int]:
        """Grants left in each configured window at ``now``."""
        return [w.left(now) for w in self._windows]

    # -- the books ------------------------------------------------------------

    def ready_at(self, now: float) -> float:
        """
        When this key can serve: ``<= now`` means now, ``inf`` means it is
        disabled or full of in-flight requests (only a release frees it).
        """
        self._seen_at = now
        at = self.shared_ready_at(now)
        if self._budget is not None:
            if now >= self._budget_reset_at:
                self._renew_budget(now)
            if (
                self._budget is not None
                and self._budget <= 0
                and self._budget_reset_at > at
            ):
                at = self._budget_reset_at
        return at

    def shared_ready_at(self, now: float) -> float:
        """Readiness by the state a store shares: health, leases and windows."""
        if self.disabled_reason is not None:
            return INF
        limit = self.config.max_in_flight
        if limit is not None and self.in_flight >= limit:
            return INF
        at = self.cooldown_until
        for window in self._windows:
            free = window.free_at(now)
            if free > at:
                at = free
        return at

    def _renew_budget(self, now: float) -> None:
        """
        The vendor's window has reset. How much it freed is unknown (all of a
        fixed window, one slot of a sliding one), so one request probes and
        its answer sets the budget; until then the key waits, for at most as
        long as the vendor's last reset took.
        """
        if self._learned_period <= 0:
            self._budget = None
            return
        self._budget = 1
        self._budget_reset_at = now + self._learned_period
        self._probing = True

    def try_grant(self, now: float) -> bool:
        """Record one grant at ``now`` if the key can serve; say whether it did."""
        if self.ready_at(now) > now:
            return False
        self.in_flight += 1
        for window in self._windows:
            window.times.append(now)
        self.note_grant(now)
        return True

    def note_grant(self, now: float) -> None:
        """The bookkeeping every store shares after a grant."""
        self._previous_grant_at = self.last_granted_at
        self.last_granted_at = now
        self.grants += 1
        bisect.insort(self._in_flight_sent, (now, self.grants))
        if self._budget is not None:
            self._budget -= 1
        self.version += 1

    def _forget_in_flight(self, stamped_at: float, number: int) -> None:
        sent = self._in_flight_sent
        at = bisect.bisect_left(sent, (stamped_at, number))
        if at < len(sent) and sent[at] == (stamped_at, number):
            del sent[at]

    def _move_in_flight(self, stamped_at: float, sent_at: float, number: int) -> None:
        self._forget_in_flight(stamped_at, number)
        bisect.insort(self._in_flight_sent, (sent_at, number))

    def restamp(self, stamped_at: float, sent_at: float, number: int = 0) -> None:
        """
        Move grant ``number``'s window slots from ``stamped_at`` to the later
        ``sent_at``.
        """
        self._move_in_flight(stamped_at, sent_at, number)
        for window in self._windows:
            times = window.times
            with contextlib.suppress(ValueError):
                times.remove(stamped_at)
                # Slots stay in time order; a send is rarely behind many grants,
                # so walking back from the end is short.
                at = len(times)
                while at and times[at - 1] > sent_at:
                    at -= 1
                times.insert(at, sent_at)
        self.version += 1

    def release(self, granted_at: float, *, refund: bool, number: int = 0) -> None:
        """
        End one grant without a result.

        Args:
            granted_at: when the grant was made (or its request sent).
            refund: the request never left, so give its window slot back.
            number: the grant's number (``grants`` right after it was made).
        """
        self.in_flight = max(self.in_flight - 1, 0)
        self._forget_in_flight(granted_at, number)
        if refund:
            for window in self._windows:
                # The slot may already have slid out of the window.
                with contextlib.suppress(ValueError):
                    window.times.remove(granted_at)
            if self._budget is not None:
                self._budget += 1
            self._unpace(granted_at)
        self.version += 1

    def _unpace(self, granted_at: float) -> None:
        """A refunded grant never happened, so it must not pace the next one."""
        if granted_at == self.last_granted_at:
            self.last_granted_at = self._previous_grant_at

    def succeed(self) -> None:
        """A request on this key worked: the failure streak ends."""
        self.successes += 1
        self.streak = 0
        self.version += 1

    def cool(self, now: float, seconds: float, *, failure: bool = True) -> None:
        """Rest the key for ``seconds``; a shorter hint never cuts a longer rest."""
        if failure:
            self.failures += 1
            self.streak += 1
        until = now + seconds
        if until > self.cooldown_until:
            self.cooldown_until = until
        self.version += 1

    def forget_shared(self) -> None:
        """Drop any cached word from a shared store; the next look asks again."""
        self._cached_for = -INF
        self.version += 1

    def set_window_margin(self, margin: float) -> None:
        """Keep every window of this key ``margin`` seconds longer than configured."""
        self.window_margin = margin
        for log, window in zip(self._windows, self.config.windows, strict=True):
            log.seconds = window.seconds + margin
        self._pace = self._even_pace()
        self.version += 1

    def _even_pace(self) -> float:
        even = min((w.seconds / w.limit for w in self._windows), default=0.0)
        return min(even, _PACE_CAP)

    def widen_windows(self) -> None:
        """
        The vendor refused a request our windows allowed: it counts requests
        when they arrive, and this one arrived sooner after an earlier one than
        their grants were apart. Widen the margin (doubling from 5 ms, up to 5%
        of the shortest window) so that later grants leave room for the trip.
        """
        if not self.config.windows:
            return
        shortest = min(w.seconds for w in self.config.windows)
        widened = min(max(self.window_margin * 2, _MARGIN_STEP), shortest * _MARGIN_CAP)
        if widened > self.window_margin:
            self.set_window_margin(widened)

    def note_failure(self) -> None:
        """Count a failure that does not rest the key (a 5xx, say)."""
        self.failures += 1
        self.version += 1

    def disable(self, reason: str) -> None:
        """Retire the key for good."""
        self.failures += 1
        self.disabled_reason = reason
        self.version += 1

    def learn(
        self,
        now: float,
        remaining: int | None,
        limit: int | None,
        reset_after: float | None,
        sent_at: float = INF,
        number: int = 0,
    ) -> None:
        """
        Take in what the vendor's rate-limit headers said about the request
        sent at ``sent_at``.

        Answers come back out of order, so only one to a request sent later
        than the one behind the current budget counts. Requests sent after it
        and still in flight are taken off what it says remains. Requests sent
        before it may reach the vendor after it (connections race), so within
        one reset period an answer may lower the budget but never raise it;
        the first answer, and the probe after a reset, set it afresh.
        """
        order = (sent_at, number)
        if remaining is None or reset_after is None or order < self._budget_from:
            return
        self._budget_from = order
        self._learned_period = reset_after
        sent = self._in_flight_sent
        budget = remaining - (len(sent) - bisect.bisect_right(sent, order))
        fresh = self._budget is None or self._probing or now >= self._budget_reset_at
        self._budget = budget if fresh else min(budget, self._budget)  # type: ignore[type-var]
        self._budget_reset_at = now + reset_after
        self._probing = False
        self.version += 1

    def __repr__(self) -> str:
        state = f"disabled={self.disabled_reason!r}" if self.disabled else "enabled"
        return (
            f"KeyState(name={self.name!r}, token={fingerprint(self.token)}, "
            f"in_flight={self.in_flight}, {state})"
        )

    __str__ = __repr__
