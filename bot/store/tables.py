"""The tables as SQLAlchemy Core objects, and the dialect-aware upsert the hot path uses."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from bot.store import models as m

ANSWER: Table = m.Answer.__table__
AUDIT: Table = m.AuditLog.__table__
CHAT_LINK: Table = m.ChatLink.__table__
CLINIC: Table = m.Clinic.__table__
CONVERSATION: Table = m.Conversation.__table__
HANDOFF: Table = m.HandoffRequest.__table__
INBOUND: Table = m.InboundEvent.__table__
OUTBOX: Table = m.Outbox.__table__
PATIENT: Table = m.Patient.__table__
SCORE: Table = m.Score.__table__
SCREENING: Table = m.Screening.__table__
TIMER: Table = m.Timer.__table__


def insert_for(dialect_name: str):
    """Return the insert() that supports ON CONFLICT on this database."""
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert
