"""
Which endpoint owns which key: reserves first, then the extras.

Pure functions over names and numbers, so the rule is easy to test alone:

1. Reserves: priority 1 before 2; endpoints of one priority take turns, one
   key each, until each has its reserve or the keys run out.
2. Extras: with ``distribute=True`` the priority levels take turns, one key
   each (highest first); with ``distribute=False`` every extra goes to the
   highest level. Within a level, endpoints take turns in the order they
   entered.

Ownership is a preference, not a fence: the scheduler lets a request borrow
any idle key whose owner has nobody waiting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby

__all__ = ["Claim", "assign", "counts_for"]


@dataclass(frozen=True)
class Claim:
    """One endpoint's stake in the assignment."""

    name: str
    reserve: int
    priority: int
    order: int  # when it entered; earlier endpoints come first within a level


def counts_for(
    claims: Sequence[Claim], keys: int, *, distribute: bool
) -> dict[str, int]:
    """How many keys each endpoint owns."""
    counts = {c.name: 0 for c in claims}
    if not claims or keys <= 0:
        return counts
    levels = _levels(claims)
    left = keys

    for level in levels:
        left = _hand_out_reserves(level, counts, left)
        if left == 0:
            return counts

    if distribute:
        turns = [_Turns(level) for level in levels]
        while left:
            for turn in turns:
                if not left:
                    break
                counts[turn.next()] += 1
                left -= 1
    else:
        turn = _Turns(levels[0])
        for _ in range(left):
            counts[turn.next()] += 1
    return counts


def assign(
    claims: Sequence[Claim],
    keys: Sequence[str],
    current: Mapping[str, str | None],
    *,
    distribute: bool,
) -> dict[str, str | None]:
    """
    Map each key to its owning endpoint (``None``: unowned), moving as few
    keys as possible away from their ``current`` owners.
    """
    counts = counts_for(claims, len(keys), distribute=distribute)
    owner: dict[str, str | None] = dict.fromkeys(keys)
    loose: list[str] = []
    for key in keys:
        holder = current.get(key)
        if holder is not None and counts.get(holder, 0) > 0:
            owner[key] = holder
            counts[holder] -= 1
        else:
            loose.append(key)
    wanting = (name for c in _ordered(claims) for name in [c.name] * counts[c.name])
    for key, name in zip(loose, wanting, strict=False):
        owner[key] = name
    return owner


class _Turns:
    """Endpoints of one level taking turns, in the order they entered."""

    def __init__(self, level: Sequence[Claim]) -> None:
        self._names = [c.name for c in level]
        self._at = 0

    def next(self) -> str:
        name = self._names[self._at % len(self._names)]
        self._at += 1
        return name


def _ordered(claims: Sequence[Claim]) -> list[Claim]:
    return sorted(claims, key=lambda c: (c.priority, c.order))


def _levels(claims: Sequence[Claim]) -> list[list[Claim]]:
    return [
        list(group) for _, group in groupby(_ordered(claims), key=lambda c: c.priority)
    ]


def _hand_out_reserves(
    level: Sequence[Claim], counts: dict[str, int], left: int
) -> int:
    need = {c.name: c.reserve for c in level}
    while left and any(need.values()):
        for claim in level:
            if left and need[claim.name]:
                counts[claim.name] += 1
                need[claim.name] -= 1
                left -= 1
    return left
