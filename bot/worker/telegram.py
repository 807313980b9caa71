"""Wire the delivery of Telegram messages: the sender over the bot's client, alone or shared with other workers."""

from __future__ import annotations

from telegram import Bot

from bot.adapters.telegram.outbound import TelegramSender
from bot.services.handle import Services
from bot.worker.delivery import DeliveryWorker
from bot.worker.pace import RateLimits
from bot.worker.sharing import sharing


def telegram_delivery(services: Services, bot: Bot, limits: RateLimits, holder: str | None) -> DeliveryWorker:
    """Return the Telegram delivery worker; with a holder name on PostgreSQL its chats and pace are shared."""
    outbox = services.store.outbox
    return DeliveryWorker(outbox, "telegram", TelegramSender(bot), services.clock, limits,
                          sharing=sharing(outbox, "telegram", limits.global_per_second, limits.global_burst, holder))
