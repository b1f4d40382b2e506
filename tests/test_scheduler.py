"""Tests for the sans-IO scheduler: grants, waiting, windows, cooldowns, leases."""

from __future__ import annotations

import asyncio
import calendar
import math
from collections import Counter

import pytest

from rotisserie import (
    ConfigError,
    ForeignKeyError,
    KeyConfig,
    Lease,
    LeaseStatus,
    PoolClosed,
    ResultAlreadyReported,
    RetryConfig,
)
from rotisserie._scheduler import Scheduler, Waiter

T0 = 1_000.0  # an arbitrary "now" for tests that start the clock somewhere


def keys(count: int, **options: object) -> list[KeyConfig]:
    """``count`` keys named k0, k1, ... sharing ``options``."""
    return [KeyConfig(f"k{i}", f"token-{i}", **options) for i in range(count)]  # type: ignore[arg-type]


def grant(scheduler: Scheduler, endpoint: str, now: float) -> Lease:
    """Request a key and insist it is granted at once."""
    outcome = scheduler.request(endpoint, now)
    assert isinstance(outcome, Lease), f"{endpoint} had to wait at {now}"
    return outcome


def wait(scheduler: Scheduler, endpoint: str, now: float) -> Waiter:
    """Request a key and insist the request has to wait."""
    outcome = scheduler.request(endpoint, now)
    assert isinstance(outcome, Waiter), f"{endpoint} was granted {outcome!r} at {now}"
    return outcome


def in_flight(scheduler: Scheduler, now: float) -> int:
    """Requests in flight over all keys, from the snapshot."""
    return scheduler.snapshot(now).in_flight


# -- grants ---------------------------------------------------------------------


def test_request_served_by_own_key_first() -> None:
    """Each endpoint is served by the keys assigned to it while they can serve."""
    scheduler = Scheduler(keys(2))
    scheduler.enter("a", 1, 1, T0)
    scheduler.enter("b", 1, 1, T0)
    snap = scheduler.snapshot(T0)
    own = {e.name: set(e.keys) for e in snap.endpoints}
    for _ in range(5):
        assert grant(scheduler, "a", T0).name in own["a"]
        assert grant(scheduler, "b", T0).name in own["b"]


def test_request_borrows_idle_key_of_other_endpoint() -> None:
    """When its own keys are busy, a request borrows a key whose owner has nobody waiting."""
    scheduler = Scheduler(keys(2, max_in_flight=1), lease_timeout=None)
    scheduler.enter("a", 1, 1, T0)
    scheduler.enter("b", 1, 2, T0)
    first = grant(scheduler, "a", T0)
    second = grant(scheduler, "a", T0)
    assert {first.name, second.name} == {"k0", "k1"}
    assert second.name in scheduler.snapshot(T0).endpoint("b").keys


def test_request_never_entered_endpoint_is_served() -> None:
    """take_key for an endpoint never entered works, borrowing an idle key."""
    scheduler = Scheduler(keys(1))
    scheduler.enter("owner", 1, 1, T0)
    lease = grant(scheduler, "stranger", T0)
    assert lease.endpoint == "stranger"


def test_never_entered_endpoint_shows_only_while_requests_wait() -> None:
    """An ad-hoc endpoint is listed while it has waiters and forgotten after."""
    scheduler = Scheduler(keys(1, max_in_flight=1), lease_timeout=None)
    held = grant(scheduler, "stranger", T0)
    assert [e.name for e in scheduler.snapshot(T0).endpoints] == []
    waiter = wait(scheduler, "stranger", T0)
    snap = scheduler.snapshot(T0).endpoint("stranger")
    assert (snap.reserve, snap.entered, snap.keys, snap.waiting) == (0, False, (), 1)
    scheduler.report(held, 200, {}, None, T0 + 1)
    assert waiter.lease is not None
    assert [e.name for e in scheduler.snapshot(T0 + 1).endpoints] == []


def test_request_waits_when_no_key_can_serve() -> None:
    """A request waits when every key is busy, and later ones queue behind it."""
    scheduler = Scheduler(keys(1, max_in_flight=1), lease_timeout=None)
    held = grant(scheduler, "e", T0)
    first = wait(scheduler, "e", T0)
    second = wait(scheduler, "e", T0)
    assert scheduler.snapshot(T0).waiting == 2
    woken = scheduler.report(held, 200, {}, None, T0 + 1)
    assert woken == [first]
    assert first.lease is not None and first.lease.granted_at == T0 + 1
    assert not second.done


