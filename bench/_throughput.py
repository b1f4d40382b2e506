"""
Scenarios 1, 2 and 7: how close each library gets to the vendor's ceiling.

Four keys at 20 requests per second, sixteen callers on one endpoint. With
known limits the pool is told ``per_window=(20, 1)``; with unknown limits it
must learn from the vendor's ``x-ratelimit-*`` headers and ``Retry-After``.
The vendor sends those headers in both cases, as real vendors do. The naive
client ignores both, so one naive run serves both rows.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from _report import Budget, Row, Section, percent
from _vendor import Load, Outcome, Vendor, run_http

#: Aims for rotisserie, from the project brief.
KNOWN_SHARE = 0.97
UNKNOWN_SHARE = 0.85
UNKNOWN_REJECTS = 0.03
CALLERS = 16


def sliding(budget: Budget) -> Section:
    """Scenarios 1 and 2 against the sliding-window (sliding-log) vendor."""
    return _known_and_unknown(Vendor(), budget, "1 known limits", "2 unknown limits")


def styles(budget: Budget) -> Section:
    """Scenario 7: rows 1 and 2 again against other kinds of vendor."""
    section = Section()
    for kind in budget.vendor_kinds:
        vendor = _vendor(kind)
        label = _label(vendor)
        part = _known_and_unknown(
            vendor, budget, f"7 {label}, known", f"7 {label}, unknown"
        )
        section.rows += part.rows
        section.raw[kind] = part.raw
    return section


def _vendor(kind: str) -> Vendor:
    if kind == "bucket":
        # A small burst: the vendor's 20/s holds only 4 back to back.
        return Vendor(kind="bucket", burst=4)
    return Vendor(kind=kind)


def _label(vendor: Vendor) -> str:
    if vendor.kind == "bucket":
        return f"token bucket (burst {vendor.burst})"
    return f"{vendor.kind} window"


def _known_and_unknown(
    vendor: Vendor, budget: Budget, known_label: str, unknown_label: str
) -> Section:
    loads = {known: _load(budget, known) for known in (True, False)}
    naive = run_http("naive", vendor, loads[True])
    outcomes: dict[bool, dict[str, Outcome]] = {}
    for known, load in loads.items():
        outcomes[known] = {
            library: run_http(library, vendor, load)
            for library in ("rotisserie", "peer")
        }
        outcomes[known]["naive"] = naive
    rows = _known_rows(known_label, vendor, outcomes[True])
    rows += _unknown_rows(unknown_label, vendor, outcomes[False])
    raw: dict[str, Any] = {
        "vendor": asdict(vendor),
        "known": {lib: o.as_dict() for lib, o in outcomes[True].items()},
        "unknown": {lib: o.as_dict() for lib, o in outcomes[False].items()},
    }
    return Section(rows, raw)


def _load(budget: Budget, known: bool) -> Load:
    return Load(
        duration=budget.duration,
        groups=({"endpoint": "chat", "threads": CALLERS},),
        known_limits=known,
        warmup=budget.warmup,
    )


def _known_rows(label: str, vendor: Vendor, runs: dict[str, Outcome]) -> list[Row]:
    ours = runs["rotisserie"]
    return [
        _share_row(label, vendor, runs, KNOWN_SHARE),
        Row(
            label,
            "429s",
            {lib: str(o.rejected) for lib, o in runs.items()},
            "0",
            ours.rejected == 0,
        ),
    ]


def _unknown_rows(label: str, vendor: Vendor, runs: dict[str, Outcome]) -> list[Row]:
    ours = runs["rotisserie"]
    return [
        _share_row(label, vendor, runs, UNKNOWN_SHARE),
        Row(
            label,
            "429s (share of requests)",
            {
                lib: f"{o.rejected} ({percent(o.reject_share)})"
                for lib, o in runs.items()
            },
            f"< {percent(UNKNOWN_REJECTS)}",
            ours.reject_share < UNKNOWN_REJECTS,
        ),
    ]


def _share_row(label: str, vendor: Vendor, runs: dict[str, Outcome], aim: float) -> Row:
    ceiling = vendor.rate
    values = {
        lib: f"{percent(o.rps / ceiling)} ({o.rps:.1f}/s)" for lib, o in runs.items()
    }
    share = runs["rotisserie"].rps / ceiling
    return Row(
        label,
        f"rate, share of {ceiling:.0f}/s",
        values,
        f"≥ {percent(aim)}",
        share >= aim,
    )
