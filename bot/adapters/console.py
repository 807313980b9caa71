"""The console stand-in for a chat platform: typed lines in, rendered messages out."""

from __future__ import annotations

import secrets

from bot.domain.events import PatientButton, PatientCommand, PatientText
from bot.services.handle import Services, handle

PLATFORM = "console"


class ConsoleChat:
    """One patient's chat in the terminal, on the same services as every other adapter."""

    def __init__(self, services: Services, chat_id: str):
        self.services = services
        self.chat_id = chat_id

    def _key(self) -> str:
        return f"{PLATFORM}:{self.chat_id}:{secrets.token_hex(8)}"

    def start(self) -> list[dict]:
        """Send /start and return what the patient receives."""
        return self._handle(PatientCommand(self._key(), PLATFORM, self.chat_id, "start"))

    def type(self, text: str) -> list[dict]:
        """Send typed text and return what the patient receives."""
        return self._handle(PatientText(self._key(), PLATFORM, self.chat_id, text))

    def press(self, data: str) -> list[dict]:
        """Press a button and return what the patient receives."""
        return self._handle(PatientButton(self._key(), PLATFORM, self.chat_id, data))

    def _handle(self, event) -> list[dict]:
        handled = handle(self.services, event)
        toast = [{"text": handled.toast, "buttons": []}] if handled.toast else []
        return toast + self.deliver()

    def deliver(self) -> list[dict]:
        """Take this chat's pending messages from the outbox, most urgent first, marking them sent."""
        store = self.services.store
        delivered = []
        for message in store.pending_messages("patient", PLATFORM, self.chat_id):
            if message.kind != "answered":  # a terminal shows the answer as typed; nothing to edit
                delivered.append(message.payload)
            store.mark_sent(message.id, self.services.now())
        return delivered
