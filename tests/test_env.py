"""Tests for keys loaded from the environment and .env files."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rotisserie._config import KeyConfig, Window
from rotisserie._env import (
    FoundKey,
    KeyDiscovery,
    discover_keys,
    load_keyconfigs_from_env,
)
from rotisserie.errors import ConfigError

# Distinctive tokens, so a leak into a message or log line cannot hide.
SECRET_A = "sk-live-AAAA1111secret"
SECRET_B = "sk-live-BBBB2222secret"


def write_env(tmp_path: Path, text: str, name: str = ".env") -> Path:
    """Write ``text`` to a .env file under ``tmp_path`` and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def tokens(configs: list[KeyConfig]) -> list[str]:
    """The tokens of ``configs`` in order."""
    return [config.token for config in configs]


def names(configs: list[KeyConfig]) -> list[str]:
    """The names of ``configs`` in order."""
    return [config.name for config in configs]


# Field cases from the brief.


def test_prefix_reads_export_lines_from_env_file_c14(tmp_path: Path) -> None:
    """C14: ``export`` lines, quoted or not, give one key each."""
    path = write_env(tmp_path, "export APP_K1=sk-aaa\nexport APP_K2='sk-bbb'\n")

    configs = load_keyconfigs_from_env(prefix="APP_", env_path=path, environ={})

    assert names(configs) == ["APP_K1", "APP_K2"]
    assert tokens(configs) == ["sk-aaa", "sk-bbb"]


