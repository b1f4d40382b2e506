"""Tests for the exception tree and for messages that name the field and never the token."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest

import rotisserie.errors
from rotisserie import (
    AsyncKeyPool,
    AuthConfig,
    ConfigError,
    ForeignKeyError,
    KeyConfig,
    KeyPool,
    NoKeyAvailable,
    PoolClosed,
    ResultAlreadyReported,
    RetryConfig,
    RotisserieError,
    StateBackendError,
    WouldBlockError,
)

TOKEN = "sk-proj-DO-NOT-PRINT-4242"


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- the tree -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "bases"),
    [
        (ConfigError, (RotisserieError, ValueError)),
        (NoKeyAvailable, (RotisserieError,)),
        (PoolClosed, (NoKeyAvailable, RotisserieError)),
        (ForeignKeyError, (RotisserieError, ValueError)),
        (ResultAlreadyReported, (RotisserieError,)),
        (WouldBlockError, (RotisserieError, RuntimeError)),
        (StateBackendError, (RotisserieError,)),
        (RotisserieError, (Exception,)),
    ],
)
def test_error_tree_bases(
    error: type[Exception], bases: tuple[type[Exception], ...]
) -> None:
    """Each exception derives from RotisserieError and the builtin a caller would catch."""
    assert all(issubclass(error, base) for base in bases)


def test_error_tree_drawn_in_docstring() -> None:
    """The errors module docstring draws every exception it exports."""
    doc = rotisserie.errors.__doc__ or ""
    assert set(rotisserie.errors.__all__) == {
        "ConfigError",
        "ForeignKeyError",
        "NoKeyAvailable",
        "PoolClosed",
        "ResultAlreadyReported",
        "RotisserieError",
        "StateBackendError",
        "WouldBlockError",
    }
    assert all(name in doc for name in rotisserie.errors.__all__)


def test_no_key_available_message_and_fields() -> None:
    """NoKeyAvailable carries the endpoint and retry_after and says both in its message."""
    soon = NoKeyAvailable("orders", 2.5)
    assert (soon.endpoint, soon.retry_after) == ("orders", 2.5)
    assert "'orders'" in str(soon) and "2.500 s" in str(soon)
    never = NoKeyAvailable("orders", None)
    assert never.retry_after is None and "no key is expected to free" in str(never)


def test_pool_closed_is_no_key_available_without_retry() -> None:
    """PoolClosed names the endpoint and never promises a key."""
    error = PoolClosed("events")
    assert (error.endpoint, error.retry_after) == ("events", None)
    assert "closed" in str(error) and "'events'" in str(error)


def test_config_error_prefixes_field() -> None:
    """ConfigError keeps the field and starts its message with it."""
    error = ConfigError("reserve", "must be an int of at least 0, got -1")
    assert error.field == "reserve"
    assert str(error) == "reserve: must be an int of at least 0, got -1"


# -- bad configuration names its field -------------------------------------------------


def key(**changes: object) -> KeyConfig:
    """A key config with the test token, changed as given."""
    fields: dict[str, object] = {"name": "k", "token": TOKEN, **changes}
    return KeyConfig(**fields)  # type: ignore[arg-type]


CONFIG_CASES: list[tuple[str, Callable[[], object]]] = [
    ("name", lambda: key(name="")),
    ("name", lambda: key(name="   ")),
    ("name", lambda: key(name=7)),
    ("token", lambda: key(token=12345)),
    ("token", lambda: key(token=TOKEN.encode())),
    ("token", lambda: key(token="")),
    ("per_window", lambda: key(per_window=(0, 60))),
    ("per_window", lambda: key(per_window=(5, 0))),
    ("per_window", lambda: key(per_window=(5, math.inf))),
    ("per_window", lambda: key(per_window=(1.5, 60))),
    ("per_window", lambda: key(per_window=[(5, 60), (0, 1)])),
    ("per_window", lambda: key(per_window="5/60")),
    ("max_in_flight", lambda: key(max_in_flight=0)),
    ("max_in_flight", lambda: key(max_in_flight=True)),
    ("weight", lambda: key(weight=0)),
    ("weight", lambda: key(weight=math.nan)),
    ("name", lambda: KeyPool([key(), key(token="other")])),
    ("keys", lambda: KeyPool([])),
    ("keys", lambda: KeyPool(TOKEN)),
    ("keys", lambda: KeyPool([TOKEN])),
    ("policy", lambda: KeyPool([key()], policy="random")),
    ("lease_timeout", lambda: KeyPool([key()], lease_timeout=-1)),
    ("retry_config", lambda: KeyPool([key()], retry_config={"retry_attempts": 3})),
    ("auth_config", lambda: KeyPool([key()], auth_config="query")),
    ("clock", lambda: KeyPool([key()], clock=1.0)),
    ("retry_after_base", lambda: RetryConfig(retry_after_base=0)),
    ("retry_after_growth", lambda: RetryConfig(retry_after_growth=0.5)),
    ("retry_after_cap", lambda: RetryConfig(retry_after_cap=-1)),
    ("error_base", lambda: RetryConfig(error_base=math.nan)),
    ("error_growth", lambda: RetryConfig(error_growth=math.inf)),
    ("error_cap", lambda: RetryConfig(error_cap=0)),
    ("retry_attempts", lambda: RetryConfig(retry_attempts=0)),
    ("retry_for_methods", lambda: RetryConfig(retry_for_methods="GET")),
    ("retry_for_methods", lambda: RetryConfig(retry_for_methods=None)),  # type: ignore[arg-type]
    ("retry_for_methods", lambda: RetryConfig(retry_for_methods=5)),  # type: ignore[arg-type]
    ("retry_for_methods", lambda: RetryConfig(retry_for_methods=["GET", 1])),  # type: ignore[list-item]
    ("max_retry_after", lambda: RetryConfig(max_retry_after=-1)),
    ("quota_cooldown", lambda: RetryConfig(quota_cooldown=0)),
]


@pytest.mark.parametrize(("field", "build"), CONFIG_CASES)
def test_bad_config_names_field_not_token(
    field: str, build: Callable[[], object]
) -> None:
    """Each bad configuration raises ConfigError naming the field, never showing the token."""
    with pytest.raises(ConfigError) as info:
        build()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)


def test_retry_methods_validated_without_losing_them() -> None:
    """Methods given as a one-shot iterable are checked and kept, upper-cased."""
    methods = (m for m in ["get", "Post"])
    config = RetryConfig(retry_for_methods=methods)  # type: ignore[arg-type]
    assert config.retry_for_methods == ("GET", "POST")


@pytest.mark.parametrize(
    ("field", "reserve", "priority"),
    [
        ("reserve", -1, 1),
        ("reserve", "2", 1),
        ("priority", 1, 0),
        ("priority", 1, -1),
        ("priority", 1, 1.5),
        ("priority", 1, True),
    ],
)
def test_bad_endpoint_block_names_field(
    field: str, reserve: object, priority: object
) -> None:
    """A negative reserve or a priority below 1 raises ConfigError when the block is entered."""
    pool = KeyPool([key()], clock=FakeClock())
    with pytest.raises(ConfigError) as info, pool.endpoint("e", reserve, priority):  # type: ignore[arg-type]
        pass
    assert info.value.field == field
    assert pool.snapshot().endpoints == ()
    pool.close()


@pytest.mark.parametrize("timeout", [-1, math.nan, "5", True])
def test_bad_timeout_names_field(timeout: object) -> None:
    """A timeout that is not a number of seconds >= 0 raises ConfigError in both pools."""
    pool = KeyPool([key()], clock=FakeClock())
    with pytest.raises(ConfigError) as info:
        pool.take_key("e", timeout=timeout)  # type: ignore[arg-type]
    assert info.value.field == "timeout"
    apool = AsyncKeyPool([key()], clock=FakeClock())
    with pytest.raises(ConfigError) as info:
        asyncio.run(apool.take_key("e", timeout=timeout))  # type: ignore[arg-type]
    assert info.value.field == "timeout"
    assert pool.snapshot().in_flight == apool.snapshot().in_flight == 0


def test_bad_endpoint_name_names_field() -> None:
    """An empty endpoint name raises ConfigError naming the endpoint."""
    pool = KeyPool([key()], clock=FakeClock())
    with pytest.raises(ConfigError) as info:
        pool.take_key("")
    assert info.value.field == "endpoint"


# -- misuse of leases ----------------------------------------------------------------------


def test_foreign_key_error_names_no_token() -> None:
    """Reporting a key from another pool raises ForeignKeyError without the token."""
    mine = KeyPool([key()], clock=FakeClock())
    theirs = KeyPool([key(name="t")], clock=FakeClock())
    lease = theirs.take_key("e")
    with pytest.raises(ForeignKeyError) as info:
        mine.mark_result(lease, 200)
    with pytest.raises(ForeignKeyError):
        mine.release(lease)
    assert "not granted by this pool" in str(info.value)
    assert TOKEN not in str(info.value)
    assert theirs.snapshot().in_flight == 1


def test_result_already_reported_names_key_not_token() -> None:
    """A second report raises ResultAlreadyReported naming the key and the lease, not the token."""
    pool = KeyPool([key()], clock=FakeClock())
    lease = pool.take_key("e")
    pool.mark_result(lease, 200)
    with pytest.raises(ResultAlreadyReported) as info:
        pool.mark_result(lease, 200)
    message = str(info.value)
    assert "'k'" in message and str(lease.id) in message and "reported" in message
    assert TOKEN not in message


# -- found by an adversarial review ---------------------------------------------------


@pytest.mark.parametrize(
    "policy", [lambda: 1, lambda a, b, c, d: 1], ids=["no-arguments", "four-arguments"]
)
def test_policy_function_that_fits_no_form_is_refused_at_construction(
    policy: Callable[..., Any],
) -> None:
    """A policy function no call could fit is a ConfigError when the pool is built."""
    with pytest.raises(ConfigError) as caught:
        KeyPool([KeyConfig("a", "tok-a")], policy=policy)
    assert caught.value.field == "policy"


def test_key_function_returning_incomparable_values_names_the_policy() -> None:
    """A key function returning None gives ConfigError('policy'), not a bare TypeError."""
    pool = KeyPool(
        [KeyConfig("a", "tok-a"), KeyConfig("b", "tok-b")], policy=lambda k: None
    )
    with pytest.raises(ConfigError) as caught:
        pool.take_key(timeout=0)
    assert caught.value.field == "policy"
    assert pool.snapshot().in_flight == 0


@pytest.mark.parametrize(
    ("field", "status", "headers", "body"),
    [
        ("status", "200", None, None),
        ("status", True, None, None),
        ("status", 1000, None, None),
        ("headers", 200, [("Retry-After", "5")], None),
        ("headers", 200, "Retry-After: 5", None),
        ("body", 429, {}, "text"),
    ],
)
def test_malformed_report_is_refused_and_keeps_the_lease(
    field: str, status: Any, headers: Any, body: Any
) -> None:
    """mark_result with a bad status, headers or body raises and leaves the lease open."""
    pool = KeyPool([KeyConfig("a", "tok-a")])
    lease = pool.take_key()
    with pytest.raises(ConfigError) as caught:
        pool.mark_result(lease, status, headers, None, body=body)
    assert caught.value.field == field
    assert pool.snapshot().in_flight == 1
    pool.mark_result(lease, 200)
    assert pool.snapshot().in_flight == 0


@pytest.mark.parametrize("token", ["   ", "sk-zz-91\n", " sk-zz-92", "sk-zz\r93"])
def test_token_with_spaces_or_control_characters_is_refused(token: str) -> None:
    """A token padded with spaces or holding CR/LF is refused without being shown."""
    with pytest.raises(ConfigError) as caught:
        KeyConfig("a", token)
    assert caught.value.field == "token"
    for part in token.split():
        assert part not in str(caught.value)


@pytest.mark.parametrize("field", ["header", "scheme", "query_param"])
def test_auth_fields_with_line_breaks_are_refused(field: str) -> None:
    """Header injection through AuthConfig fields is refused."""
    with pytest.raises(ConfigError) as caught:
        AuthConfig(**{field: "X\r\nY: z"})  # type: ignore[arg-type]
    assert caught.value.field == field


def test_distribute_must_be_a_bool() -> None:
    """distribute='no' is refused rather than read as true."""
    with pytest.raises(ConfigError) as caught:
        KeyPool([KeyConfig("a", "tok-a")], distribute="no")
    assert caught.value.field == "distribute"
