"""
Scenario 3: two saturating endpoints share four equal keys by priority.

``e1`` (reserve 1, priority 1) and ``e2`` (reserve 1, priority 2) each have
eight callers, so both always wait. With ``distribute=False`` the two extra
keys go to the higher priority, so ``e1`` should get about 3/4 of the
requests; with ``distribute=True`` the levels take turns, about 1/2. Limits
are known, so the keys (not the pool's learning) are the bottleneck. The
naive client knows no endpoints; its split only reflects the caller counts.
"""

from __future__ import annotations

from _report import Budget, Row, Section, percent
from _vendor import Load, Outcome, Vendor, run_http

CALLERS_PER_ENDPOINT = 8
#: How far from the ideal share still counts as meeting it.
TOLERANCE = 0.05
GROUPS = (
    {"endpoint": "e1", "threads": CALLERS_PER_ENDPOINT, "reserve": 1, "priority": 1},
    {"endpoint": "e2", "threads": CALLERS_PER_ENDPOINT, "reserve": 1, "priority": 2},
)


def shares(budget: Budget) -> Section:
    """Run both settings of ``distribute`` for every library."""
    vendor = Vendor()
    section = Section()
    naive: Outcome | None = None
    for distribute, ideal in ((False, 0.75), (True, 0.50)):
        load = Load(
            duration=budget.shares_duration,
            groups=GROUPS,
            distribute=distribute,
            warmup=budget.warmup,
        )
        runs = {lib: run_http(lib, vendor, load) for lib in ("rotisserie", "peer")}
        # The naive client ignores distribute: one run serves both rows.
        naive = naive or run_http("naive", vendor, load)
        runs["naive"] = naive
        section.rows.append(_row(distribute, ideal, runs))
        section.raw[f"distribute={distribute}"] = {
            lib: o.as_dict() for lib, o in runs.items()
        }
    return section


def _e1_share(outcome: Outcome) -> float:
    e1 = outcome.ok_in_span.get("e1", 0)
    total = e1 + outcome.ok_in_span.get("e2", 0)
    return e1 / total if total else float("nan")


def _row(distribute: bool, ideal: float, runs: dict[str, Outcome]) -> Row:
    share = _e1_share(runs["rotisserie"])
    return Row(
        "3 priority shares",
        f"e1's share, distribute={distribute}",
        {lib: percent(_e1_share(o)) for lib, o in runs.items()},
        f"≈ {percent(ideal)} (± {TOLERANCE * 100:.0f})",
        abs(share - ideal) <= TOLERANCE,
    )
