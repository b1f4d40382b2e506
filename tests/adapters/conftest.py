"""
Servers and helpers for the adapter tests.

The vendor simulator (``rotisserie_simulator``) covers ordinary traffic. The
small servers here answer what it does not: canned answers per key, a
redirect to a collector, answers that break off, slow handlers. Each runs an
``aiohttp.web`` app on 127.0.0.1, port 0, on its own thread and loop, so the
sync and the async clients can both use it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from rotisserie import AsyncKeyPool, KeyConfig, KeyPool
from rotisserie.testing import Limit, SimulatedKey

#: Tokens long and odd enough that finding one in a text is no accident.
TOKENS = {"k1": "tok-alpha-9f8e7d6c5b4a", "k2": "tok-bravo-1a2b3c4d5e6f"}

#: The longest any single request in these tests should take, in seconds.
PROMPT = 1.0


def configs(per_window: tuple[int, float] | None = None) -> list[KeyConfig]:
    """KeyConfigs for both test keys, with the same known limit."""
    return [
        KeyConfig(name, token, per_window=per_window) for name, token in TOKENS.items()
    ]


def name_of(token: str | None) -> str | None:
    """The key name of a test token."""
    return next((n for n, t in TOKENS.items() if t == token), None)


@dataclass
class Seen:
    """One request as a test server received it."""

    index: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = field(repr=False)

    @property
    def token(self) -> str | None:
        """The token the request carried, in any of the usual places."""
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:]
        return self.headers.get("x-api-key") or self.query.get("api_key")

    @property
    def key(self) -> str | None:
        """The key name of :attr:`token`."""
        return name_of(self.token)


Handler = Callable[[web.Request, Seen], Awaitable[web.StreamResponse]]


class AppServer:
    """An ``aiohttp.web`` server on 127.0.0.1 on a daemon thread."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._lock = threading.Lock()
        self._seen: list[Seen] = []
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def seen(self) -> list[Seen]:
        """Every request received so far (a copy)."""
        with self._lock:
            return list(self._seen)

    def saw(self, secret: str) -> bool:
        """Whether ``secret`` reached this server anywhere in a request."""
        for seen in self.seen:
            texts = [seen.path, *seen.query.values(), *seen.headers.values()]
            if any(secret in text for text in texts) or secret.encode() in seen.body:
                return True
        return False

    def start(self) -> str:
        """Serve; return the base URL."""
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(),), daemon=True
        )
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("test server did not start")
        return self.url

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(5)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            # Let connections the kernel has queued be accepted (and closed
            # below); a pending accept cut off by the loop's end leaks its
            # socket, as when a client broke off before being served.
            await asyncio.sleep(0.005)
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        with self._lock:
            seen = Seen(
                index=len(self._seen),
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
            )
            self._seen.append(seen)
        return await self._handler(request, seen)


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], AppServer]]:
    """A factory of started :class:`AppServer`; all are stopped after the test."""
    servers: list[AppServer] = []

    def factory(handler: Handler) -> AppServer:
        server = AppServer(handler)
        server.start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- canned handlers -----------------------------------------------------------


async def ok(request: web.Request, seen: Seen) -> web.StreamResponse:
    """200 with JSON naming the key and the body length."""
    return web.json_response({"key": seen.key, "body_length": len(seen.body)})


def per_key(answers: dict[str, Handler]) -> Handler:
    """Answer each key with its own handler; other keys get :func:`ok`."""

    async def handler(request: web.Request, seen: Seen) -> web.StreamResponse:
        chosen = answers.get(seen.key or "", ok)
        return await chosen(request, seen)

    return handler


def status(
    code: int, headers: dict[str, str] | None = None, json: object = None
) -> Handler:
    """Always answer ``code`` with these headers and JSON body."""

    async def handler(request: web.Request, seen: Seen) -> web.StreamResponse:
        return web.json_response(json or {"status": code}, status=code, headers=headers)

    return handler


def redirect_to(location: str, code: int = 302) -> Handler:
    """Redirect every request to ``location``."""

    async def handler(request: web.Request, seen: Seen) -> web.StreamResponse:
        return web.Response(status=code, headers={"Location": location})

    return handler


def first_then(first: Handler, then: Handler = ok) -> Handler:
    """Answer the first request with ``first`` and the rest with ``then``."""

    async def handler(request: web.Request, seen: Seen) -> web.StreamResponse:
        return await (first if seen.index == 0 else then)(request, seen)

    return handler


def sleeping(seconds: float) -> Handler:
    """Answer 200 after ``seconds``."""

    async def handler(request: web.Request, seen: Seen) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return await ok(request, seen)

    return handler


def bouncing(other: Callable[[], str], code: int = 307) -> Handler:
    """
    ``/start`` redirects to ``other()``/bounce, and ``/old`` to ``/new`` on the
    same server; any other path needs a key (400 without one).
    """

    async def handler(request: web.Request, seen: Seen) -> web.StreamResponse:
        if request.path == "/start":
            return web.Response(status=code, headers={"Location": other() + "/bounce"})
        if request.path == "/old":
            return web.Response(status=code, headers={"Location": "/new"})
        if seen.token is None:
            return web.json_response({"error": {"code": "missing"}}, status=400)
        return await ok(request, seen)

    return handler


async def broken_body(request: web.Request, seen: Seen) -> web.StreamResponse:
    """Send headers and part of the body, then drop the connection."""
    response = web.StreamResponse(status=200, headers={"Content-Length": "100"})
    await response.prepare(request)
    await response.write(b"x" * 10)
    assert request.transport is not None
    request.transport.close()
    return response


async def dropped(request: web.Request, seen: Seen) -> web.StreamResponse:
    """Close the connection without answering."""
    assert request.transport is not None
    request.transport.close()
    return web.Response(status=503)


# -- secrets -------------------------------------------------------------------


def assert_no_token(texts: list[str]) -> None:
    """Fail if any test token appears in any of ``texts``."""
    for text in texts:
        for token in TOKENS.values():
            assert token not in text, f"token leaked in: {text[:200]!r}"


def log_texts(records: list[logging.LogRecord]) -> list[str]:
    """Every message and formatted exception of ``records``."""
    formatter = logging.Formatter()
    texts = []
    for record in records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append(formatter.formatException(record.exc_info))
    return texts


def exception_texts(error: BaseException) -> list[str]:
    """The text of ``error`` and of every exception chained to it."""
    import traceback

    return ["".join(traceback.format_exception(error)), str(error), repr(error)]


Serve = Callable[[Handler], AppServer]
"""Starts a small app server for one test (the ``serve`` fixture)."""


def sim_keys(
    first: Limit | None = None, second: Limit | None = None
) -> list[SimulatedKey]:
    """Both test keys as simulated keys, named k1 and k2."""
    return [
        SimulatedKey(TOKENS["k1"], first, name="k1"),
        SimulatedKey(TOKENS["k2"], second, name="k2"),
    ]


@pytest.fixture
def pool() -> Iterator[KeyPool]:
    """A sync pool of the two test keys."""
    with KeyPool(configs()) as pool:
        yield pool


@pytest.fixture
def apool() -> Iterator[AsyncKeyPool]:
    """An async pool of the two test keys."""
    pool = AsyncKeyPool(configs())
    yield pool
    pool.close()