def test_prefix_inline_comments_stripped_and_empty_value_skipped_c15(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """C15: inline comments are not part of a token; an empty value is skipped and logged."""
    path = write_env(
        tmp_path,
        "APP_K1=sk-aaa # primary\nAPP_K2='sk-bbb'  # backup\nAPP_K3=  # unused\n",
    )
    caplog.set_level(logging.INFO, logger="rotisserie.env")

    discovery = discover_keys(prefix="APP_", env_path=path, environ={})
    configs = load_keyconfigs_from_env(prefix="APP_", env_path=path, environ={})

    assert tokens(configs) == ["sk-aaa", "sk-bbb"]
    assert [key.variable for key in discovery.keys] == ["APP_K1", "APP_K2"]
    assert discovery.skipped == ["APP_K3"]
    skipped_logs = [
        r
        for r in caplog.records
        if r.name == "rotisserie.env" and r.levelno == logging.INFO
    ]
    assert skipped_logs
    assert all("APP_K3" in r.getMessage() for r in skipped_logs)


# Sources and precedence.


def test_environment_wins_over_file_for_same_variable(tmp_path: Path) -> None:
    """A variable set in both places takes the environment's value and source."""
    path = write_env(tmp_path, "APP_K1=from-file\nAPP_K2=only-file\n")

    discovery = discover_keys(
        prefix="APP_", env_path=path, environ={"APP_K1": "from-env"}
    )

    found = {key.variable: (key.config.token, key.source) for key in discovery.keys}
    assert found == {
        "APP_K1": ("from-env", "environment"),
        "APP_K2": ("only-file", "file"),
    }


def test_environment_empty_value_overrides_file(tmp_path: Path) -> None:
    """An empty variable in the environment switches off the file's value."""
    path = write_env(tmp_path, "APP_K1=from-file\nAPP_K2=other\n")

    discovery = discover_keys(prefix="APP_", env_path=path, environ={"APP_K1": ""})

    assert [key.variable for key in discovery.keys] == ["APP_K2"]
    assert discovery.skipped == ["APP_K1"]


def test_load_leaves_os_environ_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a .env file never writes to ``os.environ``."""
    monkeypatch.setenv("ROTI_T_ENV", "env-token")
    path = write_env(tmp_path, "ROTI_T_FILE=file-token\nROTI_T_ENV=shadowed\n")
    before = dict(os.environ)

    configs = load_keyconfigs_from_env(prefix="ROTI_T_", env_path=path)

    assert dict(os.environ) == before
    assert "ROTI_T_FILE" not in os.environ
    assert tokens(configs) == ["env-token", "file-token"]


def test_default_environ_is_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``environ`` the real environment is read, with no file."""
    monkeypatch.setenv("ROTI_T_ONE", "tok-1")

    discovery = discover_keys(["ROTI_T_ONE"])

    assert discovery.keys[0].source == "environment"
    assert discovery.env_path is None


def test_env_path_accepts_str_and_path(tmp_path: Path) -> None:
    """``env_path`` may be a string or a path-like object."""
    path = write_env(tmp_path, "APP_K1=tok\n")

    from_str = load_keyconfigs_from_env(prefix="APP_", env_path=str(path), environ={})
    from_path = load_keyconfigs_from_env(prefix="APP_", env_path=path, environ={})

    assert tokens(from_str) == tokens(from_path) == ["tok"]


# Parsing details left to python-dotenv, and what we add.


def test_env_file_quotes_escapes_and_comments(tmp_path: Path) -> None:
    """Double-quote escapes apply, full-line comments are ignored."""
    path = write_env(
        tmp_path,
        '# keys for staging\nAPP_K1="sk-\\"quoted\\""\nAPP_K2=\'sk-#not-comment\'\n',
    )

    configs = load_keyconfigs_from_env(prefix="APP_", env_path=path, environ={})

    assert tokens(configs) == ['sk-"quoted"', "sk-#not-comment"]


def test_env_file_does_not_interpolate(tmp_path: Path) -> None:
    """A ``${VAR}`` in a value stays literal: tokens are never expanded."""
    path = write_env(tmp_path, "APP_K1=sk-${HOME}-x\n")

    configs = load_keyconfigs_from_env(prefix="APP_", env_path=path, environ={})

    assert tokens(configs) == ["sk-${HOME}-x"]


def test_env_file_bare_variable_is_skipped(tmp_path: Path) -> None:
    """A name with no ``=`` counts as an empty variable."""
    path = write_env(tmp_path, "APP_K1\nAPP_K2=tok\n")

    discovery = discover_keys(prefix="APP_", env_path=path, environ={})

    assert discovery.skipped == ["APP_K1"]
    assert [key.variable for key in discovery.keys] == ["APP_K2"]


def test_env_file_unparsable_line_is_dropped_without_leaking(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """python-dotenv drops a broken line and warns by line number only."""
    path = write_env(tmp_path, f'APP_A="{SECRET_A}\nAPP_B=ok\n')
    caplog.set_level(logging.DEBUG)

    configs = load_keyconfigs_from_env(prefix="APP_", env_path=path, environ={})

    assert tokens(configs) == ["ok"]
    assert any("line 1" in r.getMessage() for r in caplog.records)
    assert all(SECRET_A not in r.getMessage() for r in caplog.records)


def test_whitespace_around_token_is_stripped() -> None:
    """Surrounding whitespace is not part of a token; blank counts as empty."""
    discovery = discover_keys(
        prefix="APP_", environ={"APP_K1": "  tok \n", "APP_K2": "   "}
    )

    assert [key.config.token for key in discovery.keys] == ["tok"]
    assert discovery.skipped == ["APP_K2"]


def test_prefix_orders_by_variable_name(tmp_path: Path) -> None:
    """Prefix matches are sorted by variable name, wherever they came from."""
    path = write_env(tmp_path, "APP_B=b\nAPP_D=d\n")

    configs = load_keyconfigs_from_env(
        prefix="APP_", env_path=path, environ={"APP_C": "c", "APP_A": "a", "OTHER": "x"}
    )

    assert names(configs) == ["APP_A", "APP_B", "APP_C", "APP_D"]


def test_prefix_is_case_sensitive() -> None:
    """``app_`` does not match ``APP_K1``."""
    with pytest.raises(ConfigError, match="no variable starts with 'app_'"):
        load_keyconfigs_from_env(prefix="app_", environ={"APP_K1": "tok"})


def test_names_keep_the_given_order() -> None:
    """With ``names`` the keys come in the order the caller listed."""
    environ = {"K_A": "a", "K_B": "b", "K_C": "c"}

    configs = load_keyconfigs_from_env(["K_C", "K_A"], environ=environ)

    assert names(configs) == ["K_C", "K_A"]


def test_to_lower_names_lowercases_key_names() -> None:
    """``to_lower_names`` lowercases names; variables keep their case."""
    discovery = discover_keys(
        prefix="APP_", environ={"APP_K1": "t"}, to_lower_names=True
    )

    assert discovery.keys[0].name == "app_k1"
    assert discovery.keys[0].variable == "APP_K1"


def test_strip_prefix_drops_the_prefix() -> None:
    """``strip_prefix`` removes exactly the prefix from the key name."""
    configs = load_keyconfigs_from_env(
        prefix="APP_", environ={"APP_Main": "t"}, strip_prefix=True
    )

    assert names(configs) == ["Main"]


def test_split_commas_numbers_several_tokens_from_one() -> None:
    """Several tokens get ``_1``, ``_2``...; pieces are stripped and empty ones dropped."""
    configs = load_keyconfigs_from_env(
        prefix="APP_", environ={"APP_K": " t1 , ,t2,, t3 ,"}, split_commas=True
    )

    assert names(configs) == ["APP_K_1", "APP_K_2", "APP_K_3"]
    assert tokens(configs) == ["t1", "t2", "t3"]


def test_split_commas_single_token_keeps_plain_name() -> None:
    """One token in a variable gives the plain name, even with a stray comma."""
    configs = load_keyconfigs_from_env(
        prefix="APP_", environ={"APP_K": "t1,"}, split_commas=True
    )

    assert names(configs) == ["APP_K"]


def test_split_commas_only_commas_is_skipped() -> None:
    """A value of only commas and blanks holds no token."""
    discovery = discover_keys(
        prefix="APP_", environ={"APP_K": " , ,", "APP_J": "t"}, split_commas=True
    )

    assert discovery.skipped == ["APP_K"]


def test_without_split_commas_a_comma_is_part_of_the_token() -> None:
    """Commas are only separators when asked for."""
    configs = load_keyconfigs_from_env(prefix="APP_", environ={"APP_K": "a,b"})

    assert tokens(configs) == ["a,b"]


def test_seed_example_gives_documented_names(tmp_path: Path) -> None:
    """The docstring's example: ``alpha_1``, ``alpha_2`` and ``beta``."""
    path = write_env(tmp_path, "API_KEY_ALPHA=a1,a2\nAPI_KEY_BETA=b1\n")

    configs = load_keyconfigs_from_env(
        prefix="API_KEY_",
        env_path=path,
        environ={},
        strip_prefix=True,
        to_lower_names=True,
        split_commas=True,
    )

    assert [(c.name, c.token) for c in configs] == [
        ("alpha_1", "a1"),
        ("alpha_2", "a2"),
        ("beta", "b1"),
    ]


def test_limits_are_passed_to_every_key() -> None:
    """``per_window`` and ``max_in_flight`` reach each KeyConfig."""
    configs = load_keyconfigs_from_env(
        prefix="APP_",
        environ={"APP_A": "a", "APP_B": "b"},
        per_window=(60, 60.0),
        max_in_flight=3,
    )

    assert all(c.windows == (Window(60, 60.0),) for c in configs)
    assert all(c.max_in_flight == 3 for c in configs)


def test_found_key_repr_masks_the_token() -> None:
    """A FoundKey's repr shows the fingerprint, never the token."""
    discovery = discover_keys(prefix="APP_", environ={"APP_A": SECRET_A})

    assert SECRET_A not in repr(discovery.keys[0])
    assert SECRET_A not in repr(discovery)


# Duplicates.


def test_duplicate_tokens_raise_naming_both_keys() -> None:
    """One token under two variables is refused, naming both keys."""
    environ = {"APP_A": SECRET_A, "APP_B": SECRET_A, "APP_C": SECRET_B}

    with pytest.raises(ConfigError) as info:
        load_keyconfigs_from_env(prefix="APP_", environ=environ)

    assert info.value.field == "token"
    assert "'APP_A'" in str(info.value)
    assert "'APP_B'" in str(info.value)


def test_duplicate_tokens_within_one_variable_raise() -> None:
    """``a,a`` with ``split_commas`` is the same key twice."""
    with pytest.raises(ConfigError, match="'APP_K_1' and 'APP_K_2'"):
        load_keyconfigs_from_env(
            prefix="APP_", environ={"APP_K": "tok,tok"}, split_commas=True
        )


def test_discover_records_duplicate_tokens_instead_of_failing() -> None:
    """discover_keys marks the keys that share a token and groups them."""
    environ = {"APP_A": SECRET_A, "APP_B": SECRET_B, "APP_C": SECRET_A}

    discovery = discover_keys(prefix="APP_", environ=environ)

    shared = {key.name: key.shares_token_with for key in discovery.keys}
    assert shared == {"APP_A": ("APP_C",), "APP_B": (), "APP_C": ("APP_A",)}
    assert discovery.duplicates == [("APP_A", "APP_C")]
    discovery.validate(allow_duplicate_tokens=True)


def test_duplicate_names_after_lowercasing_raise() -> None:
    """Two variables that lowercase to one name are refused, naming the name."""
    with pytest.raises(ConfigError, match="'app_k'") as info:
        load_keyconfigs_from_env(
            prefix="APP_", environ={"APP_K": "a", "APP_k": "b"}, to_lower_names=True
        )

    assert info.value.field == "name"


def test_duplicate_names_from_numbering_raise() -> None:
    """``K=a,b`` and ``K_1=c`` would both name a key ``K_1``."""
    with pytest.raises(
        ConfigError, match="'APP_K_1' comes from both APP_K and APP_K_1"
    ):
        discover_keys(
            prefix="APP_", environ={"APP_K": "a,b", "APP_K_1": "c"}, split_commas=True
        )


# Argument and lookup errors.


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({}, "names", "names= (variables to read) or prefix="),
        ({"names": ["A"], "prefix": "A"}, "names", "not both"),
        ({"prefix": ""}, "prefix", "non-empty string"),
        ({"names": ["A"], "strip_prefix": True}, "strip_prefix", "only applies"),
        ({"names": "APP_K1"}, "names", "list or tuple"),
        ({"names": []}, "names", "at least one"),
        ({"names": ["A", ""]}, "names", "non-empty strings"),
        ({"names": ["A", "A"]}, "names", "variable A is listed twice"),
    ],
)
def test_bad_arguments_raise_config_error_naming_the_argument(
    kwargs: dict[str, object], field: str, fragment: str
) -> None:
    """Each misuse raises ConfigError whose field is the argument at fault."""
    with pytest.raises(ConfigError) as info:
        load_keyconfigs_from_env(environ={"A": "x"}, **kwargs)  # type: ignore[arg-type]

    assert info.value.field == field
    assert fragment in str(info.value)


