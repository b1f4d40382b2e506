"""The `Limit` value: how many requests a simulated key admits per window."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from rotisserie.errors import ConfigError

__all__ = ["Limit", "LimitKind"]

LimitKind = Literal["sliding", "fixed", "bucket"]

_KINDS: frozenset[str] = frozenset({"sliding", "fixed", "bucket"})


@dataclass(frozen=True)
class Limit:
    """
    A rate limit for one simulated key.

    Rejected requests never count against the limit.

    Args:
        limit: requests admitted per window (at least 1).
        seconds: window length in seconds (positive, finite).
        kind: ``"sliding"`` admits at most ``limit`` requests in any span
            ``(now - seconds, now]``; ``"fixed"`` counts per window, windows
            aligned to the moment the simulator started; ``"bucket"`` is a
            token bucket of capacity ``burst`` refilled at
            ``limit / seconds`` tokens per second.
        burst: bucket capacity; defaults to ``limit``. Only for
            ``kind="bucket"``.

    Raises:
        ConfigError: (a ``ValueError``) naming the invalid field.

    .. versionadded:: 0.2.0
    """

    limit: int
    seconds: float
    kind: LimitKind = "sliding"
    burst: int | None = None

    def __post_init__(self) -> None:
        _check_count("limit", self.limit)
        # bool is an int subclass; True as a count is always a mistake.
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int | float):
            raise ConfigError("seconds", f"must be a number, got {self.seconds!r}")
        if not math.isfinite(self.seconds) or self.seconds <= 0:
            raise ConfigError(
                "seconds", f"must be positive and finite, got {self.seconds!r}"
            )
        if self.kind not in _KINDS:
            raise ConfigError(
                "kind", f"must be one of {sorted(_KINDS)}, got {self.kind!r}"
            )
        if self.burst is not None:
            if self.kind != "bucket":
                raise ConfigError(
                    "burst", f"applies only to kind='bucket', not {self.kind!r}"
                )
            _check_count("burst", self.burst)

    @property
    def capacity(self) -> int:
        """
        The most requests this limit can admit at once, from a fresh state.
        """
        return self.burst if self.burst is not None else self.limit

    @property
    def rate(self) -> float:
        """
        The sustained rate in requests per second.
        """
        return self.limit / self.seconds


def _check_count(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(field, f"must be an int, got {value!r}")
    if value < 1:
        raise ConfigError(field, f"must be at least 1, got {value}")
