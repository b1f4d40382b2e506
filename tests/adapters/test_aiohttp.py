"""Tests for the aiohttp adapter: middleware, helpers, trace config and AiohttpClient."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from rotisserie import AsyncKeyPool, KeyConfig, KeyPool, NoKeyAvailable, WouldBlockError
from rotisserie.adapters import AsyncAuth
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


async def agen_body() -> AsyncIterator[bytes]:
    """A 20-byte request body that can be read only once."""
    yield b"chunk-one|"
    yield b"chunk-two|"


async def get_status(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> int:
    """GET ``url``, read the body, return the status."""
    async with session.get(url, **kwargs) as resp:
        await resp.read()
        return resp.status


# -- spreading and rotating ----------------------------------------------------


async def test_aiohttp_middleware_rotates_on_429_and_honours_retry_after(
    apool: AsyncKeyPool, rotisserie_simulator: SimulatorFactory
) -> None:
    """A 429 is retried at once on the other key; the limited key rests."""
    sim = rotisserie_simulator(sim_keys(Limit(1, 30.0)))
    async with (
        apool.auth("events") as auth,
        aiohttp.ClientSession(middlewares=(auth.middleware,)) as session,
    ):
        codes = [await get_status(session, sim.url + "/e") for _ in range(8)]
    assert codes == [200] * 8
    stats = sim.stats()
    assert (stats["k1"].granted, stats["k1"].rejected, stats["k2"].granted) == (1, 1, 7)
    assert apool.snapshot().key("k1").cooldown_left > 20
    assert apool.snapshot().in_flight == 0


async def test_aiohttp_client_spreads_and_keeps_within_known_limits(
    rotisserie_simulator: SimulatorFactory,
) -> None:
    """Concurrent GETs through AiohttpClient use both keys and never get a 429."""
    sim = rotisserie_simulator(sim_keys(Limit(5, 0.5), Limit(5, 0.5)))
    apool = AsyncKeyPool(configs(per_window=(5, 0.6)))
    async with apool.aiohttp_client("fast") as client:

        async def one() -> int:
            async with client.get(sim.url + "/x") as resp:
                return resp.status

        codes = await asyncio.gather(*(one() for _ in range(15)))
    assert codes == [200] * 15
    assert sim.total_rejected == 0
    assert sim.stats()["k1"].granted > 0 and sim.stats()["k2"].granted > 0


async def test_aiohttp_revoked_key_is_disabled(
    apool: AsyncKeyPool, rotisserie_simulator: SimulatorFactory
) -> None:
    """401 invalid_api_key retires k1; every GET still gets 200."""
    sim = rotisserie_simulator(sim_keys(), revoked=[TOKENS["k1"]])
    async with apool.aiohttp_client("users") as client:
        codes = [await get_status(client.session, sim.url + "/u") for _ in range(5)]
    assert codes == [200] * 5
    assert sim.stats()["k1"].unauthorized <= 1
    assert apool.snapshot().key("k1").disabled


async def test_aiohttp_403_with_zero_remaining_moves_to_other_key(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """GitHub-style 403 with x-ratelimit-remaining 0: k2 answers, k1 rests until reset."""
    reset = str(int(time.time()) + 60)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    server = serve(per_key({"k1": status(403, headers)}))
    async with (
        apool.aiohttp_client("c05") as client,
        client.get(server.url + "/x") as resp,
    ):
        assert resp.status == 200
        assert (await resp.json())["key"] == "k2"
    assert 55 < apool.snapshot().key("k1").cooldown_left <= 61


# -- what is not sent again ----------------------------------------------------


async def test_aiohttp_post_429_is_not_sent_again_but_key_cools(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """The 429 of a POST comes back; k1 cools by its Retry-After."""
    server = serve(per_key({"k1": status(429, {"Retry-After": "7"})}))
    async with (
        apool.aiohttp_client("p") as client,
        client.post(server.url + "/p", data=b"x") as resp,
    ):
        assert resp.status == 429
    assert len(server.seen) == 1
    assert 5 < apool.snapshot().key("k1").cooldown_left <= 7


async def test_aiohttp_attempts_exhausted_returns_last_429(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """Every answer a 429: the caller gets the third, body still readable."""
    server = serve(status(429, {"Retry-After": "0"}))
    async with (
        apool.aiohttp_client("x", retry_attempts=3) as client,
        client.get(server.url + "/x") as resp,
    ):
        assert resp.status == 429
        assert (await resp.json())["status"] == 429
    assert len(server.seen) == 3
    assert apool.snapshot().in_flight == 0


async def test_aiohttp_generator_body_is_never_sent_drained(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """An async generator body is sent once, whole; its 429 comes back."""
    server = serve(first_then(status(429, {"Retry-After": "0"})))
    async with (
        apool.aiohttp_client("up", retry_for_methods=["POST"]) as client,
        client.post(server.url + "/u", data=agen_body()) as resp,
    ):
        assert resp.status == 429
    assert [len(seen.body) for seen in server.seen] == [20]


async def test_aiohttp_json_post_is_sent_again_when_allowed(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """A JSON body is sent again, whole, on the other key."""
    server = serve(first_then(status(429, {"Retry-After": "0"})))
    async with (
        apool.aiohttp_client("up", retry_for_methods=["POST"]) as client,
        client.post(server.url + "/u", json={"a": 1}) as resp,
    ):
        assert resp.status == 200
    bodies = [seen.body for seen in server.seen]
    assert bodies == [b'{"a": 1}', b'{"a": 1}']
    assert server.seen[0].key != server.seen[1].key


async def test_aiohttp_no_key_in_time_raises_named_error(serve: Serve) -> None:
    """One key resting an hour: the wait limit gives NoKeyAvailable, promptly."""
    server = serve(ok)
    apool = AsyncKeyPool([KeyConfig("k1", TOKENS["k1"])])
    apool.mark_result(await apool.take_key("x"), 429, {"Retry-After": "3600"})
    started = time.monotonic()
    async with apool.aiohttp_client("x", timeout=0.1) as client:
        with pytest.raises(NoKeyAvailable) as caught:
            await get_status(client.session, server.url + "/x")
    assert time.monotonic() - started < PROMPT
    assert caught.value.retry_after is not None and caught.value.retry_after > 3000
    assert not server.seen


async def test_aiohttp_lease_ends_when_headers_arrive(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """An answer the caller never reads holds no lease."""
    server = serve(ok)
    async with (
        apool.aiohttp_client("s") as client,
        client.get(server.url + "/x") as resp,
    ):
        assert resp.status == 200
        assert apool.snapshot().in_flight == 0


# -- transport errors ----------------------------------------------------------


@pytest.mark.parametrize("path", ["middleware", "helper", "trace"])
async def test_aiohttp_dead_port_fails_promptly_and_frees_the_key(
    apool: AsyncKeyPool, dead_url: str, path: str
) -> None:
    """Refused connections: prompt errors, nothing in flight, no cooldown."""
    async with apool.auth("dead") as auth:
        if path == "middleware":
            session = aiohttp.ClientSession(middlewares=(auth.middleware,))
        elif path == "trace":
            session = aiohttp.ClientSession(trace_configs=[auth.trace_config()])
        else:
            session = aiohttp.ClientSession()
        async with session:
            for _ in range(2):
                started = time.monotonic()
                with pytest.raises(aiohttp.ClientConnectorError):
                    if path == "helper":
                        async with auth.get(session, dead_url + "/x"):
                            pass
                    else:
                        await get_status(session, dead_url + "/x")
                assert time.monotonic() - started < PROMPT
                assert apool.snapshot().in_flight == 0
    assert all(key.cooldown_left == 0 for key in apool.snapshot().keys)


async def test_aiohttp_dropped_get_is_sent_again_on_another_key(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """A connection closed without an answer cools the key; the GET goes out again."""
    server = serve(first_then(dropped))
    async with apool.aiohttp_client("drop", retry_attempts=2) as client:
        assert await get_status(client.session, server.url + "/x") == 200
    assert len(server.seen) == 2
    assert apool.snapshot().key("k1").cooldown_left > 0
    assert apool.snapshot().in_flight == 0


async def test_aiohttp_answer_broken_mid_body_leaves_pool_whole(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """An answer cut off after its headers: an error for the reader, no lease left."""
    server = serve(broken_body)
    async with apool.aiohttp_client("b") as client:
        with pytest.raises(aiohttp.ClientError):
            await get_status(client.session, server.url + "/x")
    assert apool.snapshot().in_flight == 0


@pytest.mark.parametrize("path", ["client", "middleware", "trace"])
async def test_aiohttp_cancelled_request_frees_the_key(
    apool: AsyncKeyPool, serve: Serve, path: str
) -> None:
    """A GET cancelled by wait_for: nothing in flight, and a key is free at once."""
    server = serve(sleeping(2.0))
    url = server.url + "/slow"
    async with apool.auth("slow") as auth:
        if path == "trace":
            session = aiohttp.ClientSession(trace_configs=[auth.trace_config()])
        else:
            session = aiohttp.ClientSession(middlewares=(auth.middleware,))
        async with session:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(get_status(session, url), 0.2)
    assert apool.snapshot().in_flight == 0
    assert all(key.cooldown_left == 0 for key in apool.snapshot().keys)
    lease = await apool.take_key("after", timeout=0)
    apool.release(lease)


async def test_aiohttp_client_cancelled_request_frees_the_key(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """The same through AiohttpClient."""
    server = serve(sleeping(2.0))
    async with apool.aiohttp_client("slow") as client:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(get_status(client.session, server.url + "/s"), 0.2)
        assert apool.snapshot().in_flight == 0


async def broken_agen() -> AsyncIterator[bytes]:
    """A request body that raises after its first chunk."""
    yield b"chunk-one|"
    raise ValueError("the body broke")


@pytest.mark.parametrize("path", ["middleware", "trace"])
async def test_aiohttp_body_that_raises_leaves_key_unharmed(
    apool: AsyncKeyPool, serve: Serve, path: str
) -> None:
    """The caller's body raising (wrapped by aiohttp): no cooldown, no lease left."""
    server = serve(ok)
    async with apool.auth("b") as auth:
        if path == "trace":
            session = aiohttp.ClientSession(trace_configs=[auth.trace_config()])
        else:
            session = aiohttp.ClientSession(middlewares=(auth.middleware,))
        async with session:
            with pytest.raises(aiohttp.ClientError):
                async with session.post(server.url + "/x", data=broken_agen()):
                    pass  # pragma: no cover - the body breaks first
    assert apool.snapshot().in_flight == 0
    assert all(key.cooldown_left == 0 for key in apool.snapshot().keys)