def test_missing_env_file_names_env_path_and_the_path(tmp_path: Path) -> None:
    """A given but missing file is an error, not an empty file."""
    path = tmp_path / "nope.env"

    with pytest.raises(ConfigError) as info:
        load_keyconfigs_from_env(prefix="APP_", env_path=path, environ={"APP_A": "a"})

    assert info.value.field == "env_path"
    assert str(path) in str(info.value)


def test_env_path_directory_is_an_error(tmp_path: Path) -> None:
    """A directory is not a .env file."""
    with pytest.raises(ConfigError, match="cannot read") as info:
        load_keyconfigs_from_env(prefix="APP_", env_path=tmp_path, environ={})

    assert info.value.field == "env_path"


def test_env_file_not_utf8_is_an_error(tmp_path: Path) -> None:
    """Undecodable bytes are reported by position, not content."""
    path = tmp_path / ".env"
    path.write_bytes(b"APP_A=\xff\xfe\n")

    with pytest.raises(ConfigError, match="not UTF-8"):
        load_keyconfigs_from_env(prefix="APP_", env_path=path, environ={})


def test_named_variable_missing_raises_naming_it(tmp_path: Path) -> None:
    """An unset listed variable is named, with where it was looked for."""
    path = write_env(tmp_path, "K_A=a\n")

    with pytest.raises(ConfigError) as info:
        load_keyconfigs_from_env(["K_A", "K_B"], env_path=path, environ={})

    assert info.value.field == "names"
    assert "K_B is not set" in str(info.value)
    assert str(path) in str(info.value)


