"""The HTTP-verb shortcuts every convenience client offers, written once."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

__all__ = ["AsyncVerbs", "Verbs"]

R = TypeVar("R")


class Verbs(Generic[R]):
    """``get``, ``post``, ... over a client's own ``request`` method."""

    def request(self, method: str, url: str, **kwargs: Any) -> R:
        """Send a request; each client says what it takes and returns."""
        raise NotImplementedError

    def get(self, url: str, **kwargs: Any) -> R:
        """Send a GET request."""
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> R:
        """Send a HEAD request."""
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> R:
        """Send an OPTIONS request."""
        return self.request("OPTIONS", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> R:
        """Send a POST request."""
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> R:
        """Send a PUT request."""
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> R:
        """Send a PATCH request."""
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> R:
        """Send a DELETE request."""
        return self.request("DELETE", url, **kwargs)


class AsyncVerbs(Generic[R]):
    """The awaitable ``get``, ``post``, ... over an async ``request`` method."""

    async def request(self, method: str, url: str, **kwargs: Any) -> R:
        """Send a request; each client says what it takes and returns."""
        raise NotImplementedError

    async def get(self, url: str, **kwargs: Any) -> R:
        """Send a GET request."""
        return await self.request("GET", url, **kwargs)

    async def head(self, url: str, **kwargs: Any) -> R:
        """Send a HEAD request."""
        return await self.request("HEAD", url, **kwargs)

    async def options(self, url: str, **kwargs: Any) -> R:
        """Send an OPTIONS request."""
        return await self.request("OPTIONS", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> R:
        """Send a POST request."""
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> R:
        """Send a PUT request."""
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> R:
        """Send a PATCH request."""
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> R:
        """Send a DELETE request."""
        return await self.request("DELETE", url, **kwargs)
