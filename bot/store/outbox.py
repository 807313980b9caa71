"""The outbox as the delivery worker sees it: due rows in priority order, and their outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from bot.services.ports import OutboundMessage
from bot.store import models as m


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _message(row: m.Outbox) -> OutboundMessage:
    return OutboundMessage(row.id, row.channel, row.platform, row.recipient, row.kind, row.priority, dict(row.payload),
                           patient_id=row.patient_id, ref=row.ref, attempts=row.attempts)


class SqlOutbox:
    """Read and settle outbox rows."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def queue(self, platforms: tuple[str, ...], limit: int = 500) -> list[tuple[OutboundMessage, datetime]]:
        """Return pending rows for these platforms with their next attempt time, most urgent first, then oldest."""
        with Session(self.engine) as session:
            query = (
                select(m.Outbox)
                .where(m.Outbox.status == "pending", m.Outbox.platform.in_(platforms))
                .order_by(m.Outbox.priority, m.Outbox.id)
                .limit(limit)
            )
            return [(_message(row), _aware(row.next_attempt_at)) for row in session.exec(query).all()]

    def pending(self, channel: str, platform: str | None = None, recipient: str | None = None) -> list[OutboundMessage]:
        """Return every undelivered row of a channel, most urgent first, then oldest first."""
        with Session(self.engine) as session:
            query = select(m.Outbox).where(m.Outbox.channel == channel, m.Outbox.status == "pending")
            if platform is not None:
                query = query.where(m.Outbox.platform == platform)
            if recipient is not None:
                query = query.where(m.Outbox.recipient == recipient)
            return [_message(row) for row in session.exec(query.order_by(m.Outbox.priority, m.Outbox.id)).all()]

    def delivered_original(self, platform: str, recipient: str, ref: str) -> tuple[str, str] | None:
        """Return (platform message id, text) of the delivered message a ref points to."""
        with Session(self.engine) as session:
            row = session.exec(
                select(m.Outbox).where(m.Outbox.platform == platform, m.Outbox.recipient == recipient,
                                       m.Outbox.ref == ref, m.Outbox.kind != "answered",
                                       m.Outbox.platform_message_id.is_not(None))
                .order_by(m.Outbox.id.desc())
            ).first()
            return None if row is None else (row.platform_message_id, row.payload["text"])

    def mark_sent(self, message_id: int, now: datetime, platform_message_id: str | None = None) -> None:
        """Record a delivery."""
        self._set(message_id, status="sent", sent_at=now, platform_message_id=platform_message_id,
                  attempts=m.Outbox.attempts + 1)

    def retry_at(self, message_id: int, when: datetime) -> None:
        """Try a row again later."""
        self._set(message_id, next_attempt_at=when, attempts=m.Outbox.attempts + 1)

    def mark_failed(self, message_id: int, now: datetime) -> None:
        """Give up on a row that can never be delivered."""
        self._set(message_id, status="failed", sent_at=now, attempts=m.Outbox.attempts + 1)

    def mark_unreachable(self, patient_id: int, now: datetime) -> None:
        """Record that a patient blocked the bot: status, audit for the care team, no more sends."""
        with Session(self.engine) as session:
            patient = session.get(m.Patient, patient_id)
            if patient.status != "unreachable":
                patient.status = "unreachable"
                session.add(patient)
                session.add(m.AuditLog(at=now, actor="system", action="patient_unreachable", patient_id=patient_id,
                                       detail={"reason": "blocked the bot"}))
            session.execute(
                update(m.Outbox)
                .where(m.Outbox.patient_id == patient_id, m.Outbox.channel == "patient", m.Outbox.status == "pending")
                .values(status="failed")
            )
            session.commit()

    def _set(self, message_id: int, **values) -> None:
        with Session(self.engine) as session:
            session.execute(update(m.Outbox).where(m.Outbox.id == message_id).values(**values))
            session.commit()
