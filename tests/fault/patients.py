"""Simulated patients for the fault tests: each follows one plan that ends with a page to the team."""

from __future__ import annotations

import socket

from bot.standins.telegram.app import FakeBotApi

# The plan every patient follows: PHQ-2 2, 2 (positive), PHQ-9 items 3-8 at 2, item 9 "Not at all", difficulty 1:
# PHQ-9 of 16, which offers a talk with the team; each patient says yes, which pages the team.
EXPECTED = {("phq2", "q1"): 2, ("phq2", "q2"): 2, **{("phq9", f"q{n}"): 2 for n in range(3, 9)},
            ("phq9", "q9"): 0, ("phq9", "difficulty"): 1}


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def choose(message) -> str | None:
    """Return the callback data a patient following the plan presses under this message (None: none)."""
    labels = [label for label, _ in message.buttons]
    if "I agree" in labels or "Yes, connect me" in labels:
        return message.buttons[0][1]
    if "better off dead" in message.text:
        return message.buttons[labels.index("Not at all")][1]
    if "Somewhat difficult" in labels:
        return message.buttons[labels.index("Somewhat difficult")][1]
    if "More than half the days" in labels:
        return message.buttons[labels.index("More than half the days")][1]
    return None  # e.g. "Call me later" under the message naming who will call: the patient waits


class Patients:
    """Simulated patients who press the plan's answer under the newest question they see."""

    def __init__(self, api: FakeBotApi, chats: list[int]):
        self.api = api
        self.chats = chats
        self.pressed: dict[int, set[int]] = {chat: set() for chat in chats}

    def act(self) -> None:
        """Press the plan's answer under each patient's newest question not pressed yet."""
        for chat in self.chats:
            asked = [m for m in self.api.sent(chat) if m.buttons]
            if asked and asked[-1].message_id not in self.pressed[chat]:
                self.pressed[chat].add(asked[-1].message_id)
                if (data := choose(asked[-1])) is not None:
                    self.api.user_presses(chat, asked[-1].message_id, data)

    def done(self) -> bool:
        """Say whether every patient has been told the team will contact them."""
        return all(any("will contact you" in m.text for m in self.api.sent(chat)) for chat in self.chats)