def test_named_variable_empty_raises_naming_it() -> None:
    """An empty listed variable is an error with ``names``, not a skip."""
    with pytest.raises(ConfigError, match="variable K_B is empty"):
        load_keyconfigs_from_env(["K_A", "K_B"], environ={"K_A": "a", "K_B": ""})


def test_discover_records_missing_named_variables() -> None:
    """discover_keys lists unset names instead of failing."""
    discovery = discover_keys(["K_A", "K_B"], environ={"K_A": "a"})

    assert discovery.missing == ["K_B"]
    assert [key.name for key in discovery.keys] == ["K_A"]


def test_prefix_matching_nothing_says_where_it_looked(tmp_path: Path) -> None:
    """The error names the prefix, the environment and the file."""
    path = write_env(tmp_path, "OTHER=x\n")

    with pytest.raises(ConfigError) as info:
        load_keyconfigs_from_env(prefix="APP_", env_path=path, environ={})

    message = str(info.value)
    assert info.value.field == "prefix"
    assert "no variable starts with 'APP_'" in message
    assert "the environment" in message
    assert str(path) in message


def test_prefix_matching_nothing_without_file_says_so() -> None:
    """Without ``env_path`` the message says no file was read."""
    with pytest.raises(ConfigError, match=r"the environment \(no env file given\)"):
        load_keyconfigs_from_env(prefix="APP_", environ={})


