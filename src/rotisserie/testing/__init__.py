"""
A simulated rate-limited API vendor for tests, demos and benchmarks.

:class:`Simulator` is a real HTTP server on 127.0.0.1 that authenticates
keys, enforces per-key limits and answers 429 with the headers real vendors
send. It needs the ``testing`` extra (aiohttp); the other names here, and
the pytest plugin, import without it.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rotisserie.testing._factory import SimulatorFactory
from rotisserie.testing._keys import SimulatedKey
from rotisserie.testing._limit import Limit
from rotisserie.testing._redis import RedisServer
from rotisserie.testing._stats import KeyStats, RecordedRequest

if TYPE_CHECKING:
    from rotisserie.testing._simulator import Simulator

__all__ = [
    "KeyStats",
    "Limit",
    "RecordedRequest",
    "RedisServer",
    "SimulatedKey",
    "Simulator",
    "SimulatorFactory",
]


def __getattr__(name: str) -> object:
    # Simulator pulls in aiohttp; load it on first use so that the pytest
    # plugin and the value types work where the extra is not installed.
    if name != "Simulator":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        from rotisserie.testing._simulator import Simulator
    except ModuleNotFoundError as exc:
        if exc.name != "aiohttp" and not (exc.name or "").startswith("aiohttp."):
            raise
        raise ImportError(
            "rotisserie.testing.Simulator needs aiohttp: pip install 'rotisserie[testing]'"
        ) from exc
    return Simulator
