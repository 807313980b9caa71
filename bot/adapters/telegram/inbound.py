"""Translate a Telegram update, as the Bot API sends it (JSON), into a domain event: no decisions, no words."""

from __future__ import annotations

from typing import Any

from bot.domain.events import Event, PatientButton, PatientCommand, PatientText, PatientUnsupported

PLATFORM = "telegram"
# Update fields that carry a chat directly (a button press carries it in its message), as PTB's effective_chat.
CHAT_CARRIERS = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message",
                 "edited_business_message", "deleted_business_messages", "my_chat_member", "chat_member",
                 "chat_join_request", "message_reaction", "message_reaction_count", "chat_boost", "removed_chat_boost")
MEDIA = ("sticker", "photo", "voice", "video", "video_note", "audio", "document", "animation", "location", "contact")


class MalformedUpdate(ValueError):
    """A body that is not a Telegram update (nothing is stored for it)."""


def event_key(update_id: int) -> str:
    """Return the idempotency key of an update."""
    return f"{PLATFORM}:update:{update_id}"


def update_id(update: Any) -> int:
    """Return the update's id, or raise MalformedUpdate."""
    found = update.get("update_id") if isinstance(update, dict) else None
    if not isinstance(found, int) or isinstance(found, bool):
        raise MalformedUpdate("no update_id")
    return found


def press_id(update: dict) -> str | None:
    """Return the id to answer a button press with, or None when the update is no press."""
    query = update.get("callback_query")
    return query.get("id") if isinstance(query, dict) and isinstance(query.get("id"), str) else None


def event_from_update(update: Any) -> Event | None:
    """Return the domain event an update carries, None for updates that concern no chat; MalformedUpdate if not one."""
    try:
        return _event(update)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise MalformedUpdate(type(exc).__name__) from exc


def _event(update: Any) -> Event | None:
    key = event_key(update_id(update))
    chat = _chat(update)
    if chat is None:
        return None
    chat_id, chat_type = chat["id"], chat["type"]
    if not isinstance(chat_id, int) or isinstance(chat_id, bool) or not isinstance(chat_type, str):
        raise MalformedUpdate("chat")
    chat_id = str(chat_id)
    if chat_type != "private":
        return PatientUnsupported(key, PLATFORM, chat_id, "group")
    if "callback_query" in update:
        data = update["callback_query"].get("data")
        return PatientButton(key, PLATFORM, chat_id, data if isinstance(data, str) else "")
    if "edited_message" in update:
        return PatientUnsupported(key, PLATFORM, chat_id, "edit")
    message = update.get("message")
    if message is None:
        return PatientUnsupported(key, PLATFORM, chat_id, "other")
    text = message.get("text")
    if text is None:
        return PatientUnsupported(key, PLATFORM, chat_id, next((kind for kind in MEDIA if message.get(kind)), "other"))
    if not isinstance(text, str):
        raise MalformedUpdate("text")
    entities = message.get("entities") or []
    entity = entities[0] if entities else None
    if entity is not None and entity["type"] == "bot_command" and entity["offset"] == 0:
        length = entity["length"]  # in UTF-16 units, which are characters in a command (ASCII only)
        command = text[1:length].split("@", 1)[0].lower()
        return PatientCommand(key, PLATFORM, chat_id, command, text[length:].strip())
    return PatientText(key, PLATFORM, chat_id, text)


def _chat(update: dict) -> dict | None:
    if "callback_query" in update:
        message = update["callback_query"].get("message")
        return message["chat"] if message is not None else None  # a press on an inline-mode message has no chat
    carrier = next((update[field] for field in CHAT_CARRIERS if field in update), None)
    return carrier.get("chat") if carrier is not None else None

