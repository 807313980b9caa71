"""`carebridge serve` and `carebridge worker`: the two halves of `run`, for many processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib

from telegram import Update

from bot.adapters.telegram.app import register_commands
from bot.adapters.telegram.client import make_bot
from bot.adapters.telegram.webhook import WEBHOOK_PATH, webhook_route
from bot.config import Settings
from bot.http_server import common_routes, http_server
from bot.runner import ConfigurationError, check_settings, stop_on_signals
from bot.services.handle import Services
from bot.store.db import is_sqlite
from bot.worker.pace import RateLimits
from bot.worker.loop import Worker
from bot.worker.sharing import worker_name
from bot.worker.slack import slack_parts
from bot.worker.telegram import telegram_delivery


def check_split_settings(settings: Settings, services: Services, serving: bool) -> None:
    """Refuse what `serve` and `worker` cannot do: SQLite (one process only), or serve without the webhook."""
    check_settings(settings)
    if is_sqlite(services.store.engine):
        raise ConfigurationError("serve and worker are for PostgreSQL (DATABASE_URL=postgresql+psycopg://...); "
                                 "on SQLite use 'carebridge run', which does both in one process")
    if serving and not settings.telegram_webhook_url:
        raise ConfigurationError("serve receives Telegram's updates by webhook: set TELEGRAM_WEBHOOK_URL "
                                 "(or use 'carebridge run', which polls)")


async def serve_http(settings: Settings, services: Services, stop: asyncio.Event | None = None) -> None:
    """Receive Telegram's webhook and Slack's requests, with /healthz and /metrics, until stopped."""
    check_split_settings(settings, services, serving=True)
    stop = stop or stop_on_signals()
    async with make_bot(settings.telegram_bot_token, settings.telegram_api_base_url) as bot:
        routes = common_routes(services) + [webhook_route(services, bot, settings.telegram_webhook_secret)]
        slack = slack_parts(settings, services, after=lambda _reply: None)  # workers find the rows it queues
        if slack is not None and slack.route is not None:
            routes.append(slack.route)
        await bot.set_webhook(settings.telegram_webhook_url.rstrip("/") + WEBHOOK_PATH,
                              secret_token=settings.telegram_webhook_secret, allowed_updates=Update.ALL_TYPES)
        await register_commands(bot, services.flow.words)
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(http_server(settings, routes))
            if slack is not None and slack.socket is not None:
                await slack.socket.open()
                stack.push_async_callback(slack.socket.close)
            await stop.wait()


async def run_worker(settings: Settings, services: Services, stop: asyncio.Event | None = None,
                     limits: RateLimits | None = None, metrics_port: int | None = None) -> None:
    """Deliver the outbox and fire timers, sharing chats and send rates with the other workers, until stopped."""
    check_split_settings(settings, services, serving=False)
    limits = limits or RateLimits(global_per_second=settings.telegram_rate_limit)
    stop = stop or stop_on_signals()
    holder = worker_name()
    async with make_bot(settings.telegram_bot_token, settings.telegram_api_base_url) as bot:
        deliveries = [telegram_delivery(services, bot, limits, holder)]
        slack = slack_parts(settings, services, after=lambda _reply: None, holder=holder)
        if slack is not None:
            deliveries.append(slack.delivery)
        async with contextlib.AsyncExitStack() as stack:
            if metrics_port:  # this worker's own counters (deliveries, timers) for Prometheus to scrape
                exposed = settings.model_copy(update={"http_port": metrics_port})
                await stack.enter_async_context(http_server(exposed, common_routes(services)))
            await Worker(services, deliveries).run(stop)
