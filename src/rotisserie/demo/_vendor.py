"""
The demo's vendor: demo keys, the simulator enforcing them, the pool's view.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._config import KeyConfig
from ..errors import ConfigError
from ..testing import Limit, SimulatedKey
from ._settings import DemoSettings

if TYPE_CHECKING:
    from ..testing import Simulator

__all__ = ["key_configs", "key_names", "make_tokens", "start_vendor"]


def key_names(count: int) -> list[str]:
    """
    The demo keys' names: ``key-1``, ``key-2``, ...
    """
    return [f"key-{i}" for i in range(1, count + 1)]


def make_tokens(count: int) -> list[str]:
    """
    Fresh random tokens for one run; they exist only in this process.
    """
    return [f"demo-{secrets.token_urlsafe(16)}" for _ in range(count)]


def start_vendor(settings: DemoSettings, tokens: Sequence[str]) -> Simulator:
    """
    Start the simulated vendor on 127.0.0.1, on its own thread.

    Each key admits ``settings.rate`` requests per second in a sliding
    window (:attr:`DemoSettings.window`) and answers 429 with
    ``Retry-After`` beyond that. With ``unknown_limits`` every answer also
    carries ``x-ratelimit-*`` headers, for the pool to learn the limits from.
    """
    # Imported here: it pulls in aiohttp, which `rotisserie --help` need not load.
    from ..testing import Simulator

    _check_tokens(settings, tokens)
    limit = Limit(*settings.window)
    keys = [
        # Named keys: the simulator's stats and logs show names, never tokens.
        SimulatedKey(token, limit, name=name)
        for name, token in zip(key_names(settings.keys), tokens, strict=True)
    ]
    simulator = Simulator(
        keys,
        rate_headers=("x-ratelimit",) if settings.unknown_limits else (),
        latency=settings.latency,
        # Recording every request is for leak tests; a demo only counts.
        record_requests=False,
    )
    simulator.start()
    return simulator


def key_configs(settings: DemoSettings, tokens: Sequence[str]) -> list[KeyConfig]:
    """
    The pool's keys: given the vendor's exact limits, or none with
    ``unknown_limits`` (the pool then learns them from the answers).
    """
    _check_tokens(settings, tokens)
    window = None if settings.unknown_limits else settings.window
    return [
        KeyConfig(name, token, per_window=window)
        for name, token in zip(key_names(settings.keys), tokens, strict=True)
    ]


def _check_tokens(settings: DemoSettings, tokens: Sequence[str]) -> None:
    if len(tokens) != settings.keys:
        raise ConfigError(
            "tokens", f"need one token per key ({settings.keys}), got {len(tokens)}"
        )
