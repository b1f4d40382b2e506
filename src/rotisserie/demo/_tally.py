"""
What the demo's workers saw: tickets handed out, outcomes and latencies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["EndpointCounts", "Tally", "TallyView", "failure_of"]


@dataclass(frozen=True)
class EndpointCounts:
    """
    One endpoint's requests so far, as its workers saw them.

    Attributes:
        ok: requests that ended with a 2xx answer.
        failed: requests that ended with another status or an exception
            (after the adapter's own retries).
        latencies: seconds from the call to the answer of each ended request,
            waiting for a key included.
        left: whether the endpoint's group has finished and left the pool.
        failures: how the failed requests failed (``"HTTP 503"``, an
            exception's type name), with counts.
    """

    ok: int = 0
    failed: int = 0
    latencies: tuple[float, ...] = ()
    left: bool = False
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> int:
        """
        Requests that ended, well or not.
        """
        return self.ok + self.failed


@dataclass(frozen=True)
class TallyView:
    """
    A consistent copy of the tally at one instant.

    Attributes:
        taken: tickets handed out so far (requests started or about to).
        first_start: ``time.monotonic()`` when the first request started.
        last_end: ``time.monotonic()`` when the latest request ended.
    """

    total: int
    taken: int
    endpoints: dict[str, EndpointCounts]
    first_start: float | None
    last_end: float | None

    @property
    def done(self) -> int:
        """
        Requests that ended, over all endpoints.
        """
        return sum(c.done for c in self.endpoints.values())

    @property
    def ok(self) -> int:
        """
        Requests that ended with a 2xx answer, over all endpoints.
        """
        return sum(c.ok for c in self.endpoints.values())

    @property
    def failed(self) -> int:
        """
        Requests that ended badly, over all endpoints.
        """
        return sum(c.failed for c in self.endpoints.values())

    def elapsed(self, now: float | None = None) -> float:
        """
        Seconds from the first request's start to the last one's end (or to
        ``now`` while the run goes on); 0 before the first request.
        """
        if self.first_start is None:
            return 0.0
        end = now if now is not None else self.last_end
        return max((end or self.first_start) - self.first_start, 0.0)


@dataclass
class _Counts:
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    left: bool = False
    failures: dict[str, int] = field(default_factory=dict)


class Tally:
    """
    Hands out the run's tickets and records how each request ended.

    Workers of every endpoint share one ticket counter; a worker takes a
    ticket before each request and stops when none is left for it. Safe to
    use from many threads, and from the loop thread while another thread
    reads :meth:`view`.

    Args:
        total: requests in the run.
        endpoints: the endpoint names, in display order.
    """

    def __init__(self, total: int, endpoints: Iterable[str]) -> None:
        self._lock = threading.Lock()
        self._total = total
        self._taken = 0
        self._counts = {name: _Counts() for name in endpoints}
        self._first_start: float | None = None
        self._last_end: float | None = None
        self._stopping = threading.Event()

    @property
    def total(self) -> int:
        """
        Requests in the run.
        """
        return self._total

    def take(self, upto: int | None = None) -> bool:
        """
        Take one ticket, unless ``upto`` (default: all) are already taken or
        the run is stopping.
        """
        limit = self._total if upto is None else min(upto, self._total)
        with self._lock:
            if self._stopping.is_set() or self._taken >= limit:
                return False
            self._taken += 1
            return True

    def started(self) -> float:
        """
        Note that a request starts now; return the start time.
        """
        now = time.monotonic()
        with self._lock:
            if self._first_start is None:
                self._first_start = now
        return now

    def ended(self, endpoint: str, start: float, failure: str | None = None) -> None:
        """
        Record the end of the request of ``endpoint`` started at ``start``:
        a success, or a ``failure`` such as ``"HTTP 503"``.
        """
        now = time.monotonic()
        with self._lock:
            counts = self._counts[endpoint]
            if failure is None:
                counts.ok += 1
            else:
                counts.failed += 1
                counts.failures[failure] = counts.failures.get(failure, 0) + 1
            counts.latencies.append(now - start)
            self._last_end = now

    def left(self, endpoint: str) -> None:
        """
        Note that ``endpoint``'s group finished and left the pool.
        """
        with self._lock:
            self._counts[endpoint].left = True

    def stop(self) -> None:
        """
        Hand out no more tickets; requests under way still end.
        """
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """
        Whether :meth:`stop` was called.
        """
        return self._stopping.is_set()

    def view(self, *, latencies: bool = True) -> TallyView:
        """
        A consistent copy of everything recorded so far; ``latencies=False``
        leaves the latencies out, for views refreshed several times a second.
        """
        with self._lock:
            endpoints = {
                name: EndpointCounts(
                    ok=c.ok,
                    failed=c.failed,
                    latencies=tuple(c.latencies) if latencies else (),
                    left=c.left,
                    failures=dict(c.failures),
                )
                for name, c in self._counts.items()
            }
            return TallyView(
                total=self._total,
                taken=self._taken,
                endpoints=endpoints,
                first_start=self._first_start,
                last_end=self._last_end,
            )


def failure_of(status: int) -> str | None:
    """
    ``None`` for a 2xx status, else how the request failed.
    """
    return None if 200 <= status < 300 else f"HTTP {status}"
