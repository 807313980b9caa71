"""Host the sandbox: the page's server and the current clinic day, in one event loop (the caller's or a thread's)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from bot.config import Settings
from bot.sandbox.day import ClinicDay
from bot.standins.server import LoopbackServer, check_loopback, in_thread

log = logging.getLogger(__name__)
THREAD_SECONDS = 60  # how long starting or stopping everything may take when run from a thread


class Sandbox:
    """Serve the page and run one clinic day at a time; reset() replaces the day with a fresh one."""

    def __init__(self, base: Settings, host: str = "127.0.0.1", port: int = 0) -> None:
        """Refuse a non-loopback host and bind the page's port at once (port 0 picks a free one)."""
        from bot.sandbox.api import page_app  # the page's routes need the Sandbox type; imported late to avoid a cycle

        self.base, self.host = base, check_loopback(host)
        self.server = LoopbackServer(page_app(self), host=self.host, port=port, name="CareBridgeSandbox")
        self.day: ClinicDay | None = None
        self.days = 0
        self.failure: str | None = None  # why the current day could not start, for the page
        self.modal_errors: dict[tuple[str, str], dict[str, str]] = {}
        self._lock: asyncio.Lock | None = None

    @property
    def url(self) -> str:
        """Return the page's address."""
        return f"{self.server.origin}/"

    @property
    def lock(self) -> asyncio.Lock:
        """Return the lock that serialises the trainer's actions and resets."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def start(self) -> None:
        """Start the first clinic day, then serve the page."""
        await self.reset()
        if self.day is None:
            self.server.close()
            raise RuntimeError(self.failure or "the sandbox did not start")
        await self.server.start()

    async def reset(self) -> None:
        """Stop the current day and start a fresh one: new database, new stand-ins, clock back to the morning."""
        async with self.lock:
            old, self.day = self.day, None
            if old is not None:
                await old.stop()
            self.days += 1
            self.modal_errors.clear()
            day = ClinicDay(self.base, self.days)  # the stand-ins and CareBridge talk over 127.0.0.1
            try:
                await day.start()
            except Exception as exc:  # the page shows it; Reset tries again
                self.failure = f"{type(exc).__name__}: {exc}"
                log.error("sandbox clinic day did not start", extra={"error": type(exc).__name__})
                await day.stop()
                return
            self.day, self.failure = day, None

    async def stop(self) -> None:
        """Stop serving the page, then the clinic day; delete its files."""
        await self.server.stop()
        async with self.lock:
            if self.day is not None:
                await self.day.stop()
                self.day = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Sandbox]:
        """Run the sandbox in a background thread with its own event loop for the duration of the block."""
        with in_thread(self.start, self.stop, "the sandbox", timeout=THREAD_SECONDS):
            yield self

