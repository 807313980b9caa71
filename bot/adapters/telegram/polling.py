"""Poll Telegram from one process among many: only while this process holds the polling lock."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy.exc import DBAPIError

from telegram import Bot, Update
from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.adapters.telegram.client import retry_after_seconds
from bot.adapters.telegram.inbound import MalformedUpdate, event_key, update_id
from bot.metrics import count_event
from bot.store.polling_lock import PollingLock

log = logging.getLogger(__name__)
LOCK_CHECK_SECONDS = 5.0  # a waiting process looks this often whether the poller stopped; the poller, at its lock
READ_MARGIN_SECONDS = 10  # getUpdates waits up to poll_timeout for updates; the read may take this much longer
BACK_OFF_SECONDS = (1, 2, 5, 10, 30)  # waits after consecutive failures (the last one repeats)
ATTEMPTS_PER_UPDATE = 3  # an update that fails this often without a database error is skipped (logged, counted)

ALLOWED_UPDATES = json.dumps(list(Update.ALL_TYPES))  # all, as the JSON text PTB would send on every call

Process = Callable[[dict], Awaitable[object]]


class Poller:
    """Poll Telegram and store each update before the next getUpdates, which confirms it: a crash loses none."""

    def __init__(self, bot: Bot, process: Process, poll_timeout: int, failed: Callable[[], None] = lambda: None):
        self.bot = bot
        self.process = process
        self.poll_timeout = poll_timeout
        self.failed = failed  # called when polling ends by an error (a bad token); halt() then raises it
        self.task: asyncio.Task | None = None

    @property
    def polling(self) -> bool:
        """Say whether the polling loop runs."""
        return self.task is not None

    async def start(self) -> None:
        """Begin polling (a webhook left set would make getUpdates fail)."""
        await self.bot.delete_webhook()
        self.task = asyncio.create_task(self.poll())
        self.task.add_done_callback(lambda done: done.cancelled() or done.exception() is None or self.failed())

    async def halt(self) -> None:
        """Stop polling; an update being stored is stored (or taken again later, and recognised)."""
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def poll(self) -> None:
        """Fetch updates and store them, one at a time and in order, until cancelled (a bad token raises)."""
        offset, failures = None, 0
        while True:
            try:
                updates = await self.bot.do_api_request(
                    "getUpdates", api_kwargs={"offset": offset, "timeout": self.poll_timeout,
                                              "allowed_updates": ALLOWED_UPDATES},
                    read_timeout=self.poll_timeout + READ_MARGIN_SECONDS)
            except InvalidToken:
                raise
            except TelegramError as exc:  # network trouble, Telegram's 5xx, 409 while another poller or a webhook runs
                failures += 1
                await _back_off(exc, failures, "getUpdates failed")
                continue
            failures = 0
            for update in updates:
                await self.store(update)
                with contextlib.suppress(MalformedUpdate):
                    offset = update_id(update) + 1

    async def store(self, update: dict) -> None:
        """Store one update, trying again while the database is away; skip one that keeps failing otherwise."""
        failures = 0
        while True:
            try:
                await self.process(update)
                return
            except MalformedUpdate:
                count_event("telegram", "malformed")
                return
            except Exception as exc:  # noqa: BLE001 - nothing may stop polling for good
                failures += 1
                if not isinstance(exc, DBAPIError) and failures >= ATTEMPTS_PER_UPDATE:
                    log.error("update skipped: it failed every attempt", extra={
                        "event_key": event_key(update_id(update)), "error": type(exc).__name__, "count": failures})
                    count_event("telegram", "failed")
                    return
                await _back_off(exc, failures, "update not stored")


async def _back_off(exc: BaseException, failures: int, what: str) -> None:
    """Log a failure (its kind only) and wait: as Telegram asks after a 429, else longer with each failure."""
    if isinstance(exc, RetryAfter):
        seconds = retry_after_seconds(exc)
    else:
        seconds = BACK_OFF_SECONDS[min(failures, len(BACK_OFF_SECONDS)) - 1]
    log.warning(what, extra={"error": type(exc).__name__, "count": failures, "seconds": seconds, "mode": "polling"})
    await asyncio.sleep(seconds)


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
async def polling_when_free(bot: Bot, process: Process, lock: PollingLock, stop: asyncio.Event,
                            poll_timeout: int) -> AsyncIterator[None]:
    """Poll Telegram while the block runs, whenever no other process does (one poller per bot, or updates clash)."""
    poller = Poller(bot, process, poll_timeout, failed=stop.set)
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
