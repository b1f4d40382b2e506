"""
The ``rotisserie`` command line (needs the ``[cli]`` extra).

Each subcommand lives in its own ``_cli_*`` module and is attached to
:func:`main` here with ``main.add_command``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import click

from ._cli_demo import demo
from ._cli_keys import keys

__all__ = ["main"]


def _version() -> str:
    # A source checkout that was never installed has no metadata to read.
    try:
        return version("rotisserie")
    except PackageNotFoundError:
        return "0+unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    _version(), prog_name="rotisserie", message="%(prog)s %(version)s"
)
def main() -> None:
    """
    Inspect and exercise rotisserie API-key pools.
    """


main.add_command(demo)
main.add_command(keys)
