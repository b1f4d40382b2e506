"""What the simulator saw: per-key counters and the recorded requests."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["KeyStats", "Outcome", "RecordedRequest", "Recorder"]

# What became of one request, from the key's point of view.
Outcome = Literal["granted", "rejected", "unauthorized", "errors", "dropped"]


@dataclass(frozen=True)
class KeyStats:
    """
    Counters for one simulated key, as seen by the server.

    Attributes:
        granted: requests admitted and answered by the route.
        rejected: requests answered 429 (rate limit or exhausted quota).
        unauthorized: requests answered 401 because the key is revoked.
        errors: requests answered 503 by the injected error rate.
        dropped: requests whose connection was closed without an answer.
        max_in_flight: the most admitted requests this key had in progress at
            once.
        times: ``time.time()`` of each admission, in order.

    .. versionadded:: 0.2.0
    """

    granted: int = 0
    rejected: int = 0
    unauthorized: int = 0
    errors: int = 0
    dropped: int = 0
    max_in_flight: int = 0
    times: tuple[float, ...] = ()


@dataclass(frozen=True)
class RecordedRequest:
    """
    One request as the server received it, for leak tests.

    ``headers`` and ``query`` are kept verbatim (header names lower-cased) so
    a test can check whether a secret reached the server; they are left out
    of the ``repr`` so the record never prints a token by accident.

    Attributes:
        method: the HTTP method.
        path: the URL path, without the query string.
        query: query parameters; the last value wins when one repeats.
        headers: request headers; repeated headers are joined with ``", "``.
        key_name: the name of the simulated key the request carried, if any.
        body_length: the size of the request body in bytes.

    .. versionadded:: 0.2.0
    """

    method: str
    path: str
    query: dict[str, str] = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    key_name: str | None
    body_length: int


class _Counters:
    """
    Mutable counters for one key; only touched under the recorder's lock.
    """

    def __init__(self) -> None:
        self.outcomes: dict[Outcome, int] = dict.fromkeys(
            ("granted", "rejected", "unauthorized", "errors", "dropped"), 0
        )
        self.in_flight = 0
        self.max_in_flight = 0
        self.times: list[float] = []

    def freeze(self) -> KeyStats:
        return KeyStats(
            **self.outcomes,
            max_in_flight=self.max_in_flight,
            times=tuple(self.times),
        )


class Recorder:
    """
    Thread-safe store of counters and requests.

    The server's event loop writes; any thread may read. Requests carrying no
    known key are counted under the name ``None``, which :meth:`stats` leaves
    out.
    """

    def __init__(self, names: Iterable[str], *, keep_requests: bool) -> None:
        self._lock = threading.Lock()
        self._names = tuple(names)
        self._keep_requests = keep_requests
        self._counters: dict[str | None, _Counters] = {}
        self._requests: list[RecordedRequest] = []
        self.clear()

    def clear(self) -> None:
        """
        Forget every counter and recorded request.
        """
        with self._lock:
            # Requests in flight keep decrementing the counters they started
            # on, so the fresh gauges start at zero and never go negative.
            self._counters = {name: _Counters() for name in (*self._names, None)}
            self._requests = []

    def record(self, request: RecordedRequest) -> None:
        """
        Keep ``request`` if recording is on.
        """
        if self._keep_requests:
            with self._lock:
                self._requests.append(request)

    def count(
        self, name: str | None, outcome: Outcome, at: float | None = None
    ) -> None:
        """
        Count one ``outcome`` for key ``name``; ``at`` stamps a grant.
        """
        with self._lock:
            counters = self._counters[name]
            counters.outcomes[outcome] += 1
            if at is not None:
                counters.times.append(at)

    @contextmanager
    def in_flight(self, name: str | None) -> Iterator[None]:
        """
        Track one admitted request of ``name`` while the block runs.
        """
        with self._lock:
            counters = self._counters[name]
            counters.in_flight += 1
            counters.max_in_flight = max(counters.max_in_flight, counters.in_flight)
        try:
            yield
        finally:
            with self._lock:
                counters.in_flight -= 1

    def stats(self) -> dict[str, KeyStats]:
        """
        Return a snapshot of every configured key's counters.
        """
        with self._lock:
            return {
                name: counters.freeze()
                for name, counters in self._counters.items()
                if name is not None
            }

    def total(self, outcome: Outcome) -> int:
        """
        Return the count of ``outcome`` over all requests, keyed or not.
        """
        with self._lock:
            return sum(c.outcomes[outcome] for c in self._counters.values())

    def requests(self) -> list[RecordedRequest]:
        """
        Return a copy of the recorded requests, oldest first.
        """
        with self._lock:
            return list(self._requests)
