"""
``requests`` support: the auth's callable, its response hook, and
:class:`RequestsClient`.

How a call goes. requests calls the auth on the prepared request: it takes
a key, puts the token on the request and registers an :class:`Exchange` as
the request's response hook. The hook sees the first answer before requests
reads the body or follows a redirect. It reports the answer; after a 429 it
takes another key, puts it on the same request and sends it again through
the adapter that sent the first (``response.connection``), up to
``retry_attempts`` sends; when it stops, the caller gets the last answer.

How every lease ends:

- an answer: the hook reports it (status, headers, and for 401/403/429 the
  start of the body);
- a send that raises inside the hook's loop: reported as a transport error
  (the key cools), or released when the connection was refused;
- a first send that raises: requests calls no hook, so nothing in the auth
  hears of it. With a mounted session (:meth:`SyncAuth.mount`, done by
  :class:`RequestsClient`) the adapter wrapper reports it at once, retries it
  when allowed and masks it. Without, the lease is released as "fate
  unknown" by whichever comes first: the next request of the same auth on
  the same thread, the end of the auth's block, or the prepared request
  being collected (urllib3's error holds it in a reference cycle, so that is
  the next garbage collection; see :class:`_Reaper`). Such an error is not
  masked either: it never passes through rotisserie.

Redirects: the hook strips the key from a request whose answer redirects to
another origin, before requests copies it for the next hop; hooks are shared
by those copies, so every hop is checked. A hop that comes back to the key's
origin without the key (a query key never follows a redirect, as requests
replaces the URL; a header key is gone after a hop elsewhere) is sent again
with one, within ``retry_attempts``.
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import BaseAdapter
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from ._flow import (
    drop_query_param,
    find_error,
    origin_of,
    redirect_origin,
    scrub_exception,
    set_query_param,
    wants_body,
)
from ._verbs import Verbs

if TYPE_CHECKING:
    from .._lease import Lease
    from .sync_auth import SyncAuth

__all__ = ["Exchange", "RequestsClient", "attach", "mount"]

log = logging.getLogger(__name__)

# Errors raised before a request left: refused, unresolvable, connect timeout.
_UNSENT: tuple[type[BaseException], ...] = (
    NewConnectionError,
    ConnectTimeoutError,
    requests.exceptions.ConnectTimeout,
)

# Errors of the exchange with the server; anything else (a request body that
# raised, say) came from the caller's side and says nothing about the key.
_TRANSPORT: tuple[type[BaseException], ...] = (
    requests.RequestException,
    HTTPError,
    OSError,
)

Send = Callable[[], requests.Response]


def attach(
    auth: SyncAuth, request: requests.PreparedRequest
) -> requests.PreparedRequest:
    """
    Put a key on ``request`` and hook its answer; what ``SyncAuth()`` does.

    Raises:
        NoKeyAvailable: no key freed within the auth's ``timeout``.
    """
    _end_stale(auth)
    exchange = Exchange(auth, request)
    exchange.start(request, auth._take_first())
    # requests calls response hooks before it reads the body or follows a
    # redirect; copies made for redirect hops share this list.
    request.hooks["response"].append(exchange)
    return request


def _end_stale(auth: SyncAuth) -> None:
    # requests runs one call at a time per thread, so a call of this auth on
    # this thread that still holds its lease never got an answer: its send
    # raised, and requests said nothing.
    stale: Exchange | None = getattr(auth._local, "exchange", None)
    if stale is not None:
        auth._local.exchange = None
        stale.abandon()


class Exchange:
    """
    One requests call through a :class:`SyncAuth`: its attempts and its hook.

    requests calls it as the response hook. It holds no reference to the
    request, so the request can be collected (which ends a lease left
    behind by a failed send).
    """

    def __init__(self, auth: SyncAuth, request: requests.PreparedRequest) -> None:
        self._auth = auth
        self._config = auth.settings.auth
        self.call = auth._new_call(
            request.method or "GET", replayable=_replayable(request.body)
        )
        url = request.url or ""
        self._origin = origin_of(url)
        # What the request carried before the token, to restore when the key
        # must not go on with it.
        self._header_value = request.headers.get(self._config.header)
        self._done = False
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def start(self, request: requests.PreparedRequest, lease: Lease) -> None:
        """Put the first key on ``request``; arrange for a lease left behind."""
        self._place(request, lease)
        auth = self._auth
        auth._local.exchange = self
        auth._pending.add(self)
        self._finalizer = _REAPER.watch(request, self)

    # -- what requests calls ---------------------------------------------------

    def __call__(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """The response hook: report, send again if wanted, guard redirects."""
        request = response.request
        adapter = response.connection

        def send() -> requests.Response:
            sent: requests.Response = adapter.send(request, **kwargs)
            return sent

        if not self._done:
            return self.settle(response, request, send)
        # A later redirect hop: hooks are shared with the hop's copy.
        if self._lacks_key(request):
            return self._follow(response, request, send)
        self._guard(response)
        return response

    def recover(
        self, error: Exception, request: requests.PreparedRequest, send: Send
    ) -> requests.Response:
        """
        Handle a send that raised (called by a mounted adapter).

        Returns:
            The answer of a later attempt.

        Raises:
            Exception: ``error``, masked, when no other attempt is made.
        """
        if self._done:
            scrub_exception(error, self.call.tokens())
            raise error
        return self.settle(error, request, send)

    def abandon(self) -> None:
        """End the lease of an attempt whose fate is unknown."""
        self._finish()
        self.call.abandon()

    # -- the attempts loop -----------------------------------------------------

    def settle(
        self,
        outcome: requests.Response | Exception,
        request: requests.PreparedRequest,
        send: Send,
    ) -> requests.Response:
        """
        Report ``outcome`` and send again on another key while that is wanted.

        Returns:
            The answer to give the caller.

        Raises:
            Exception: the last transport error, masked.
        """
        while True:
            step = self._conclude(outcome)
            if isinstance(step, requests.Response):
                return step
            outcome = self._send(request, step, send)

    def _conclude(
        self, outcome: requests.Response | Exception
    ) -> requests.Response | Lease:
        """Report ``outcome``; return the final answer or the next attempt's key."""
        call = self.call
        if isinstance(outcome, requests.Response):
            response = outcome
            try:
                body = _body(response)
            except Exception as exc:  # the answer broke off while read
                response.close()
                return self._conclude(exc)
            again = call.answered(response.status_code, response.headers, body)
            lease = self._next_lease(again, response)
            if lease is None:
                self._finish()
                self._guard(response)
                return response
            response.close()
            return lease
        error = outcome
        scrub_exception(error, call.tokens())
        if not find_error(error, _TRANSPORT):
            call.abandon()
            self._finish()
            raise error
        again = call.failed(error, sent=not find_error(error, _UNSENT))
        lease = self._next_lease(again, None)
        if lease is None:
            self._finish()
            raise error
        return lease

    def _send(
        self, request: requests.PreparedRequest, lease: Lease, send: Send
    ) -> requests.Response | Exception:
        self._place(request, lease)
        try:
            return send()
        except Exception as exc:
            return exc
        except BaseException as exc:
            self.call.failed(exc, sent=True)
            self._finish()
            raise

    def _follow(
        self, response: requests.Response, request: requests.PreparedRequest, send: Send
    ) -> requests.Response:
        """Send a redirect hop that came back to the key's origin with a key."""
        call = self.call
        call.replayable = _replayable(request.body)
        lease = self._next_lease(call.may_follow(), response)
        if lease is None:
            self._guard(response)
            return response
        log.debug("redirect back to the key's origin: sending the hop with a key")
        response.close()
        return self.settle(self._send(request, lease, send), request, send)

    def _next_lease(
        self, again: bool, response: requests.Response | None
    ) -> Lease | None:
        if not again:
            return None
        try:
            return self._auth._take_again(self.call)
        except BaseException:
            if response is not None:
                response.close()
            self._finish()
            raise

    def _finish(self) -> None:
        self._done = True
        auth = self._auth
        auth._pending.discard(self)
        if getattr(auth._local, "exchange", None) is self:
            auth._local.exchange = None
        if self._finalizer is not None:
            self._finalizer.detach()

    # -- the token -------------------------------------------------------------

    def _place(self, request: requests.PreparedRequest, lease: Lease) -> None:
        self.call.begin(lease)
        config = self._config
        if config.in_ == "header":
            request.headers[config.header] = config.header_value(lease.token)
        else:
            request.url = set_query_param(
                request.url or "", config.query_param, lease.token
            )
        # requests sends right after the auth has placed the token.
        self.call.sent()

    def _guard(self, response: requests.Response) -> None:
        """Strip the key from a request redirected to another origin."""
        if not response.is_redirect:
            return
        location = response.headers["location"]
        if redirect_origin(response.url, location) == self._origin:
            return
        request = response.request
        config = self._config
        if self._header_value is None:
            request.headers.pop(config.header, None)
        else:
            request.headers[config.header] = self._header_value
        request.url = drop_query_param(request.url or "", config.query_param)
        log.debug("redirect to another origin: key removed from the request")

    def _lacks_key(self, request: requests.PreparedRequest) -> bool:
        """Whether a hop at the key's origin goes without the key."""
        url = request.url or ""
        if origin_of(url) != self._origin:
            return False
        config = self._config
        if config.in_ == "header":
            value = request.headers.get(config.header)
            return value is None or value == self._header_value
        return url == drop_query_param(url, config.query_param)

    def __repr__(self) -> str:
        return f"Exchange({self.call!r}, done={self._done})"


