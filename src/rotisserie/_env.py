"""
Keys from environment variables and ``.env`` files.

:func:`load_keyconfigs_from_env` is what ``KeyPool.from_env`` calls; it fails
on anything suspicious. :func:`discover_keys` does the same discovery but
records empty variables, missing names and shared tokens instead of failing on
them, so that ``rotisserie keys`` can show them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values

from ._config import KeyConfig, WindowSpec
from .errors import ConfigError

__all__ = [
    "FoundKey",
    "KeyDiscovery",
    "KeySource",
    "discover_keys",
    "load_keyconfigs_from_env",
]

# The documented logger name, kept apart from this private module's name so a
# rename of the module cannot break users' logging configuration.
logger = logging.getLogger("rotisserie.env")

#: Where a key's value came from.
KeySource = Literal["environment", "file"]


@dataclass(frozen=True)
class FoundKey:
    """
    One key found by :func:`discover_keys`.

    Attributes:
        config: the key, named by the naming rules of :func:`discover_keys`.
        variable: the variable that held the token.
        source: ``"environment"`` or ``"file"`` (the ``.env`` file).
        shares_token_with: names of the other found keys whose token is the
            same as this one's, in discovery order; empty when the token is
            unique.
    """

    config: KeyConfig
    variable: str
    source: KeySource
    shares_token_with: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """
        The key's name, the same as ``config.name``.
        """
        return self.config.name


@dataclass(frozen=True)
class KeyDiscovery:
    """
    What :func:`discover_keys` found, and what it passed over.

    Attributes:
        keys: the keys, ordered as described in :func:`discover_keys`.
        skipped: variables that were set but held no token (empty, blank or,
            with ``split_commas``, only commas), in the order examined.
        missing: with ``names``, the listed variables that were not set at
            all; always empty with ``prefix``.
        names: the ``names`` argument as a tuple, or ``None``.
        prefix: the ``prefix`` argument, or ``None``.
        env_path: the ``.env`` file that was read, or ``None``.
    """

    keys: list[FoundKey]
    skipped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    names: tuple[str, ...] | None = None
    prefix: str | None = None
    env_path: Path | None = None

    @property
    def duplicates(self) -> list[tuple[str, ...]]:
        """
        Groups of key names that share one token, in discovery order.
        """
        groups: list[tuple[str, ...]] = []
        seen: set[str] = set()
        for key in self.keys:
            if key.shares_token_with and key.name not in seen:
                group = (key.name, *key.shares_token_with)
                groups.append(group)
                seen.update(group)
        return groups

    def where(self) -> str:
        """
        Where the discovery looked, in words: for messages.
        """
        if self.env_path is None:
            return "the environment (no env file given)"
        return f"the environment or {os.fspath(self.env_path)}"

    def validate(self, *, allow_duplicate_tokens: bool = False) -> None:
        """
        Raise the error :func:`load_keyconfigs_from_env` would raise.

        Args:
            allow_duplicate_tokens: do not fail on keys that share a token.

        Raises:
            ConfigError: a listed variable is missing or empty, no key was
                found, or (unless allowed) two keys share a token.
        """
        if self.names is not None:
            self._check_named()
        if not self.keys:
            raise ConfigError("prefix", self._nothing_found())
        if not allow_duplicate_tokens and self.duplicates:
            group = self.duplicates[0]
            raise ConfigError(
                "token",
                f"keys {_quoted(group)} have the same token; one token listed "
                "twice would be used as two keys and double its apparent capacity",
            )

    def _check_named(self) -> None:
        if self.missing:
            raise ConfigError(
                "names", f"variable {self.missing[0]} is not set in {self.where()}"
            )
        if self.skipped:
            raise ConfigError("names", f"variable {self.skipped[0]} is empty")

    def _nothing_found(self) -> str:
        message = f"no variable starts with {self.prefix!r} in {self.where()}"
        if self.skipped:
            message = (
                f"every variable starting with {self.prefix!r} in {self.where()} "
                f"is empty: {', '.join(self.skipped)}"
            )
        return message


@dataclass(frozen=True)
class _Variable:
    # One variable to turn into keys; ``value`` is None for a bare ``NAME``
    # line in a .env file, which python-dotenv reports without a value.
    name: str
    value: str | None
    source: KeySource


def discover_keys(
    names: Sequence[str] | None = None,
    *,
    prefix: str | None = None,
    env_path: str | os.PathLike[str] | None = None,
    per_window: WindowSpec | None = None,
    max_in_flight: int | None = None,
    environ: Mapping[str, str] | None = None,
    to_lower_names: bool = False,
    split_commas: bool = False,
    strip_prefix: bool = False,
) -> KeyDiscovery:
    """
    Find keys in the environment and an optional ``.env`` file.

    Takes the same arguments and follows the same rules as
    :func:`load_keyconfigs_from_env`, but records empty variables
    (``skipped``), unset listed variables (``missing``) and shared tokens
    (``FoundKey.shares_token_with``) instead of failing on them. Call
    :meth:`KeyDiscovery.validate` to apply the strict checks afterwards.

    Returns:
        A :class:`KeyDiscovery`.

    Raises:
        ConfigError: invalid arguments, an unreadable ``env_path``, or two
            keys that would get the same name.
    """
    listed = _check_selection(names, prefix, strip_prefix)
    env = os.environ if environ is None else environ
    path = None if env_path is None else Path(env_path)
    file_values = {} if path is None else _read_env_file(path)

    if listed is not None:
        variables, missing = _select_named(listed, env, file_values)
    else:
        assert prefix is not None  # _check_selection guarantees it
        variables, missing = _select_prefixed(prefix, env, file_values), []

    keys: list[FoundKey] = []
    skipped: list[str] = []
    owners: dict[str, str] = {}  # key name -> variable, to report clashes
    for variable in variables:
        tokens = _tokens(variable.value, split_commas)
        if not tokens:
            logger.info("skipping %s: it has no value", variable.name)
            skipped.append(variable.name)
            continue
        base = (
            _strip(variable.name, prefix) if strip_prefix and prefix else variable.name
        )
        if to_lower_names:
            base = base.lower()
        for name, token in zip(_key_names(base, len(tokens)), tokens, strict=True):
            _claim(owners, name, variable.name)
            config = KeyConfig(
                name, token, per_window=per_window, max_in_flight=max_in_flight
            )
            keys.append(FoundKey(config, variable.name, variable.source))
            logger.debug(
                "found key %s in %s (%s)", name, variable.name, variable.source
            )

    return KeyDiscovery(
        keys=_mark_shared_tokens(keys),
        skipped=skipped,
        missing=missing,
        names=listed,
        prefix=prefix,
        env_path=path,
    )


def load_keyconfigs_from_env(
    names: Sequence[str] | None = None,
    *,
    prefix: str | None = None,
    env_path: str | os.PathLike[str] | None = None,
    per_window: WindowSpec | None = None,
    max_in_flight: int | None = None,
    environ: Mapping[str, str] | None = None,
    to_lower_names: bool = False,
    split_commas: bool = False,
    strip_prefix: bool = False,
) -> list[KeyConfig]:
    """
    Build key configs from environment variables and an optional ``.env`` file.

    Selecting variables:

    - Pass exactly one of ``names`` (the variables to read, in that order) or
      ``prefix`` (every variable whose name starts with it, case-sensitively,
      sorted by variable name). An empty prefix is an error.
    - With ``env_path`` the file is parsed by python-dotenv: quotes,
      ``export``, comments, escapes and inline ``# comments`` work as in a
      shell. ``${VAR}`` is not expanded, so a token is taken literally. A
      missing or unreadable file is an error; without ``env_path`` no file is
      read, not even ``./.env``.
    - A variable set in the real environment wins over the file, even when it
      is set to an empty string. ``os.environ`` is never modified.

    Values and tokens:

    - Whitespace around a token is stripped. A variable whose value is empty
      or blank is skipped and logged at INFO on the ``rotisserie.env`` logger
      by variable name; with ``names`` it is an error instead.
    - With ``split_commas`` a value is split on ``,``; each piece is
      stripped, empty pieces are dropped, and tokens keep the order written.

    Key names:

    - A key is named after its variable: minus the prefix with
      ``strip_prefix`` (which needs ``prefix``), then lowercased with
      ``to_lower_names``.
    - With ``split_commas``, a variable holding one token gives one key with
      that name; a variable holding ``n > 1`` tokens gives ``<name>_1`` to
      ``<name>_n``. So ``API_KEY_ALPHA=a1,a2`` and ``API_KEY_BETA=b1`` with
      ``prefix="API_KEY_"``, ``strip_prefix`` and ``to_lower_names`` give
      ``alpha_1``, ``alpha_2`` and ``beta``.
    - Two keys with the same name are an error, and so is one token under two
      names, because a key listed twice doubles its apparent capacity.

    Errors and logs name variables, keys and the file, never a token.

    Args:
        names: the variables to read; use either this or ``prefix``.
        prefix: read every variable starting with this.
        env_path: a ``.env`` file to read as well as the environment.
        per_window: passed to every :class:`KeyConfig`.
        max_in_flight: passed to every :class:`KeyConfig`.
        environ: the environment to read instead of ``os.environ``.
        to_lower_names: lowercase the key names.
        split_commas: read several comma-separated tokens per variable.
        strip_prefix: drop ``prefix`` from the front of the key names.

    Returns:
        The key configs, in the order described above.

    Raises:
        ConfigError: on any rule above; ``field`` names the argument
            (``names``, ``prefix``, ``env_path``, ``strip_prefix``) or
            ``name`` / ``token`` for clashes between keys.
    """
    discovery = discover_keys(
        names,
        prefix=prefix,
        env_path=env_path,
        per_window=per_window,
        max_in_flight=max_in_flight,
        environ=environ,
        to_lower_names=to_lower_names,
        split_commas=split_commas,
        strip_prefix=strip_prefix,
    )
    discovery.validate()
    return [key.config for key in discovery.keys]


def _check_selection(
    names: Sequence[str] | None, prefix: str | None, strip_prefix: bool
) -> tuple[str, ...] | None:
    if names is not None and prefix is not None:
        raise ConfigError("names", "pass names= or prefix=, not both")
    if prefix is not None:
        _check_text("prefix", prefix, "must be a non-empty string")
        return None
    if names is None:
        raise ConfigError("names", "pass names= (variables to read) or prefix=")
    if strip_prefix:
        raise ConfigError("strip_prefix", "only applies with prefix=, not names=")
    return _check_names(names)


def _check_names(names: object) -> tuple[str, ...]:
    # A bare string is a sequence of one-letter names: almost surely a mistake;
    # a set has no order, and the order of names= is the order of the keys.
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ConfigError(
            "names",
            f"must be a list or tuple of variable names, got {type(names).__name__}",
        )
    if not names:
        raise ConfigError("names", "must list at least one variable")
    seen: set[str] = set()
    for name in names:
        _check_text("names", name, "variable names must be non-empty strings")
        if name in seen:
            raise ConfigError("names", f"variable {name} is listed twice")
        seen.add(name)
    return tuple(names)


def _check_text(field: str, value: object, message: str) -> None:
    # Typed callers cannot get this wrong; untyped ones can.
    if not isinstance(value, str) or not value:
        raise ConfigError(field, f"{message}, got {value!r}")


def _read_env_file(path: Path) -> dict[str, str | None]:
    # Open the file here rather than in python-dotenv, which silently returns
    # nothing for a missing file.
    try:
        with path.open(encoding="utf-8") as stream:
            # No interpolation: a token containing "${" stays as written, and
            # expansion would read os.environ behind the ``environ`` argument.
            return dict(dotenv_values(stream=stream, interpolate=False))
    except FileNotFoundError:
        raise ConfigError("env_path", f"file not found: {os.fspath(path)}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            "env_path", f"{os.fspath(path)} is not UTF-8 (byte {exc.start})"
        ) from None
    except OSError as exc:
        raise ConfigError(
            "env_path",
            f"cannot read {os.fspath(path)}: {exc.strerror or type(exc).__name__}",
        ) from None


def _select_named(
    names: Iterable[str], env: Mapping[str, str], file_values: Mapping[str, str | None]
) -> tuple[list[_Variable], list[str]]:
    variables: list[_Variable] = []
    missing: list[str] = []
    for name in names:
        variable = _lookup(name, env, file_values)
        if variable is None:
            missing.append(name)
        else:
            variables.append(variable)
    return variables, missing


def _select_prefixed(
    prefix: str, env: Mapping[str, str], file_values: Mapping[str, str | None]
) -> list[_Variable]:
    matching = {name for name in (*env, *file_values) if name.startswith(prefix)}
    found = (_lookup(name, env, file_values) for name in sorted(matching))
    return [variable for variable in found if variable is not None]


def _lookup(
    name: str, env: Mapping[str, str], file_values: Mapping[str, str | None]
) -> _Variable | None:
    # The environment wins even when empty: that is how a deployment switches
    # off a key that a checked-in .env file provides (and what load_dotenv does).
    if name in env:
        return _Variable(name, env[name], "environment")
    if name in file_values:
        return _Variable(name, file_values[name], "file")
    return None


def _tokens(value: str | None, split_commas: bool) -> list[str]:
    if value is None:
        return []
    pieces = value.split(",") if split_commas else [value]
    return [piece.strip() for piece in pieces if piece.strip()]


def _strip(variable: str, prefix: str) -> str:
    rest = variable[len(prefix) :]
    if not rest:
        raise ConfigError(
            "strip_prefix",
            f"variable {variable} is exactly the prefix; its key would have no name",
        )
    return rest


def _key_names(base: str, count: int) -> list[str]:
    if count == 1:
        return [base]
    return [f"{base}_{index}" for index in range(1, count + 1)]


def _claim(owners: dict[str, str], name: str, variable: str) -> None:
    previous = owners.setdefault(name, variable)
    if previous != variable:
        raise ConfigError(
            "name", f"key name {name!r} comes from both {previous} and {variable}"
        )


def _mark_shared_tokens(keys: list[FoundKey]) -> list[FoundKey]:
    by_token: dict[str, list[str]] = {}
    for key in keys:
        by_token.setdefault(key.config.token, []).append(key.name)
    marked = []
    for key in keys:
        group = by_token[key.config.token]
        others = tuple(name for name in group if name != key.name)
        marked.append(FoundKey(key.config, key.variable, key.source, others))
    return marked


def _quoted(names: Iterable[str]) -> str:
    return " and ".join(repr(name) for name in names)
