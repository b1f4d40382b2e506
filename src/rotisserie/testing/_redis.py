"""A throwaway redis-server on a free port of 127.0.0.1, for tests of shared pools."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType

__all__ = ["RedisServer"]


class RedisServer:
    """
    Runs the machine's ``redis-server`` binary on a free loopback port.

    Nothing is saved to disk. Use it as a context manager, or call
    :meth:`start` and :meth:`stop`.

    Args:
        password: set ``requirepass`` (the URL then carries it).
        binary: the server executable (``redis-server`` on ``PATH`` by default).
    """

    def __init__(
        self, *, password: str | None = None, binary: str = "redis-server"
    ) -> None:
        self.password = password
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The ``redis://`` URL of the running server."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and wait until it accepts connections; return its URL."""
        path = shutil.which(self._binary)
        if path is None:
            raise FileNotFoundError(f"{self._binary} is not installed")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._workdir = tempfile.TemporaryDirectory(prefix="rotisserie-redis-")
        args = [path, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", self._workdir.name]
        if self.password:
            args += ["--requirepass", self.password]
        self._process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_until_up(timeout)
        return self.url

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def _wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise TimeoutError(
            f"redis-server did not accept connections within {timeout} s"
        )

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._process is not None else "stopped"
        return f"RedisServer(port={self.port}, {state})"
