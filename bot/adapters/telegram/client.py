"""The Bot API client: python-telegram-bot's Bot over aiohttp, some calls made raw."""

from __future__ import annotations

import warnings

from telegram import Bot
from telegram.error import RetryAfter
from telegram.warnings import PTBUserWarning

from bot.adapters.telegram.aiohttp_request import AiohttpRequest

CONNECTIONS = 64  # the worker sends to many chats at once
POOL_TIMEOUT_SECONDS = 10
# Called without python-telegram-bot's typed wrappers, which build an object from every update and reply (more
# CPU than the call itself); the library asks for its wrappers by a warning, which is expected here.
RAW_METHODS = ("getUpdates", "sendMessage", "editMessageText")


def make_bot(token: str, base_url: str) -> Bot:
    """Return the client: a pool of connections for sends, one for polling."""
    allow_raw_calls()
    return Bot(token, base_url=base_url,
               request=AiohttpRequest(connection_pool_size=CONNECTIONS, pool_timeout=POOL_TIMEOUT_SECONDS),
               get_updates_request=AiohttpRequest(connection_pool_size=1))


def allow_raw_calls() -> None:
    """Silence python-telegram-bot's warning for the RAW_METHODS called through do_api_request."""
    warnings.filterwarnings("ignore", message=rf"Please use 'Bot\.({'|'.join(RAW_METHODS)})'", category=PTBUserWarning)


def retry_after_seconds(exc: RetryAfter) -> float:
    """Return how long Telegram asked to wait (PTB 22 gives seconds or a timedelta, depending on a setting)."""
    value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
