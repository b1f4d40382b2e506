"""Frozen, validated configuration: keys, auth placement and retry policy."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Union

from ._redact import fingerprint
from .errors import ConfigError

__all__ = ["AuthConfig", "KeyConfig", "RetryConfig", "Window"]

#: What ``per_window`` accepts: one ``(limit, seconds)`` pair or several.
WindowSpec = Union[tuple[int, float], Sequence[tuple[int, float]]]  # noqa: UP007 (a runtime alias on 3.10)


@dataclass(frozen=True)
class Window:
    """
    At most ``limit`` grants on one key within any span of ``seconds``.

    The window slides: it counts grants in the half-open span
    ``(now - seconds, now]``, so a grant leaves the window exactly
    ``seconds`` after it was made.
    """

    limit: int
    seconds: float

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int):
            raise ConfigError("per_window", f"limit must be an int, got {self.limit!r}")
        if self.limit < 1:
            raise ConfigError(
                "per_window", f"limit must be at least 1, got {self.limit}"
            )
        if not _is_real(self.seconds) or not 0 < self.seconds < math.inf:
            raise ConfigError(
                "per_window",
                f"seconds must be a positive finite number, got {self.seconds!r}",
            )


def parse_windows(spec: WindowSpec | None) -> tuple[Window, ...]:
    """Turn ``(limit, seconds)`` or a sequence of such pairs into windows."""
    if spec is None:
        return ()
    if isinstance(spec, Window):
        return (spec,)
    if not isinstance(spec, (tuple, list)) or not spec:
        raise ConfigError(
            "per_window", f"expected (limit, seconds) or a list of them, got {spec!r}"
        )
    if len(spec) == 2 and not isinstance(spec[0], (tuple, list, Window)):
        return (Window(*spec),)
    windows = []
    for item in spec:
        if isinstance(item, Window):
            windows.append(item)
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            windows.append(Window(*item))
        else:
            raise ConfigError("per_window", f"expected (limit, seconds), got {item!r}")
    return tuple(windows)


@dataclass(frozen=True, repr=False)
class KeyConfig:
    """
    One API key: a unique name, its secret token and its known limits.

    Args:
        name: a label unique within the pool; it is what logs and snapshots show.
        token: the secret. It never appears in ``repr``, ``str``, logs or errors.
        per_window: ``(limit, seconds)``, or a list of such pairs, for limits the
            vendor enforces on this key (say ``[(60, 60), (10_000, 86_400)]``).
        max_in_flight: how many requests may use this key at once
            (``None``: no limit).
        weight: relative share of traffic under ``policy="weighted"``.
    """

    name: str
    token: str
    per_window: WindowSpec | None = None
    max_in_flight: int | None = None
    weight: float = 1.0
    windows: tuple[Window, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError("name", f"must be a non-empty string, got {self.name!r}")
        if not isinstance(self.token, str):
            raise ConfigError(
                "token",
                f"key {self.name!r}: must be a str, got {type(self.token).__name__}",
            )
        if not self.token:
            raise ConfigError("token", f"key {self.name!r}: must not be empty")
        if self.token != self.token.strip() or _has_control(self.token):
            # A stray newline or space from a file is a broken key, and a
            # line break in a header would be header injection.
            raise ConfigError(
                "token",
                f"key {self.name!r}: has surrounding spaces or control characters",
            )
        if self.max_in_flight is not None and (
            isinstance(self.max_in_flight, bool)
            or not isinstance(self.max_in_flight, int)
            or self.max_in_flight < 1
        ):
            raise ConfigError(
                "max_in_flight",
                f"key {self.name!r}: must be a positive int or None, got {self.max_in_flight!r}",
            )
        if not _is_real(self.weight) or not 0 < self.weight < math.inf:
            raise ConfigError(
                "weight", f"key {self.name!r}: must be positive, got {self.weight!r}"
            )
        object.__setattr__(self, "windows", parse_windows(self.per_window))

    def __repr__(self) -> str:
        windows = ", ".join(f"{w.limit}/{w.seconds:g}s" for w in self.windows) or "none"
        return (
            f"KeyConfig(name={self.name!r}, token={fingerprint(self.token)}, "
            f"windows=[{windows}], max_in_flight={self.max_in_flight})"
        )

    __str__ = __repr__


AuthPlacement = Literal["header", "query"]


@dataclass(frozen=True)
class AuthConfig:
    """
    Where the token goes on each request.

    Args:
        header: the header that carries the token when ``in_="header"``.
        scheme: put before the token with a space (``"Bearer"``); ``""`` sends the
            raw token.
        in_: ``"header"`` or ``"query"``.
        query_param: the query parameter that carries the token when
            ``in_="query"``; it replaces any value the URL already had.
    """

    header: str = "Authorization"
    scheme: str = "Bearer"
    in_: AuthPlacement = "header"
    query_param: str = "api_key"

    def __post_init__(self) -> None:
        if self.in_ not in ("header", "query"):
            raise ConfigError("in_", f"must be 'header' or 'query', got {self.in_!r}")
        for name in ("header", "query_param"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(name, f"must be a non-empty string, got {value!r}")
        if not isinstance(self.scheme, str):
            raise ConfigError("scheme", f"must be a string, got {self.scheme!r}")
        for name in ("header", "scheme", "query_param"):
            if _has_control(getattr(self, name)):
                raise ConfigError(
                    name, "must not contain control characters (CR, LF, ...)"
                )

    def header_value(self, token: str) -> str:
        """The header value that carries ``token``."""
        return f"{self.scheme} {token}" if self.scheme else token


@dataclass(frozen=True)
class RetryConfig:
    """
    How keys cool down after failures, and which requests adapters re-send.

    After a 429 without a usable hint a key cools for
    ``retry_after_base * retry_after_growth ** n`` seconds, capped at
    ``retry_after_cap``, where ``n`` counts the key's consecutive failures
    before this one. Transport errors use the ``error_*`` fields the same way.
    A success resets the count.

    Args:
        retry_attempts: how many times an adapter sends one request in all.
        retry_for_methods: methods an adapter may re-send.
        max_retry_after: a server hint longer than this (seconds) is clamped.
        quota_cooldown: how long a key whose quota is exhausted is parked
            (seconds).
    """

    retry_after_base: float = 0.5
    retry_after_growth: float = 2.0
    retry_after_cap: float = 30.0
    error_base: float = 0.25
    error_growth: float = 2.0
    error_cap: float = 5.0
    retry_attempts: int = 8
    retry_for_methods: Sequence[str] = ("GET", "HEAD", "OPTIONS")
    max_retry_after: float = 3600.0
    quota_cooldown: float = 3600.0

    def __post_init__(self) -> None:
        for name in ("retry_after_base", "error_base"):
            _check_number(name, getattr(self, name), minimum=0.0, strict=True)
        for name in ("retry_after_growth", "error_growth"):
            _check_number(name, getattr(self, name), minimum=1.0, strict=False)
        for name in (
            "retry_after_cap",
            "error_cap",
            "max_retry_after",
            "quota_cooldown",
        ):
            _check_number(name, getattr(self, name), minimum=0.0, strict=True)
        attempts = self.retry_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ConfigError(
                "retry_attempts", f"must be an int of at least 1, got {attempts!r}"
            )
        methods = self.retry_for_methods
        # Read an iterable once: a generator checked and then copied would be empty.
        names = (
            tuple(methods)
            if isinstance(methods, Iterable) and not isinstance(methods, str)
            else None
        )
        if names is None or not all(isinstance(m, str) for m in names):
            raise ConfigError(
                "retry_for_methods", f"must be a list of method names, got {methods!r}"
            )
        object.__setattr__(self, "retry_for_methods", tuple(m.upper() for m in names))

    def rate_limit_backoff(self, streak: int) -> float:
        """Cooldown (seconds) after a 429 with no usable hint."""
        return _grow(
            self.retry_after_base, self.retry_after_growth, self.retry_after_cap, streak
        )

    def error_backoff(self, streak: int) -> float:
        """Cooldown (seconds) after a transport error."""
        return _grow(self.error_base, self.error_growth, self.error_cap, streak)

    def may_retry(self, method: str) -> bool:
        """Whether requests with this method may be re-sent."""
        return method.upper() in self.retry_for_methods


def merge_auth(
    base: AuthConfig,
    override: AuthConfig | None = None,
    *,
    header: str | None = None,
    scheme: str | None = None,
    in_: str | None = None,
    query_param: str | None = None,
) -> AuthConfig:
    """Apply an explicit config, then any shorthand fields, over ``base``."""
    config = override if override is not None else base
    changes = {
        "header": header,
        "scheme": scheme,
        "in_": in_,
        "query_param": query_param,
    }
    values = {k: v for k, v in changes.items() if v is not None}
    if not values:
        return config
    return AuthConfig(
        header=values.get("header", config.header),
        scheme=values.get("scheme", config.scheme),
        in_=values.get("in_", config.in_),  # type: ignore[arg-type]
        query_param=values.get("query_param", config.query_param),
    )


def merge_retry(
    base: RetryConfig,
    override: RetryConfig | None = None,
    *,
    retry_attempts: int | None = None,
    retry_for_methods: Iterable[str] | None = None,
) -> RetryConfig:
    """Apply an explicit config, then any shorthand fields, over ``base``."""
    config = override if override is not None else base
    if retry_attempts is None and retry_for_methods is None:
        return config
    return replace(
        config,
        retry_attempts=config.retry_attempts
        if retry_attempts is None
        else retry_attempts,
        retry_for_methods=(
            config.retry_for_methods
            if retry_for_methods is None
            else tuple(retry_for_methods)
        ),
    )


def _grow(base: float, growth: float, cap: float, streak: int) -> float:
    # Exponents past ~1000 overflow a float; the cap is reached long before.
    exponent = min(max(streak, 0), 1000)
    try:
        value = base * growth**exponent
    except OverflowError:
        value = math.inf
    return min(value, cap)


def _has_control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_number(name: str, value: object, *, minimum: float, strict: bool) -> None:
    if not _is_real(value) or not math.isfinite(value):  # type: ignore[arg-type]
        raise ConfigError(name, f"must be a finite number, got {value!r}")
    too_small = value <= minimum if strict else value < minimum  # type: ignore[operator]
    if too_small:
        bound = "greater than" if strict else "at least"
        raise ConfigError(name, f"must be {bound} {minimum:g}, got {value!r}")
