"""Handoffs in the caller's transaction: read one, accept it at most once, move it along, queue and audit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bot.services.ports import HandoffRecord, OutboundMessage
from bot.store.tables import AUDIT, CHAT_LINK, CLINIC, HANDOFF, OUTBOX, PATIENT, TIMER

ESCALATE = "escalate"
OPEN = "open"

_COLUMNS = (
    HANDOFF.c.id, HANDOFF.c.ref, HANDOFF.c.status, HANDOFF.c.urgency, HANDOFF.c.reason, HANDOFF.c.source,
    HANDOFF.c.rung, HANDOFF.c.accepted_by, HANDOFF.c.accepted_at, HANDOFF.c.created_at, HANDOFF.c.requested_by,
    HANDOFF.c.callback_requested, HANDOFF.c.patient_id, HANDOFF.c.in_room, HANDOFF.c.note, PATIENT.c.code,
    PATIENT.c.locale, PATIENT.c.external_ref, CLINIC.c.slug, CHAT_LINK.c.platform, CHAT_LINK.c.chat_id,
)
_JOINED = (
    HANDOFF.join(PATIENT, PATIENT.c.id == HANDOFF.c.patient_id).join(CLINIC, CLINIC.c.id == HANDOFF.c.clinic_id)
    .outerjoin(CHAT_LINK, CHAT_LINK.c.patient_id == PATIENT.c.id)
)


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


class SqlHandoffs:
    """Handoff reads and writes on one connection (the unit of work's)."""

    def __init__(self, conn: Connection, lock_rows: bool):
        self.conn = conn
        self.lock_rows = lock_rows

    def get(self, ref: str | None = None, handoff_id: int | None = None) -> HandoffRecord | None:
        """Return a handoff by ref or id, locking its row on PostgreSQL."""
        query = select(*_COLUMNS).select_from(_JOINED)
        query = query.where(HANDOFF.c.ref == ref) if ref is not None else query.where(HANDOFF.c.id == handoff_id)
        if self.lock_rows:
            query = query.with_for_update(of=HANDOFF)
        row = self.conn.execute(query).first()
        if row is None:
            return None
        return HandoffRecord(
            id=row.id, ref=row.ref, status=row.status, urgency=row.urgency, reason=row.reason, source=row.source,
            rung=row.rung, accepted_by=row.accepted_by, accepted_at=_aware(row.accepted_at),
            created_at=_aware(row.created_at), requested_by=row.requested_by, callback_requested=row.callback_requested,
            patient_id=row.patient_id, patient_code=row.code, locale=row.locale, clinic=row.slug,
            platform=row.platform, chat_id=row.chat_id, in_room=row.in_room, note=row.note, external_ref=row.external_ref,
        )

    def external_ref(self, patient_id: int) -> str | None:
        """Return a patient's clinic reference (MRN), for pages in workspaces cleared for PHI."""
        return self.conn.execute(select(PATIENT.c.external_ref).where(PATIENT.c.id == patient_id)).scalar_one_or_none()

    def accept(self, handoff_id: int, user: str, now: datetime) -> bool:
        """Mark an open handoff accepted by user; False if someone else got there first."""
        won = self.conn.execute(
            update(HANDOFF).where(HANDOFF.c.id == handoff_id, HANDOFF.c.status == OPEN)
            .values(status="accepted", accepted_by=user, accepted_at=now, updated_at=now)
        ).rowcount
        return won == 1

    def move(self, handoff_id: int, now: datetime, **values: Any) -> None:
        """Change a handoff's status, rung or outcome."""
        self.conn.execute(update(HANDOFF).where(HANDOFF.c.id == handoff_id).values(updated_at=now, **values))

    def escalate_at(self, handoff: HandoffRecord, due_at: datetime | None) -> None:
        """Set (or with None, cancel) the handoff's one escalation timer."""
        self.conn.execute(update(TIMER).where(TIMER.c.handoff_id == handoff.id, TIMER.c.fired_at.is_(None),
                                              TIMER.c.cancelled.is_(False)).values(cancelled=True))
        if due_at is not None:
            self.conn.execute(insert(TIMER).values(kind=ESCALATE, patient_id=handoff.patient_id, handoff_id=handoff.id,
                                                   due_at=due_at, fired_at=None, cancelled=False))

    def fire_timer(self, timer_id: int, now: datetime) -> int | None:
        """Mark a due escalation timer fired and return its handoff id; None if it was cancelled or fired."""
        changed = self.conn.execute(
            update(TIMER).where(TIMER.c.id == timer_id, TIMER.c.fired_at.is_(None), TIMER.c.cancelled.is_(False))
            .values(fired_at=now)
        ).rowcount
        if not changed:
            return None
        return self.conn.execute(select(TIMER.c.handoff_id).where(TIMER.c.id == timer_id)).scalar_one()

    def queue(self, handoff: HandoffRecord, platform: str, recipient: str, kind: str, priority: int, payload: dict,
              now: datetime, ref: str | None = None) -> OutboundMessage:
        """Insert an outbox row about this handoff and return it."""
        channel = "patient" if platform != "slack" else "clinic"
        row_id = self.conn.execute(insert(OUTBOX).values(
            channel=channel, platform=platform, recipient=recipient, patient_id=handoff.patient_id,
            handoff_id=handoff.id, kind=kind, ref=ref, priority=priority, payload=payload, status="pending",
            attempts=0, created_at=now, next_attempt_at=now,
        ).returning(OUTBOX.c.id)).scalar_one()
        return OutboundMessage(row_id, channel, platform, recipient, kind, priority, payload,
                               patient_id=handoff.patient_id, ref=ref)

    def audit(self, handoff: HandoffRecord, actor: str, action: str, now: datetime, **detail: Any) -> None:
        """Record a change of the handoff with who did it."""
        self.conn.execute(insert(AUDIT).values(at=now, actor=actor, action=action, patient_id=handoff.patient_id,
                                               detail={"handoff": handoff.ref, **detail}))
