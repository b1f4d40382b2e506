"""
Running the aiohttp server: on the caller's event loop, or on a thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from aiohttp import web

__all__ = ["Handler", "LoopServer", "ThreadServer"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# How long stopping waits for requests in flight before cancelling them;
# short because a test's teardown should not wait out a simulated latency.
_GRACE = 0.1
# How long a synchronous start or stop waits for the server thread.
_THREAD_TIMEOUT = 10.0


class LoopServer:
    """
    An aiohttp server on 127.0.0.1, bound to a free port, on the running loop.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """
        Bind and serve; return the base URL, such as ``http://127.0.0.1:5123``.
        """
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handler)
        # No access log: it would print query strings, and a key may be in one.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_GRACE)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """
        Stop listening and close every connection.
        """
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


class ThreadServer:
    """
    A :class:`LoopServer` on its own event loop in a daemon thread.

    ``asyncio.run`` owns that loop, so stopping also cancels stray tasks and
    closes the loop cleanly before the thread ends.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._url = ""
        self._failure: BaseException | None = None

    def start(self) -> str:
        """
        Start the thread and wait until the server listens; return its URL.

        Raises:
            RuntimeError: the server did not start in time.
            OSError: binding failed.
        """
        thread = threading.Thread(
            target=self._run, name="rotisserie-simulator", daemon=True
        )
        self._thread = thread
        thread.start()
        if not self._ready.wait(_THREAD_TIMEOUT):
            raise RuntimeError(f"simulator thread did not start in {_THREAD_TIMEOUT} s")
        if self._failure is not None:
            thread.join()
            raise self._failure
        return self._url

    def stop(self) -> None:
        """
        Stop the server and wait for its thread to end.

        Raises:
            RuntimeError: the thread did not end in time.
        """
        loop, stopping, thread = self._loop, self._stopping, self._thread
        if loop is None or stopping is None or thread is None:
            return
        loop.call_soon_threadsafe(stopping.set)
        thread.join(_THREAD_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError(f"simulator thread did not stop in {_THREAD_TIMEOUT} s")
        self._loop = self._stopping = self._thread = None
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # handed to the starting thread
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        server = LoopServer(self._handler)
        self._stopping = asyncio.Event()
        self._url = await server.start()
        self._loop = asyncio.get_running_loop()
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await server.stop()
