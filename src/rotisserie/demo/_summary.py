"""
The end-of-run summary: rate against the ceiling, 429s, shares, latencies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..testing import KeyStats
from ._settings import DemoSettings
from ._tally import TallyView

__all__ = ["DemoSummary", "EndpointSummary", "KeySummary", "percentile", "summarize"]


@dataclass(frozen=True)
class EndpointSummary:
    """
    One endpoint's part of the run.

    Attributes:
        done: requests that ended, well or not.
        share: ``done`` as a share of all requests that ended (0 to 1).
        p50_ms: median latency, milliseconds, waiting for a key included.
    """

    done: int
    share: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class KeySummary:
    """
    One key as the vendor saw it: admitted, rejected (429), most in flight.
    """

    granted: int
    rejected: int
    max_in_flight: int


@dataclass(frozen=True)
class DemoSummary:
    """
    The result of one demo run.

    The rate is measured honestly: requests that ended, over the wall time
    from the first request's start to the last one's end. The 429 count is
    the vendor's (the simulator's), so a 429 that an adapter retried away
    still counts. ``errors`` are requests that ended badly for the caller
    (after the adapter's retries); ``errors_by_kind`` names how, such as
    ``"HTTP 503"`` or an exception's type name.

    .. versionadded:: 0.2.0
    """

    client: str
    keys: int
    rate: int
    latency_s: float
    funnel: bool
    unknown_limits: bool
    ceiling_rps: float
    achieved_rps: float
    share_of_ceiling: float
    requests: int
    ok: int
    rate_limited: int
    errors: int
    errors_by_kind: dict[str, int]
    elapsed_s: float
    endpoints: dict[str, EndpointSummary]
    keys_detail: dict[str, KeySummary]

    def to_dict(self) -> dict[str, Any]:
        """
        The summary as plain JSON-ready data.
        """
        return asdict(self)


def summarize(
    settings: DemoSettings, tally: TallyView, vendor: Mapping[str, KeyStats]
) -> DemoSummary:
    """
    Build the summary from the workers' tally and the vendor's counters.
    """
    elapsed = tally.elapsed()
    done = tally.done
    achieved = done / elapsed if elapsed > 0 else 0.0
    return DemoSummary(
        client=settings.client,
        keys=settings.keys,
        rate=settings.rate,
        latency_s=settings.latency,
        funnel=settings.funnel,
        unknown_limits=settings.unknown_limits,
        ceiling_rps=float(settings.ceiling),
        achieved_rps=round(achieved, 2),
        share_of_ceiling=round(achieved / settings.ceiling, 4),
        requests=done,
        ok=tally.ok,
        rate_limited=sum(s.rejected for s in vendor.values()),
        errors=tally.failed,
        errors_by_kind=_errors_by_kind(tally),
        elapsed_s=round(elapsed, 3),
        endpoints={
            name: _endpoint(counts.done, done, counts.latencies)
            for name, counts in tally.endpoints.items()
        },
        keys_detail={
            name: KeySummary(s.granted, s.rejected, s.max_in_flight)
            for name, s in vendor.items()
        },
    )


def percentile(values: Sequence[float], q: float) -> float:
    """
    The ``q``-th percentile (0 < q <= 100) of ``values`` by nearest rank;
    0.0 for no values.
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def _endpoint(done: int, total: int, latencies: Sequence[float]) -> EndpointSummary:
    return EndpointSummary(
        done=done,
        # Not rounded, so that the shares add up to 1.
        share=done / total if total else 0.0,
        p50_ms=_ms(percentile(latencies, 50)),
        p95_ms=_ms(percentile(latencies, 95)),
        p99_ms=_ms(percentile(latencies, 99)),
    )


def _errors_by_kind(tally: TallyView) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for counts in tally.endpoints.values():
        for kind, count in counts.failures.items():
            kinds[kind] = kinds.get(kind, 0) + count
    return kinds


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
