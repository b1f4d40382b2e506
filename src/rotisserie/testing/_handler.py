"""
The HTTP face of the simulated vendor: one aiohttp handler for every route.

Each request goes through the same steps: record it, serve the control routes
(``/_stats``, ``/_redirect``), draw an injected fault, authenticate, apply the
key's limit, then answer the route after the configured latency.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from rotisserie._redact import scrub
from rotisserie.testing._faults import FaultDeck
from rotisserie.testing._headers import rate_headers, retry_after_headers
from rotisserie.testing._keys import KeyTable, SimulatedKey
from rotisserie.testing._limiters import Limiter, Verdict, make_limiter
from rotisserie.testing._settings import Settings
from rotisserie.testing._stats import RecordedRequest, Recorder

__all__ = ["Vendor"]

logger = logging.getLogger(__name__)

# Statuses that must not carry a body (RFC 9110 sections 15.3.5 and 15.4.5).
_NO_BODY = frozenset({204, 304})


def _error(kind: str, message: str) -> dict[str, Any]:
    # OpenAI-shaped error body; clients under test branch on type and code.
    return {"error": {"type": kind, "code": kind, "message": message}}


_INVALID_KEY = {
    "error": {
        "type": "invalid_request_error",
        "code": "invalid_api_key",
        "message": "Incorrect or missing API key.",
    }
}
_NO_QUOTA = _error("insufficient_quota", "You exceeded your current quota.")
_RATE_LIMITED = _error("rate_limit_exceeded", "Rate limit reached for requests.")
_UNAVAILABLE = _error("server_error", "The server is overloaded, try again.")


class Vendor:
    """
    Answers requests the way a rate-limited API vendor would.

    Args:
        settings: how keys are read and answers shaped.
        table: the known keys and their statuses.
        faults: the deck of injected 503s and dropped connections.
        recorder: where counters and requests go.
        origin: ``time.monotonic()`` that fixed windows align to.
    """

    def __init__(
        self,
        settings: Settings,
        table: KeyTable,
        faults: FaultDeck,
        recorder: Recorder,
        origin: float,
    ) -> None:
        self._settings = settings
        self._table = table
        self._faults = faults
        self._recorder = recorder
        # Limiter state lives and dies with one server run; only the server's
        # event loop touches it, so it needs no lock.
        self._limiters: dict[str, Limiter] = {
            key.name: make_limiter(key.limit, origin)
            for key in table.keys
            if key.limit is not None
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """
        Answer one request; the aiohttp handler for every method and path.
        """
        key = self._table.find(self._token(request))
        name = _name(key)
        body_length = await _drain(request)
        self._recorder.record(_recorded(request, name, body_length))

        if request.path == "/_stats" and request.method == "GET":
            return web.json_response(self._stats_body())
        if request.path == "/_redirect":
            return _redirect(request)

        response = await self._answer(request, key, body_length)
        path = scrub(request.path, self._table.tokens())
        if response is None:
            logger.debug("%s %s -> dropped (key %s)", request.method, path, name)
            # Nothing reaches the client over the closed transport; aiohttp
            # still wants a response object and discards it quietly.
            return web.Response(status=503)
        logger.debug(
            "%s %s -> %d (key %s)", request.method, path, response.status, name
        )
        return response

    async def _answer(
        self, request: web.Request, key: SimulatedKey | None, body_length: int
    ) -> web.StreamResponse | None:
        # Injected faults come first, as from an overloaded front end that
        # fails before it even looks at the key.
        fault = self._faults.draw()
        if fault == "drop":
            self._recorder.count(_name(key), "dropped")
            _drop(request)
            return None
        if fault == "error":
            self._recorder.count(_name(key), "errors")
            return web.json_response(_UNAVAILABLE, status=503, headers=self._peek(key))
        if key is None:
            self._recorder.count(None, "unauthorized")
            return web.json_response(_INVALID_KEY, status=401)
        return await self._serve(request, key, body_length)

    async def _serve(
        self, request: web.Request, key: SimulatedKey, body_length: int
    ) -> web.StreamResponse:
        status = self._table.status(key.name)
        if status == "revoked":
            self._recorder.count(key.name, "unauthorized")
            return web.json_response(_INVALID_KEY, status=401)
        if status == "quota_exhausted":
            # No Retry-After: waiting does not help, as with a real vendor.
            self._recorder.count(key.name, "rejected")
            return web.json_response(_NO_QUOTA, status=429)

        verdict = self._acquire(key)
        if verdict is not None and not verdict.admitted:
            self._recorder.count(key.name, "rejected")
            return self._throttled(key, verdict)

        self._recorder.count(key.name, "granted", at=time.time())
        with self._recorder.in_flight(key.name):
            if self._settings.latency:
                await asyncio.sleep(self._settings.latency)
            headers = self._rate_headers(key, verdict)
            return _route(request, key.name, body_length, headers)

    def _throttled(self, key: SimulatedKey, verdict: Verdict) -> web.Response:
        wait = retry_after_headers(
            self._settings.retry_after, verdict.retry_after, time.time()
        )
        headers = {**self._rate_headers(key, verdict), **wait}
        return web.json_response(_RATE_LIMITED, status=429, headers=headers)

    def _token(self, request: web.Request) -> str | None:
        settings = self._settings
        if settings.auth_header is not None:
            raw = request.headers.get(settings.auth_header)
            token = _strip_scheme(raw, settings.auth_scheme) if raw else None
            if token:
                return token
        if settings.query_param is not None:
            return request.query.get(settings.query_param) or None
        return None

    def _acquire(self, key: SimulatedKey) -> Verdict | None:
        limiter = self._limiters.get(key.name)
        return limiter.acquire(time.monotonic()) if limiter is not None else None

    def _peek(self, key: SimulatedKey | None) -> dict[str, str]:
        limiter = self._limiters.get(key.name) if key is not None else None
        if key is None or limiter is None:
            return {}
        return self._rate_headers(key, limiter.peek(time.monotonic()))

    def _rate_headers(
        self, key: SimulatedKey, verdict: Verdict | None
    ) -> dict[str, str]:
        if verdict is None or key.limit is None:
            return {}
        return rate_headers(self._settings.rate_headers, key.limit, verdict)

    def _stats_body(self) -> dict[str, Any]:
        # ``times`` can be long and is available from Python; keep /_stats small.
        keys = {}
        for name, stats in self._recorder.stats().items():
            fields = asdict(stats)
            del fields["times"]
            keys[name] = fields
        return {
            "keys": keys,
            "total_granted": self._recorder.total("granted"),
            "total_rejected": self._recorder.total("rejected"),
            "total_unauthorized": self._recorder.total("unauthorized"),
        }


def _name(key: SimulatedKey | None) -> str | None:
    return key.name if key is not None else None


def _strip_scheme(raw: str, scheme: str) -> str | None:
    if not scheme:
        return raw.strip()
    given, _, token = raw.strip().partition(" ")
    # Auth schemes are case-insensitive (RFC 9110 section 11.1).
    return token.strip() if given.lower() == scheme.lower() else None


async def _drain(request: web.Request) -> int:
    # Read in chunks: counting must not hold a large upload in memory, and
    # streaming also bypasses aiohttp's client_max_size cap on read().
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
    return size


def _recorded(
    request: web.Request, name: str | None, body_length: int
) -> RecordedRequest:
    headers: dict[str, str] = {}
    for header, value in request.headers.items():
        lowered = header.lower()
        headers[lowered] = (
            f"{headers[lowered]}, {value}" if lowered in headers else value
        )
    return RecordedRequest(
        method=request.method,
        path=request.path,
        query=dict(request.query.items()),
        headers=headers,
        key_name=name,
        body_length=body_length,
    )


def _redirect(request: web.Request) -> web.Response:
    target = request.query.get("to", "")
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return web.json_response(
            _error("invalid_request_error", "'to' must be an absolute http(s) URL."),
            status=400,
        )
    return web.Response(status=302, headers={"Location": target})


def _drop(request: web.Request) -> None:
    # Close without answering, as a crashing proxy would; the client sees a
    # disconnected server rather than a status code.
    transport = request.transport
    if transport is not None:
        transport.close()


def _route(
    request: web.Request, name: str, body_length: int, headers: Mapping[str, str]
) -> web.Response:
    status = 200
    if request.path.startswith("/_status/"):
        code = request.path.removeprefix("/_status/")
        if not (code.isdigit() and 200 <= int(code) <= 599):
            body = _error("invalid_request_error", "Status must be from 200 to 599.")
            return web.json_response(body, status=400, headers=headers)
        status = int(code)
    if status in _NO_BODY:
        return web.Response(status=status, headers=headers)
    echo = {
        "key": name,
        "method": request.method,
        "path": request.path,
        "body_length": body_length,
    }
    return web.json_response(echo, status=status, headers=headers)
