"""
The scheduler: which key serves which request, and when.

It is sans-IO: it never sleeps, reads no clock and does no I/O. Every call
takes ``now`` (epoch seconds) and returns the waiters it served, so the sync
and async pools can wake them in their own way. Those pools hold a lock
around every call; the scheduler itself is not thread-safe.

How a key moves (each key sits in exactly one place):

- *ready*: it can serve now. Ready keys are kept per owner, least recently
  granted first, so the default policy spreads load evenly.
- *timed*: it can serve again at a known instant (a window frees, a
  cooldown ends); a timer entry wakes it then.
- *held*: only a release can free it (all its ``max_in_flight`` slots are
  taken), or nothing can (disabled).

Ready keys and waiters never exist at the same time: a key that becomes
ready is first offered to waiting requests (its owner's, then everyone's by
priority, first come first served), and only when nobody waits does it join
the ready set. That invariant is what makes a grant O(1) at any pool size.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping

from ._assignment import Claim, assign
from ._config import KeyConfig, RetryConfig
from ._key import KeyState
from ._lease import Lease, LeaseStatus
from ._signals import read_signal
from ._snapshot import EndpointSnapshot, KeySnapshot, PoolSnapshot
from .errors import (
    ConfigError,
    ForeignKeyError,
    PoolClosed,
    ResultAlreadyReported,
    StateBackendError,
)
from .policies import EvenPolicy, PolicySpec, resolve_policy
from .state import KeyStore, MemoryStore

__all__ = ["LOWEST_PRIORITY", "Scheduler", "Waiter", "is_interruption"]

log = logging.getLogger(__name__)

INF = math.inf
#: The priority of an endpoint that was never entered: below every other.
LOWEST_PRIORITY = 2**31 - 1


class Waiter:
    """
    A request waiting for a key.

    When served, ``lease`` is set; when the pool closes, ``error`` is set.
    ``handle`` belongs to the pool layer (an event or a future to wake).
    """

    __slots__ = ("endpoint", "error", "handle", "lease", "seq")

    def __init__(self, endpoint: str, seq: int) -> None:
        self.endpoint = endpoint
        self.seq = seq
        self.lease: Lease | None = None
        self.error: BaseException | None = None
        self.handle: object = None

    @property
    def done(self) -> bool:
        """Whether the waiter was served or failed."""
        return self.lease is not None or self.error is not None


class _Endpoint:
    """An endpoint's claim on keys, its ready keys and its waiting requests."""

    __slots__ = (
        "entries",
        "keys",
        "name",
        "order",
        "priority",
        "ready",
        "reserve",
        "waiters",
    )

    def __init__(self, name: str, order: int) -> None:
        self.name = name
        self.order = order
        self.reserve = 0
        self.priority = LOWEST_PRIORITY
        #: How many open ``endpoint(...)`` blocks hold it; 0 means implicit.
        self.entries = 0
        self.keys: list[str] = []
        self.ready: OrderedDict[str, KeyState] = OrderedDict()
        self.waiters: deque[Waiter] = deque()

    def claim(self) -> Claim:
        return Claim(self.name, self.reserve, self.priority, self.order)


