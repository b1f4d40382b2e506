"""Tests for the ``rotisserie`` command group and ``rotisserie keys``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from rotisserie import cli
from rotisserie._redact import fingerprint
from rotisserie.cli import main

SECRET_A = "sk-live-AAAA1111secret"
SECRET_B = "sk-live-BBBB2222secret"


def write_env(tmp_path: Path, text: str) -> Path:
    """Write a .env file under ``tmp_path`` and return its path."""
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


# Variables that make rich treat a pipe as a terminal or fix its width; unset
# so the tests see the plain, widened output a script would see.
RICH_OVERRIDES = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")


def run(args: list[str], env: dict[str, str] | None = None) -> Result:
    """Invoke ``rotisserie`` with ``args`` and extra environment variables."""
    full_env: dict[str, str | None] = dict.fromkeys(RICH_OVERRIDES)
    full_env.update(env or {})
    return CliRunner().invoke(main, args, env=full_env)


def rows(result: Result) -> list[list[str]]:
    """The table's body rows as lists of stripped cell texts."""
    cells = []
    for line in result.stdout.splitlines():
        # Body rows start with a light vertical bar; the header uses a heavy one.
        if line.startswith("│"):
            cells.append([cell.strip() for cell in line.strip("│").split("│")])
    return cells


def test_keys_table_shows_name_variable_source_fingerprint(tmp_path: Path) -> None:
    """Each key is one row with its name, variable, source and fingerprint."""
    path = write_env(tmp_path, f"ROTI_T_A={SECRET_A}\n")

    result = run(
        ["keys", "--prefix", "ROTI_T_", "--env-file", str(path)],
        env={"ROTI_T_B": SECRET_B},
    )

    assert result.exit_code == 0, result.output
    assert rows(result) == [
        ["ROTI_T_A", "ROTI_T_A", "file", fingerprint(SECRET_A), "no"],
        ["ROTI_T_B", "ROTI_T_B", "environment", fingerprint(SECRET_B), "no"],
    ]
    for header in ("name", "variable", "source", "fingerprint", "duplicate"):
        assert header in result.stdout


def test_keys_never_prints_a_token(tmp_path: Path) -> None:
    """Neither stdout nor stderr contains a token, duplicates included."""
    path = write_env(tmp_path, f"ROTI_T_A={SECRET_A}\nROTI_T_C={SECRET_A}\nROTI_T_D=\n")

    result = run(
        ["keys", "--prefix", "ROTI_T_", "--env-file", str(path)],
        env={"ROTI_T_B": SECRET_B},
    )

    assert result.exit_code == 0
    for secret in (SECRET_A, SECRET_B):
        assert secret not in result.stdout
        assert secret not in result.stderr


def test_keys_flags_keys_sharing_a_token(tmp_path: Path) -> None:
    """Keys with one token are flagged in the table and warned about."""
    path = write_env(tmp_path, f"ROTI_T_A={SECRET_A}\nROTI_T_B={SECRET_B}\n")

    result = run(
        ["keys", "--prefix", "ROTI_T_", "--env-file", str(path)],
        env={"ROTI_T_C": SECRET_A},
    )

    assert result.exit_code == 0
    duplicate_column = {row[0]: row[4] for row in rows(result)}
    assert duplicate_column == {
        "ROTI_T_A": "yes (ROTI_T_C)",
        "ROTI_T_B": "no",
        "ROTI_T_C": "yes (ROTI_T_A)",
    }
    assert "keys ROTI_T_A, ROTI_T_C share one token" in result.stderr


def test_keys_applies_naming_flags(tmp_path: Path) -> None:
    """--strip-prefix, --lower and --split-commas name keys as the loader does."""
    path = write_env(tmp_path, "API_KEY_ALPHA=a1,a2\nAPI_KEY_BETA=b1\n")

    result = run(
        [
            "keys",
            "--prefix",
            "API_KEY_",
            "--env-file",
            str(path),
            "--strip-prefix",
            "--lower",
            "--split-commas",
        ]
    )

    assert result.exit_code == 0
    assert [row[:2] for row in rows(result)] == [
        ["alpha_1", "API_KEY_ALPHA"],
        ["alpha_2", "API_KEY_ALPHA"],
        ["beta", "API_KEY_BETA"],
    ]


