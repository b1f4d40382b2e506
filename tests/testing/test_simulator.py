"""Tests for the vendor simulator in ``rotisserie.testing``."""

from __future__ import annotations

import asyncio
import copy
import email.utils
import inspect
import logging
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

import rotisserie.testing
from rotisserie.errors import ConfigError
from rotisserie.testing import (
    KeyStats,
    Limit,
    SimulatedKey,
    Simulator,
    SimulatorFactory,
    plugin,
)
from rotisserie.testing._faults import FaultDeck
from rotisserie.testing._headers import go_duration, seconds_text
from rotisserie.testing._limiters import Limiter, make_limiter

# The fixture under test; aliased here so the tests run whether or not the
# installed entry point has registered the plugin already.
rotisserie_simulator = plugin.rotisserie_simulator

SRC = Path(rotisserie.testing.__file__).resolve().parents[2]
TIMEOUT = 5.0


def get(url: str, token: str | None = None, **kwargs: object) -> requests.Response:
    """Send one GET with a bearer token, on a fresh connection."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(url, headers=headers, timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]


def statuses(url: str, token: str, count: int) -> list[int]:
    """Send ``count`` sequential requests and return their status codes."""
    return [get(url, token).status_code for _ in range(count)]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A running simulator with a limited, an unlimited and a revoked key."""
    simulator = Simulator(
        {"T1": Limit(3, 1.0), "T2": None},
        revoked=("T9",),
        quota_exhausted=("TQ",),
    )
    with simulator:
        yield simulator


# --- Limit and configuration -------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0, "seconds": 1.0}, "limit"),
        ({"limit": 1.5, "seconds": 1.0}, "limit"),
        ({"limit": True, "seconds": 1.0}, "limit"),
        ({"limit": 1, "seconds": 0}, "seconds"),
        ({"limit": 1, "seconds": math.inf}, "seconds"),
        ({"limit": 1, "seconds": "1"}, "seconds"),
        ({"limit": 1, "seconds": 1.0, "kind": "leaky"}, "kind"),
        ({"limit": 1, "seconds": 1.0, "burst": 2}, "burst"),
        ({"limit": 1, "seconds": 1.0, "kind": "bucket", "burst": 0}, "burst"),
    ],
)
def test_limit_invalid_field_raises(kwargs: dict[str, object], field: str) -> None:
    """An invalid Limit field raises a ValueError that names the field."""
    with pytest.raises(ValueError, match=f"^{field}:") as info:
        Limit(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, ConfigError)
    assert info.value.field == field


def test_limit_bucket_capacity_defaults_to_limit() -> None:
    """A bucket's capacity is its burst, or its limit when no burst is given."""
    assert Limit(20, 1.0, kind="bucket").capacity == 20
    assert Limit(20, 1.0, kind="bucket", burst=2).capacity == 2
    assert Limit(20, 2.0).rate == 10.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"auth_header": None, "query_param": None}, "auth_header"),
        ({"auth_header": ""}, "auth_header"),
        ({"auth_scheme": "Bearer token"}, "auth_scheme"),
        ({"retry_after": "minutes"}, "retry_after"),
        ({"rate_headers": ("github",)}, "rate_headers"),
        ({"latency": -1}, "latency"),
        ({"error_rate": 1.5}, "error_rate"),
        ({"drop_rate": -0.1}, "drop_rate"),
        ({"error_rate": 0.6, "drop_rate": 0.6}, "drop_rate"),
        ({"revoked": ("T1",), "quota_exhausted": ("T1",)}, "quota_exhausted"),
        ({"revoked": ("",)}, "revoked"),
    ],
)
def test_simulator_invalid_option_raises(kwargs: dict[str, object], field: str) -> None:
    """An invalid Simulator option raises a ConfigError that names it."""
    with pytest.raises(ConfigError, match=f"^{field}:"):
        Simulator({"T1": None}, **kwargs)  # type: ignore[arg-type]


