"""
Drive one key pool with real HTTP requests against the simulated vendor.

The same file runs under our venv (our rotisserie), under the peer venv
(rotisserie 0.1.1) and in ``naive`` mode (no pool library at all), so every
row of a scenario comes from identical client code. It only uses the names
both pool releases share: ``KeyPool``, ``KeyConfig``, ``endpoint``,
``take_key`` and ``mark_result``, called positionally.

Usage: ``python _http_worker.py '<json spec>'``; the spec's fields are read
by :class:`Spec`. Prints one JSON object (see :func:`main`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

# Far above any simulated latency; a request that takes this long is a bug
# worth seeing in the error count rather than a hang.
_REQUEST_TIMEOUT = 10.0
# How long the main thread waits for callers after the deadline: one may
# still be finishing a request; one still waiting for a key is left behind.
_JOIN_GRACE = 1.0


@dataclass(frozen=True)
class Group:
    """Callers that share one endpoint."""

    endpoint: str
    threads: int
    reserve: int = 1
    priority: int = 1


@dataclass(frozen=True)
class Spec:
    """What one worker run does; parsed from the JSON argument."""

    mode: str  # "pool" or "naive"
    url: str
    tokens: list[str]
    duration: float
    groups: list[Group]
    per_window: tuple[int, float] | None = None
    distribute: bool | None = None

    @classmethod
    def parse(cls, text: str) -> Spec:
        """Build a spec from the JSON the parent passed."""
        raw = json.loads(text)
        window = raw.get("per_window")
        return cls(
            mode=raw["mode"],
            url=raw["url"],
            tokens=list(raw["tokens"]),
            duration=float(raw["duration"]),
            groups=[Group(**g) for g in raw["groups"]],
            per_window=(int(window[0]), _seconds(window[1])) if window else None,
            distribute=raw.get("distribute"),
        )


@dataclass
class Tally:
    """What the callers saw; every thread appends under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ok: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    failures: int = 0
    first_failure: str | None = None

    def record_failure(self, exc: Exception) -> None:
        """Count one call into the pool that raised before the deadline."""
        with self.lock:
            self.failures += 1
            if self.first_failure is None:
                # The type and message only: pool errors never carry a token.
                self.first_failure = f"{type(exc).__name__}: {exc}"

    def record(self, endpoint: str, status: int | None, at: float) -> None:
        """Count one answer (``None``: the request failed in transport)."""
        with self.lock:
            if status is None:
                self.errors += 1
                return
            self.statuses[status] += 1
            if status == 200:
                self.ok.setdefault(endpoint, []).append(at)


class PoolClient:
    """Takes a key from the pool for each request and reports how it went."""

    def __init__(self, spec: Spec) -> None:
        from rotisserie import KeyConfig, KeyPool

        configs = [
            KeyConfig(f"k{i}", token, per_window=spec.per_window)
            for i, token in enumerate(spec.tokens)
        ]
        options: dict[str, Any] = {}
        if spec.distribute is not None:
            options["distribute"] = spec.distribute
        # Any: the peer's pool has no type information shared with ours.
        self.pool: Any = KeyPool(configs, **options)

    def claims(self, groups: list[Group]) -> contextlib.ExitStack:
        """Enter every group's endpoint block; closing the stack leaves them."""
        stack = contextlib.ExitStack()
        for group in groups:
            stack.enter_context(
                self.pool.endpoint(group.endpoint, group.reserve, group.priority)
            )
        return stack

    def send(self, session: requests.Session, url: str, endpoint: str) -> int | None:
        """One request with a pooled key; returns its status or ``None``."""
        key = self.pool.take_key(endpoint)
        # Ours counts a request in its windows from the send, as the vendor
        # does; the peer has no such call.
        mark_sent = getattr(self.pool, "mark_sent", None)
        if mark_sent is not None:
            mark_sent(key)
        try:
            response = _get(session, url, key.token)
        except requests.RequestException as exc:
            # {} rather than None: the peer's signature asks for a dict.
            self.pool.mark_result(key, None, {}, exc)
            return None
        self.pool.mark_result(key, response.status_code, response.headers, None)
        return response.status_code

    def close(self) -> None:
        """Close the pool so that no waiter outlives the run."""
        self.pool.close()


class NaiveClient:
    """Round-robin over the tokens; on 429 sleep for Retry-After, then go on."""

    def __init__(self, spec: Spec) -> None:
        self._tokens = itertools.cycle(spec.tokens)
        self._lock = threading.Lock()

    def claims(self, groups: list[Group]) -> contextlib.ExitStack:
        """Nothing to claim: a naive client knows no endpoints."""
        return contextlib.ExitStack()

    def send(self, session: requests.Session, url: str, endpoint: str) -> int | None:
        """One request with the next token; sleeps out a 429 before returning."""
        with self._lock:
            token = next(self._tokens)
        try:
            response = _get(session, url, token)
        except requests.RequestException:
            return None
        if response.status_code == 429:
            time.sleep(_retry_after(response.headers.get("Retry-After")))
        return response.status_code

    def close(self) -> None:
        """Nothing to close."""


