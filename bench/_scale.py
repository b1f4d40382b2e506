"""
Scenario 6: the cost of one grant (take_key + mark_result) at 10 and 10,000
keys, from ``overhead.py``.
"""

from __future__ import annotations

from _peer import PEER_VERSION
from _report import Budget, Row, Section
from overhead import measure


def scale(budget: Budget) -> Section:
    """Microseconds per grant, sync and async, for every library."""
    results = measure(budget.pairs, budget.repeats)
    by_column = {
        "rotisserie": results["rotisserie"],
        "peer": results[f"peer {PEER_VERSION}"],
        "naive": results["naive"],
    }
    rows = [_row(by_column, mode) for mode in ("sync", "async")]
    return Section(rows, results)


def _row(by_column: dict[str, dict[str, float]], mode: str) -> Row:
    values = {}
    for column, timings in by_column.items():
        # The naive floor has no sync/async twins: one round-robin step.
        prefix = "naive" if column == "naive" else mode
        small, large = timings[f"{prefix}/10"], timings[f"{prefix}/10000"]
        values[column] = f"{_micro(small)} → {_micro(large)}"
    return Row("6 scale", f"µs per grant, 10 → 10,000 keys ({mode})", values)


def _micro(value: float) -> str:
    if value < 1:
        return f"{value:.3f}"
    return f"{value:.1f}" if value < 1000 else f"{value:,.0f}"
