"""
What scenarios hand back, and how the run prints and saves it.

Every scenario returns a :class:`Section`: table rows (one number per
library, an aim and whether rotisserie met it) plus the raw measurements,
which go to the JSON file untouched.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _peer import PEER_VERSION

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COLUMNS = ("rotisserie", "peer", "naive")


@dataclass(frozen=True)
class Budget:
    """How long each scenario runs; ``QUICK`` is a smoke run, ``FULL`` the real one."""

    name: str
    #: Seconds per run of the throughput rows (scenarios 1, 2 and 7).
    duration: float
    #: Seconds at the start of each HTTP run left out of rates.
    warmup: float
    shares_duration: float
    busy_duration: float
    wake_trials: int
    #: take/mark pairs per timing in the scale scenario (the peer does 1/20).
    pairs: int
    repeats: int
    #: Vendor kinds of scenario 7.
    vendor_kinds: tuple[str, ...]


FULL = Budget("full", 10.0, 1.0, 6.0, 5.0, 60, 10_000, 3, ("fixed", "bucket"))
QUICK = Budget("quick", 2.5, 0.5, 2.0, 1.5, 10, 2_000, 2, ("bucket",))


@dataclass(frozen=True)
class Row:
    """
    One line of the table: a metric for each library, and the aim.

    ``met`` is about rotisserie only; ``None`` when the row has no aim.
    """

    scenario: str
    metric: str
    values: dict[str, str]
    aim: str = "—"
    met: bool | None = None


@dataclass
class Section:
    """A scenario's rows and the raw numbers behind them."""

    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


def markdown(rows: list[Row]) -> str:
    """The results as one Markdown table."""
    peer = f"peer {PEER_VERSION}"
    header = ["scenario", "metric", "rotisserie", peer, "naive", "aim", "met?"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row.scenario, row.metric]
        cells += [row.values.get(column, "—") for column in COLUMNS]
        cells += [row.aim, _verdict(row.met)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def save(budget: Budget, sections: dict[str, Section], partial: str = "") -> Path:
    """
    Write every row and raw measurement to ``bench/results/<date>.json``.

    A smoke run or a run of some scenarios (``partial``, such as ``"1,4"``)
    gets a suffix, so it never overwrites the day's full results.
    """
    RESULTS_DIR.mkdir(exist_ok=True)
    suffix = "" if budget is FULL else f"-{budget.name}"
    if partial:
        suffix += "-only-" + partial.replace(",", "-")
    path = RESULTS_DIR / f"{time.strftime('%Y-%m-%d')}{suffix}.json"
    data = {
        "machine": machine(),
        "argv": sys.argv[1:],
        "budget": asdict(budget),
        "rows": [asdict(row) for sec in sections.values() for row in sec.rows],
        "raw": {name: sec.raw for name, sec in sections.items()},
    }
    path.write_text(json.dumps(data, indent=2, default=_plain) + "\n")
    return path


def percent(share: float) -> str:
    """``0.9712`` as ``97.1%``."""
    return f"{share * 100:.1f}%" if math.isfinite(share) else "—"


def _verdict(met: bool | None) -> str:
    if met is None:
        return "—"
    return "yes" if met else "**no**"


def _plain(value: object) -> object:
    # Tuples and dataclasses already serialise; anything else shows as text.
    return str(value)
