"""
Key state in Redis, shared by every pool that names the same namespace.

Install with ``pip install "rotisserie[redis]"``::

    from rotisserie import KeyPool, KeyConfig
    from rotisserie.state.redis import RedisStore

    store = RedisStore("redis://127.0.0.1:6379/0", namespace="vendor-x")
    pool = KeyPool([KeyConfig("k1", "T1", per_window=(60, 60))], store=store)

What is shared: each key's sliding windows, its cooldown, its in-flight
leases (with their deadlines, so a crashed process frees its leases when they
expire), its retirement, and its success and failure counts. What stays in
each process: endpoints, waiters, and the budget learned from rate-limit
headers.

Each grant is one Lua script call (one round trip) that checks and takes the
key atomically. A release publishes the key's name, so waiters in other
processes wake at once instead of polling. Redis errors are raised as
:class:`~rotisserie.StateBackendError`, chained to the redis-py error.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .._config import KeyConfig
from .._key import KeyState
from .._redact import mask_query
from ..errors import ConfigError, StateBackendError

try:
    import redis
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        'rotisserie.state.redis needs redis-py: pip install "rotisserie[redis]"'
    ) from exc

__all__ = ["RedisKeyState", "RedisStore"]

log = logging.getLogger(__name__)

# Every script starts with this prelude. KEYS: the state hash, the lease set,
# then one sorted set per window. ARGV: now, max_in_flight (0: none), the
# window count, (limit, seconds) per window, then the action's own arguments.
_PRELUDE = """
local state, leases = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local max_in_flight = tonumber(ARGV[2])
local windows = tonumber(ARGV[3])
local base = 4 + 2 * windows

local function window(i)
  return KEYS[2 + i], tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
end

-- The instant the key can serve: disabled is never; a full set of leases
-- waits for the earliest lease deadline (a release wakes waiters sooner).
local function ready_at()
  if redis.call('HEXISTS', state, 'disabled') == 1 then return math.huge end
  local at = tonumber(redis.call('HGET', state, 'cooldown_until') or '0')
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
  if max_in_flight > 0 and redis.call('ZCARD', leases) >= max_in_flight then
    local first = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
    local deadline = tonumber(first[2])
    if deadline > at then at = deadline end
  end
  for i = 1, windows do
    local z, limit, seconds = window(i)
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now - seconds)
    -- A grant at t leaves when t + seconds <= now; `now - seconds` can round
    -- the other way, so finish the pruning with the same sum the pool uses.
    local oldest = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
    while oldest[2] ~= nil and tonumber(oldest[2]) + seconds <= now do
      redis.call('ZREM', z, oldest[1])
      oldest = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
    end
    local count = redis.call('ZCARD', z)
    if count >= limit then
      local edge = redis.call('ZRANGE', z, count - limit, count - limit, 'WITHSCORES')
      local free = tonumber(edge[2]) + seconds
      if free > at then at = free end
    end
  end
  return at
end

