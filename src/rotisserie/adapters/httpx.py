"""
httpx support: the auth flows of ``httpx.Client`` and ``httpx.AsyncClient``,
and the convenience clients.

How a call goes. httpx runs the auth's flow once per call: the flow takes a
key, puts the token on the request and yields it; httpx sends it (following
redirects if asked) and sends the answer back in. The flow reports it, and
after a 429 yields the same request again with another key, up to
``retry_attempts`` sends; when it stops, httpx hands the last answer to the
caller. A 401/403/429 body is read (httpx keeps it for the caller).

How every lease ends: an answer is reported when it reaches the flow. On a
transport error, or when the task is cancelled, httpx closes the flow
(``GeneratorExit``); the flow then releases the lease when the request never
left (refused connection: window slot refunded), releases it as "fate
unknown" when the caller gave up (cancelled, interrupted), and otherwise
reports a transport error (the key cools). httpx does not let an auth flow
retry a transport error.

Keys and redirects. httpx follows redirects inside one flow step and copies
every header but ``Authorization`` to the next hop, whatever the origin; a
custom header such as ``X-Api-Key`` would leak. So the token is taken back
off the request as soon as it has left: the transport reports that through
httpx's ``trace`` request extension (any event means httpcore has made its
own copy of the request), and, for transports that emit no trace events,
when the request body is read. Redirect hops therefore never carry the key.
When the redirects end back at the key's origin, the flow sends that last
hop again with a key. Taking the token off also keeps it out of httpx's
request log line, ``response.request`` and ``raise_for_status`` messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ._flow import (
    Call,
    find_error,
    origin_of,
    scrub_exception,
    set_query_param,
    wants_body,
)
from ._verbs import AsyncVerbs, Verbs

if TYPE_CHECKING:
    from .._lease import Lease
    from .async_auth import AsyncAuth
    from .sync_auth import SyncAuth

__all__ = ["AsyncHttpxClient", "SyncHttpxClient", "async_flow", "sync_flow"]

log = logging.getLogger(__name__)

# Errors raised before a request left: refused, unresolvable, no connection.
_UNSENT: tuple[type[BaseException], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)
# Errors of the exchange with the server; anything else came from the
# caller's side (a body that raised, a stream sent twice).
_TRANSPORT: tuple[type[BaseException], ...] = (httpx.TransportError, OSError)
# httpcore's trace event for request headers going out, over HTTP/1.1 or 2.
_HEADERS_SENT = ".send_request_headers.started"

Flow = Generator[httpx.Request, httpx.Response, None]
AsyncFlow = AsyncGenerator[httpx.Request, httpx.Response]


def sync_flow(auth: SyncAuth, request: httpx.Request) -> Flow:
    """
    The flow ``httpx.Client`` runs for ``request`` (``SyncAuth.sync_auth_flow``).

    Raises:
        NoKeyAvailable: no key freed within the auth's ``timeout``.
    """
    exchange = _Exchange(auth, request)
    lease = auth._take_first()
    try:
        request = exchange.begin(request, lease, asynchronous=False)
        while True:
            response = yield request
            exchange.arrived(response)
            body = None
            if exchange.wants_body(response):
                response.read()
                body = response.content
            following = exchange.next_request(response, body)
            if following is None:
                return
            next_lease = auth._take_again(exchange.call)
            if next_lease is None:
                return
            request = exchange.begin(following, next_lease, asynchronous=False)
    except GeneratorExit as stop:
        # httpx closes the flow when sending raised; the error that did it is
        # the context of the GeneratorExit.
        exchange.abort(stop.__context__)
        raise
    except BaseException as exc:
        exchange.abort(exc)
        raise


async def async_flow(auth: AsyncAuth, request: httpx.Request) -> AsyncFlow:
    """
    The flow ``httpx.AsyncClient`` runs for ``request``
    (``AsyncAuth.async_auth_flow``).

    Raises:
        NoKeyAvailable: no key freed within the auth's ``timeout``.
    """
    exchange = _Exchange(auth, request)
    lease = await auth._take_first()
    try:
        request = exchange.begin(request, lease, asynchronous=True)
        while True:
            response = yield request
            exchange.arrived(response)
            body = None
            if exchange.wants_body(response):
                await response.aread()
                body = response.content
            following = exchange.next_request(response, body)
            if following is None:
                return
            next_lease = await auth._take_again(exchange.call)
            if next_lease is None:
                return
            request = exchange.begin(following, next_lease, asynchronous=True)
    except GeneratorExit:
        # An async generator closed by httpx does not see the error that made
        # httpx close it; a cancelled task is told apart by its state.
        exchange.abort(None, cancelled=_cancelling())
        raise
    except BaseException as exc:
        exchange.abort(exc)
        raise


def _cancelling() -> bool:
    task = asyncio.current_task()
    # Task.cancelling() is Python 3.11+; before it a cancellation counts as a
    # transport error.
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling is not None and cancelling())


class _Placed:
    """
    One attempt's token on one request, and taking it back off.

    Restores the URL and the header the request had before, so the request
    httpx keeps (and copies for a redirect hop) carries no key.
    """

    def __init__(
        self, request: httpx.Request, in_: str, header: str, call: Call
    ) -> None:
        self.request = request
        self.call = call
        self.url = request.url
        self.header = header
        self.header_value = request.headers.get(header) if in_ == "header" else None
        self.in_ = in_
        #: Whether the request may have left (headers on the wire).
        self.sent = False
        #: Whether reading the caller's body raised.
        self.body_failed = False
        self._off = False

    def on_trace(self, event: str) -> None:
        if event.endswith(_HEADERS_SENT) and not self.sent:
            self.sent = True
            self.call.sent()
        self.take_off()

    def on_body(self) -> None:
        self.sent = True
        self.take_off()

    def take_off(self) -> None:
        if self._off:
            return
        self._off = True
        request = self.request
        if self.in_ == "query":
            request.url = self.url
        elif self.header_value is None:
            request.headers.pop(self.header, None)
        else:
            request.headers[self.header] = self.header_value


class _Exchange:
    """One httpx call through an auth: its attempts and where its key may go."""

    def __init__(self, auth: SyncAuth | AsyncAuth, request: httpx.Request) -> None:
        self._config = auth.settings.auth
        self.call: Call = auth._new_call(
            request.method, replayable=_replayable(request)
        )
        self._origin = origin_of(str(request.url))
        # The caller's own trace callback, called from ours.
        # (A request sent again by hand still holds an earlier tracer of ours.)
        trace = request.extensions.get("trace")
        self._user_trace = trace.user if isinstance(trace, _TraceBase) else trace
        self._request = request
        self._placed: _Placed | None = None

    def begin(
        self, request: httpx.Request, lease: Lease, *, asynchronous: bool
    ) -> httpx.Request:
        """Put ``lease``'s token on ``request`` and watch for it leaving."""
        self.call.begin(lease)
        config = self._config
        placed = _Placed(request, config.in_, config.header, self.call)
        if config.in_ == "query":
            url = set_query_param(str(request.url), config.query_param, lease.token)
            request.url = httpx.URL(url)
        else:
            request.headers[config.header] = config.header_value(lease.token)
        request.stream = _watch(_unwatched(request.stream), placed)
        tracer = _AsyncTracer if asynchronous else _Tracer
        trace = tracer(placed, self._user_trace)
        request.extensions = {**request.extensions, "trace": trace}
        self._request = request
        self._placed = placed
        return request

    def arrived(self, response: httpx.Response) -> None:
        """An answer came back: the token must be off the request by now."""
        if self._placed is not None:
            self._placed.take_off()

    def wants_body(self, response: httpx.Response) -> bool:
        """Whether to read the answer's body for the pool."""
        own = response.request is self._request
        return own and wants_body(
            response.status_code, response.headers.get("content-length")
        )

    def next_request(
        self, response: httpx.Response, body: bytes | None
    ) -> httpx.Request | None:
        """
        Report the answer; return the request to send next, if any.

        That is the same request after a 429 (on another key), or the last
        redirect hop when httpx followed redirects back to the key's origin.
        """
        own = self._own_answer(response)
        again = self.call.answered(
            own.status_code, own.headers, body if own is response else None
        )
        if again and own is response:
            return self._request
        if own is response or origin_of(str(response.url)) != self._origin:
            return None
        # httpx followed redirects and ended at the key's origin, where the
        # last hop arrived without the key: send that hop with one.
        hop = response.request
        self.call.replayable = _replayable(hop)
        if not self.call.may_follow():
            return None
        log.debug(
            "redirects led back to the key's origin; sending the last hop with a key"
        )
        return hop

    def abort(self, error: BaseException | None, *, cancelled: bool = False) -> None:
        """End the attempt after ``error`` (or an unknown failure)."""
        placed = self._placed
        if placed is not None:
            placed.take_off()
        if error is not None:
            scrub_exception(error, self.call.tokens())
        if not self.call.active:
            return
        body_failed = placed is not None and placed.body_failed
        if body_failed or (error is not None and _callers_fault(error)):
            # The caller's body (or code) raised: nothing is known of the key.
            self.call.abandon()
            return
        sent = placed is not None and placed.sent
        if error is not None and not sent:
            # A transport that emits no trace events: judge by the error.
            sent = not find_error(error, _UNSENT)
        self.call.failed(error, sent=sent, cancelled=cancelled)

    def _own_answer(self, response: httpx.Response) -> httpx.Response:
        # The answer this attempt's key got: the response itself, or, when
        # httpx followed redirects, the first hop. History also holds earlier
        # attempts of the same request object, so search from the end.
        if response.request is self._request:
            return response
        for earlier in reversed(response.history):
            if earlier.request is self._request:
                return earlier
        return response


