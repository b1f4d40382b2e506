"""
The auth for asyncio clients: ``httpx.AsyncClient`` and ``aiohttp``.

:class:`AsyncAuth` is what ``AsyncKeyPool.auth(...)`` returns. The
client-specific work lives in :mod:`rotisserie.adapters.httpx` and
:mod:`rotisserie.adapters.aiohttp`; neither client is imported until used.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator, Generator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._async_pool import AsyncKeyPool
from .._config import AuthConfig, RetryConfig
from .._endpoint_block import EndpointBlock
from .._lease import Lease
from ..errors import ConfigError, NoKeyAvailable
from ._auth_base import AuthBase
from ._flow import Call, Settings, build_settings, protect_logs, worth_waiting

if TYPE_CHECKING:
    import aiohttp
    import httpx
    from aiohttp.client import _RequestContextManager

__all__ = ["AsyncAuth"]


class Middleware:
    """
    The aiohttp client middleware of one :class:`AsyncAuth`.

    A distinct object with a stable identity, so a session can be checked
    for it and it can be taken off again.
    """

    __slots__ = ("_auth",)

    def __init__(self, auth: AsyncAuth) -> None:
        self._auth = auth

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        """Send ``request`` with a key; aiohttp calls this for each hop."""
        from .aiohttp import middleware

        return await middleware(self._auth, request, handler)

    def __repr__(self) -> str:
        return f"Middleware({self._auth!r})"


class AsyncAuth(AuthBase):
    """
    Puts a key from an :class:`~rotisserie.AsyncKeyPool` on each request of
    ``httpx.AsyncClient`` or ``aiohttp``, rotating keys on 429.

    Use it as an ``async with`` block, which holds the endpoint's claim on
    keys. With httpx, pass it as ``auth``. With aiohttp, in order of
    preference:

    - the client middleware: ``aiohttp.ClientSession(middlewares=(auth.middleware,))``;
    - the request helpers: ``async with auth.get(session, url) as resp``;
    - a trace config, ``ClientSession(trace_configs=[auth.trace_config()])``,
      which puts the key in a header and reports answers but cannot send a
      request again; :meth:`wrap_session` adds the middleware to such a
      session for retries.

    Retries, redirects and reports work as for :class:`SyncAuth`. Takes the
    same arguments.

    Raises:
        ConfigError: ``pool`` is not an :class:`~rotisserie.AsyncKeyPool`
            (a ``KeyPool`` would block the event loop while it waits for a
            key), or an option is invalid.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        pool: AsyncKeyPool,
        endpoint: str = "default",
        reserve: int = 0,
        priority: int = 1,
        *,
        auth_config: AuthConfig | None = None,
        auth_header: str | None = None,
        auth_scheme: str | None = None,
        auth_in: str | None = None,
        auth_query_param: str | None = None,
        retry_config: RetryConfig | None = None,
        retry_attempts: int | None = None,
        retry_for_methods: Iterable[str] | None = None,
        timeout: float | None = None,
    ) -> None:
        if not isinstance(pool, AsyncKeyPool):
            raise ConfigError(
                "pool",
                f"AsyncAuth needs an AsyncKeyPool, got {type(pool).__name__}: waiting "
                "for a key with it would block the event loop; build the pool with "
                "AsyncKeyPool(...) for httpx.AsyncClient and aiohttp",
            )
        self.pool = pool
        self.settings: Settings = build_settings(
            pool,
            endpoint,
            auth_config=auth_config,
            auth_header=auth_header,
            auth_scheme=auth_scheme,
            auth_in=auth_in,
            auth_query_param=auth_query_param,
            retry_config=retry_config,
            retry_attempts=retry_attempts,
            retry_for_methods=retry_for_methods,
            timeout=timeout,
        )
        self._block = EndpointBlock(pool, endpoint, reserve, priority)
        #: The aiohttp client middleware: ``ClientSession(middlewares=(auth.middleware,))``.
        self.middleware = Middleware(self)
        # Sessions given the middleware by wrap_session, to take it off again.
        self._wrapped: weakref.WeakSet[aiohttp.ClientSession] = weakref.WeakSet()
        protect_logs(pool)

    # -- the block -------------------------------------------------------------

    async def __aenter__(self) -> AsyncAuth:
        self._block.__enter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._wrapped:
                from .aiohttp import unwrap_session

                for session in list(self._wrapped):
                    unwrap_session(self, session)
        finally:
            self._block.__exit__(exc_type, exc, tb)

    # -- httpx -----------------------------------------------------------------

    def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The flow ``httpx.AsyncClient`` runs for each request."""
        from .httpx import async_flow

        return async_flow(self, request)

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """
        Refuse ``httpx.Client``: it cannot wait for an async pool.

        Raises:
            ConfigError: always.
        """
        raise ConfigError(
            "auth",
            "httpx.Client needs the auth of a KeyPool; this one belongs to an AsyncKeyPool",
        )

    # -- aiohttp ---------------------------------------------------------------

    def trace_config(self) -> aiohttp.TraceConfig:
        """
        A trace config that puts a key in a header of each request of a session.

        It reports each answer (and error) to the pool and strips the key
        on a redirect to another origin, but cannot send a request again;
        call :meth:`wrap_session` on the session for that.

        Raises:
            ConfigError: the token goes in the query; a trace config cannot
                change the URL (use :attr:`middleware`).
        """
        from .aiohttp import trace_config

        return trace_config(self)

    def wrap_session(self, session: aiohttp.ClientSession) -> aiohttp.ClientSession:
        """
        Add :attr:`middleware` to an existing session, for automatic retries.

        aiohttp has no public way to add a middleware to a session once made,
        so this sets the session's middleware tuple (an attribute aiohttp
        reads on each request) and sets it back when the block is left. The
        session's trace config from :meth:`trace_config` then stands aside.
        Prefer ``ClientSession(middlewares=(auth.middleware,))``.

        Returns:
            ``session``.

        Raises:
            NotImplementedError: aiohttp is older than 3.12 (no middlewares).
        """
        from .aiohttp import wrap_session

        wrap_session(self, session)
        return session

    def request(
        self, session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
    ) -> _RequestContextManager:
        """
        Send a request through ``session`` with this auth's middleware.

        Use as ``async with auth.request(session, "GET", url) as resp``. The
        session's own middlewares run too.
        """
        from .aiohttp import request

        return request(self, session, method, url, **kwargs)

    def get(
        self, session: aiohttp.ClientSession, url: str, **kwargs: Any
    ) -> _RequestContextManager:
        """Send a GET request; see :meth:`request`."""
        return self.request(session, "GET", url, **kwargs)

    def head(
        self, session: aiohttp.ClientSession, url: str, **kwargs: Any
    ) -> _RequestContextManager:
        """Send a HEAD request; see :meth:`request`."""
        return self.request(session, "HEAD", url, **kwargs)

    def options(
        self, session: aiohttp.ClientSession, url: str, **kwargs: Any
    ) -> _RequestContextManager:
        """Send an OPTIONS request; see :meth:`request`."""
        return self.request(session, "OPTIONS", url, **kwargs)

    def post(
        self, session: aiohttp.ClientSession, url: str, **kwargs: Any
    ) -> _RequestContextManager:
        """Send a POST request; see :meth:`request`."""
        return self.request(session, "POST", url, **kwargs)

    def put(
        self, session: aiohttp.ClientSession, url: str, **kwargs: Any
    ) -> _RequestContextManager:
        """Send a PUT request; see :meth:`request`."""
        return self.request(session, "PUT", url, **kwargs)

    def patch(
        self, session: aiohttp.ClientSession, url: str, **kwargs: Any
    ) -> _RequestContextManager:
        """Send a PATCH request; see :meth:`request`."""
        return self.request(session, "PATCH", url, **kwargs)

    def delete(
        self, session: aiohttp.ClientSession, url: str, **kwargs: Any
    ) -> _RequestContextManager:
        """Send a DELETE request; see :meth:`request`."""
        return self.request(session, "DELETE", url, **kwargs)

    # -- one-shot values -------------------------------------------------------

    async def headers(self) -> dict[str, str]:
        """
        Take a key and return it as a header; see :meth:`SyncAuth.headers`.

        Raises:
            NoKeyAvailable: no key freed within ``timeout``.
        """
        lease = await self._take_once()
        config = self.settings.auth
        return {config.header: config.header_value(lease.token)}

    async def params(self) -> dict[str, str]:
        """Take a key and return it as a query parameter; see :meth:`SyncAuth.params`."""
        lease = await self._take_once()
        return {self.settings.auth.query_param: lease.token}

    # -- for the adapters ------------------------------------------------------

    def _new_call(self, method: str, *, replayable: bool) -> Call:
        return Call(self.pool, self.settings, method, replayable=replayable)

    def _wraps(self, session: aiohttp.ClientSession) -> bool:
        return session in self._wrapped

    async def _take_first(self) -> Lease:
        return await self.pool.take_key(self.settings.endpoint, self.settings.timeout)

    async def _take_again(self, call: Call) -> Lease | None:
        """A key for another attempt, or ``None``; see ``SyncAuth._take_again``."""
        endpoint = self.settings.endpoint
        try:
            return await self.pool.take_key(endpoint, 0)
        except NoKeyAvailable as exc:
            if not worth_waiting(exc, self.pool, self.settings.retry_wait):
                return None
        try:
            return await self.pool.take_key(endpoint, self.settings.retry_wait)
        except NoKeyAvailable:
            return None

    async def _take_once(self) -> Lease:
        lease = await self._take_first()
        self.pool.release(lease, sent=True)
        return lease

    def __repr__(self) -> str:
        names = ", ".join(key.name for key in self.pool.keys)
        return (
            f"AsyncAuth(endpoint={self.settings.endpoint!r}, keys=[{names}], "
            f"in={self.settings.auth.in_!r})"
        )

    __str__ = __repr__
