"""Tests for the client-independent part of the adapters (rotisserie.adapters._flow)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rotisserie import (
    AuthConfig,
    KeyConfig,
    KeyPool,
    LeaseStatus,
    NoKeyAvailable,
    ResultAlreadyReported,
    RetryConfig,
)
from rotisserie.adapters import _flow
from rotisserie.adapters._flow import (
    Call,
    build_settings,
    drop_query_param,
    find_error,
    is_interruption,
    origin_of,
    redirect_origin,
    scrub_exception,
    set_query_param,
    wants_body,
    worth_waiting,
)

TOKEN = "tok-flow-0123456789abcdef"


@pytest.fixture
def pool() -> Iterator[KeyPool]:
    """A pool of one key with a known window, and a second plain key."""
    keys = [KeyConfig("k1", TOKEN, per_window=(2, 60)), KeyConfig("k2", "tok-other-42")]
    with KeyPool(keys) as pool:
        yield pool


def make_call(
    pool: KeyPool, method: str = "GET", *, replayable: bool = True, **retry: object
) -> Call:
    """A Call on ``pool`` with the given retry fields."""
    settings = build_settings(
        pool,
        "flow",
        auth_config=None,
        auth_header=None,
        auth_scheme=None,
        auth_in=None,
        auth_query_param=None,
        retry_config=RetryConfig(**retry) if retry else None,  # type: ignore[arg-type]
        retry_attempts=None,
        retry_for_methods=None,
        timeout=None,
    )
    return Call(pool, settings, method, replayable=replayable)


# -- placing the token ---------------------------------------------------------


def test_set_query_param_replaces_every_earlier_value() -> None:
    """Earlier values of the parameter go; the others keep spelling and order."""
    url = "http://h/p?a=1&api_key=old&b=%20x&api_key=older#frag"
    assert (
        set_query_param(url, "api_key", "new")
        == "http://h/p?a=1&b=%20x&api_key=new#frag"
    )


def test_set_query_param_encodes_the_value_and_handles_no_query() -> None:
    """A token with reserved characters is percent-encoded; a bare URL gains a query."""
    assert set_query_param("http://h/p", "k", "a&b=c/d") == "http://h/p?k=a%26b%3Dc%2Fd"


def test_set_query_param_matches_encoded_names() -> None:
    """A parameter name spelled with escapes is recognised."""
    assert (
        set_query_param("http://h/?api%5Fkey=1&x", "api_key", "2")
        == "http://h/?x&api_key=2"
    )


def test_drop_query_param() -> None:
    """Every value of the parameter goes; a URL without a query is unchanged."""
    assert drop_query_param("http://h/?a=1&k=2&k=3", "k") == "http://h/?a=1"
    assert drop_query_param("http://h/p", "k") == "http://h/p"


names = st.text(alphabet="abck_", min_size=1, max_size=4)
values = st.text(alphabet="xyz09-._~", max_size=5)


@given(st.lists(st.tuples(names, values), max_size=6), values)
def test_set_query_param_leaves_exactly_one_value(
    pairs: list[tuple[str, str]], token: str
) -> None:
    """Whatever the query, the parameter ends up once, with the token, and last."""
    query = "&".join(f"{k}={v}" for k, v in pairs)
    url = set_query_param(f"http://h/p?{query}", "k", token)
    parsed = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    assert [v for k, v in parsed if k == "k"] == [token]
    assert parsed[-1] == ("k", token)
    assert [p for p in parsed if p[0] != "k"] == [p for p in pairs if p[0] != "k"]


# -- origins -------------------------------------------------------------------


def test_origin_of_fills_default_ports_and_ignores_case() -> None:
    """Scheme and host are compared lower-cased, with the default port filled in."""
    assert origin_of("HTTPS://Api.Example.com/x") == ("https", "api.example.com", 443)
    assert origin_of("http://h:80/") == origin_of("http://h/")
    assert origin_of("http://h:8080/") != origin_of("http://h/")
    assert origin_of("https://h/") != origin_of("http://h/")


def test_redirect_origin_resolves_relative_locations() -> None:
    """Relative, scheme-relative and absolute locations all resolve."""
    base = "http://127.0.0.1:5000/a/b?x=1"
    assert redirect_origin(base, "/c") == ("http", "127.0.0.1", 5000)
    assert redirect_origin(base, "//evil.example/c") == ("http", "evil.example", 80)
    assert redirect_origin(base, "http://127.0.0.1:5001/") == (
        "http",
        "127.0.0.1",
        5001,
    )


def test_wants_body_only_for_key_statuses_of_small_size() -> None:
    """Only 401, 403 and 429 bodies are read, and only small or unsized ones."""
    assert wants_body(429, None)
    assert wants_body(401, "100")
    assert wants_body(403, str(_flow.INSPECTED_BODY_BYTES))
    assert not wants_body(429, str(_flow.INSPECTED_BODY_BYTES + 1))
    assert not wants_body(429, "lots")
    assert not wants_body(200, None)
    assert not wants_body(500, "10")


# -- settings ------------------------------------------------------------------


def test_build_settings_merges_over_the_pool() -> None:
    """Explicit configs and shorthands apply over the pool's defaults."""
    pool = KeyPool(
        [KeyConfig("k", TOKEN)],
        auth_header="X-Key",
        retry_config=RetryConfig(retry_attempts=5),
    )
    settings = build_settings(
        pool,
        "e",
        auth_config=None,
        auth_header=None,
        auth_scheme="",
        auth_in="query",
        auth_query_param="key",
        retry_config=None,
        retry_attempts=None,
        retry_for_methods=["post"],
        timeout=2.5,
    )
    assert settings.auth == AuthConfig(
        header="X-Key", scheme="", in_="query", query_param="key"
    )
    assert settings.retry.retry_attempts == 5
    assert settings.retry.retry_for_methods == ("POST",)
    assert settings.retry_wait == 2.5
    assert make_call(pool).settings.retry_wait == RetryConfig().retry_after_cap