def _callers_fault(error: BaseException) -> bool:
    return isinstance(error, Exception) and not isinstance(error, _TRANSPORT)


def _replayable(request: httpx.Request) -> bool:
    # Bytes (and no body) are a ByteStream; a generator or file is consumed
    # by the first send and would go out empty.
    return isinstance(_unwatched(request.stream), httpx.ByteStream)


class _TraceBase:
    """
    The ``trace`` extension of one attempt: httpcore calls it with each
    event of the request, which tells that the request is on its way.
    A trace callback the caller had set is called too.
    """

    def __init__(self, placed: _Placed, user: Any) -> None:
        self.placed = placed
        self.user = user


class _Tracer(_TraceBase):
    """For ``httpx.Client``."""

    def __call__(self, event_name: str, info: dict[str, Any]) -> None:
        self.placed.on_trace(event_name)
        if self.user is not None:
            self.user(event_name, info)


class _AsyncTracer(_TraceBase):
    """For ``httpx.AsyncClient``, whose transport awaits the callback."""

    async def __call__(self, event_name: str, info: dict[str, Any]) -> None:
        self.placed.on_trace(event_name)
        if self.user is not None:
            await self.user(event_name, info)


# -- watching the body ---------------------------------------------------------

AnyStream = httpx.SyncByteStream | httpx.AsyncByteStream