def test_release_serves_own_endpoint_waiters_first() -> None:
    """A freed key goes to its own endpoint's waiters before higher-priority or earlier ones."""
    scheduler = Scheduler(keys(2, max_in_flight=1), lease_timeout=None)
    scheduler.enter("high", 1, 1, T0)
    scheduler.enter("low", 1, 2, T0)
    high_lease = grant(scheduler, "high", T0)
    low_lease = grant(scheduler, "low", T0)
    high_waiter = wait(scheduler, "high", T0)
    low_waiter = wait(scheduler, "low", T0)
    assert scheduler.release(low_lease, T0) == [low_waiter]
    assert scheduler.release(high_lease, T0) == [high_waiter]


def test_release_serves_others_by_priority_then_arrival() -> None:
    """Capacity nobody of its own waits for goes by priority, first come first served within one."""
    scheduler = Scheduler(keys(1, max_in_flight=1), lease_timeout=None)
    scheduler.enter("owner", 1, 1, T0)
    scheduler.enter("low", 0, 3, T0)
    scheduler.enter("mid", 0, 2, T0)
    held = grant(scheduler, "owner", T0)
    order = [
        wait(scheduler, "anon", T0),  # never entered: the lowest priority
        wait(scheduler, "low", T0),
        wait(scheduler, "mid", T0),
        wait(scheduler, "mid", T0),
    ]
    served: list[Waiter] = []
    lease = held
    for _ in order:
        woken = scheduler.release(lease, T0)
        assert len(woken) == 1
        served.append(woken[0])
        assert woken[0].lease is not None
        lease = woken[0].lease
    assert served == [order[2], order[3], order[1], order[0]]


def test_request_behind_waiters_of_its_endpoint_queues() -> None:
    """A key freeing at the instant of a new request goes to the earlier waiter first."""
    scheduler = Scheduler(keys(1, per_window=(1, 10)))
    grant(scheduler, "e", T0)
    early = wait(scheduler, "e", T0 + 1)
    late = wait(scheduler, "e", T0 + 10)  # the key is free again, but early came first
    assert early.done and not late.done
    assert early.lease is not None and early.lease.granted_at == T0 + 10


# -- shares under load ---------------------------------------------------------------


def run_saturated(
    distribute: bool, config: dict[str, object], steps: int
) -> Counter[str]:
    """Two endpoints always having waiters on four keys; count grants per endpoint."""
    scheduler = Scheduler(keys(4, **config), distribute=distribute, lease_timeout=None)
    scheduler.enter("e1", 1, 1, 0.0)
    scheduler.enter("e2", 1, 2, 0.0)
    grants: Counter[str] = Counter()
    active: list[Lease] = []
    waiting: dict[str, list[Waiter]] = {"e1": [], "e2": []}

    def took(lease: Lease) -> None:
        grants[lease.endpoint] += 1
        active.append(lease)

    def top_up(now: float) -> None:
        for name, queue in waiting.items():
            queue[:] = [w for w in queue if not w.done]
            while len(queue) < 3:
                outcome = scheduler.request(name, now)
                if isinstance(outcome, Lease):
                    took(outcome)
                else:
                    queue.append(outcome)

    now = 0.0
    top_up(now)
    for _ in range(steps):
        now += 1.0
        for waiter in scheduler.advance(now):
            assert waiter.lease is not None
            took(waiter.lease)
        done, active[:] = active[:], []
        for lease in done:
            for waiter in scheduler.report(lease, 200, {}, None, now):
                assert waiter.lease is not None
                took(waiter.lease)
        top_up(now)
    return grants


@pytest.mark.parametrize(
    "config",
    [{"max_in_flight": 1}, {"per_window": (1, 1.0)}],
    ids=["max_in_flight", "per_window"],
)
@pytest.mark.parametrize(("distribute", "share"), [(False, 0.75), (True, 0.5)])
def test_shares_under_load_follow_assignment(
    config: dict[str, object], distribute: bool, share: float
) -> None:
    """Saturating endpoints split grants as their keys were assigned: 75 % funnelled, 50 % spread."""
    grants = run_saturated(distribute, config, steps=400)
    total = grants["e1"] + grants["e2"]
    assert total >= 1_000  # four keys kept busy on every step
    assert grants["e1"] / total == pytest.approx(share, abs=0.02)


# -- windows and concurrency ----------------------------------------------------------


def test_window_grant_leaves_after_its_seconds() -> None:
    """per_window=(2, 10): asks at 0, 9.9, 10.0 are granted and 10.1 waits until 19.9."""
    scheduler = Scheduler(keys(1, per_window=(2, 10)))
    for t in (0.0, 9.9, 10.0):
        grant(scheduler, "e", t)
    waiter = wait(scheduler, "e", 10.1)
    assert scheduler.next_wake() == pytest.approx(19.9)
    assert scheduler.advance(19.89) == []
    assert scheduler.advance(19.9) == [waiter]
    assert waiter.lease is not None and waiter.lease.granted_at == 19.9