# -- a call --------------------------------------------------------------------


def test_call_asks_for_another_key_after_429(pool: KeyPool) -> None:
    """A 429 on a GET with attempts left wants another key; the key cools."""
    call = make_call(pool)
    call.begin(pool.take_key("flow"))
    assert call.answered(429, {"Retry-After": "5"}, b"")
    assert not call.active
    assert pool.snapshot().key("k1").cooldown_left > 4


@pytest.mark.parametrize(
    ("status", "headers", "body", "again"),
    [
        (200, {}, None, False),
        (500, {}, None, False),
        (404, {}, None, False),
        (403, {}, b"{}", False),
        (401, {}, b'{"error": {"code": "invalid_api_key"}}', True),
        (429, {}, b'{"error": {"type": "insufficient_quota"}}', True),
        (403, {"x-ratelimit-remaining": "0"}, None, True),
    ],
)
def test_call_rotates_only_when_the_key_is_at_fault(
    pool: KeyPool, status: int, headers: dict[str, str], body: bytes | None, again: bool
) -> None:
    """Only answers that blame the key ask for another one."""
    call = make_call(pool)
    call.begin(pool.take_key("flow"))
    assert call.answered(status, headers, body) is again
    assert pool.snapshot().in_flight == 0


@pytest.mark.parametrize(
    ("method", "replayable", "attempts"),
    [("POST", True, 8), ("GET", False, 8), ("GET", True, 1)],
)
def test_call_does_not_send_again_against_the_rules(
    pool: KeyPool, method: str, replayable: bool, attempts: int
) -> None:
    """Method, body and attempt count can each forbid another attempt."""
    call = make_call(pool, method, replayable=replayable, retry_attempts=attempts)
    call.begin(pool.take_key("flow"))
    assert not call.answered(429, {}, None)
    assert pool.snapshot().key("k1").cooldown_left > 0


def test_call_failed_before_sending_refunds_the_key(pool: KeyPool) -> None:
    """A request that never left gives the window slot back and does not cool the key."""
    call = make_call(pool)
    call.begin(pool.take_key("flow"))
    assert not call.failed(ConnectionRefusedError(), sent=False)
    key = pool.snapshot().key("k1")
    assert (key.in_flight, key.windows_left, key.cooldown_left) == (0, (2,), 0)


def test_call_failed_after_sending_cools_and_may_retry(pool: KeyPool) -> None:
    """A reset after sending cools the key; a GET may go again."""
    call = make_call(pool)
    call.begin(pool.take_key("flow"))
    assert call.failed(ConnectionResetError(), sent=True)
    key = pool.snapshot().key("k1")
    assert key.cooldown_left > 0
    assert key.windows_left == (1,)


@pytest.mark.parametrize("error", [asyncio.CancelledError(), KeyboardInterrupt(), None])
def test_call_cancelled_leaves_key_health_alone(
    pool: KeyPool, error: BaseException | None
) -> None:
    """A caller giving up releases the lease, no cooldown, no refund."""
    call = make_call(pool)
    call.begin(pool.take_key("flow"))
    assert not call.failed(error, sent=True, cancelled=error is None)
    key = pool.snapshot().key("k1")
    assert (key.in_flight, key.cooldown_left, key.windows_left) == (0, 0, (1,))