class _SyncWatch(httpx.SyncByteStream):
    """A request body that says when the transport starts reading it."""

    def __init__(self, inner: AnyStream, placed: _Placed) -> None:
        self.inner = inner
        self._placed = placed

    def __iter__(self) -> Iterator[bytes]:
        assert isinstance(self.inner, httpx.SyncByteStream)
        self._placed.on_body()
        try:
            yield from self.inner
        except Exception:
            self._placed.body_failed = True
            raise

    def close(self) -> None:
        if isinstance(self.inner, httpx.SyncByteStream):
            self.inner.close()


class _AsyncWatch(httpx.AsyncByteStream):
    """The async twin of :class:`_SyncWatch`."""

    def __init__(self, inner: AnyStream, placed: _Placed) -> None:
        self.inner = inner
        self._placed = placed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self.inner, httpx.AsyncByteStream)
        self._placed.on_body()
        try:
            async for chunk in self.inner:
                yield chunk
        except Exception:
            self._placed.body_failed = True
            raise

    async def aclose(self) -> None:
        if isinstance(self.inner, httpx.AsyncByteStream):
            await self.inner.aclose()


class _BothWatch(_SyncWatch, _AsyncWatch):
    """For bodies both clients can send (bytes)."""


def _watch(inner: AnyStream, placed: _Placed) -> AnyStream:
    # Keep the body's kind: a sync-only body must still be refused by
    # httpx.AsyncClient with httpx's own error, and the reverse.
    is_sync = isinstance(inner, httpx.SyncByteStream)
    is_async = isinstance(inner, httpx.AsyncByteStream)
    if is_sync and is_async:
        return _BothWatch(inner, placed)
    if is_async:
        return _AsyncWatch(inner, placed)
    return _SyncWatch(inner, placed)


