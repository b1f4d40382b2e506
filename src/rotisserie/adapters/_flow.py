"""
What every adapter shares, whatever the HTTP client: no I/O, no client import.

An adapter turns one call of its client into one or more *attempts*, each
carrying one key. This module holds the parts that do not depend on the
client:

- :class:`Settings`: the auth block's resolved options.
- Placing the token (a header, or a query parameter that replaces any value
  the URL had) and taking it off again; comparing origins for redirects.
- :class:`Call`: one logical request. It reports each attempt to the pool
  exactly once and decides whether another key should try again.
- Masking: :func:`scrub_exception` for client errors that pass through an
  adapter, and a logging filter for the clients' own loggers.

The adapters do the I/O (sending, reading a body, waiting for a key); the
pool calls made here (``mark_result``, ``release``) never block.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote_plus, urljoin, urlsplit

from .._config import AuthConfig, RetryConfig, merge_auth, merge_retry
from .._lease import Lease, LeaseStatus
from .._pool_base import PoolBase, check_timeout
from .._redact import scrub
from .._scheduler import is_interruption
from .._signals import SignalKind, read_signal
from ..errors import NoKeyAvailable, ResultAlreadyReported

__all__ = [
    "INSPECTED_BODY_BYTES",
    "REPORTED_BODY_BYTES",
    "Call",
    "Origin",
    "Settings",
    "build_settings",
    "drop_query_param",
    "find_error",
    "is_interruption",
    "origin_of",
    "protect_logs",
    "scrub_exception",
    "set_query_param",
    "wants_body",
    "worth_waiting",
]

log = logging.getLogger(__name__)

#: How much of a 401/403/429 body the pool is given to tell a revoked key or
#: an exhausted quota from a plain limit.
REPORTED_BODY_BYTES = 4096
#: A 401/403/429 body is read only when its declared length is at most this
#: (or undeclared); a larger one is judged by status and headers alone.
INSPECTED_BODY_BYTES = 65536
#: The answers whose body says something about the key.
BODY_STATUSES = frozenset({401, 403, 429})
# Answers after which another key may succeed where this one failed.
_ROTATE = frozenset({SignalKind.RATE_LIMITED, SignalKind.QUOTA, SignalKind.REVOKED})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

#: ``(scheme, host, port)`` of a URL, lower-cased, default port filled in.
Origin = tuple[str, str, int | None]


# -- settings ------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """
    The options of one auth block, resolved over the pool's defaults.

    Attributes:
        endpoint: the endpoint keys are taken for.
        auth: where the token goes.
        retry: cooldowns and which requests are sent again.
        timeout: the longest wait for a key per attempt, in seconds
            (``None``: no limit).
    """

    endpoint: str
    auth: AuthConfig
    retry: RetryConfig
    timeout: float | None

    @property
    def retry_wait(self) -> float:
        """
        The longest wait for a key before another attempt, in seconds.

        ``timeout`` when set; otherwise ``retry_after_cap``, the longest the
        pool backs off on its own. A wait beyond it returns the last answer.
        """
        return self.timeout if self.timeout is not None else self.retry.retry_after_cap


def build_settings(
    pool: PoolBase,
    endpoint: str,
    *,
    auth_config: AuthConfig | None,
    auth_header: str | None,
    auth_scheme: str | None,
    auth_in: str | None,
    auth_query_param: str | None,
    retry_config: RetryConfig | None,
    retry_attempts: int | None,
    retry_for_methods: Iterable[str] | None,
    timeout: float | None,
) -> Settings:
    """
    Merge an auth block's options over the pool's defaults.

    Raises:
        ConfigError: an option is invalid.
    """
    check_timeout(timeout)
    auth = merge_auth(
        pool.auth_config,
        auth_config,
        header=auth_header,
        scheme=auth_scheme,
        in_=auth_in,
        query_param=auth_query_param,
    )
    retry = merge_retry(
        pool.retry_config,
        retry_config,
        retry_attempts=retry_attempts,
        retry_for_methods=retry_for_methods,
    )
    return Settings(endpoint=endpoint, auth=auth, retry=retry, timeout=timeout)


# -- where the token goes ------------------------------------------------------


def set_query_param(url: str, name: str, value: str) -> str:
    """
    Return ``url`` with query parameter ``name`` set to ``value`` alone.

    Every earlier value of ``name`` is dropped; the other parameters keep
    their exact spelling and order, and the new one comes last.
    """
    parts = urlsplit(url)
    pairs = list(_other_params(parts.query, name))
    pairs.append(f"{quote(name, safe='')}={quote(value, safe='')}")
    return parts._replace(query="&".join(pairs)).geturl()


def drop_query_param(url: str, name: str) -> str:
    """Return ``url`` without any value of query parameter ``name``."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    return parts._replace(query="&".join(_other_params(parts.query, name))).geturl()


def _other_params(query: str, name: str) -> Iterator[str]:
    for pair in query.split("&"):
        if pair and unquote_plus(pair.partition("=")[0]) != name:
            yield pair


