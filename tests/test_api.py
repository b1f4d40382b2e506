"""Guards on the public API: what ``rotisserie`` exports, and that every export exists."""

from __future__ import annotations

import importlib

import rotisserie
import rotisserie.policies

EXPECTED = {
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
}


def test_all_equals_expected_names() -> None:
    """rotisserie.__all__ lists exactly the expected public names, once each."""
    assert len(rotisserie.__all__) == len(set(rotisserie.__all__))
    assert set(rotisserie.__all__) == EXPECTED


def test_all_names_importable() -> None:
    """Every name in __all__ is an attribute of the package and comes with a star-import."""
    namespace: dict[str, object] = {}
    exec("from rotisserie import *", namespace)
    for name in rotisserie.__all__:
        assert getattr(rotisserie, name) is namespace[name]


def test_public_objects_have_docstrings() -> None:
    """Every public class and function carries a docstring."""
    for name in rotisserie.__all__:
        assert (getattr(rotisserie, name).__doc__ or "").strip(), name


def test_policies_module_exports_exist() -> None:
    """rotisserie.policies exports the wrappers and built-in policies it documents."""
    module = importlib.import_module("rotisserie.policies")
    assert {"select", "score", "EvenPolicy", "WeightedPolicy", "Policy"} <= set(
        module.__all__
    )
    for name in module.__all__:
        assert hasattr(rotisserie.policies, name), name


def test_core_works_without_any_http_client_installed() -> None:
    """Importing and using the pool needs no HTTP client, Redis client or CLI library."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path, target=None):
                top = name.split(".")[0]
                if top in ("httpx", "requests", "aiohttp", "redis", "click", "rich"):
                    raise ImportError(f"blocked {name}")

        sys.meta_path.insert(0, Block())
        from rotisserie import KeyConfig, KeyPool
        pool = KeyPool([KeyConfig("a", "tok-a")])
        pool.mark_result(pool.take_key("e"), 200)
        print(pool.snapshot().in_flight)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