def test_simulator_duplicate_keys_raise_without_token() -> None:
    """Two keys sharing a token or a name are refused, naming keys, not tokens."""
    shared = [SimulatedKey("sk-secret", name="a"), SimulatedKey("sk-secret", name="b")]
    with pytest.raises(ConfigError, match="share a token") as info:
        Simulator(shared)
    assert "sk-secret" not in str(info.value)
    with pytest.raises(ConfigError, match="named 'a'"):
        Simulator([SimulatedKey("t1", name="a"), SimulatedKey("t2", name="a")])
    with pytest.raises(ConfigError, match="keys"):
        Simulator([("T1", None)])  # type: ignore[list-item]


def test_repr_hides_tokens() -> None:
    """Neither the simulator, its keys, limits nor stats show a token in repr."""
    key = SimulatedKey("sk-live-SECRET", Limit(2, 1.0), name="alpha")
    sim = Simulator([key], revoked=())
    shown = [repr(sim), repr(key), repr(key.limit), repr(sim.stats())]
    assert all("SECRET" not in text for text in shown)
    assert "alpha" in repr(sim)


def test_simulated_key_name_defaults_to_token() -> None:
    """A SimulatedKey without a name is named after its token."""
    assert SimulatedKey("T1").name == "T1"
    assert SimulatedKey("T1", name="first").name == "first"


# --- Limiter algorithms, with a fake clock -----------------------------------

# Request times in whole milliseconds, so that arrivals land exactly on
# window edges as often as between them.
arrivals = st.lists(st.integers(0, 400), min_size=1, max_size=60).map(
    lambda gaps: [sum(gaps[: i + 1]) / 1000 for i in range(len(gaps))]
)
limits = st.integers(1, 5)
windows = st.sampled_from([0.1, 0.25, 0.5, 1.0])


def decide(limiter: Limiter, times: list[float]) -> list[bool]:
    """Ask ``limiter`` for a request at each time; return the decisions."""
    return [limiter.acquire(t).admitted for t in times]


@given(arrivals, limits, windows)
def test_sliding_never_exceeds_limit_in_any_span(
    times: list[float], limit: int, seconds: float
) -> None:
    """A sliding window admits a request exactly when fewer than limit were admitted in the span."""
    limiter = make_limiter(Limit(limit, seconds), origin=0.0)
    admitted: list[float] = []
    for t in times:
        # The limiter forgives 1 ns of float error at the window's edge.
        in_span = sum(1 for a in admitted if a > t - seconds + 1e-9)
        verdict = limiter.acquire(t)
        assert verdict.admitted == (in_span < limit)
        if verdict.admitted:
            admitted.append(t)
        assert sum(1 for a in admitted if a > t - seconds + 1e-9) <= limit


@given(arrivals, limits, windows, st.sampled_from([0.0, 0.037]))
def test_fixed_admits_limit_per_aligned_window(
    times: list[float], limit: int, seconds: float, origin: float
) -> None:
    """A fixed window admits at most limit per window aligned to the origin."""
    limiter = make_limiter(Limit(limit, seconds, kind="fixed"), origin=origin)
    per_window: dict[int, int] = {}
    for t in times:
        window = math.floor((t - origin) / seconds + 1e-9)
        expected = per_window.get(window, 0) < limit
        assert limiter.acquire(t).admitted == expected
        if expected:
            per_window[window] = per_window.get(window, 0) + 1


@given(arrivals, limits, windows, st.integers(1, 6))
def test_bucket_admits_burst_then_rate(
    times: list[float], limit: int, seconds: float, burst: int
) -> None:
    """A bucket never admits more than burst plus rate times the elapsed time."""
    rule = Limit(limit, seconds, kind="bucket", burst=burst)
    limiter = make_limiter(rule, origin=0.0)
    admitted = [t for t, ok in zip(times, decide(limiter, times), strict=True) if ok]
    for i, start in enumerate(admitted):
        for j in range(i, len(admitted)):
            allowed = burst + rule.rate * (admitted[j] - start)
            assert j - i + 1 <= allowed + 1e-6


def test_bucket_fresh_burst_then_one_per_interval() -> None:
    """A fresh bucket admits its whole burst at once, then one per 1/rate seconds."""
    limiter = make_limiter(Limit(10, 1.0, kind="bucket", burst=3), origin=0.0)
    assert decide(limiter, [0.0] * 4) == [True, True, True, False]
    assert limiter.peek(0.0).retry_after == pytest.approx(0.1)
    assert decide(limiter, [0.099, 0.1, 0.1, 0.2]) == [False, True, False, True]