def test_window_holds_in_every_span() -> None:
    """Grants asked every 0.25 s on per_window=(3, 2) never put 4 in any 2 s span."""
    scheduler = Scheduler(keys(1, per_window=(3, 2.0)), lease_timeout=None)
    times: list[float] = []
    pending: list[Waiter] = []
    now = 0.0
    while now < 20.0:
        for waiter in scheduler.advance(now):
            assert waiter.lease is not None
            times.append(waiter.lease.granted_at)
        outcome = scheduler.request("e", now)
        if isinstance(outcome, Lease):
            times.append(outcome.granted_at)
        else:
            pending.append(outcome)
        now += 0.25
    for i, start in enumerate(times):
        assert sum(start <= t < start + 2.0 for t in times[i:]) <= 3
    # The window was the only limit, so it was used to the full.
    assert len(times) == pytest.approx(3 * 20.0 / 2.0, abs=3)


def test_window_several_per_key_all_hold() -> None:
    """With [(2, 1), (3, 10)] the short window frees at 1 s and the long one at 10 s."""
    scheduler = Scheduler(keys(1, per_window=[(2, 1.0), (3, 10.0)]))
    grant(scheduler, "e", 0.0)
    grant(scheduler, "e", 0.0)
    first = wait(scheduler, "e", 0.0)
    assert scheduler.next_wake() == 1.0
    assert scheduler.advance(1.0) == [first]
    second = wait(scheduler, "e", 1.0)
    assert scheduler.next_wake() == 10.0
    assert scheduler.advance(9.99) == []
    assert scheduler.advance(10.0) == [second]
    assert scheduler.snapshot(10.0).key("k0").windows_left == (1, 1)


def test_key_without_limits_serves_many_at_once() -> None:
    """A key with no max_in_flight and no window serves any number of concurrent requests."""
    scheduler = Scheduler(keys(1))
    leases = [grant(scheduler, "e", T0) for _ in range(100)]
    assert in_flight(scheduler, T0) == 100
    for lease in leases:
        scheduler.report(lease, 200, {}, None, T0)
    assert in_flight(scheduler, T0) == 0


def test_max_in_flight_caps_concurrent_grants() -> None:
    """max_in_flight=2: a third request waits until one of the two reports."""
    scheduler = Scheduler(keys(1, max_in_flight=2), lease_timeout=None)
    first = grant(scheduler, "e", T0)
    grant(scheduler, "e", T0)
    waiter = wait(scheduler, "e", T0)
    assert scheduler.next_wake() is None  # only a release can free it
    assert scheduler.report(first, 200, {}, None, T0) == [waiter]
    assert in_flight(scheduler, T0) == 2


# -- results and cooldowns -----------------------------------------------------------


def cooldown(scheduler: Scheduler, name: str, now: float) -> float:
    """Seconds the named key still cools at ``now``."""
    return scheduler.snapshot(now).key(name).cooldown_left


def test_rate_limit_with_retry_after_seconds_cools_that_long() -> None:
    """A 429 with Retry-After: 7 cools the key exactly 7 s and a waiter is served then."""
    scheduler = Scheduler(keys(1))
    lease = grant(scheduler, "e", T0)
    scheduler.report(lease, 429, {"Retry-After": "7"}, None, T0)
    assert cooldown(scheduler, "k0", T0) == 7.0
    waiter = wait(scheduler, "e", T0 + 1)
    assert scheduler.next_wake() == T0 + 7
    assert scheduler.advance(T0 + 7) == [waiter]


def test_rate_limit_with_retry_after_date_counts_from_now() -> None:
    """A 429 whose Retry-After is an HTTP-date ten seconds ahead cools the key 10 s."""
    now = float(calendar.timegm((2015, 10, 21, 7, 27, 50, 0, 0, 0)))
    scheduler = Scheduler(keys(1))
    lease = grant(scheduler, "e", now)
    scheduler.report(
        lease, 429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None, now
    )
    assert cooldown(scheduler, "k0", now) == 10.0


@pytest.mark.parametrize("value", [None, "-5", "inf", "nan", "soon", ""])
def test_rate_limit_without_usable_hint_uses_backoff(value: str | None) -> None:
    """A 429 with a missing, negative, non-finite or unparsable Retry-After cools for the backoff."""
    retry = RetryConfig(retry_after_base=1.5)
    scheduler = Scheduler(keys(1), retry=retry)
    lease = grant(scheduler, "e", T0)
    headers = {} if value is None else {"Retry-After": value}
    scheduler.report(lease, 429, headers, None, T0)
    assert cooldown(scheduler, "k0", T0) == retry.retry_after_base


