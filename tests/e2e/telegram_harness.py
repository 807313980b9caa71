"""Run the real bot (python-telegram-bot, worker, store) against the Bot API stand-in, from sync tests."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from collections.abc import Callable

import httpx

from bot.bootstrap import bootstrap, utc_now
from bot.config import Settings
from bot.ids import RandomIds
from bot.runner import run_bot
from bot.standins.telegram.app import FakeBotApi
from bot.worker.pace import RateLimits
from tests.store_fixtures import FIXTURES


def wait_for(condition: Callable[[], object], timeout: float = 15, what: str = "condition") -> object:
    """Poll until condition() is truthy and return it; fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# A Tuesday, 10:00 in Chicago, where the team clinic's day shift (07:00-19:00) has Dana on call.
DAYTIME = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def daytime_clock() -> Callable[[], datetime]:
    """Return a clock running in real time from DAYTIME: who is on call must not depend on when the tests run."""
    offset = DAYTIME - utc_now()
    return lambda: utc_now() + offset


class RunningBot:
    """`carebridge run` in a background thread: polling by default, webhook when a URL is given."""

    def __init__(self, api: FakeBotApi, database_url: str, limits: RateLimits | None = None,
                 ready: str | None = None, **overrides):
        self.api = api
        self.settings = Settings(
            DATABASE_URL=database_url, CAREBRIDGE_CONFIG=str(FIXTURES / "clinic.toml"), TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_BASE_URL=api.base_url, **overrides,
        )
        self.services = bootstrap(self.settings, clock=daytime_clock(), ids=RandomIds())
        self.limits = limits or RateLimits(global_per_second=1000, global_burst=1000, per_chat_per_second=1000, per_chat_burst=1000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self.error: BaseException | None = None
        self.ready = ready or ("setWebhook" if self.settings.telegram_webhook_url else "getUpdates")

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            await run_bot(self.settings, self.services, self._stop, self.limits, poll_timeout=1)
        except BaseException as exc:  # surfaced by __exit__
            self.error = exc

    def __enter__(self) -> RunningBot:
        self._thread.start()
        wait_for(lambda: self.error or self.api.calls_of(self.ready), what=f"the bot to call {self.ready}")
        if self.settings.telegram_webhook_url:
            wait_for(lambda: self.error or self._serving(), what="the webhook server")
        if self.error:
            raise self.error
        return self

    def _serving(self) -> bool:
        url = f"http://{self.settings.http_host}:{self.settings.http_port}/healthz"
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def __exit__(self, *exc_info) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)
        self.services.store.engine.dispose()
        if self.error and not exc_info[0]:
            raise self.error


def last_message(api: FakeBotApi, chat_id: int, count: int = 1):
    """Wait until the chat has at least `count` messages and return the newest."""
    return wait_for(lambda: len(api.sent(chat_id)) >= count and api.sent(chat_id)[-1], what=f"message {count} in {chat_id}")
