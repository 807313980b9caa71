"""The stored state one flow step reads: the patient's conversation and open screening."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.instruments.scoring import Answer


@dataclass
class ScreeningState:
    """An open screening: its plan and the answers so far, in the order they were given."""

    ref: str
    plan: str
    trigger: str
    answers: dict[str, dict[str, Answer]] = field(default_factory=dict)
    order: list[tuple[str, str]] = field(default_factory=list)
    next_seq: int = 1

    def record(self, instrument: str, item: str, answer: Answer) -> int:
        """Store an answer in memory and return its sequence number."""
        self.answers.setdefault(instrument, {})[item] = answer
        if (instrument, item) in self.order:
            self.order.remove((instrument, item))
        self.order.append((instrument, item))
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def forget(self, instrument: str, item: str) -> None:
        """Drop an answer from memory."""
        self.answers.get(instrument, {}).pop(item, None)
        if (instrument, item) in self.order:
            self.order.remove((instrument, item))


@dataclass
class Conversation:
    """A patient's conversation: who they are to the flow, where they are, what is pending."""

    patient_code: str
    clinic: str
    locale: str
    status: str = "active"  # active | opted_out | unreachable
    consented: bool = False
    sex: str | None = None
    state: str = "new"
    context: dict[str, Any] = field(default_factory=dict)
    screening: ScreeningState | None = None
