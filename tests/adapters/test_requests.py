"""Tests for the requests adapter: SyncAuth as a requests auth, and RequestsClient."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from rotisserie import KeyConfig, KeyPool, NoKeyAvailable, RetryConfig
from rotisserie.adapters import SyncAuth
from rotisserie.adapters.requests import Exchange, GuardedAdapter
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
    status,
)


def wait_until(condition: Callable[[], bool], limit: float = PROMPT) -> bool:
    """Poll ``condition`` for up to ``limit`` seconds (for a background thread)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def gen_body() -> Iterator[bytes]:
    """A 20-byte request body that can be read only once."""
    yield b"chunk-one|"
    yield b"chunk-two|"


# -- spreading and rotating ----------------------------------------------------


def test_requests_spreads_requests_over_keys(
    pool: KeyPool, rotisserie_simulator: SimulatorFactory
) -> None:
    """Six GETs through one auth use both keys evenly."""
    sim = rotisserie_simulator(sim_keys())
    with pool.auth("orders", reserve=2) as auth:
        codes = [
            requests.get(sim.url + "/orders", auth=auth).status_code for _ in range(6)
        ]
    assert codes == [200] * 6
    stats = sim.stats()
    assert stats["k1"].granted == 3
    assert stats["k2"].granted == 3
    assert pool.snapshot().in_flight == 0


def test_requests_429_moves_to_another_key_and_honours_retry_after(
    pool: KeyPool, rotisserie_simulator: SimulatorFactory
) -> None:
    """A 429 is retried at once on the other key; the limited key rests."""
    sim = rotisserie_simulator(sim_keys(Limit(1, 30.0)))
    with requests.Session() as session, pool.auth("orders") as auth:
        session.auth = auth
        answers = [session.get(sim.url + "/o") for _ in range(8)]
    assert [r.status_code for r in answers] == [200] * 8
    stats = sim.stats()
    # k1 served once, was refused once (Retry-After: 30), and never again.
    assert stats["k1"].granted == 1
    assert stats["k1"].rejected == 1
    assert stats["k2"].granted == 7
    snapshot = pool.snapshot()
    assert snapshot.key("k1").cooldown_left > 20
    assert snapshot.in_flight == 0


def test_requests_known_limits_give_no_429(
    rotisserie_simulator: SimulatorFactory,
) -> None:
    """Keys whose limits are configured are never pushed over them."""
    sim = rotisserie_simulator(sim_keys(Limit(5, 0.5), Limit(5, 0.5)))
    # A window slightly longer than the vendor's leaves room for latency.
    with KeyPool(configs(per_window=(5, 0.6))) as pool, pool.auth("fast") as auth:
        codes = [requests.get(sim.url + "/x", auth=auth).status_code for _ in range(15)]
    assert codes == [200] * 15
    assert sim.total_rejected == 0


def test_requests_revoked_key_is_disabled_and_the_call_succeeds(
    pool: KeyPool, rotisserie_simulator: SimulatorFactory
) -> None:
    """A key answered 401 invalid_api_key is retired; every GET still gets 200."""
    sim = rotisserie_simulator(sim_keys(), revoked=[TOKENS["k1"]])
    with pool.auth("users") as auth:
        codes = [requests.get(sim.url + "/u", auth=auth).status_code for _ in range(5)]
    assert codes == [200] * 5
    assert sim.stats()["k1"].unauthorized <= 1
    key = pool.snapshot().key("k1")
    assert key.disabled
    assert key.disabled_reason is not None
    assert "invalid_api_key" in key.disabled_reason


def test_requests_403_with_zero_remaining_cools_key_until_reset(
    pool: KeyPool, serve: Serve
) -> None:
    """A 403 with x-ratelimit-remaining 0 moves to the other key; k1 rests until reset."""
    reset = str(int(time.time()) + 60)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    server = serve(per_key({"k1": status(403, headers)}))
    with pool.requests_client(endpoint="c05") as client:
        answer = client.get(server.url + "/x")
    assert answer.status_code == 200
    assert answer.json()["key"] == "k2"
    assert 55 < pool.snapshot().key("k1").cooldown_left <= 61


