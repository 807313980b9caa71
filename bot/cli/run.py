"""`carebridge run`, `serve` and `worker`: the bot in one process, or split in two kinds for PostgreSQL."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine

import typer

from bot.cli.common import console, fail, services_or_exit
from bot.config import settings
from bot.logs import configure_logging
from bot.runner import ConfigurationError, check_settings, run_bot
from bot.serve import check_split_settings, run_worker, serve_http


def _start(main: Callable[..., Coroutine], check: Callable, banner: str) -> None:
    current = settings()
    try:
        check_settings(current)
    except ConfigurationError as exc:
        fail(str(exc), code=1)
    services = services_or_exit()
    try:
        check(current, services)
    except ConfigurationError as exc:
        fail(str(exc), code=1)
    configure_logging()
    console.print(banner)
    with asyncio.Runner(loop_factory=event_loop) as runner:
        runner.run(main(current, services))


def event_loop() -> asyncio.AbstractEventLoop:
    """Return uvloop's event loop where it is installed (a tenth less CPU per answer than asyncio's), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # not on Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run() -> None:
    """Run the Telegram bot with the worker (polling, or webhook when TELEGRAM_WEBHOOK_URL is set)."""
    mode = "webhook" if settings().telegram_webhook_url else "polling"
    _start(run_bot, lambda *_: None, f"CareBridge running ({mode}); Ctrl-C to stop")


def serve() -> None:
    """Serve Telegram's webhook, Slack's requests, /healthz and /metrics (PostgreSQL; run workers beside it)."""
    current = settings()
    _start(serve_http, lambda s, services: check_split_settings(s, services, serving=True),
           f"CareBridge serving on {current.http_host}:{current.http_port}; Ctrl-C to stop")


def worker(metrics_port: int = typer.Option(0, help="serve /healthz and /metrics on this port (0: not at all)")) -> None:
    """Deliver the outbox and fire timers (PostgreSQL; any number side by side)."""
    _start(functools.partial(run_worker, metrics_port=metrics_port or None), lambda s, services: check_split_settings(s, services, serving=False),
           "CareBridge worker running; Ctrl-C to stop")
