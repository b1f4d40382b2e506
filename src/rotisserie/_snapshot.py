"""Plain-data pictures of a pool, for dashboards, logs and tests."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EndpointSnapshot", "KeySnapshot", "PoolSnapshot"]


@dataclass(frozen=True)
class KeySnapshot:
    """
    One key at one instant. Never holds the token.

    Attributes:
        windows_left: grants left in each configured window, in config order.
        cooldown_left: seconds until the key may serve again after a failure.
        remaining: grants left by the windows and the vendor's last word
            (``None``: nothing known limits it).
        window_margin: seconds the key's windows are kept longer than
            configured, after the vendor refused requests they allowed.
    """

    name: str
    endpoint: str | None
    in_flight: int
    windows_left: tuple[int, ...]
    cooldown_left: float
    remaining: int | None
    disabled: bool
    disabled_reason: str | None
    successes: int
    failures: int
    window_margin: float = 0.0


@dataclass(frozen=True)
class EndpointSnapshot:
    """One endpoint: its claim, the keys it owns and the requests waiting."""

    name: str
    priority: int
    reserve: int
    keys: tuple[str, ...]
    waiting: int
    entered: bool


@dataclass(frozen=True)
class PoolSnapshot:
    """The whole pool at instant ``at`` (epoch seconds)."""

    at: float
    keys: tuple[KeySnapshot, ...]
    endpoints: tuple[EndpointSnapshot, ...]

    @property
    def in_flight(self) -> int:
        """Requests granted and not yet reported or released, over all keys."""
        return sum(k.in_flight for k in self.keys)

    @property
    def waiting(self) -> int:
        """Requests waiting for a key, over all endpoints."""
        return sum(e.waiting for e in self.endpoints)

    def key(self, name: str) -> KeySnapshot:
        """The snapshot of the key called ``name``."""
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError(name)

    def endpoint(self, name: str) -> EndpointSnapshot:
        """The snapshot of the endpoint called ``name``."""
        for endpoint in self.endpoints:
            if endpoint.name == name:
                return endpoint
        raise KeyError(name)
