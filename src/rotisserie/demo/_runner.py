"""
Running one demo: vendor up, pool built, workload on a thread, view refreshed.

The workload runs on its own thread (worker threads for sync clients, an
event loop for async ones) so that the calling thread is free to refresh the
view, whatever the client, and to catch Ctrl-C.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .._async_pool import AsyncKeyPool
from .._pool import KeyPool
from ._frame import Frame, Monitor
from ._settings import ENDPOINTS, DemoSettings
from ._summary import DemoSummary, summarize
from ._tally import Tally
from ._vendor import key_configs, make_tokens, start_vendor

if TYPE_CHECKING:
    from ..testing import Simulator

__all__ = ["run_demo"]

#: Seconds between two refreshes of the view.
REFRESH_SECONDS = 0.25

_FrameSource = Callable[[], Frame]


#: Seconds added to the demo keys' windows for the trip to the vendor.
_TRIP_MARGIN = 0.01


def run_demo(
    settings: DemoSettings,
    *,
    monitor: Monitor | None = None,
    tokens: Sequence[str] | None = None,
) -> DemoSummary:
    """
    Run one demo against a simulated vendor and return its summary.

    Starts the simulator on 127.0.0.1, builds a pool of the demo keys, and
    sends ``settings.total`` requests through the chosen client from three
    endpoints: ``chat`` (priority 1), ``search`` (priority 2) and ``batch``
    (priority 3, which leaves half way so its keys are handed on).

    Args:
        settings: what to run.
        monitor: shown a :class:`Frame` a few times a second; ``None`` shows
            nothing.
        tokens: the keys' secrets, one per key (default: fresh random ones).

    Raises:
        ConfigError: ``tokens`` does not hold one token per key.
        KeyboardInterrupt: the run was interrupted; requests under way were
            let finish first.

    .. versionadded:: 0.2.0
    """
    secrets = list(tokens) if tokens is not None else make_tokens(settings.keys)
    configs = key_configs(settings, secrets)
    tally = Tally(settings.total, [plan.name for plan in ENDPOINTS])
    vendor = start_vendor(settings, secrets)
    # The vendor runs in this interpreter, so a request it counts waits for
    # the GIL after it was sent: a shorter switch interval keeps that wait
    # (the spread between our count and the vendor's) to about a millisecond.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        pool: KeyPool | AsyncKeyPool
        # Vendors count requests on arrival; the margin covers the trip.
        options = {"distribute": not settings.funnel, "window_margin": _TRIP_MARGIN}
        if settings.is_async:
            pool = AsyncKeyPool(configs, **options)
        else:
            pool = KeyPool(configs, **options)
        try:
            workload = _Workload(settings, pool, vendor.url, tally)
            workload.start()
            _watch(
                workload, tally, monitor, lambda: _frame(settings, tally, pool, vendor)
            )
            workload.raise_failure()
        finally:
            pool.close()
        stats = vendor.stats()
    finally:
        vendor.stop()
        sys.setswitchinterval(switch_interval)
    return summarize(settings, tally.view(), stats)


class _Workload(threading.Thread):
    """
    The whole workload on one thread; keeps its exception for the caller.
    """

    def __init__(
        self,
        settings: DemoSettings,
        pool: KeyPool | AsyncKeyPool,
        base_url: str,
        tally: Tally,
    ) -> None:
        super().__init__(name="demo-workload", daemon=True)
        self._settings = settings
        self._pool = pool
        self._base_url = base_url
        self._tally = tally
        self._failure: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # handed to the caller's thread
            self._failure = exc
            # Workers still running must not go on for nothing.
            self._tally.stop()

    def _run(self) -> None:
        pool = self._pool
        if isinstance(pool, AsyncKeyPool):
            from ._async_workload import run_async_workload

            coro = run_async_workload(self._settings, pool, self._base_url, self._tally)
            asyncio.run(coro)
        else:
            from ._sync_workload import run_sync_workload

            run_sync_workload(self._settings, pool, self._base_url, self._tally)

    def raise_failure(self) -> None:
        """
        Raise what the workload raised, if anything.
        """
        if self._failure is not None:
            raise self._failure


def _watch(
    workload: _Workload,
    tally: Tally,
    monitor: Monitor | None,
    take_frame: _FrameSource,
) -> None:
    """
    Refresh the monitor until the workload ends; on Ctrl-C, wind it down.
    """
    try:
        while workload.is_alive():
            if monitor is not None:
                monitor.update(take_frame())
            workload.join(REFRESH_SECONDS)
    except KeyboardInterrupt:
        # No new requests; those under way end (keys keep freeing), then the
        # interrupt goes on up.
        tally.stop()
        workload.join()
        raise
    finally:
        if monitor is not None:
            monitor.close(take_frame())


def _frame(
    settings: DemoSettings,
    tally: Tally,
    pool: KeyPool | AsyncKeyPool,
    vendor: Simulator,
) -> Frame:
    return Frame(
        settings=settings,
        tally=tally.view(latencies=False),
        pool=pool.snapshot(),
        vendor=vendor.stats(),
        now=time.monotonic(),
    )
