"""
Plain progress lines for a demo whose output is not a terminal.
"""

from __future__ import annotations

from collections.abc import Callable

from ._frame import Frame

__all__ = ["PlainMonitor", "plain_line"]

#: Seconds between two progress lines.
LINE_SECONDS = 5.0


class PlainMonitor:
    """
    Writes one line of progress every few seconds, for logs and pipes.

    Args:
        write: where each line goes (without a trailing newline).
        every: seconds between two lines.
    """

    def __init__(self, write: Callable[[str], None], every: float = LINE_SECONDS):
        self._write = write
        self._every = every
        self._next_at: float | None = None

    def update(self, frame: Frame) -> None:
        """
        Write a line if one is due.
        """
        if frame.tally.first_start is None:
            return  # nothing has happened yet
        if self._next_at is None:
            self._next_at = frame.tally.first_start + self._every
        if frame.now >= self._next_at:
            self._write(plain_line(frame))
            self._next_at += self._every

    def close(self, frame: Frame) -> None:
        """
        Write nothing: the summary follows.
        """


def plain_line(frame: Frame) -> str:
    """
    One line: elapsed time, progress, rate so far, 429s, per endpoint done.
    """
    tally = frame.tally
    elapsed = tally.elapsed(frame.now)
    rate = tally.done / elapsed if elapsed > 0 else 0.0
    endpoints = " ".join(
        f"{name}={counts.done}{' (left)' if counts.left else ''}"
        for name, counts in tally.endpoints.items()
    )
    return (
        f"{elapsed:6.1f} s  {tally.done}/{tally.total} done  {rate:.1f} req/s  "
        f"{frame.rejected} x 429  {endpoints}"
    )