def origin_of(url: str) -> Origin:
    """
    The origin of ``url``: scheme, host and port, as a tuple.

    A key may only travel to the origin of the request it was attached to;
    a redirect elsewhere (another host, port or scheme) never carries it.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    return (scheme, (parts.hostname or "").lower(), port)


def redirect_origin(url: str, location: str) -> Origin:
    """The origin a redirect from ``url`` to ``location`` leads to."""
    return origin_of(urljoin(url, location))


def wants_body(status: int, content_length: str | None) -> bool:
    """
    Whether an answer's body should be read for the pool.

    Only 401, 403 and 429 bodies say something about the key, and only a
    body of known small size (or of unknown size) is read.
    """
    if status not in BODY_STATUSES:
        return False
    if content_length is None:
        return True
    try:
        return int(content_length) <= INSPECTED_BODY_BYTES
    except ValueError:
        return False


# -- one logical request -------------------------------------------------------


class Call:
    """
    One logical request through an adapter: its attempts and current lease.

    Each attempt takes a key (:meth:`begin`) and ends with exactly one report:
    :meth:`answered` with the status, :meth:`failed` with the transport error,
    or :meth:`abandon` when its fate is unknown. Both report methods say
    whether another attempt is wanted; the adapter then asks for a key and
    sends again, or gives the caller what it has.

    Not thread-safe: one logical request runs on one thread or task. The
    report methods tolerate a lease that a cleanup path ended meanwhile.
    """

    def __init__(
        self, pool: PoolBase, settings: Settings, method: str, *, replayable: bool
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.method = method.upper()
        #: Whether the body can be sent again (bytes, or no body at all).
        self.replayable = replayable
        self.attempts = 0
        self.lease: Lease | None = None

    @property
    def active(self) -> bool:
        """Whether the current attempt holds a lease not yet reported."""
        return self.lease is not None and self.lease.status is LeaseStatus.ACTIVE

    def begin(self, lease: Lease) -> None:
        """Start an attempt with ``lease``."""
        self.lease = lease
        self.attempts += 1
        if self.attempts > 1:
            log.debug(
                "%s attempt %d of %d on key %s",
                self.method,
                self.attempts,
                self.settings.retry.retry_attempts,
                lease.name,
            )

    def sent(self) -> None:
        """
        The attempt's request is leaving now: the pool's windows count it from
        here, as the vendor counts it on arrival (see ``KeyPool.mark_sent``).
        """
        lease = self.lease
        if lease is not None and lease.status is LeaseStatus.ACTIVE:
            self.pool.mark_sent(lease)

    def may_send_again(self) -> bool:
        """Whether the rules allow another attempt of this request."""
        retry = self.settings.retry
        return (
            self.attempts < retry.retry_attempts
            and retry.may_retry(self.method)
            and self.replayable
        )

    def may_follow(self) -> bool:
        """
        Whether a redirect back to the key's origin may be sent with a key.

        Following a redirect is not a retry, so the method rules do not
        apply; the attempt count and the body still do.
        """
        return self.attempts < self.settings.retry.retry_attempts and self.replayable

    def answered(
        self, status: int, headers: Mapping[str, str] | None, body: bytes | None
    ) -> bool:
        """
        Report the answer of the current attempt.

        Returns:
            Whether another key should try: the answer is a 429 (or a 401 or
            403 that says the key is revoked, out of quota or limited) and the
            rules allow another attempt.
        """
        lease = self._take_lease()
        clipped = body[:REPORTED_BODY_BYTES] if body is not None else None
        retry = self.settings.retry
        if lease is not None:
            self._report(lease, status, headers, None, clipped)
        if status < 400:
            return False
        kind = read_signal(
            status, headers, clipped, time.time(), max_retry_after=retry.max_retry_after
        ).kind
        if kind not in _ROTATE:
            return False
        if not self.may_send_again():
            log.debug(
                "%s got %d on key %s; not sent again (attempt %d of %d, %s)",
                self.method,
                status,
                lease.name if lease is not None else "?",
                self.attempts,
                retry.retry_attempts,
                self._why_not(),
            )
            return False
        return True

    def failed(
        self, error: BaseException | None, *, sent: bool, cancelled: bool = False
    ) -> bool:
        """
        Report that the current attempt failed in transport.

        Args:
            error: the exception, if known.
            sent: whether the request may have left (``False`` for a refused
                connection or a failed name lookup: the key gets its window
                slot back and does not cool).
            cancelled: the caller gave up (task cancelled, interrupt): the
                key's health is unchanged.

        Returns:
            Whether another key should try: the request may have left, it
            was not interrupted, and the rules allow another attempt.
        """
        lease = self._take_lease()
        if lease is None:
            return False
        if cancelled or is_interruption(error):
            self._release(lease, sent=True)
            return False
        if not sent:
            self._release(lease, sent=False)
            return False
        self._report(lease, None, None, error, None)
        return self.may_send_again()

    def abandon(self) -> None:
        """
        End the current lease when the request's fate is unknown.

        Used by cleanup paths (a request object collected, a block left): the
        window slot stays spent and the key's health is unchanged.
        """
        lease = self._take_lease()
        if lease is not None:
            self._release(lease, sent=True)

    def tokens(self) -> list[str]:
        """Every token of the pool, for masking."""
        return [key.token for key in self.pool.keys]

    # -- internals -----------------------------------------------------------

    def _take_lease(self) -> Lease | None:
        lease, self.lease = self.lease, None
        if lease is None or lease.status is not LeaseStatus.ACTIVE:
            return None
        return lease

    def _report(
        self,
        lease: Lease,
        status: int | None,
        headers: Mapping[str, str] | None,
        error: BaseException | None,
        body: bytes | None,
    ) -> None:
        try:
            self.pool.mark_result(
                lease,
                status,
                headers,
                error,
                body=body,
                retry_config=self.settings.retry,
            )
        except ResultAlreadyReported:
            # A cleanup path (the auth block's exit) ended it first.
            log.debug("lease of key %s was already ended", lease.name)

    def _release(self, lease: Lease, *, sent: bool) -> None:
        try:
            self.pool.release(lease, sent=sent)
        except ResultAlreadyReported:
            log.debug("lease of key %s was already ended", lease.name)

    def _why_not(self) -> str:
        if self.attempts >= self.settings.retry.retry_attempts:
            return "attempts used up"
        if not self.settings.retry.may_retry(self.method):
            return "method not in retry_for_methods"
        return "body cannot be sent again"

    def __repr__(self) -> str:
        key = self.lease.name if self.lease is not None else None
        return f"Call(method={self.method}, attempts={self.attempts}, key={key!r})"


def worth_waiting(error: NoKeyAvailable, pool: PoolBase, limit: float) -> bool:
    """
    Whether another attempt should wait for a key after ``error``.

    ``error`` came from asking without waiting. Waiting is pointless when
    every key is retired, or when the pool expects none to free within
    ``limit`` seconds (say, a key parked for an hour after its quota ran out);
    the adapter then hands back the answer it has.
    """
    if all(key.disabled for key in pool.keys):
        return False
    return error.retry_after is None or error.retry_after <= limit


def find_error(error: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """
    Whether ``error`` is, wraps or was caused by an exception of ``kinds``.

    Clients wrap errors in layers (requests wraps urllib3's ``MaxRetryError``
    whose ``reason`` is the connection error); this looks through ``args``,
    ``reason``, ``__cause__`` and ``__context__``.
    """
    return any(isinstance(e, kinds) for e in _error_graph(error))


def scrub_exception(error: BaseException, secrets: Iterable[str]) -> None:
    """
    Mask ``secrets`` in the text of ``error`` and of the errors it wraps.

    The exception keeps its type, attributes and traceback, so ``except``
    clauses still match; only string arguments are rewritten, in place.
    Client errors may quote the URL, which holds the key when it travels in
    the query.
    """
    secrets = [s for s in secrets if s]
    if not secrets:
        return
    for exc in _error_graph(error):
        args = exc.args
        masked = tuple(scrub(a, secrets) if isinstance(a, str) else a for a in args)
        if masked != args:
            exc.args = masked
        if isinstance(exc, OSError):
            # OSError prints its own fields rather than its args.
            for name in ("strerror", "filename", "filename2"):
                value = getattr(exc, name)
                if isinstance(value, str):
                    setattr(exc, name, scrub(value, secrets))


def _error_graph(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [error]
    while todo and len(seen) < 32:
        exc = todo.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        linked = [
            *exc.args,
            getattr(exc, "reason", None),
            exc.__cause__,
            exc.__context__,
        ]
        todo.extend(e for e in linked if isinstance(e, BaseException))


# -- logs --------------------------------------------------------------------------

# Loggers of the HTTP clients that may print a URL, and so a key sent in the
# query: httpx's INFO request line, urllib3's DEBUG request and retry lines.
_CLIENT_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "aiohttp.client",
)


class _SecretFilter(logging.Filter):
    """
    Masks the tokens of watched pools in records of the clients' loggers.

    A logging filter is the standard way to rewrite records; it is added to
    the client loggers once per process and reads a weak registry of pools,
    so a pool that is gone stops costing anything.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._pools: weakref.WeakKeyDictionary[PoolBase, tuple[str, ...]] = (
            weakref.WeakKeyDictionary()
        )
        self._installed = False

    def watch(self, pool: PoolBase) -> None:
        with self._lock:
            if pool not in self._pools:
                self._pools[pool] = tuple(key.token for key in pool.keys)
            if not self._installed:
                for name in _CLIENT_LOGGERS:
                    logging.getLogger(name).addFilter(self)
                self._installed = True

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            secrets = [t for tokens in self._pools.values() for t in tokens]
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's to report
            return True
        masked = scrub(message, secrets)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = _SecretFilter()


def protect_logs(pool: PoolBase) -> None:
    """
    Mask ``pool``'s tokens in what the HTTP clients log.

    Called when an auth is made; idempotent and cheap.
    """
    _FILTER.watch(pool)
