"""Inbound events: what reaches the core from a patient, a clinician or the clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PatientText:
    """A patient typed a message."""

    key: str
    platform: str
    chat_id: str
    text: str


@dataclass(frozen=True)
class PatientButton:
    """A patient pressed a button; `data` is the button's callback data."""

    key: str
    platform: str
    chat_id: str
    data: str


@dataclass(frozen=True)
class PatientCommand:
    """A patient sent a command (start, help, pause, resume, back, language, stop, crisis)."""

    key: str
    platform: str
    chat_id: str
    command: str
    argument: str = ""


@dataclass(frozen=True)
class PatientUnsupported:
    """A patient sent something the bot does not read (sticker, photo, voice, edit)."""

    key: str
    platform: str
    chat_id: str
    kind: str


@dataclass(frozen=True)
class TimerDue:
    """A stored timer reached its time."""

    key: str
    timer_id: int
    kind: str
    patient_code: str
    screening_ref: str | None


PatientEvent = PatientText | PatientButton | PatientCommand | PatientUnsupported
Event = PatientEvent | TimerDue

COMMANDS = ("start", "help", "pause", "resume", "back", "language", "stop", "crisis")


@dataclass(frozen=True)
class ClinicianAction:
    """A clinician pressed a handoff button: accept, decline, contact_made, scheduled or closed (with an outcome)."""

    key: str  # idempotency key, e.g. slack:action:<message ts>:<action ts>:<user>
    user_id: str  # the clinician's Slack user id
    handoff_ref: str
    action: str
    outcome: str | None = None