class Scheduler:
    """
    Decides which key serves which request.

    Args:
        configs: the keys; names must be unique.
        distribute: how extra keys are spread over priorities (see
            :mod:`rotisserie._assignment`).
        policy: how one key is picked among the ready ones.
        retry: cooldown rules for failures.
        lease_timeout: seconds after which an unreported grant is reclaimed
            (``None``: never).
        store: where per-key state lives (memory by default).
        window_margin: seconds added to every window from the start; a 429
            on a key whose windows allowed the request widens that key's
            margin further (see :meth:`KeyState.widen_windows`).
    """

    def __init__(
        self,
        configs: Iterable[KeyConfig],
        *,
        distribute: bool = True,
        policy: PolicySpec = "even",
        retry: RetryConfig | None = None,
        lease_timeout: float | None = 600.0,
        store: KeyStore | None = None,
        window_margin: float = 0.0,
    ) -> None:
        self._keys = _index_keys(configs, store if store is not None else MemoryStore())
        if lease_timeout is not None and not (
            isinstance(lease_timeout, (int, float))
            and not isinstance(lease_timeout, bool)
            and 0 < lease_timeout < INF
        ):
            raise ConfigError(
                "lease_timeout",
                f"must be a positive number or None, got {lease_timeout!r}",
            )
        self.distribute = bool(distribute)
        self.policy = resolve_policy(policy)
        self._even = isinstance(self.policy, EvenPolicy)
        self.retry = retry if retry is not None else RetryConfig()
        self.lease_timeout = INF if lease_timeout is None else float(lease_timeout)
        if (
            isinstance(window_margin, bool)
            or not isinstance(window_margin, (int, float))
            or not 0 <= window_margin < INF
        ):
            raise ConfigError(
                "window_margin",
                f"must be a number of seconds >= 0, got {window_margin!r}",
            )
        for key in self._keys.values():
            key.lease_seconds = self.lease_timeout
            if window_margin:
                key.set_window_margin(float(window_margin))

        self._endpoints: dict[str, _Endpoint] = {}
        self._owner: dict[str, str | None] = dict.fromkeys(self._keys)
        self._spare: OrderedDict[str, KeyState] = OrderedDict(self._keys)
        self._ready_in: dict[str, OrderedDict[str, KeyState]] = dict.fromkeys(
            self._keys, self._spare
        )
        # Endpoints owning keys, lowest priority first: the order to borrow in.
        self._lenders: list[_Endpoint] = []
        self._waiting: dict[str, _Endpoint] = {}
        self._timers: list[tuple[float, int, str, int]] = []
        self._leases: OrderedDict[int, Lease] = OrderedDict()
        self._seq = itertools.count()
        self._woken: list[Waiter] = []
        self.closed = False

    # -- endpoints -------------------------------------------------------------

    def enter(self, name: str, reserve: int, priority: int, now: float) -> list[Waiter]:
        """Open an endpoint block: claim ``reserve`` keys at ``priority``."""
        _check_endpoint_args(name, reserve, priority)
        endpoint = self._endpoint(name)
        if endpoint.entries == 0:
            endpoint.reserve, endpoint.priority = reserve, priority
            # Extras go round in the order endpoints entered: a re-entered
            # endpoint, or one first seen by an implicit request, queues anew.
            endpoint.order = next(self._seq)
        else:
            # Nested blocks for one endpoint: the strongest claim holds.
            endpoint.reserve = max(endpoint.reserve, reserve)
            endpoint.priority = min(endpoint.priority, priority)
        endpoint.entries += 1
        self._reassign()
        return self._flush()

    def leave(self, name: str, now: float) -> list[Waiter]:
        """Close an endpoint block; its keys go to the others."""
        endpoint = self._endpoints.get(name)
        if endpoint is None or endpoint.entries == 0:
            raise ConfigError("endpoint", f"{name!r} is not entered")
        endpoint.entries -= 1
        if endpoint.entries == 0:
            endpoint.reserve, endpoint.priority = 0, LOWEST_PRIORITY
        self._reassign()
        self._forget_if_idle(endpoint)
        return self._flush()

    # -- grants ------------------------------------------------------------------

    def request(self, endpoint_name: str, now: float) -> Lease | Waiter:
        """
        Ask for a key for one request to ``endpoint_name``.

        Returns a :class:`Lease` at once when a key can serve, else a
        :class:`Waiter` queued behind earlier requests. An endpoint never
        entered is served at the lowest priority with no reserve.
        """
        if self.closed:
            raise PoolClosed(endpoint_name)
        self._advance(now)
        endpoint = self._endpoint(endpoint_name)
        if not endpoint.waiters:
            lease = self._grant_ready(endpoint, now)
            if lease is not None:
                self._forget_if_idle(endpoint)
                return lease
        waiter = Waiter(endpoint.name, next(self._seq))
        endpoint.waiters.append(waiter)
        self._waiting[endpoint.name] = endpoint
        return waiter

    def cancel(self, waiter: Waiter, now: float) -> list[Waiter]:
        """Withdraw a waiter; a lease it was given meanwhile goes back unused."""
        if waiter.lease is not None:
            if waiter.lease.status is LeaseStatus.ACTIVE:
                return self.release(waiter.lease, now)
            return []
        endpoint = self._endpoints.get(waiter.endpoint)
        if endpoint is not None and waiter in endpoint.waiters:
            endpoint.waiters.remove(waiter)
            if not endpoint.waiters:
                self._waiting.pop(endpoint.name, None)
                self._forget_if_idle(endpoint)
        return self._flush()

    def release(self, lease: Lease, now: float, *, sent: bool = False) -> list[Waiter]:
        """
        End a lease without a result.

        Args:
            sent: whether the request may have reached the vendor. An unsent
                request gives its window slot back; a sent one (cancelled
                mid-flight, say) keeps it, and says nothing of the key's health.
        """
        self._check_owner(lease)
        if lease.status is LeaseStatus.RECLAIMED:
            # The pool already took the capacity back; the caller could not
            # know, so ending the lease late is not an error.
            lease.status = LeaseStatus.RELEASED
            return []
        if lease.status is not LeaseStatus.ACTIVE:
            raise ResultAlreadyReported(
                f"lease {lease.id} of key {lease.name!r} is already {lease.status.value}"
            )
        self._end(lease, LeaseStatus.RELEASED)
        lease.key.release(lease.stamped_at, refund=not sent, number=lease.number)
        self._advance(now)
        self._reindex(lease.key, now)
        return self._flush()

    def report(
        self,
        lease: Lease,
        status: int | None,
        headers: Mapping[str, str] | None,
        error: BaseException | None,
        now: float,
        *,
        body: bytes | None = None,
        retry: RetryConfig | None = None,
    ) -> list[Waiter]:
        """
        Take in the result of the request a lease served.

        Args:
            status: the HTTP status, or ``None`` when the request failed.
            headers: the answer's headers (rate-limit hints are read from them).
            error: the transport error, if the request failed.
            body: the start of the answer's body, for 401/403/429 reasons.
            retry: cooldown rules for this result (the pool's by default).
        """
        self._check_owner(lease)
        if lease.status is LeaseStatus.ACTIVE:
            self._end(lease, LeaseStatus.REPORTED)
            lease.key.release(lease.stamped_at, refund=False, number=lease.number)
        elif lease.status is LeaseStatus.RECLAIMED:
            # The capacity was already taken back; the news about the key is
            # still worth having, once.
            lease.status = LeaseStatus.LATE_REPORTED
        elif lease.status is LeaseStatus.LATE_REPORTED:
            return []
        else:
            raise ResultAlreadyReported(
                f"lease {lease.id} of key {lease.name!r} is already {lease.status.value}"
            )
        self._judge(
            lease.key,
            status,
            headers,
            error,
            body,
            now,
            retry or self.retry,
            lease,
        )
        self._advance(now)
        self._reindex(lease.key, now)
        return self._flush()

    def mark_sent(self, lease: Lease, now: float) -> list[Waiter]:
        """
        Count ``lease``'s request in its key's windows from ``now``, when it
        left, rather than from its grant.

        Vendors count a request when it arrives. Requests granted together
        leave one after another (connections open, threads take turns), and
        a window slot re-used exactly one window after its grant could reach
        the vendor less than a window after the slot's first request did.
        Moving a slot later only makes the pool stricter.
        """
        self._check_owner(lease)
        if lease.status is LeaseStatus.ACTIVE and now > lease.stamped_at:
            lease.key.restamp(lease.stamped_at, now, lease.number)
            lease.stamped_at = now
            # The key's timers went stale with the change; set them anew.
            self._reindex(lease.key, now)
        return self._flush()

    # -- time ------------------------------------------------------------------

    def refresh(self, name: str, now: float) -> list[Waiter]:
        """Look again at key ``name``: another process changed its shared state."""
        key = self._keys.get(name)
        if key is None or self.closed:
            return []
        key.forget_shared()
        self._reindex(key, now)
        return self._flush()

    def advance(self, now: float) -> list[Waiter]:
        """Let time pass: free keys whose wait is over, reclaim stale leases."""
        self._advance(now)
        return self._flush()

    def next_wake(self) -> float | None:
        """The next instant at which :meth:`advance` would change anything."""
        timers = self._timers
        while timers:
            _, _, name, version = timers[0]
            if self._keys[name].version == version:
                break
            heapq.heappop(timers)
        wake = timers[0][0] if timers else INF
        if self._leases:
            first = next(iter(self._leases.values()))
            wake = min(wake, first.deadline)
        return None if wake == INF else wake

    def retry_after(self, now: float) -> float | None:
        """Seconds until some key could serve, ``None`` if none will by itself."""
        soonest = min((k.ready_at(now) for k in self._keys.values()), default=INF)
        if soonest == INF:
            return None
        return max(soonest - now, 0.0)

    def fail_waiters(self, error: StateBackendError) -> list[Waiter]:
        """
        Wake every waiter with a copy of ``error``: the shared store failed,
        so the release a waiter counts on may never be heard of.
        """
        for endpoint in list(self._waiting.values()):
            while endpoint.waiters:
                waiter = endpoint.waiters.popleft()
                failure = StateBackendError(str(error))
                failure.__cause__ = error.__cause__
                waiter.error = failure
                self._woken.append(waiter)
            self._forget_if_idle(endpoint)
        self._waiting.clear()
        return self._flush()

    def refresh_all(self, now: float) -> list[Waiter]:
        """Look again at every key's shared state (after the store failed)."""
        for key in self._keys.values():
            key.forget_shared()
            self._reindex(key, now)
        return self._flush()

    def close(self) -> list[Waiter]:
        """Refuse new requests and fail every waiter with :class:`PoolClosed`."""
        self.closed = True
        for endpoint in list(self._waiting.values()):
            while endpoint.waiters:
                waiter = endpoint.waiters.popleft()
                waiter.error = PoolClosed(waiter.endpoint)
                self._woken.append(waiter)
        self._waiting.clear()
        return self._flush()

    # -- views -------------------------------------------------------------------

    @property
    def has_waiters(self) -> bool:
        """Whether any request waits for a key."""
        return bool(self._waiting)

    def key_states(self) -> list[KeyState]:
        """Every key, in configuration order."""
        return list(self._keys.values())

    def snapshot(self, now: float) -> PoolSnapshot:
        """Plain data about every key and endpoint at ``now``."""
        keys = tuple(
            KeySnapshot(
                name=k.name,
                endpoint=self._owner[k.name],
                in_flight=k.in_flight,
                windows_left=tuple(k.windows_left(now)),
                cooldown_left=max(k.cooldown_until - now, 0.0),
                remaining=k.remaining_at(now),
                disabled=k.disabled,
                disabled_reason=k.disabled_reason,
                successes=k.successes,
                failures=k.failures,
                window_margin=k.window_margin,
            )
            for k in self._keys.values()
        )
        endpoints = tuple(
            EndpointSnapshot(
                name=e.name,
                priority=e.priority,
                reserve=e.reserve,
                keys=tuple(e.keys),
                waiting=len(e.waiters),
                entered=e.entries > 0,
            )
            for e in sorted(
                self._endpoints.values(), key=lambda e: (e.priority, e.order)
            )
        )
        return PoolSnapshot(at=now, keys=keys, endpoints=endpoints)

    # -- internals ---------------------------------------------------------------

    def _endpoint(self, name: str) -> _Endpoint:
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            if not isinstance(name, str) or not name:
                raise ConfigError(
                    "endpoint", f"must be a non-empty string, got {name!r}"
                )
            endpoint = self._endpoints[name] = _Endpoint(name, next(self._seq))
        return endpoint

    def _pick(self, endpoint: _Endpoint, now: float) -> KeyState | None:
        """A ready key for ``endpoint``: its own first, else a borrowed one."""
        pool = endpoint.ready or self._spare
        if not pool:
            pool = next((e.ready for e in self._lenders if e.ready), pool)
        if not pool:
            return None
        if self._even:
            return next(iter(pool.values()))
        return self.policy.choose(list(pool.values()), endpoint.name)

    def _grant_ready(self, endpoint: _Endpoint, now: float) -> Lease | None:
        """Grant a ready key to ``endpoint``, or ``None`` when none is ready."""
        while True:
            key = self._pick(endpoint, now)
            if key is None:
                return None
            lease = self._grant(key, endpoint.name, now)
            self._reindex(key, now)
            if lease is not None:
                return lease
            # A shared store said no: another process took the key first.
            # Reindexing moved it out of the ready set, so the loop ends.

    def _grant(self, key: KeyState, endpoint: str, now: float) -> Lease | None:
        if not key.try_grant(now):
            return None
        lease = Lease(key, endpoint, now, now + self.lease_timeout, self)
        lease.number = key.grants
        if self.lease_timeout != INF:
            self._leases[lease.id] = lease
        log.debug("granted key %s to %s", key.name, endpoint)
        return lease

    def _end(self, lease: Lease, status: LeaseStatus) -> None:
        lease.status = status
        self._leases.pop(lease.id, None)

    def _ready_time(self, key: KeyState, now: float) -> float:
        """
        When ``key`` may serve next. While requests wait, a key with windows
        is handed out at most once per :attr:`KeyState.pace_interval`: freed
        window slots then go out as an even stream rather than in the bursts
        they were first taken in, and a burst is what trips a vendor that
        counts on arrival (a few milliseconds of jitter turn the last grant
        of a full window into a 429) or one that meters with a small bucket.
        A request that finds no one waiting is served at once.
        """
        at = key.ready_at(now)
        if self._waiting:
            paced = key.last_granted_at + key.pace_interval
            if paced > at:
                at = paced
        return at

    def _reindex(self, key: KeyState, now: float) -> None:
        """Put ``key`` where it belongs after a change: ready, timed or held."""
        container = self._ready_in.pop(key.name, None)
        if container is not None:
            del container[key.name]
        at = self._ready_time(key, now)
        if at <= now:
            self._offer(key, now)
        elif at < INF:
            heapq.heappush(self._timers, (at, next(self._seq), key.name, key.version))

    def _offer(self, key: KeyState, now: float) -> None:
        """Serve waiters with a ready key for as long as it can serve."""
        while True:
            waiter = self._next_waiter(key)
            if waiter is None:
                owner = self._owner[key.name]
                container = (
                    self._endpoints[owner].ready if owner is not None else self._spare
                )
                container[key.name] = key
                self._ready_in[key.name] = container
                return
            lease = self._grant(key, waiter.endpoint, now)
            if lease is not None:
                self._dequeue(waiter)
                waiter.lease = lease
                self._woken.append(waiter)
            at = self._ready_time(key, now)
            if at > now:
                if at < INF:
                    heapq.heappush(
                        self._timers, (at, next(self._seq), key.name, key.version)
                    )
                return

    def _next_waiter(self, key: KeyState) -> Waiter | None:
        if not self._waiting:
            return None
        owner = self._owner[key.name]
        if owner is not None:
            own = self._endpoints[owner].waiters
            if own:
                return own[0]
        best = min(self._waiting.values(), key=lambda e: (e.priority, e.waiters[0].seq))
        return best.waiters[0]

    def _dequeue(self, waiter: Waiter) -> None:
        endpoint = self._endpoints[waiter.endpoint]
        endpoint.waiters.popleft()
        if not endpoint.waiters:
            del self._waiting[endpoint.name]
            self._forget_if_idle(endpoint)

    def _forget_if_idle(self, endpoint: _Endpoint) -> None:
        """
        Drop an endpoint that no block holds and no request waits on, so that
        endpoints named on the fly (one per tenant, say) do not pile up.
        """
        if endpoint.entries == 0 and not endpoint.waiters:
            self._endpoints.pop(endpoint.name, None)

    def _advance(self, now: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, name, version = heapq.heappop(timers)
            key = self._keys[name]
            if key.version == version:
                self._reindex(key, now)
        leases = self._leases
        while leases:
            lease = next(iter(leases.values()))
            if lease.deadline > now:
                break
            self._reclaim(lease, now)

    def _reclaim(self, lease: Lease, now: float) -> None:
        log.warning(
            "reclaimed key %s from %s: no result after %.0f s",
            lease.name,
            lease.endpoint,
            self.lease_timeout,
        )
        self._end(lease, LeaseStatus.RECLAIMED)
        lease.key.release(lease.stamped_at, refund=False, number=lease.number)
        self._reindex(lease.key, now)

    def _judge(
        self,
        key: KeyState,
        status: int | None,
        headers: Mapping[str, str] | None,
        error: BaseException | None,
        body: bytes | None,
        now: float,
        retry: RetryConfig,
        lease: Lease,
    ) -> None:
        """Change a key's health by what its request's answer said."""
        if is_interruption(error):
            return  # the caller gave up; nothing is known about the key
        if error is not None or status is None:
            seconds = retry.error_backoff(key.streak)
            key.cool(now, seconds)
            key.widen_windows()
            log.info("key %s cooling %.2f s after a transport error", key.name, seconds)
            return
        signal = read_signal(
            status, headers, body, now, max_retry_after=retry.max_retry_after
        )
        kind = signal.kind
        if kind == "ok":
            key.succeed()
        elif kind == "rate_limited":
            hinted = signal.cooldown is not None
            seconds = (
                signal.cooldown
                if signal.cooldown is not None
                else retry.rate_limit_backoff(key.streak)
            )
            key.cool(now, seconds)
            key.widen_windows()
            log.info(
                "key %s cooling %.2f s after %s (%s)",
                key.name,
                seconds,
                status,
                "vendor hint" if hinted else "backoff",
            )
        elif kind == "quota":
            key.cool(now, retry.quota_cooldown)
            log.warning(
                "key %s parked %.0f s: %s",
                key.name,
                retry.quota_cooldown,
                signal.reason,
            )
        elif kind == "revoked":
            key.disable(signal.reason or f"HTTP {status}")
            log.warning("key %s disabled: %s", key.name, key.disabled_reason)
            self._reassign()
        elif status >= 500:
            key.note_failure()
        reset_after = signal.reset_after
        if reset_after is not None:
            # A reset centuries away is a vendor's bug, not a plan: cap it
            # like any other hint.
            reset_after = min(reset_after, retry.max_retry_after)
        key.learn(
            now,
            signal.remaining,
            signal.limit,
            reset_after,
            lease.stamped_at,
            lease.number,
        )

    def _reassign(self) -> None:
        """Recompute ownership after endpoints or enabled keys changed."""
        active = [e for e in self._endpoints.values() if e.entries > 0]
        enabled = [name for name, k in self._keys.items() if not k.disabled]
        owners = assign(
            [e.claim() for e in active],
            enabled,
            self._owner,
            distribute=self.distribute,
        )
        for endpoint in self._endpoints.values():
            endpoint.keys = []
        for name in self._keys:
            owner = owners.get(name)
            self._owner[name] = owner
            if owner is not None:
                self._endpoints[owner].keys.append(name)
            self._move_ready(name, owner)
        self._lenders = sorted(
            (e for e in active if e.keys), key=lambda e: (-e.priority, -e.order)
        )

    def _move_ready(self, name: str, owner: str | None) -> None:
        container = self._ready_in.get(name)
        if container is None:
            return
        target = self._endpoints[owner].ready if owner is not None else self._spare
        if target is not container:
            key = container.pop(name)
            target[name] = key
            self._ready_in[name] = target

    def _flush(self) -> list[Waiter]:
        woken, self._woken = self._woken, []
        return woken

    def _check_owner(self, lease: object) -> None:
        if not isinstance(lease, Lease) or lease.owner is not self:
            raise ForeignKeyError(
                f"{type(lease).__name__} was not granted by this pool; report leases "
                "to the pool whose take_key returned them"
            )


def _index_keys(configs: Iterable[KeyConfig], store: KeyStore) -> dict[str, KeyState]:
    if isinstance(configs, (str, bytes)) or not isinstance(configs, Iterable):
        raise ConfigError(
            "keys", f"expected an iterable of KeyConfig, got {type(configs).__name__}"
        )
    keys: dict[str, KeyState] = {}
    for config in configs:
        if not isinstance(config, KeyConfig):
            raise ConfigError(
                "keys", f"expected KeyConfig items, got {type(config).__name__}"
            )
        if config.name in keys:
            raise ConfigError("name", f"duplicate key name {config.name!r}")
        keys[config.name] = store.key_state(config)
    if not keys:
        raise ConfigError("keys", "a pool needs at least one key")
    return keys


def _check_endpoint_args(name: str, reserve: int, priority: int) -> None:
    if not isinstance(name, str) or not name:
        raise ConfigError("endpoint", f"must be a non-empty string, got {name!r}")
    if isinstance(reserve, bool) or not isinstance(reserve, int) or reserve < 0:
        raise ConfigError("reserve", f"must be an int of at least 0, got {reserve!r}")
    if (
        isinstance(priority, bool)
        or not isinstance(priority, int)
        or not 1 <= priority < LOWEST_PRIORITY
    ):
        raise ConfigError("priority", f"must be an int of at least 1, got {priority!r}")


def is_interruption(error: BaseException | None) -> bool:
    """
    Whether ``error`` means the caller gave up (a cancellation or interrupt)
    rather than the request failed: it says nothing about the key's health.
    """
    if error is None:
        return False
    return isinstance(error, asyncio.CancelledError) or not isinstance(error, Exception)
