"""
One picture of a running demo, handed to whatever shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from .._snapshot import PoolSnapshot
from ..testing import KeyStats
from ._settings import DemoSettings
from ._tally import TallyView

__all__ = ["Frame", "Monitor"]


@dataclass(frozen=True)
class Frame:
    """
    The demo at one instant, from three sides. Never holds a token.

    Attributes:
        settings: the run's settings.
        tally: what the workers saw (latencies left out).
        pool: the pool's own view: owners, in flight, windows, cooldowns.
        vendor: the simulated vendor's counters, by key name.
        now: ``time.monotonic()`` when the frame was taken.
    """

    settings: DemoSettings
    tally: TallyView
    pool: PoolSnapshot
    vendor: Mapping[str, KeyStats]
    now: float

    @property
    def rejected(self) -> int:
        """
        429 answers the vendor sent so far.
        """
        return sum(s.rejected for s in self.vendor.values())


class Monitor(Protocol):
    """
    Shows a running demo; called from the thread that started the run.
    """

    def update(self, frame: Frame) -> None:
        """
        Show ``frame``; called a few times a second while the run goes on.
        """

    def close(self, frame: Frame) -> None:
        """
        Show the last frame and release the terminal; called once.
        """
