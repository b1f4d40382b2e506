"""The Redis store: state shared by pools in several processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest

from rotisserie import (
    KeyConfig,
    KeyPool,
    NoKeyAvailable,
    StateBackendError,
)
from rotisserie.state.redis import RedisStore
from rotisserie.testing import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
def stores(redis_server: RedisServer) -> Iterator[list[RedisStore]]:
    """Two stores on one namespace, as two processes would have."""
    made = [RedisStore(redis_server.url, namespace="test") for _ in range(2)]
    try:
        yield made
    finally:
        for store in made:
            store.close()


def two_keys() -> list[KeyConfig]:
    return [KeyConfig("K1", "tok-one"), KeyConfig("K2", "tok-two")]


def run_worker(script: str, url: str) -> str:
    """Run ``script`` in a separate Python process with ``URL`` set; return its output."""
    code = f"URL = {url!r}\n" + textwrap.dedent(script)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip()


def test_redis_cooldown_in_one_process_steers_the_next_grant_in_another(
    redis_server: RedisServer,
) -> None:
    """A 429 with Retry-After 60 on K1 in worker A makes worker B's next grant K2."""
    worker_a = """
        from rotisserie import KeyConfig, KeyPool
        from rotisserie.state.redis import RedisStore
        store = RedisStore(URL, namespace="shared")
        pool = KeyPool([KeyConfig("K1", "tok-one"), KeyConfig("K2", "tok-two")], store=store)
        key = pool.take_key("jobs")
        pool.mark_result(key, 429, {"Retry-After": "60"})
        print(key.name)
        store.close()
    """
    assert run_worker(worker_a, redis_server.url) == "K1"

    store = RedisStore(redis_server.url, namespace="shared")
    try:
        pool = KeyPool(two_keys(), store=store)
        key = pool.take_key("jobs", timeout=1)
        assert key.name == "K2"
        assert pool.snapshot().key("K1").cooldown_left == pytest.approx(60, abs=5)
        pool.mark_result(key, 200)
    finally:
        store.close()


def test_redis_windows_hold_across_pools(stores: list[RedisStore]) -> None:
    """per_window=(3, 60) allows 3 grants in all, however they split between pools."""
    pools = [
        KeyPool([KeyConfig("K1", "tok", per_window=(3, 60))], store=s) for s in stores
    ]
    granted = 0
    for i in range(3):
        pool = pools[i % 2]
        pool.mark_result(pool.take_key("e", timeout=0), 200)
        granted += 1
    for pool in pools:
        with pytest.raises(NoKeyAvailable) as caught:
            pool.take_key("e", timeout=0)
        assert caught.value.retry_after == pytest.approx(60, abs=2)
        assert pool.snapshot().key("K1").windows_left == (0,)
    assert granted == 3


def test_redis_release_wakes_a_waiter_in_another_pool(stores: list[RedisStore]) -> None:
    """A release in pool A wakes pool B's waiter at once, though B's leases last 10 minutes."""
    config = [KeyConfig("K1", "tok", max_in_flight=1)]
    holder, waiter = (KeyPool(config, store=s) for s in stores)
    held = holder.take_key("e")
    served_after: list[float] = []

    def wait_for_key() -> None:
        start = time.monotonic()
        key = waiter.take_key("e", timeout=5)
        served_after.append(time.monotonic() - start)
        waiter.mark_result(key, 200)

    thread = threading.Thread(target=wait_for_key)
    thread.start()
    time.sleep(0.3)
    assert waiter.snapshot().waiting == 1
    holder.mark_result(held, 200)
    thread.join(timeout=5)
    assert served_after, "the waiter was never served"
    assert served_after[0] < 2.0  # the lease deadline, the only timer, is 600 s away


def test_redis_revoked_key_is_retired_for_every_pool(stores: list[RedisStore]) -> None:
    """A 401 seen by pool A keeps pool B from ever granting that key."""
    first, second = (KeyPool(two_keys(), store=s) for s in stores)
    key = first.take_key("e")
    assert key.name == "K1"
    first.mark_result(key, 401, {}, body=b'{"error": {"code": "invalid_api_key"}}')
    names = set()
    for _ in range(4):
        lease = second.take_key("e", timeout=1)
        names.add(lease.name)
        second.mark_result(lease, 200)
    assert names == {"K2"}
    assert second.snapshot().key("K1").disabled


def test_redis_crashed_holder_frees_its_key_at_the_lease_deadline(
    redis_server: RedisServer,
) -> None:
    """A process that dies holding the only key frees it when its lease ends."""
    crashed = """
        from rotisserie import KeyConfig, KeyPool
        from rotisserie.state.redis import RedisStore
        pool = KeyPool([KeyConfig("K1", "tok", max_in_flight=1)], lease_timeout=1.0,
                       store=RedisStore(URL, namespace="crash"))
        print(pool.take_key("e").name)
    """
    assert run_worker(crashed, redis_server.url) == "K1"
    store = RedisStore(redis_server.url, namespace="crash")
    try:
        pool = KeyPool([KeyConfig("K1", "tok", max_in_flight=1)], store=store)
        start = time.monotonic()
        key = pool.take_key("e", timeout=5)
        assert time.monotonic() - start < 3
        pool.mark_result(key, 200)
    finally:
        store.close()