def _seconds(value: float) -> float:
    # The peer refuses a float window length, so whole seconds go as an int.
    return int(value) if float(value).is_integer() else float(value)


def _get(session: requests.Session, url: str, token: str) -> requests.Response:
    response = session.get(
        url, headers={"Authorization": f"Bearer {token}"}, timeout=_REQUEST_TIMEOUT
    )
    # Read the body so the connection goes back to the session for reuse.
    _ = response.content
    return response


def _retry_after(value: str | None) -> float:
    """Seconds to sleep for a Retry-After header; 1 s when it is unusable."""
    try:
        return max(float(value), 0.0) if value is not None else 1.0
    except ValueError:
        return 1.0


class Deadline:
    """
    When the run ends, on the monotonic clock.

    A step of the wall clock must neither end the run early nor turn a
    closed pool into a busy loop; it is measured instead (``step``), because
    the simulator stamps admissions with the wall clock and the parent maps
    the run onto those stamps.
    """

    def __init__(self, duration: float) -> None:
        self.duration = duration
        self.at = math.inf
        self.wall_start = 0.0
        self._offset = 0.0

    def start(self) -> None:
        """Start the clock; the barrier calls this once, before anyone runs."""
        self._offset = time.time() - time.monotonic()
        self.wall_start = time.time()
        self.at = time.monotonic() + self.duration

    def passed(self) -> bool:
        """Whether the run is over."""
        return time.monotonic() >= self.at

    def left(self) -> float:
        """Seconds until the end, never negative."""
        return max(self.at - time.monotonic(), 0.0)

    def step(self) -> float:
        """How far the wall clock moved against the monotonic one, seconds."""
        return time.time() - time.monotonic() - self._offset


def _caller(
    client: PoolClient | NaiveClient,
    spec: Spec,
    endpoint: str,
    start: threading.Barrier,
    deadline: Deadline,
    tally: Tally,
) -> None:
    url = f"{spec.url}/v1/{endpoint}"
    with requests.Session() as session:
        start.wait()
        while not deadline.passed():
            try:
                status = client.send(session, url, endpoint)
            except Exception as exc:
                # Closing the pool at the deadline may fail a waiting call;
                # before the deadline a failing pool is worth counting.
                if deadline.passed():
                    return
                tally.record_failure(exc)
                continue
            tally.record(endpoint, status, time.time())


def _watch_threads() -> list[str]:
    """Collect exceptions that end any thread, the pool's own included."""
    crashes: list[str] = []

    def hook(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else "?"
        crashes.append(f"{name}: {args.exc_type.__name__}: {args.exc_value}")

    threading.excepthook = hook
    return crashes


def run(spec: Spec) -> dict[str, Any]:
    """Run the callers until the deadline and return what they saw."""
    crashes = _watch_threads()
    client: PoolClient | NaiveClient = (
        PoolClient(spec) if spec.mode == "pool" else NaiveClient(spec)
    )
    tally = Tally()
    callers = sum(g.threads for g in spec.groups)
    deadline = Deadline(spec.duration)
    # The last party to arrive starts the clock, so no thread starts early.
    start = threading.Barrier(callers + 1, action=deadline.start)
    threads = [
        threading.Thread(
            target=_caller,
            args=(client, spec, g.endpoint, start, deadline, tally),
            daemon=True,
        )
        for g in spec.groups
        for _ in range(g.threads)
    ]
    claims = client.claims(spec.groups)
    for thread in threads:
        thread.start()
    start.wait()
    time.sleep(deadline.left())
    _finish(client, claims, threads)
    return {
        "started": deadline.wall_start,
        "ended": deadline.wall_start + spec.duration,
        "clock_step": deadline.step(),
        "ok": tally.ok,
        "statuses": {str(k): v for k, v in tally.statuses.items()},
        "errors": tally.errors,
        "pool_failures": tally.failures,
        "first_failure": tally.first_failure,
        "stuck": sum(t.is_alive() for t in threads),
        "thread_crashes": crashes[:10],
    }


def _finish(
    client: PoolClient | NaiveClient,
    claims: contextlib.ExitStack,
    threads: list[threading.Thread],
) -> None:
    """Stop the run at the deadline instead of serving every last waiter."""
    # Nothing after the deadline is measured, and waiting out the keys'
    # windows for callers still queued would only lengthen the run.
    with contextlib.suppress(Exception):
        client.close()
    until = time.monotonic() + _JOIN_GRACE
    for thread in threads:
        thread.join(max(until - time.monotonic(), 0.0))
    with contextlib.suppress(Exception):
        claims.close()


def main() -> None:
    """Parse the spec, run, print the result as one JSON line."""
    result = run(Spec.parse(sys.argv[1]))
    print(json.dumps(result), flush=True)
    # A thread still blocked in a pool's take_key (the peer has no timeout)
    # must not keep the process alive; everything worth keeping is printed.
    os._exit(0)


if __name__ == "__main__":
    main()
