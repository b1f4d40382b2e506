"""
One HTTP benchmark run: a fresh simulated vendor here, a worker process there.

The simulator lives in our package only, so it runs in this (parent)
process on a thread of its own; the worker gets its URL and tokens and runs
under whichever interpreter the library needs. What a run measures comes
from two sides: the simulator's counters (admitted, rejected, most in flight,
admission times) and the worker's own tally (successes per endpoint).
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _peer import peer_python, run_worker
from rotisserie.testing import Limit, Simulator

#: Seconds the wall clock may drift from the monotonic one during a run.
MAX_CLOCK_STEP = 0.05


@dataclass(frozen=True)
class Vendor:
    """
    A simulated vendor: ``keys`` keys, each admitting ``limit`` requests per
    ``seconds`` by ``kind`` (``"sliding"``, ``"fixed"`` or ``"bucket"``).
    """

    keys: int = 4
    limit: int = 20
    seconds: float = 1.0
    kind: str = "sliding"
    burst: int | None = None
    latency: float = 0.0
    rate_headers: tuple[str, ...] = ("x-ratelimit",)

    @property
    def rate(self) -> float:
        """The sustained ceiling over all keys, requests per second."""
        return self.keys * self.limit / self.seconds

    def tokens(self) -> list[str]:
        """Placeholder tokens; nothing secret is at stake in a benchmark."""
        return [f"bench-token-{i}" for i in range(self.keys)]

    def simulator(self) -> Simulator:
        """A simulator for this vendor, not yet started."""
        limit = Limit(self.limit, self.seconds, kind=self.kind, burst=self.burst)  # type: ignore[arg-type]
        return Simulator(
            keys=dict.fromkeys(self.tokens(), limit),
            rate_headers=self.rate_headers,
            retry_after="seconds",
            latency=self.latency,
            record_requests=False,
        )


@dataclass(frozen=True)
class Load:
    """What the callers do: how long, how many, and what the pool is told."""

    duration: float
    groups: tuple[dict[str, Any], ...]
    known_limits: bool = True
    distribute: bool | None = None
    #: Seconds at the start left out of rates: thread start, first bursts.
    warmup: float = 1.0


@dataclass
class Outcome:
    """What one run of one library measured."""

    library: str
    admitted: int  # requests the vendor admitted in the measured span
    span: float  # seconds measured
    granted: int  # requests admitted over the whole run
    rejected: int  # 429s over the whole run
    max_in_flight: int  # most admitted requests on one key at once
    ok_in_span: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    pool_failures: int = 0
    first_failure: str | None = None
    stuck: int = 0
    thread_crashes: list[str] = field(default_factory=list)
    #: How far the worker's wall clock stepped during the run, seconds.
    clock_step: float = 0.0

    @property
    def rps(self) -> float:
        """Admitted requests per second in the measured span."""
        return self.admitted / self.span if self.span > 0 else 0.0

    @property
    def reject_share(self) -> float:
        """429s as a share of all requests the vendor saw."""
        sent = self.granted + self.rejected
        return self.rejected / sent if sent else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the JSON results, with the derived numbers."""
        return {**asdict(self), "rps": self.rps, "reject_share": self.reject_share}


def run_http(library: str, vendor: Vendor, load: Load) -> Outcome:
    """
    Serve ``vendor`` afresh and drive it with ``library`` under ``load``.

    A run during which the wall clock stepped is run once more: the vendor
    stamps admissions with that clock, so the measured span would be wrong.
    """
    outcome = _run_once(library, vendor, load)
    if abs(outcome.clock_step) > MAX_CLOCK_STEP:
        print(
            f"  {library}: the wall clock stepped {outcome.clock_step:+.3f} s; "
            "running again",
            file=sys.stderr,
        )
        outcome = _run_once(library, vendor, load)
    return outcome


def _run_once(library: str, vendor: Vendor, load: Load) -> Outcome:
    python: Path | str = peer_python() if library == "peer" else sys.executable
    sim = vendor.simulator()
    # The fixed-window limiter aligns its windows to the start; time.time()
    # just before it is within a millisecond of that origin.
    origin = time.time()
    url = sim.start()
    try:
        spec = _spec(library, vendor, load, url)
        result = run_worker(python, "_http_worker.py", json.dumps(spec))
    finally:
        stats = sim.stats()
        sim.stop()
    assert isinstance(result, dict)
    outcome = _outcome(library, vendor, load, origin, stats, result)
    if outcome.thread_crashes:
        print(f"  {library}: threads died: {outcome.thread_crashes}", file=sys.stderr)
    if outcome.errors or outcome.pool_failures:
        # Rare on 127.0.0.1; worth seeing, since they skew the rates.
        print(
            f"  {library}: {outcome.errors} transport errors, "
            f"{outcome.pool_failures} pool failures (first: {outcome.first_failure})",
            file=sys.stderr,
        )
    return outcome


def _spec(library: str, vendor: Vendor, load: Load, url: str) -> dict[str, Any]:
    return {
        "mode": "naive" if library == "naive" else "pool",
        "url": url,
        "tokens": vendor.tokens(),
        "duration": load.duration,
        "groups": list(load.groups),
        "per_window": [vendor.limit, vendor.seconds] if load.known_limits else None,
        "distribute": load.distribute,
    }


def _outcome(
    library: str,
    vendor: Vendor,
    load: Load,
    origin: float,
    stats: dict[str, Any],
    result: dict[str, Any],
) -> Outcome:
    begin, end = _span(vendor, origin, result["started"] + load.warmup, result["ended"])
    times = [t for s in stats.values() for t in s.times]
    ok_in_span = {
        endpoint: sum(begin <= t < end for t in stamps)
        for endpoint, stamps in result["ok"].items()
    }
    return Outcome(
        library=library,
        admitted=sum(begin <= t < end for t in times),
        span=end - begin,
        granted=sum(s.granted for s in stats.values()),
        rejected=sum(s.rejected for s in stats.values()),
        max_in_flight=max(s.max_in_flight for s in stats.values()),
        ok_in_span=ok_in_span,
        statuses=result["statuses"],
        errors=result["errors"],
        pool_failures=result["pool_failures"],
        first_failure=result["first_failure"],
        stuck=result["stuck"],
        thread_crashes=result["thread_crashes"],
        clock_step=result["clock_step"],
    )


def _span(
    vendor: Vendor, origin: float, begin: float, end: float
) -> tuple[float, float]:
    """
    Whole vendor windows inside ``[begin, end)``.

    Counting whole windows makes ``rate`` a true ceiling: a sliding window
    admits at most ``limit`` in any window-long span, a fixed one at most
    ``limit`` in each of its own windows (hence the alignment to ``origin``),
    and a token bucket about ``limit`` per window once its burst is spent.
    """
    if vendor.kind == "fixed":
        begin = origin + math.ceil((begin - origin) / vendor.seconds) * vendor.seconds
    windows = math.floor((end - begin) / vendor.seconds)
    return begin, begin + max(windows, 0) * vendor.seconds
