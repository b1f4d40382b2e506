"""
Scenario 4: one key, a generous limit, 50 ms per answer, twenty callers.

The limit never binds, so the only thing between the callers and the
vendor is the pool: a pool that lends a key to one request at a time turns
twenty callers into one.
"""

from __future__ import annotations

from _report import COLUMNS, Budget, Row, Section
from _vendor import Load, Outcome, Vendor, run_http

CALLERS = 20
LATENCY = 0.05
MIN_IN_FLIGHT = 15


def busy(budget: Budget) -> Section:
    """Run every library against the one slow key."""
    vendor = Vendor(keys=1, limit=10_000, seconds=1.0, latency=LATENCY)
    load = Load(
        duration=budget.busy_duration,
        groups=({"endpoint": "slow", "threads": CALLERS},),
        known_limits=False,
        warmup=budget.warmup,
    )
    runs = {lib: run_http(lib, vendor, load) for lib in COLUMNS}
    return Section(_rows(runs), {lib: o.as_dict() for lib, o in runs.items()})


def _rows(runs: dict[str, Outcome]) -> list[Row]:
    ours = runs["rotisserie"]
    ideal = CALLERS / LATENCY
    return [
        Row(
            "4 one busy key",
            "most requests in flight",
            {lib: str(o.max_in_flight) for lib, o in runs.items()},
            f"≥ {MIN_IN_FLIGHT}",
            ours.max_in_flight >= MIN_IN_FLIGHT,
        ),
        Row(
            "4 one busy key",
            f"requests/s (ideal {ideal:.0f})",
            {lib: f"{o.rps:.0f}" for lib, o in runs.items()},
        ),
    ]