def test_prefix_with_only_empty_variables_names_them() -> None:
    """Matches that are all empty are listed by name."""
    with pytest.raises(ConfigError, match="is empty: APP_A, APP_B"):
        load_keyconfigs_from_env(prefix="APP_", environ={"APP_A": "", "APP_B": " "})


def test_strip_prefix_on_variable_equal_to_prefix_raises() -> None:
    """Stripping the whole variable name would leave a key with no name."""
    with pytest.raises(ConfigError, match="exactly the prefix") as info:
        load_keyconfigs_from_env(
            prefix="APP_", environ={"APP_": "t"}, strip_prefix=True
        )

    assert info.value.field == "strip_prefix"


def test_invalid_limits_are_reported_by_keyconfig() -> None:
    """Limits are validated by KeyConfig, with its field names."""
    with pytest.raises(ConfigError) as info:
        load_keyconfigs_from_env(prefix="APP_", environ={"APP_A": "a"}, max_in_flight=0)

    assert info.value.field == "max_in_flight"


# No token in any error or log line.


def _duplicate_tokens(path: Path) -> object:
    return load_keyconfigs_from_env(
        prefix="APP_", env_path=path, environ={"APP_B": SECRET_A}
    )


def _named_missing(path: Path) -> object:
    return load_keyconfigs_from_env(["APP_A", "APP_Z"], env_path=path, environ={})