def test_rate_limit_huge_hint_is_clamped() -> None:
    """A Retry-After beyond max_retry_after cools the key for max_retry_after."""
    for retry in (RetryConfig(), RetryConfig(max_retry_after=120.0)):
        scheduler = Scheduler(keys(1), retry=retry)
        lease = grant(scheduler, "e", T0)
        scheduler.report(lease, 429, {"Retry-After": "99999999"}, None, T0)
        assert cooldown(scheduler, "k0", T0) == retry.max_retry_after
    assert RetryConfig().max_retry_after == 3600.0


def failing_cooldowns(
    scheduler: Scheduler, failures: int, fail: tuple[int | None, BaseException | None]
) -> list[float]:
    """Fail the only key ``failures`` times in a row, each once its cooldown ended."""
    now = T0
    seen = []
    for _ in range(failures):
        lease = grant(scheduler, "e", now)
        scheduler.report(lease, fail[0], {}, fail[1], now)
        seen.append(cooldown(scheduler, "k0", now))
        now += seen[-1]
    return seen


def test_rate_limit_backoff_grows_and_caps() -> None:
    """Consecutive 429s cool base * growth ** n seconds, capped at retry_after_cap."""
    retry = RetryConfig(
        retry_after_base=1.0, retry_after_growth=3.0, retry_after_cap=20.0
    )
    seen = failing_cooldowns(Scheduler(keys(1), retry=retry), 5, (429, None))
    assert seen == [min(1.0 * 3.0**n, 20.0) for n in range(5)]


def test_transport_error_backoff_uses_error_fields() -> None:
    """Consecutive transport errors cool error_base * error_growth ** n, capped at error_cap."""
    retry = RetryConfig(error_base=0.5, error_growth=2.0, error_cap=3.0)
    error = ConnectionError("refused")
    seen = failing_cooldowns(Scheduler(keys(1), retry=retry), 5, (None, error))
    assert seen == [min(0.5 * 2.0**n, 3.0) for n in range(5)]


def test_success_resets_backoff_streak() -> None:
    """After a success the next 429 cools for the base backoff again."""
    retry = RetryConfig(retry_after_base=1.0, retry_after_growth=2.0)
    scheduler = Scheduler(keys(1), retry=retry)
    failing_cooldowns(scheduler, 3, (429, None))
    now = T0 + 100
    scheduler.report(grant(scheduler, "e", now), 200, {}, None, now)
    scheduler.report(grant(scheduler, "e", now), 429, {}, None, now)
    assert cooldown(scheduler, "k0", now) == retry.retry_after_base


def test_report_retry_override_applies_to_that_report() -> None:
    """A RetryConfig passed with a report replaces the pool's for that cooldown."""
    scheduler = Scheduler(keys(1), retry=RetryConfig(retry_after_base=1.0))
    lease = grant(scheduler, "e", T0)
    scheduler.report(lease, 429, {}, None, T0, retry=RetryConfig(retry_after_base=4.0))
    assert cooldown(scheduler, "k0", T0) == 4.0


def test_cooling_key_is_skipped() -> None:
    """While one key cools every request goes to the other, and the cooled one returns after."""
    scheduler = Scheduler(keys(2))
    first = grant(scheduler, "e", T0)
    scheduler.report(first, 429, {"Retry-After": "5"}, None, T0)
    other = {"k0", "k1"} - {first.name}
    for t in (T0, T0 + 1, T0 + 4.99):
        assert {grant(scheduler, "e", t).name for _ in range(4)} == other
    assert first.name in {grant(scheduler, "e", T0 + 5).name for _ in range(2)}


def test_revoked_key_is_never_granted_again() -> None:
    """A 401 disables the key for good and the snapshot says why."""
    scheduler = Scheduler(keys(2))
    first = grant(scheduler, "e", T0)
    scheduler.report(first, 401, {}, None, T0)
    later = {grant(scheduler, "e", T0 + t).name for t in range(0, 10_000, 500)}
    assert first.name not in later
    snap = scheduler.snapshot(T0).key(first.name)
    assert snap.disabled and snap.disabled_reason and "401" in snap.disabled_reason


def test_all_keys_revoked_waiter_never_served() -> None:
    """With every key disabled a request waits and retry_after says no key will free."""
    scheduler = Scheduler(keys(1))
    scheduler.report(grant(scheduler, "e", T0), 401, {}, None, T0)
    waiter = wait(scheduler, "e", T0)
    assert scheduler.advance(T0 + 1e6) == []
    assert not waiter.done
    assert scheduler.retry_after(T0) is None


def test_server_error_counts_failure_without_cooldown() -> None:
    """A 500 counts as a failure but leaves the key serving."""
    scheduler = Scheduler(keys(1))
    scheduler.report(grant(scheduler, "e", T0), 500, {}, None, T0)
    snap = scheduler.snapshot(T0).key("k0")
    assert (snap.failures, snap.cooldown_left) == (1, 0.0)
    grant(scheduler, "e", T0)


