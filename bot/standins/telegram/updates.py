"""Build Telegram-shaped JSON objects: users, chats, messages and updates.

Pure functions with every id passed in, so the state module owns all counters.
"""

from __future__ import annotations

import re
from typing import Any

BOT_USER: dict[str, Any] = {
    "id": 1000000001,
    "is_bot": True,
    "first_name": "CareBridge",
    "username": "carebridge_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}

UPDATE_KINDS = ("message", "edited_message", "callback_query")

_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?!\S)")


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units, as Telegram counts offsets."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[dict[str, Any]]:
    """Return a bot_command entity for every /command token in text."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in _COMMAND.finditer(text)
    ]


def user_dict(user_id: int, language_code: str | None = "en") -> dict[str, Any]:
    """Return a human Telegram User object."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
    if language_code:
        user["language_code"] = language_code
    return user


def chat_dict(chat_id: int, chat_type: str = "private", title: str | None = None) -> dict[str, Any]:
    """Return a Telegram Chat object."""
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": title or f"User{chat_id}"}
    return {"id": chat_id, "type": chat_type, "title": title or f"Chat {chat_id}"}


def message_dict(
    message_id: int,
    chat: dict[str, Any],
    sender: dict[str, Any],
    date: int,
    **fields: Any,
) -> dict[str, Any]:
    """Return a Message object; None-valued fields are left out."""
    message = {"message_id": message_id, "date": date, "chat": dict(chat), "from": dict(sender)}
    message.update({key: value for key, value in fields.items() if value is not None})
    return message


def text_fields(text: str) -> dict[str, Any]:
    """Return the text and entities fields of a text message from a user."""
    entities = command_entities(text)
    return {"text": text, "entities": entities} if entities else {"text": text}


def sticker_dict(serial: int) -> dict[str, Any]:
    """Return a regular static Sticker object."""
    return {
        "file_id": f"CAACAgIAAxkBAAIB{serial:08d}",
        "file_unique_id": f"AgADsticker{serial}",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
        "emoji": "\U0001f44d",
    }


def photo_sizes(serial: int) -> list[dict[str, Any]]:
    """Return the PhotoSize list Telegram sends for one photo."""
    return [
        {"file_id": f"AgACAgIAAxkBAAIC{serial:08d}{side}", "file_unique_id": f"AQADphoto{serial}{side}",
         "width": side, "height": side * 3 // 4, "file_size": side * 40}
        for side in (90, 320, 800)
    ]


def callback_query_dict(
    query_id: str, sender: dict[str, Any], message: dict[str, Any], data: str
) -> dict[str, Any]:
    """Return a CallbackQuery object for a button pressed under message."""
    return {
        "id": query_id,
        "from": dict(sender),
        "message": message,
        "chat_instance": str(-abs(message["chat"]["id"]) - 7_000_000_000_000),
        "data": data,
    }


def update_dict(update_id: int, **payload: Any) -> dict[str, Any]:
    """Return an Update object carrying exactly one payload, such as message=... ."""
    if len(payload) != 1:
        raise ValueError("an update carries exactly one payload")
    return {"update_id": update_id, **payload}


def update_kind(update: dict[str, Any]) -> str:
    """Return the payload type of an update (message, callback_query, ...)."""
    return next(key for key in update if key != "update_id")
