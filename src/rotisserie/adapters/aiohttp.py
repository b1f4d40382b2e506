"""
aiohttp support: the client middleware, the trace config, the request
helpers and :class:`AiohttpClient`.

The middleware (aiohttp 3.12+) is the complete integration. aiohttp calls it
for every hop of a request, redirects included, with that hop's own
``ClientRequest``. It takes a key, puts the token on the request and awaits
the handler; it reports the answer (reading a 401/403/429 body, which aiohttp
keeps for the caller) and after a 429 sends the same request again with
another key, up to ``retry_attempts`` sends. A transport error of a request
that may have left is reported (the key cools) and, when the method and body
allow, retried; a refused connection releases the lease and is raised at
once; a cancelled task releases it as "fate unknown".

Redirects. When the middleware hands aiohttp a redirect, it notes in a
context variable of the task where the redirect leads and which origin the
key is for; the next hop the task sends to that place is a redirect hop,
and gets a key only when it is back on the key's origin. (So a request sent
by hand, with ``allow_redirects=False``, to the origin of the redirect just
received is treated as that hop: it goes without a key unless it is on the
key's origin.)

The trace config is the fallback for sessions made without the middleware:
it puts the key in the request's header list at the start, reports the
first answer or error, and takes the header off when a redirect leaves the
origin. It cannot send a request again or change the URL.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace, TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.payload import BytesPayload
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .._redact import scrub
from ..errors import ConfigError
from ._flow import (
    Call,
    Origin,
    find_error,
    origin_of,
    redirect_origin,
    scrub_exception,
    set_query_param,
    wants_body,
)
from ._verbs import Verbs

if TYPE_CHECKING:
    from aiohttp.client import _RequestContextManager

    from .._config import AuthConfig
    from .async_auth import AsyncAuth

__all__ = [
    "AiohttpClient",
    "middleware",
    "request",
    "trace_config",
    "unwrap_session",
    "wrap_session",
]

log = logging.getLogger(__name__)

# Errors raised before a request left: refused, unresolvable, connect timeout.
_UNSENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
)
# Errors of the exchange with the server. Any other error says nothing about
# the key; that includes the connection error aiohttp raises when the
# caller's body raised (the body's error is then its cause).
_TRANSPORT: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,
    HttpProcessingError,
    OSError,
    asyncio.TimeoutError,
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class _Redirect:
    """A redirect the middleware handed to aiohttp, awaiting its next hop."""

    auth: AsyncAuth
    target: Origin
    key_origin: Origin


# Per task: the redirect whose next hop the middleware should recognise.
_REDIRECT: contextvars.ContextVar[_Redirect | None] = contextvars.ContextVar(
    "rotisserie_redirect", default=None
)


# -- the middleware ------------------------------------------------------------


async def middleware(
    auth: AsyncAuth, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """Send one hop of a request; what ``AsyncAuth.middleware`` runs."""
    here = origin_of(str(request.url))
    key_origin = _key_origin(auth, here)
    if here == key_origin:
        response = await _send(auth, request, handler)
    else:
        # A redirect hop that left the key's origin: no key.
        response = await handler(request)
    location = response.headers.get("Location")
    if response.status in _REDIRECTS and location:
        target = redirect_origin(str(response.url), location)
        _REDIRECT.set(_Redirect(auth, target, key_origin))
    return response


def _key_origin(auth: AsyncAuth, here: Origin) -> Origin:
    pending = _REDIRECT.get()
    if pending is None or pending.auth is not auth:
        return here
    _REDIRECT.set(None)
    return pending.key_origin if pending.target == here else here


async def _send(
    auth: AsyncAuth, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    call = auth._new_call(request.method, replayable=_replayable(request))
    placed = _Placed(request, auth.settings.auth)
    lease = await auth._take_first()
    while True:
        call.begin(lease)
        placed.put(lease.token)
        try:
            try:
                call.sent()
                response = await handler(request)
            finally:
                placed.take_off()
            body = await _body(response)
        except BaseException as exc:
            scrub_exception(exc, call.tokens())
            if _callers_fault(exc):
                call.abandon()
                raise
            again = call.failed(exc, sent=not find_error(exc, _UNSENT))
            if not (again and _replayable(request)):
                raise
            next_lease = await auth._take_again(call)
            if next_lease is None:
                raise
            lease = next_lease
            continue
        if not call.answered(response.status, response.headers, body):
            return response
        try:
            next_lease = await auth._take_again(call)
        except BaseException:
            response.close()
            raise
        if next_lease is None:
            return response
        response.release()
        lease = next_lease


class _Placed:
    """
    The token on one ``ClientRequest``, and taking it back off.

    The answer's ``request_info`` is a live view of the request's headers,
    so taking the header off once the answer is in keeps the key out of
    ``response.request_info`` and the ``repr`` of ``ClientResponseError``.
    """

    def __init__(self, request: aiohttp.ClientRequest, config: AuthConfig) -> None:
        self._request = request
        self._config = config
        self._url = request.url
        self._header_value = request.headers.get(config.header)

    def put(self, token: str) -> None:
        config = self._config
        if config.in_ == "header":
            self._request.headers[config.header] = config.header_value(token)
        else:
            url = set_query_param(str(self._url), config.query_param, token)
            self._request.url = URL(url, encoded=True)

    def take_off(self) -> None:
        config = self._config
        if config.in_ == "query":
            self._request.url = self._url
            return
        headers = self._request.headers
        headers.popall(config.header, None)
        if self._header_value is not None:
            headers[config.header] = self._header_value


def _callers_fault(error: BaseException) -> bool:
    if not isinstance(error, Exception):
        return False  # an interruption, handled as such
    cause = error.__cause__
    if isinstance(cause, Exception) and not isinstance(cause, _TRANSPORT):
        return True
    return not isinstance(error, _TRANSPORT)


def _replayable(request: aiohttp.ClientRequest) -> bool:
    # Bytes, text and JSON bodies can be written again; a stream or an async
    # generator is consumed by the first send.
    body = request.body
    if isinstance(body, BytesPayload):
        return not body.consumed
    return body == b""


async def _body(response: aiohttp.ClientResponse) -> bytes | None:
    if not wants_body(response.status, response.headers.get("Content-Length")):
        return None
    try:
        return await response.read()
    except BaseException:
        response.close()
        raise


# -- the trace config ----------------------------------------------------------


def trace_config(auth: AsyncAuth) -> aiohttp.TraceConfig:
    """
    A trace config that puts a key in a header; see ``AsyncAuth.trace_config``.

    Raises:
        ConfigError: the auth puts the token in the query.
    """
    if auth.settings.auth.in_ != "header":
        raise ConfigError(
            "auth_in",
            "an aiohttp trace config can set a header but cannot change the URL; "
            "use ClientSession(middlewares=(auth.middleware,)) to send the key in "
            "the query",
        )
    tracer = _Tracer(auth)
    config = aiohttp.TraceConfig()
    config.on_request_start.append(tracer.on_start)
    config.on_request_redirect.append(tracer.on_redirect)
    config.on_request_end.append(tracer.on_end)
    config.on_request_exception.append(tracer.on_exception)
    return config


@dataclass
class _Traced:
    """What a trace config keeps about one request, in its trace context."""

    call: Call
    origin: Origin
    header_value: str | None


class _Tracer:
    """The trace callbacks of one auth."""

    def __init__(self, auth: AsyncAuth) -> None:
        self._auth = auth
        self._config = auth.settings.auth

    async def on_start(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        context.rotisserie = None
        if self._auth._wraps(session):
            return  # the middleware does the work
        # A trace cannot send again, so nothing is retried.
        call = self._auth._new_call(params.method, replayable=False)
        header = self._config.header
        previous = params.headers.get(header)
        call.begin(await self._auth._take_first())
        assert call.lease is not None
        params.headers[header] = self._config.header_value(call.lease.token)
        context.rotisserie = _Traced(call, origin_of(str(params.url)), previous)

    async def on_redirect(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestRedirectParams,
    ) -> None:
        traced: _Traced | None = context.rotisserie
        if traced is None:
            return
        response = params.response
        if traced.call.active:
            traced.call.answered(response.status, response.headers, None)
        location = response.headers.get("Location")
        if location and redirect_origin(str(params.url), location) != traced.origin:
            # The next hop is built from this header list: take the key off.
            header = self._config.header
            params.headers.popall(header, None)
            if traced.header_value is not None:
                params.headers[header] = traced.header_value

    async def on_end(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        traced: _Traced | None = context.rotisserie
        if traced is None or not traced.call.active:
            return
        response = params.response
        try:
            body = await _body(response)
        except Exception as exc:
            traced.call.failed(exc, sent=True)
            scrub_exception(exc, traced.call.tokens())
            raise
        traced.call.answered(response.status, response.headers, body)

    async def on_exception(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        traced: _Traced | None = context.rotisserie
        if traced is None:
            return
        error = params.exception
        scrub_exception(error, traced.call.tokens())
        _mask_request_info(error, traced.call.tokens())
        if not traced.call.active:
            return
        if isinstance(error, aiohttp.ClientResponseError) and error.status:
            # raise_for_status turned an answer into an error: report the answer.
            headers: Mapping[str, str] | None = error.headers
            traced.call.answered(error.status, headers, None)
            return
        if _callers_fault(error):
            traced.call.abandon()
            return
        traced.call.failed(error, sent=not find_error(error, _UNSENT))

    def __repr__(self) -> str:
        return f"_Tracer({self._auth!r})"


def _mask_request_info(error: BaseException, secrets: list[str]) -> None:
    # A trace cannot take the header off the request, and the error's
    # request_info shows the headers as sent; give the error a masked copy.
    if not isinstance(error, aiohttp.ClientResponseError):
        return
    info = error.request_info
    masked = CIMultiDict((k, scrub(v, secrets)) for k, v in info.headers.items())
    error.request_info = aiohttp.RequestInfo(
        info.url, info.method, CIMultiDictProxy(masked), info.real_url
    )
    error.args = (error.request_info, *error.args[1:])


# -- sessions ------------------------------------------------------------------


def wrap_session(auth: AsyncAuth, session: aiohttp.ClientSession) -> None:
    """Add ``auth.middleware`` to ``session``; see ``AsyncAuth.wrap_session``."""
    current = getattr(session, "_middlewares", None)
    if current is None:
        raise NotImplementedError(
            "wrap_session needs aiohttp 3.12 or later (client middlewares)"
        )
    if auth.middleware not in current:
        # aiohttp offers no public way to add a middleware to a live session;
        # this attribute is what it reads on every request.
        session._middlewares = (*current, auth.middleware)
    auth._wrapped.add(session)


def unwrap_session(auth: AsyncAuth, session: aiohttp.ClientSession) -> None:
    """Take ``auth.middleware`` off a session :func:`wrap_session` changed."""
    current = getattr(session, "_middlewares", ())
    session._middlewares = tuple(m for m in current if m is not auth.middleware)
    auth._wrapped.discard(session)


def request(
    auth: AsyncAuth,
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    **kwargs: Any,
) -> _RequestContextManager:
    """Send through ``session`` with ``auth``'s middleware; see ``AsyncAuth.request``."""
    given = kwargs.pop("middlewares", None)
    # aiohttp's per-request middlewares replace the session's; keep those
    # (aiohttp has no public reader for them) and add ours once.
    chain = tuple(given if given is not None else getattr(session, "_middlewares", ()))
    if auth.middleware not in chain:
        chain = (*chain, auth.middleware)
    return session.request(method, url, middlewares=chain, **kwargs)


