"""
Adapters that put pooled keys on the requests of HTTP clients.

- :class:`SyncAuth` (``KeyPool.auth()``): an auth for ``requests`` and for
  ``httpx.Client``.
- :class:`AsyncAuth` (``AsyncKeyPool.auth()``): an auth for
  ``httpx.AsyncClient``, and a client middleware, trace config and request
  helpers for ``aiohttp``.
- One module per client (:mod:`.requests`, :mod:`.httpx`, :mod:`.aiohttp`)
  does that client's part and holds its convenience client. Each imports its
  client; nothing here does, so the core works without any of them.

What every adapter does:

- Each request takes a key for the auth's endpoint and is reported to the
  pool exactly once: its status and headers (and, for 401/403/429, the
  first 4 KB of the body, so a revoked key or an exhausted quota is told
  from a plain limit), its transport error, or a release when it never left
  or the caller gave up.
- After a 429, or a 401/403 that says the key is revoked, out of quota or
  limited, the request goes out again at once on another key when its method
  is in ``retry_for_methods``, its body can be sent again and attempts
  remain. Otherwise, or when no key frees in time, the caller gets the last
  answer.
- The key only goes to the origin of the request it was put on: never to a
  redirect target on another host, port or scheme, in a header or the query.
- Tokens never appear in an adapter's ``repr``, in rotisserie's logs, in the
  HTTP clients' own log records (a filter masks them) or in the text of a
  client error that passes through an adapter (masked in place, type kept).

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from .async_auth import AsyncAuth
from .sync_auth import SyncAuth

__all__ = ["AsyncAuth", "SyncAuth"]
