"""`carebridge run`: the Telegram bot with its worker in one process, by polling or behind the webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from telegram import Update
from telegram.ext import Application

from bot.adapters.slack.socket import APP_TOKEN_PREFIX
from bot.adapters.telegram.app import build_application, register_commands
from bot.adapters.telegram.webhook import WEBHOOK_PATH, webhook_route
from bot.config import Settings
from bot.http_server import common_routes, http_server
from bot.services.handle import Services
from bot.store.polling_lock import PollingLock
from bot.worker.pace import RateLimits
from bot.worker.loop import Worker
from bot.worker.sharing import worker_name
from bot.worker.slack import slack_parts
from bot.worker.telegram import telegram_delivery

log = logging.getLogger(__name__)
LOCK_RETRY_SECONDS = 5.0  # a process waiting to poll looks this often whether the poller has stopped


class ConfigurationError(Exception):
    """A setting the command needs is missing or wrong."""


def check_settings(settings: Settings) -> None:
    """Refuse to start without what the chosen mode needs."""
    if not settings.telegram_bot_token:
        raise ConfigurationError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token in the environment or .env")
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        raise ConfigurationError("TELEGRAM_WEBHOOK_SECRET must be set when TELEGRAM_WEBHOOK_URL is")
    if settings.slack_app_token and not settings.slack_app_token.startswith(APP_TOKEN_PREFIX):
        raise ConfigurationError("SLACK_APP_TOKEN must be the app-level token (xapp-...) with connections:write")
    if settings.slack_app_token and not settings.slack_bot_token:
        raise ConfigurationError("SLACK_BOT_TOKEN must be set when SLACK_APP_TOKEN is")
    if settings.slack_bot_token and not settings.slack_app_token and not settings.slack_signing_secret:
        raise ConfigurationError("SLACK_SIGNING_SECRET must be set when SLACK_BOT_TOKEN is (or SLACK_APP_TOKEN, "
                                 "for Socket Mode)")


async def run_bot(settings: Settings, services: Services, stop: asyncio.Event | None = None,
                  limits: RateLimits | None = None, poll_timeout: int = 10) -> None:
    """Run until stopped (SIGINT/SIGTERM, or `stop` being set)."""
    check_settings(settings)
    limits = limits or RateLimits(global_per_second=settings.telegram_rate_limit)
    stop = stop or stop_on_signals()
    polling, holder = not settings.telegram_webhook_url, worker_name()
    worker_box: list[Worker] = []
    application = build_application(services, settings.telegram_bot_token, settings.telegram_api_base_url, polling,
                                    after=lambda handled: worker_box[0].handled(handled) if worker_box else None)
    async with application:
        deliveries = [telegram_delivery(services, application.bot, limits, holder)]
        slack = slack_parts(settings, services, lambda reply: worker_box[0].wake(reply.queued), holder)
        if slack is not None:
            deliveries.append(slack.delivery)
        worker = Worker(services, deliveries)
        worker_box.append(worker)
        await register_commands(application, services.flow.words)
        slack_routes = [slack.route] if slack is not None and slack.route is not None else []
        routes = common_routes(services) + slack_routes
        if not polling:
            await application.bot.set_webhook(settings.telegram_webhook_url.rstrip("/") + WEBHOOK_PATH,
                                              secret_token=settings.telegram_webhook_secret,
                                              allowed_updates=Update.ALL_TYPES)
            routes.append(webhook_route(services, application.bot, settings.telegram_webhook_secret,
                                        after=worker.handled))
        async with contextlib.AsyncExitStack() as stack:
            if polling:
                lock = PollingLock(services.store.engine)
                await stack.enter_async_context(polling_when_free(application, lock, stop, poll_timeout))
            if slack_routes or not polling:  # polling alone needs no port (and two test bots need not share one)
                await stack.enter_async_context(http_server(settings, routes))
            if slack is not None and slack.socket is not None:
                await slack.socket.open()
                stack.push_async_callback(slack.socket.close)
            await worker.run(stop)


@contextlib.asynccontextmanager
async def polling_when_free(application: Application, lock: PollingLock, stop: asyncio.Event,
                            poll_timeout: int) -> AsyncIterator[None]:
    """Poll Telegram while the block runs, once no other process does (one poller per bot, or updates clash)."""
    started = asyncio.Event()

    async def wait_then_poll() -> None:
        told = False
        while not await asyncio.to_thread(lock.try_acquire):
            if not told:
                log.info("another process polls Telegram: this one delivers and fires timers meanwhile",
                         extra={"mode": "polling"})
                told = True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LOCK_RETRY_SECONDS):
                    await stop.wait()
                return
        await application.bot.delete_webhook()
        await application.start()
        await application.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=poll_timeout)
        started.set()

    task = asyncio.create_task(wait_then_poll())
    task.add_done_callback(lambda done: done.cancelled() or done.exception() is None or stop.set())  # fail: stop all
    try:
        yield
    finally:
        task.cancel()
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await task  # raises what made polling fail to start
        finally:
            if started.is_set():
                await application.updater.stop()
                await application.stop()
            await asyncio.to_thread(lock.release)


def stop_on_signals() -> asyncio.Event:
    """Return an event set by SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(name, stop.set)
    return stop
