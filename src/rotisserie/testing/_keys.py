"""The simulator's key table: which tokens exist and what state each is in."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from rotisserie.errors import ConfigError
from rotisserie.testing._limit import Limit

__all__ = ["KeyStatus", "KeyTable", "SimulatedKey"]

KeyStatus = Literal["active", "revoked", "quota_exhausted"]


@dataclass(frozen=True, init=False)
class SimulatedKey:
    """
    One key the simulated vendor knows.

    Args:
        token: the secret a client sends; never shown in ``repr``.
        limit: the key's rate limit, or ``None`` for unlimited.
        name: the label used in stats and logs; defaults to the token, so
            give one when the token itself should stay out of test output.

    .. versionadded:: 0.2.0
    """

    token: str = field(repr=False)
    limit: Limit | None
    name: str

    def __init__(
        self, token: str, limit: Limit | None = None, name: str | None = None
    ) -> None:
        if not _is_text(token):
            raise ConfigError("token", "must be a non-empty string")
        if limit is not None and not isinstance(limit, Limit):
            raise ConfigError(
                "limit", f"must be a Limit or None, got {type(limit).__name__}"
            )
        if name is not None and not _is_text(name):
            raise ConfigError("name", "must be a non-empty string or None")
        # Frozen dataclass: assignment goes through object.__setattr__.
        object.__setattr__(self, "token", token)
        object.__setattr__(self, "limit", limit)
        object.__setattr__(self, "name", token if name is None else name)


KeySpec = Mapping[str, Limit | None] | Iterable[SimulatedKey]


def normalize_keys(keys: KeySpec) -> tuple[SimulatedKey, ...]:
    """
    Turn the ``keys`` argument into simulated keys, in order.
    """
    if isinstance(keys, str):
        raise ConfigError(
            "keys", "must be a mapping or an iterable of SimulatedKey, not a str"
        )
    if isinstance(keys, Mapping):
        return tuple(SimulatedKey(token, limit) for token, limit in keys.items())
    result = tuple(keys)
    for item in result:
        if not isinstance(item, SimulatedKey):
            raise ConfigError(
                "keys", f"items must be SimulatedKey, got {type(item).__name__}"
            )
    return result


class KeyTable:
    """
    Tokens, names, limits and statuses; statuses may change while serving.

    Tokens listed as revoked or quota-exhausted that are not among the keys
    become extra unlimited keys named after their token.
    """

    def __init__(
        self,
        keys: Iterable[SimulatedKey],
        *,
        revoked: Iterable[str] = (),
        quota_exhausted: Iterable[str] = (),
    ) -> None:
        self._lock = threading.Lock()
        self._by_token: dict[str, SimulatedKey] = {}
        self._by_name: dict[str, SimulatedKey] = {}
        self._status: dict[str, KeyStatus] = {}
        for key in keys:
            self._add(key)

        revoked_tokens = _tokens("revoked", revoked)
        quota_tokens = _tokens("quota_exhausted", quota_exhausted)
        # Walk the tokens in the order given, so extra keys are listed (and
        # reported in stats) in a stable order.
        for token in (*revoked_tokens, *quota_tokens):
            if token in revoked_tokens and token in quota_tokens:
                key_name = self._name_for(token)
                raise ConfigError(
                    "quota_exhausted", f"key {key_name!r} is also listed as revoked"
                )
            known = self._by_token.get(token)
            key = known if known is not None else self._add(SimulatedKey(token))
            self._status[key.name] = (
                "revoked" if token in revoked_tokens else "quota_exhausted"
            )

    def _name_for(self, token: str) -> str:
        key = self._by_token.get(token)
        return key.name if key is not None else token

    def _add(self, key: SimulatedKey) -> SimulatedKey:
        if key.token in self._by_token:
            other = self._by_token[key.token].name
            raise ConfigError("keys", f"keys {other!r} and {key.name!r} share a token")
        if key.name in self._by_name:
            raise ConfigError("keys", f"two keys are named {key.name!r}")
        self._by_token[key.token] = key
        self._by_name[key.name] = key
        self._status[key.name] = "active"
        return key

    @property
    def keys(self) -> tuple[SimulatedKey, ...]:
        """
        Every key, configured ones first.
        """
        return tuple(self._by_name.values())

    def find(self, token: str | None) -> SimulatedKey | None:
        """
        Return the key whose token is ``token``, if any.
        """
        return None if token is None else self._by_token.get(token)

    def tokens(self) -> tuple[str, ...]:
        """
        Return every known token, so callers can scrub them from text.
        """
        return tuple(self._by_token)

    def status(self, name: str) -> KeyStatus:
        """
        Return the current status of the key called ``name``.
        """
        with self._lock:
            return self._status[name]

    def set_status(self, name: str, status: KeyStatus) -> None:
        """
        Change the status of the key called ``name``.

        Raises:
            KeyError: no key has that name.
        """
        with self._lock:
            if name not in self._status:
                raise KeyError(f"no simulated key is named {name!r}")
            self._status[name] = status


def _tokens(field_name: str, tokens: Iterable[str]) -> dict[str, None]:
    # An insertion-ordered set: duplicates collapse, the given order stays.
    if isinstance(tokens, str):
        # A lone string would otherwise be read as one token per character.
        tokens = (tokens,)
    result = dict.fromkeys(tokens)
    for token in result:
        if not _is_text(token):
            raise ConfigError(field_name, "tokens must be non-empty strings")
    return result


def _is_text(value: object) -> bool:
    # Arguments are checked at run time too: tests pass odd values on purpose.
    return isinstance(value, str) and bool(value)
