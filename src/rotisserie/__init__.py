"""
rotisserie: one pool for many API keys of one vendor.

It hands each request a key, spreads load so no key trips its limit, rotates
on 429, learns limits from response headers, retires revoked keys, and plugs
into ``requests``, ``httpx`` and ``aiohttp``.
"""

from __future__ import annotations

import logging

from ._async_pool import AsyncKeyPool
from ._config import AuthConfig, KeyConfig, RetryConfig, Window
from ._env import load_keyconfigs_from_env
from ._key import KeyState
from ._lease import Lease, LeaseStatus
from ._pool import KeyPool
from ._snapshot import EndpointSnapshot, KeySnapshot, PoolSnapshot
from .errors import (
    ConfigError,
    ForeignKeyError,
    NoKeyAvailable,
    PoolClosed,
    ResultAlreadyReported,
    RotisserieError,
    StateBackendError,
    WouldBlockError,
)

__all__ = [
    "AsyncKeyPool",
    "AuthConfig",
    "ConfigError",
    "EndpointSnapshot",
    "ForeignKeyError",
    "KeyConfig",
    "KeyPool",
    "KeySnapshot",
    "KeyState",
    "Lease",
    "LeaseStatus",
    "NoKeyAvailable",
    "PoolClosed",
    "PoolSnapshot",
    "ResultAlreadyReported",
    "RetryConfig",
    "RotisserieError",
    "StateBackendError",
    "Window",
    "WouldBlockError",
    "load_keyconfigs_from_env",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