# -- a sync pool in an event loop ----------------------------------------------


async def test_aiohttp_refuses_a_sync_pool_and_never_blocks_the_loop() -> None:
    """A KeyPool cannot make an AsyncAuth; its own auth refuses to wait in the loop."""
    pool = KeyPool([KeyConfig("k1", TOKENS["k1"])])
    lease = pool.take_key("x")
    pool.mark_result(lease, 429, {"Retry-After": "1"})
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    with pytest.raises(ConfigError, match="AsyncKeyPool"):
        AsyncAuth(pool)  # type: ignore[arg-type]
    with pool.auth("x") as auth, pytest.raises(WouldBlockError):
        async with aiohttp.ClientSession(headers=auth.headers()):
            pass  # pragma: no cover - headers() refuses first
    await asyncio.sleep(0.3)
    stop.set()
    await task
    pool.close()
    assert gaps
    assert max(gaps) < 0.2


async def test_aiohttp_async_pool_waits_without_blocking_the_loop(serve: Serve) -> None:
    """An AsyncKeyPool whose only key cools waits for it while the loop runs."""
    server = serve(ok)
    apool = AsyncKeyPool([KeyConfig("k1", TOKENS["k1"])])
    lease = await apool.take_key("x")
    apool.mark_result(lease, 429, {"retry-after-ms": "300"})
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        for _ in range(25):
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    async with apool.aiohttp_client("x") as client:
        ticks = asyncio.create_task(ticker())
        assert await get_status(client.session, server.url + "/x") == 200
        await ticks
    assert max(gaps) < 0.2
    apool.close()


