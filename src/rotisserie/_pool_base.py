"""What the sync and async pools share: construction, reports, views."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ._config import AuthConfig, KeyConfig, RetryConfig, merge_auth
from ._env import load_keyconfigs_from_env
from ._key import KeyState
from ._lease import Lease
from ._scheduler import Scheduler, Waiter
from ._snapshot import PoolSnapshot
from .errors import ConfigError, StateBackendError
from .policies import PolicySpec
from .state import KeyStore

__all__ = ["Clock", "PoolBase", "check_timeout"]

#: A clock returns epoch seconds, like :func:`time.time`.
Clock = Callable[[], float]

# The keyword arguments of ``from_env`` that belong to the loader, not the pool.
_LOADER_ARGS = frozenset(
    {"to_lower_names", "split_commas", "strip_prefix", "environ", "max_in_flight"}
)


class PoolBase:
    """State and behaviour common to :class:`KeyPool` and :class:`AsyncKeyPool`."""

    def __init__(
        self,
        keys: Iterable[KeyConfig],
        *,
        distribute: bool = True,
        policy: PolicySpec = "even",
        auth_config: AuthConfig | None = None,
        auth_header: str | None = None,
        auth_scheme: str | None = None,
        auth_in: str | None = None,
        auth_query_param: str | None = None,
        retry_config: RetryConfig | None = None,
        lease_timeout: float | None = 600.0,
        clock: Clock = time.time,
        store: KeyStore | None = None,
        window_margin: float = 0.0,
    ) -> None:
        if auth_config is not None and not isinstance(auth_config, AuthConfig):
            raise ConfigError(
                "auth_config", f"expected AuthConfig, got {type(auth_config).__name__}"
            )
        if retry_config is not None and not isinstance(retry_config, RetryConfig):
            raise ConfigError(
                "retry_config",
                f"expected RetryConfig, got {type(retry_config).__name__}",
            )
        if not isinstance(distribute, bool):
            raise ConfigError(
                "distribute", f"must be True or False, got {distribute!r}"
            )
        if not callable(clock):
            raise ConfigError("clock", f"must be callable, got {clock!r}")
        self.auth_config = merge_auth(
            AuthConfig(),
            auth_config,
            header=auth_header,
            scheme=auth_scheme,
            in_=auth_in,
            query_param=auth_query_param,
        )
        self.retry_config = retry_config if retry_config is not None else RetryConfig()
        self._clock = clock
        self._lock = threading.Lock()
        # The last failure of a shared store, until a look at it succeeds.
        self._store_failure: StateBackendError | None = None
        self._scheduler = Scheduler(
            keys,
            distribute=distribute,
            policy=policy,
            retry=self.retry_config,
            lease_timeout=lease_timeout,
            store=store,
            window_margin=window_margin,
        )
        # A shared store tells of releases in other processes, so that
        # waiters here wake at once rather than at the next timer.
        on_freed = getattr(store, "on_freed", None)
        if callable(on_freed):
            on_freed(self._key_freed)

    @classmethod
    def from_env(
        cls,
        names: Iterable[str] | None = None,
        *,
        prefix: str | None = None,
        env_path: str | None = None,
        per_window: Any = None,
        **kwargs: Any,
    ) -> Any:
        """
        Build a pool from keys in the environment and an optional ``.env`` file.

        ``names``, ``prefix``, ``env_path``, ``per_window`` and the flags
        ``to_lower_names``, ``split_commas``, ``strip_prefix`` go to
        :func:`rotisserie.load_keyconfigs_from_env`; every other keyword
        argument goes to the pool.
        """
        loader_args = {k: kwargs.pop(k) for k in list(kwargs) if k in _LOADER_ARGS}
        configs = load_keyconfigs_from_env(
            list(names) if names is not None else None,
            prefix=prefix,
            env_path=env_path,
            per_window=per_window,
            **loader_args,
        )
        return cls(configs, **kwargs)

    # -- reports -------------------------------------------------------------------

    def mark_result(
        self,
        key: Lease,
        status: int | None,
        headers: Mapping[str, str] | None = None,
        error: BaseException | None = None,
        *,
        body: bytes | None = None,
        retry_config: RetryConfig | None = None,
    ) -> None:
        """
        Report how the request served by ``key`` went.

        Args:
            key: the lease ``take_key`` returned.
            status: the HTTP status, or ``None`` if the request failed.
            headers: the answer's headers; rate-limit hints are read from them.
            error: the exception, if the request failed in transport.
            body: the start of the body of a 401/403/429 answer, if read; it
                tells a revoked key or an exhausted quota from a plain limit.
            retry_config: cooldown rules for this report (the pool's by default).

        Raises:
            ForeignKeyError: ``key`` was not granted by this pool.
            ResultAlreadyReported: ``key`` was already reported or released.
        """
        _check_result(status, headers, body)
        with self._lock, self._store_guard():
            woken = self._scheduler.report(
                key,
                status,
                headers,
                error,
                self._clock(),
                body=body,
                retry=retry_config,
            )
            self._after_change(woken)

    def mark_sent(self, key: Lease) -> None:
        """
        Say that ``key``'s request is leaving now.

        Windows then count the request from this moment rather than from its
        grant, as the vendor does (it counts on arrival). Adapters call this
        for you; call it yourself when requests can wait between
        ``take_key`` and the send (opening connections, queues).
        """
        with self._lock, self._store_guard():
            self._after_change(self._scheduler.mark_sent(key, self._clock()))

    def release(self, key: Lease, *, sent: bool = False) -> None:
        """
        End ``key``'s lease without a result.

        Args:
            sent: ``False`` (default) when the request never left: its window
                slot is given back. ``True`` when it may have reached the vendor
                but its fate is unknown (cancelled mid-flight): the slot stays
                spent and the key's health is unchanged.
        """
        with self._lock, self._store_guard():
            woken = self._scheduler.release(key, self._clock(), sent=sent)
            self._after_change(woken)

    @contextlib.contextmanager
    def _store_guard(self) -> Iterator[None]:
        """
        Around scheduler calls, with the lock held: when the shared store
        fails, every waiter hears of it at once (a release it waits for may
        never be heard of) and the error goes on to the caller.
        """
        try:
            yield
        except StateBackendError as exc:
            self._store_failure = exc
            self._after_change(self._scheduler.fail_waiters(exc))
            raise

    def _look_again_if_store_failed(self) -> None:
        """
        After a store failure, look at every key again before a request may
        wait: a store still down fails the request now rather than leaving it
        waiting for a release nobody can report; a store back up refreshes
        keys whose releases were lost.
        """
        if self._store_failure is not None:
            self._after_change(self._scheduler.refresh_all(self._clock()))
            self._store_failure = None

    def _key_freed(self, name: str) -> None:
        with self._lock:
            if self._scheduler.has_waiters and not self._scheduler.closed:
                self._after_change(self._scheduler.refresh(name, self._clock()))

    # -- views -------------------------------------------------------------------------

    def snapshot(self) -> PoolSnapshot:
        """Plain data about every key and endpoint, now. Never holds a token."""
        with self._lock:
            now = self._clock()
            # Let time act first, so expired leases and ended cooldowns show.
            self._after_change(self._scheduler.advance(now))
            return self._scheduler.snapshot(now)

    @property
    def keys(self) -> list[KeyState]:
        """Every key's live state, in configuration order."""
        return self._scheduler.key_states()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._scheduler.closed

    def __repr__(self) -> str:
        names = ", ".join(k.name for k in self._scheduler.key_states())
        return f"{type(self).__name__}(keys=[{names}], closed={self.closed})"

    __str__ = __repr__

    # -- for subclasses ---------------------------------------------------------------

    def _after_change(self, woken: list[Waiter]) -> None:
        """Wake served waiters and re-arm the timer; called with the lock held."""
        raise NotImplementedError


def _check_result(status: object, headers: object, body: object) -> None:
    """Refuse a malformed report before it can touch any state."""
    if status is not None and (
        isinstance(status, bool)
        or not isinstance(status, int)
        or not 100 <= status <= 599
    ):
        raise ConfigError(
            "status", f"must be an HTTP status (100-599) or None, got {status!r}"
        )
    if headers is not None and not isinstance(headers, Mapping):
        raise ConfigError(
            "headers",
            f"must be a mapping of names to values, got {type(headers).__name__}",
        )
    if body is not None and not isinstance(body, (bytes, bytearray, memoryview)):
        raise ConfigError("body", f"must be bytes or None, got {type(body).__name__}")


def check_timeout(timeout: float | None) -> None:
    if timeout is None:
        return
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not timeout >= 0
    ):
        raise ConfigError(
            "timeout", f"must be a number of seconds >= 0 or None, got {timeout!r}"
        )
