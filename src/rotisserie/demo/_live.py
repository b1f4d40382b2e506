"""
The live terminal view of a running demo (rich ``Live``).
"""

from __future__ import annotations

from collections import deque

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from ._frame import Frame
from ._settings import ENDPOINTS, DemoSettings

__all__ = ["LiveMonitor", "describe_run", "render_frame"]

# The current rate is measured over about this many seconds of frames.
RATE_SPAN = 1.5


class LiveMonitor:
    """
    Redraws one view in place while the demo runs.

    Args:
        console: the terminal to draw on.
    """

    def __init__(self, console: Console) -> None:
        # Refreshed by the caller a few times a second, never by a thread
        # of its own: the view then costs nothing between frames.
        self._live = Live(console=console, auto_refresh=False)
        self._recent: deque[tuple[float, int]] = deque()
        self._started = False

    def update(self, frame: Frame) -> None:
        """
        Redraw with ``frame``.
        """
        if not self._started:
            self._live.start()
            self._started = True
        self._live.update(render_frame(frame, self._rate(frame)), refresh=True)

    def close(self, frame: Frame) -> None:
        """
        Draw the last frame and leave it on screen.
        """
        self.update(frame)
        self._live.stop()

    def _rate(self, frame: Frame) -> float:
        """
        Requests per second over the last :data:`RATE_SPAN` seconds.
        """
        recent = self._recent
        recent.append((frame.now, frame.tally.done))
        while len(recent) > 2 and frame.now - recent[1][0] >= RATE_SPAN:
            recent.popleft()
        (then, done_then), (now, done_now) = recent[0], recent[-1]
        return (done_now - done_then) / (now - then) if now > then else 0.0


def describe_run(settings: DemoSettings) -> str:
    """
    One line naming the client, the keys, the ceiling and the mode.
    """
    client = {
        "httpx": "httpx (async)",
        "httpx-sync": "httpx (sync)",
    }.get(settings.client, settings.client)
    limit, window = settings.window
    mode = "funnel" if settings.funnel else "distribute"
    known = (
        "limits learned" if settings.unknown_limits else f"limits {limit}/{window:g} s"
    )
    return (
        f"{client} · {settings.keys} keys × {settings.rate}/s = "
        f"{settings.ceiling}/s · {mode} · {known}"
    )


def render_frame(frame: Frame, rate: float) -> RenderableType:
    """
    The whole view for one frame; ``rate`` is the current requests/s.
    """
    tally = frame.tally
    elapsed = tally.elapsed(frame.now)
    status = Text.assemble(
        (f"{elapsed:5.1f} s", "bold"),
        f"  {rate:5.1f} req/s now (ceiling {frame.settings.ceiling}/s)  ",
        (f"{frame.rejected} × 429", "red" if frame.rejected else "green"),
    )
    return Group(
        Text(f"rotisserie demo · {describe_run(frame.settings)}", style="bold"),
        status,
        _keys_table(frame),
        _endpoints_table(frame),
        _progress(frame),
    )


def _keys_table(frame: Frame) -> Table:
    table = Table(
        "key",
        "owner",
        "in flight",
        "granted",
        "429s",
        "left",
        "cooldown",
        title="keys",
        title_justify="left",
    )
    for key in frame.pool.keys:
        stats = frame.vendor.get(key.name)
        granted = stats.granted if stats is not None else 0
        rejected = stats.rejected if stats is not None else 0
        table.add_row(
            # Text, not str: rich would read "[...]" in a name as markup.
            Text(key.name),
            Text(key.endpoint or "-"),
            str(key.in_flight),
            str(granted),
            Text(str(rejected), style="red" if rejected else ""),
            "?" if key.remaining is None else str(key.remaining),
            f"{key.cooldown_left:.2f} s" if key.cooldown_left > 0 else "",
        )
    return table


def _endpoints_table(frame: Frame) -> Table:
    table = Table(
        "endpoint",
        "priority",
        "reserve",
        "keys",
        "done",
        "waiting",
        "share",
        "state",
        title="endpoints",
        title_justify="left",
    )
    done_total = frame.tally.done
    owned = {e.name: e for e in frame.pool.endpoints}
    for plan in ENDPOINTS:
        counts = frame.tally.endpoints[plan.name]
        endpoint = owned.get(plan.name)
        share = counts.done / done_total if done_total else 0.0
        table.add_row(
            plan.name,
            str(plan.priority),
            str(plan.reserve),
            str(len(endpoint.keys)) if endpoint is not None else "0",
            str(counts.done),
            str(endpoint.waiting) if endpoint is not None else "0",
            f"{share:6.1%}",
            "left" if counts.left else "running",
        )
    return table


def _progress(frame: Frame) -> Table:
    tally = frame.tally
    grid = Table.grid(padding=(0, 1))
    grid.add_row(
        "progress",
        ProgressBar(total=tally.total, completed=tally.done, width=40),
        f"{tally.done}/{tally.total}",
    )
    return grid