# -- redirects -----------------------------------------------------------------

PATHS = ["middleware", "helper", "client", "wrapped"]


def cases(paths: list[str]) -> list[tuple[str, str]]:
    """(path, placement) pairs; a trace config only takes the header form."""
    traced = ("trace", "wrapped")
    return [
        (path, placement)
        for path in paths
        for placement in ("header", "query")
        if placement == "header" or path not in traced
    ]


async def fetch(auth: AsyncAuth, path: str, url: str) -> int:
    """GET ``url`` through one of the aiohttp paths, following redirects."""
    if path == "client":
        client = auth.pool.aiohttp_client("r", auth_config=auth.settings.auth)
        async with client:
            return await get_status(client.session, url)
    if path == "middleware":
        async with aiohttp.ClientSession(middlewares=(auth.middleware,)) as session:
            return await get_status(session, url)
    if path == "trace":
        async with aiohttp.ClientSession(
            trace_configs=[auth.trace_config()]
        ) as session:
            return await get_status(session, url)
    if path == "wrapped":
        async with aiohttp.ClientSession(
            trace_configs=[auth.trace_config()]
        ) as session:
            auth.wrap_session(session)
            return await get_status(session, url)
    async with aiohttp.ClientSession() as session, auth.get(session, url) as resp:
        await resp.read()
        return resp.status


