"""Poll Telegram from one process among many: only while this process holds the polling lock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import Update
from telegram.ext import Application

from bot.store.polling_lock import PollingLock

log = logging.getLogger(__name__)
LOCK_CHECK_SECONDS = 5.0  # a waiting process looks this often whether the poller stopped; the poller, at its lock


class Poller:
    """Start and stop python-telegram-bot's polling as the lock comes and goes."""

    def __init__(self, application: Application, poll_timeout: int):
        self.application = application
        self.poll_timeout = poll_timeout
        self.polling = False

    async def start(self) -> None:
        """Begin polling (a webhook left set would make getUpdates fail)."""
        await self.application.bot.delete_webhook()
        await self.application.start()
        await self.application.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=self.poll_timeout)
        self.polling = True

    async def halt(self) -> None:
        """Stop polling; the updates already taken are stored first."""
        if self.polling:
            self.polling = False
            await self.application.updater.stop()
            await self.application.stop()


async def poll_while_held(poller: Poller, lock: PollingLock, stop: asyncio.Event) -> None:
    """Poll whenever this process holds the lock, until stopped; give polling up when the lock is lost."""
    told = False
    while not stop.is_set():
        if await asyncio.to_thread(lock.try_acquire):
            if not poller.polling:
                await poller.start()
            told = False
        elif poller.polling:  # the lock's connection dropped, and another process may have the lock by now
            log.warning("the polling lock was lost: this process stops polling until it is free again",
                        extra={"mode": "polling"})
            await poller.halt()
        elif not told:
            log.info("another process polls Telegram: this one delivers and fires timers meanwhile",
                     extra={"mode": "polling"})
            told = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LOCK_CHECK_SECONDS):
                await stop.wait()


@contextlib.asynccontextmanager
async def polling_when_free(application: Application, lock: PollingLock, stop: asyncio.Event,
                            poll_timeout: int) -> AsyncIterator[None]:
    """Poll Telegram while the block runs, whenever no other process does (one poller per bot, or updates clash)."""
    poller = Poller(application, poll_timeout)
    task = asyncio.create_task(poll_while_held(poller, lock, stop))
    task.add_done_callback(lambda done: done.cancelled() or done.exception() is None or stop.set())  # fail: stop all
    try:
        yield
    finally:
        task.cancel()
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await task  # raises what made polling fail
        finally:
            await poller.halt()
            await asyncio.to_thread(lock.release)