def _duplicate_names(path: Path) -> object:
    return load_keyconfigs_from_env(
        prefix="APP_", env_path=path, environ={"APP_a": SECRET_B}, to_lower_names=True
    )


def _bad_limit(path: Path) -> object:
    return load_keyconfigs_from_env(
        prefix="APP_", env_path=path, environ={}, per_window=(0, 1.0)
    )


def _strip_whole_name(path: Path) -> object:
    return load_keyconfigs_from_env(
        prefix="APP_", env_path=path, environ={"APP_": SECRET_B}, strip_prefix=True
    )


@pytest.mark.parametrize(
    "scenario",
    [
        _duplicate_tokens,
        _named_missing,
        _duplicate_names,
        _bad_limit,
        _strip_whole_name,
    ],
)
def test_errors_and_logs_never_contain_a_token(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    scenario: Callable[[Path], object],
) -> None:
    """No token appears in an exception message or any log record."""
    path = write_env(tmp_path, f"APP_A={SECRET_A}\nAPP_EMPTY=\n")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ConfigError) as info:
        scenario(path)

    texts = [str(info.value), repr(info.value)]
    texts += [record.getMessage() for record in caplog.records]
    for secret in (SECRET_A, SECRET_B):
        assert all(secret not in text for text in texts)


def test_successful_load_logs_no_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Debug logs of found keys name keys and variables only."""
    path = write_env(tmp_path, f"APP_A={SECRET_A}\nAPP_EMPTY=\n")
    caplog.set_level(logging.DEBUG)

    load_keyconfigs_from_env(prefix="APP_", env_path=path, environ={"APP_B": SECRET_B})

    assert caplog.records
    messages = [record.getMessage() for record in caplog.records]
    assert all(SECRET_A not in m and SECRET_B not in m for m in messages)


def test_discovery_types_are_exported() -> None:
    """The module's public names are the documented ones."""
    import rotisserie._env as env_module

    assert set(env_module.__all__) == {
        "FoundKey",
        "KeyDiscovery",
        "KeySource",
        "discover_keys",
        "load_keyconfigs_from_env",
    }
    assert isinstance(discover_keys(["A"], environ={"A": "a"}), KeyDiscovery)
    assert isinstance(discover_keys(["A"], environ={"A": "a"}).keys[0], FoundKey)


def test_seed_section_3_examples_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's from_env and loader examples build the documented pools."""
    from rotisserie import KeyPool

    write_env(
        tmp_path,
        "API_KEY_ALPHA=a1,a2\nAPI_KEY_BETA=b1\nEXAMPLE_API_KEY=e1,e2\nA_KEY=x1\n",
    )
    monkeypatch.chdir(tmp_path)
    for name in ("API_KEY_ALPHA", "API_KEY_BETA", "EXAMPLE_API_KEY", "A_KEY"):
        monkeypatch.delenv(name, raising=False)

    pool = KeyPool.from_env(
        prefix="API_KEY_",
        env_path=".env",
        per_window=(60, 60),
        distribute=True,
        to_lower_names=True,
        split_commas=True,
        strip_prefix=True,
    )
    assert [k.name for k in pool.keys] == ["alpha_1", "alpha_2", "beta"]
    assert [k.config.windows for k in pool.keys] == [(Window(60, 60),)] * 3

    pool2 = KeyPool.from_env(
        names=["EXAMPLE_API_KEY"],
        env_path=".env",
        to_lower_names=True,
        split_commas=True,
    )
    assert [k.name for k in pool2.keys] == ["example_api_key_1", "example_api_key_2"]

    cfgs = load_keyconfigs_from_env(
        names=["A_KEY"],
        per_window=(100, 60),
        env_path=".env",
        to_lower_names=True,
        split_commas=True,
    )
    assert [(c.name, c.token, c.windows) for c in cfgs] == [
        ("a_key", "x1", (Window(100, 60),))
    ]
    assert [k.name for k in KeyPool(cfgs).keys] == ["a_key"]
