"""Tests for the thread-safe KeyPool: real threads, waiting, timers and the seed examples."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import pytest

from rotisserie import (
    KeyConfig,
    KeyPool,
    KeyState,
    Lease,
    LeaseStatus,
    NoKeyAvailable,
    PoolClosed,
    WouldBlockError,
)

SECRETS = ("sk-live-0123456789abcdef", "sk-live-fedcba9876543210", "sk-live-c0ffee")


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def pools() -> Iterator[list[KeyPool]]:
    """Pools a test registers here are closed after it, stopping their timer threads."""
    made: list[KeyPool] = []
    yield made
    for pool in made:
        pool.close()


def run_threads(count: int, target: Callable[[], None]) -> list[BaseException]:
    """Run ``target`` on ``count`` threads at once; return what they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def body() -> None:
        try:
            start.wait()
            target()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return errors


def in_background(fn: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Start ``fn`` on a thread; the list gets its result or exception, with the time it ended."""
    out: list[object] = []

    def body() -> None:
        try:
            out.append(fn())
        except BaseException as exc:
            out.append(exc)
        out.append(time.monotonic())

    thread = threading.Thread(target=body)
    thread.start()
    return thread, out


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait for a condition another thread makes true (a test helper, not the code under test)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.005)


# -- the seed README ---------------------------------------------------------------


def test_seed_priorities_example_assigns_and_rebalances(pools: list[KeyPool]) -> None:
    """Section 4: six keys, three endpoints, distribute=True give two each, freed on exit."""
    pool = KeyPool([KeyConfig(f"k{i}", f"T{i}") for i in range(6)], distribute=True)
    pools.append(pool)
    with (
        pool.endpoint("e1", reserve=1, priority=1),
        pool.endpoint("e2", reserve=1, priority=1),
        pool.endpoint("e3", reserve=1, priority=2),
    ):
        snapshot = pool.snapshot()
        owned = {e.name: set(e.keys) for e in snapshot.endpoints}
        assert {name: len(keys) for name, keys in owned.items()} == {
            "e1": 2,
            "e2": 2,
            "e3": 2,
        }
        for name, keys in owned.items():
            with pool.lease(name) as key:
                assert key.name in keys
    assert all(k.endpoint is None for k in pool.snapshot().keys)


def test_seed_policy_examples_serve_requests(pools: list[KeyPool]) -> None:
    """Section 5: pick_by_eta and eta_score as written serve requests and avoid a cooling key."""

    def pick_by_eta(available: list[KeyState], n: int, endpoint: str) -> list[KeyState]:
        now = time.time()
        return sorted(
            available,
            key=lambda k: (
                k.next_available_at(now),
                -(k.remaining or 0),
                k.failures,
                k.successes,
            ),
        )[:n]

    pool = KeyPool([KeyConfig("k1", "T1"), KeyConfig("k2", "T2")], policy=pick_by_eta)

    def eta_score(key: KeyState, endpoint: str) -> float:
        return key.next_available_at(time.time())

    pool2 = KeyPool([KeyConfig("k1", "T1"), KeyConfig("k2", "T2")], policy=eta_score)
    pools.extend([pool, pool2])
    for each in (pool, pool2):
        cooled = each.take_key("e")
        each.mark_result(cooled, 429, {"Retry-After": "60"})
        for _ in range(3):
            with each.lease("e", timeout=0) as key:
                assert key.name != cooled.name
    # pick_by_eta breaks ties on successes, so healthy keys alternate.
    fresh = KeyPool([KeyConfig("k1", "T1"), KeyConfig("k2", "T2")], policy=pick_by_eta)
    pools.append(fresh)
    names = []
    for _ in range(4):
        with fresh.lease("e") as key:
            names.append(key.name)
    assert Counter(names) == {"k1": 2, "k2": 2}


@dataclass
class FakeResponse:
    """What the seed's some_custom_http.get returns."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


class FakeHttp:
    """A stand-in for some_custom_http: answers by URL and records the headers sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def get(self, url: str, headers: Mapping[str, str]) -> FakeResponse:
        self.sent.append((url, headers["Authorization"]))
        if url.endswith("/limited"):
            return FakeResponse(429, {"Retry-After": "30"})
        if url.endswith("/down"):
            raise ConnectionError("connection refused")
        return FakeResponse(200)


def test_seed_direct_integration_reports_every_result(pools: list[KeyPool]) -> None:
    """Section 7: the manual take/mark_result loop reports successes, 429s and errors."""
    some_custom_http = FakeHttp()
    clock = FakeClock()
    pool = KeyPool(
        [KeyConfig("k1", "T1"), KeyConfig("k2", "T2")], distribute=True, clock=clock
    )
    pools.append(pool)
    urls = ["https://api.example.com/a", "https://api.example.com/b"]
    urls += ["https://api.example.com/limited", "https://api.example.com/down"]

    with pool.endpoint("my_endpoint", reserve=2, priority=1):
        for url in urls:
            key = pool.take_key("my_endpoint")
            try:
                resp = some_custom_http.get(
                    url, headers={"Authorization": f"Bearer {key.token}"}
                )
                pool.mark_result(
                    key,
                    getattr(resp, "status", 200),
                    getattr(resp, "headers", {}),
                    None,
                )
            except Exception as e:
                pool.mark_result(key, None, {}, e)

    assert [auth for _, auth in some_custom_http.sent] == ["Bearer T1", "Bearer T2"] * 2
    snapshot = pool.snapshot()
    assert snapshot.in_flight == 0
    assert sum(k.successes for k in snapshot.keys) == 2
    assert sum(k.failures for k in snapshot.keys) == 2
    cooling = {k.name: k.cooldown_left for k in snapshot.keys}
    # k1 answered the 429 with its Retry-After; k2 hit the transport error.
    assert cooling == {"k1": 30.0, "k2": pool.retry_config.error_base}


# -- leases -----------------------------------------------------------------------


def test_lease_block_reports_success_on_exit(pools: list[KeyPool]) -> None:
    """Leaving a lease block normally reports a success and frees the key."""
    pool = KeyPool([KeyConfig("k", "T")], clock=FakeClock())
    pools.append(pool)
    with pool.lease("e") as key:
        assert pool.snapshot().in_flight == 1
    assert key.status is LeaseStatus.REPORTED
    snap = pool.snapshot().key("k")
    assert (snap.in_flight, snap.successes, snap.failures) == (0, 1, 0)


def test_lease_block_reports_exception_as_transport_error(pools: list[KeyPool]) -> None:
    """An exception leaving a lease block is reported as a transport error and re-raised."""
    pool = KeyPool([KeyConfig("k", "T")], clock=FakeClock())
    pools.append(pool)
    with pytest.raises(TimeoutError), pool.lease("e"):
        raise TimeoutError("read timed out")
    snap = pool.snapshot().key("k")
    assert (snap.in_flight, snap.failures) == (0, 1)
    assert snap.cooldown_left == pool.retry_config.error_base


def test_lease_block_keeps_explicit_report(pools: list[KeyPool]) -> None:
    """A result reported inside the block is not reported again on exit."""
    pool = KeyPool([KeyConfig("k", "T")], clock=FakeClock())
    pools.append(pool)
    with pool.lease("e") as key:
        pool.mark_result(key, 429, {"Retry-After": "9"})
    snap = pool.snapshot().key("k")
    assert (snap.successes, snap.failures, snap.cooldown_left) == (0, 1, 9.0)


def test_lease_block_outliving_lease_timeout_still_reports(
    pools: list[KeyPool],
) -> None:
    """A block that outlives lease_timeout reports its result once on exit, late."""
    clock = FakeClock()
    pool = KeyPool([KeyConfig("k", "T")], clock=clock, lease_timeout=30)
    pools.append(pool)
    with pytest.raises(ConnectionError), pool.lease("e") as key:
        clock.advance(31)
        pool.release(pool.take_key("e"))  # the next request reclaims the stale lease
        assert key.status is LeaseStatus.RECLAIMED
        raise ConnectionError("reset")
    assert key.status is LeaseStatus.LATE_REPORTED
    snap = pool.snapshot().key("k")
    assert (snap.in_flight, snap.failures) == (0, 1)
    assert snap.cooldown_left == pool.retry_config.error_base


# -- threads ----------------------------------------------------------------------


def hammer(
    pool: KeyPool, seconds: float
) -> tuple[Counter[str], int, list[BaseException]]:
    """16 threads take, hold 1 ms and report 200 until the time is up; count grants per key."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    grants: Counter[str] = Counter()
    holders: Counter[str] = Counter()
    most_holders = 0

    def worker() -> None:
        nonlocal most_holders
        while (left := deadline - time.monotonic()) > 0:
            try:
                key = pool.take_key("e", timeout=left)
            except NoKeyAvailable:
                return
            with lock:
                grants[key.name] += 1
                holders[key.name] += 1
                most_holders = max(most_holders, holders[key.name])
            time.sleep(0.001)
            with lock:
                holders[key.name] -= 1
            pool.mark_result(key, 200)

    errors = run_threads(16, worker)
    return grants, most_holders, errors


def test_pool_threads_respect_window_and_max_in_flight(pools: list[KeyPool]) -> None:
    """C22: 3 keys of per_window=(5, 60), max_in_flight=1, 16 threads: 5 grants a key, one holder."""
    pool = KeyPool(
        [
            KeyConfig(f"k{i}", f"T{i}", per_window=(5, 60), max_in_flight=1)
            for i in range(3)
        ]
    )
    pools.append(pool)
    grants, most_holders, errors = hammer(pool, 1.0)
    assert errors == []
    assert grants == {"k0": 5, "k1": 5, "k2": 5}
    assert most_holders == 1
    snapshot = pool.snapshot()
    assert (snapshot.in_flight, snapshot.waiting) == (0, 0)


def test_pool_threads_never_share_single_flight_key(pools: list[KeyPool]) -> None:
    """With max_in_flight=1 and no window, 16 busy threads never hold one key twice and lose nothing."""
    pool = KeyPool([KeyConfig(f"k{i}", f"T{i}", max_in_flight=1) for i in range(3)])
    pools.append(pool)
    grants, most_holders, errors = hammer(pool, 1.0)
    assert errors == []
    assert most_holders == 1
    assert sum(grants.values()) > 100  # the keys were kept busy
    snapshot = pool.snapshot()
    assert (snapshot.in_flight, snapshot.waiting) == (0, 0)
    assert {k.name: k.successes for k in snapshot.keys} == dict(grants)


def test_take_key_timeout_raises_no_key_available(pools: list[KeyPool]) -> None:
    """A wait longer than timeout raises NoKeyAvailable after about the timeout, with retry_after."""
    pool = KeyPool([KeyConfig("k", "T")])
    pools.append(pool)
    pool.mark_result(pool.take_key("e"), 429, {"Retry-After": "30"})
    started = time.monotonic()
    with pytest.raises(NoKeyAvailable) as info:
        pool.take_key("e", timeout=0.2)
    elapsed = time.monotonic() - started
    assert 0.19 <= elapsed < 1.5
    assert info.value.retry_after is not None
    assert 28.0 < info.value.retry_after <= 30.0
    assert info.value.endpoint == "e"
    assert pool.snapshot().waiting == 0


def test_take_key_timeout_zero_fails_at_once(pools: list[KeyPool]) -> None:
    """timeout=0 never waits: it raises at once when no key can serve."""
    pool = KeyPool([KeyConfig("k", "T", max_in_flight=1)], clock=FakeClock())
    pools.append(pool)
    pool.take_key("e")
    with pytest.raises(NoKeyAvailable) as info:
        pool.take_key("e", timeout=0)
    assert info.value.retry_after is None  # only a release can free a full key
    assert pool.snapshot().waiting == 0


def test_take_key_infinite_timeout_waits_for_release(pools: list[KeyPool]) -> None:
    """timeout=math.inf waits like None instead of failing in the thread primitives."""
    pool = KeyPool([KeyConfig("k", "T", max_in_flight=1)])
    pools.append(pool)
    held = pool.take_key("e")
    thread, out = in_background(lambda: pool.take_key("e", timeout=math.inf))
    wait_until(lambda: pool.snapshot().waiting == 1)
    pool.mark_result(held, 200)
    thread.join(5)
    assert isinstance(out[0], Lease)


def test_timer_wakes_waiter_when_cooldown_ends(pools: list[KeyPool]) -> None:
    """A waiter on a key cooling 0.2 s is served promptly when it frees, not on a poll tick."""
    pool = KeyPool([KeyConfig("k", "T")])
    pools.append(pool)
    key = pool.take_key("e")
    cooled_at = time.monotonic()
    pool.mark_result(key, 429, {"Retry-After": "0.2"})
    served = pool.take_key("e", timeout=5)
    late = time.monotonic() - cooled_at - 0.2
    assert served.name == "k"
    assert (
        -0.01 <= late < 0.15
    )  # served after the cooldown, well before any sane poll interval


def test_release_wakes_waiter_at_once(pools: list[KeyPool]) -> None:
    """A report frees a busy key straight to the thread waiting for it."""
    pool = KeyPool([KeyConfig("k", "T", max_in_flight=1)])
    pools.append(pool)
    held = pool.take_key("e")
    thread, out = in_background(lambda: pool.take_key("e", timeout=5))
    wait_until(lambda: pool.snapshot().waiting == 1)
    released_at = time.monotonic()
    pool.mark_result(held, 200)
    thread.join(5)
    result, ended = out
    assert isinstance(result, Lease)
    assert isinstance(ended, float) and ended - released_at < 0.15


def test_reclaimed_lease_serves_waiting_thread(pools: list[KeyPool]) -> None:
    """A lease never reported is reclaimed at lease_timeout and its key goes to the waiter."""
    pool = KeyPool([KeyConfig("k", "T", max_in_flight=1)], lease_timeout=0.2)
    pools.append(pool)
    forgotten = pool.take_key("e")
    started = time.monotonic()
    served = pool.take_key("e", timeout=5)
    assert 0.15 <= time.monotonic() - started < 1.0
    assert forgotten.status is LeaseStatus.RECLAIMED
    assert served.status is LeaseStatus.ACTIVE
    assert pool.snapshot().in_flight == 1


def test_close_wakes_all_waiters_with_pool_closed(pools: list[KeyPool]) -> None:
    """close() wakes every waiting thread with PoolClosed and refuses new requests."""
    pool = KeyPool([KeyConfig("k", "T", max_in_flight=1)])
    pool.take_key("e")
    runs = [in_background(lambda: pool.take_key("e")) for _ in range(4)]
    wait_until(lambda: pool.snapshot().waiting == 4)
    pool.close()
    for thread, out in runs:
        thread.join(5)
        assert isinstance(out[0], PoolClosed)
    with pytest.raises(PoolClosed):
        pool.take_key("e")
    assert pool.closed


def test_sync_pool_in_event_loop_refuses_to_block() -> None:
    """C19: take_key that would wait in a running loop raises WouldBlockError and never stalls the loop."""
    pool = KeyPool([KeyConfig("k", "T")])
    pool.mark_result(pool.take_key("e"), 429, {"Retry-After": "1"})
    free = KeyPool([KeyConfig("f", "F")])

    async def main() -> tuple[float, float, str]:
        gaps: list[float] = []

        async def ticker() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(WouldBlockError, match="AsyncKeyPool"):
            pool.take_key("e")
        took = time.monotonic() - started
        served = free.take_key("e").name
        await asyncio.sleep(0.05)
        task.cancel()
        return took, max(gaps), served

    took, worst_gap, served = asyncio.run(main())
    assert took < 0.1
    assert worst_gap < 0.2
    assert served == "f"
    assert pool.snapshot().waiting == 0
    pool.close()
    free.close()


# -- secrets ----------------------------------------------------------------------


def test_no_token_in_reprs_logs_or_errors(
    pools: list[KeyPool], caplog: pytest.LogCaptureFixture
) -> None:
    """C13: no repr, str, log record or exception message of the pool ever shows a token."""
    caplog.set_level(logging.DEBUG, logger="rotisserie")
    clock = FakeClock()
    pool = KeyPool(
        [KeyConfig("a", SECRETS[0], per_window=(2, 60)), KeyConfig("b", SECRETS[1])],
        clock=clock,
        lease_timeout=30,
    )
    other = KeyPool([KeyConfig("c", SECRETS[2], max_in_flight=1)], clock=clock)
    pools.extend([pool, other])
    texts: list[str] = []
    leases = [pool.take_key("e") for _ in range(3)]
    stale = pool.take_key("e")
    pool.mark_result(leases[0], 429, {"Retry-After": "5"})
    pool.mark_result(leases[1], None, {}, ConnectionError("refused"))
    pool.mark_result(leases[2], 401, {}, body=b'{"error": {"code": "invalid_api_key"}}')
    clock.advance(31)
    pool.release(pool.take_key("e"))  # reclaims the stale lease, which logs
    for attempt in (
        lambda: pool.mark_result(leases[0], 200),
        lambda: pool.release(leases[1]),
        lambda: pool.mark_result(other.take_key("e"), 200),
        lambda: other.take_key("e", timeout=0),
        lambda: KeyConfig("", SECRETS[0]),
        lambda: KeyConfig("x", SECRETS[0], per_window=(0, 60)),
        lambda: KeyPool([KeyConfig("a", SECRETS[0]), KeyConfig("a", SECRETS[1])]),
    ):
        with pytest.raises(Exception) as info:
            attempt()
        texts += [str(info.value), repr(info.value)]
    pool.mark_result(stale, 200)  # a late report, logged as such
    snapshot = pool.snapshot()
    objects: list[object] = [pool, snapshot, *snapshot.keys, *pool.keys, stale, *leases]
    objects += [k.config for k in pool.keys]
    texts += [text for obj in objects for text in (repr(obj), str(obj))]
    texts += [record.getMessage() for record in caplog.records]
    # Every path that logs ran: grants, cooldowns, the revocation, the reclaim.
    logged = " ".join(record.getMessage() for record in caplog.records)
    for event in ("granted", "cooling", "disabled", "reclaimed"):
        assert event in logged
    for secret in SECRETS:
        assert not [t for t in texts if secret in t]
