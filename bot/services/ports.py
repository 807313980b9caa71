"""What the services need from the outside, as protocols: storage, rendering, time, ids."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.domain.effects import Effect, Say
from bot.flows.state import Conversation


@dataclass(frozen=True)
class PatientRef:
    """A patient as the services see one: ids and routing, no answers."""

    id: int
    code: str
    clinic: str
    platform: str
    chat_id: str
    locale: str


@dataclass(frozen=True)
class OutboundMessage:
    """A message waiting in the outbox."""

    id: int
    channel: str
    platform: str
    recipient: str
    kind: str
    priority: int
    payload: dict[str, Any]
    patient_id: int | None = None
    ref: str | None = None
    attempts: int = 0
    not_before: datetime | None = None  # a retry's earliest next attempt


@dataclass(frozen=True)
class Cover:
    """A clinician covering a role (primary or backup) instead of the shift in the clinic file."""

    role: str
    slack_id: str
    starts_at: datetime
    ends_at: datetime
    set_by: str


@dataclass(frozen=True)
class HandoffRecord:
    """A handoff request as the services see it, with its patient's code, language and chat."""

    id: int
    ref: str
    status: str  # open | accepted | contact_made | scheduled | closed
    urgency: str
    reason: str
    source: str
    rung: int
    accepted_by: str | None
    accepted_at: datetime | None
    created_at: datetime
    requested_by: str | None
    callback_requested: bool
    patient_id: int
    patient_code: str
    locale: str
    clinic: str
    platform: str | None
    chat_id: str | None
    in_room: bool = False
    note: str | None = None
    external_ref: str | None = None


class UnitOfWork(Protocol):
    """One transaction: everything an event changes commits together or not at all."""

    queued: list[OutboundMessage] | None  # the outbox rows written so far; None if some are not known

    def claim_event(self, key: str, now: datetime) -> bool: ...
    def patient_for_chat(self, platform: str, chat_id: str) -> PatientRef | None: ...
    def patient_for_timer(self, timer_id: int, now: datetime) -> tuple[PatientRef, str, str | None] | None: ...
    def load_conversation(self, patient: PatientRef) -> Conversation: ...
    def save(self, patient: PatientRef, conv: Conversation, effects: list[Effect], rendered: dict[int, dict], now: datetime) -> None: ...
    def create_patient(self, clinic: str, clinic_name: str, platform: str, chat_id: str, locale: str, now: datetime, code: str, external_ref: str | None = None) -> PatientRef: ...
    def add_enrollment_token(self, token_hash: str, clinic: str, clinic_name: str, external_ref: str | None, now: datetime, expires_at: datetime) -> None: ...
    def redeem_token(self, token_hash: str, now: datetime) -> tuple[str, str | None, int | None] | None: ...
    def unused_patient_code(self, ids: Any) -> str: ...
    def queue_direct(self, platform: str, chat_id: str, payload: dict, priority: int, now: datetime) -> None: ...
    def commit(self) -> None: ...
    @property
    def handoffs(self) -> Any: ...
    @property
    def oncall(self) -> Any: ...
    @property
    def intake(self) -> Any: ...
    @property
    def caseload(self) -> Any: ...
    @property
    def care(self) -> Any: ...


class Store(Protocol):
    """Opens units of work and reads the outbox."""

    in_process: bool  # the database is a file this process opens itself (SQLite), not a server (PostgreSQL)

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]: ...
    def pending_messages(self, channel: str, platform: str | None = None, recipient: str | None = None) -> list[OutboundMessage]: ...
    def mark_sent(self, message_id: int, now: datetime) -> None: ...
    def claim_due_timers(self, now: datetime, limit: int) -> list[tuple[int, str]]: ...


class Presenter(Protocol):
    """Turn a Say effect into the text and buttons a patient receives."""

    def patient_message(self, say: Say, locale: str) -> dict[str, Any]: ...
    def toast(self, template: str, locale: str) -> str: ...
    def label(self, word: str, locale: str) -> str: ...
    def page(self, variables: dict[str, Any]) -> str: ...
    def team(self, template: str, **variables: Any) -> str: ...
