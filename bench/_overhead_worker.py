"""
Time take_key + mark_result pairs on whichever rotisserie this interpreter has.

Prints one JSON object: microseconds per pair for each (mode, keys) asked.
Run by ``bench/overhead.py`` under our venv and under the peer's.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
from typing import Any


def _sync_pair_us(keys: int, pairs: int, repeats: int) -> float:
    from rotisserie import KeyConfig, KeyPool

    pool: Any = KeyPool([KeyConfig(f"k{i}", f"token-{i}") for i in range(keys)])
    with pool.endpoint("bench", reserve=1, priority=1):
        return _best_of(repeats, lambda: _sync_loop(pool, pairs), pairs)


def _sync_loop(pool: Any, pairs: int) -> None:
    take, mark = pool.take_key, pool.mark_result
    for _ in range(pairs):
        mark(take("bench"), 200, {}, None)


def _async_pair_us(keys: int, pairs: int, repeats: int) -> float:
    from rotisserie import AsyncKeyPool, KeyConfig

    async def main() -> float:
        pool: Any = AsyncKeyPool(
            [KeyConfig(f"k{i}", f"token-{i}") for i in range(keys)]
        )
        async with pool.endpoint("bench", reserve=1, priority=1):
            samples = []
            for _ in range(repeats):
                start = time.perf_counter()
                take, mark = pool.take_key, pool.mark_result
                for _ in range(pairs):
                    mark(await take("bench"), 200, {}, None)
                samples.append((time.perf_counter() - start) / pairs * 1e6)
            return statistics.median(samples)

    return asyncio.run(main())


def _naive_pair_us(keys: int, pairs: int, repeats: int) -> float:
    """The floor: round-robin over a list, with no bookkeeping at all."""
    tokens = [f"token-{i}" for i in range(keys)]

    def loop() -> None:
        cycle = itertools.cycle(tokens)
        for _ in range(pairs):
            next(cycle)

    return _best_of(repeats, loop, pairs)


def _best_of(repeats: int, run: Any, pairs: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) / pairs * 1e6)
    return statistics.median(samples)


MODES = {"sync": _sync_pair_us, "async": _async_pair_us, "naive": _naive_pair_us}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modes", default="sync,async")
    parser.add_argument("--keys", default="10,10000")
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results = {}
    for mode in args.modes.split(","):
        for keys in map(int, args.keys.split(",")):
            results[f"{mode}/{keys}"] = MODES[mode](keys, args.pairs, args.repeats)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
