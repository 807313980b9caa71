"""Translate a Telegram Update into a domain event (nothing else: no decisions, no words)."""

from __future__ import annotations

from telegram import MessageEntity, Update

from bot.domain.events import Event, PatientButton, PatientCommand, PatientText, PatientUnsupported

PLATFORM = "telegram"


def event_key(update: Update) -> str:
    """Return the idempotency key of an update."""
    return f"{PLATFORM}:update:{update.update_id}"


def event_from_update(update: Update) -> Event | None:
    """Return the domain event an update carries, or None for updates that concern no chat."""
    chat = update.effective_chat
    if chat is None:
        return None
    key, chat_id = event_key(update), str(chat.id)
    if chat.type != "private":
        return PatientUnsupported(key, PLATFORM, chat_id, "group")
    if update.callback_query is not None:
        return PatientButton(key, PLATFORM, chat_id, update.callback_query.data or "")
    if update.edited_message is not None:
        return PatientUnsupported(key, PLATFORM, chat_id, "edit")
    message = update.message
    if message is None:
        return PatientUnsupported(key, PLATFORM, chat_id, "other")
    if message.text is None:
        return PatientUnsupported(key, PLATFORM, chat_id, _media_kind(message))
    entity = message.entities[0] if message.entities else None
    if entity is not None and entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
        command = message.text[1 : entity.length].split("@", 1)[0].lower()
        argument = message.text[entity.length :].strip()
        return PatientCommand(key, PLATFORM, chat_id, command, argument)
    return PatientText(key, PLATFORM, chat_id, message.text)


def _media_kind(message) -> str:
    for kind in ("sticker", "photo", "voice", "video", "audio", "document", "animation", "location", "contact"):
        if getattr(message, kind, None):
            return kind
    return "other"
