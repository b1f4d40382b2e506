"""
Run every benchmark scenario and print one table.

    .venv/bin/python bench/run.py            # the full run, about 4 minutes
    .venv/bin/python bench/run.py --quick    # a smoke run, about 1 minute
    .venv/bin/python bench/run.py --only 1,4 # some scenarios only

Each row compares rotisserie (this tree), the published peer (rotisserie
0.1.1, installed into ``bench/.peer-venv`` on first use) and a naive client
(round-robin over the keys, sleep out each 429). HTTP scenarios run against
the simulated vendor on 127.0.0.1. Scenarios run one after another: the
machine is small, and parallel runs would measure each other. The table is
printed at the end and saved with the raw numbers to
``bench/results/<date>.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from _busy import busy
from _peer import peer_python
from _report import FULL, QUICK, Budget, Section, machine, markdown, save
from _scale import scale
from _shares import shares
from _throughput import sliding, styles
from _wake import wake

Scenario = Callable[[Budget], Section]

#: Scenario number (as ``--only`` takes it), name, function; in table order.
SCENARIOS: tuple[tuple[str, str, Scenario], ...] = (
    ("1,2", "throughput", sliding),
    ("3", "shares", shares),
    ("4", "busy key", busy),
    ("5", "wake latency", wake),
    ("6", "scale", scale),
    ("7", "vendor styles", styles),
)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the chosen scenarios, print and save the table."""
    args = _parser().parse_args(argv)
    budget = QUICK if args.quick else FULL
    chosen = _chosen(args.only)
    peer_python()  # install the peer first, so its time is not in any scenario
    sections: dict[str, Section] = {}
    started = time.monotonic()
    for numbers, name, scenario in SCENARIOS:
        if not chosen & set(numbers.split(",")):
            continue
        print(f"scenario {numbers}: {name} ...", file=sys.stderr, flush=True)
        clock = time.monotonic()
        sections[name] = scenario(budget)
        print(f"  {time.monotonic() - clock:.0f} s", file=sys.stderr, flush=True)
    path = save(budget, sections, args.only.replace(" ", ""))
    rows = [row for section in sections.values() for row in section.rows]
    info = machine()
    print(
        f"\n{budget.name} run, {time.monotonic() - started:.0f} s; "
        f"{info['nproc']} CPUs, Python {info['python']}, {info['date']}\n"
    )
    print(markdown(rows))
    print(f"\nsaved to {path}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument(
        "--only", default="", help="comma-separated scenario numbers (default: all)"
    )
    return parser


def _chosen(only: str) -> set[str]:
    every = {n for numbers, _, _ in SCENARIOS for n in numbers.split(",")}
    if not only:
        return every
    wanted = {part.strip() for part in only.split(",") if part.strip()}
    unknown = wanted - every
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return wanted


if __name__ == "__main__":
    main()