def test_requests_exhausted_quota_parks_key(
    rotisserie_simulator: SimulatorFactory,
) -> None:
    """A 429 insufficient_quota parks the key for long; later GETs skip it."""
    now = [1_000_000.0]
    sim = rotisserie_simulator(sim_keys(), quota_exhausted=[TOKENS["k1"]])
    with KeyPool(configs(), clock=lambda: now[0]) as pool, pool.auth("q") as auth:
        for _ in range(4):
            assert requests.get(sim.url + "/q", auth=auth).status_code == 200
            now[0] += 0.4
        cooldown = pool.snapshot().key("k1").cooldown_left
    assert sim.stats()["k1"].rejected == 1
    assert cooldown >= 60


# -- what is not sent again ----------------------------------------------------


def test_requests_post_429_is_not_sent_again_but_key_cools(
    pool: KeyPool, serve: Serve
) -> None:
    """POST is not in retry_for_methods: the 429 comes back and k1 cools."""
    server = serve(per_key({"k1": status(429, {"Retry-After": "7"})}))
    with pool.auth("p") as auth:
        answer = requests.post(server.url + "/p", data=b"x", auth=auth)
    assert answer.status_code == 429
    assert len(server.seen) == 1
    assert 5 < pool.snapshot().key("k1").cooldown_left <= 7
    assert pool.snapshot().in_flight == 0


def test_requests_attempts_exhausted_returns_last_429(
    pool: KeyPool, serve: Serve
) -> None:
    """With every answer a 429, the caller gets the third one, not an exception."""
    server = serve(status(429, {"Retry-After": "0"}))
    with pool.auth("x", retry_attempts=3) as auth:
        answer = requests.get(server.url + "/x", auth=auth)
    assert answer.status_code == 429
    assert len(server.seen) == 3
    assert pool.snapshot().in_flight == 0


@pytest.mark.parametrize("path", ["client", "session", "function"])
def test_requests_generator_body_is_never_sent_drained(
    pool: KeyPool, serve: Serve, path: str
) -> None:
    """A generator body is sent once, whole; its 429 comes back instead of a retry."""
    server = serve(first_then(status(429, {"Retry-After": "0"})))
    methods = ["GET", "POST"]
    url = server.url + "/upload"
    if path == "client":
        with pool.requests_client("up", retry_for_methods=methods) as client:
            answer = client.post(url, data=gen_body())
    elif path == "session":
        with (
            requests.Session() as session,
            pool.auth("up", retry_for_methods=methods) as auth,
        ):
            answer = session.post(url, data=gen_body(), auth=auth)
    else:
        with pool.auth("up", retry_for_methods=methods) as auth:
            answer = requests.post(url, data=gen_body(), auth=auth)
    assert answer.status_code == 429
    assert [len(seen.body) for seen in server.seen] == [20]


def test_requests_bytes_post_is_sent_again_when_allowed(
    pool: KeyPool, serve: Serve
) -> None:
    """A bytes body is sent again, whole, when POST may be retried."""
    server = serve(first_then(status(429, {"Retry-After": "0"})))
    with pool.requests_client("up", retry_for_methods=["POST"]) as client:
        answer = client.post(server.url + "/upload", data=b"chunk-one|chunk-two|")
    assert answer.status_code == 200
    assert [len(seen.body) for seen in server.seen] == [20, 20]
    assert server.seen[0].key != server.seen[1].key


def test_requests_no_key_in_time_raises_named_error(serve: Serve) -> None:
    """One key resting an hour: the wait limit gives NoKeyAvailable, promptly."""
    server = serve(status(429, {"Retry-After": "3600"}))
    with (
        KeyPool([KeyConfig("k1", TOKENS["k1"])]) as pool,
        pool.auth("x", timeout=0.3) as auth,
    ):
        first = requests.get(server.url + "/x", auth=auth)
        started = time.monotonic()
        with pytest.raises(NoKeyAvailable) as caught:
            requests.get(server.url + "/x", auth=auth)
    assert first.status_code == 429
    assert time.monotonic() - started < 0.3 + PROMPT
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 3000