def test_redis_down_raises_state_backend_error_without_secrets() -> None:
    """A dead Redis gives StateBackendError; neither the password nor a token shows."""
    server = RedisServer(password="s3cret-pass")
    server.start()
    store = RedisStore(server.url, namespace="down")
    try:
        pool = KeyPool([KeyConfig("K1", "tok-secret-value")], store=store)
        pool.mark_result(pool.take_key("e"), 200)
        server.stop()
        with pytest.raises(StateBackendError) as caught:
            pool.take_key("e")
        text = str(caught.value)
        assert "K1" in text
        assert "s3cret-pass" not in text and "tok-secret-value" not in text
        assert caught.value.__cause__ is not None
        assert "s3cret-pass" not in repr(store)
    finally:
        store.close()
        server.stop()


def test_redis_flush_clears_only_its_namespace(redis_server: RedisServer) -> None:
    """flush() resets one namespace and leaves another alone."""
    one = RedisStore(redis_server.url, namespace="one")
    two = RedisStore(redis_server.url, namespace="two")
    try:
        for store in (one, two):
            pool = KeyPool([KeyConfig("K1", "tok", per_window=(1, 60))], store=store)
            pool.mark_result(pool.take_key("e"), 200)
        one.flush()
        fresh_one = KeyPool([KeyConfig("K1", "tok", per_window=(1, 60))], store=one)
        fresh_one.mark_result(fresh_one.take_key("e", timeout=0), 200)
        fresh_two = KeyPool([KeyConfig("K1", "tok", per_window=(1, 60))], store=two)
        with pytest.raises(NoKeyAvailable):
            fresh_two.take_key("e", timeout=0)
    finally:
        one.close()
        two.close()


def test_redis_store_rejects_bad_arguments() -> None:
    """A store needs exactly one of url or client, and a plain namespace."""
    from rotisserie import ConfigError

    with pytest.raises(ConfigError) as caught:
        RedisStore()
    assert caught.value.field == "url"
    with pytest.raises(ConfigError) as caught:
        RedisStore("redis://127.0.0.1:1/0", namespace="a:b")
    assert caught.value.field == "namespace"


@pytest.mark.parametrize(
    "url",
    [
        "redis//:PaSsWoRd77@127.0.0.1:6379/0",
        "redis://:PaSsWoRd77@127.0.0.1:notaport/0",
        "http://:PaSsWoRd77@127.0.0.1:6379/0",
    ],
)
def test_redis_bad_url_is_a_config_error_without_the_password(url: str) -> None:
    """A malformed URL names the url field and never echoes its password."""
    from rotisserie import ConfigError

    with pytest.raises(ConfigError) as caught:
        RedisStore(url)
    assert caught.value.field == "url"
    assert "PaSsWoRd77" not in str(caught.value)


def test_redis_repr_masks_a_password_given_as_a_query_parameter() -> None:
    """repr() hides ?password=... as well as user:password@."""
    store = RedisStore("redis://127.0.0.1:1/0?password=PaSsWoRd77")
    try:
        assert "PaSsWoRd77" not in repr(store)
    finally:
        store.close()


def test_redis_unreachable_at_pool_creation_is_a_state_backend_error() -> None:
    """A pool over a Redis nobody answers raises StateBackendError, chained."""
    store = RedisStore("redis://:PaSsWoRd77@127.0.0.1:1/0")
    try:
        with pytest.raises(StateBackendError) as caught:
            KeyPool(two_keys(), store=store)
        assert caught.value.__cause__ is not None
        assert "PaSsWoRd77" not in str(caught.value)
    finally:
        store.close()


def test_redis_dying_wakes_waiters_and_later_requests_fail_promptly() -> None:
    """When Redis dies, a waiter without a timeout wakes with StateBackendError, and so does the next request."""
    server = RedisServer()
    server.start()
    store = RedisStore(server.url, namespace="dying")
    try:
        pool = KeyPool(
            [KeyConfig("K1", "tok-secret-value", max_in_flight=1)], store=store
        )
        held = pool.take_key("e")
        outcome: list[BaseException] = []

        def wait_forever() -> None:
            try:
                pool.take_key("e", timeout=None)
            except BaseException as exc:
                outcome.append(exc)

        waiter = threading.Thread(target=wait_forever)
        waiter.start()
        deadline = time.monotonic() + 5
        while pool.snapshot().waiting == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.stop()
        with pytest.raises(StateBackendError):
            pool.mark_result(held, 200)
        waiter.join(timeout=5)
        assert not waiter.is_alive(), "the waiter was never woken"
        assert len(outcome) == 1 and isinstance(outcome[0], StateBackendError)
        start = time.monotonic()
        with pytest.raises(StateBackendError) as caught:
            pool.take_key("e", timeout=30)
        assert time.monotonic() - start < 5
        assert "tok-secret-value" not in str(caught.value)
    finally:
        store.close()
        server.stop()
