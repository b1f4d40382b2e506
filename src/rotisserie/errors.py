"""
Exceptions raised by rotisserie.

Every exception derives from :class:`RotisserieError`::

    RotisserieError
    ├── ConfigError (also a ValueError)    bad configuration or argument
    ├── NoKeyAvailable                     no key could be granted in time
    │   └── PoolClosed                     the pool was closed while waiting
    ├── ForeignKeyError (also ValueError)  a key from another pool was reported
    ├── ResultAlreadyReported              the same grant was reported twice
    ├── WouldBlockError (also RuntimeError) a sync pool would block an event loop
    └── StateBackendError                  the shared state store failed

Messages name fields, key names and numbers; they never contain a token.
Exceptions raised by HTTP clients pass through rotisserie unchanged.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ForeignKeyError",
    "NoKeyAvailable",
    "PoolClosed",
    "ResultAlreadyReported",
    "RotisserieError",
    "StateBackendError",
    "WouldBlockError",
]


class RotisserieError(Exception):
    """Root of every exception rotisserie raises on its own."""


class ConfigError(RotisserieError, ValueError):
    """
    A configuration value or argument is invalid.

    Attributes:
        field: the name of the offending field or argument.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class NoKeyAvailable(RotisserieError):
    """
    No key could be granted before the caller's timeout.

    Attributes:
        endpoint: the endpoint the request was for.
        retry_after: seconds from the moment of the error until the pool
            expects a key to free, or ``None`` when no key will free by itself
            (all disabled, or all busy with no known release time).
    """

    def __init__(
        self, endpoint: str, retry_after: float | None, message: str | None = None
    ) -> None:
        if message is None:
            if retry_after is None:
                when = "no key is expected to free by itself"
            else:
                when = f"the next key frees in {retry_after:.3f} s"
            message = f"no key available for endpoint {endpoint!r}: {when}"
        super().__init__(message)
        self.endpoint = endpoint
        self.retry_after = retry_after


class PoolClosed(NoKeyAvailable):
    """The pool was closed; waiting requests are woken with this error."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint, None, f"pool closed while {endpoint!r} waited")


class ForeignKeyError(RotisserieError, ValueError):
    """A result was reported for a key that this pool did not grant."""


class ResultAlreadyReported(RotisserieError):
    """A result was reported twice for one grant."""


class WouldBlockError(RotisserieError, RuntimeError):
    """A synchronous pool would have to wait inside a running event loop."""


class StateBackendError(RotisserieError):
    """The shared state backend (Redis) failed; the cause is chained."""