def test_cancelled_request_says_nothing_about_key() -> None:
    """A report carrying CancelledError frees the key without cooling it or counting a failure."""
    scheduler = Scheduler(keys(1))
    scheduler.report(
        grant(scheduler, "e", T0), None, None, asyncio.CancelledError(), T0
    )
    snap = scheduler.snapshot(T0).key("k0")
    assert (snap.failures, snap.cooldown_left, snap.in_flight) == (0, 0.0, 0)


def test_retry_after_counts_to_earliest_free_key() -> None:
    """retry_after gives the seconds until the first key could serve."""
    scheduler = Scheduler(keys(2))
    scheduler.report(grant(scheduler, "e", T0), 429, {"Retry-After": "9"}, None, T0)
    scheduler.report(grant(scheduler, "e", T0), 429, {"Retry-After": "4"}, None, T0)
    assert scheduler.retry_after(T0 + 1) == 3.0
    assert scheduler.retry_after(T0 + 5) == 0.0


# -- leases ------------------------------------------------------------------------------


def test_lease_reclaimed_after_timeout() -> None:
    """A grant never reported is taken back at lease_timeout, and a waiter gets the key."""
    scheduler = Scheduler(keys(1, max_in_flight=1), lease_timeout=30.0)
    lease = grant(scheduler, "e", T0)
    waiter = wait(scheduler, "e", T0)
    assert scheduler.next_wake() == T0 + 30
    assert scheduler.advance(T0 + 29.9) == []
    statuses = [lease.status]
    assert scheduler.advance(T0 + 30) == [waiter]
    statuses.append(lease.status)
    assert statuses == [LeaseStatus.ACTIVE, LeaseStatus.RECLAIMED]
    assert in_flight(scheduler, T0 + 30) == 1  # the waiter's grant, not both


def test_report_after_reclaim_taken_once() -> None:
    """A late report changes the key's health once, never in_flight, and a second is ignored."""
    scheduler = Scheduler(keys(1), lease_timeout=30.0)
    late = grant(scheduler, "e", T0)
    scheduler.advance(T0 + 30)
    current = grant(scheduler, "e", T0 + 30)
    scheduler.report(late, 429, {"Retry-After": "5"}, None, T0 + 31)
    snap = scheduler.snapshot(T0 + 31).key("k0")
    assert (snap.in_flight, snap.failures, snap.cooldown_left) == (1, 1, 5.0)
    assert late.status is LeaseStatus.LATE_REPORTED
    scheduler.report(late, 429, {"Retry-After": "50"}, None, T0 + 32)
    snap = scheduler.snapshot(T0 + 32).key("k0")
    assert (snap.in_flight, snap.failures, snap.cooldown_left) == (1, 1, 4.0)
    scheduler.report(current, 200, {}, None, T0 + 36)
    assert in_flight(scheduler, T0 + 36) == 0


def test_release_after_reclaim_is_accepted() -> None:
    """Giving back a lease the pool already reclaimed is no error and frees nothing twice."""
    scheduler = Scheduler(keys(1), lease_timeout=30.0)
    late = grant(scheduler, "e", T0)
    scheduler.advance(T0 + 30)
    current = grant(scheduler, "e", T0 + 30)
    assert scheduler.release(late, T0 + 31) == []
    assert in_flight(scheduler, T0 + 31) == 1
    assert current.status is LeaseStatus.ACTIVE
    assert late.status is LeaseStatus.RELEASED and not late.awaiting_result
    with pytest.raises(ResultAlreadyReported):  # ended twice by the caller
        scheduler.report(late, 200, {}, None, T0 + 32)


def test_lease_timeout_none_never_reclaims() -> None:
    """With lease_timeout=None an unreported grant stays in flight forever."""
    scheduler = Scheduler(keys(1), lease_timeout=None)
    lease = grant(scheduler, "e", T0)
    scheduler.advance(T0 + 1e9)
    assert lease.status is LeaseStatus.ACTIVE
    assert scheduler.next_wake() is None
    assert in_flight(scheduler, T0 + 1e9) == 1


def test_report_twice_raises() -> None:
    """A second report, or a release after a report, raises ResultAlreadyReported."""
    scheduler = Scheduler(keys(1))
    lease = grant(scheduler, "e", T0)
    scheduler.report(lease, 200, {}, None, T0)
    with pytest.raises(ResultAlreadyReported, match="k0"):
        scheduler.report(lease, 200, {}, None, T0)
    with pytest.raises(ResultAlreadyReported):
        scheduler.release(lease, T0)
    released = grant(scheduler, "e", T0)
    scheduler.release(released, T0)
    with pytest.raises(ResultAlreadyReported):
        scheduler.report(released, 200, {}, None, T0)
    assert scheduler.snapshot(T0).key("k0").successes == 1