@given(arrivals, limits, windows, st.sampled_from(["sliding", "fixed", "bucket"]))
def test_limiter_retry_after_is_exact(
    times: list[float], limit: int, seconds: float, kind: str
) -> None:
    """After a rejection, a request at retry_after is admitted and one just before is not."""
    limiter = make_limiter(Limit(limit, seconds, kind=kind), origin=0.0)  # type: ignore[arg-type]
    for t in times:
        verdict = limiter.acquire(t)
        if verdict.admitted:
            assert verdict.retry_after == 0.0 or verdict.remaining == 0
            continue
        assert verdict.retry_after > 0
        assert verdict.remaining == 0
        early = copy.deepcopy(limiter).acquire(t + verdict.retry_after * 0.99 - 1e-6)
        on_time = copy.deepcopy(limiter).acquire(t + verdict.retry_after)
        assert not early.admitted
        assert on_time.admitted


def test_limiter_reset_per_kind() -> None:
    """Reset is when the oldest request leaves, the window ends, or a token returns."""
    sliding = make_limiter(Limit(3, 1.0), origin=0.0)
    sliding.acquire(0.2)
    assert sliding.acquire(0.5).reset == pytest.approx(0.7)
    fixed = make_limiter(Limit(3, 1.0, kind="fixed"), origin=0.0)
    assert fixed.acquire(1.25).reset == pytest.approx(0.75)
    bucket = make_limiter(Limit(4, 1.0, kind="bucket"), origin=0.0)
    assert bucket.acquire(0.0).reset == pytest.approx(0.25)
    assert bucket.peek(10.0).reset == 0.0


# --- Header formatting -------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0s"),
        (0.0004, "1ms"),
        (0.85, "850ms"),
        (1.0, "1s"),
        (1.5, "1.5s"),
        (60.0, "1m0s"),
        (90.5, "1m30.5s"),
        (3600.0, "1h0m0s"),
        (3725.25, "1h2m5.25s"),
    ],
)
def test_go_duration_matches_go_format(seconds: float, text: str) -> None:
    """Durations print as Go's time.Duration does, rounded up to the millisecond."""
    assert go_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.0, "0"), (0.95, "0.95"), (2.0, "2"), (0.0001, "0.001")]
)
def test_seconds_text_is_short_decimal(seconds: float, text: str) -> None:
    """Seconds print as the shortest decimal, rounded up to the millisecond."""
    assert seconds_text(seconds) == text


# --- Fault injection ---------------------------------------------------------


def test_fault_deck_counts_are_exact_per_deck() -> None:
    """Every run of one deck holds exactly the configured errors and drops."""
    deck = FaultDeck(error_rate=0.1, drop_rate=0.2, seed=3)
    assert deck.size == 10
    draws = [deck.draw() for _ in range(100)]
    for start in range(0, 100, 10):
        block = draws[start : start + 10]
        assert (block.count("error"), block.count("drop")) == (1, 2)


def test_fault_deck_is_seeded() -> None:
    """The same seed gives the same faults; other seeds shuffle differently."""

    def pattern(seed: int) -> list[str]:
        deck = FaultDeck(error_rate=0.25, drop_rate=0.0, seed=seed)
        return [deck.draw() for _ in range(40)]

    assert pattern(1) == pattern(1)
    assert len({tuple(pattern(seed)) for seed in range(10)}) > 1
    assert set(FaultDeck(0.0, 0.0, 0).draw() for _ in range(5)) == {"none"}


# --- HTTP behaviour ----------------------------------------------------------


