"""The one dispatch call: store and apply an update, then answer its button press."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from bot.adapters.telegram.inbound import event_from_update, press_id
from bot.domain.events import Event
from bot.flows.parsing import Words
from bot.metrics import count_event
from bot.services.handle import Handled, Services, handle

log = logging.getLogger(__name__)


async def process_update(services: Services, bot: Bot, update: dict,
                         after: Callable[[Handled], None] = lambda _handled: None) -> Handled | None:
    """Store and apply one update (raises MalformedUpdate for a body that is none), then answer its button press."""
    event = event_from_update(update)
    if event is None:
        return None
    handled = await apply(services, event)
    count_event("telegram", handled.status)
    after(handled)
    query_id = press_id(update)
    if query_id is not None:
        await answer_press(bot, query_id, handled.toast)
    return handled


async def apply(services: Services, event: Event) -> Handled:
    """Run handle() on the event loop when the database is a file of this process, else in a thread."""
    # SQLite: a transaction is ~1 ms of CPU, and handing it to a thread cost as much again (the GIL passed back
    # and forth with the loop's sends). PostgreSQL: a transaction waits on the network, which a thread overlaps.
    if services.store.in_process:
        return handle(services, event)
    return await asyncio.to_thread(handle, services, event)


async def answer_press(bot: Bot, query_id: str, toast: str | None) -> None:
    """Stop the press's spinner, with a toast if there is one (every press is answered)."""
    try:
        await bot.answer_callback_query(query_id, text=toast)
    except TelegramError as exc:  # the press is stored; a lost spinner stop is harmless
        log.info("press not answered", extra={"error": type(exc).__name__})


async def register_commands(bot: Bot, words: Words) -> None:
    """Register the command menu in English (the default) and Spanish."""
    for locale, descriptions in words.commands.items():
        commands = [BotCommand(name, text) for name, text in descriptions.items()]
        await bot.set_my_commands(commands, language_code=None if locale == "en" else locale)
