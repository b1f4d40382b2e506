"""
``rotisserie keys``: show which keys the environment provides, never the tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._env import KeyDiscovery, discover_keys
from ._redact import fingerprint
from .errors import ConfigError

__all__ = ["keys"]

#: Exit code when no key was found.
EXIT_NOTHING_FOUND = 1
#: Exit code for a configuration error (click uses 2 for usage errors too).
EXIT_CONFIG_ERROR = 2

# Widest table worth printing unwrapped to a pipe, in columns.
_WIDEST = 1000


@click.command()
@click.option(
    "--prefix", metavar="P", help="Read every variable whose name starts with P."
)
@click.option(
    "--name",
    "names",
    metavar="NAME",
    multiple=True,
    help="Read this variable; repeat for several. Use instead of --prefix.",
)
@click.option(
    "--env-file",
    type=click.Path(path_type=Path),
    help="Also read this .env file; the environment wins for the same variable.",
)
@click.option("--lower/--no-lower", default=False, help="Lowercase key names.")
@click.option(
    "--split-commas",
    is_flag=True,
    help="Read several comma-separated tokens per variable.",
)
@click.option("--strip-prefix", is_flag=True, help="Drop the prefix from key names.")
def keys(
    prefix: str | None,
    names: tuple[str, ...],
    env_file: Path | None,
    lower: bool,
    split_commas: bool,
    strip_prefix: bool,
) -> None:
    """
    List the keys found in the environment and an optional .env file.

    Shows each key's name, variable, source and a fingerprint of its token,
    and flags keys that share a token. Exits with 1 when no key is found and
    with 2 on a configuration error.
    """
    if (prefix is None) == (not names):
        raise click.UsageError("pass either --prefix or at least one --name")
    try:
        discovery = discover_keys(
            names or None,
            prefix=prefix,
            env_path=env_file,
            to_lower_names=lower,
            split_commas=split_commas,
            strip_prefix=strip_prefix,
        )
    except ConfigError as exc:
        _fail(f"error: {exc}", EXIT_CONFIG_ERROR)

    if not discovery.keys:
        _fail(_nothing_found(discovery), EXIT_NOTHING_FOUND)
    _print_table(discovery)
    _report(discovery)


def _print_table(discovery: KeyDiscovery) -> None:
    table = Table("name", "variable", "source", "fingerprint", "duplicate")
    for key in discovery.keys:
        shared = ", ".join(key.shares_token_with)
        table.add_row(
            # Text, not str: rich would read "[...]" in a name as markup.
            Text(key.name),
            Text(key.variable),
            Text(key.source),
            Text(fingerprint(key.config.token)),
            Text(f"yes ({shared})" if shared else "no"),
        )
    console = Console()
    if not console.is_terminal:
        # Piped output is read by scripts and grep: widen the table rather
        # than let rich wrap or truncate a cell at the 80-column default.
        unbounded = console.options.update_width(_WIDEST)
        console.width = max(
            console.width, console.measure(table, options=unbounded).maximum
        )
    console.print(table)


def _report(discovery: KeyDiscovery) -> None:
    for variable in discovery.skipped:
        click.echo(f"note: skipped {variable}: it has no value", err=True)
    for group in discovery.duplicates:
        click.echo(
            f"warning: keys {', '.join(group)} share one token; a pool would "
            "count it as several keys",
            err=True,
        )
    try:
        # Duplicates are flagged above; everything else fails as loading would.
        discovery.validate(allow_duplicate_tokens=True)
    except ConfigError as exc:
        _fail(f"error: {exc}", EXIT_CONFIG_ERROR)


def _nothing_found(discovery: KeyDiscovery) -> str:
    where = discovery.where()
    parts = []
    if discovery.names is None:
        parts.append(f"no variable starts with {discovery.prefix!r} in {where}")
    elif discovery.missing:
        parts.append(f"not set in {where}: {', '.join(discovery.missing)}")
    if discovery.skipped:
        parts.append(f"empty: {', '.join(discovery.skipped)}")
    return "no keys found: " + "; ".join(parts)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    raise click.exceptions.Exit(code)
