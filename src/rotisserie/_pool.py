"""The thread-safe pool for synchronous code."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._endpoint_block import EndpointBlock
from ._lease import Lease
from ._pool_base import PoolBase, check_timeout
from ._scheduler import Waiter
from .errors import NoKeyAvailable, StateBackendError, WouldBlockError

if TYPE_CHECKING:
    from .adapters.httpx import SyncHttpxClient
    from .adapters.requests import RequestsClient
    from .adapters.sync_auth import SyncAuth

__all__ = ["KeyPool"]

log = logging.getLogger(__name__)


class KeyPool(PoolBase):
    """
    A pool of API keys for synchronous code; safe to share between threads.

    Args:
        keys: the keys (``KeyConfig``); names must be unique.
        distribute: ``True`` hands extra keys round-robin across priority
            levels; ``False`` gives them all to the highest level.
        policy: ``"even"``, ``"weighted"``, or a function (see
            :mod:`rotisserie.policies`).
        auth_config: where adapters put the token (or the ``auth_*``
            shorthand fields).
        retry_config: cooldowns and adapter retries.
        lease_timeout: seconds after which a key never reported is taken back
            (``None``: never).
        clock: returns epoch seconds; inject a fake one in tests.
        store: where per-key state lives: in memory (default), or a
            ``rotisserie.state.redis.RedisStore`` shared by many processes.
        window_margin: seconds added to every ``per_window`` span. Vendors
            count a request when it arrives, so grants exactly one window
            apart can arrive less than a window apart; a margin of the spread
            in trip times avoids that. A 429 on a key widens its margin on its
            own (from 5 ms, doubling, up to 5% of the window).

    A request waits for a key only while none can serve; it is woken by a
    timer at the instant a key frees, or by a release, never by polling.
    """

    def __init__(self, keys: Any, **options: Any) -> None:
        super().__init__(keys, **options)
        self._timer_changed = threading.Condition(self._lock)
        self._timer_thread: threading.Thread | None = None

    # -- endpoints ---------------------------------------------------------------

    def endpoint(self, name: str, reserve: int = 0, priority: int = 1) -> EndpointBlock:
        """
        A ``with`` block during which ``name`` claims ``reserve`` keys at
        ``priority`` (1 is highest).
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

    def take_key(
        self, endpoint: str = "default", timeout: float | None = None
    ) -> Lease:
        """
        Take a key for one request to ``endpoint``, waiting if none can serve.

        Args:
            endpoint: the endpoint the request is for. One never entered is
                served at the lowest priority, with no reserve.
            timeout: the longest wait in seconds (``None``: no limit).

        Returns:
            A :class:`Lease`; report it with :meth:`mark_result` or give it back
            with :meth:`release`.

        Raises:
            NoKeyAvailable: no key freed within ``timeout``; ``retry_after``
                says when one is expected to.
            PoolClosed: the pool was closed.
            WouldBlockError: the wait would block a running event loop.
        """
        check_timeout(timeout)
        with self._lock, self._store_guard():
            self._look_again_if_store_failed()
            outcome = self._scheduler.request(endpoint, self._clock())
            if isinstance(outcome, Lease):
                return outcome
            waiter = outcome
            if _in_event_loop():
                self._after_change(self._scheduler.cancel(waiter, self._clock()))
                raise WouldBlockError(
                    f"KeyPool.take_key({endpoint!r}) would block the running event loop "
                    "while it waits for a key; use AsyncKeyPool in async code"
                )
            ready = threading.Event()
            waiter.handle = ready
            self._arm_timer()
        return self._wait(waiter, ready, timeout)

    def _wait(
        self, waiter: Waiter, ready: threading.Event, timeout: float | None
    ) -> Lease:
        if timeout is not None and timeout >= threading.TIMEOUT_MAX:
            timeout = None  # Event.wait overflows past TIMEOUT_MAX; this is forever
        try:
            served = ready.wait(timeout)
        except BaseException:
            self._withdraw(waiter)
            raise
        if not served:
            with self._lock:
                if not waiter.done:
                    now = self._clock()
                    self._after_change(self._scheduler.cancel(waiter, now))
                    raise NoKeyAvailable(
                        waiter.endpoint, self._scheduler.retry_after(now)
                    )
        if waiter.error is not None:
            raise waiter.error
        assert waiter.lease is not None
        return waiter.lease

    def _withdraw(self, waiter: Waiter) -> None:
        with self._lock:
            self._after_change(self._scheduler.cancel(waiter, self._clock()))

    @contextlib.contextmanager
    def lease(
        self, endpoint: str = "default", timeout: float | None = None
    ) -> Iterator[Lease]:
        """
        Take a key for the duration of a ``with`` block.

        Report the result inside the block with :meth:`mark_result`. If the
        block does not, leaving it reports for you: an exception is reported
        as a transport error (and re-raised), a normal exit as a success.
        """
        key = self.take_key(endpoint, timeout)
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
    ) -> SyncAuth:
        """
        An auth for ``requests`` and ``httpx.Client`` that holds ``endpoint``
        for the duration of a ``with`` block (see :mod:`rotisserie.adapters`).
        """
        from .adapters.sync_auth import SyncAuth

        return SyncAuth(self, endpoint, reserve, priority, **options)

    def requests_client(
        self,
        endpoint: str = "default",
        reserve: int = 0,
        priority: int = 1,
        **options: Any,
    ) -> RequestsClient:
        """A ``with`` block yielding a requests-based client that uses this pool."""
        from .adapters.requests import RequestsClient

        return RequestsClient(self.auth(endpoint, reserve, priority, **options))

    def httpx_client(
        self,
        endpoint: str = "default",
        reserve: int = 0,
        priority: int = 1,
        **options: Any,
    ) -> SyncHttpxClient:
        """A ``with`` block yielding an ``httpx.Client`` that uses this pool."""
        from .adapters.httpx import SyncHttpxClient

        return SyncHttpxClient(self.auth(endpoint, reserve, priority, **options))

    # -- life cycle ------------------------------------------------------------------

    def close(self) -> None:
        """Refuse new requests and wake every waiter with ``PoolClosed``."""
        with self._lock:
            self._after_change(self._scheduler.close())
            self._timer_changed.notify_all()

    def __enter__(self) -> KeyPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- waking --------------------------------------------------------------------

    def _after_change(self, woken: list[Waiter]) -> None:
        for waiter in woken:
            handle = waiter.handle
            if isinstance(handle, threading.Event):
                handle.set()
        if self._scheduler.has_waiters:
            self._arm_timer()
        elif self._timer_thread is not None:
            self._timer_changed.notify()  # nobody waits: let the timer thread end

    def _arm_timer(self) -> None:
        """Make sure the timer thread knows the next instant a key frees."""
        if self._timer_thread is None:
            self._timer_thread = threading.Thread(
                target=self._run_timer, name="rotisserie-timer", daemon=True
            )
            self._timer_thread.start()
        else:
            self._timer_changed.notify()

    def _run_timer(self) -> None:
        # While requests wait, one thread sleeps until the next instant a key
        # frees (or a lease expires) and lets the scheduler move on. It ends
        # when nobody waits; the next waiter starts a new one. Clearing
        # `_timer_thread` under the lock means no waiter can miss it.
        with self._lock:
            try:
                while self._scheduler.has_waiters and not self._scheduler.closed:
                    wake = self._scheduler.next_wake()
                    if wake is None:
                        self._timer_changed.wait()
                        continue
                    delay = wake - self._clock()
                    if delay > 0:
                        # A wait past TIMEOUT_MAX overflows; waking early is harmless.
                        self._timer_changed.wait(min(delay, threading.TIMEOUT_MAX))
                        continue
                    try:
                        woken = self._scheduler.advance(self._clock())
                    except StateBackendError as exc:
                        self._store_failure = exc
                        woken = self._scheduler.fail_waiters(exc)
                    for waiter in woken:
                        if isinstance(waiter.handle, threading.Event):
                            waiter.handle.set()
            finally:
                self._timer_thread = None


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
