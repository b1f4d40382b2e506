"""The pool for asyncio code."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._endpoint_block import EndpointBlock
from ._lease import Lease, LeaseStatus
from ._pool_base import PoolBase, check_timeout
from ._scheduler import Waiter
from .errors import NoKeyAvailable, StateBackendError

if TYPE_CHECKING:
    from .adapters.aiohttp import AiohttpClient
    from .adapters.async_auth import AsyncAuth
    from .adapters.httpx import AsyncHttpxClient

__all__ = ["AsyncKeyPool"]


class AsyncKeyPool(PoolBase):
    """
    A pool of API keys for asyncio code; safe across tasks, and across event
    loops run one after another (a module-level pool used by several
    ``asyncio.run`` calls).

    Takes the same arguments as :class:`KeyPool`. Waiting requests are woken
    by one loop timer set for the instant a key frees, or by a release.
    """

    def __init__(self, keys: Any, **options: Any) -> None:
        super().__init__(keys, **options)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        # The loop of the latest waiter: where the timer runs.
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        self._armed_loop: asyncio.AbstractEventLoop | None = None

    # -- endpoints ---------------------------------------------------------------

    def endpoint(self, name: str, reserve: int = 0, priority: int = 1) -> EndpointBlock:
        """
        A block (``async with`` or ``with``) during which ``name`` claims
        ``reserve`` keys at ``priority`` (1 is highest).
        """
        return EndpointBlock(self, name, reserve, priority)

    def _enter_endpoint(self, name: str, reserve: int, priority: int) -> None:
        with self._lock:
            self._after_change(
                self._scheduler.enter(name, reserve, priority, self._clock())
            )

    def _leave_endpoint(self, name: str) -> None:
        with self._lock:
            self._after_change(self._scheduler.leave(name, self._clock()))

    # -- grants --------------------------------------------------------------------

    async def take_key(
        self, endpoint: str = "default", timeout: float | None = None
    ) -> Lease:
        """
        Take a key for one request to ``endpoint``, waiting if none can serve.

        Cancelling the waiting task loses no capacity: a key granted at that
        very moment goes back to the pool.

        Raises:
            NoKeyAvailable: no key freed within ``timeout`` seconds.
            PoolClosed: the pool was closed.
        """
        check_timeout(timeout)
        with self._lock, self._store_guard():
            self._look_again_if_store_failed()
            outcome = self._scheduler.request(endpoint, self._clock())
            if isinstance(outcome, Lease):
                return outcome
            waiter = outcome
            loop = asyncio.get_running_loop()
            served = loop.create_future()
            waiter.handle = served
            self._timer_loop = loop
            self._arm_timer()
        try:
            await asyncio.wait_for(served, timeout)
        except asyncio.TimeoutError:
            with self._lock:
                now = self._clock()
                self._after_change(self._scheduler.cancel(waiter, now))
                retry_after = self._scheduler.retry_after(now)
            raise NoKeyAvailable(endpoint, retry_after) from None
        except BaseException:
            with self._lock:
                self._after_change(self._scheduler.cancel(waiter, self._clock()))
            raise
        if waiter.error is not None:
            raise waiter.error
        assert waiter.lease is not None
        return waiter.lease

    @contextlib.asynccontextmanager
    async def lease(
        self, endpoint: str = "default", timeout: float | None = None
    ) -> AsyncIterator[Lease]:
        """
        Take a key for the duration of an ``async with`` block.

        As :meth:`KeyPool.lease`: a block that does not report is reported on
        exit, an exception as a transport error, a normal exit as a success.
        """
        key = await self.take_key(endpoint, timeout)
        try:
            yield key
        except BaseException as exc:
            if key.awaiting_result:
                self.mark_result(key, None, None, exc)
            raise
        if key.awaiting_result:
            self.mark_result(key, 200, None, None)

    # -- adapters --------------------------------------------------------------------

    def auth(
        self,
        endpoint: str = "default",
        reserve: int = 0,
        priority: int = 1,
        **options: Any,
    ) -> AsyncAuth:
        """
        An auth for ``httpx.AsyncClient`` and ``aiohttp`` that holds ``endpoint``
        for the duration of an ``async with`` block.
        """
        from .adapters.async_auth import AsyncAuth

        return AsyncAuth(self, endpoint, reserve, priority, **options)

    def httpx_client(
        self,
        endpoint: str = "default",
        reserve: int = 0,
        priority: int = 1,
        **options: Any,
    ) -> AsyncHttpxClient:
        """An ``async with`` block yielding an ``httpx.AsyncClient`` using this pool."""
        from .adapters.httpx import AsyncHttpxClient

        return AsyncHttpxClient(self.auth(endpoint, reserve, priority, **options))

    def aiohttp_client(
        self,
        endpoint: str = "default",
        reserve: int = 0,
        priority: int = 1,
        **options: Any,
    ) -> AiohttpClient:
        """An ``async with`` block yielding an aiohttp-based client using this pool."""
        from .adapters.aiohttp import AiohttpClient

        return AiohttpClient(self.auth(endpoint, reserve, priority, **options))

    # -- life cycle ------------------------------------------------------------------

    def close(self) -> None:
        """Refuse new requests and wake every waiter with ``PoolClosed``."""
        with self._lock:
            self._after_change(self._scheduler.close())
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    async def aclose(self) -> None:
        """Same as :meth:`close`, for ``async`` code."""
        self.close()

    async def __aenter__(self) -> AsyncKeyPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- waking --------------------------------------------------------------------

    def _after_change(self, woken: list[Waiter]) -> None:
        for waiter in woken:
            self._wake(waiter)
        if self._scheduler.has_waiters:
            self._arm_timer()

    def _wake(self, waiter: Waiter) -> None:
        served = waiter.handle
        if not isinstance(served, asyncio.Future):
            return
        loop = served.get_loop()
        if loop.is_closed():
            # Its task died with its loop; give back what it was granted.
            if waiter.lease is not None and waiter.lease.status is LeaseStatus.ACTIVE:
                self._after_change(self._scheduler.release(waiter.lease, self._clock()))
            return
        if _running_loop() is loop:
            _resolve(served)
        else:
            loop.call_soon_threadsafe(_resolve, served)

    def _arm_timer(self) -> None:
        """Set the loop timer for the next instant a key frees, if earlier."""
        loop = self._timer_loop
        wake = self._scheduler.next_wake()
        if loop is None or loop.is_closed() or wake is None:
            return
        timer = self._timer
        armed = timer is not None and not timer.cancelled() and self._armed_loop is loop
        if armed and self._timer_at <= wake:
            return
        if timer is not None:
            timer.cancel()
        self._timer_at = wake
        delay = max(wake - self._clock(), 0.0)
        if _running_loop() is loop:
            self._timer = loop.call_later(delay, self._on_timer)
            self._armed_loop = loop
        else:
            self._timer = None
            loop.call_soon_threadsafe(self._arm_from_loop)

    def _arm_from_loop(self) -> None:
        with self._lock:
            self._arm_timer()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            try:
                woken = self._scheduler.advance(self._clock())
            except StateBackendError as exc:
                self._store_failure = exc
                woken = self._scheduler.fail_waiters(exc)
            self._after_change(woken)


def _resolve(served: asyncio.Future[Any]) -> None:
    if not served.done():
        served.set_result(None)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
