"""Show a patient's chat as their phone would: the bot's messages (edits applied) and their own, in order."""

from __future__ import annotations

from typing import Any

from bot.sandbox.phones import Phone
from bot.standins.telegram.app import FakeBotApi
from bot.standins.telegram.state import SentMessage


def _button(button: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"text": button.get("text", "")}
    if button.get("callback_data") is not None:
        shown["data"] = button["callback_data"]
    elif button.get("url"):
        shown["url"] = button["url"]
    return shown


def bot_message(message: SentMessage) -> dict[str, Any]:
    """Return one bot message for the page: text, whether it was edited, and its inline keyboard."""
    return {"id": message.message_id, "from": "bot", "text": message.text, "edited": message.edit_date is not None,
            "keyboard": [[_button(b) for b in row] for row in message.keyboard]}


def chat_json(telegram: FakeBotApi, phone: Phone) -> dict[str, Any]:
    """Return the patient's chat for the page, oldest message first."""
    messages = [bot_message(m) for m in telegram.sent(phone.chat_id)]
    messages += [{"id": t.message_id, "from": "patient", "text": t.text, "edited": False, "keyboard": []}
                 for t in phone.typed]
    return {"chat_id": phone.chat_id, "label": phone.label, "clinic": phone.clinic,
            "messages": sorted(messages, key=lambda m: m["id"])}


def phone_summary(telegram: FakeBotApi, phone: Phone) -> dict[str, Any]:
    """Return a patient's entry in the page's list: label, clinic and how many messages the chat holds."""
    return {"chat_id": phone.chat_id, "label": phone.label, "clinic": phone.clinic,
            "count": len(telegram.sent(phone.chat_id)) + len(phone.typed)}
