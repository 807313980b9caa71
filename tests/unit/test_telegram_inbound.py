"""Updates as Telegram sends them (built as python-telegram-bot objects, then serialised) become domain events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import CallbackQuery, Chat, Message, MessageEntity, Sticker, Update, User

from bot.adapters.telegram.inbound import MalformedUpdate, event_from_update, press_id
from bot.domain.events import PatientButton, PatientCommand, PatientText, PatientUnsupported

USER = User(42, "Pat", is_bot=False)
PRIVATE = Chat(42, Chat.PRIVATE)
GROUP = Chat(-100, Chat.GROUP, title="Waiting room")
WHEN = datetime(2026, 11, 24, tzinfo=UTC)


def wire(update: Update) -> dict:
    """Return the JSON Telegram would send for this update."""
    return update.to_dict()


def message(text: str | None = None, chat: Chat = PRIVATE, **fields) -> Message:
    entities = fields.pop("entities", ())
    return Message(1, WHEN, chat, from_user=USER, text=text, entities=entities, **fields)


def command_entity(text: str) -> MessageEntity:
    command = text.split(" ", 1)[0]
    return MessageEntity(MessageEntity.BOT_COMMAND, 0, len(command.encode("utf-16-le")) // 2)


def test_text_and_commands():
    assert event_from_update(wire(Update(7, message=message("two")))) == PatientText(
        "telegram:update:7", "telegram", "42", "two")
    start = "/start@CareBridgeBot tok-123 "
    assert event_from_update(wire(Update(8, message=message(start, entities=[command_entity(start)])))) == \
        PatientCommand("telegram:update:8", "telegram", "42", "start", "tok-123")
    upper = "/HELP"
    assert event_from_update(wire(Update(9, message=message(upper, entities=[command_entity(upper)])))).command == "help"


def test_a_press_carries_its_data_and_the_id_to_answer_it_with():
    query = CallbackQuery("q-1", USER, "chat-instance", message=message("Question"), data="a:s1:phq9:1:n9:2")
    data = wire(Update(7, callback_query=query))
    assert event_from_update(data) == PatientButton("telegram:update:7", "telegram", "42", "a:s1:phq9:1:n9:2")
    assert press_id(data) == "q-1"
    assert press_id(wire(Update(8, message=message("hi")))) is None


def test_groups_edits_and_media_are_unsupported_and_chatless_updates_are_nothing():
    assert event_from_update(wire(Update(1, message=message("hi", chat=GROUP)))).kind == "group"
    assert event_from_update(wire(Update(2, edited_message=message("fixed")))).kind == "edit"
    sticker = Sticker("f", "u", 512, 512, False, False, Sticker.REGULAR)
    assert event_from_update(wire(Update(3, message=message(sticker=sticker)))) == PatientUnsupported(
        "telegram:update:3", "telegram", "42", "sticker")
    assert event_from_update(wire(Update(4, message=message()))).kind == "other"
    inline_press = CallbackQuery("q-2", USER, "chat-instance", inline_message_id="im-1", data="x")
    assert event_from_update(wire(Update(5, callback_query=inline_press))) is None
    assert event_from_update({"update_id": 6}) is None


@pytest.mark.parametrize("body", [
    [], "update", {"message": {"chat": {"id": 1, "type": "private"}}}, {"update_id": "7"}, {"update_id": True},
    {"update_id": 7, "message": {"chat": {"id": "42", "type": "private"}, "text": "hi"}},
    {"update_id": 7, "message": {"chat": {"type": "private"}, "text": "hi"}},
    {"update_id": 7, "message": {"chat": {"id": 42, "type": "private"}, "text": 5}},
    {"update_id": 7, "message": {"chat": {"id": 42, "type": "private"}, "text": "/x", "entities": [{"offset": 0}]}},
    {"update_id": 7, "callback_query": "press"},
])
def test_what_is_no_update_is_refused(body):
    with pytest.raises(MalformedUpdate):
        event_from_update(body)
