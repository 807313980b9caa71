"""Deliver outbox rows through the Bot API, translating the platform's answers into outcomes."""

from __future__ import annotations

import json
from dataclasses import dataclass

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.adapters.telegram.client import allow_raw_calls, retry_after_seconds
from bot.services.ports import OutboundMessage

SHORT_LABEL = 14  # labels up to this long may share a row; longer ones get a row each
ANSWERED_MARK = "✓"


@dataclass(frozen=True)
class Outcome:
    """What happened to one delivery: sent, retry later, blocked by the user, or failed for good."""

    kind: str  # sent | retry | transient | unreachable | failed
    message_id: str | None = None
    retry_after: float | None = None
    reason: str | None = None


def keyboard(buttons: list[dict]) -> dict | None:
    """Lay out buttons as an inline keyboard's reply_markup: short labels side by side, long labels one per row."""
    if not buttons:
        return None
    if len(buttons) <= 3 and all(len(b["text"]) <= SHORT_LABEL for b in buttons):
        rows = [buttons]
    else:
        rows = [[b] for b in buttons]
    return {"inline_keyboard": [[{"text": b["text"], "callback_data": b["data"]} for b in row] for row in rows]}


class TelegramSender:
    """Send messages and edits with a python-telegram-bot Bot."""

    def __init__(self, bot: Bot):
        self.bot = bot
        allow_raw_calls()  # raw sends: no Message built from every reply

    async def deliver(self, message: OutboundMessage, original: tuple[str, str] | None) -> Outcome:
        """Send one outbox row; for an 'answered' row, edit the question it refers to."""
        try:
            if message.kind == "answered":
                return await self._edit(message, original)
            arguments = {"chat_id": int(message.recipient), "text": message.payload["text"]}
            markup = keyboard(message.payload["buttons"])
            if markup is not None:  # as the JSON text PTB would make of it, without its walk through every button
                arguments["reply_markup"] = json.dumps(markup)
            sent = await self.bot.do_api_request("sendMessage", api_kwargs=arguments)  # raw: no Message parsing
            return Outcome("sent", message_id=str(sent["message_id"]))
        except RetryAfter as exc:
            return Outcome("retry", retry_after=retry_after_seconds(exc))
        except Forbidden:
            return Outcome("unreachable", reason="forbidden")
        except BadRequest as exc:
            if "message is not modified" in str(exc).lower():
                return Outcome("sent")
            return Outcome("failed", reason="bad_request")
        except (TimedOut, NetworkError):
            return Outcome("transient", reason="network")

    async def _edit(self, message: OutboundMessage, original: tuple[str, str] | None) -> Outcome:
        if original is None:
            return Outcome("sent")  # the question never reached Telegram: nothing to edit
        message_id, text = original
        await self.bot.do_api_request("editMessageText", api_kwargs={
            "chat_id": int(message.recipient), "message_id": int(message_id),
            "text": f"{text}\n\n{ANSWERED_MARK} {message.payload['label']}",
        })
        return Outcome("sent", message_id=message_id)
