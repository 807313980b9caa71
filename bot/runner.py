"""`carebridge run`: the Telegram bot with its worker, by polling or behind the webhook."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from telegram import Update

from bot.adapters.slack.socket import APP_TOKEN_PREFIX
from bot.adapters.telegram.app import build_application, register_commands
from bot.adapters.telegram.outbound import TelegramSender
from bot.adapters.telegram.webhook import WEBHOOK_PATH, webhook_route
from bot.config import Settings
from bot.services.handle import Services
from bot.worker.delivery import DeliveryWorker, RateLimits
from bot.worker.loop import Worker
from bot.worker.slack import slack_parts


class ConfigurationError(Exception):
    """A setting `run` needs is missing or wrong."""


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
    stop = stop or _stop_on_signals()
    polling = not settings.telegram_webhook_url
    worker_box: list[Worker] = []
    application = build_application(services, settings.telegram_bot_token, settings.telegram_api_base_url, polling,
                                    after=lambda handled: worker_box[0].handled(handled) if worker_box else None)
    async with application:
        deliveries = [DeliveryWorker(services.store.outbox, "telegram", TelegramSender(application.bot), services.clock,
                                     limits)]
        slack = slack_parts(settings, services, lambda reply: worker_box[0].wake(reply.queued))
        if slack is not None:
            deliveries.append(slack.delivery)
        worker = Worker(services, deliveries)
        worker_box.append(worker)
        await register_commands(application, services.flow.words)
        socket = slack.socket if slack is not None else None
        slack_routes = [slack.route] if slack is not None and slack.route is not None else []
        routes = [Route("/healthz", lambda _request: PlainTextResponse("ok"))] + slack_routes
        if polling:
            await application.bot.delete_webhook()
            await application.start()
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=poll_timeout)
        else:
            await application.bot.set_webhook(settings.telegram_webhook_url.rstrip("/") + WEBHOOK_PATH,
                                              secret_token=settings.telegram_webhook_secret,
                                              allowed_updates=Update.ALL_TYPES)
            routes.append(webhook_route(services, application.bot, settings.telegram_webhook_secret,
                                        after=worker.handled))
        # log_config=None: uvicorn's records go through the root logger's handler (bot.logs), not handlers of its own
        server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), host=settings.http_host,
                                               port=settings.http_port, log_level="warning", access_log=False,
                                               log_config=None))
        serving = asyncio.create_task(server.serve()) if (slack_routes or not polling) else None
        try:
            if socket is not None:
                await socket.open()
            await worker.run(stop)
        finally:
            if socket is not None:
                await socket.close()
            if serving is not None:
                server.should_exit = True
                await serving
            if polling:
                await application.updater.stop()
                await application.stop()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(name, stop.set)
    return stop
