"""The ``with pool.endpoint(...)`` block, usable with ``with`` and ``async with``."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

__all__ = ["EndpointBlock"]


class _Enterable(Protocol):
    def _enter_endpoint(self, name: str, reserve: int, priority: int) -> None: ...

    def _leave_endpoint(self, name: str) -> None: ...


class EndpointBlock:
    """
    Holds an endpoint's claim on keys for the duration of a block.

    Entering claims ``reserve`` keys at ``priority``; leaving hands them to the
    other endpoints. Blocks for one endpoint may nest; the strongest claim
    holds until the last one leaves.
    """

    def __init__(
        self, pool: _Enterable, name: str, reserve: int, priority: int
    ) -> None:
        self._pool = pool
        self.name = name
        self.reserve = reserve
        self.priority = priority

    def __enter__(self) -> EndpointBlock:
        self._pool._enter_endpoint(self.name, self.reserve, self.priority)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pool._leave_endpoint(self.name)

    async def __aenter__(self) -> EndpointBlock:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        return (
            f"EndpointBlock(name={self.name!r}, reserve={self.reserve}, "
            f"priority={self.priority})"
        )
