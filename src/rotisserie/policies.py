"""
How the pool picks one key among those that can serve a request now.

A policy is given the candidate keys (all able to serve at this instant, in
least-recently-granted order) and returns the one to use. Built in:

- ``"even"`` (default): the least recently granted key, which spreads load
  evenly and leaves each key the longest rest between grants.
- ``"weighted"``: smooth weighted round-robin by ``KeyConfig.weight``.

Custom functions come in two forms, told apart by their parameter names:

- a *selection* function ``(available, n[, endpoint]) -> list[KeyState]``
  returns up to ``n`` keys, best first; it is recognised by a parameter
  named ``n``, ``count``, ``k`` or ``size``, or a first parameter named
  ``available``, ``keys`` or ``candidates``;
- any other function is a *key* function ``(key[, endpoint]) -> comparable``:
  the key with the smallest value wins.

When names do not say which form a function has, wrap it:
``policy=select(fn)`` or ``policy=score(fn)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, Protocol, Union

from ._key import KeyState
from .errors import ConfigError

__all__ = [
    "EvenPolicy",
    "KeyScore",
    "Policy",
    "PolicySpec",
    "Selection",
    "WeightedPolicy",
    "resolve_policy",
    "score",
    "select",
]

_SELECTION_COUNT_NAMES = frozenset({"n", "count", "k", "size"})
_SELECTION_FIRST_NAMES = frozenset({"available", "keys", "candidates"})


class Policy(Protocol):
    """Chooses one of the candidate keys for a request to ``endpoint``."""

    def choose(self, candidates: Sequence[KeyState], endpoint: str) -> KeyState:
        """Return one of ``candidates`` (never empty)."""
        ...


#: What ``KeyPool(policy=...)`` accepts.
PolicySpec = Union[str, Policy, Callable[..., Any]]  # noqa: UP007 (a runtime alias on 3.10)


class EvenPolicy:
    """The least recently granted candidate: an even spread."""

    def choose(self, candidates: Sequence[KeyState], endpoint: str) -> KeyState:
        """Return the first candidate (they come least recently granted first)."""
        return candidates[0]


class WeightedPolicy:
    """
    Smooth weighted round-robin: over time each key serves in proportion to
    its ``KeyConfig.weight``, without bursts on the heaviest key.
    """

    def __init__(self) -> None:
        self._credit: dict[str, float] = {}

    def choose(self, candidates: Sequence[KeyState], endpoint: str) -> KeyState:
        """Credit every candidate its weight, pick the richest, charge it the total."""
        total = 0.0
        best: KeyState | None = None
        best_credit = 0.0
        for key in candidates:
            weight = key.config.weight
            credit = self._credit.get(key.name, 0.0) + weight
            self._credit[key.name] = credit
            total += weight
            if best is None or credit > best_credit:
                best, best_credit = key, credit
        assert best is not None  # candidates is never empty
        self._credit[best.name] = best_credit - total
        return best


class Selection:
    """A selection function ``(available, n[, endpoint]) -> list`` as a policy."""

    def __init__(self, fn: Callable[..., Sequence[KeyState]]) -> None:
        self._fn = fn
        # Pass only the arguments it takes: ``(available)`` is recognised by
        # name and must not be handed ``n`` it has no parameter for.
        count = _positional_count(fn)
        self._takes_count = count >= 2
        self._takes_endpoint = count >= 3

    def choose(self, candidates: Sequence[KeyState], endpoint: str) -> KeyState:
        """Call the function for one key and check what it returned."""
        args: tuple[Any, ...] = (list(candidates),)
        if self._takes_count:
            args += (1,)
        if self._takes_endpoint:
            args += (endpoint,)
        chosen = self._fn(*args)
        if not chosen:
            raise ConfigError("policy", "the selection function returned no key")
        first = chosen[0]
        if not any(first is c for c in candidates):
            raise ConfigError(
                "policy", "the selection function returned a key that was not offered"
            )
        return first


class KeyScore:
    """A key function ``(key[, endpoint]) -> comparable``: the smallest wins."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn
        self._takes_endpoint = _positional_count(fn) >= 2

    def choose(self, candidates: Sequence[KeyState], endpoint: str) -> KeyState:
        """Return the candidate with the smallest score (the first on ties)."""
        if self._takes_endpoint:
            scores = [self._fn(k, endpoint) for k in candidates]
        else:
            scores = [self._fn(k) for k in candidates]
        try:
            best = min(range(len(candidates)), key=scores.__getitem__)
        except TypeError:
            kinds = sorted({type(s).__name__ for s in scores})
            raise ConfigError(
                "policy",
                f"the key function's values cannot be compared ({', '.join(kinds)})",
            ) from None
        return candidates[best]


def select(fn: Callable[..., Sequence[KeyState]]) -> Selection:
    """Mark ``fn`` as a selection function ``(available, n[, endpoint])``."""
    return Selection(fn)


def score(fn: Callable[..., Any]) -> KeyScore:
    """Mark ``fn`` as a key function ``(key[, endpoint]) -> comparable``."""
    return KeyScore(fn)


def resolve_policy(spec: PolicySpec) -> Policy:
    """Turn what the user passed as ``policy`` into a :class:`Policy`."""
    if isinstance(spec, str):
        if spec == "even":
            return EvenPolicy()
        if spec == "weighted":
            return WeightedPolicy()
        raise ConfigError(
            "policy", f"unknown policy {spec!r}; use 'even', 'weighted' or a function"
        )
    choose = getattr(spec, "choose", None)
    if callable(choose):
        return spec  # type: ignore[return-value]
    if not callable(spec):
        raise ConfigError(
            "policy", f"expected a name, a Policy or a function, got {spec!r}"
        )
    if _looks_like_selection(spec):
        _check_arity(spec, "a selection function (available[, n[, endpoint]])", 1, 3)
        return Selection(spec)
    _check_arity(spec, "a key function (key[, endpoint])", 1, 2)
    return KeyScore(spec)


def _check_arity(fn: Callable[..., Any], form: str, fewest: int, most: int) -> None:
    """Refuse, when the pool is built, a function no call could fit."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # builtins without a signature: trust them
    for count in range(fewest, most + 1):
        try:
            signature.bind(*([None] * count))
        except TypeError:
            continue
        return
    raise ConfigError("policy", f"expected {form}, got a function taking {signature}")


def _looks_like_selection(fn: Callable[..., Any]) -> bool:
    names = _positional_names(fn)
    if len(names) >= 3:
        return True
    if any(name in _SELECTION_COUNT_NAMES for name in names[1:]):
        return True
    return bool(names) and names[0] in _SELECTION_FIRST_NAMES


def _positional_names(fn: Callable[..., Any]) -> list[str]:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in parameters if p.kind in kinds]


def _positional_count(fn: Callable[..., Any]) -> int:
    """How many positional arguments ``fn`` takes; 3 (all) for ``*args``."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return 3
    return len(_positional_names(fn)) or 1