class _Reaper:
    """
    Ends the leases of requests that were collected without an answer.

    A ``weakref.finalize`` callback runs inside garbage collection, maybe
    while this very thread holds the pool's lock, so it must not call the
    pool. It only puts the exchange on a ``SimpleQueue`` (whose ``put`` is
    safe there) and one daemon thread, started on first use, ends the lease.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Exchange] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(
        self, request: requests.PreparedRequest, exchange: Exchange
    ) -> weakref.finalize[Any, Any]:
        """Arrange for ``exchange`` to be abandoned when ``request`` is collected."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="rotisserie-requests-reaper", daemon=True
                )
                self._thread.start()
        finalizer = weakref.finalize(request, self._queue.put, exchange)
        finalizer.atexit = False
        return finalizer

    def _run(self) -> None:
        while True:
            exchange = self._queue.get()
            try:
                exchange.abandon()
            except Exception:  # a background thread has nobody to raise to
                log.warning(
                    "could not end the lease of a collected request", exc_info=True
                )


_REAPER = _Reaper()


def _replayable(body: object) -> bool:
    # A generator, iterator or file is consumed by the first send; sending
    # it again would send nothing (or a partial body).
    return body is None or isinstance(body, (bytes, str))


def _body(response: requests.Response) -> bytes | None:
    if not wants_body(response.status_code, response.headers.get("content-length")):
        return None
    # Read whole (and so kept for the caller); the connection goes back to
    # the pool once the body is read.
    return response.content


