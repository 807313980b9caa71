"""`carebridge run`: the bot and its worker in one process."""

from __future__ import annotations

import asyncio

from bot.cli.common import console, fail, services_or_exit
from bot.config import settings
from bot.logs import configure_logging
from bot.runner import ConfigurationError, check_settings, run_bot


def run() -> None:
    """Run the Telegram bot with the worker (polling, or webhook when TELEGRAM_WEBHOOK_URL is set)."""
    current = settings()
    try:
        check_settings(current)
    except ConfigurationError as exc:
        fail(str(exc), code=1)
    services = services_or_exit()
    configure_logging()
    mode = "webhook" if current.telegram_webhook_url else "polling"
    console.print(f"CareBridge running ({mode}); Ctrl-C to stop")
    asyncio.run(run_bot(current, services))
