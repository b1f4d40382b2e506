"""Tests for which endpoint owns which key: reserves, priorities, extras."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rotisserie import KeyConfig, Lease
from rotisserie._assignment import Claim, assign, counts_for
from rotisserie._scheduler import Scheduler


def claims(*specs: tuple[str, int, int]) -> list[Claim]:
    """Claims from ``(name, reserve, priority)`` in the order they entered."""
    return [
        Claim(name, reserve, priority, order)
        for order, (name, reserve, priority) in enumerate(specs)
    ]


def key_configs(count: int) -> list[KeyConfig]:
    """``count`` plain keys named k0, k1, ..."""
    return [KeyConfig(f"k{i}", f"token-{i}") for i in range(count)]


def owned(scheduler: Scheduler) -> dict[str, int]:
    """How many keys each entered endpoint owns, from the scheduler's snapshot."""
    return {e.name: len(e.keys) for e in scheduler.snapshot(0.0).endpoints if e.entered}


def owners(scheduler: Scheduler) -> dict[str, str | None]:
    """Each key's owning endpoint, from the scheduler's snapshot."""
    return {k.name: k.endpoint for k in scheduler.snapshot(0.0).keys}


# -- the rule on numbers ------------------------------------------------------------


SEED = claims(("e1", 1, 1), ("e2", 1, 1), ("e3", 1, 2))


def test_counts_distribute_spreads_extras_across_priorities() -> None:
    """The spec example: six keys with distribute=True end up two per endpoint."""
    assert counts_for(SEED, 6, distribute=True) == {"e1": 2, "e2": 2, "e3": 2}


def test_counts_funnel_gives_extras_to_highest_priority() -> None:
    """The spec example: with distribute=False every extra goes to priority 1."""
    assert counts_for(SEED, 6, distribute=False) == {"e1": 3, "e2": 2, "e3": 1}


@pytest.mark.parametrize("distribute", [True, False])
def test_counts_reserve_beyond_keys_serves_higher_priority_first(
    distribute: bool,
) -> None:
    """When reserves exceed the keys, priority 1 is filled before priority 2."""
    low_first = claims(("low", 2, 2), ("high", 2, 1))
    assert counts_for(low_first, 3, distribute=distribute) == {"high": 2, "low": 1}


def test_counts_reserve_shortage_within_level_takes_turns() -> None:
    """Endpoints of one priority take turns for scarce reserve keys."""
    level = claims(("a", 3, 1), ("b", 3, 1), ("c", 3, 1))
    assert counts_for(level, 4, distribute=True) == {"a": 2, "b": 1, "c": 1}


def test_counts_extras_within_level_follow_entry_order() -> None:
    """Extras in one level go round in the order endpoints entered."""
    assert counts_for(claims(("a", 0, 1), ("b", 0, 1)), 3, distribute=True) == {
        "a": 2,
        "b": 1,
    }
    assert counts_for(claims(("b", 0, 1), ("a", 0, 1)), 3, distribute=True) == {
        "b": 2,
        "a": 1,
    }


def test_counts_distribute_round_robins_over_all_levels() -> None:
    """With distribute=True each priority level takes one extra per round, highest first."""
    three_levels = claims(("p3", 0, 3), ("p1", 0, 1), ("p2", 0, 2))
    assert counts_for(three_levels, 7, distribute=True) == {"p1": 3, "p2": 2, "p3": 2}


def test_counts_no_keys_or_no_claims() -> None:
    """Zero keys gives every endpoint zero, and no endpoints gives an empty map."""
    assert counts_for(SEED, 0, distribute=True) == {"e1": 0, "e2": 0, "e3": 0}
    assert counts_for([], 5, distribute=True) == {}


@settings(max_examples=200, deadline=None)
@given(
    specs=st.lists(
        st.tuples(st.integers(0, 4), st.integers(1, 4)), min_size=1, max_size=6
    ),
    keys=st.integers(0, 20),
    distribute=st.booleans(),
)
def test_counts_hand_out_every_key_and_honour_reserves(
    specs: list[tuple[int, int]], keys: int, distribute: bool
) -> None:
    """Every key is handed out, and when reserves fit each endpoint gets its reserve."""
    cs = [Claim(f"e{i}", r, p, i) for i, (r, p) in enumerate(specs)]
    counts = counts_for(cs, keys, distribute=distribute)
    assert sum(counts.values()) == keys
    if sum(c.reserve for c in cs) <= keys:
        assert all(counts[c.name] >= c.reserve for c in cs)
        top = min(c.priority for c in cs)
        if not distribute:
            # Extras all went to the highest level.
            assert all(counts[c.name] == c.reserve for c in cs if c.priority != top)
    else:
        # A shortage: no endpoint gets more than its reserve, and a lower
        # priority only gets keys once every higher one is full.
        assert all(counts[c.name] <= c.reserve for c in cs)
        for c in cs:
            if counts[c.name] > 0:
                assert all(
                    counts[h.name] == h.reserve for h in cs if h.priority < c.priority
                )


# -- the rule on key names ------------------------------------------------------------


def test_assign_keeps_current_owners_where_counts_allow() -> None:
    """Re-assignment moves only the keys it must: others stay with their owner."""
    names = [f"k{i}" for i in range(6)]
    before = assign(SEED, names, dict.fromkeys(names), distribute=True)
    remaining = [c for c in SEED if c.name != "e1"]
    after = assign(remaining, names, before, distribute=True)
    for key, owner in before.items():
        if owner != "e1":
            assert after[key] == owner
    assert Counter(after.values()) == Counter(counts_for(remaining, 6, distribute=True))


