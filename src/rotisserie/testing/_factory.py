"""The type of the ``rotisserie_simulator`` pytest fixture."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Protocol

from rotisserie.testing._headers import RetryAfterStyle
from rotisserie.testing._keys import KeySpec

if TYPE_CHECKING:
    # Only for annotations: this module must import without aiohttp.
    from rotisserie.testing._simulator import Simulator

__all__ = ["SimulatorFactory"]


class SimulatorFactory(Protocol):
    """
    Builds and starts a :class:`Simulator`; the fixture stops it at teardown.

    Takes exactly the arguments of :class:`Simulator`.

    .. versionadded:: 0.2.0
    """

    def __call__(
        self,
        keys: KeySpec,
        *,
        auth_header: str | None = ...,
        auth_scheme: str = ...,
        query_param: str | None = ...,
        retry_after: RetryAfterStyle | None = ...,
        rate_headers: Collection[str] | str = ...,
        latency: float = ...,
        error_rate: float = ...,
        drop_rate: float = ...,
        seed: int = ...,
        revoked: Iterable[str] = ...,
        quota_exhausted: Iterable[str] = ...,
        record_requests: bool = ...,
    ) -> Simulator:
        """
        Return a running simulator built from these arguments.
        """
        ...