def test_keys_by_name(tmp_path: Path) -> None:
    """--name reads the listed variables in the order given."""
    result = run(
        ["keys", "--name", "ROTI_T_Z", "--name", "ROTI_T_Y"],
        env={"ROTI_T_Y": "y-token", "ROTI_T_Z": "z-token"},
    )

    assert result.exit_code == 0
    assert [row[0] for row in rows(result)] == ["ROTI_T_Z", "ROTI_T_Y"]


def test_keys_notes_skipped_variables(tmp_path: Path) -> None:
    """Empty variables are reported on stderr by name."""
    path = write_env(tmp_path, "ROTI_T_A=tok\nROTI_T_B=  # unused\n")

    result = run(["keys", "--prefix", "ROTI_T_", "--env-file", str(path)])

    assert result.exit_code == 0
    assert "skipped ROTI_T_B" in result.stderr


def test_keys_long_names_are_not_wrapped_when_piped() -> None:
    """A name wider than 80 columns stays on one line in non-terminal output."""
    variable = "ROTI_T_" + "X" * 90

    result = run(["keys", "--prefix", "ROTI_T_"], env={variable: "tok"})

    assert result.exit_code == 0
    assert rows(result)[0][:2] == [variable, variable]


def test_keys_nothing_found_exits_1_with_message(tmp_path: Path) -> None:
    """No match is a clear stderr message and exit code 1, not a traceback."""
    path = write_env(tmp_path, "OTHER=x\nROTI_NONE_E=\n")

    result = run(["keys", "--prefix", "ROTI_NONE_", "--env-file", str(path)])

    assert result.exit_code == 1
    assert "no keys found" in result.stderr
    assert "no variable starts with 'ROTI_NONE_'" in result.stderr
    assert str(path) in result.stderr
    assert "empty: ROTI_NONE_E" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_keys_nothing_found_by_name_exits_1() -> None:
    """Listed variables that are all unset also mean nothing was found."""
    result = run(["keys", "--name", "ROTI_NONE_A"])

    assert result.exit_code == 1
    assert (
        "not set in the environment (no env file given): ROTI_NONE_A" in result.stderr
    )


def test_keys_missing_env_file_exits_2(tmp_path: Path) -> None:
    """A ConfigError becomes its message on stderr and exit code 2."""
    path = tmp_path / "absent.env"

    result = run(["keys", "--prefix", "ROTI_T_", "--env-file", str(path)])

    assert result.exit_code == 2
    assert "error: env_path: file not found" in result.stderr
    assert str(path) in result.stderr
    assert "Traceback" not in result.output


def test_keys_missing_named_variable_exits_2_after_the_table() -> None:
    """Found keys are listed, then the unset variable fails the command."""
    result = run(
        ["keys", "--name", "ROTI_T_A", "--name", "ROTI_T_B"], env={"ROTI_T_A": SECRET_A}
    )

    assert result.exit_code == 2
    assert [row[0] for row in rows(result)] == ["ROTI_T_A"]
    assert "variable ROTI_T_B is not set" in result.stderr
    assert SECRET_A not in result.output


def test_keys_name_clash_exits_2() -> None:
    """Two variables that would give one key name are a configuration error."""
    result = run(
        ["keys", "--prefix", "ROTI_T_", "--lower"],
        env={"ROTI_T_K": SECRET_A, "ROTI_T_k": SECRET_B},
    )

    assert result.exit_code == 2
    assert "'roti_t_k'" in result.stderr
    assert SECRET_A not in result.output
    assert SECRET_B not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["keys"],
        ["keys", "--prefix", "ROTI_T_", "--name", "ROTI_T_A"],
    ],
)
def test_keys_needs_exactly_one_of_prefix_and_name(args: list[str]) -> None:
    """Neither or both selectors is a usage error (exit 2)."""
    result = run(args)

    assert result.exit_code == 2
    assert "pass either --prefix or at least one --name" in result.stderr


def test_version_option_prints_the_version() -> None:
    """--version prints the program name and the package version."""
    result = run(["--version"])

    assert result.exit_code == 0
    assert result.stdout.strip() == f"rotisserie {cli._version()}"


def test_version_falls_back_when_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """An uninstalled checkout reports ``0+unknown``."""

    def not_installed(name: str) -> str:
        raise PackageNotFoundError(name)

    monkeypatch.setattr(cli, "version", not_installed)

    assert cli._version() == "0+unknown"


def test_main_is_a_group_listing_keys() -> None:
    """The group lists its subcommands so others can be added beside keys."""
    result = run(["--help"])

    assert isinstance(main, click.Group)
    assert result.exit_code == 0
    assert "keys" in result.stdout
