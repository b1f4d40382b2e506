"""The base class of both auths: ``httpx.Auth`` when httpx is installed."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["AuthBase"]

if TYPE_CHECKING:
    from httpx import Auth as AuthBase
else:
    try:
        # Being an httpx.Auth is what makes httpx call the auth flow instead
        # of treating the object as a plain callable; without httpx installed
        # the auths are plain objects and serve the other clients alone.
        from httpx import Auth as AuthBase
    except ImportError:
        AuthBase = object