def test_report_foreign_lease_raises() -> None:
    """A lease granted by another scheduler, or any other object, raises ForeignKeyError."""
    mine, theirs = Scheduler(keys(1)), Scheduler(keys(1))
    stranger = grant(theirs, "e", T0)
    with pytest.raises(ForeignKeyError):
        mine.report(stranger, 200, {}, None, T0)
    with pytest.raises(ForeignKeyError):
        mine.release(stranger, T0)
    with pytest.raises(ForeignKeyError):
        mine.report("k0", 200, {}, None, T0)  # type: ignore[arg-type]
    assert stranger.status is LeaseStatus.ACTIVE


def test_release_unsent_gives_window_slot_back() -> None:
    """Releasing a request that never left refunds its window slot; a sent one keeps it spent."""
    scheduler = Scheduler(keys(1, per_window=(1, 60)))
    scheduler.release(grant(scheduler, "e", T0), T0)
    sent = grant(scheduler, "e", T0)
    scheduler.release(sent, T0, sent=True)
    wait(scheduler, "e", T0)
    assert scheduler.next_wake() == T0 + 60
    snap = scheduler.snapshot(T0).key("k0")
    assert (snap.in_flight, snap.failures, snap.successes, snap.cooldown_left) == (
        0,
        0,
        0,
        0.0,
    )


# -- waiters -------------------------------------------------------------------------------


def test_cancel_waiter_withdraws_it() -> None:
    """A cancelled waiter leaves the queue and the next free key goes to nobody in particular."""
    scheduler = Scheduler(keys(1, max_in_flight=1), lease_timeout=None)
    held = grant(scheduler, "e", T0)
    waiter = wait(scheduler, "e", T0)
    assert scheduler.cancel(waiter, T0) == []
    assert scheduler.snapshot(T0).waiting == 0
    assert scheduler.report(held, 200, {}, None, T0) == []
    assert not waiter.done
    grant(scheduler, "e", T0)


def test_cancel_served_waiter_returns_its_key() -> None:
    """Cancelling a waiter that was just served gives its key and window slot back."""
    scheduler = Scheduler(
        keys(1, max_in_flight=1, per_window=(2, 60)), lease_timeout=None
    )
    held = grant(scheduler, "e", T0)
    waiter = wait(scheduler, "e", T0)
    # One second on: past the pacing gap that follows a grant while others wait.
    scheduler.report(held, 200, {}, None, T0 + 1)
    assert waiter.lease is not None
    scheduler.cancel(waiter, T0 + 1)
    assert waiter.lease.status is LeaseStatus.RELEASED
    assert in_flight(scheduler, T0 + 1) == 0
    assert scheduler.snapshot(T0 + 1).key("k0").windows_left == (1,)


def test_close_fails_waiters_and_refuses_requests() -> None:
    """close() wakes every waiter with PoolClosed and later requests raise it."""
    scheduler = Scheduler(keys(1, max_in_flight=1), lease_timeout=None)
    held = grant(scheduler, "e", T0)
    waiters = [wait(scheduler, "e", T0), wait(scheduler, "other", T0)]
    woken = scheduler.close()
    assert sorted(w.seq for w in woken) == sorted(w.seq for w in waiters)
    assert all(isinstance(w.error, PoolClosed) and w.lease is None for w in waiters)
    with pytest.raises(PoolClosed):
        scheduler.request("e", T0)
    scheduler.report(held, 200, {}, None, T0)  # a lease granted before still reports
    assert in_flight(scheduler, T0) == 0


def test_next_wake_is_earliest_free_moment() -> None:
    """next_wake names the soonest instant a cooldown or window ends."""
    scheduler = Scheduler(keys(2, per_window=(1, 100)), lease_timeout=None)
    assert scheduler.next_wake() is None
    refused = grant(scheduler, "e", T0)
    scheduler.report(refused, 429, {"Retry-After": "20"}, None, T0)
    margin = scheduler.snapshot(T0).key(refused.name).window_margin
    grant(scheduler, "e", T0 + 5)
    assert scheduler.next_wake() == T0 + 100 + margin
    wait(scheduler, "e", T0 + 6)
    assert scheduler.next_wake() == T0 + 100 + margin
    assert scheduler.advance(T0 + 99.999) == []


def test_429_on_a_windowed_key_widens_its_windows() -> None:
    """A 429 the window allowed widens that key's margin: 5 ms, doubling, capped at 5%."""
    scheduler = Scheduler(keys(1, per_window=(1, 1.0)), lease_timeout=None)
    margins = []
    for step in range(6):
        now = T0 + 10 * step
        lease = grant(scheduler, "e", now)
        scheduler.report(lease, 429, {"retry-after-ms": "1"}, None, now)
        margins.append(scheduler.snapshot(now).key(lease.name).window_margin)
    # 5% of the 1 s window caps the doubling.
    assert margins == pytest.approx([0.005, 0.01, 0.02, 0.04, 0.05, 0.05])


