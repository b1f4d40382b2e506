"""
The workload for asyncio clients: tasks and an ``AsyncKeyPool``.

Each endpoint is a task that holds ``pool.auth(...)`` open and runs its
workers as tasks sharing one client: an ``httpx.AsyncClient`` with the auth,
or an ``aiohttp.ClientSession`` with the auth's middleware.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

from .._async_pool import AsyncKeyPool
from ..adapters import AsyncAuth
from ._settings import ENDPOINTS, DemoSettings, EndpointPlan
from ._tally import Tally, failure_of

__all__ = ["run_async_workload"]

# Far above any simulated latency: a request this slow is a failure to show.
REQUEST_TIMEOUT = 30.0

#: Sends one request and returns its status.
Send = Callable[[], Awaitable[int]]


async def run_async_workload(
    settings: DemoSettings, pool: AsyncKeyPool, base_url: str, tally: Tally
) -> None:
    """
    Run every endpoint's workers to the end of the run.
    """
    gate = _Gate(len(ENDPOINTS))
    await asyncio.gather(
        *(
            _run_endpoint(settings, pool, base_url, tally, plan, gate)
            for plan in ENDPOINTS
        )
    )


class _Gate:
    """
    Holds every endpoint back until all have claimed their keys.
    """

    def __init__(self, parties: int) -> None:
        self._waiting = parties
        self._open = asyncio.Event()

    async def arrive(self) -> None:
        self._waiting -= 1
        if self._waiting == 0:
            self._open.set()
        await self._open.wait()


async def _run_endpoint(
    settings: DemoSettings,
    pool: AsyncKeyPool,
    base_url: str,
    tally: Tally,
    plan: EndpointPlan,
    gate: _Gate,
) -> None:
    url = f"{base_url}/v1/{plan.name}"
    async with pool.auth(
        plan.name, reserve=plan.reserve, priority=plan.priority
    ) as auth:
        # Every endpoint claims its keys before any request goes out, so the
        # first grants already follow the full assignment.
        await gate.arrive()
        if settings.client == "aiohttp":
            await _run_aiohttp(settings, auth, url, tally, plan)
        else:
            await _run_httpx(settings, auth, url, tally, plan)
    # Leaving the block hands the endpoint's keys to the others.
    tally.left(plan.name)


async def _run_httpx(
    settings: DemoSettings, auth: AsyncAuth, url: str, tally: Tally, plan: EndpointPlan
) -> None:
    workers = settings.workers_per_endpoint
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(
        auth=auth, limits=limits, timeout=REQUEST_TIMEOUT
    ) as client:

        async def send() -> int:
            response = await client.get(url)
            return response.status_code

        await _run_tasks(settings, tally, plan, send)


async def _run_aiohttp(
    settings: DemoSettings, auth: AsyncAuth, url: str, tally: Tally, plan: EndpointPlan
) -> None:
    connector = aiohttp.TCPConnector(limit=settings.workers_per_endpoint)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, middlewares=(auth.middleware,)
    ) as session:

        async def send() -> int:
            async with session.get(url) as response:
                await response.read()
                return response.status

        await _run_tasks(settings, tally, plan, send)


async def _run_tasks(
    settings: DemoSettings, tally: Tally, plan: EndpointPlan, send: Send
) -> None:
    await asyncio.gather(
        *(_work(tally, plan, send) for _ in range(settings.workers_per_endpoint))
    )


async def _work(tally: Tally, plan: EndpointPlan, send: Send) -> None:
    """
    Send requests for ``plan`` while tickets last.
    """
    upto = tally.total // 2 if plan.leaves_half_way else None
    while tally.take(upto):
        start = tally.started()
        try:
            status = await send()
        except Exception as exc:  # counted and shown; the run goes on
            tally.ended(plan.name, start, type(exc).__name__)
        else:
            tally.ended(plan.name, start, failure_of(status))
