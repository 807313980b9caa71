"""The python-telegram-bot application: one handler that converts, dispatches, and answers presses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.adapters.telegram.aiohttp_request import AiohttpRequest
from bot.adapters.telegram.inbound import event_from_update
from bot.flows.parsing import Words
from bot.metrics import count_event
from bot.services.handle import Handled, Services, handle


CONNECTIONS = 64  # the worker sends to many chats at once
POOL_TIMEOUT_SECONDS = 10
# Polling confirms a batch of updates to Telegram on the next getUpdates, before they are stored: a small queue
# makes the poller wait for the store, so that a crash loses at most these (plus the one being stored) and a
# burst of updates is never held in memory all at once. The webhook answers only after storing and loses none.
UPDATE_QUEUE_SIZE = 8


async def process_update(services: Services, update: Update,
                         after: Callable[[Handled], None] = lambda _handled: None) -> Handled | None:
    """Store and apply one update, then answer its button press (every press is answered)."""
    event = event_from_update(update)
    if event is None:
        return None
    handled = await asyncio.to_thread(handle, services, event)
    count_event("telegram", handled.status)
    after(handled)
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(text=handled.toast)
        except TelegramError:
            pass  # the press is stored; a lost spinner stop is harmless
    return handled


def build_application(services: Services, token: str, base_url: str, polling: bool,
                      after: Callable[[Handled], None] = lambda _handled: None) -> Application:
    """Build the PTB application; updates of one chat are handled in order, one at a time."""
    builder = (
        Application.builder().token(token).base_url(base_url)
        .request(AiohttpRequest(connection_pool_size=CONNECTIONS, pool_timeout=POOL_TIMEOUT_SECONDS))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .update_queue(asyncio.Queue(maxsize=UPDATE_QUEUE_SIZE))
    )
    if not polling:
        builder = builder.updater(None)
    application = builder.build()

    async def on_update(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await process_update(services, update, after)

    application.add_handler(TypeHandler(Update, on_update))
    return application


async def register_commands(application: Application, words: Words) -> None:
    """Register the command menu in English (the default) and Spanish."""
    for locale, descriptions in words.commands.items():
        commands = [BotCommand(name, text) for name, text in descriptions.items()]
        await application.bot.set_my_commands(commands, language_code=None if locale == "en" else locale)
