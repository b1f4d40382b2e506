"""A real redis-server per test, on a free port of 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rotisserie.testing import RedisServer


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh redis-server for one test."""
    with RedisServer() as server:
        yield server