# -- failed sends: a mounted adapter -------------------------------------------


class GuardedAdapter(BaseAdapter):
    """
    Wraps a session's adapter so that failed sends reach the pool at once.

    Mounted by :meth:`SyncAuth.mount`; delegates everything to ``inner``.
    """

    def __init__(self, inner: BaseAdapter) -> None:
        super().__init__()
        self.inner = inner

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send through ``inner``; a failure goes to the request's exchange."""
        kwargs: dict[str, Any] = {
            "stream": stream,
            "timeout": timeout,
            "verify": verify,
            "cert": cert,
            "proxies": proxies,
        }

        def again() -> requests.Response:
            return self.inner.send(request, **kwargs)

        try:
            return again()
        except Exception as exc:
            exchange = _exchange_of(request)
            if exchange is None:
                raise
            return exchange.recover(exc, request, again)

    def close(self) -> None:
        """Close ``inner``."""
        self.inner.close()

    def __repr__(self) -> str:
        return f"GuardedAdapter({self.inner!r})"


def _exchange_of(request: requests.PreparedRequest) -> Exchange | None:
    hooks = request.hooks.get("response") or []
    return next((h for h in hooks if isinstance(h, Exchange)), None)


def mount(session: requests.Session) -> None:
    """Wrap ``session``'s http and https adapters in :class:`GuardedAdapter`."""
    for prefix in ("https://", "http://"):
        adapter = session.get_adapter(prefix)
        if not isinstance(adapter, GuardedAdapter):
            session.mount(prefix, GuardedAdapter(adapter))


# -- the convenience client ----------------------------------------------------


class RequestsClient(Verbs[requests.Response]):
    """
    A ``with`` block owning a ``requests.Session`` that sends every request
    with a key from the pool.

    Made by :meth:`KeyPool.requests_client`; the session's adapters are
    mounted (:meth:`SyncAuth.mount`), so failed sends are reported at once::

        with pool.requests_client(endpoint="users", reserve=2) as client:
            r = client.get("https://api.example.com/users")

    .. versionadded:: 0.2.0
    """

    def __init__(self, auth: SyncAuth) -> None:
        self.auth = auth
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        """
        The session, for settings such as default headers.

        Raises:
            RuntimeError: the block is not open.
        """
        if self._session is None:
            raise RuntimeError("RequestsClient is not open; use it in a with block")
        return self._session

    def __enter__(self) -> RequestsClient:
        self.auth.__enter__()
        try:
            session = requests.Session()
            session.auth = self.auth
            self.auth.mount(session)
        except BaseException as exc:
            self.auth.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._session = session
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        try:
            if session is not None:
                session.close()
        finally:
            self.auth.__exit__(exc_type, exc, tb)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send a request; takes the arguments of ``requests.Session.request``."""
        return self.session.request(method, url, **kwargs)

    def __repr__(self) -> str:
        return f"RequestsClient({self.auth!r}, open={self._session is not None})"
