"""
The auth for synchronous clients: ``requests`` and ``httpx.Client``.

:class:`SyncAuth` is what ``KeyPool.auth(...)`` returns. The client-specific
work lives in :mod:`rotisserie.adapters.requests` and
:mod:`rotisserie.adapters.httpx`; neither client is imported until used.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import AsyncGenerator, Generator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from .._config import AuthConfig, RetryConfig
from .._endpoint_block import EndpointBlock
from .._lease import Lease
from .._pool import KeyPool
from ..errors import ConfigError, NoKeyAvailable, WouldBlockError
from ._auth_base import AuthBase
from ._flow import Call, Settings, build_settings, protect_logs, worth_waiting

if TYPE_CHECKING:
    import httpx
    import requests

__all__ = ["SyncAuth"]


class _Pending(Protocol):
    def abandon(self) -> None: ...


class SyncAuth(AuthBase):
    """
    Puts a key from a :class:`~rotisserie.KeyPool` on each request of
    ``requests`` or ``httpx.Client``, rotating keys on 429.

    Use it as a ``with`` block, which holds the endpoint's claim on keys::

        with pool.auth(endpoint="orders", reserve=2, priority=1) as auth:
            requests.get(url, auth=auth)
            with httpx.Client(auth=auth) as client:
                client.get(url)

    Each request takes a key and reports its answer to the pool. After a
    429 (or a 401/403 that says the key is revoked, out of quota or limited)
    a request is sent again at once on another key, if its method is in
    ``retry_for_methods``, its body can be sent again (bytes, not a
    generator or a file), and attempts remain; otherwise the caller gets the
    answer. Another attempt waits for a key at most ``timeout`` seconds
    (``retry_after_cap`` when there is no ``timeout``), and not at all when
    no key is expected to free by then: the caller gets the last answer.
    A key is never sent to another origin on a redirect.

    A refused connection is raised at once. With httpx and with a mounted
    requests session (see :meth:`mount`; ``pool.requests_client`` mounts its
    own), its lease is released at once too. A bare ``requests.get(url,
    auth=auth)`` never tells the auth that its first send failed: that lease
    ends at this auth's next request on the thread, when the block is left,
    or when the request is garbage collected. With requests, other transport
    errors of a retryable request are sent again on another key (after the
    first send only on a mounted session); httpx does not let an auth retry
    them.

    Args:
        pool: the pool keys come from.
        endpoint: the endpoint keys are taken for.
        reserve: keys the endpoint claims while the block is open.
        priority: the endpoint's priority (1 is highest).
        auth_config: where the token goes (default: the pool's).
        auth_header: shorthand over ``auth_config``: the header name.
        auth_scheme: shorthand: the scheme before the token (``""``: none).
        auth_in: shorthand: ``"header"`` or ``"query"``.
        auth_query_param: shorthand: the query parameter name.
        retry_config: cooldowns and retries (default: the pool's).
        retry_attempts: shorthand: how many times one request may be sent.
        retry_for_methods: shorthand: the methods that may be sent again.
        timeout: the longest wait for a key per attempt, in seconds
            (``None``: no limit).

    Raises:
        ConfigError: ``pool`` is not a :class:`~rotisserie.KeyPool`, or an
            option is invalid.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        pool: KeyPool,
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
        if not isinstance(pool, KeyPool):
            raise ConfigError(
                "pool",
                f"SyncAuth needs a KeyPool, got {type(pool).__name__}; "
                "use AsyncKeyPool.auth() with httpx.AsyncClient or aiohttp",
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
        # requests never tells an auth that a send failed; these let the
        # requests adapter end such leases (see adapters.requests).
        self._local = threading.local()
        self._pending: weakref.WeakSet[_Pending] = weakref.WeakSet()
        protect_logs(pool)

    # -- the block -------------------------------------------------------------

    def __enter__(self) -> SyncAuth:
        self._block.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # A requests call whose send raised holds its lease until its
            # request object is collected; leaving the block ends it now.
            for pending in list(self._pending):
                pending.abandon()
        finally:
            self._block.__exit__(exc_type, exc, tb)

    # -- requests --------------------------------------------------------------

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """
        Put a key on a ``requests`` request (requests calls this).

        Raises:
            NoKeyAvailable: no key freed within ``timeout``.
        """
        from .requests import attach

        return attach(self, request)

    def mount(self, session: requests.Session) -> requests.Session:
        """
        Let ``session`` report failed sends to the pool at once.

        requests gives an auth no word when a send raises (a refused
        connection, a reset); the lease then ends when the request object is
        collected, at the next request on the thread, or when the block is
        left. Mounting wraps the session's ``http://`` and ``https://``
        adapters so such errors are reported at once, retried when allowed,
        and masked. :meth:`KeyPool.requests_client` does this for you.

        Returns:
            ``session``.
        """
        from .requests import mount

        mount(session)
        return session

    # -- httpx -----------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow ``httpx.Client`` runs for each request."""
        from .httpx import sync_flow

        return sync_flow(self, request)

    def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """
        Refuse ``httpx.AsyncClient``: waiting for a key would block its loop.

        Raises:
            ConfigError: always.
        """
        raise ConfigError(
            "auth",
            "httpx.AsyncClient needs the auth of an AsyncKeyPool; a KeyPool would "
            "block the event loop while it waits for a key",
        )

    # -- one-shot values -------------------------------------------------------

    def headers(self) -> dict[str, str]:
        """
        Take a key and return it as a header, for a request you send yourself.

        There is no automatic retry: a 429 is yours to handle. The key's
        window slot is spent, and the grant ends at once, so the pool neither
        waits for a report nor learns how the request went (use
        ``pool.lease()`` for that).

        Returns:
            ``{header: "<scheme> <token>"}``, such as
            ``{"Authorization": "Bearer sk-..."}``.

        Raises:
            NoKeyAvailable: no key freed within ``timeout``.
        """
        lease = self._take_once()
        config = self.settings.auth
        return {config.header: config.header_value(lease.token)}

    def params(self) -> dict[str, str]:
        """
        Take a key and return it as a query parameter; see :meth:`headers`.

        Returns:
            ``{query_param: token}``, such as ``{"api_key": "sk-..."}``.
        """
        lease = self._take_once()
        return {self.settings.auth.query_param: lease.token}

    # -- for the adapters ------------------------------------------------------

    def _new_call(self, method: str, *, replayable: bool) -> Call:
        return Call(self.pool, self.settings, method, replayable=replayable)

    def _take_first(self) -> Lease:
        return self.pool.take_key(self.settings.endpoint, self.settings.timeout)

    def _take_again(self, call: Call) -> Lease | None:
        """
        A key for another attempt of ``call``, or ``None`` to stop trying.

        Asks without waiting first; waits at most ``settings.retry_wait``
        seconds, and only when a key is expected to free by then.
        """
        endpoint = self.settings.endpoint
        try:
            return self.pool.take_key(endpoint, 0)
        except NoKeyAvailable as exc:
            if not worth_waiting(exc, self.pool, self.settings.retry_wait):
                return None
        except WouldBlockError:
            return None
        try:
            return self.pool.take_key(endpoint, self.settings.retry_wait)
        except (NoKeyAvailable, WouldBlockError):
            return None

    def _take_once(self) -> Lease:
        lease = self._take_first()
        self.pool.release(lease, sent=True)
        return lease

    def __repr__(self) -> str:
        names = ", ".join(key.name for key in self.pool.keys)
        return (
            f"SyncAuth(endpoint={self.settings.endpoint!r}, keys=[{names}], "
            f"in={self.settings.auth.in_!r})"
        )

    __str__ = __repr__