def test_widened_window_holds_the_next_grant_back_by_the_margin() -> None:
    """After a widening, the key's slot frees one window plus the margin after its grant."""
    scheduler = Scheduler(keys(1, per_window=(1, 10.0)), lease_timeout=None)
    scheduler.report(grant(scheduler, "e", T0), 429, {"retry-after-ms": "1"}, None, T0)
    scheduler.report(grant(scheduler, "e", T0 + 10.005), 200, {}, None, T0 + 10.005)
    waiter = wait(scheduler, "e", T0 + 20.0)
    assert scheduler.advance(T0 + 20.0049) == []
    assert scheduler.advance(T0 + 20.010) == [waiter]


def test_window_margin_option_applies_from_the_start() -> None:
    """Scheduler(window_margin=...) keeps every window that much longer."""
    scheduler = Scheduler(
        keys(1, per_window=(1, 10.0)), lease_timeout=None, window_margin=0.5
    )
    scheduler.report(grant(scheduler, "e", T0), 200, {}, None, T0)
    waiter = wait(scheduler, "e", T0 + 10.0)
    assert not waiter.done
    assert scheduler.advance(T0 + 10.5) == [waiter]


def test_429_on_a_key_without_windows_leaves_the_margin_alone() -> None:
    """Only keys with configured windows learn a margin."""
    scheduler = Scheduler(keys(1), lease_timeout=None)
    lease = grant(scheduler, "e", T0)
    scheduler.report(lease, 429, {"Retry-After": "1"}, None, T0)
    assert scheduler.snapshot(T0).key(lease.name).window_margin == 0.0


# -- snapshot and validation ------------------------------------------------------------


def test_snapshot_reports_keys_and_endpoints() -> None:
    """The snapshot shows each key's books and each endpoint's claim and queue."""
    scheduler = Scheduler(keys(2, per_window=[(5, 60), (100, 3600)], max_in_flight=1))
    scheduler.enter("orders", 2, 1, T0)
    first = grant(scheduler, "orders", T0)
    second = grant(scheduler, "orders", T0)
    waiter = wait(scheduler, "orders", T0)
    scheduler.report(first, 200, {}, None, T0 + 1)
    assert waiter.done
    scheduler.report(second, 429, {"Retry-After": "30"}, None, T0 + 2)
    snap = scheduler.snapshot(T0 + 2)
    hot = snap.key(first.name)
    cold = snap.key(second.name)
    assert (hot.endpoint, hot.in_flight, hot.windows_left) == ("orders", 1, (3, 98))
    assert (hot.successes, hot.failures, hot.disabled, hot.disabled_reason) == (
        1,
        0,
        False,
        None,
    )
    assert (cold.in_flight, cold.windows_left, cold.cooldown_left) == (0, (4, 99), 30.0)
    assert (cold.successes, cold.failures) == (0, 1)
    orders = snap.endpoint("orders")
    assert (orders.priority, orders.reserve, orders.waiting) == (1, 2, 0)
    assert sorted(orders.keys) == ["k0", "k1"]
    assert snap.at == T0 + 2


@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf, "60", True])
def test_scheduler_bad_lease_timeout_names_field(value: object) -> None:
    """A lease_timeout that is not a positive finite number raises ConfigError naming it."""
    with pytest.raises(ConfigError) as info:
        Scheduler(keys(1), lease_timeout=value)  # type: ignore[arg-type]
    assert info.value.field == "lease_timeout"


@pytest.mark.parametrize(
    ("name", "reserve", "priority", "field"),
    [
        ("", 0, 1, "endpoint"),
        ("e", -1, 1, "reserve"),
        ("e", 1.5, 1, "reserve"),
        ("e", 0, 0, "priority"),
        ("e", 0, True, "priority"),
        ("e", 0, "1", "priority"),
    ],
)
def test_scheduler_enter_bad_arguments_name_field(
    name: str, reserve: int, priority: int, field: str
) -> None:
    """Bad endpoint names, reserves and priorities raise ConfigError naming the argument."""
    scheduler = Scheduler(keys(1))
    with pytest.raises(ConfigError) as info:
        scheduler.enter(name, reserve, priority, T0)
    assert info.value.field == field
    assert scheduler.snapshot(T0).endpoints == ()


# -- pacing under contention -------------------------------------------------------


