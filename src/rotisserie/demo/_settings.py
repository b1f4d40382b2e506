"""
What a demo run does: keys, rates, client, mode, and the endpoint plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from ..errors import ConfigError

__all__ = [
    "CLIENTS",
    "ENDPOINTS",
    "ClientName",
    "DemoSettings",
    "EndpointPlan",
]

#: The HTTP clients a demo can drive. ``httpx`` is ``httpx.AsyncClient``;
#: ``httpx-sync`` is ``httpx.Client``.
ClientName = Literal["httpx", "aiohttp", "requests", "httpx-sync"]
CLIENTS: tuple[ClientName, ...] = get_args(ClientName)
#: Clients driven by threads and a ``KeyPool``; the others run on asyncio.
SYNC_CLIENTS = frozenset({"requests", "httpx-sync"})

# A run with the default request count lasts this long at the ceiling.
TARGET_SECONDS = 20
# Workers per endpoint: enough that every endpoint nearly always has requests
# waiting, so that each freed key goes to its owner and the shares follow the
# key assignment (a key whose owner has nobody waiting is lent to others).
# A sliding window frees its grants in bursts, so that takes about half a
# window's worth of grants over all keys; and at least a few times what the
# ceiling keeps in flight (ceiling x latency). The price is latency: a
# saturated closed loop queues for about workers / throughput seconds.
# Capped, because sync clients run a thread per worker.
WORKER_FACTOR = 2.0
MIN_WORKERS = 4
MAX_WORKERS = 200
# The vendor's sliding window is at most this long, and short enough that
# the run spans at least WINDOWS_PER_RUN of them at the ceiling: a window
# starts empty, so a run can finish one window's worth of requests early,
# and the measured rate can beat the ceiling by up to 1/WINDOWS_PER_RUN.
MAX_WINDOW_SECONDS = 1.0
WINDOWS_PER_RUN = 20


@dataclass(frozen=True)
class EndpointPlan:
    """
    One group of workers calling one endpoint.

    Attributes:
        name: the endpoint's name in the pool and in the URL path.
        priority: its priority (1 is highest).
        reserve: keys it claims while it runs.
        leaves_half_way: stop taking requests once half of the run's
            requests are taken, then leave, handing its keys to the others.
    """

    name: str
    priority: int
    reserve: int
    leaves_half_way: bool = False


# Equal reserves, so what moves keys is priority: with 4 keys the one extra
# goes to chat; when batch leaves, its key goes round-robin (chat 2, search 2)
# or, with --funnel, to chat (chat 3, search 1).
ENDPOINTS: tuple[EndpointPlan, ...] = (
    EndpointPlan("chat", priority=1, reserve=1),
    EndpointPlan("search", priority=2, reserve=1),
    EndpointPlan("batch", priority=3, reserve=1, leaves_half_way=True),
)


@dataclass(frozen=True)
class DemoSettings:
    """
    One demo run.

    Args:
        keys: how many demo keys the pool and the simulated vendor share.
        rate: requests per second each key may make (the vendor enforces
            ``rate`` per second in a sliding window).
        requests: requests in the whole run (``None``: as many as the
            ceiling serves in about 20 seconds).
        client: the HTTP client that sends them.
        funnel: give extra keys to the highest priority
            (``distribute=False``) instead of round-robin.
        unknown_limits: do not tell the pool the keys' limits; it learns
            from the vendor's rate-limit headers and 429 answers.
        latency: seconds the simulated vendor takes to answer.

    Raises:
        ConfigError: (a ``ValueError``) naming the invalid field.

    .. versionadded:: 0.2.0
    """

    keys: int = 4
    rate: int = 20
    requests: int | None = None
    client: ClientName = "httpx"
    funnel: bool = False
    unknown_limits: bool = False
    latency: float = 0.05

    def __post_init__(self) -> None:
        _check_count("keys", self.keys)
        _check_count("rate", self.rate)
        if self.requests is not None:
            _check_count("requests", self.requests)
        if self.client not in CLIENTS:
            raise ConfigError(
                "client", f"must be one of {', '.join(CLIENTS)}, got {self.client!r}"
            )
        latency = self.latency
        if (
            isinstance(latency, bool)
            or not isinstance(latency, (int, float))
            or not 0 <= latency <= 10
        ):
            raise ConfigError(
                "latency", f"must be from 0 to 10 seconds, got {latency!r}"
            )

    @property
    def ceiling(self) -> int:
        """
        The most requests per second the vendor admits: keys x rate.
        """
        return self.keys * self.rate

    @property
    def total(self) -> int:
        """
        Requests in the whole run.
        """
        if self.requests is not None:
            return self.requests
        return self.ceiling * TARGET_SECONDS

    @property
    def window(self) -> tuple[int, float]:
        """
        Each key's limit as ``(requests, seconds)`` of a sliding window:
        ``rate`` per second, over a window short against the run.
        """
        at_ceiling = self.total / self.ceiling
        target = min(MAX_WINDOW_SECONDS, at_ceiling / WINDOWS_PER_RUN)
        limit = max(1, round(self.rate * target))
        return limit, limit / self.rate

    @property
    def is_async(self) -> bool:
        """
        Whether the client runs on asyncio (with an ``AsyncKeyPool``).
        """
        return self.client not in SYNC_CLIENTS

    @property
    def workers_per_endpoint(self) -> int:
        """
        Concurrent workers in each endpoint's group.
        """
        in_flight = math.ceil(WORKER_FACTOR * self.ceiling * self.latency)
        burst = self.keys * self.window[0] // 2
        return min(max(MIN_WORKERS, in_flight, burst), MAX_WORKERS)


def _check_count(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(field, f"must be an int of at least 1, got {value!r}")
