"""The right to use one key for one request: what ``take_key`` returns."""

from __future__ import annotations

import enum
import itertools

from ._key import KeyState
from ._redact import fingerprint

__all__ = ["Lease", "LeaseStatus"]

_ids = itertools.count(1)


class LeaseStatus(enum.Enum):
    """Where a lease is in its life."""

    ACTIVE = "active"
    REPORTED = "reported"
    RELEASED = "released"
    #: The lease timed out and the pool took the capacity back.
    RECLAIMED = "reclaimed"
    #: Reported after it was reclaimed; the report was taken in once.
    LATE_REPORTED = "late-reported"


class Lease:
    """
    One grant of one key to one request.

    Report its result with ``pool.mark_result(lease, ...)``, or give it back
    unused with ``pool.release(lease)``; a lease left alone is reclaimed after
    the pool's ``lease_timeout``. It reads like the key it grants (``name``,
    ``token``, ``remaining``, ...), so code written for a plain key works.
    """

    __slots__ = (
        "deadline",
        "endpoint",
        "granted_at",
        "id",
        "key",
        "number",
        "owner",
        "stamped_at",
        "status",
    )

    def __init__(
        self,
        key: KeyState,
        endpoint: str,
        granted_at: float,
        deadline: float,
        owner: object,
    ) -> None:
        self.id = next(_ids)
        self.key = key
        self.endpoint = endpoint
        self.granted_at = granted_at
        #: The instant the key's windows count this request from: the grant,
        #: or the moment it was sent (see ``mark_sent``).
        self.stamped_at = granted_at
        #: The key's grant number for this lease (orders same-instant grants).
        self.number = 0
        self.deadline = deadline
        #: The scheduler that granted it; reports elsewhere are refused.
        self.owner = owner
        self.status = LeaseStatus.ACTIVE

    @property
    def awaiting_result(self) -> bool:
        """
        Whether the lease was neither reported nor released yet; a lease the
        pool reclaimed still takes one late report.
        """
        return self.status in (LeaseStatus.ACTIVE, LeaseStatus.RECLAIMED)

    @property
    def name(self) -> str:
        """The granted key's name."""
        return self.key.name

    @property
    def token(self) -> str:
        """The granted key's secret token."""
        return self.key.token

    @property
    def remaining(self) -> int | None:
        """Grants the key has left, as far as the pool knows."""
        return self.key.remaining

    @property
    def failures(self) -> int:
        """The key's failure count."""
        return self.key.failures

    @property
    def successes(self) -> int:
        """The key's success count."""
        return self.key.successes

    def next_available_at(self, now: float) -> float:
        """When the key could serve again (see :meth:`KeyState.next_available_at`)."""
        return self.key.next_available_at(now)

    def __repr__(self) -> str:
        return (
            f"Lease(id={self.id}, key={self.name!r}, token={fingerprint(self.token)}, "
            f"endpoint={self.endpoint!r}, status={self.status.value})"
        )

    __str__ = __repr__