@pytest.mark.parametrize(("path", "placement"), cases([*PATHS, "trace"]))
async def test_aiohttp_redirect_to_other_origin_never_carries_key(
    apool: AsyncKeyPool, serve: Serve, placement: str, path: str
) -> None:
    """Server A redirects to B on another port; B never sees the key."""
    collector = serve(ok)
    server = serve(redirect_to(collector.url + "/collect"))
    options: dict[str, Any] = {
        "auth_header": "X-Api-Key",
        "auth_scheme": "",
        "auth_in": placement,
    }
    async with apool.auth("r", **options) as auth:
        assert await fetch(auth, path, server.url + "/start?page=2") == 200
    assert len(collector.seen) == 1
    assert server.seen[0].token in TOKENS.values()
    assert not any(collector.saw(token) for token in TOKENS.values())
    assert apool.snapshot().in_flight == 0


@pytest.mark.parametrize(("path", "placement"), cases(PATHS))
async def test_aiohttp_redirect_back_to_origin_gets_a_key_again(
    apool: AsyncKeyPool, serve: Serve, placement: str, path: str
) -> None:
    """A -> B -> A: B sees no key, the hop back to A gets one."""
    servers: dict[str, AppServer] = {}
    origin = serve(bouncing(lambda: servers["b"].url))
    servers["b"] = serve(redirect_to(origin.url + "/final"))
    options: dict[str, Any] = {
        "auth_header": "X-Api-Key",
        "auth_scheme": "",
        "auth_in": placement,
    }
    async with apool.auth("r", **options) as auth:
        assert await fetch(auth, path, origin.url + "/start") == 200
    assert not any(servers["b"].saw(token) for token in TOKENS.values())
    assert origin.seen[-1].path == "/final"
    assert origin.seen[-1].token in TOKENS.values()
    assert apool.snapshot().in_flight == 0


async def test_aiohttp_trace_config_refuses_query_placement(
    apool: AsyncKeyPool,
) -> None:
    """A trace config cannot change the URL, so the query form is refused."""
    async with apool.auth("q", auth_in="query") as auth:
        with pytest.raises(ConfigError, match="middleware"):
            auth.trace_config()


# -- the trace config and wrap_session -----------------------------------------