def test_assign_without_claims_leaves_keys_unowned() -> None:
    """With no endpoint entered, no key has an owner."""
    assert assign([], ["k0", "k1"], {"k0": "gone", "k1": None}, distribute=True) == {
        "k0": None,
        "k1": None,
    }


# -- through the scheduler -------------------------------------------------------------


@pytest.mark.parametrize(
    ("distribute", "expected"),
    [(True, {"e1": 2, "e2": 2, "e3": 2}), (False, {"e1": 3, "e2": 2, "e3": 1})],
)
def test_scheduler_enter_assigns_by_the_rule(
    distribute: bool, expected: dict[str, int]
) -> None:
    """Entering endpoints re-assigns the pool's keys by reserve, priority and distribute."""
    scheduler = Scheduler(key_configs(6), distribute=distribute)
    scheduler.enter("e1", 1, 1, 0.0)
    scheduler.enter("e2", 1, 1, 0.0)
    scheduler.enter("e3", 1, 2, 0.0)
    assert owned(scheduler) == expected


@pytest.mark.parametrize("distribute", [True, False])
def test_scheduler_leave_hands_keys_to_the_others(distribute: bool) -> None:
    """A leaving endpoint's keys go to those left, by the same rule, the rest stay put."""
    scheduler = Scheduler(key_configs(6), distribute=distribute)
    scheduler.enter("e1", 1, 1, 0.0)
    scheduler.enter("e2", 1, 1, 0.0)
    scheduler.enter("e3", 1, 2, 0.0)
    before = owners(scheduler)
    scheduler.leave("e1", 0.0)
    after = owners(scheduler)
    expected = counts_for(claims(("e2", 1, 1), ("e3", 1, 2)), 6, distribute=distribute)
    assert owned(scheduler) == expected
    assert set(after.values()) == {"e2", "e3"}
    # Nobody lost keys, so every key e1 did not own stays where it was.
    for key, owner in before.items():
        if owner != "e1":
            assert after[key] == owner


def test_scheduler_last_leave_leaves_keys_unowned() -> None:
    """When every endpoint has left, no key has an owner."""
    scheduler = Scheduler(key_configs(3))
    scheduler.enter("e1", 2, 1, 0.0)
    scheduler.leave("e1", 0.0)
    assert set(owners(scheduler).values()) == {None}


def test_scheduler_extras_follow_entry_order_not_first_request() -> None:
    """An endpoint first seen by an implicit take_key still queues by when it entered."""
    scheduler = Scheduler(key_configs(3))
    assert isinstance(scheduler.request("late", 0.0), Lease)
    scheduler.enter("early", 0, 1, 0.0)
    scheduler.enter("late", 0, 1, 0.0)
    assert owned(scheduler) == {"early": 2, "late": 1}


def test_scheduler_reentered_endpoint_queues_behind_earlier_ones() -> None:
    """An endpoint that leaves and enters again comes after those that stayed."""
    scheduler = Scheduler(key_configs(3))
    scheduler.enter("a", 0, 1, 0.0)
    scheduler.enter("b", 0, 1, 0.0)
    assert owned(scheduler) == {"a": 2, "b": 1}
    scheduler.leave("a", 0.0)
    scheduler.enter("a", 0, 1, 0.0)
    assert owned(scheduler) == {"a": 1, "b": 2}


def test_scheduler_nested_blocks_keep_strongest_claim() -> None:
    """Nested blocks of one endpoint hold the highest reserve and priority until the last leaves."""
    scheduler = Scheduler(key_configs(4), distribute=False)
    scheduler.enter("other", 1, 1, 0.0)
    scheduler.enter("e", 1, 2, 0.0)
    scheduler.enter("e", 3, 1, 0.0)
    assert owned(scheduler) == counts_for(
        claims(("other", 1, 1), ("e", 3, 1)), 4, distribute=False
    )
    scheduler.leave("e", 0.0)
    snapshot = scheduler.snapshot(0.0).endpoint("e")
    assert (snapshot.reserve, snapshot.priority, snapshot.entered) == (3, 1, True)
    scheduler.leave("e", 0.0)
    assert owned(scheduler) == {"other": 4}


def test_scheduler_revoked_key_leaves_the_assignment() -> None:
    """A key disabled by a 401 is owned by nobody and the rest are re-assigned."""
    scheduler = Scheduler(key_configs(2), distribute=False)
    scheduler.enter("high", 1, 1, 0.0)
    scheduler.enter("low", 1, 2, 0.0)
    high_key = scheduler.snapshot(0.0).endpoint("high").keys[0]
    lease = scheduler.request("high", 0.0)
    assert isinstance(lease, Lease)
    assert lease.name == high_key
    scheduler.report(lease, 401, {}, None, 0.0)
    assert owners(scheduler)[high_key] is None
    assert owned(scheduler) == {"high": 1, "low": 0}


def test_scheduler_leave_unknown_endpoint_is_an_error() -> None:
    """Leaving an endpoint that was never entered raises ConfigError naming the endpoint."""
    scheduler = Scheduler(key_configs(1))
    with pytest.raises(ValueError, match="endpoint") as info:
        scheduler.leave("nowhere", 0.0)
    assert getattr(info.value, "field", None) == "endpoint"
