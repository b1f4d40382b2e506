"""Tests for how one key is picked among those that can serve: built-in and custom policies."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from rotisserie import ConfigError, KeyConfig, KeyPool, KeyState
from rotisserie.policies import (
    EvenPolicy,
    KeyScore,
    Selection,
    WeightedPolicy,
    resolve_policy,
    score,
    select,
)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def two_keys() -> list[KeyConfig]:
    """The seed README's two keys."""
    return [KeyConfig("k1", "T1"), KeyConfig("k2", "T2")]


def picks(pool: KeyPool, count: int, endpoint: str = "e") -> list[str]:
    """Take and report ``count`` keys one after another; return their names."""
    names = []
    for _ in range(count):
        lease = pool.take_key(endpoint, timeout=0)
        names.append(lease.name)
        pool.mark_result(lease, 200)
    return names


# -- built-in policies -----------------------------------------------------------------


def test_even_policy_rotates_least_recently_granted() -> None:
    """The default policy cycles through the keys, so each serves an equal share."""
    pool = KeyPool([KeyConfig(f"k{i}", f"T{i}") for i in range(3)], clock=FakeClock())
    names = picks(pool, 30)
    assert Counter(names) == {"k0": 10, "k1": 10, "k2": 10}
    assert all(len(set(names[i : i + 3])) == 3 for i in range(0, 30, 3))


def test_even_policy_skips_cooling_key() -> None:
    """The even policy only picks among keys that can serve now."""
    clock = FakeClock()
    pool = KeyPool(two_keys(), clock=clock)
    first = pool.take_key("e")
    pool.mark_result(first, 429, {"Retry-After": "10"})
    assert set(picks(pool, 4)) == {"k1", "k2"} - {first.name}
    clock.advance(10)
    assert first.name in picks(pool, 2)


def test_weighted_policy_follows_weights_smoothly() -> None:
    """policy='weighted' serves keys in proportion to their weights in every cycle."""
    weights = {"a": 3.0, "b": 1.0, "c": 2.0}
    pool = KeyPool(
        [KeyConfig(n, f"T-{n}", weight=w) for n, w in weights.items()],
        policy="weighted",
        clock=FakeClock(),
    )
    names = picks(pool, 60)
    cycle = int(sum(weights.values()))
    for start in range(0, 60, cycle):
        assert Counter(names[start : start + cycle]) == {
            n: int(w) for n, w in weights.items()
        }
    # Smooth: the heaviest key never serves its whole share back to back.
    assert "aaa" not in "".join(names)


def test_resolve_policy_names() -> None:
    """'even' and 'weighted' resolve to their policies; another name is a ConfigError."""
    assert isinstance(resolve_policy("even"), EvenPolicy)
    assert isinstance(resolve_policy("weighted"), WeightedPolicy)
    with pytest.raises(ConfigError, match="fastest") as info:
        resolve_policy("fastest")
    assert info.value.field == "policy"
    with pytest.raises(ConfigError) as info:
        KeyPool(two_keys(), policy=42)
    assert info.value.field == "policy"


# -- custom functions ------------------------------------------------------------------


def always(name: str) -> Callable[..., list[KeyState]]:
    """A selection function ``(available, n)`` that prefers the named key."""

    def choose(available: list[KeyState], n: int) -> list[KeyState]:
        return sorted(available, key=lambda k: k.name != name)[:n]

    return choose


def test_selection_function_decides_the_key() -> None:
    """A selection function's first key is the one granted."""
    for name in ("k1", "k2"):
        pool = KeyPool(two_keys(), policy=always(name), clock=FakeClock())
        assert picks(pool, 3) == [name] * 3


def test_selection_function_gets_candidates_count_and_endpoint() -> None:
    """A three-argument selection function is called with the ready keys, 1, and the endpoint."""
    calls: list[tuple[list[str], int, str]] = []

    def pick(available: list[KeyState], n: int, endpoint: str) -> list[KeyState]:
        calls.append((sorted(k.name for k in available), n, endpoint))
        return available[:n]

    pool = KeyPool(two_keys(), policy=pick, clock=FakeClock())
    picks(pool, 1, endpoint="orders")
    assert calls == [(["k1", "k2"], 1, "orders")]