def test_simulator_echoes_admitted_request(sim: Simulator) -> None:
    """An admitted request gets 200 and an echo of its key, method, path and body size."""
    response = requests.post(
        f"{sim.url}/v1/chat?x=1",
        headers={"Authorization": "Bearer T2"},
        data=b"x" * 1000,
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert response.json() == {
        "key": "T2",
        "method": "POST",
        "path": "/v1/chat",
        "body_length": 1000,
    }


def test_simulator_key_sources_are_configurable() -> None:
    """Keys are read from a raw custom header or from the query parameter."""
    raw = Simulator({"T1": None}, auth_header="X-Api-Key", auth_scheme="")
    with raw, httpx.Client(base_url=raw.url, timeout=TIMEOUT) as client:
        assert client.get("/a", headers={"X-Api-Key": "T1"}).status_code == 200
        assert client.get("/a", params={"api_key": "T1"}).status_code == 200
        assert client.get("/a", headers={"Authorization": "T1"}).status_code == 401
    with Simulator({"T1": None}, query_param=None) as sim:
        assert get(sim.url, "T1", params={"api_key": "T2"}).status_code == 200
        assert (
            requests.get(sim.url, params={"api_key": "T1"}, timeout=TIMEOUT).status_code
            == 401
        )
        lowercase = {"Authorization": "bearer T1"}
        assert (
            requests.get(sim.url, headers=lowercase, timeout=TIMEOUT).status_code == 200
        )


@pytest.mark.parametrize("token", [None, "nope", "T9"])
def test_simulator_unknown_missing_or_revoked_key_is_401(
    sim: Simulator, token: str | None
) -> None:
    """A missing, unknown or revoked key gets 401 invalid_api_key."""
    response = get(f"{sim.url}/v1/x", token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert sim.total_unauthorized == 1


def test_simulator_quota_exhausted_is_429_without_retry_after(sim: Simulator) -> None:
    """A key out of quota gets 429 insufficient_quota and no Retry-After."""
    response = get(sim.url, "TQ")
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "insufficient_quota"
    assert "Retry-After" not in response.headers
    assert sim.stats()["TQ"].rejected == 1


def test_simulator_revoke_and_restore_at_runtime(sim: Simulator) -> None:
    """A key can be revoked, exhausted and restored while the simulator runs."""
    sim.revoke("T2")
    assert get(sim.url, "T2").status_code == 401
    sim.exhaust_quota("T2")
    assert get(sim.url, "T2").status_code == 429
    sim.restore("T2")
    assert get(sim.url, "T2").status_code == 200
    with pytest.raises(KeyError):
        sim.revoke("missing")


def test_simulator_sliding_limit_over_http() -> None:
    """Over HTTP a sliding key admits its limit, rejects, then admits once the oldest leaves."""
    with Simulator({"T1": Limit(3, 0.4)}) as sim:
        assert statuses(sim.url, "T1", 1) == [200]
        # Space the first request from the others, so that only it leaves.
        time.sleep(0.2)
        assert statuses(sim.url, "T1", 3) == [200, 200, 429]
        wait_ms = int(get(sim.url, "T1").headers["retry-after-ms"])
        assert 0 < wait_ms <= 200
        time.sleep(wait_ms / 1000)
        assert statuses(sim.url, "T1", 2) == [200, 429]


def test_simulator_sliding_window_holds_under_load() -> None:
    """Hammered by concurrent clients, a sliding key never admits more than its limit per span."""
    seconds, limit = 0.3, 5

    def hammer(url: str, until: float) -> None:
        with requests.Session() as session:
            while time.monotonic() < until:
                session.get(
                    url, headers={"Authorization": "Bearer T1"}, timeout=TIMEOUT
                )

    with Simulator({"T1": Limit(limit, seconds)}) as sim:
        until = time.monotonic() + 0.9
        workers = [
            threading.Thread(target=hammer, args=(sim.url, until)) for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        stats = sim.stats()["T1"]

    assert stats.rejected > stats.granted
    # The wall-clock stamps are taken a moment after the limiter's monotonic
    # clock, so the span checked is a little shorter than the window.
    span = seconds - 0.02
    for t in stats.times:
        assert sum(1 for u in stats.times if t - span < u <= t) <= limit


def test_simulator_fixed_window_resets_at_boundary() -> None:
    """A fixed key is refused until its window ends, then admits a full window again."""
    with Simulator(
        {"T1": Limit(2, 0.3, kind="fixed")}, rate_headers="x-ratelimit"
    ) as sim:
        codes = statuses(sim.url, "T1", 3)
        if codes != [200, 200, 429]:
            # The first requests straddled a window edge; start in a new window.
            time.sleep(float(get(sim.url, "T1").headers["x-ratelimit-reset"]))
            codes = statuses(sim.url, "T1", 3)
        assert codes == [200, 200, 429]
        rejected = get(sim.url, "T1")
        reset = float(rejected.headers["x-ratelimit-reset"])
        assert 0 < reset <= 0.3
        assert int(rejected.headers["retry-after-ms"]) == math.ceil(reset * 1000)
        time.sleep(reset)
        assert statuses(sim.url, "T1", 3) == [200, 200, 429]


def test_simulator_bucket_bursts_then_refills() -> None:
    """A bucket key admits its burst, then one request per refill interval."""
    with Simulator({"T2": Limit(10, 1.0, kind="bucket", burst=2)}) as sim:
        assert statuses(sim.url, "T2", 3) == [200, 200, 429]
        wait_ms = int(get(sim.url, "T2").headers["retry-after-ms"])
        assert 0 < wait_ms <= 100
        time.sleep(wait_ms / 1000)
        assert statuses(sim.url, "T2", 2) == [200, 429]


def test_retry_after_seconds_rounds_up_and_ms_is_precise() -> None:
    """Retry-After is the wait rounded up to seconds; retry-after-ms is exact to the millisecond."""
    with Simulator({"T1": Limit(1, 0.6)}) as sim:
        first = time.monotonic()
        assert get(sim.url, "T1").status_code == 200
        response = get(sim.url, "T1")
        elapsed_ms = (time.monotonic() - first) * 1000
        wait_ms = int(response.headers["retry-after-ms"])

        assert response.status_code == 429
        assert response.json()["error"]["code"] == "rate_limit_exceeded"
        assert 600 - elapsed_ms - 1 <= wait_ms <= 600
        assert response.headers["Retry-After"] == str(math.ceil(wait_ms / 1000))
        time.sleep(max(wait_ms - 100, 0) / 1000)
        assert get(sim.url, "T1").status_code == 429
        time.sleep(0.1)
        assert get(sim.url, "T1").status_code == 200


def test_retry_after_date_is_http_date() -> None:
    """With retry_after='date' the header is an HTTP-date no earlier than the key frees."""
    with Simulator({"T1": Limit(1, 1.0)}, retry_after="date") as sim:
        get(sim.url, "T1")
        before = time.time()
        response = get(sim.url, "T1")

    assert response.status_code == 429
    header = response.headers["Retry-After"]
    assert header.endswith(" GMT")
    when = email.utils.parsedate_to_datetime(header).timestamp()
    assert before < when <= before + 2.0
    assert "retry-after-ms" not in response.headers


def test_retry_after_none_sends_no_header() -> None:
    """With retry_after=None a 429 carries no Retry-After at all."""
    with Simulator({"T1": Limit(1, 1.0)}, retry_after=None) as sim:
        codes = statuses(sim.url, "T1", 2)
        response = get(sim.url, "T1")
    assert codes == [200, 429]
    assert "Retry-After" not in response.headers
    assert "retry-after-ms" not in response.headers


def test_rate_headers_report_limit_remaining_reset() -> None:
    """Each header style reports limit, remaining and reset for a limited key."""
    styles = ("x-ratelimit", "openai", "ietf")
    with Simulator({"T1": Limit(5, 2.0), "T2": None}, rate_headers=styles) as sim:
        first = get(sim.url, "T1").headers
        for _ in range(4):
            get(sim.url, "T1")
        rejected = get(sim.url, "T1").headers
        unlimited = get(sim.url, "T2").headers

    assert first["x-ratelimit-limit"] == "5"
    assert first["x-ratelimit-remaining"] == "4"
    assert first["x-ratelimit-reset"] == "2"
    assert first["x-ratelimit-limit-requests"] == "5"
    assert first["x-ratelimit-remaining-requests"] == "4"
    assert first["x-ratelimit-reset-requests"] == "2s"
    assert first["RateLimit-Policy"] == "5;w=2"
    assert first["RateLimit"] == "limit=5, remaining=4, reset=2"

    assert rejected["x-ratelimit-remaining"] == "0"
    assert 0 < float(rejected["x-ratelimit-reset"]) <= 2.0
    assert rejected["x-ratelimit-reset-requests"].endswith(("ms", "s"))
    assert rejected["RateLimit"].startswith("limit=5, remaining=0, reset=")
    assert not any(
        name.lower().startswith(("x-ratelimit", "ratelimit")) for name in unlimited
    )


def test_redirect_route_needs_no_key_and_records_it(sim: Simulator) -> None:
    """The redirect route answers 302 to its target and records any key sent."""
    target = "http://example.invalid/next?a=1"
    response = get(
        f"{sim.url}/_redirect", "T1", params={"to": target}, allow_redirects=False
    )
    assert response.status_code == 302
    assert response.headers["Location"] == target
    assert sim.requests[-1].key_name == "T1"
    anonymous = requests.get(
        f"{sim.url}/_redirect",
        params={"to": target},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert anonymous.status_code == 302
    assert get(f"{sim.url}/_redirect", params={"to": "/relative"}).status_code == 400
    assert sim.stats()["T1"].granted == 0


def test_saw_token_detects_key_carried_across_redirect(sim: Simulator) -> None:
    """A second simulator tells whether a client carried a key across a redirect."""
    with Simulator({"B1": None}) as other:
        target = f"{other.url}/landing"
        response = get(f"{sim.url}/_redirect", "T1", params={"to": target})
        # requests drops Authorization when the port changes.
        assert response.status_code == 401
        assert not other.saw_token("T1")
        get(target, "T1")
        assert other.saw_token("T1")
        assert other.requests[-1].key_name is None


def test_status_route_answers_code_after_auth(sim: Simulator) -> None:
    """The status route checks the key first, then answers the requested code."""
    assert get(f"{sim.url}/_status/418").status_code == 401
    teapot = get(f"{sim.url}/_status/418", "T2")
    assert teapot.status_code == 418
    assert teapot.json()["key"] == "T2"
    empty = get(f"{sim.url}/_status/204", "T2")
    assert (empty.status_code, empty.content) == (204, b"")
    assert get(f"{sim.url}/_status/abc", "T2").status_code == 400
    assert sim.stats()["T2"].granted == 3


def test_stats_route_needs_no_key(sim: Simulator) -> None:
    """GET /_stats returns the counters as JSON without a key."""
    get(sim.url, "T1")
    get(sim.url, "nope")
    body = requests.get(f"{sim.url}/_stats", timeout=TIMEOUT).json()
    assert body["keys"]["T1"]["granted"] == 1
    assert body["total_unauthorized"] == 1
    assert "times" not in body["keys"]["T1"]


def test_latency_delays_each_answer() -> None:
    """An admitted request is answered no sooner than the configured latency."""
    with Simulator({"T1": None}, latency=0.2) as sim:
        started = time.monotonic()
        assert get(sim.url, "T1").status_code == 200
        assert time.monotonic() - started >= 0.2


def test_error_rate_is_seeded_and_exact() -> None:
    """A seeded error rate answers exactly that share of requests 503, in a repeatable order."""

    def run(seed: int) -> tuple[list[int], KeyStats]:
        with Simulator({"T1": None}, error_rate=0.25, seed=seed) as sim:
            return statuses(sim.url, "T1", 12), sim.stats()["T1"]

    codes, stats = run(5)
    assert codes.count(503) == 3
    assert (stats.errors, stats.granted) == (3, 9)
    assert run(5)[0] == codes


def test_drop_rate_closes_connections() -> None:
    """A dropped request loses its connection without any answer."""
    with Simulator({"T1": None}, drop_rate=0.5, seed=1) as sim:
        outcomes: list[int | str] = []
        for _ in range(6):
            try:
                outcomes.append(get(sim.url, "T1").status_code)
            except requests.ConnectionError:
                outcomes.append("dropped")
        stats = sim.stats()["T1"]
    assert outcomes.count("dropped") == 3
    assert outcomes.count(200) == 3
    assert (stats.dropped, stats.granted) == (3, 3)


def test_stats_count_outcomes_and_reset(sim: Simulator) -> None:
    """Stats count each outcome per key name, stamp grants, and reset on demand."""
    before = time.time()
    statuses(sim.url, "T1", 4)
    get(sim.url, "T9")
    stats = sim.stats()
    assert (stats["T1"].granted, stats["T1"].rejected) == (3, 1)
    assert stats["T9"].unauthorized == 1
    assert all(before <= t <= time.time() for t in stats["T1"].times)
    assert list(stats["T1"].times) == sorted(stats["T1"].times)
    assert (sim.total_granted, sim.total_rejected) == (3, 1)
    assert len(sim.requests) == 5

    sim.reset_stats()
    assert sim.stats()["T1"] == KeyStats()
    assert sim.requests == []


def test_record_requests_off_keeps_counters_only() -> None:
    """With recording off the simulator counts requests but keeps none."""
    with Simulator({"T1": None}, record_requests=False) as sim:
        get(sim.url, "T1")
        assert sim.requests == []
        assert sim.total_granted == 1


async def test_max_in_flight_counts_concurrent_requests() -> None:
    """Concurrent slow requests on one key raise its max_in_flight to their number."""
    async with Simulator({"T1": None, "T2": None}, latency=0.3) as sim:
        headers = {"Authorization": "Bearer T1"}
        async with aiohttp.ClientSession() as session:

            async def fetch() -> int:
                async with session.get(sim.url, headers=headers) as response:
                    return response.status

            codes = await asyncio.gather(*(fetch() for _ in range(5)))
        stats = sim.stats()
    assert codes == [200] * 5
    assert stats["T1"].max_in_flight == 5
    assert stats["T2"].max_in_flight == 0


# --- Lifecycle ---------------------------------------------------------------


def simulator_threads() -> list[threading.Thread]:
    """Return the live simulator threads."""
    return [t for t in threading.enumerate() if t.name == "rotisserie-simulator"]


def test_simulator_sync_start_stop_leaves_no_thread() -> None:
    """start() serves from a thread; stop() ends it promptly and can be repeated."""
    sim = Simulator({"T1": Limit(1, 60.0)})
    url = sim.start()
    assert url.startswith("http://127.0.0.1:")
    assert sim.url == url
    assert len(simulator_threads()) == 1
    assert statuses(url, "T1", 2) == [200, 429]
    with requests.Session() as session:
        # An idle keep-alive connection must not hold up the stop.
        session.get(url, timeout=TIMEOUT)
        started = time.monotonic()
        sim.stop()
        assert time.monotonic() - started < 1.0
    sim.stop()
    assert simulator_threads() == []
    assert not sim.running
    with pytest.raises(RuntimeError, match="not running"):
        _ = sim.url

    # A restart serves on a new port with fresh limiter state.
    with sim:
        assert get(sim.url, "T1").status_code == 200


def test_simulator_start_twice_raises(sim: Simulator) -> None:
    """Starting a running simulator raises instead of leaking a server."""
    with pytest.raises(RuntimeError, match="already running"):
        sim.start()


async def test_simulator_async_runs_on_callers_loop() -> None:
    """astart() serves on the running loop and astop() frees the port."""
    sim = Simulator({"T1": None})
    url = await sim.astart()
    assert simulator_threads() == []
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params={"api_key": "T1"}) as response:
            assert response.status == 200
            assert (await response.json())["key"] == "T1"
        with pytest.raises(RuntimeError, match="astop"):
            sim.stop()
        await sim.astop()
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(url)


async def test_simulator_astop_is_prompt_with_request_in_flight() -> None:
    """astop() returns quickly even while a slow request is being served."""
    slow = Simulator({"T1": None}, latency=30.0)
    async with slow as sim, aiohttp.ClientSession() as session:

        async def fetch() -> int:
            async with session.get(sim.url, params={"api_key": "T1"}) as response:
                return response.status

        task = asyncio.create_task(fetch())
        for _ in range(500):
            if sim.stats()["T1"].granted:
                break
            await asyncio.sleep(0.01)
        started = time.monotonic()
        await sim.astop()
        assert time.monotonic() - started < 1.0
        with pytest.raises(aiohttp.ClientError):
            await task


async def test_simulator_astop_stops_thread_started_simulator() -> None:
    """astop() also stops a simulator that start() put on a thread."""
    sim = Simulator({"T1": None})
    sim.start()
    await sim.astop()
    assert simulator_threads() == []


# --- Secrets -----------------------------------------------------------------


def test_logs_never_contain_tokens(caplog: pytest.LogCaptureFixture) -> None:
    """No log record from rotisserie or aiohttp contains a token, even one in the path."""
    token = "sk-live-0123456789"
    caplog.set_level(logging.DEBUG)
    keys = [SimulatedKey(token, Limit(1, 60.0), name="alpha")]
    with Simulator(keys, revoked=("sk-dead-999",), error_rate=0.5) as sim:
        for _ in range(4):
            get(f"{sim.url}/v1/{token}", params={"api_key": token})
        get(sim.url, "sk-dead-999")
        get(f"{sim.url}/_stats")
    ours = [r for r in caplog.records if r.name.startswith(("rotisserie", "aiohttp"))]
    assert any("alpha" in r.getMessage() for r in ours)
    for record in ours:
        assert token not in record.getMessage()
    # A record shows its path, but never the headers or query that carry keys.
    assert all(token not in repr(r) for r in sim.requests if token not in r.path)


# --- Public API and pytest plugin --------------------------------------------


def test_all_lists_public_names() -> None:
    """The package exports exactly the documented names, each importable."""
    assert sorted(rotisserie.testing.__all__) == [
        "KeyStats",
        "Limit",
        "RecordedRequest",
        "RedisServer",
        "SimulatedKey",
        "Simulator",
        "SimulatorFactory",
    ]
    for name in rotisserie.testing.__all__:
        assert getattr(rotisserie.testing, name) is not None
    with pytest.raises(AttributeError):
        _ = rotisserie.testing.Missing


def test_factory_protocol_matches_simulator_signature() -> None:
    """The fixture's protocol takes exactly the arguments of Simulator."""
    protocol = inspect.signature(SimulatorFactory.__call__).parameters
    simulator = inspect.signature(Simulator.__init__).parameters
    assert list(protocol) == list(simulator)
    for name, parameter in protocol.items():
        assert parameter.kind == simulator[name].kind


def test_fixture_starts_and_stops_simulators(
    rotisserie_simulator: SimulatorFactory,
) -> None:
    """The fixture factory returns running simulators."""
    first = rotisserie_simulator(keys={"T1": Limit(1, 60.0)})
    second = rotisserie_simulator({"T2": None}, latency=0.0)
    assert statuses(first.url, "T1", 2) == [200, 429]
    assert get(second.url, "T2").status_code == 200
    assert len(simulator_threads()) == 2


def run_python(code: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run Python code in a fresh interpreter that can import rotisserie."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_plugin_imports_without_aiohttp() -> None:
    """The plugin and value types import without aiohttp; Simulator explains what is missing."""
    code = (
        "import sys\n"
        "sys.modules['aiohttp'] = None\n"
        "import rotisserie.testing.plugin\n"
        "from rotisserie.testing import Limit, KeyStats\n"
        "try:\n"
        "    from rotisserie.testing import Simulator\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert "rotisserie[testing]" in result.stdout


def test_plugin_fixture_works_in_fresh_pytest_run(tmp_path: Path) -> None:
    """Loaded as a pytest plugin, the fixture runs and stops a simulator."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    (tmp_path / "test_user.py").write_text(
        "import requests\n"
        "from rotisserie.testing import Limit\n"
        "def test_user(rotisserie_simulator):\n"
        "    sim = rotisserie_simulator(keys={'k': Limit(1, 60.0)})\n"
        "    r = requests.get(sim.url, headers={'Authorization': 'Bearer k'}, timeout=5)\n"
        "    assert r.json()['key'] == 'k'\n"
    )
    # Block the entry point by name, in case rotisserie is installed, so the
    # module is registered exactly once.
    args = [
        *("-q", "-p", "no:rotisserie", "-p", "rotisserie.testing.plugin"),
        *("-p", "no:cacheprovider", "-p", "no:asyncio"),
    ]
    result = run_python(
        f"import pytest, sys; sys.exit(pytest.main({args}))", cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
