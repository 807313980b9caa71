"""The simulated patients' phones: which Telegram chats exist and what each patient typed in them."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

FIRST_CHAT_ID = 7_100_001


@dataclass
class Typed:
    """A message the patient sent, with the message_id Telegram gave it (shared with the bot's in the chat)."""

    message_id: int
    text: str


@dataclass
class Phone:
    """One simulated patient's private chat with the bot."""

    chat_id: int
    label: str
    clinic: str
    typed: list[Typed] = field(default_factory=list)


class Phones:
    """Hand out chat ids for new patients and remember what they typed (the Bot API keeps only the bot's side)."""

    def __init__(self) -> None:
        """Start with no patients."""
        self._lock = threading.Lock()
        self._phones: dict[int, Phone] = {}

    def add(self, clinic: str) -> Phone:
        """Give a new patient of the clinic a phone with a fresh chat id."""
        with self._lock:
            number = len(self._phones) + 1
            phone = Phone(FIRST_CHAT_ID + number - 1, f"Patient {number}", clinic)
            self._phones[phone.chat_id] = phone
            return phone

    def get(self, chat_id: int) -> Phone:
        """Return a phone by chat id; KeyError if there is none."""
        with self._lock:
            return self._phones[chat_id]

    def typed(self, chat_id: int, message_id: int, text: str) -> None:
        """Remember a message the patient sent."""
        with self._lock:
            self._phones[chat_id].typed.append(Typed(message_id, text))

    def all(self) -> list[Phone]:
        """Return every phone, oldest first."""
        with self._lock:
            return [Phone(p.chat_id, p.label, p.clinic, list(p.typed)) for p in self._phones.values()]
