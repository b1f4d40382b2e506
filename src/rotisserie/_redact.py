"""The single place where secrets are masked before they can be shown."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"


def fingerprint(token: str) -> str:
    """Return a short, stable, non-reversible label for a token."""
    digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest[:10]}"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret in ``text`` with the mask."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def mask_query(url: str, params: Iterable[str]) -> str:
    """Return ``url`` with the values of the named query parameters masked."""
    names = set(params)
    parts = urlsplit(url)
    if not parts.query or not names:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    masked = [(k, MASK if k in names else v) for k, v in pairs]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="*")))
