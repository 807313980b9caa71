"""Simulated users: build the updates a person's Telegram client would cause, and queue them."""

from __future__ import annotations

import time
from typing import Any

from bot.standins.telegram import updates as make
from bot.standins.telegram.state import BotState

GROUP_MEMBER_ID = 2000000001  # sender of group messages when no user_id is given


class SimulatedUsers:
    """Mixin for FakeBotApi: make_* build an update (not queued), user_* build and queue it."""

    state: BotState

    def _sender(self, chat_id: int, user_id: int | None, chat_type: str, language_code: str | None
                ) -> tuple[dict[str, Any], dict[str, Any]]:
        if chat_type != "private":
            self.state.add_chat(chat_id, chat_type)
        chat = self.state.chat(chat_id)
        if user_id is None:
            user_id = chat_id if chat["type"] == "private" else GROUP_MEMBER_ID
        return chat, make.user_dict(user_id, language_code)

    def _user_message(self, chat_id: int, user_id: int | None, chat_type: str, language_code: str | None,
                      **fields: Any) -> dict[str, Any]:
        chat, sender = self._sender(chat_id, user_id, chat_type, language_code)
        message = make.message_dict(self.state.next_message_id(chat_id), chat, sender, int(time.time()), **fields)
        return self.state.new_update(message=message)

    def make_update(self, **payload: Any) -> dict[str, Any]:
        """Wrap one payload (message=..., callback_query=..., ...) in an Update with the next update_id."""
        return self.state.new_update(**payload)

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates and return it."""
        self.state.enqueue(update)
        return update

    def make_message_update(self, chat_id: int, text: str, *, user_id: int | None = None,
                            chat_type: str = "private", language_code: str | None = "en") -> dict[str, Any]:
        """Build the update for a text message (commands carry bot_command entities)."""
        return self._user_message(chat_id, user_id, chat_type, language_code, **make.text_fields(text))

    def make_sticker_update(self, chat_id: int, *, user_id: int | None = None,
                            chat_type: str = "private") -> dict[str, Any]:
        """Build the update for a sticker message."""
        sticker = make.sticker_dict(self.state.next_serial())
        return self._user_message(chat_id, user_id, chat_type, "en", sticker=sticker)

    def make_photo_update(self, chat_id: int, caption: str | None = None, *, user_id: int | None = None,
                          chat_type: str = "private") -> dict[str, Any]:
        """Build the update for a photo message, optionally captioned."""
        photo = make.photo_sizes(self.state.next_serial())
        return self._user_message(chat_id, user_id, chat_type, "en", photo=photo, caption=caption)

    def make_edit_update(self, chat_id: int, message_id: int, text: str, *,
                         user_id: int | None = None) -> dict[str, Any]:
        """Build the edited_message update for a user editing their earlier message."""
        chat, sender = self._sender(chat_id, user_id, "private", "en")
        now = int(time.time())
        edited = make.message_dict(message_id, chat, sender, now, edit_date=now, **make.text_fields(text))
        return self.state.new_update(edited_message=edited)

    def make_callback_update(self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None,
                             require_button: bool = True) -> dict[str, Any]:
        """Build the callback_query update for pressing a button under the bot's message."""
        message = self.state.find(chat_id, message_id)
        if message is None:
            raise LookupError(f"the bot has no message {message_id} in chat {chat_id}")
        if require_button and data not in [cb for _, cb in message.buttons]:
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        _, sender = self._sender(chat_id, user_id, "private", "en")
        query = make.callback_query_dict(self.state.open_query(), sender, self.state.message_json(message), data)
        return self.state.new_update(callback_query=query)

    def user_sends(self, chat_id: int, text: str, *, user_id: int | None = None, chat_type: str = "private",
                   language_code: str | None = "en") -> dict[str, Any]:
        """Queue a text message from a user and return its update."""
        return self.queue_update(self.make_message_update(
            chat_id, text, user_id=user_id, chat_type=chat_type, language_code=language_code))

    def user_presses(self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None,
                     require_button: bool = True) -> dict[str, Any]:
        """Queue a press of the button with callback data under the bot's message and return its update."""
        return self.queue_update(self.make_callback_update(
            chat_id, message_id, data, user_id=user_id, require_button=require_button))

    def user_sends_sticker(self, chat_id: int, *, user_id: int | None = None) -> dict[str, Any]:
        """Queue a sticker from a user and return its update."""
        return self.queue_update(self.make_sticker_update(chat_id, user_id=user_id))

    def user_sends_photo(self, chat_id: int, caption: str | None = None, *,
                         user_id: int | None = None) -> dict[str, Any]:
        """Queue a photo from a user and return its update."""
        return self.queue_update(self.make_photo_update(chat_id, caption, user_id=user_id))

    def user_edits(self, chat_id: int, message_id: int, text: str, *, user_id: int | None = None) -> dict[str, Any]:
        """Queue a user's edit of their earlier message and return its update."""
        return self.queue_update(self.make_edit_update(chat_id, message_id, text, user_id=user_id))
