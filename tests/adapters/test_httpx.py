"""Tests for the httpx adapter: auth flows for Client and AsyncClient, and the clients."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from rotisserie import AsyncKeyPool, KeyConfig, KeyPool, NoKeyAvailable
from rotisserie.errors import ConfigError
from rotisserie.testing import Limit, SimulatorFactory

from .conftest import (
    PROMPT,
    TOKENS,
    AppServer,
    Serve,
    assert_no_token,
    bouncing,
    broken_body,
    configs,
    dropped,
    exception_texts,
    first_then,
    log_texts,
    ok,
    per_key,
    redirect_to,
    sim_keys,
    sleeping,
    status,
)


def gen_body() -> Iterator[bytes]:
    """A 20-byte request body that can be read only once."""
    yield b"chunk-one|"
    yield b"chunk-two|"


async def agen_body() -> AsyncIterator[bytes]:
    """The async twin of :func:`gen_body`."""
    yield b"chunk-one|"
    yield b"chunk-two|"


# -- spreading and rotating ----------------------------------------------------


def test_httpx_spreads_requests_over_keys(
    pool: KeyPool, rotisserie_simulator: SimulatorFactory
) -> None:
    """Six GETs through httpx.Client use both keys evenly."""
    sim = rotisserie_simulator(sim_keys())
    with pool.auth("orders", reserve=2) as auth, httpx.Client(auth=auth) as client:
        codes = [client.get(sim.url + "/o").status_code for _ in range(6)]
    assert codes == [200] * 6
    assert sim.stats()["k1"].granted == sim.stats()["k2"].granted == 3
    assert pool.snapshot().in_flight == 0


def test_httpx_429_moves_to_another_key_and_honours_retry_after(
    pool: KeyPool, rotisserie_simulator: SimulatorFactory
) -> None:
    """A 429 is retried at once on the other key; the limited key rests."""
    sim = rotisserie_simulator(sim_keys(Limit(1, 30.0)))
    with pool.auth("orders") as auth, httpx.Client(auth=auth) as client:
        answers = [client.get(sim.url + "/o") for _ in range(8)]
    assert [r.status_code for r in answers] == [200] * 8
    stats = sim.stats()
    assert (stats["k1"].granted, stats["k1"].rejected, stats["k2"].granted) == (1, 1, 7)
    retried = next(r for r in answers if r.history)
    assert [h.status_code for h in retried.history] == [429]
    assert pool.snapshot().key("k1").cooldown_left > 20
    assert pool.snapshot().in_flight == 0


async def test_httpx_async_429_moves_to_another_key(
    apool: AsyncKeyPool, rotisserie_simulator: SimulatorFactory
) -> None:
    """AsyncClient: the same rotation."""
    sim = rotisserie_simulator(sim_keys(Limit(1, 30.0)))
    async with apool.auth("orders") as auth, httpx.AsyncClient(auth=auth) as client:
        answers = [await client.get(sim.url + "/o") for _ in range(5)]
    assert [r.status_code for r in answers] == [200] * 5
    assert sim.stats()["k1"].rejected == 1
    assert apool.snapshot().in_flight == 0


async def test_httpx_async_known_limits_give_no_429(
    rotisserie_simulator: SimulatorFactory,
) -> None:
    """Concurrent requests within configured limits never get a 429."""
    sim = rotisserie_simulator(sim_keys(Limit(5, 0.5), Limit(5, 0.5)))
    apool = AsyncKeyPool(configs(per_window=(5, 0.6)))
    async with apool.auth("fast") as auth, httpx.AsyncClient(auth=auth) as client:
        answers = await asyncio.gather(*(client.get(sim.url + "/x") for _ in range(15)))
    assert [r.status_code for r in answers] == [200] * 15
    assert sim.total_rejected == 0


def test_httpx_revoked_key_is_disabled_and_calls_succeed(
    pool: KeyPool, rotisserie_simulator: SimulatorFactory
) -> None:
    """401 invalid_api_key retires k1; all five GETs return 200."""
    sim = rotisserie_simulator(sim_keys(), revoked=[TOKENS["k1"]])
    with pool.httpx_client("users") as client:
        codes = [client.get(sim.url + "/u").status_code for _ in range(5)]
    assert codes == [200] * 5
    assert sim.stats()["k1"].unauthorized <= 1
    assert pool.snapshot().key("k1").disabled


async def test_httpx_async_quota_key_is_parked(
    rotisserie_simulator: SimulatorFactory,
) -> None:
    """A 429 insufficient_quota parks k1 for long; k1 serves only the first GET."""
    now = [1_000_000.0]
    sim = rotisserie_simulator(sim_keys(), quota_exhausted=[TOKENS["k1"]])
    apool = AsyncKeyPool(configs(), clock=lambda: now[0])
    async with apool.httpx_client("q") as client:
        for _ in range(4):
            assert (await client.get(sim.url + "/q")).status_code == 200
            now[0] += 0.4
    assert sim.stats()["k1"].rejected == 1
    assert apool.snapshot().key("k1").cooldown_left >= 60


# -- what is not sent again ----------------------------------------------------


def test_httpx_post_429_is_not_sent_again_but_key_cools(
    pool: KeyPool, serve: Serve
) -> None:
    """The 429 of a POST comes back; k1 cools by its Retry-After."""
    server = serve(per_key({"k1": status(429, {"Retry-After": "7"})}))
    with pool.auth("p") as auth, httpx.Client(auth=auth) as client:
        answer = client.post(server.url + "/p", content=b"x")
    assert answer.status_code == 429
    assert len(server.seen) == 1
    assert 5 < pool.snapshot().key("k1").cooldown_left <= 7


def test_httpx_attempts_exhausted_returns_last_429(pool: KeyPool, serve: Serve) -> None:
    """Every answer a 429: the caller gets the last one, earlier ones in history."""
    server = serve(status(429, {"Retry-After": "0"}))
    with pool.auth("x", retry_attempts=3) as auth, httpx.Client(auth=auth) as client:
        answer = client.get(server.url + "/x")
    assert answer.status_code == 429
    assert len(answer.history) == 2
    assert len(server.seen) == 3
    assert pool.snapshot().in_flight == 0


@pytest.mark.parametrize("path", ["client", "auth"])
def test_httpx_generator_body_is_never_sent_drained(
    pool: KeyPool, serve: Serve, path: str
) -> None:
    """A generator body is sent once, whole; its 429 comes back."""
    server = serve(first_then(status(429, {"Retry-After": "0"})))
    url = server.url + "/upload"
    if path == "client":
        with pool.httpx_client("up", retry_for_methods=["POST"]) as wrapped:
            answer = wrapped.post(url, content=gen_body())
    else:
        with (
            pool.auth("up", retry_for_methods=["POST"]) as auth,
            httpx.Client(auth=auth) as client,
        ):
            answer = client.post(url, content=gen_body())
    assert answer.status_code == 429
    assert [len(seen.body) for seen in server.seen] == [20]


async def test_httpx_async_generator_body_is_never_sent_drained(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """AsyncClient with an async generator body: one whole send."""
    server = serve(first_then(status(429, {"Retry-After": "0"})))
    async with (
        apool.auth("up", retry_for_methods=["POST"]) as auth,
        httpx.AsyncClient(auth=auth) as client,
    ):
        answer = await client.post(server.url + "/u", content=agen_body())
    assert answer.status_code == 429
    assert [len(seen.body) for seen in server.seen] == [20]


def test_httpx_bytes_post_is_sent_again_when_allowed(
    pool: KeyPool, serve: Serve
) -> None:
    """Bytes are sent again, whole, on the other key."""
    server = serve(first_then(status(429, {"Retry-After": "0"})))
    with pool.httpx_client("up", retry_for_methods=["POST"]) as client:
        answer = client.post(server.url + "/u", content=b"chunk-one|chunk-two|")
    assert answer.status_code == 200
    assert [len(seen.body) for seen in server.seen] == [20, 20]
    assert server.seen[0].key != server.seen[1].key


async def test_httpx_async_no_key_in_time_raises_named_error(serve: Serve) -> None:
    """One key resting an hour: the wait limit gives NoKeyAvailable, promptly."""
    server = serve(ok)
    apool = AsyncKeyPool([KeyConfig("k1", TOKENS["k1"])])
    apool.mark_result(await apool.take_key("x"), 429, {"Retry-After": "3600"})
    started = time.monotonic()
    async with apool.httpx_client("x", timeout=0.1) as client:
        with pytest.raises(NoKeyAvailable, match="frees in"):
            await client.get(server.url + "/x")
    assert time.monotonic() - started < PROMPT
    assert not server.seen


# -- transport errors ----------------------------------------------------------


def test_httpx_dead_port_fails_promptly_and_frees_the_key(dead_url: str) -> None:
    """One key, two GETs to a dead port: two prompt ConnectErrors, key free and unharmed."""
    with (
        KeyPool([KeyConfig("k1", TOKENS["k1"], per_window=(1, 60))]) as pool,
        pool.auth("dead") as auth,
        httpx.Client(auth=auth) as client,
    ):
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(httpx.ConnectError):
                client.get(dead_url + "/x")
            assert time.monotonic() - started < PROMPT
            key = pool.snapshot().key("k1")
            assert (key.in_flight, key.cooldown_left, key.windows_left) == (
                0,
                0,
                (1,),
            )


async def test_httpx_async_dead_port_frees_the_key(
    apool: AsyncKeyPool, dead_url: str
) -> None:
    """AsyncClient to a dead port: ConnectError, nothing in flight, no cooldown."""
    async with apool.auth("dead") as auth, httpx.AsyncClient(auth=auth) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(dead_url + "/x")
    snapshot = apool.snapshot()
    assert snapshot.in_flight == 0
    assert all(key.cooldown_left == 0 for key in snapshot.keys)


@pytest.mark.parametrize("wrapped", [False, True])
async def test_httpx_async_cancelled_request_frees_the_key(
    apool: AsyncKeyPool, serve: Serve, wrapped: bool
) -> None:
    """A GET cancelled by wait_for: nothing in flight, and a key is free at once."""
    server = serve(sleeping(2.0))
    if wrapped:
        async with apool.httpx_client("slow") as wrapper:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(wrapper.get(server.url + "/s"), 0.2)
    else:
        async with apool.auth("slow") as auth, httpx.AsyncClient(auth=auth) as client:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.get(server.url + "/s"), 0.2)
    assert apool.snapshot().in_flight == 0
    assert all(key.cooldown_left == 0 for key in apool.snapshot().keys)
    lease = await apool.take_key("after", timeout=0)
    apool.release(lease)


def test_httpx_dropped_connection_cools_the_key(pool: KeyPool, serve: Serve) -> None:
    """A connection closed without an answer: an error, the key cools, no lease left."""
    server = serve(dropped)
    with (
        pool.auth("drop") as auth,
        httpx.Client(auth=auth) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.get(server.url + "/x")
    snapshot = pool.snapshot()
    assert snapshot.in_flight == 0
    assert max(key.cooldown_left for key in snapshot.keys) > 0


async def test_httpx_async_dropped_connection_cools_the_key(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """AsyncClient: the same."""
    server = serve(dropped)
    async with apool.auth("drop") as auth, httpx.AsyncClient(auth=auth) as client:
        with pytest.raises(httpx.TransportError):
            await client.get(server.url + "/x")
    assert apool.snapshot().in_flight == 0
    assert max(key.cooldown_left for key in apool.snapshot().keys) > 0


def test_httpx_answer_broken_mid_body_leaves_pool_whole(
    pool: KeyPool, serve: Serve
) -> None:
    """An answer cut off after its headers: an error for the caller, no lease left."""
    server = serve(broken_body)
    with (
        pool.auth("b") as auth,
        httpx.Client(auth=auth) as client,
        pytest.raises(httpx.HTTPError),
    ):
        client.get(server.url + "/x")
    assert pool.snapshot().in_flight == 0


def test_httpx_streamed_answer_left_unread_leaves_pool_whole(
    pool: KeyPool, serve: Serve
) -> None:
    """The lease ends when the answer's headers arrive, read or not."""
    server = serve(ok)
    with (
        pool.auth("s") as auth,
        httpx.Client(auth=auth) as client,
        client.stream("GET", server.url + "/x") as answer,
    ):
        assert answer.status_code == 200
        assert pool.snapshot().in_flight == 0