# -- the convenience client ----------------------------------------------------


class AiohttpClient(Verbs["_RequestContextManager"]):
    """
    An ``async with`` block owning an ``aiohttp.ClientSession`` whose
    requests carry keys from the pool (through :attr:`AsyncAuth.middleware`);
    made by :meth:`AsyncKeyPool.aiohttp_client`::

        async with apool.aiohttp_client(endpoint="events") as client:
            async with client.get(url) as resp:
                print(resp.status)

    .. versionadded:: 0.2.0
    """

    def __init__(self, auth: AsyncAuth) -> None:
        self.auth = auth
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """
        The session.

        Raises:
            RuntimeError: the block is not open.
        """
        if self._session is None:
            raise RuntimeError(
                "AiohttpClient is not open; use it in an async with block"
            )
        return self._session

    async def __aenter__(self) -> AiohttpClient:
        await self.auth.__aenter__()
        try:
            self._session = aiohttp.ClientSession(middlewares=(self.auth.middleware,))
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
        session, self._session = self._session, None
        try:
            if session is not None:
                await session.close()
        finally:
            await self.auth.__aexit__(exc_type, exc, tb)

    def request(self, method: str, url: str, **kwargs: Any) -> _RequestContextManager:
        """Send a request; use as ``async with client.request(...) as resp``."""
        return self.session.request(method, url, **kwargs)

    def __repr__(self) -> str:
        return f"AiohttpClient({self.auth!r}, open={self._session is not None})"