def test_freed_window_slots_go_to_waiters_one_pace_apart() -> None:
    """Four slots freeing at once serve four waiters 50 ms apart, not in one volley."""
    scheduler = Scheduler(keys(1, per_window=(20, 1.0)), lease_timeout=None)
    for _ in range(4):
        scheduler.report(grant(scheduler, "e", T0), 200, {}, None, T0)
    for _ in range(16):
        scheduler.report(grant(scheduler, "e", T0 + 0.5), 200, {}, None, T0 + 0.5)
    waiters = [wait(scheduler, "e", T0 + 0.9) for _ in range(4)]
    served_at = []
    now = T0 + 1.0
    while now < T0 + 1.3:
        for waiter in scheduler.advance(now):
            assert waiter.lease is not None
            served_at.append(waiter.lease.granted_at)
        now = scheduler.next_wake() or now + 0.01
    assert served_at == pytest.approx([T0 + 1.0, T0 + 1.05, T0 + 1.10, T0 + 1.15])
    assert all(w.done for w in waiters)


def test_requests_without_waiters_are_not_paced() -> None:
    """With nobody waiting, a key serves back-to-back requests at once."""
    scheduler = Scheduler(keys(1, per_window=(20, 1.0)), lease_timeout=None)
    leases = [grant(scheduler, "e", T0) for _ in range(20)]
    assert {lease.granted_at for lease in leases} == {T0}


def test_pacing_gap_is_capped_for_long_windows() -> None:
    """per_window=(5, 60) paces waiters 0.1 s apart, not 12 s."""
    scheduler = Scheduler(
        keys(1, per_window=(5, 60.0), max_in_flight=1), lease_timeout=None
    )
    held = grant(scheduler, "e", T0)
    waiter = wait(scheduler, "e", T0)
    scheduler.report(held, 200, {}, None, T0 + 0.01)
    assert not waiter.done
    assert scheduler.next_wake() == pytest.approx(T0 + 0.1)
    assert scheduler.advance(T0 + 0.1) == [waiter]


def test_refunded_grant_does_not_pace_the_next_one() -> None:
    """A lease given back unused frees its key for a waiter at once."""
    scheduler = Scheduler(keys(1, per_window=(1, 1.0)), lease_timeout=None)
    unused = grant(scheduler, "e", T0)
    waiter = wait(scheduler, "e", T0)
    assert scheduler.release(unused, T0 + 0.01) == [waiter]


def test_huge_rate_limit_reset_is_capped_like_any_hint() -> None:
    """x-ratelimit-reset-requests of 9999999h rests a key at most max_retry_after."""
    scheduler = Scheduler(keys(1), lease_timeout=None)
    headers = {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "9999999h",
    }
    scheduler.report(grant(scheduler, "e", T0), 429, headers, None, T0)
    assert scheduler.retry_after(T0) == pytest.approx(3600)
    grant(scheduler, "e", T0 + 3600.001)


# -- budgets learned from rate-limit headers ----------------------------------------------


def test_learned_budget_never_rises_within_one_reset_period() -> None:
    """A fresher answer may lower the budget but not raise it: earlier sends may arrive later."""
    scheduler = Scheduler(keys(1), lease_timeout=None)
    first, second, third = (grant(scheduler, "e", T0) for _ in range(3))
    hint = {"x-ratelimit-remaining": "5", "x-ratelimit-reset": "10"}
    scheduler.report(third, 200, hint, None, T0 + 0.1)
    assert scheduler.snapshot(T0 + 0.1).key("k0").remaining == 5
    # An answer to an earlier request is older news.
    scheduler.report(first, 200, {**hint, "x-ratelimit-remaining": "9"}, None, T0 + 0.2)
    assert scheduler.snapshot(T0 + 0.2).key("k0").remaining == 5
    fourth = grant(scheduler, "e", T0 + 0.3)
    # The vendor had not counted `second` yet when it answered `fourth`.
    scheduler.report(
        fourth, 200, {**hint, "x-ratelimit-remaining": "8"}, None, T0 + 0.4
    )
    assert scheduler.snapshot(T0 + 0.4).key("k0").remaining == 4
    scheduler.report(second, 200, {}, None, T0 + 0.5)


def test_after_a_learned_reset_one_request_probes() -> None:
    """When the vendor's reset passes, one request goes out; its answer sets the budget."""
    scheduler = Scheduler(keys(1), lease_timeout=None)
    spent = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"}
    scheduler.report(grant(scheduler, "e", T0), 200, spent, None, T0)
    waiter = wait(scheduler, "e", T0 + 0.5)
    assert scheduler.advance(T0 + 1.0) == [waiter]
    assert waiter.lease is not None
    second = wait(scheduler, "e", T0 + 1.0)
    assert not second.done  # the probe is out; nothing more until it answers
    fresh = {"x-ratelimit-remaining": "3", "x-ratelimit-reset": "1"}
    assert scheduler.report(waiter.lease, 200, fresh, None, T0 + 1.05) == [second]
