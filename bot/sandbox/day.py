"""One clinic day: a fresh SQLite file, the Telegram and Slack stand-ins, and CareBridge running between them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import tempfile
import time
from pathlib import Path

import httpx

from bot.adapters.slack.http import EVENTS_PATH
from bot.bootstrap import bootstrap, load_flow_context
from bot.config import Settings
from bot.runner import run_bot
from bot.sandbox.clock import ShiftableClock, clinic_day_start, real_now
from bot.sandbox.phones import Phones
from bot.sandbox.workspace import build_workspace
from bot.services.handle import Services
from bot.standins.server import check_loopback
from bot.standins.slack_api import FakeSlackApi
from bot.standins.telegram.app import FakeBotApi
from bot.worker.pace import RateLimits

log = logging.getLogger(__name__)
START_SECONDS = 20  # how long CareBridge may take to poll Telegram and serve Slack's requests
POLL_SECONDS = 1  # Telegram long-poll timeout: short, so a reset or Ctrl-C stops quickly
# The stand-in has no Telegram flood limits to respect, so a trainer's chat need not be paced at 1 message/s.
SANDBOX_LIMITS = RateLimits(global_per_second=30, global_burst=30, per_chat_per_second=30, per_chat_burst=30)


class StartError(Exception):
    """CareBridge did not come up against the stand-ins."""


def free_port(host: str) -> int:
    """Return a port that was free on host a moment ago."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class ClinicDay:
    """Start and stop the stand-ins and CareBridge (run_bot) for one clinic day, all in the running loop."""

    def __init__(self, base: Settings, number: int, host: str = "127.0.0.1") -> None:
        """Prepare the day's folder, stand-ins (sockets bound) and settings; nothing runs until start()."""
        self.number, self.host = number, check_loopback(host)
        self.folder = tempfile.TemporaryDirectory(prefix="carebridge-sandbox-", ignore_cleanup_errors=True)
        self.telegram = FakeBotApi(token=f"{number}00001:SANDBOX", host=self.host)
        self.slack = FakeSlackApi(host=self.host)
        self.settings = base.model_copy(update={
            "database_url": f"sqlite:///{Path(self.folder.name) / 'clinic.db'}",
            "telegram_bot_token": self.telegram.token, "telegram_api_base_url": self.telegram.base_url,
            "telegram_webhook_url": None, "telegram_webhook_secret": None, "telegram_bot_username": None,
            "slack_bot_token": self.slack.token, "slack_signing_secret": self.slack.signing_secret,
            "slack_app_token": None, "slack_api_url": self.slack.base_url,
            "http_host": self.host, "http_port": free_port(self.host)})
        self.slack.events_url = f"http://{self.host}:{self.settings.http_port}{EVENTS_PATH}"
        self.clock: ShiftableClock | None = None
        self.services: Services | None = None
        self.phones = Phones()
        self.error: BaseException | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Build CareBridge on a fresh database, start the stand-ins and CareBridge; raise StartError on failure."""
        self.services = await asyncio.to_thread(self._bootstrap)
        build_workspace(self.slack, self.services.flow.config)
        await self.telegram.start()
        await self.slack.start()
        self._task = asyncio.create_task(self._run(), name=f"carebridge-day-{self.number}")
        deadline = time.monotonic() + START_SECONDS
        while not (self.telegram.calls_of("getUpdates") and await self._serving()):
            if self._task.done() or time.monotonic() > deadline:
                raise StartError(f"CareBridge did not start: {self.error!r}" if self.error else
                                 "CareBridge did not start in time")
            await asyncio.sleep(0.05)

    def _bootstrap(self) -> Services:
        clinics = load_flow_context(self.settings).config.clinics
        first = next((c for c in clinics if c.slack is not None), clinics[0])
        self.clock = ShiftableClock(clinic_day_start(first, real_now()))
        return bootstrap(self.settings, clock=self.clock)  # a fresh SQLite file gets the schema here

    async def _run(self) -> None:
        try:
            await run_bot(self.settings, self.services, self._stop, SANDBOX_LIMITS, poll_timeout=POLL_SECONDS)
        except Exception as exc:  # shown on the page; the class only in the log (never message text)
            self.error = exc
            log.error("CareBridge stopped in the sandbox", extra={"error": type(exc).__name__})

    async def _serving(self) -> bool:
        url = f"http://{self.host}:{self.settings.http_port}/healthz"
        try:
            async with httpx.AsyncClient(trust_env=False, timeout=1) as client:
                return (await client.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def running(self) -> bool:
        """Tell whether CareBridge is still running."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Stop CareBridge, then the stand-ins, and delete the day's database."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=15)
        await self.slack.stop()
        await self.telegram.stop()
        self.telegram.close()
        self.slack.close()
        if self.services is not None:
            self.services.store.engine.dispose()
        self.folder.cleanup()
