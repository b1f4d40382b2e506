"""
Scenario 5: how late the first waiter is served after every key comes back.

In-process, no HTTP: ``_wake_worker.py`` runs the trials under our venv (sync
and async pools) and the peer's; the naive column is ``time.sleep`` for the
same cooldown, the floor any sleeping client pays.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from _peer import peer_python, run_worker
from _report import Budget, Row, Section

#: Seconds every key cools in a trial; short, so trials are cheap, yet far
#: longer than any wake-up path.
COOLDOWN = 0.05
MEDIAN_AIM_MS = 1.0


def wake(budget: Budget) -> Section:
    """Median and p99 lateness for the sync and async pools of each library."""
    args = ("--trials", str(budget.wake_trials), "--cooldown", str(COOLDOWN))
    late: dict[str, list[float]] = {}
    ours: Path | str = sys.executable
    for name, python, flavour in (
        ("rotisserie/sync", ours, "sync"),
        ("rotisserie/async", ours, "async"),
        ("peer/sync", peer_python(), "sync"),
        ("peer/async", peer_python(), "async"),
        ("naive/sleep", ours, "sleep"),
    ):
        result = run_worker(python, "_wake_worker.py", "--flavour", flavour, *args)
        assert isinstance(result, dict)
        late[name] = [float(x) for x in result["late_ms"]]
    rows = [_row(flavour, late) for flavour in ("sync", "async")]
    return Section(rows, {"cooldown_s": COOLDOWN, "late_ms": late})


def _row(flavour: str, late: dict[str, list[float]]) -> Row:
    cells = {
        "rotisserie": _summary(late[f"rotisserie/{flavour}"]),
        "peer": _summary(late[f"peer/{flavour}"]),
        "naive": _summary(late["naive/sleep"]),
    }
    median = statistics.median(late[f"rotisserie/{flavour}"])
    return Row(
        "5 wake latency",
        f"ms late, median / p99 ({flavour})",
        cells,
        f"median < {MEDIAN_AIM_MS:g} ms",
        median < MEDIAN_AIM_MS,
    )


def _summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} / {_p99(samples):.2f}"


def _p99(samples: list[float]) -> float:
    # Nearest rank: with a few dozen trials this is the worst one or close.
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
