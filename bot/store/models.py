"""The tables. Patients are known by pseudonymous codes; answers never leave these rows for logs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UtcDateTime(TypeDecorator):
    """A point in time, always written in UTC (SQLite compares the text: a -06:00 time would sort wrongly)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value


def moment(**kwargs: Any) -> Any:
    """Return a column for a point in time, stored with its time zone (UTC)."""
    return Field(sa_type=UtcDateTime, **kwargs)


class Clinic(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str


class Patient(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)  # pseudonymous, e.g. P-7K3Q
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    external_ref: str | None = Field(default=None, index=True)
    locale: str = "en"
    sex: str | None = None
    status: str = "active"  # active | opted_out | unreachable
    consented_at: datetime | None = moment(default=None)
    created_at: datetime = moment()
    care_started_at: datetime | None = moment(default=None)  # a handoff was accepted: check-ins and registry


class ChatLink(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    platform: str
    chat_id: str
    created_at: datetime = moment()


class EnrollmentToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)  # sha256 of the token; the token itself is never stored
    clinic_id: int = Field(foreign_key="clinic.id")
    external_ref: str | None = None
    created_at: datetime = moment()
    expires_at: datetime = moment()
    used_at: datetime | None = moment(default=None)
    patient_id: int | None = Field(default=None, foreign_key="patient.id")


class Conversation(SQLModel, table=True):
    patient_id: int = Field(foreign_key="patient.id", primary_key=True)
    state: str = "new"
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    screening_id: int | None = Field(default=None, foreign_key="screening.id")
    version: int = 0
    updated_at: datetime = moment()


class Screening(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    plan: str
    trigger: str
    status: str = "open"  # open | completed | expired | stopped | ended_after_crisis
    started_at: datetime = moment()
    updated_at: datetime = moment()
    ended_at: datetime | None = moment(default=None)


class Answer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("screening_id", "instrument", "item"),)
    id: int | None = Field(default=None, primary_key=True)
    screening_id: int = Field(foreign_key="screening.id", index=True)
    instrument: str
    item: str
    value: int | None = None
    values: list[int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    seq: int  # order of answering within the screening; 0 for protocol answers outside the plan
    answered_at: datetime = moment()


class Score(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("screening_id", "instrument"),)
    id: int | None = Field(default=None, primary_key=True)
    screening_id: int = Field(foreign_key="screening.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    instrument: str
    total: int | None = None
    band: str | None = None
    positive: bool
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subscales: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    scored_at: datetime = moment()


class HandoffRequest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    screening_id: int | None = Field(default=None, foreign_key="screening.id")
    urgency: str  # routine | urgent | crisis
    reason: str
    source: str
    callback_requested: bool = False
    status: str = "open"  # open (paging) | accepted | contact_made | scheduled | closed
    created_at: datetime = moment()
    updated_at: datetime = moment()
    rung: int = 0  # the escalation rung reached while nobody accepts
    unanswered_at: datetime | None = moment(default=None)  # the ladder's last rung was reached
    accepted_by: str | None = None  # Slack user id
    accepted_at: datetime | None = moment(default=None)
    outcome: str | None = None  # how it was closed
    requested_by: str | None = None  # Slack user id of the PCP who asked for a consult
    in_room: bool = False  # the PCP says the patient is in the room now
    note: str | None = None  # the PCP's note on a consult (free text: shown in Slack, never logged)


class OnCall(SQLModel, table=True):
    """Who covers a role instead of the configured shift, from one moment to another (/oncall take, handover)."""

    id: int | None = Field(default=None, primary_key=True)
    clinic: str = Field(index=True)  # the clinic's slug, as in the clinic file
    role: str  # primary | backup
    slack_id: str
    starts_at: datetime = moment(index=True)
    ends_at: datetime = moment(index=True)
    set_by: str  # Slack user id
    created_at: datetime = moment()


class Timer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str
    patient_id: int = Field(foreign_key="patient.id", index=True)
    screening_id: int | None = Field(default=None, foreign_key="screening.id", index=True)
    handoff_id: int | None = Field(default=None, foreign_key="handoffrequest.id", index=True)
    due_at: datetime = moment(index=True)
    fired_at: datetime | None = moment(default=None)
    cancelled: bool = False
    claimed_until: datetime | None = moment(default=None)  # a worker is firing it; others leave it until then


class Outbox(SQLModel, table=True):
    # The worker's queue read: pending rows of a platform, most urgent first, then oldest.
    __table_args__ = (Index("ix_outbox_queue", "status", "platform", "priority", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(index=True)  # patient | clinic
    platform: str  # telegram | console | slack
    recipient: str  # chat id, or the clinic slug for pages
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    handoff_id: int | None = Field(default=None, foreign_key="handoffrequest.id")
    kind: str
    ref: str | None = Field(default=None, index=True)  # question nonce: links an edit to the message it edits
    priority: int = Field(index=True)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    platform_message_id: str | None = None  # the platform's id of the delivered message
    status: str = Field(default="pending", index=True)  # pending | sent | failed
    attempts: int = 0
    created_at: datetime = moment()
    next_attempt_at: datetime = moment()
    sent_at: datetime | None = moment(default=None)


class InboundEvent(SQLModel, table=True):
    key: str = Field(primary_key=True)  # e.g. telegram:update:123, console:7, timer:42
    received_at: datetime = moment()


class AuditLog(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = moment(index=True)
    actor: str  # patient:<code> | clinician:<id> | system
    action: str
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DeliveryLease(SQLModel, table=True):
    """One worker's right, until a moment of the database's clock, to deliver to one chat (PostgreSQL)."""

    platform: str = Field(primary_key=True)
    recipient: str = Field(primary_key=True)
    holder: str
    until: datetime = moment()


class RateBucket(SQLModel, table=True):
    """A send rate shared by every worker: tokens left at a moment of the database's clock (PostgreSQL)."""

    name: str = Field(primary_key=True)
    tokens: float
    updated_at: datetime = moment()
