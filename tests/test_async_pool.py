"""Tests for AsyncKeyPool: many tasks, cancellation, timers, timeouts and event-loop reuse."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from rotisserie import (
    AsyncKeyPool,
    KeyConfig,
    Lease,
    LeaseStatus,
    NoKeyAvailable,
    PoolClosed,
)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# C20: pools created at import time, outside any event loop, and used by one
# asyncio.run after another. The second one makes tasks wait for keys.
MODULE_POOL = AsyncKeyPool([KeyConfig("a", "A"), KeyConfig("b", "B")])
MODULE_POOL_SINGLE_FLIGHT = AsyncKeyPool(
    [KeyConfig("a", "A", max_in_flight=1), KeyConfig("b", "B", max_in_flight=1)]
)


def run_c20(pool: AsyncKeyPool) -> int:
    """One asyncio.run: 20 tasks take, yield, report 200, five times; returns grants made."""

    async def worker() -> int:
        for _ in range(5):
            key = await pool.take_key("e")
            await asyncio.sleep(0)
            pool.mark_result(key, 200)
        return 5

    async def main() -> int:
        done = await asyncio.wait_for(
            asyncio.gather(*(worker() for _ in range(20))), 10
        )
        return sum(done)

    return asyncio.run(main())


@pytest.mark.parametrize(
    "pool", [MODULE_POOL, MODULE_POOL_SINGLE_FLIGHT], ids=["free", "single-flight"]
)
def test_pool_module_level_survives_two_event_loops(pool: AsyncKeyPool) -> None:
    """C20: a module-level pool serves two asyncio.run calls in a row to completion."""
    before = sum(k.successes for k in pool.snapshot().keys)
    assert run_c20(pool) == 100
    assert run_c20(pool) == 100
    snapshot = pool.snapshot()
    assert sum(k.successes for k in snapshot.keys) - before == 200
    assert (snapshot.in_flight, snapshot.waiting) == (0, 0)


async def test_take_key_cancelled_tasks_lose_nothing() -> None:
    """500 tasks, a third cancelled at random moments: every other task is served and nothing leaks."""
    rng = random.Random(20240601)
    pool = AsyncKeyPool(
        [KeyConfig(f"k{i}", f"T{i}", max_in_flight=2) for i in range(3)]
    )
    served: set[int] = set()

    async def worker(i: int) -> None:
        async with pool.lease(rng.choice(["a", "b"])):
            served.add(i)
            await asyncio.sleep(rng.choice([0, 0.002, 0.005]))

    tasks = [asyncio.create_task(worker(i)) for i in range(500)]
    for i in rng.sample(range(500), 170):
        await asyncio.sleep(rng.choice([0, 0, 0.0002]))
        tasks[i].cancel()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)

    cancelled = {i for i, task in enumerate(tasks) if task.cancelled()}
    finished = set(range(500)) - cancelled
    assert len(cancelled) > 100  # most cancellations caught a task still running
    assert all(tasks[i].exception() is None for i in finished)
    assert finished <= served
    snapshot = pool.snapshot()
    assert (snapshot.in_flight, snapshot.waiting) == (0, 0)
    assert sum(k.successes for k in snapshot.keys) == len(finished)
    # Every key is free again: six grants at once.
    leases = [await pool.take_key("e", timeout=0) for _ in range(6)]
    assert len(leases) == 6
    pool.close()


async def test_cancelled_waiter_leaves_key_free() -> None:
    """Cancelling a task waiting for a key leaves no trace: the next request is served at once."""
    pool = AsyncKeyPool([KeyConfig("k", "T", max_in_flight=1)])
    held = await pool.take_key("e")
    task = asyncio.create_task(pool.take_key("e"))
    await asyncio.sleep(0.01)
    assert pool.snapshot().waiting == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pool.mark_result(held, 200)
    assert pool.snapshot().waiting == 0
    assert isinstance(await pool.take_key("e", timeout=0), Lease)
    pool.close()


async def test_waiter_cancelled_after_grant_returns_key() -> None:
    """A task cancelled right after it was granted a key gives the key back."""
    pool = AsyncKeyPool([KeyConfig("k", "T", max_in_flight=1, per_window=(2, 60))])
    held = await pool.take_key("e")
    task = asyncio.create_task(pool.take_key("e"))
    await asyncio.sleep(0.01)
    pool.mark_result(held, 200)  # grants the key to the waiting task...
    task.cancel()  # ...which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await task
    snap = pool.snapshot().key("k")
    assert (snap.in_flight, snap.windows_left) == (0, (1,))
    pool.close()


async def test_take_key_timeout_raises_no_key_available() -> None:
    """A wait past timeout raises NoKeyAvailable after about the timeout, saying when a key frees."""
    pool = AsyncKeyPool([KeyConfig("k", "T")])
    pool.mark_result(await pool.take_key("e"), 429, {"Retry-After": "30"})
    started = time.monotonic()
    with pytest.raises(NoKeyAvailable) as info:
        await pool.take_key("e", timeout=0.1)
    assert 0.09 <= time.monotonic() - started < 1.5
    assert info.value.retry_after is not None and 28 < info.value.retry_after <= 30
    assert pool.snapshot().waiting == 0
    pool.close()


async def test_timer_wakes_waiter_when_cooldown_ends() -> None:
    """A waiter on a key cooling 0.2 s is served soon after it frees, by a timer, not a poll."""
    pool = AsyncKeyPool([KeyConfig("k", "T")])
    key = await pool.take_key("e")
    cooled_at = time.monotonic()
    pool.mark_result(key, 429, {"Retry-After": "0.2"})
    await pool.take_key("e", timeout=5)
    late = time.monotonic() - cooled_at - 0.2
    assert -0.01 <= late < 0.15
    pool.close()


async def test_reclaimed_lease_serves_waiting_task() -> None:
    """A lease never reported is reclaimed at lease_timeout and its key goes to the waiting task."""
    pool = AsyncKeyPool([KeyConfig("k", "T", max_in_flight=1)], lease_timeout=0.2)
    forgotten = await pool.take_key("e")
    started = time.monotonic()
    served = await pool.take_key("e", timeout=5)
    assert 0.15 <= time.monotonic() - started < 1.0
    assert (forgotten.status, served.status) == (
        LeaseStatus.RECLAIMED,
        LeaseStatus.ACTIVE,
    )
    pool.close()


async def test_report_from_another_thread_wakes_waiter() -> None:
    """A report made on a worker thread wakes the task waiting on the loop."""
    pool = AsyncKeyPool([KeyConfig("k", "T", max_in_flight=1)])
    held = await pool.take_key("e")
    task = asyncio.create_task(pool.take_key("e", timeout=5))
    await asyncio.sleep(0.01)
    await asyncio.to_thread(pool.mark_result, held, 200)
    assert isinstance(await task, Lease)
    pool.close()


async def test_close_wakes_waiters_with_pool_closed() -> None:
    """close() fails every waiting task with PoolClosed and refuses new requests."""
    pool = AsyncKeyPool([KeyConfig("k", "T", max_in_flight=1)])
    await pool.take_key("e")
    tasks = [asyncio.create_task(pool.take_key("e")) for _ in range(3)]
    await asyncio.sleep(0.01)
    await pool.aclose()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, PoolClosed) for r in results)
    with pytest.raises(PoolClosed):
        await pool.take_key("e")


async def test_lease_block_reports_on_exit() -> None:
    """async with pool.lease() reports a success on exit and a transport error on an exception."""
    pool = AsyncKeyPool([KeyConfig("k", "T")])
    async with pool.lease("e"):
        assert pool.snapshot().in_flight == 1
    with pytest.raises(ConnectionError):
        async with pool.lease("e"):
            raise ConnectionError("reset")
    snap = pool.snapshot().key("k")
    assert (snap.in_flight, snap.successes, snap.failures) == (0, 1, 1)
    pool.close()


async def test_lease_block_outliving_lease_timeout_still_reports() -> None:
    """A block that outlives lease_timeout still reports its success once on exit."""
    clock = FakeClock()
    pool = AsyncKeyPool([KeyConfig("k", "T")], clock=clock, lease_timeout=30)
    async with pool.lease("e") as key:
        clock.advance(31)
        pool.release(await pool.take_key("e"))  # the next request reclaims the lease
        statuses = [key.status]
    statuses.append(key.status)
    assert statuses == [LeaseStatus.RECLAIMED, LeaseStatus.LATE_REPORTED]
    snap = pool.snapshot().key("k")
    assert (snap.in_flight, snap.successes) == (0, 1)
    pool.close()


async def test_endpoint_block_assigns_keys() -> None:
    """async with pool.endpoint() claims keys for its duration."""
    pool = AsyncKeyPool(
        [KeyConfig(f"k{i}", f"T{i}") for i in range(3)], distribute=False
    )
    async with pool.endpoint("high", reserve=1, priority=1), pool.endpoint("low", 1, 2):
        owned = {e.name: len(e.keys) for e in pool.snapshot().endpoints}
        assert owned == {"high": 2, "low": 1}
    assert all(k.endpoint is None for k in pool.snapshot().keys)
    pool.close()