@pytest.mark.parametrize(
    "fn",
    [
        lambda available, k: available[::-1][:k],
        lambda keys, count: keys[::-1][:count],
        lambda candidates: candidates[::-1],
        lambda a, size: a[::-1][:size],
        lambda available, n, where: available[::-1][:n],
    ],
)
def test_selection_recognised_by_parameter_names(fn: Callable[..., Any]) -> None:
    """Functions named like (available[, n[, endpoint]]) are selection functions and serve."""
    assert isinstance(resolve_policy(fn), Selection)
    pool = KeyPool(two_keys(), policy=fn, clock=FakeClock())
    # Both keys are fresh, offered in configuration order; the reversal picks k2.
    assert picks(pool, 1) == ["k2"]


def test_selection_with_star_args_gets_every_argument() -> None:
    """A select()-wrapped function taking *args is called with available, n and endpoint."""
    calls: list[tuple[object, ...]] = []

    def anything(*args: Any) -> list[KeyState]:
        calls.append(args[1:])
        available: list[KeyState] = args[0]
        return available[:1]

    pool = KeyPool(two_keys(), policy=select(anything), clock=FakeClock())
    picks(pool, 1, endpoint="orders")
    assert calls == [(1, "orders")]


def test_key_function_smallest_wins_and_gets_endpoint() -> None:
    """A key function's smallest value wins, and a second parameter receives the endpoint."""
    seen: list[str] = []

    def by_name(key: KeyState, endpoint: str) -> str:
        seen.append(endpoint)
        return key.name

    pool = KeyPool(two_keys(), policy=by_name, clock=FakeClock())
    assert picks(pool, 3, endpoint="search") == ["k1"] * 3
    assert set(seen) == {"search"}
    one_arg = KeyPool(
        two_keys(), policy=lambda key: -int(key.name[1]), clock=FakeClock()
    )
    assert picks(one_arg, 2) == ["k2", "k2"]


def test_explicit_wrappers_override_name_guess() -> None:
    """select() and score() mark a function whose parameter names say nothing."""

    def prefer_second(a: Sequence[KeyState], b: int) -> list[KeyState]:
        return sorted(a, key=lambda k: k.name, reverse=True)[:b]

    def rank(a: KeyState, b: str) -> str:
        return a.name

    assert isinstance(resolve_policy(prefer_second), KeyScore)  # the guess
    pool = KeyPool(two_keys(), policy=select(prefer_second), clock=FakeClock())
    assert picks(pool, 2) == ["k2", "k2"]
    scored = KeyPool(two_keys(), policy=score(rank), clock=FakeClock())
    assert picks(scored, 2) == ["k1", "k1"]


def test_policy_object_with_choose_is_used_as_is() -> None:
    """Any object with choose(candidates, endpoint) is a policy."""

    class Last:
        def choose(self, candidates: Sequence[KeyState], endpoint: str) -> KeyState:
            return candidates[-1]

    policy = Last()
    assert resolve_policy(policy) is policy
    pool = KeyPool(two_keys(), policy=policy, clock=FakeClock())
    names = picks(pool, 4)
    assert len(set(names)) == 1  # the last of the least-recently-granted order repeats


def test_selection_returning_nothing_or_stranger_raises() -> None:
    """A selection function returning no key, or a key not offered, raises ConfigError."""
    empty = KeyPool(two_keys(), policy=lambda available, n: [], clock=FakeClock())
    with pytest.raises(ConfigError, match="no key") as info:
        empty.take_key("e")
    assert info.value.field == "policy"

    other = KeyPool([KeyConfig("x", "TX")])
    stranger = other.keys[0]
    foreign = KeyPool(
        two_keys(), policy=lambda available, n: [stranger], clock=FakeClock()
    )
    with pytest.raises(ConfigError, match="not offered"):
        foreign.take_key("e")
    assert foreign.snapshot().in_flight == 0
