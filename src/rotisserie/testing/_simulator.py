"""The public `Simulator`: configuration, start and stop, and what it saw."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Iterable
from types import TracebackType

from rotisserie.testing._faults import FaultDeck
from rotisserie.testing._handler import Vendor
from rotisserie.testing._headers import RetryAfterStyle
from rotisserie.testing._keys import KeySpec, KeyTable, normalize_keys
from rotisserie.testing._server import LoopServer, ThreadServer
from rotisserie.testing._settings import Settings
from rotisserie.testing._stats import KeyStats, RecordedRequest, Recorder

__all__ = ["Simulator"]

logger = logging.getLogger(__name__)


class Simulator:
    """
    A real HTTP server on 127.0.0.1 that imitates a rate-limited API vendor.

    Every method and path answers 200 with JSON ``{"key", "method", "path",
    "body_length"}`` once the request is authenticated and within its key's
    limit. Unknown, missing and revoked keys get 401 with
    ``{"error": {"code": "invalid_api_key"}}``; a key over its limit gets 429
    with ``Retry-After``; a key whose quota is exhausted gets 429 with
    ``{"error": {"type": "insufficient_quota"}}`` and no ``Retry-After``.

    Control routes:

    - ``GET /_stats``: counters as JSON, no key needed.
    - ``/_redirect?to=<absolute URL>``: 302 to ``to``, no key needed (a key
      sent anyway is recorded).
    - ``/_status/<code>``: answers ``code`` once the key is admitted.

    Start it on a background thread with :meth:`start` or ``with``, or on the
    running event loop with :meth:`astart` or ``async with``. Limiter state is
    fresh on every start; fixed windows align to the moment of the start.

    Args:
        keys: token to :class:`Limit` (``None`` for unlimited), or an iterable
            of :class:`SimulatedKey`.
        auth_header: header the key is read from; ``None`` to ignore headers.
        auth_scheme: scheme before the token in that header, matched without
            regard to case; ``""`` for a raw token, as in ``X-Api-Key``.
        query_param: query parameter the key may also come in; ``None`` to
            ignore the query. A key in the header wins.
        retry_after: on a 429, ``"seconds"`` sends ``Retry-After`` in whole
            seconds (rounded up) plus ``retry-after-ms``; ``"date"`` sends an
            HTTP-date; ``None`` sends neither.
        rate_headers: informational headers sent with each answer to a key
            that has a limit: any of ``"x-ratelimit"``, ``"openai"``,
            ``"ietf"``.
        latency: seconds each admitted request waits before it is answered.
        error_rate: fraction of requests answered 503, before authentication.
        drop_rate: fraction of requests whose connection is closed without
            an answer, before authentication. In every run of consecutive
            requests as long as the smallest deck that makes both rates whole
            (10 for 0.1, 4 for 0.25, at most 1000) the counts are exact.
        seed: seed of the order in which errors and drops fall.
        revoked: tokens answered 401, whether or not they are in ``keys``.
        quota_exhausted: tokens answered 429 ``insufficient_quota``.
        record_requests: keep every request for :attr:`requests`; turn off for
            long benchmarks.

    Raises:
        ConfigError: (a ``ValueError``) naming the invalid argument.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        keys: KeySpec,
        *,
        auth_header: str | None = "Authorization",
        auth_scheme: str = "Bearer",
        query_param: str | None = "api_key",
        retry_after: RetryAfterStyle | None = "seconds",
        rate_headers: Collection[str] | str = (),
        latency: float = 0.0,
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
        seed: int = 0,
        revoked: Iterable[str] = (),
        quota_exhausted: Iterable[str] = (),
        record_requests: bool = True,
    ) -> None:
        self._settings = Settings.build(
            auth_header=auth_header,
            auth_scheme=auth_scheme,
            query_param=query_param,
            retry_after=retry_after,
            rate_headers=rate_headers,
            latency=latency,
        )
        self._table = KeyTable(
            normalize_keys(keys), revoked=revoked, quota_exhausted=quota_exhausted
        )
        self._faults = FaultDeck(error_rate, drop_rate, seed)
        names = [key.name for key in self._table.keys]
        self._recorder = Recorder(names, keep_requests=record_requests)
        self._thread: ThreadServer | None = None
        self._loop_server: LoopServer | None = None
        self._url: str | None = None

    def __repr__(self) -> str:
        # Names only: a token must never reach test output or logs.
        names = [key.name for key in self._table.keys]
        return f"<Simulator url={self._url!r} keys={names!r}>"

    @property
    def url(self) -> str:
        """
        The base URL, such as ``http://127.0.0.1:5123``.

        Raises:
            RuntimeError: the simulator is not running.
        """
        if self._url is None:
            raise RuntimeError("the simulator is not running; call start() or astart()")
        return self._url

    @property
    def running(self) -> bool:
        """
        Whether the simulator is serving.
        """
        return self._url is not None

    def start(self) -> str:
        """
        Serve on a background daemon thread with its own event loop.

        Returns:
            The base URL.

        Raises:
            RuntimeError: the simulator is already running.
        """
        self._check_stopped()
        server = ThreadServer(self._new_vendor().handle)
        self._url = server.start()
        self._thread = server
        logger.info(
            "simulator serving %d keys at %s on a thread",
            len(self._table.keys),
            self._url,
        )
        return self._url

    def stop(self) -> None:
        """
        Stop a simulator started with :meth:`start`; does nothing if stopped.

        Raises:
            RuntimeError: it was started with :meth:`astart`; use :meth:`astop`.
        """
        if self._loop_server is not None:
            raise RuntimeError("the simulator runs on an event loop; use await astop()")
        server, self._thread = self._thread, None
        if server is not None:
            self._url = None
            server.stop()
            logger.info("simulator stopped")

    async def astart(self) -> str:
        """
        Serve on the running event loop.

        Returns:
            The base URL.

        Raises:
            RuntimeError: the simulator is already running.
        """
        self._check_stopped()
        server = LoopServer(self._new_vendor().handle)
        self._url = await server.start()
        self._loop_server = server
        logger.info("simulator serving %d keys at %s", len(self._table.keys), self._url)
        return self._url

    async def astop(self) -> None:
        """
        Stop the simulator, however it was started; does nothing if stopped.
        """
        if self._thread is not None:
            # Joining the thread blocks, so keep it off the caller's loop.
            await asyncio.to_thread(self.stop)
            return
        server, self._loop_server = self._loop_server, None
        if server is not None:
            self._url = None
            await server.stop()
            logger.info("simulator stopped")

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Simulator:
        await self.astart()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.astop()

    def stats(self) -> dict[str, KeyStats]:
        """
        Return a snapshot of each key's counters, by key name.

        Safe to call from any thread while the simulator runs.
        """
        return self._recorder.stats()

    def reset_stats(self) -> None:
        """
        Forget all counters and recorded requests; limiter state is kept.
        """
        self._recorder.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """
        Every request received so far, oldest first (a copy).
        """
        return self._recorder.requests()

    @property
    def total_granted(self) -> int:
        """
        Requests admitted, over all keys.
        """
        return self._recorder.total("granted")

    @property
    def total_rejected(self) -> int:
        """
        Requests answered 429, over all keys.
        """
        return self._recorder.total("rejected")

    @property
    def total_unauthorized(self) -> int:
        """
        Requests answered 401, including those with no key or an unknown one.
        """
        return self._recorder.total("unauthorized")

    def saw_token(self, token: str) -> bool:
        """
        Tell whether ``token`` appeared in any recorded path, query or header.

        Meant for leak tests, such as checking that a client did not carry a
        key across a redirect to another host. Needs ``record_requests``.
        """
        for request in self.requests:
            values = (request.path, *request.query.values(), *request.headers.values())
            if any(token in value for value in values):
                return True
        return False

    def revoke(self, name: str) -> None:
        """
        Answer the key called ``name`` with 401 from now on.

        Raises:
            KeyError: no key has that name.
        """
        self._table.set_status(name, "revoked")

    def exhaust_quota(self, name: str) -> None:
        """
        Answer the key called ``name`` with 429 ``insufficient_quota`` from now on.

        Raises:
            KeyError: no key has that name.
        """
        self._table.set_status(name, "quota_exhausted")

    def restore(self, name: str) -> None:
        """
        Serve the key called ``name`` normally again.

        Raises:
            KeyError: no key has that name.
        """
        self._table.set_status(name, "active")

    def _check_stopped(self) -> None:
        if self._url is not None:
            raise RuntimeError(f"the simulator is already running at {self._url}")

    def _new_vendor(self) -> Vendor:
        return Vendor(
            self._settings, self._table, self._faults, self._recorder, time.monotonic()
        )
