"""The simulator's validated options for authentication and answers."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from rotisserie.errors import ConfigError
from rotisserie.testing._headers import RATE_HEADER_STYLES, RetryAfterStyle

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """
    How the simulated vendor reads keys and shapes its answers.

    See :class:`rotisserie.testing.Simulator` for the meaning of each field.
    """

    auth_header: str | None
    auth_scheme: str
    query_param: str | None
    retry_after: RetryAfterStyle | None
    rate_headers: frozenset[str]
    latency: float

    @classmethod
    def build(
        cls,
        *,
        auth_header: str | None,
        auth_scheme: str,
        query_param: str | None,
        retry_after: RetryAfterStyle | None,
        rate_headers: Collection[str] | str,
        latency: float,
    ) -> Settings:
        """
        Validate the options and freeze them.

        Raises:
            ConfigError: naming the first invalid option.
        """
        _check_name("auth_header", auth_header)
        _check_name("query_param", query_param)
        if auth_header is None and query_param is None:
            raise ConfigError("auth_header", "and query_param cannot both be None")
        if not _is_word(auth_scheme):
            raise ConfigError(
                "auth_scheme", f"must be one word or '', got {auth_scheme!r}"
            )
        if retry_after not in ("seconds", "date", None):
            raise ConfigError(
                "retry_after", f"must be 'seconds', 'date' or None, got {retry_after!r}"
            )
        return cls(
            auth_header=auth_header,
            auth_scheme=auth_scheme,
            query_param=query_param,
            retry_after=retry_after,
            rate_headers=_styles(rate_headers),
            latency=_latency(latency),
        )


def _is_word(value: object) -> bool:
    # Checked at run time as well as by type checkers: callers may be untyped.
    return isinstance(value, str) and " " not in value


def _check_name(field: str, value: object) -> None:
    if value is not None and not (_is_word(value) and value):
        raise ConfigError(field, f"must be a non-empty string or None, got {value!r}")


def _styles(styles: Collection[str] | str) -> frozenset[str]:
    # A lone name is accepted; iterating it would yield single letters.
    chosen = frozenset((styles,) if isinstance(styles, str) else styles)
    unknown = chosen - RATE_HEADER_STYLES
    if unknown:
        raise ConfigError(
            "rate_headers",
            f"unknown styles {sorted(unknown)}; choose from {sorted(RATE_HEADER_STYLES)}",
        )
    return chosen


def _latency(latency: float) -> float:
    if isinstance(latency, bool) or not isinstance(latency, int | float):
        raise ConfigError("latency", f"must be a number of seconds, got {latency!r}")
    if not math.isfinite(latency) or latency < 0:
        raise ConfigError(
            "latency", f"must be finite and not negative, got {latency!r}"
        )
    return float(latency)
