"""
The published peer (rotisserie 0.1.1), installed into a venv of its own.

Benchmarks run the same worker script under both interpreters, so each
library is measured with the same code in the same run. The peer venv also
gets the same ``requests`` release as ours, so HTTP rows differ only by pool.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

PEER_VERSION = "0.1.1"
BENCH_DIR = Path(__file__).resolve().parent
PEER_VENV = BENCH_DIR / ".peer-venv"


@functools.cache
def peer_python() -> Path:
    """The peer venv's interpreter, creating or completing the venv on first use."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    wanted = [f"rotisserie=={PEER_VERSION}", f"requests=={_our_requests_version()}"]
    missing = [spec for spec in wanted if not _has(python, spec)]
    if missing:
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *missing], check=True
        )
    return python


def run_worker(
    python: Path | str, script: str, *args: str, timeout: float = 600
) -> object:
    """Run ``bench/<script>`` under ``python`` and return the JSON it prints."""
    done = subprocess.run(
        [str(python), str(BENCH_DIR / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=BENCH_DIR,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{script} under {python} exited with {done.returncode}:\n"
            + done.stderr[-2000:]
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _our_requests_version() -> str:
    import requests

    return str(requests.__version__)


def _has(python: Path, spec: str) -> bool:
    """Whether ``python`` has exactly the distribution ``name==version``."""
    name, _, version = spec.partition("==")
    probe = (
        "import importlib.metadata as m, sys; "
        f"sys.exit(m.version({name!r}) != {version!r})"
    )
    return (
        subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0
    )
