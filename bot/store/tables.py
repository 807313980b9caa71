"""The tables as SQLAlchemy Core objects, and the dialect-aware upsert the hot path uses."""

from __future__ import annotations

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.store import models as m

ANSWER: Table = m.Answer.__table__
AUDIT: Table = m.AuditLog.__table__
CHAT_LINK: Table = m.ChatLink.__table__
CLINIC: Table = m.Clinic.__table__
CONVERSATION: Table = m.Conversation.__table__
ENROLLMENT_TOKEN: Table = m.EnrollmentToken.__table__
HANDOFF: Table = m.HandoffRequest.__table__
INBOUND: Table = m.InboundEvent.__table__
ONCALL: Table = m.OnCall.__table__
OUTBOX: Table = m.Outbox.__table__
PATIENT: Table = m.Patient.__table__
SCORE: Table = m.Score.__table__
SCREENING: Table = m.Screening.__table__
TIMER: Table = m.Timer.__table__


PATIENT_COLUMNS = (
    PATIENT.c.id, PATIENT.c.code, PATIENT.c.locale, PATIENT.c.status, PATIENT.c.sex, PATIENT.c.consented_at,
    PATIENT.c.clinic_id, CLINIC.c.slug, CONVERSATION.c.state, CONVERSATION.c.context, CONVERSATION.c.screening_id,
)
PATIENT_JOINED = PATIENT.join(CLINIC, CLINIC.c.id == PATIENT.c.clinic_id).join(
    CONVERSATION, CONVERSATION.c.patient_id == PATIENT.c.id
)


def insert_for(dialect_name: str):
    """Return the insert() that supports ON CONFLICT on this database."""
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


class Statements:
    """The hot path's statements, built once per dialect so that each use only binds parameters."""

    _built: dict[str, Statements] = {}

    def __init__(self, dialect_name: str):
        upsert = insert_for(dialect_name)
        claim = upsert(INBOUND).values(key=bindparam("b_key"), received_at=bindparam("b_at"))
        self.claim = claim.on_conflict_do_nothing(index_elements=["key"]).returning(INBOUND.c.key)
        answer = upsert(ANSWER).values(
            screening_id=bindparam("b_screening_id"), instrument=bindparam("b_instrument"), item=bindparam("b_item"),
            value=bindparam("b_value"), values=bindparam("b_values"), seq=bindparam("b_seq"), answered_at=bindparam("b_at"))
        self.answer = answer.on_conflict_do_update(
            index_elements=["screening_id", "instrument", "item"],
            set_={"value": answer.excluded.value, "values": answer.excluded["values"], "seq": answer.excluded.seq,
                  "answered_at": answer.excluded.answered_at})
        self.move_timer = (
            update(TIMER)
            .where(TIMER.c.patient_id == bindparam("b_patient_id"), TIMER.c.screening_id == bindparam("b_screening_id"),
                   TIMER.c.kind == bindparam("b_kind"))
            .values(due_at=bindparam("b_due_at"), fired_at=None, cancelled=False, claimed_until=None)
        )
        self.add_timer = insert(TIMER).values(kind=bindparam("b_kind"), patient_id=bindparam("b_patient_id"),
                                              screening_id=bindparam("b_screening_id"), due_at=bindparam("b_due_at"),
                                              fired_at=None, cancelled=False)
        self.conversation = (
            update(CONVERSATION)
            .where(CONVERSATION.c.patient_id == bindparam("b_patient_id"))
            .values(state=bindparam("b_state"), context=bindparam("b_context"), updated_at=bindparam("b_at"),
                    screening_id=bindparam("b_screening_id"), version=CONVERSATION.c.version + 1)
        )
        self.patient_by_chat = (
            select(*PATIENT_COLUMNS)
            .select_from(PATIENT_JOINED.join(CHAT_LINK, CHAT_LINK.c.patient_id == PATIENT.c.id))
            .where(CHAT_LINK.c.platform == bindparam("b_platform"), CHAT_LINK.c.chat_id == bindparam("b_chat_id"))
        )
        self.patient_by_chat_locked = self.patient_by_chat.with_for_update(of=CONVERSATION)
        self.screening_answers = (
            select(SCREENING.c.ref, SCREENING.c.plan, SCREENING.c.trigger, ANSWER.c.instrument, ANSWER.c.item,
                   ANSWER.c.value, ANSWER.c["values"], ANSWER.c.seq)
            .select_from(SCREENING.outerjoin(ANSWER, ANSWER.c.screening_id == SCREENING.c.id))
            .where(SCREENING.c.id == bindparam("b_screening_id"))
            .order_by(ANSWER.c.seq)
        )
        self.screening = insert(SCREENING)
        self.end_screening = (
            update(SCREENING).where(SCREENING.c.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), ended_at=bindparam("b_at"), updated_at=bindparam("b_at"))
        )
        self.score = insert(SCORE)
        self.cancel_timers = (
            update(TIMER)
            .where(TIMER.c.screening_id == bindparam("b_screening_id"), TIMER.c.fired_at.is_(None),
                   TIMER.c.cancelled.is_(False))
            .values(cancelled=True)
        )
        self.outbox = insert(OUTBOX).returning(OUTBOX.c.id, sort_by_parameter_order=True)
        self.audit = insert(AUDIT)

    @classmethod
    def for_dialect(cls, dialect_name: str) -> Statements:
        """Return the statements of a dialect, building them the first time."""
        if dialect_name not in cls._built:
            cls._built[dialect_name] = cls(dialect_name)
        return cls._built[dialect_name]