def test_requests_lease_ends_when_headers_arrive(pool: KeyPool, serve: Serve) -> None:
    """A streamed answer the caller stops reading holds no lease."""
    server = serve(ok)
    with pool.auth("s") as auth:
        answer = requests.get(server.url + "/x", auth=auth, stream=True)
        assert pool.snapshot().in_flight == 0
        answer.close()


# -- transport errors ----------------------------------------------------------


def test_requests_dead_port_errors_promptly_and_frees_leases(
    pool: KeyPool, dead_url: str
) -> None:
    """Three GETs on a Session to a dead port: three prompt errors, nothing in flight.

    requests tells an auth nothing when a send raises; each call ends the
    lease its predecessor on the thread left, and a collected request or
    the end of the block ends the last one.
    """
    with requests.Session() as session, pool.auth("dead") as auth:
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(requests.ConnectionError):
                session.get(dead_url + "/x", auth=auth)
            assert time.monotonic() - started < PROMPT
            assert pool.snapshot().in_flight <= 1
        # urllib3's error keeps the request in a reference cycle; once it is
        # collected, the reaper thread ends the lease.
        gc.collect()
        assert wait_until(lambda: pool.snapshot().in_flight == 0)
    assert pool.snapshot().in_flight == 0


def test_requests_mounted_session_frees_lease_at_once(
    pool: KeyPool, dead_url: str
) -> None:
    """With the session mounted, each refused send ends its lease before it raises."""
    with requests.Session() as session, pool.auth("dead") as auth:
        session.auth = auth
        auth.mount(session)
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(requests.ConnectionError):
                session.get(dead_url + "/x")
            assert time.monotonic() - started < PROMPT
            assert pool.snapshot().in_flight == 0


def test_requests_dead_port_lease_ends_when_the_block_ends(
    pool: KeyPool, dead_url: str
) -> None:
    """A lease left by a failed send while the error is kept ends with the block."""
    errors = []
    with pool.auth("dead") as auth:
        try:
            requests.get(dead_url + "/x", auth=auth)
        except requests.ConnectionError as exc:
            errors.append(exc)  # keeps the request alive
        assert pool.snapshot().in_flight == 1
    assert pool.snapshot().in_flight == 0
    assert errors


def test_requests_client_refused_connection_refunds_the_key(dead_url: str) -> None:
    """Through RequestsClient a refused send is released at once, key not cooled."""
    with (
        KeyPool([KeyConfig("k1", TOKENS["k1"], per_window=(1, 60))]) as pool,
        pool.requests_client("dead") as client,
    ):
        for _ in range(2):
            with pytest.raises(requests.ConnectionError):
                client.get(dead_url + "/x")
            key = pool.snapshot().key("k1")
            assert key.in_flight == 0
            assert key.cooldown_left == 0
            assert key.windows_left == (1,)


def test_requests_client_retries_a_dropped_get_on_another_key(
    pool: KeyPool, serve: Serve
) -> None:
    """A dropped connection cools the key and the GET goes out again."""
    server = serve(first_then(dropped))
    with pool.requests_client("drop") as client:
        answer = client.get(server.url + "/x")
    assert answer.status_code == 200
    assert len(server.seen) == 2
    assert pool.snapshot().key("k1").cooldown_left > 0
    assert pool.snapshot().in_flight == 0


def test_requests_client_gives_up_after_attempts_on_drops(
    pool: KeyPool, serve: Serve
) -> None:
    """Every connection dropped: the last error is raised, the pool is whole."""
    server = serve(dropped)
    with (
        pool.requests_client("drop", retry_attempts=2) as client,
        pytest.raises(requests.ConnectionError),
    ):
        client.get(server.url + "/x")
    assert len(server.seen) == 2
    assert pool.snapshot().in_flight == 0