def broken_gen() -> Iterator[bytes]:
    """A request body that raises after its first chunk."""
    yield b"chunk-one|"
    raise ValueError("the body broke")


async def broken_agen() -> AsyncIterator[bytes]:
    """The async twin of :func:`broken_gen`."""
    yield b"chunk-one|"
    raise ValueError("the body broke")


def test_httpx_body_that_raises_leaves_key_unharmed(
    pool: KeyPool, serve: Serve
) -> None:
    """The caller's body raising: its error, no cooldown, no lease left."""
    server = serve(ok)
    with (
        pool.auth("b") as auth,
        httpx.Client(auth=auth) as client,
        pytest.raises(ValueError, match="the body broke"),
    ):
        client.post(server.url + "/x", content=broken_gen())
    assert pool.snapshot().in_flight == 0
    assert all(key.cooldown_left == 0 for key in pool.snapshot().keys)


async def test_httpx_async_body_that_raises_leaves_key_unharmed(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """AsyncClient: the same."""
    server = serve(ok)
    async with apool.auth("b") as auth, httpx.AsyncClient(auth=auth) as client:
        with pytest.raises(ValueError, match="the body broke"):
            await client.post(server.url + "/x", content=broken_agen())
    assert apool.snapshot().in_flight == 0
    assert all(key.cooldown_left == 0 for key in apool.snapshot().keys)


# -- redirects -----------------------------------------------------------------


@pytest.mark.parametrize("placement", ["header", "query"])
@pytest.mark.parametrize("path", ["client", "wrapper"])
def test_httpx_redirect_to_other_origin_never_carries_key(
    serve: Serve, placement: str, path: str
) -> None:
    """Server A redirects to B on another port; B never sees the key."""
    collector = serve(ok)
    server = serve(redirect_to(collector.url + "/collect"))
    options: dict[str, Any] = {
        "auth_header": "X-Api-Key",
        "auth_scheme": "",
        "auth_in": placement,
    }
    url = server.url + "/start?page=2"
    with KeyPool(configs()) as pool:
        if path == "client":
            with (
                pool.auth("r", **options) as auth,
                httpx.Client(auth=auth, follow_redirects=True) as client,
            ):
                answer = client.get(url)
        else:
            with pool.httpx_client("r", **options) as wrapper:
                answer = wrapper.get(url, follow_redirects=True)
        assert answer.status_code == 200
        assert len(collector.seen) == 1
        assert server.seen[0].token in TOKENS.values()
        assert not any(collector.saw(token) for token in TOKENS.values())
        assert pool.snapshot().in_flight == 0


@pytest.mark.parametrize("placement", ["header", "query"])
@pytest.mark.parametrize("path", ["client", "wrapper"])
async def test_httpx_async_redirect_to_other_origin_never_carries_key(
    serve: Serve, placement: str, path: str
) -> None:
    """AsyncClient: B never sees the key."""
    collector = serve(ok)
    server = serve(redirect_to(collector.url + "/collect"))
    options: dict[str, Any] = {
        "auth_header": "X-Api-Key",
        "auth_scheme": "",
        "auth_in": placement,
    }
    apool = AsyncKeyPool(configs())
    if path == "client":
        async with (
            apool.auth("r", **options) as auth,
            httpx.AsyncClient(auth=auth, follow_redirects=True) as client,
        ):
            answer = await client.get(server.url + "/start")
    else:
        async with apool.httpx_client("r", **options) as wrapper:
            answer = await wrapper.get(server.url + "/start", follow_redirects=True)
    assert answer.status_code == 200
    assert not any(collector.saw(token) for token in TOKENS.values())
    assert apool.snapshot().in_flight == 0


@pytest.mark.parametrize("placement", ["header", "query"])
def test_httpx_redirect_back_to_origin_is_sent_with_a_key(
    pool: KeyPool, serve: Serve, placement: str
) -> None:
    """A -> B -> A: B sees no key; the hop back to A is sent again with one."""
    servers: dict[str, AppServer] = {}
    origin = serve(bouncing(lambda: servers["b"].url))
    servers["b"] = serve(redirect_to(origin.url + "/final", code=307))
    options: dict[str, Any] = {
        "auth_header": "X-Api-Key",
        "auth_scheme": "",
        "auth_in": placement,
    }
    with (
        pool.auth("r", **options) as auth,
        httpx.Client(auth=auth, follow_redirects=True) as client,
    ):
        answer = client.post(origin.url + "/start", content=b"payload")
    assert answer.status_code == 200
    assert answer.json()["key"] in TOKENS
    assert not any(servers["b"].saw(token) for token in TOKENS.values())
    finals = [s for s in origin.seen if s.path == "/final"]
    assert [s.token is not None for s in finals] == [False, True]
    assert finals[-1].body == b"payload"
    assert pool.snapshot().in_flight == 0


@pytest.mark.parametrize("placement", ["header", "query"])
async def test_httpx_async_same_origin_redirect_is_served_with_a_key(
    apool: AsyncKeyPool, serve: Serve, placement: str
) -> None:
    """A redirect within the origin reaches its target with a key."""
    servers: dict[str, AppServer] = {}
    server = servers["a"] = serve(bouncing(lambda: servers["a"].url))
    options: dict[str, Any] = {
        "auth_header": "X-Api-Key",
        "auth_scheme": "",
        "auth_in": placement,
    }
    async with (
        apool.auth("r", **options) as auth,
        httpx.AsyncClient(auth=auth, follow_redirects=True) as client,
    ):
        answer = await client.get(server.url + "/old")
    assert answer.status_code == 200
    assert server.seen[-1].path == "/new"
    assert server.seen[-1].token in TOKENS.values()
    assert apool.snapshot().in_flight == 0


def test_httpx_redirect_not_followed_leaves_no_key_on_next_request(
    pool: KeyPool, serve: Serve
) -> None:
    """Without follow_redirects the 3xx comes back and its next_request has no key."""
    server = serve(redirect_to("http://127.0.0.1:9/elsewhere"))
    with (
        pool.auth("r", auth_header="X-Api-Key", auth_scheme="") as auth,
        httpx.Client(auth=auth) as client,
    ):
        answer = client.get(server.url + "/start")
    assert answer.status_code == 302
    assert answer.next_request is not None
    assert "x-api-key" not in answer.next_request.headers
    assert "x-api-key" not in answer.request.headers


def test_httpx_transport_without_trace_events_still_strips_the_key(
    pool: KeyPool,
) -> None:
    """A transport without trace events that streams the body still marks the send."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        b"".join(request.stream)  # as a transport writing the body would
        seen.append(request)
        if request.url.host == "a.test":
            return httpx.Response(302, headers={"Location": "http://b.test/collect"})
        return httpx.Response(200, json={"ok": True})

    transport = httpx.MockTransport(handler)
    with (
        pool.auth("m", auth_header="X-Api-Key", auth_scheme="") as auth,
        httpx.Client(auth=auth, transport=transport, follow_redirects=True) as client,
    ):
        answer = client.get("http://a.test/start")
    assert answer.status_code == 200
    assert [r.url.host for r in seen] == ["a.test", "b.test"]
    assert "x-api-key" not in seen[1].headers
    assert pool.snapshot().in_flight == 0


# -- secrets -------------------------------------------------------------------


def test_httpx_query_key_stays_out_of_logs_and_errors(
    pool: KeyPool, serve: Serve, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """auth_in=query: httpx's request lines and the errors never show the key."""
    caplog.set_level(logging.DEBUG)
    server = serve(per_key({"k1": status(429, {"Retry-After": "0"})}))
    errors: list[BaseException] = []
    with pool.auth("s", auth_in="query") as auth, httpx.Client(auth=auth) as client:
        answer = client.get(server.url + "/x")
        try:
            client.post(dead_url + "/x", content=b"{}")
        except httpx.ConnectError as exc:
            errors.append(exc)
        try:
            answer.raise_for_status()
        except httpx.HTTPStatusError as exc:  # pragma: no cover - answer is 200
            errors.append(exc)
    assert answer.status_code == 200
    assert server.seen[-1].query["api_key"] in TOKENS.values()
    assert any(r.name == "httpx" for r in caplog.records)
    assert_no_token(log_texts(caplog.records))
    assert_no_token([str(answer.request.url), repr(answer.request), str(answer.url)])
    assert errors
    for error in errors:
        assert_no_token(exception_texts(error))


async def test_httpx_async_query_key_stays_out_of_logs(
    apool: AsyncKeyPool, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """AsyncClient, auth_in=query: no record shows the key."""
    caplog.set_level(logging.DEBUG)
    server = serve(status(429, {"Retry-After": "0"}))
    async with (
        apool.auth("s", auth_in="query", retry_attempts=2) as auth,
        httpx.AsyncClient(auth=auth) as client,
    ):
        answer = await client.get(server.url + "/x")
    with pytest.raises(httpx.HTTPStatusError) as caught:
        answer.raise_for_status()
    assert_no_token(log_texts(caplog.records))
    assert_no_token(exception_texts(caught.value))


def test_httpx_header_key_is_off_the_request_afterwards(
    pool: KeyPool, serve: Serve
) -> None:
    """response.request no longer carries the key once it has been sent."""
    server = serve(ok)
    with pool.auth("s") as auth, httpx.Client(auth=auth) as client:
        answer = client.get(server.url + "/x", headers={"Authorization": "mine"})
    assert server.seen[0].token in TOKENS.values()
    assert answer.request.headers["Authorization"] == "mine"


def test_httpx_callers_trace_extension_still_runs(pool: KeyPool, serve: Serve) -> None:
    """A trace callback of the caller is called alongside the auth's."""
    server = serve(ok)
    events: list[str] = []

    def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    with pool.auth("t") as auth, httpx.Client(auth=auth) as client:
        answer = client.get(server.url + "/x", extensions={"trace": trace})
    assert answer.status_code == 200
    assert any(e.endswith("send_request_headers.started") for e in events)


# -- misuse --------------------------------------------------------------------


async def test_httpx_sync_auth_refuses_async_client(pool: KeyPool) -> None:
    """A KeyPool auth refuses httpx.AsyncClient: it would block the loop."""
    async with httpx.AsyncClient(auth=pool.auth("x")) as client:
        with pytest.raises(ConfigError, match="AsyncKeyPool"):
            await client.get("http://127.0.0.1:9/")
    assert pool.snapshot().in_flight == 0


def test_httpx_async_auth_refuses_sync_client(apool: AsyncKeyPool) -> None:
    """An AsyncKeyPool auth refuses httpx.Client."""
    with (
        httpx.Client(auth=apool.auth("x")) as client,
        pytest.raises(ConfigError, match="KeyPool"),
    ):
        client.get("http://127.0.0.1:9/")
    assert apool.snapshot().in_flight == 0


def test_httpx_clients_need_their_block(pool: KeyPool, apool: AsyncKeyPool) -> None:
    """Using a convenience client outside its block is a clear error."""
    with pytest.raises(RuntimeError, match="with block"):
        pool.httpx_client("x").get("http://127.0.0.1:9/")
    with pytest.raises(RuntimeError, match="async with block"):
        _ = apool.httpx_client("x").client


def test_httpx_client_methods_and_repr(pool: KeyPool, serve: Serve) -> None:
    """Every verb of the sync client goes out with a key; reprs hide tokens."""
    server = serve(ok)
    with pool.httpx_client("verbs") as wrapper:
        url = server.url + "/v"
        for send in (
            wrapper.get,
            wrapper.post,
            wrapper.put,
            wrapper.patch,
            wrapper.delete,
        ):
            assert send(url).status_code == 200
        assert wrapper.head(url).status_code == 200
        assert wrapper.options(url).status_code == 200
        texts = [repr(wrapper), repr(wrapper.auth), repr(wrapper.client)]
    assert len(server.seen) == 7
    assert all(s.token in TOKENS.values() for s in server.seen)
    assert_no_token(texts)


async def test_httpx_async_client_methods(apool: AsyncKeyPool, serve: Serve) -> None:
    """Every verb of the async client goes out with a key."""
    server = serve(ok)
    async with apool.httpx_client("verbs") as wrapper:
        url = server.url + "/v"
        for send in (
            wrapper.get,
            wrapper.post,
            wrapper.put,
            wrapper.patch,
            wrapper.delete,
        ):
            assert (await send(url)).status_code == 200
        assert (await wrapper.head(url)).status_code == 200
        assert (await wrapper.options(url)).status_code == 200
        assert_no_token([repr(wrapper), repr(wrapper.client)])
    assert len(server.seen) == 7
    assert all(s.token in TOKENS.values() for s in server.seen)


# -- the README ----------------------------------------------------------------


def test_readme_httpx_examples(rotisserie_simulator: SimulatorFactory) -> None:
    """Section 1, httpx sync and async: run as written against the simulator."""
    sim = rotisserie_simulator({"KEY_1": None, "KEY_2": None, "A": None, "B": None})
    seen: list[int] = []

    import httpx

    from rotisserie import KeyConfig, KeyPool

    pool = KeyPool([KeyConfig("k1", "KEY_1"), KeyConfig("k2", "KEY_2")])

    with pool.auth(endpoint="users", reserve=2, priority=1) as auth:  # noqa: SIM117 - the README example, verbatim
        with httpx.Client(auth=auth) as client:
            r = client.get(f"{sim.url}/users")
            seen.append(r.status_code)

    # async
    import asyncio

    from rotisserie import AsyncKeyPool

    apool = AsyncKeyPool([KeyConfig("a", "A"), KeyConfig("b", "B")])

    async def main() -> None:
        async with apool.auth(endpoint="events", reserve=2, priority=1) as auth:  # noqa: SIM117 - the README example, verbatim
            async with httpx.AsyncClient(auth=auth) as client:
                r = await client.get(f"{sim.url}/events")
                print(r.status_code)
                seen.append(r.status_code)

    asyncio.run(main())
    assert seen == [200, 200]


def test_sync_httpx_client(rotisserie_simulator: SimulatorFactory) -> None:
    """pool.httpx_client, the sync twin of section 6's async client."""
    sim = rotisserie_simulator({"T1": None, "T2": None})
    pool = KeyPool([KeyConfig("k1", "T1"), KeyConfig("k2", "T2")])
    with pool.httpx_client(endpoint="orders", reserve=2, priority=1) as client:
        r = client.get(f"{sim.url}/orders")
    assert r.status_code == 200
