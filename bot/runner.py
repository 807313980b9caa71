"""`carebridge run`: the Telegram bot with its worker in one process, by polling or behind the webhook."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal

from telegram import Update

from bot.adapters.slack.socket import APP_TOKEN_PREFIX
from bot.adapters.telegram.app import process_update, register_commands
from bot.adapters.telegram.client import make_bot
from bot.adapters.telegram.polling import polling_when_free
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
    worker_box: list[Worker] = []  # Slack's replies wake the worker, which is built after Slack's parts
    async with make_bot(settings.telegram_bot_token, settings.telegram_api_base_url) as bot:
        deliveries = [telegram_delivery(services, bot, limits, holder)]
        slack = slack_parts(settings, services, lambda reply: worker_box[0].wake(reply.queued), holder)
        if slack is not None:
            deliveries.append(slack.delivery)
        worker = Worker(services, deliveries)
        worker_box.append(worker)
        await register_commands(bot, services.flow.words)
        slack_routes = [slack.route] if slack is not None and slack.route is not None else []
        routes = common_routes(services) + slack_routes
        if not polling:
            await bot.set_webhook(settings.telegram_webhook_url.rstrip("/") + WEBHOOK_PATH,
                                  secret_token=settings.telegram_webhook_secret, allowed_updates=Update.ALL_TYPES)
            routes.append(webhook_route(services, bot, settings.telegram_webhook_secret, after=worker.handled))
        async with contextlib.AsyncExitStack() as stack:
            if polling:
                lock = PollingLock(services.store.engine)
                stored = functools.partial(process_update, services, bot, after=worker.handled)
                await stack.enter_async_context(polling_when_free(bot, stored, lock, stop, poll_timeout))
            if slack_routes or not polling:  # polling alone needs no port (and two test bots need not share one)
                await stack.enter_async_context(http_server(settings, routes))
            if slack is not None and slack.socket is not None:
                await slack.socket.open()
                stack.push_async_callback(slack.socket.close)
            await worker.run(stop)


def stop_on_signals() -> asyncio.Event:
    """Return an event set by SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(name, stop.set)
    return stop
