"""
How late a waiting request is served after the pool's keys come back.

Each trial builds a fresh pool of two keys, takes both, reports a 429 with
``Retry-After: <cooldown>`` on each, and then asks for a key. The pool's own
books say when a key frees (``min(key.next_available_at(now))``, which both
rotisserie releases have); the trial records how long after that instant
``take_key`` returned. In-process, no HTTP.

Runs under our venv and the peer's. Flavours: ``sync`` (``KeyPool``),
``async`` (``AsyncKeyPool``) and ``sleep`` (no pool: ``time.sleep`` for the
same cooldown, the naive floor). Prints ``{"late_ms": [...]}``.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import time
from typing import Any

_ENDPOINT = "wake"


def _configs() -> list[Any]:
    from rotisserie import KeyConfig

    return [KeyConfig(f"k{i}", f"wake-token-{i}") for i in range(2)]


def _cool_all(pool: Any, leases: list[Any], cooldown: float) -> float:
    """Report a 429 on every lease; return when the first key frees, by the pool."""
    hint = {"Retry-After": f"{cooldown:g}"}
    for lease in leases:
        pool.mark_result(lease, 429, hint, None)
    now = time.time()
    return float(min(lease.next_available_at(now) for lease in leases))


def _sync_trial(cooldown: float) -> float:
    from rotisserie import KeyPool

    pool: Any = KeyPool(_configs())
    with pool.endpoint(_ENDPOINT, 1, 1):
        leases = [pool.take_key(_ENDPOINT) for _ in range(2)]
        free_at = _cool_all(pool, leases, cooldown)
        lease = pool.take_key(_ENDPOINT)
        served = time.time()
        pool.mark_result(lease, 200, {}, None)
    pool.close()
    return served - free_at


async def _async_trial(cooldown: float) -> float:
    from rotisserie import AsyncKeyPool

    pool: Any = AsyncKeyPool(_configs())
    async with pool.endpoint(_ENDPOINT, 1, 1):
        leases = [await pool.take_key(_ENDPOINT) for _ in range(2)]
        free_at = _cool_all(pool, leases, cooldown)
        lease = await pool.take_key(_ENDPOINT)
        served = time.time()
        pool.mark_result(lease, 200, {}, None)
    # The peer's async close is a coroutine, ours a plain method.
    closing = pool.close()
    if inspect.isawaitable(closing):
        await closing
    return served - free_at


def _sleep_trial(cooldown: float) -> float:
    free_at = time.time() + cooldown
    time.sleep(cooldown)
    return time.time() - free_at


def run(flavour: str, trials: int, cooldown: float) -> list[float]:
    """Lateness of each trial, in milliseconds."""
    if flavour == "async":

        async def many() -> list[float]:
            return [await _async_trial(cooldown) for _ in range(trials)]

        seconds = asyncio.run(many())
    else:
        trial = _sync_trial if flavour == "sync" else _sleep_trial
        seconds = [trial(cooldown) for _ in range(trials)]
    return [s * 1000 for s in seconds]


def main() -> None:
    """Parse arguments, run the trials, print one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--flavour", choices=("sync", "async", "sleep"), required=True)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--cooldown", type=float, default=0.05)
    args = parser.parse_args()
    print(json.dumps({"late_ms": run(args.flavour, args.trials, args.cooldown)}))


if __name__ == "__main__":
    main()
