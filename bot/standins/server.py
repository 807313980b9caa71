"""Serve an ASGI app with uvicorn on a pre-bound loopback socket, in the caller's loop or a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn



@contextlib.contextmanager
def in_thread(start: Callable[[], Awaitable[object]], stop: Callable[[], Awaitable[object]], name: str,
              timeout: float) -> Iterator[None]:
    """Run start() in a new thread's event loop, keep the loop for the block, then run stop() there."""
    ready, errors = threading.Event(), []
    holder: dict[str, Any] = {}

    async def main() -> None:
        holder["loop"], holder["done"] = asyncio.get_running_loop(), asyncio.Event()
        try:
            await start()
        except BaseException as exc:  # handed to the calling thread
            errors.append(exc)
            ready.set()
            return
        ready.set()
        await holder["done"].wait()
        await stop()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name=name, daemon=True)
    thread.start()
    if not ready.wait(timeout) or errors:
        thread.join(timeout=timeout)
        reason = errors[0] if errors else "timed out"
        raise RuntimeError(f"{name} did not start: {reason}") from (errors[0] if errors else None)
    try:
        yield
    finally:
        holder["loop"].call_soon_threadsafe(holder["done"].set)
        thread.join(timeout=timeout)


def check_loopback(host: str) -> str:
    """Return host if it is a loopback address (127.0.0.0/8, ::1, localhost); raise ValueError otherwise."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ValueError(f"the stand-ins bind loopback addresses only, not {host!r}")


class LoopbackServer:
    """Bind 127.0.0.1 (or another loopback address) at once; serve `app` with start()/stop() or running()."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, name: str = "LoopbackServer") -> None:
        """Refuse a non-loopback host and bind the socket (port 0 picks a free one)."""
        self.app, self.name = app, name
        self.host = check_loopback(host)
        self.port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None
        self._bind()

    def _bind(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, self.port))
        self.port = self._socket.getsockname()[1]

    @property
    def origin(self) -> str:
        """Return http://HOST:PORT of this server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Serve in the running event loop; return once connections are accepted."""
        if self._task is not None:
            raise RuntimeError(f"{self.name} is already running")
        config = uvicorn.Config(self.app, log_config=None, log_level="warning", access_log=False,
                                lifespan="off", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        if self._socket is None:
            self._bind()
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))  # type: ignore[list-item]
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError(f"{self.name} stopped while starting")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Stop serving and release the port."""
        if self._task is None or self._server is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
        except asyncio.TimeoutError:
            self._server.force_exit = True
            await self._task
        finally:
            self._task = self._server = None
            self.close()

    def close(self) -> None:
        """Release the port without serving (a later start() binds it again)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Any]:
        """Serve from a background thread with its own event loop for the duration of the block."""
        with in_thread(self.start, self.stop, self.name, timeout=10):
            yield self

    async def __aenter__(self) -> Any:
        """Start serving in the running loop."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop serving."""
        await self.stop()
