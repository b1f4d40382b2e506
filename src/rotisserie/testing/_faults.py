"""
Injected failures: which requests get a 503 and which lose their connection.

Faults come from a seeded, shuffled deck rather than independent coin flips:
in every run of ``size`` consecutive requests exactly ``error_rate * size``
are answered 503 and ``drop_rate * size`` are dropped, at seeded positions.
Tests can therefore assert exact counts, and a short run never sees a streak
far above the configured rate.
"""

from __future__ import annotations

import math
import random
from typing import Literal

from rotisserie.errors import ConfigError

__all__ = ["Fault", "FaultDeck"]

Fault = Literal["none", "error", "drop"]

_MAX_DECK = 1000


class FaultDeck:
    """
    Draws the fault for each request from a seeded, shuffled deck.

    Args:
        error_rate: fraction of requests answered 503, in ``[0, 1]``.
        drop_rate: fraction of requests dropped, in ``[0, 1]``; the two rates
            together may not exceed 1.
        seed: seed of the shuffle, so runs are reproducible.

    Raises:
        ConfigError: a rate is out of range.
    """

    def __init__(self, error_rate: float, drop_rate: float, seed: int) -> None:
        _check_rate("error_rate", error_rate)
        _check_rate("drop_rate", drop_rate)
        if error_rate + drop_rate > 1:
            raise ConfigError(
                "drop_rate",
                f"error_rate + drop_rate must not exceed 1, got {error_rate} + {drop_rate}",
            )
        self.size = _deck_size(error_rate, drop_rate)
        self._errors = round(error_rate * self.size)
        self._drops = round(drop_rate * self.size)
        self._rng = random.Random(seed)
        self._deck: list[Fault] = []

    def draw(self) -> Fault:
        """
        Return the fault for the next request.
        """
        if not self._errors and not self._drops:
            return "none"
        if not self._deck:
            self._deck = self._shuffled()
        return self._deck.pop()

    def _shuffled(self) -> list[Fault]:
        clean = self.size - self._errors - self._drops
        counts: tuple[tuple[Fault, int], ...] = (
            ("error", self._errors),
            ("drop", self._drops),
            ("none", clean),
        )
        deck = [fault for fault, count in counts for _ in range(count)]
        self._rng.shuffle(deck)
        return deck


def _deck_size(*rates: float) -> int:
    # The smallest deck on which every rate is a whole number of cards, so
    # 0.1 gives 1 in every 10 and 0.25 gives 1 in every 4; rates finer than
    # 1/1000 are rounded to the nearest thousandth.
    for size in range(1, _MAX_DECK + 1):
        if all(abs(rate * size - round(rate * size)) < 1e-6 for rate in rates):
            return size
    return _MAX_DECK


def _check_rate(field: str, rate: float) -> None:
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise ConfigError(field, f"must be a number, got {rate!r}")
    if not (math.isfinite(rate) and 0 <= rate <= 1):
        raise ConfigError(field, f"must be between 0 and 1, got {rate!r}")
