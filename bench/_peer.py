"""
The published peer (rotisserie 0.1.1), installed into a venv of its own.

Benchmarks run the same worker script under both interpreters, so each
library is measured with the same code in the same run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PEER_VERSION = "0.1.1"
BENCH_DIR = Path(__file__).resolve().parent
PEER_VENV = BENCH_DIR / ".peer-venv"


def peer_python() -> Path:
    """The peer venv's interpreter, creating the venv on first use."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"rotisserie=={PEER_VERSION}"],
            check=True,
        )
    return python


def run_worker(python: Path | str, script: str, *args: str, timeout: float = 600) -> object:
    """Run ``bench/<script>`` under ``python`` and return the JSON it prints."""
    done = subprocess.run(
        [str(python), str(BENCH_DIR / script), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=BENCH_DIR,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