async def test_aiohttp_trace_config_reports_without_retrying(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """Trace alone: the key goes in the header, the 429 is reported and returned."""
    server = serve(per_key({"k1": status(429, {"Retry-After": "9"})}))
    async with (
        apool.auth("t") as auth,
        aiohttp.ClientSession(trace_configs=[auth.trace_config()]) as session,
    ):
        codes = [await get_status(session, server.url + "/x") for _ in range(3)]
    assert codes == [429, 200, 200]
    assert 7 < apool.snapshot().key("k1").cooldown_left <= 9
    assert apool.snapshot().in_flight == 0


async def test_aiohttp_trace_config_reports_raise_for_status_as_an_answer(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """raise_for_status turns a 429 into an error; the pool still sees a 429."""
    server = serve(status(429, {"Retry-After": "9"}))
    async with apool.auth("t") as auth:
        traces = [auth.trace_config()]
        async with aiohttp.ClientSession(
            trace_configs=traces, raise_for_status=True
        ) as session:
            with pytest.raises(aiohttp.ClientResponseError) as caught:
                await get_status(session, server.url + "/x?api_key=none")
    assert caught.value.status == 429
    assert max(key.cooldown_left for key in apool.snapshot().keys) > 7
    assert_no_token(exception_texts(caught.value))


async def test_aiohttp_wrap_session_adds_retries_and_is_undone(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """wrap_session gives a traced session retries, once, until the block ends."""
    server = serve(per_key({"k1": status(429, {"Retry-After": "9"})}))
    auth = apool.auth("w")
    async with aiohttp.ClientSession(trace_configs=[auth.trace_config()]) as session:
        async with auth:
            assert auth.wrap_session(session) is session
            auth.wrap_session(session)
            assert session._middlewares == (auth.middleware,)
            assert await get_status(session, server.url + "/x") == 200
            assert len(server.seen) == 2
        assert auth.middleware not in session._middlewares
    assert apool.snapshot().in_flight == 0


# -- helpers -------------------------------------------------------------------


async def test_aiohttp_helpers_send_every_verb_and_keep_session_middlewares(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """The helpers add the auth to each request and keep the session's middlewares."""
    server = serve(ok)
    calls: list[str] = []

    async def recorder(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        calls.append(request.method)
        return await handler(request)

    url = server.url + "/v"
    async with (
        apool.auth("verbs") as auth,
        aiohttp.ClientSession(middlewares=(recorder,)) as session,
    ):
        helpers = (
            auth.get,
            auth.head,
            auth.options,
            auth.post,
            auth.put,
            auth.patch,
        )
        for helper in (*helpers, auth.delete):
            async with helper(session, url) as resp:
                assert resp.status == 200
        async with auth.request(session, "GET", url, middlewares=()) as resp:
            assert resp.status == 200
    methods = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
    assert calls == methods
    assert [s.method for s in server.seen] == [*methods, "GET"]
    assert all(s.token in TOKENS.values() for s in server.seen)


async def test_aiohttp_client_methods_and_misuse(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """Every verb of AiohttpClient carries a key; outside its block it refuses."""
    server = serve(ok)
    client = apool.aiohttp_client("verbs")
    with pytest.raises(RuntimeError, match="async with block"):
        client.get(server.url)
    async with client:
        for send in (client.get, client.post, client.put, client.patch, client.delete):
            async with send(server.url + "/v") as resp:
                assert resp.status == 200
        for send in (client.head, client.options):
            async with send(server.url + "/v") as resp:
                assert resp.status == 200
        assert_no_token([repr(client), repr(client.auth), repr(client.auth.middleware)])
    assert len(server.seen) == 7
    assert all(s.token in TOKENS.values() for s in server.seen)


async def test_aiohttp_one_shot_values(apool: AsyncKeyPool) -> None:
    """headers() and params() of an AsyncAuth are awaited and end the grant."""
    async with apool.auth("manual") as auth:
        headers = await auth.headers()
        params = await auth.params()
    assert headers["Authorization"].removeprefix("Bearer ") in TOKENS.values()
    assert params["api_key"] in TOKENS.values()
    assert apool.snapshot().in_flight == 0


# -- secrets -------------------------------------------------------------------


async def test_aiohttp_query_key_stays_out_of_logs_and_errors(
    apool: AsyncKeyPool, serve: Serve, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """auth_in=query: no log record and no raised error shows the key."""
    caplog.set_level(logging.DEBUG)
    server = serve(per_key({"k1": status(429, {"Retry-After": "0"})}))
    errors: list[BaseException] = []
    async with apool.aiohttp_client("s", auth_in="query") as client:
        async with client.get(server.url + "/x") as resp:
            assert resp.status == 200
            try:
                resp.raise_for_status()
            except aiohttp.ClientResponseError as exc:  # pragma: no cover - 200
                errors.append(exc)
        try:
            async with client.post(dead_url + "/x", data=b"{}"):
                pass  # pragma: no cover - refused
        except aiohttp.ClientError as exc:
            errors.append(exc)
    assert server.seen[-1].query["api_key"] in TOKENS.values()
    assert_no_token(log_texts(caplog.records))
    assert errors
    for error in errors:
        assert_no_token(exception_texts(error))


async def test_aiohttp_middleware_takes_the_key_off_request_info(
    apool: AsyncKeyPool, serve: Serve
) -> None:
    """Once the answer is in, request_info and a raise_for_status error hide the key."""
    server = serve(status(404))
    async with (
        apool.aiohttp_client("s", retry_attempts=1) as client,
        client.get(server.url + "/x") as resp,
    ):
        assert server.seen[0].token in TOKENS.values()
        assert_no_token([repr(resp.request_info), repr(resp)])
        with pytest.raises(aiohttp.ClientResponseError) as caught:
            resp.raise_for_status()
    assert_no_token(exception_texts(caught.value))


# -- the README ----------------------------------------------------------------


def test_readme_aiohttp_examples(rotisserie_simulator: SimulatorFactory) -> None:
    """Section 1, aiohttp: both forms run as written against the simulator."""
    sim = rotisserie_simulator({"A": None, "B": None})
    seen: list[int] = []

    import asyncio

    import aiohttp

    from rotisserie import AsyncKeyPool, KeyConfig

    apool = AsyncKeyPool([KeyConfig("a", "A"), KeyConfig("b", "B")])

    async def main() -> None:
        async with apool.auth(endpoint="events", reserve=2, priority=1) as auth:  # noqa: SIM117 - the README example, verbatim
            async with aiohttp.ClientSession(trace_configs=[auth.trace_config()]) as s:
                # optional: enables automatic 429 retries using same session
                auth.wrap_session(s)
                async with s.get(f"{sim.url}/events") as resp:
                    print(resp.status)
                    seen.append(resp.status)

    asyncio.run(main())

    async def main2() -> None:
        async with apool.auth(endpoint="events", reserve=2, priority=1) as auth:  # noqa: SIM117 - the README example, verbatim
            async with aiohttp.ClientSession() as s:
                async with auth.get(s, f"{sim.url}/events?limit=1000") as resp:
                    print(resp.status, await resp.text())
                    seen.append(resp.status)
                async with auth.request(s, "GET", f"{sim.url}/users") as resp:
                    print(resp.status)
                    seen.append(resp.status)

    asyncio.run(main2())
    assert seen == [200, 200, 200]
    assert apool.snapshot().in_flight == 0


def test_readme_convenience_clients_example(
    rotisserie_simulator: SimulatorFactory,
) -> None:
    """Section 6, async part: httpx_client and aiohttp_client run as written."""
    sim = rotisserie_simulator({"A": None, "B": None})
    seen: list[int] = []

    from rotisserie import AsyncKeyPool, KeyConfig

    apool = AsyncKeyPool([KeyConfig("a", "A"), KeyConfig("b", "B")])

    # fmt: off
    async def main() -> None:
        async with apool.httpx_client(endpoint="orders", reserve=2, priority=1) as client:
            r = await client.get(f"{sim.url}/orders")
            seen.append(r.status_code)
        async with apool.aiohttp_client(endpoint="events", reserve=2, priority=1) as client:  # noqa: SIM117 - the README example, verbatim
            async with client.get(f"{sim.url}/events") as resp:
                print(resp.status)
                seen.append(resp.status)
    # fmt: on

    asyncio.run(main())
    assert seen == [200, 200]
