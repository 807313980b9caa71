"""Effects: what one flow step decided; the service stores them in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Outbox priorities: lower is sent first.
CRISIS, REPLY, REMINDER, CHECKIN = 0, 10, 20, 30


@dataclass(frozen=True)
class Choice:
    """A button: its label is option text, or a word key from messages/<locale>/words.yaml."""

    data: str
    text: str | None = None
    word: str | None = None


@dataclass(frozen=True)
class Say:
    """Send the patient a message rendered from a template."""

    template: str
    variables: dict[str, Any] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    priority: int = REPLY
    ref: str | None = None  # the nonce of a question or prompt, so its message can be edited once answered


@dataclass(frozen=True)
class Toast:
    """Answer a button press with a short notice instead of a message (e.g. "already answered")."""

    template: str


@dataclass(frozen=True)
class QuestionAnswered:
    """Show under an answered question what was chosen, and take its buttons away."""

    ref: str
    text: str | None = None
    word: str | None = None


@dataclass(frozen=True)
class ScreeningStarted:
    ref: str
    plan: str
    trigger: str


@dataclass(frozen=True)
class ScreeningEnded:
    ref: str
    status: str  # completed | expired | stopped | ended_after_crisis


@dataclass(frozen=True)
class AnswerSaved:
    screening_ref: str
    instrument: str
    item: str
    value: int | None
    values: tuple[int, ...] | None
    seq: int


@dataclass(frozen=True)
class AnswerRemoved:
    screening_ref: str
    instrument: str
    item: str


@dataclass(frozen=True)
class ScoreSaved:
    screening_ref: str
    instrument: str
    total: int | None
    band: str | None
    positive: bool
    flags: tuple[str, ...]
    subscales: dict[str, int]


@dataclass(frozen=True)
class ScoreRemoved:
    screening_ref: str
    instrument: str


@dataclass(frozen=True)
class HandoffRequested:
    ref: str
    urgency: str
    reason: str
    source: str  # screening | crisis | crisis_phrase | patient_request
    screening_ref: str | None
    callback_requested: bool = False


@dataclass(frozen=True)
class HandoffUrgencyRaised:
    ref: str
    urgency: str
    reason: str


@dataclass(frozen=True)
class PageQueued:
    """Tell the clinic's behavioral health team about a handoff request."""

    handoff_ref: str
    urgency: str
    reason: str
    priority: int = REPLY
    callback_requested: bool = False


@dataclass(frozen=True)
class CallbackRequested:
    """The patient asks the clinician who took their handoff to call later (said in the page's thread)."""

    handoff_ref: str


@dataclass(frozen=True)
class TimerScheduled:
    kind: str  # reminder | expiry
    due_at: datetime
    screening_ref: str | None


@dataclass(frozen=True)
class CheckInScheduled:
    """Set the patient's next check-in of an instrument (one pending per instrument)."""

    instrument: str
    due_at: datetime


@dataclass(frozen=True)
class TimersCancelled:
    screening_ref: str


@dataclass(frozen=True)
class PatientUpdated:
    locale: str | None = None
    status: str | None = None
    consented_at: datetime | None = None


@dataclass(frozen=True)
class Audited:
    action: str
    detail: dict[str, Any] = field(default_factory=dict)


Effect = (
    Say
    | Toast
    | QuestionAnswered
    | ScreeningStarted
    | ScreeningEnded
    | AnswerSaved
    | AnswerRemoved
    | ScoreSaved
    | ScoreRemoved
    | HandoffRequested
    | HandoffUrgencyRaised
    | PageQueued
    | TimerScheduled
    | TimersCancelled
    | PatientUpdated
    | Audited
)
