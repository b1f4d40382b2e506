"""
The workload for synchronous clients: worker threads and a ``KeyPool``.

Each endpoint is a thread that holds ``pool.auth(...)`` open and runs its
workers, one thread each; ``requests`` gets a session per worker (a session
is not meant to be shared between threads), ``httpx.Client`` one client per
endpoint (it is thread-safe).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence

import httpx
import requests

from .._pool import KeyPool
from ..adapters import SyncAuth
from ._settings import ENDPOINTS, DemoSettings, EndpointPlan
from ._tally import Tally, failure_of

__all__ = ["run_sync_workload"]

# Far above any simulated latency: a request this slow is a failure to show.
REQUEST_TIMEOUT = 30.0

#: Sends one request and returns its status.
Send = Callable[[], int]


def run_sync_workload(
    settings: DemoSettings, pool: KeyPool, base_url: str, tally: Tally
) -> None:
    """
    Run every endpoint's workers to the end of the run; blocks.

    Raises:
        BaseException: the first failure of an endpoint or a worker (a failed
            request is counted, not raised).
    """
    # Every endpoint claims its keys before any request goes out, so the
    # first grants already follow the full assignment.
    entered = threading.Barrier(len(ENDPOINTS))
    _in_threads(
        "demo",
        [
            functools.partial(
                _run_endpoint, settings, pool, base_url, tally, plan, entered
            )
            for plan in ENDPOINTS
        ],
    )


def _run_endpoint(
    settings: DemoSettings,
    pool: KeyPool,
    base_url: str,
    tally: Tally,
    plan: EndpointPlan,
    entered: threading.Barrier,
) -> None:
    url = f"{base_url}/v1/{plan.name}"
    try:
        with pool.auth(plan.name, reserve=plan.reserve, priority=plan.priority) as auth:
            entered.wait()
            if settings.client == "requests":
                _run_requests(settings, auth, url, tally, plan)
            else:
                _run_httpx(settings, auth, url, tally, plan)
    except BaseException:
        # Harmless once every endpoint is in; before, the others would wait
        # for this one forever.
        entered.abort()
        raise
    # Leaving the block hands the endpoint's keys to the others.
    tally.left(plan.name)


def _run_requests(
    settings: DemoSettings, auth: SyncAuth, url: str, tally: Tally, plan: EndpointPlan
) -> None:
    def worker() -> None:
        with requests.Session() as session:
            session.auth = auth
            auth.mount(session)

            def send() -> int:
                response = session.get(url, timeout=REQUEST_TIMEOUT)
                response.close()
                return response.status_code

            _work(tally, plan, send)

    _run_threads(settings, plan, worker)


def _run_httpx(
    settings: DemoSettings, auth: SyncAuth, url: str, tally: Tally, plan: EndpointPlan
) -> None:
    workers = settings.workers_per_endpoint
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    with httpx.Client(auth=auth, limits=limits, timeout=REQUEST_TIMEOUT) as client:

        def send() -> int:
            return client.get(url).status_code

        _run_threads(settings, plan, lambda: _work(tally, plan, send))


def _run_threads(
    settings: DemoSettings, plan: EndpointPlan, worker: Callable[[], None]
) -> None:
    _in_threads(f"demo-{plan.name}", [worker] * settings.workers_per_endpoint)


def _in_threads(name: str, targets: Sequence[Callable[[], None]]) -> None:
    """
    Run each target on a thread of its own, wait for all, raise the first
    failure (a thread's exception would otherwise only be printed).
    """
    failures: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # handed to the joining thread
            failures.append(exc)

    threads = [
        threading.Thread(target=guarded, args=(target,), name=f"{name}-{i}")
        for i, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def _work(tally: Tally, plan: EndpointPlan, send: Send) -> None:
    """
    Send requests for ``plan`` while tickets last.
    """
    upto = tally.total // 2 if plan.leaves_half_way else None
    while tally.take(upto):
        start = tally.started()
        try:
            status = send()
        except Exception as exc:  # counted and shown; the run goes on
            tally.ended(plan.name, start, type(exc).__name__)
        else:
            tally.ended(plan.name, start, failure_of(status))
