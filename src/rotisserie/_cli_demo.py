"""
``rotisserie demo``: a key pool against a simulated vendor, watched live.
"""

from __future__ import annotations

import json
from typing import cast

import click

from .demo import CLIENTS, ClientName, DemoSettings, Monitor, run_demo

__all__ = ["demo"]


@click.command()
@click.option(
    "--keys",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Demo keys in the pool.",
)
@click.option(
    "--rate",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Requests per second the vendor allows each key.",
)
@click.option(
    "--requests",
    "total",
    type=click.IntRange(min=1),
    help="Requests in all.  [default: keys x rate x 20, about 20 s at the ceiling]",
)
@click.option(
    "--client",
    type=click.Choice(CLIENTS),
    default="httpx",
    show_default=True,
    help="HTTP client: httpx (async), aiohttp, requests or httpx-sync.",
)
@click.option(
    "--funnel",
    is_flag=True,
    help="Give extra keys to the highest priority (distribute=False).",
)
@click.option(
    "--unknown-limits",
    is_flag=True,
    help="Don't tell the pool the limits; it learns them from the vendor's answers.",
)
@click.option(
    "--latency",
    type=click.FloatRange(0, 10),
    default=0.05,
    show_default=True,
    help="Seconds the simulated vendor takes to answer.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print only the summary, as JSON; no live view.",
)
def demo(
    keys: int,
    rate: int,
    total: int | None,
    client: str,
    funnel: bool,
    unknown_limits: bool,
    latency: float,
    as_json: bool,
) -> None:
    """
    Pool demo keys against a simulated vendor and watch them work.

    Starts a simulated rate-limited vendor on 127.0.0.1 and sends a mixed
    workload through a real HTTP client: endpoints chat (priority 1),
    search (priority 2) and batch (priority 3, leaves half way so its keys
    are handed on). Shows each key and endpoint live, then the rate reached
    against the ceiling (keys x rate), the 429 count, each endpoint's share
    and its latency percentiles.
    """
    # Imported here so that other commands start without rich's live view.
    from rich.console import Console

    from .demo._live import LiveMonitor, describe_run
    from .demo._plain import PlainMonitor
    from .demo._report import render_summary

    settings = DemoSettings(
        keys=keys,
        rate=rate,
        requests=total,
        client=cast(ClientName, client),  # click.Choice checked it
        funnel=funnel,
        unknown_limits=unknown_limits,
        latency=latency,
    )
    console = Console()
    monitor: Monitor | None = None
    if not as_json:
        if console.is_terminal:
            monitor = LiveMonitor(console)
        else:
            click.echo(f"rotisserie demo: {describe_run(settings)}")
            monitor = PlainMonitor(click.echo)

    summary = run_demo(settings, monitor=monitor)

    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        console.print(render_summary(summary))