@pytest.mark.parametrize("mounted", [True, False])
def test_requests_answer_broken_mid_body_leaves_pool_whole(
    pool: KeyPool, serve: Serve, mounted: bool
) -> None:
    """An answer cut off after its headers: an error for the caller, no lease left."""
    server = serve(broken_body)
    with requests.Session() as session, pool.auth("b") as auth:
        session.auth = auth
        if mounted:
            auth.mount(session)
        with pytest.raises(requests.RequestException):
            session.get(server.url + "/x")
        assert pool.snapshot().in_flight == 0


def broken_gen() -> Iterator[bytes]:
    """A request body that raises after its first chunk."""
    yield b"chunk-one|"
    raise ValueError("the body broke")


@pytest.mark.parametrize("mounted", [True, False])
def test_requests_body_that_raises_leaves_key_unharmed(
    pool: KeyPool, serve: Serve, mounted: bool
) -> None:
    """The caller's body raising is the caller's error: no cooldown, no lease left."""
    server = serve(ok)
    with requests.Session() as session, pool.auth("b") as auth:
        if mounted:
            auth.mount(session)
        with pytest.raises(ValueError, match="the body broke"):
            session.post(server.url + "/x", data=broken_gen(), auth=auth)
        session.get(server.url + "/x", auth=auth)  # ends a lease left behind
    snapshot = pool.snapshot()
    assert snapshot.in_flight == 0
    assert all(key.cooldown_left == 0 for key in snapshot.keys)


# -- redirects -----------------------------------------------------------------