def test_call_tolerates_a_lease_ended_elsewhere(pool: KeyPool) -> None:
    """A report after a cleanup path ended the lease is dropped quietly."""
    call = make_call(pool)
    lease = pool.take_key("flow")
    call.begin(lease)
    pool.release(lease, sent=True)
    assert call.answered(429, {}, None)
    call.begin(lease)
    assert not call.failed(OSError(), sent=True)
    call.begin(lease)
    call.abandon()
    assert lease.status is LeaseStatus.RELEASED


def test_call_report_race_is_swallowed(
    pool: KeyPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool refusing a report (ended meanwhile) does not reach the caller."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise ResultAlreadyReported("ended elsewhere")

    call = make_call(pool)
    lease = pool.take_key("flow")
    monkeypatch.setattr(pool, "mark_result", refuse)
    monkeypatch.setattr(pool, "release", refuse)
    for end in (
        lambda: call.answered(200, {}, None),
        lambda: call.failed(OSError(), sent=True),
        lambda: call.failed(OSError(), sent=False),
        call.abandon,
    ):
        call.begin(lease)
        end()
    monkeypatch.undo()
    pool.release(lease)


def test_call_repr_names_the_key_only(pool: KeyPool) -> None:
    """A call's repr shows the key name, never the token."""
    call = make_call(pool)
    call.begin(pool.take_key("flow"))
    assert "k1" in repr(call)
    assert TOKEN not in repr(call)
    call.abandon()


def test_worth_waiting(pool: KeyPool) -> None:
    """Wait only when a key is expected to free within the limit."""
    assert worth_waiting(NoKeyAvailable("e", 1.0), pool, 2.0)
    assert not worth_waiting(NoKeyAvailable("e", 3.0), pool, 2.0)
    assert worth_waiting(NoKeyAvailable("e", None), pool, 2.0)
    revoked = b'{"error": {"code": "invalid_api_key"}}'
    for _ in range(2):
        pool.mark_result(pool.take_key("flow"), 401, {}, body=revoked)
    assert not worth_waiting(NoKeyAvailable("e", None), pool, 2.0)


# -- errors --------------------------------------------------------------------


def test_is_interruption() -> None:
    """Cancellation and non-Exception errors are interruptions."""
    assert is_interruption(asyncio.CancelledError())
    assert is_interruption(KeyboardInterrupt())
    assert not is_interruption(OSError())
    assert not is_interruption(None)


class Wrapper(Exception):
    """An error that wraps another in its args and a ``reason``."""

    def __init__(self, inner: BaseException) -> None:
        super().__init__(inner)
        self.reason = inner


def test_find_error_looks_through_wrappers() -> None:
    """Args, reason, cause and context are all searched."""
    inner = ConnectionRefusedError("refused")
    assert find_error(Wrapper(inner), (ConnectionRefusedError,))
    try:
        try:
            raise inner
        except OSError as exc:
            raise RuntimeError("outer") from exc
    except RuntimeError as outer:
        assert find_error(outer, (ConnectionRefusedError,))
    assert not find_error(RuntimeError("x"), (ConnectionRefusedError,))


def test_scrub_exception_masks_nested_text_in_place() -> None:
    """The token is masked in the error and the errors it wraps; the type stays."""
    inner = OSError(7, f"GET /x?api_key={TOKEN} failed")
    outer = Wrapper(inner)
    outer.__context__ = TimeoutError(f"Connection timeout to host http://h/?k={TOKEN}")
    scrub_exception(outer, [TOKEN, ""])
    assert TOKEN not in str(outer)
    assert str(inner) == "[Errno 7] GET /x?api_key=*** failed"
    assert str(outer.__context__) == "Connection timeout to host http://h/?k=***"
    assert isinstance(outer, Wrapper)


def test_scrub_exception_survives_cycles() -> None:
    """An error whose context loops back is handled."""
    first = ValueError(TOKEN)
    second = ValueError(first)
    first.__context__ = second
    scrub_exception(second, [TOKEN])
    assert first.args == ("***",)


# -- logs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "logger", ["httpx", "urllib3.connectionpool", "urllib3.util.retry"]
)
def test_client_log_records_are_masked(
    pool: KeyPool, logger: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Records of the HTTP clients' loggers lose the token of a watched pool."""
    caplog.set_level(logging.DEBUG)
    _flow.protect_logs(pool)
    logging.getLogger(logger).info("GET %s", f"http://h/?api_key={TOKEN}")
    logging.getLogger(logger).info("plain %s", "text")
    assert [r.getMessage() for r in caplog.records] == [
        "GET http://h/?api_key=***",
        "plain text",
    ]


def test_broken_log_record_is_left_alone(
    pool: KeyPool, caplog: pytest.LogCaptureFixture
) -> None:
    """A record whose message cannot be built passes the filter untouched."""
    _flow.protect_logs(pool)
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "%d", ("x",), None)
    assert _flow._FILTER.filter(record)
    assert record.msg == "%d"
