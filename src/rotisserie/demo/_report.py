"""
The summary printed at the end of a demo, as rich tables.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ._settings import ENDPOINTS
from ._summary import DemoSummary

__all__ = ["render_summary"]


def render_summary(summary: DemoSummary) -> RenderableType:
    """
    The summary: rate against the ceiling, 429s, endpoints, keys.
    """
    return Group(
        _overview(summary),
        _endpoints(summary),
        _keys(summary),
    )


def _overview(summary: DemoSummary) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    share = summary.share_of_ceiling
    grid.add_row(
        "rate",
        Text.assemble(
            (f"{summary.achieved_rps:.1f} req/s", "bold"),
            f" = {share:.1%} of the {summary.ceiling_rps:g}/s ceiling "
            f"({summary.keys} keys × {summary.rate}/s)",
        ),
    )
    failed = f"{summary.errors} failed"
    if summary.errors_by_kind:
        kinds = ", ".join(f"{k}: {n}" for k, n in summary.errors_by_kind.items())
        failed += f" ({kinds})"
    grid.add_row(
        "requests",
        f"{summary.requests} in {summary.elapsed_s:.1f} s: {summary.ok} ok, {failed}",
    )
    grid.add_row(
        "429s",
        Text(
            f"{summary.rate_limited} (counted by the vendor, retries included)",
            style="red" if summary.rate_limited else "green",
        ),
    )
    return grid


def _endpoints(summary: DemoSummary) -> Table:
    table = Table(
        "endpoint",
        "priority",
        "done",
        "share",
        "p50",
        "p95",
        "p99",
        title="endpoints (latency includes waiting for a key)",
        title_justify="left",
    )
    for plan in ENDPOINTS:
        endpoint = summary.endpoints[plan.name]
        table.add_row(
            plan.name,
            str(plan.priority),
            str(endpoint.done),
            f"{endpoint.share:.1%}",
            f"{endpoint.p50_ms:.0f} ms",
            f"{endpoint.p95_ms:.0f} ms",
            f"{endpoint.p99_ms:.0f} ms",
        )
    return table


def _keys(summary: DemoSummary) -> Table:
    table = Table(
        "key",
        "granted",
        "429s",
        "max in flight",
        title="keys (as the vendor saw them)",
        title_justify="left",
    )
    for name, key in summary.keys_detail.items():
        table.add_row(
            Text(name), str(key.granted), str(key.rejected), str(key.max_in_flight)
        )
    return table
