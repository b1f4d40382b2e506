"""
Where per-key state lives: in this process, or in Redis for shared pools.

A store makes the :class:`~rotisserie.KeyState` object for each key; the
scheduler only ever talks to those objects. The memory store keeps the state
in the object itself. The Redis store (``rotisserie.state.redis``, extra
``[redis]``) keeps windows, cooldowns, in-flight leases and retirement in
Redis, so that many processes and hosts share one set of limits: each grant
is one Lua script call, one round trip.
"""

from __future__ import annotations

from typing import Protocol

from .._config import KeyConfig
from .._key import KeyState

__all__ = ["KeyStore", "MemoryStore"]


class KeyStore(Protocol):
    """Makes the state object of each key in a pool."""

    def key_state(self, config: KeyConfig) -> KeyState:
        """The state of the key ``config`` describes."""
        ...

    def close(self) -> None:
        """Let go of connections and background threads."""
        ...


class MemoryStore:
    """State in this process only (the default)."""

    def key_state(self, config: KeyConfig) -> KeyState:
        """A fresh in-memory state for ``config``."""
        return KeyState(config)

    def close(self) -> None:
        """Nothing to let go of."""

    def __repr__(self) -> str:
        return "MemoryStore()"