@pytest.mark.parametrize("placement", ["header", "query"])
@pytest.mark.parametrize("path", ["client", "session", "function"])
def test_requests_redirect_to_other_origin_never_carries_key(
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
            with pool.requests_client("r", **options) as client:
                answer = client.get(url)
        elif path == "session":
            with requests.Session() as session, pool.auth("r", **options) as auth:
                session.auth = auth
                answer = session.get(url)
        else:
            with pool.auth("r", **options) as auth:
                answer = requests.get(url, auth=auth)
        assert answer.status_code == 200
        assert len(collector.seen) == 1
        assert server.seen[0].token in TOKENS.values()
        assert not any(collector.saw(token) for token in TOKENS.values())
        assert pool.snapshot().in_flight == 0


@pytest.mark.parametrize("placement", ["header", "query"])
def test_requests_same_origin_redirect_is_served_with_a_key(
    pool: KeyPool, serve: Serve, placement: str
) -> None:
    """A redirect within the origin reaches its target with a key."""
    servers: dict[str, AppServer] = {}
    server = servers["a"] = serve(bouncing(lambda: servers["a"].url))
    options: dict[str, Any] = {
        "auth_header": "X-Api-Key",
        "auth_scheme": "",
        "auth_in": placement,
    }
    with pool.auth("r", **options) as auth:
        answer = requests.get(server.url + "/old", auth=auth)
    assert answer.status_code == 200
    assert server.seen[-1].path == "/new"
    assert server.seen[-1].token in TOKENS.values()
    assert pool.snapshot().in_flight == 0


@pytest.mark.parametrize("placement", ["header", "query"])
def test_requests_redirect_back_to_origin_gets_a_key_again(
    pool: KeyPool, serve: Serve, placement: str
) -> None:
    """A -> B -> A: B sees no key; the hop back to A is sent with one, body whole."""
    servers: dict[str, AppServer] = {}
    origin = serve(bouncing(lambda: servers["b"].url))
    servers["b"] = serve(redirect_to(origin.url + "/final", code=307))
    options: dict[str, Any] = {
        "auth_header": "X-Api-Key",
        "auth_scheme": "",
        "auth_in": placement,
    }
    with pool.auth("r", **options) as auth:
        answer = requests.post(origin.url + "/start", data=b"payload", auth=auth)
    assert answer.status_code == 200
    assert not any(servers["b"].saw(token) for token in TOKENS.values())
    final = origin.seen[-1]
    assert (final.path, final.body) == ("/final", b"payload")
    assert final.token in TOKENS.values()
    assert pool.snapshot().in_flight == 0


# -- secrets -------------------------------------------------------------------


def test_requests_query_key_stays_out_of_logs_and_errors(
    pool: KeyPool, serve: Serve, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """With the key in the query, no log record or raised error shows it."""
    caplog.set_level(logging.DEBUG)
    server = serve(per_key({"k1": status(429, {"Retry-After": "0"})}))
    errors: list[BaseException] = []
    with pool.requests_client("s", auth_in="query") as client:
        assert client.get(server.url + "/x?api_key=mine").status_code == 200
        try:
            client.post(dead_url + "/x", data=b"{}")
        except requests.ConnectionError as exc:
            errors.append(exc)
    assert errors
    assert server.seen[0].query["api_key"] in TOKENS.values()
    assert_no_token(log_texts(caplog.records))
    assert_no_token(exception_texts(errors[0]))


def test_requests_reprs_hide_tokens(pool: KeyPool, serve: Serve) -> None:
    """The auth, the client, the exchange and the adapter never show a token."""
    server = serve(ok)
    with pool.requests_client("s") as client:
        client.get(server.url + "/x")
        adapter = client.session.get_adapter("http://")
        assert isinstance(adapter, GuardedAdapter)
        request = requests.Request("GET", server.url).prepare()
        client.auth(request)
        hooks = request.hooks["response"]
        exchange = next(h for h in hooks if isinstance(h, Exchange))
        texts = [
            repr(client),
            str(client.auth),
            repr(client.auth),
            repr(exchange),
            repr(adapter),
        ]
        exchange.abandon()
    assert_no_token(texts)
    assert "k1" in repr(client.auth)


# -- one-shot values and misuse ------------------------------------------------


def test_requests_headers_and_params_are_one_shot(pool: KeyPool) -> None:
    """headers() and params() hand out a token and end the grant at once."""
    with pool.auth("manual") as auth:
        headers = auth.headers()
        params = pool.auth("manual", auth_query_param="key").params()
    assert list(headers) == ["Authorization"]
    assert headers["Authorization"].removeprefix("Bearer ") in TOKENS.values()
    assert list(params) == ["key"]
    assert params["key"] in TOKENS.values()
    assert pool.snapshot().in_flight == 0


def test_sync_auth_refuses_an_async_pool() -> None:
    """SyncAuth needs a KeyPool."""
    from rotisserie import AsyncKeyPool

    with pytest.raises(ConfigError, match="KeyPool"):
        SyncAuth(AsyncKeyPool(configs()))  # type: ignore[arg-type]


def test_sync_auth_rejects_bad_options(pool: KeyPool) -> None:
    """Invalid placement or timeout is refused when the auth is made."""
    with pytest.raises(ConfigError):
        pool.auth("x", auth_in="cookie")
    with pytest.raises(ConfigError):
        pool.auth("x", timeout=-1)


def test_requests_client_needs_its_block(pool: KeyPool) -> None:
    """Using the client outside its block is a clear error."""
    client = pool.requests_client("x")
    with pytest.raises(RuntimeError, match="with block"):
        client.get("http://127.0.0.1:1/")


def test_requests_auth_options_reach_the_request(pool: KeyPool, serve: Serve) -> None:
    """Header, scheme and per-block retry overrides apply."""
    server = serve(status(429, {"Retry-After": "0"}))
    retry = RetryConfig(retry_attempts=2)
    with pool.auth(
        "o", auth_header="X-Key", auth_scheme="Token", retry_config=retry
    ) as auth:
        answer = requests.get(server.url + "/x", auth=auth)
    assert answer.status_code == 429
    assert len(server.seen) == 2
    assert all(s.headers["x-key"].startswith("Token tok-") for s in server.seen)


# -- the README ----------------------------------------------------------------


def test_readme_requests_example(rotisserie_simulator: SimulatorFactory) -> None:
    """Section 1, requests: runs as written against the simulator."""
    sim = rotisserie_simulator({"KEY_1": None, "KEY_2": None})
    from rotisserie import KeyConfig, KeyPool

    pool = KeyPool([KeyConfig("k1", "KEY_1"), KeyConfig("k2", "KEY_2")])

    with pool.auth(endpoint="orders", reserve=2, priority=1) as auth:
        r = requests.get(f"{sim.url}/orders", auth=auth)
        print(r.status_code)
    assert r.status_code == 200


def test_readme_configuration_examples(rotisserie_simulator: SimulatorFactory) -> None:
    """Section 2: pool defaults, per-auth overrides and the headers() tip run."""
    sim = rotisserie_simulator({"K1": None, "K2": None}, auth_header=None)
    from rotisserie import AuthConfig, KeyConfig, KeyPool, RetryConfig

    pool = KeyPool(
        [KeyConfig("k1", "K1"), KeyConfig("k2", "K2")],
        distribute=True,
        auth_config=AuthConfig(
            header="Authorization", scheme="Bearer", in_="header", query_param="api_key"
        ),
        retry_config=RetryConfig(
            retry_after_base=0.5,
            retry_after_growth=2.0,
            retry_after_cap=30.0,
            error_base=0.25,
            error_growth=2.0,
            error_cap=5.0,
            retry_attempts=8,
            retry_for_methods=["GET", "HEAD", "OPTIONS"],
        ),
    )

    with pool.auth(
        endpoint="search",
        reserve=2,
        priority=1,
        auth_config=AuthConfig(in_="query", query_param="api_key"),
        retry_config=RetryConfig(
            retry_attempts=4, retry_for_methods=["GET", "POST", "HEAD"]
        ),
    ) as auth:
        # The simulator reads the key from the query only (auth_header=None).
        assert requests.post(f"{sim.url}/search", auth=auth).status_code == 200

    with pool.auth(endpoint="users", reserve=1, priority=1) as auth:
        headers = auth.headers()  # {"Authorization": "Bearer <token>"}
        # use headers with any HTTP client; you must handle 429 yourself
    assert headers["Authorization"] in ("Bearer K1", "Bearer K2")

    # The shorthand fields, at the pool and per auth.
    pool = KeyPool(
        [KeyConfig("k1", "K1"), KeyConfig("k2", "K2")],
        auth_header="Authorization",
        auth_scheme="Bearer",
        auth_in="header",
        auth_query_param="api_key",
    )
    with pool.auth(
        endpoint="search",
        reserve=2,
        priority=1,
        auth_in="query",
        auth_query_param="api_key",
    ) as auth:
        assert requests.get(f"{sim.url}/search", auth=auth).status_code == 200


def test_readme_requests_client_example(rotisserie_simulator: SimulatorFactory) -> None:
    """Section 6, requests_client: runs as written against the simulator."""
    sim = rotisserie_simulator({"T1": None, "T2": None})
    from rotisserie import KeyConfig, KeyPool

    pool = KeyPool([KeyConfig("k1", "T1"), KeyConfig("k2", "T2")])
    with pool.requests_client(endpoint="users", reserve=2, priority=1) as client:
        r = client.get(f"{sim.url}/users")
    assert r.status_code == 200


def test_requests_client_methods(pool: KeyPool, serve: Serve) -> None:
    """Every verb of RequestsClient goes out with a key."""
    server = serve(ok)
    with pool.requests_client("verbs") as client:
        url = server.url + "/v"
        for send in (client.get, client.post, client.put, client.patch, client.delete):
            assert send(url).status_code == 200
        assert client.head(url).status_code == 200
        assert client.options(url).status_code == 200
    assert [s.method for s in server.seen] == [
        "GET",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "HEAD",
        "OPTIONS",
    ]
    assert all(s.token in TOKENS.values() for s in server.seen)