def _unwatched(stream: AnyStream) -> AnyStream:
    while isinstance(stream, (_SyncWatch, _AsyncWatch)):
        stream = stream.inner
    return stream


# -- convenience clients -------------------------------------------------------


class SyncHttpxClient(Verbs[httpx.Response]):
    """
    A ``with`` block owning an ``httpx.Client`` that sends every request
    with a key from the pool; made by :meth:`KeyPool.httpx_client`.

    .. versionadded:: 0.2.0
    """

    def __init__(self, auth: SyncAuth) -> None:
        self.auth = auth
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        """
        The ``httpx.Client``.

        Raises:
            RuntimeError: the block is not open.
        """
        if self._client is None:
            raise RuntimeError("SyncHttpxClient is not open; use it in a with block")
        return self._client

    def __enter__(self) -> SyncHttpxClient:
        self.auth.__enter__()
        try:
            self._client = httpx.Client(auth=self.auth)
        except BaseException as exc:
            self.auth.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        try:
            if client is not None:
                client.close()
        finally:
            self.auth.__exit__(exc_type, exc, tb)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request; takes the arguments of ``httpx.Client.request``."""
        return self.client.request(method, url, **kwargs)

    def __repr__(self) -> str:
        return f"SyncHttpxClient({self.auth!r}, open={self._client is not None})"


class AsyncHttpxClient(AsyncVerbs[httpx.Response]):
    """
    An ``async with`` block owning an ``httpx.AsyncClient`` that sends every
    request with a key from the pool; made by
    :meth:`AsyncKeyPool.httpx_client`.

    .. versionadded:: 0.2.0
    """

    def __init__(self, auth: AsyncAuth) -> None:
        self.auth = auth
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """
        The ``httpx.AsyncClient``.

        Raises:
            RuntimeError: the block is not open.
        """
        if self._client is None:
            raise RuntimeError(
                "AsyncHttpxClient is not open; use it in an async with block"
            )
        return self._client

    async def __aenter__(self) -> AsyncHttpxClient:
        await self.auth.__aenter__()
        try:
            self._client = httpx.AsyncClient(auth=self.auth)
        except BaseException as exc:
            await self.auth.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        try:
            if client is not None:
                await client.aclose()
        finally:
            await self.auth.__aexit__(exc_type, exc, tb)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request; takes the arguments of ``httpx.AsyncClient.request``."""
        return await self.client.request(method, url, **kwargs)

    def __repr__(self) -> str:
        return f"AsyncHttpxClient({self.auth!r}, open={self._client is not None})"
