"""The outbox as the delivery worker sees it: pending rows in priority order, and their outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, insert, select, update

from bot.services.ports import OutboundMessage
from bot.store.db import reading
from bot.store.tables import AUDIT, OUTBOX, PATIENT

_COLUMNS = (OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.platform, OUTBOX.c.recipient, OUTBOX.c.kind, OUTBOX.c.priority,
            OUTBOX.c.payload, OUTBOX.c.patient_id, OUTBOX.c.ref, OUTBOX.c.attempts, OUTBOX.c.next_attempt_at)


CHUNK = 500  # ids per IN (...) list
_BY_ID = OUTBOX.c.id == bindparam("b_id")
_MARK_SENT = update(OUTBOX).where(_BY_ID).values(
    status="sent", sent_at=bindparam("b_now"), platform_message_id=bindparam("b_message_id"),
    attempts=OUTBOX.c.attempts + 1)
_MARK_ATTEMPT = update(OUTBOX).where(_BY_ID).values(attempts=OUTBOX.c.attempts + 1)
_MARK_RETRY = update(OUTBOX).where(_BY_ID).values(next_attempt_at=bindparam("b_when"), attempts=OUTBOX.c.attempts + 1)
_MARK_FAILED = update(OUTBOX).where(_BY_ID).values(status="failed", sent_at=bindparam("b_now"),
                                                   attempts=OUTBOX.c.attempts + 1)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _message(row) -> OutboundMessage:
    return OutboundMessage(row.id, row.channel, row.platform, row.recipient, row.kind, row.priority, dict(row.payload),
                           patient_id=row.patient_id, ref=row.ref, attempts=row.attempts,
                           not_before=_aware(row.next_attempt_at) if row.attempts else None)


class SqlOutbox:
    """Read and settle outbox rows."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def _read(self):
        """Open a connection for reading (on SQLite it does not take the write lock)."""
        return reading(self.engine)

    def pending_ids(self, platform: str) -> list[int]:
        """Return the ids of a platform's undelivered rows."""
        query = select(OUTBOX.c.id).where(OUTBOX.c.status == "pending", OUTBOX.c.platform == platform)
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def messages(self, ids: list[int]) -> list[OutboundMessage]:
        """Return the rows with these ids that are still pending."""
        found = []
        with self._read() as conn:
            for start in range(0, len(ids), CHUNK):
                query = select(*_COLUMNS).where(OUTBOX.c.id.in_(ids[start:start + CHUNK]), OUTBOX.c.status == "pending")
                found.extend(_message(row) for row in conn.execute(query))
        return found

    def pending(self, channel: str, platform: str | None = None, recipient: str | None = None) -> list[OutboundMessage]:
        """Return every undelivered row of a channel, most urgent first, then oldest first."""
        query = select(*_COLUMNS).where(OUTBOX.c.channel == channel, OUTBOX.c.status == "pending")
        if platform is not None:
            query = query.where(OUTBOX.c.platform == platform)
        if recipient is not None:
            query = query.where(OUTBOX.c.recipient == recipient)
        with self._read() as conn:
            return [_message(row) for row in conn.execute(query.order_by(OUTBOX.c.priority, OUTBOX.c.id))]

    def delivered_original(self, platform: str, recipient: str, ref: str) -> tuple[str, str] | None:
        """Return (platform message id, text) of the delivered message a ref points to."""
        query = (
            select(OUTBOX.c.platform_message_id, OUTBOX.c.payload)
            .where(OUTBOX.c.platform == platform, OUTBOX.c.recipient == recipient, OUTBOX.c.ref == ref,
                   OUTBOX.c.kind.not_in(("answered", "page_update", "thread")),
                   OUTBOX.c.platform_message_id.is_not(None))
            .order_by(OUTBOX.c.id.desc())
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else (row.platform_message_id, row.payload["text"])

    def settle(self, now: datetime, sent: list[tuple[int, str | None]], retries: list[tuple[int, datetime]],
               failed: list[int], unreachable: list[int]) -> None:
        """Record a batch of delivery outcomes in one transaction."""
        with self.engine.begin() as conn:
            if sent:
                conn.execute(_MARK_SENT, [{"b_id": row_id, "b_message_id": message_id, "b_now": now}
                                          for row_id, message_id in sent])
            if retries:
                conn.execute(_MARK_RETRY, [{"b_id": row_id, "b_when": when} for row_id, when in retries])
            if failed:
                conn.execute(_MARK_FAILED, [{"b_id": row_id, "b_now": now} for row_id in failed])
            for patient_id in set(unreachable):
                self._unreachable(conn, patient_id, now)

    def begin_attempt(self, message_id: int) -> None:
        """Record, before sending, that a row is being tried (so that after a crash it is sent knowing so)."""
        with self.engine.begin() as conn:
            conn.execute(_MARK_ATTEMPT, {"b_id": message_id})

    def mark_sent(self, message_id: int, now: datetime, platform_message_id: str | None = None) -> None:
        """Record one delivery."""
        self.settle(now, [(message_id, platform_message_id)], [], [], [])

    @staticmethod
    def _unreachable(conn, patient_id: int, now: datetime) -> None:
        """Record that a patient blocked the bot: status, audit for the care team, no more sends."""
        changed = conn.execute(update(PATIENT).where(PATIENT.c.id == patient_id, PATIENT.c.status != "unreachable")
                               .values(status="unreachable")).rowcount
        if changed:
            conn.execute(insert(AUDIT).values(at=now, actor="system", action="patient_unreachable", patient_id=patient_id,
                                              detail={"reason": "blocked the bot"}))
        conn.execute(update(OUTBOX).where(OUTBOX.c.patient_id == patient_id, OUTBOX.c.channel == "patient",
                                          OUTBOX.c.status == "pending").values(status="failed"))