local function reply(granted)
  local h = redis.call('HMGET', state, 'cooldown_until', 'disabled', 'successes',
                       'failures', 'streak')
  local out = {tostring(ready_at()), granted, redis.call('ZCARD', leases),
               h[1] or '0', h[2] or '', h[3] or '0', h[4] or '0', h[5] or '0'}
  for i = 1, windows do
    local z, limit = window(i)
    out[#out + 1] = math.max(limit - redis.call('ZCARD', z), 0)
  end
  return out
end
"""

# ARGV[base]: the lease member, ARGV[base + 1]: its deadline.
_GRANT = """
if ready_at() > now then return reply(0) end
local member = ARGV[base]
redis.call('ZADD', leases, ARGV[base + 1], member)
for i = 1, windows do
  local z, limit, seconds = window(i)
  redis.call('ZADD', z, now, member)
  redis.call('PEXPIRE', z, math.ceil(seconds * 1000) + 1000)
end
return reply(1)
"""

# ARGV[base]: the lease member, ARGV[base + 1]: '1' to refund the window
# slots, ARGV[base + 2]: the channel, ARGV[base + 3]: the key's name.
_RELEASE = """
local member = ARGV[base]
redis.call('ZREM', leases, member)
if ARGV[base + 1] == '1' then
  for i = 1, windows do
    local z = window(i)
    redis.call('ZREM', z, member)
  end
end
redis.call('PUBLISH', ARGV[base + 2], ARGV[base + 3])
return reply(0)
"""

# ARGV[base]: the action, ARGV[base + 1]: its value.
_HEALTH = """
local action, value = ARGV[base], ARGV[base + 1]
if action == 'succeed' then
  redis.call('HINCRBY', state, 'successes', 1)
  redis.call('HSET', state, 'streak', 0)
elseif action == 'fail' then
  redis.call('HINCRBY', state, 'failures', 1)
elseif action == 'cool' or action == 'rest' then
  if action == 'cool' then
    redis.call('HINCRBY', state, 'failures', 1)
    redis.call('HINCRBY', state, 'streak', 1)
  end
  local until_ = now + tonumber(value)
  local current = tonumber(redis.call('HGET', state, 'cooldown_until') or '0')
  if until_ > current then
    redis.call('HSET', state, 'cooldown_until', string.format('%.6f', until_))
  end
elseif action == 'disable' then
  redis.call('HINCRBY', state, 'failures', 1)
  redis.call('HSET', state, 'disabled', value)
end
return reply(0)
"""

# ARGV[base]: the lease member, ARGV[base + 1]: the instant it was sent.
_RESTAMP = """
for i = 1, windows do
  local z = window(i)
  redis.call('ZADD', z, 'XX', ARGV[base + 1], ARGV[base])
end
return reply(0)
"""

_PEEK = "return reply(0)"

#: Called with a key's name when another holder released it.
FreedCallback = Callable[[str], None]


class RedisStore:
    """
    Keeps key state in Redis under ``<prefix>:<namespace>:``.

    Args:
        url: a Redis URL (``redis://host:port/db``); or pass ``client``.
        client: an existing ``redis.Redis``; the store does not close it.
        namespace: pools with the same namespace share their keys' state.
        prefix: the first part of every Redis key name.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: redis.Redis | None = None,
        namespace: str = "default",
        prefix: str = "rotisserie",
    ) -> None:
        if (url is None) == (client is None):
            raise ConfigError("url", "give exactly one of url or client")
        for field, value in (("namespace", namespace), ("prefix", prefix)):
            if not isinstance(value, str) or not value or ":" in value:
                raise ConfigError(
                    field, f"must be a non-empty string without ':', got {value!r}"
                )
        self._owns_client = client is None
        if client is None:
            assert url is not None
            _check_url(url)
            try:
                client = redis.Redis.from_url(url, decode_responses=True)
            except ValueError:
                raise ConfigError(
                    "url", f"not a Redis URL: {_without_password(url)}"
                ) from None
        self._client = client
        self._where = _without_password(url) if url is not None else repr(client)
        self.keyspace = f"{prefix}:{namespace}"
        self.channel = f"{self.keyspace}:freed"
        self._grant = client.register_script(_PRELUDE + _GRANT)
        self._release = client.register_script(_PRELUDE + _RELEASE)
        self._health = client.register_script(_PRELUDE + _HEALTH)
        self._peek = client.register_script(_PRELUDE + _PEEK)
        self._restamp = client.register_script(_PRELUDE + _RESTAMP)
        # Lease members must be unique across every process sharing the store.
        self._node = uuid.uuid4().hex[:12]
        self._serial = itertools.count(1)
        self._listeners: list[FreedCallback] = []
        self._listening: Any = None
        self._listen_lock = threading.Lock()

    def key_state(self, config: KeyConfig) -> RedisKeyState:
        """The shared state of the key ``config`` describes."""
        return RedisKeyState(config, self)

    def on_freed(self, callback: FreedCallback) -> None:
        """
        Call ``callback(name)`` whenever any process releases a key.

        Starts one listener thread per store on first use.
        """
        with self._listen_lock:
            self._listeners.append(callback)
            if self._listening is None:
                pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                try:
                    pubsub.subscribe(**{self.channel: self._dispatch})
                except redis.RedisError as exc:
                    pubsub.close()
                    raise StateBackendError(
                        f"Redis at {self._where} failed: {type(exc).__name__}"
                    ) from exc
                self._listening = pubsub.run_in_thread(
                    sleep_time=1.0, daemon=True, exception_handler=self._listener_failed
                )

    def close(self) -> None:
        """Stop the listener thread and close the client the store opened."""
        with self._listen_lock:
            listening, self._listening = self._listening, None
            self._listeners.clear()
        if listening is not None:
            listening.stop()
        if self._owns_client:
            self._client.close()

    def flush(self) -> None:
        """Delete every key this store's namespace holds (for tests and resets)."""
        try:
            names = list(self._client.scan_iter(match=f"{self.keyspace}:*"))
            if names:
                self._client.delete(*names)
        except redis.RedisError as exc:
            raise StateBackendError(
                f"Redis at {self._where} failed: {type(exc).__name__}"
            ) from exc

    def next_member(self) -> str:
        """A lease member name no other process will use."""
        return f"{self._node}:{next(self._serial)}"

    def run(
        self, script: Any, keys: Sequence[str], args: Sequence[object], key: str
    ) -> Any:
        """Run one of the store's scripts, mapping Redis errors to ours."""
        try:
            return script(keys=keys, args=args)
        except redis.RedisError as exc:
            raise StateBackendError(
                f"Redis at {self._where} failed for key {key!r}: {type(exc).__name__}"
            ) from exc

    def _dispatch(self, message: dict[str, Any]) -> None:
        name = message.get("data")
        if isinstance(name, str):
            for callback in list(self._listeners):
                callback(name)

    def _listener_failed(self, error: BaseException, pubsub: Any, thread: Any) -> None:
        # The listener cannot raise to anyone; waiters still wake at the
        # instants Redis reported, so the pool degrades rather than stalls.
        log.warning(
            "Redis listener at %s stopped (%s); cross-process releases are no longer "
            "pushed",
            self._where,
            type(error).__name__,
        )
        thread.stop()

    def __repr__(self) -> str:
        return f"RedisStore({self._where}, keyspace={self.keyspace!r})"


class RedisKeyState(KeyState):
    """A key whose windows, cooldown, leases and health live in Redis."""

    __slots__ = ("_args", "_members", "_names", "_shared_left", "_store")

    def __init__(self, config: KeyConfig, store: RedisStore) -> None:
        super().__init__(config)
        self._store = store
        base = f"{store.keyspace}:key:{config.name}"
        self._names = [f"{base}:state", f"{base}:leases"] + [
            f"{base}:window:{i}" for i in range(len(config.windows))
        ]
        self._args: list[object] = []
        self.set_window_margin(0.0)
        self._shared_left = [w.limit for w in config.windows]
        # Lease members by grant instant, so a release can name its own.
        self._members: dict[float, list[str]] = {}

    def set_window_margin(self, margin: float) -> None:
        """Widen the windows, here and in the arguments every script gets."""
        super().set_window_margin(margin)
        window_args: list[object] = []
        for window in self.config.windows:
            window_args += [window.limit, repr(float(window.seconds + margin))]
        self._args = [
            self.config.max_in_flight or 0,
            len(self.config.windows),
            *window_args,
        ]

    def try_grant(self, now: float) -> bool:
        """Take the key in Redis if it can serve now (one round trip)."""
        if self.ready_at(now) > now:
            return False  # known without asking: cooling, full, or out of budget
        member = self._store.next_member()
        seconds = self.lease_seconds
        deadline = "+inf" if seconds == math.inf else repr(now + seconds)
        reply = self._run(self._store._grant, now, member, deadline)
        if not int(reply[1]):
            return False
        self._members.setdefault(now, []).append(member)
        self.note_grant(now)
        return True

    def restamp(self, stamped_at: float, sent_at: float, number: int = 0) -> None:
        """Move one grant's window slots to when it was sent, in Redis."""
        members = self._members.get(stamped_at)
        if not members or not self.config.windows:
            return
        member = members.pop()
        if not members:
            del self._members[stamped_at]
        self._members.setdefault(sent_at, []).append(member)
        self._move_in_flight(stamped_at, sent_at, number)
        self._run(self._store._restamp, sent_at, member, repr(sent_at))

    def release(self, granted_at: float, *, refund: bool, number: int = 0) -> None:
        """End one grant in Redis, and tell other processes the key freed."""
        members = self._members.get(granted_at)
        if not members:
            return
        self._forget_in_flight(granted_at, number)
        member = members.pop()
        if not members:
            del self._members[granted_at]
        self._run(
            self._store._release,
            self._now_hint(),
            member,
            "1" if refund else "0",
            self._store.channel,
            self.name,
        )
        if refund:
            if self._budget is not None:
                self._budget += 1
            self._unpace(granted_at)

    def succeed(self) -> None:
        """Count a success in Redis; the failure streak ends."""
        self._health("succeed", 0)

    def note_failure(self) -> None:
        """Count a failure in Redis that does not rest the key."""
        self._health("fail", 0)

    def cool(self, now: float, seconds: float, *, failure: bool = True) -> None:
        """Rest the key in Redis, for every process."""
        self._health("cool" if failure else "rest", seconds, now=now)

    def disable(self, reason: str) -> None:
        """Retire the key in Redis, for every process."""
        self._health("disable", reason)

    def windows_left(self, now: float) -> list[int]:
        """Grants left in each window, across every process sharing the store."""
        self.shared_ready_at(now)
        return list(self._shared_left)

    def shared_ready_at(self, now: float) -> float:
        """Ask Redis when the key can serve (answered from the last reply at the same instant)."""
        if self._cached_for != now:
            self._run(self._store._peek, now)
        return self._cached_at

    # -- plumbing ------------------------------------------------------------

    def _health(self, action: str, value: object, *, now: float | None = None) -> None:
        self._run(
            self._store._health, self._now_hint() if now is None else now, action, value
        )

    def _now_hint(self) -> float:
        return self._seen_at if self._seen_at > -math.inf else 0.0

    def _run(self, script: Any, now: float, *action: object) -> list[Any]:
        args = [repr(now), *self._args, *action]
        reply: list[Any] = self._store.run(script, self._names, args, self.name)
        self._absorb(reply, now)
        return reply

    def _absorb(self, reply: list[Any], now: float) -> None:
        """Mirror what Redis said, so views and policies read fresh numbers."""
        at, _, in_flight, cooldown, disabled, successes, failures, streak = reply[:8]
        self._shared_left = [int(left) for left in reply[8:]]
        self._cached_for = now
        self._cached_at = float(at)
        self.in_flight = int(in_flight)
        self.cooldown_until = float(cooldown)
        self.disabled_reason = disabled or None
        self.successes = int(successes)
        self.failures = int(failures)
        self.streak = int(streak)
        self.version += 1


_SCHEMES = ("redis", "rediss", "unix")


def _check_url(url: object) -> None:
    """Refuse what redis-py would choke on later, without echoing secrets."""
    if not isinstance(url, str):
        raise ConfigError("url", f"must be a string, got {type(url).__name__}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (parsing the port is the check)
    except ValueError:
        raise ConfigError("url", "not a Redis URL: the port is not a number") from None
    if parts.scheme not in _SCHEMES:
        raise ConfigError(
            "url", "not a Redis URL: it must start with redis://, rediss:// or unix://"
        )


def _without_password(url: str) -> str:
    """``url`` with any password (userinfo or query) replaced, for messages."""
    try:
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES:
            return "<redis url>"
        url = mask_query(url, ("password",))
        parts = urlsplit(url)
    except ValueError:
        return "<redis url>"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))
