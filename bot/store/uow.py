"""The SQL unit of work: one transaction per event, with the chat's row locked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, select
from sqlmodel import Session

from bot.domain.effects import Effect
from bot.flows.state import Conversation as ConversationState
from bot.flows.state import ScreeningState
from bot.services.ports import OutboundMessage, PatientRef
from bot.store import models as m
from bot.store.care import SqlCare
from bot.store.caseload import SqlCaseload
from bot.store.db import is_sqlite
from bot.store.handoffs import SqlHandoffs
from bot.store.intake import SqlIntake
from bot.store.oncall import SqlOnCall
from bot.store.outbox import SqlOutbox
from bot.store.tables import CHAT_LINK, CONVERSATION, PATIENT, PATIENT_COLUMNS, PATIENT_JOINED, Statements
from bot.store.timers import claim_due_timers
from bot.store.writer import EffectWriter

class SqlUnitOfWork:
    """A transaction on the SQL store (see services.ports.UnitOfWork)."""

    def __init__(self, conn: Connection, lock_rows: bool):
        self.conn = conn
        self.lock_rows = lock_rows
        self._session: Session | None = None
        self._sql = Statements.for_dialect(conn.dialect.name)
        self._rows: dict[int, Row] = {}
        self._screenings: dict[str, int] = {}
        self.queued: list[OutboundMessage] | None = []

    @property
    def session(self) -> Session:
        """Return an ORM session in this transaction (most events need none: it is made when first asked for)."""
        if self._session is None:
            self._session = Session(bind=self.conn, expire_on_commit=False)
        return self._session

    def claim_event(self, key: str, now: datetime) -> bool:
        """Record an inbound event key; False if it was seen before (the event is then ignored)."""
        return self.conn.execute(self._sql.claim, {"b_key": key, "b_at": now}).first() is not None

    def patient_for_chat(self, platform: str, chat_id: str) -> PatientRef | None:
        """Return the patient linked to a chat, locking their conversation for this transaction."""
        sql = self._sql
        query = sql.patient_by_chat_locked if self.lock_rows else sql.patient_by_chat
        row = self.conn.execute(query, {"b_platform": platform, "b_chat_id": chat_id}).first()
        return self._remember(row, platform, chat_id)

    def patient_for_timer(self, timer_id: int, now: datetime) -> tuple[PatientRef, str, str | None] | None:
        """Mark a due timer fired and return its patient, kind and screening ref; None if not due."""
        timer = self.session.get(m.Timer, timer_id)
        if timer is None or timer.cancelled or timer.fired_at is not None:
            return None
        timer.fired_at = now
        self.session.add(timer)
        self.session.flush()
        link = self.conn.execute(select(CHAT_LINK.c.platform, CHAT_LINK.c.chat_id)
                                 .where(CHAT_LINK.c.patient_id == timer.patient_id)).first()
        screening = self.session.get(m.Screening, timer.screening_id) if timer.screening_id else None
        query = select(*PATIENT_COLUMNS).select_from(PATIENT_JOINED).where(PATIENT.c.id == timer.patient_id)
        if self.lock_rows:
            query = query.with_for_update(of=CONVERSATION)
        patient = self._remember(self.conn.execute(query).first(), link.platform if link else "", link.chat_id if link else "")
        return patient, timer.kind, screening.ref if screening else None

    def _remember(self, row: Row | None, platform: str, chat_id: str) -> PatientRef | None:
        if row is None:
            return None
        self._rows[row.id] = row
        return PatientRef(row.id, row.code, row.slug, platform, chat_id, row.locale)

    def load_conversation(self, patient: PatientRef) -> ConversationState:
        """Build the pure conversation state of a patient from the tables."""
        row = self._rows[patient.id]
        state = ConversationState(
            patient_code=row.code, clinic=row.slug, locale=row.locale, status=row.status,
            consented=row.consented_at is not None, sex=row.sex, state=row.state, context=dict(row.context),
        )
        if row.screening_id is not None:
            state.screening = self._screening_state(row.screening_id)
        return state

    def _screening_state(self, screening_id: int) -> ScreeningState:
        rows = self.conn.execute(self._sql.screening_answers, {"b_screening_id": screening_id}).all()
        state = ScreeningState(ref=rows[0].ref, plan=rows[0].plan, trigger=rows[0].trigger)
        self._screenings[state.ref] = screening_id
        for answer in rows:
            if answer.instrument is None or answer.seq == 0:
                continue  # no answers yet, or a protocol answer (the crisis acuity question) outside the plan
            value = frozenset(answer.values) if answer.values is not None else answer.value
            state.answers.setdefault(answer.instrument, {})[answer.item] = value
            state.order.append((answer.instrument, answer.item))
            state.next_seq = answer.seq + 1
        return state

    def save(self, patient: PatientRef, conv: ConversationState, effects: list[Effect], rendered: dict[int, dict], now: datetime) -> None:
        """Store the step's effects and the new conversation state."""
        clinic_id = self._rows[patient.id].clinic_id
        writer = EffectWriter(self.conn, patient, now, self._screenings, clinic_id)
        writer.write(conv, effects, rendered)
        if self.queued is not None:
            self.queued.extend(writer.queued)

    def create_patient(
        self, clinic: str, clinic_name: str, platform: str, chat_id: str, locale: str, now: datetime, code: str,
        external_ref: str | None = None,
    ) -> PatientRef:
        """Create a patient with a chat link and an empty conversation."""
        patient = m.Patient(code=code, clinic_id=self._clinic_id(clinic, clinic_name), external_ref=external_ref,
                            locale=locale, created_at=now)
        self.session.add(patient)
        self.session.flush()
        self.session.add(m.ChatLink(patient_id=patient.id, platform=platform, chat_id=chat_id, created_at=now))
        self.session.add(m.Conversation(patient_id=patient.id, state="new", context={}, updated_at=now))
        self.session.add(m.AuditLog(at=now, actor="system", action="patient_enrolled", patient_id=patient.id, detail={"platform": platform}))
        self.session.flush()
        return self.patient_for_chat(platform, chat_id)

    def redeem_token(self, token_hash: str, now: datetime) -> tuple[str, str | None, int | None] | None:
        """Use up a valid enrollment token; return its clinic slug, external ref and bound patient, or None."""
        token = self.session.exec(
            select(m.EnrollmentToken).where(m.EnrollmentToken.token_hash == token_hash).with_for_update()
        ).scalars().first()
        if token is None or token.used_at is not None or _aware(token.expires_at) <= now:
            return None
        token.used_at = now
        self.session.add(token)
        clinic = self.session.get(m.Clinic, token.clinic_id)
        return clinic.slug, token.external_ref, token.patient_id

    def add_enrollment_token(self, token_hash: str, clinic: str, clinic_name: str, external_ref: str | None,
                             now: datetime, expires_at: datetime) -> None:
        """Store a new enrollment token (hashed) for a clinic."""
        self.session.add(m.EnrollmentToken(token_hash=token_hash, clinic_id=self._clinic_id(clinic, clinic_name),
                                           external_ref=external_ref, created_at=now, expires_at=expires_at))
        self.session.add(m.AuditLog(at=now, actor="admin", action="enrollment_link_created", detail={"clinic": clinic}))

    def _clinic_id(self, slug: str, name: str) -> int:
        clinic = self.session.exec(select(m.Clinic).where(m.Clinic.slug == slug)).scalars().first()
        if clinic is None:
            clinic = m.Clinic(slug=slug, name=name)
            self.session.add(clinic)
            self.session.flush()
        return clinic.id

    def unused_patient_code(self, ids: Any) -> str:
        """Return a pseudonymous patient code no other patient has."""
        while True:
            code = ids.new("P")
            if self.conn.execute(select(PATIENT.c.id).where(PATIENT.c.code == code)).first() is None:
                return code

    def queue_direct(self, platform: str, chat_id: str, payload: dict, priority: int, now: datetime) -> None:
        """Queue a message to a chat that has no patient (e.g. an invalid enrollment link)."""
        self.queued = None  # the row's id is not read back: the worker finds it by looking at the outbox
        self.session.add(
            m.Outbox(channel="patient", platform=platform, recipient=chat_id, kind="message", priority=priority,
                     payload=payload, created_at=now, next_attempt_at=now)
        )

    @property
    def handoffs(self) -> SqlHandoffs:
        """Return handoff reads and writes in this transaction."""
        return SqlHandoffs(self.conn, self.lock_rows)

    @property
    def caseload(self) -> SqlCaseload:
        """Return the read-only handoff lists of the Home tab in this transaction."""
        return SqlCaseload(self.conn)

    @property
    def care(self) -> SqlCare:
        """Return care reads and writes (care start, check-in timers, scores) in this transaction."""
        return SqlCare(self.conn)

    @property
    def intake(self) -> SqlIntake:
        """Return staff-side patient and consult writes in this transaction."""
        return SqlIntake(self.conn)

    @property
    def oncall(self) -> SqlOnCall:
        """Return on-call cover reads and writes in this transaction."""
        return SqlOnCall(self.conn)

    def commit(self) -> None:
        """Commit the transaction."""
        if self._session is not None:
            self._session.flush()
        self.conn.commit()

    def close(self) -> None:
        """Let go of the ORM session, if one was made."""
        if self._session is not None:
            self._session.close()


def _aware(moment: datetime) -> datetime:
    """Return a datetime read back from the database as UTC-aware (SQLite drops the zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SqlStore:
    """The SQL store (see services.ports.Store)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.in_process = is_sqlite(engine)
        self.lock_rows = not self.in_process
        self.outbox = SqlOutbox(engine)

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlUnitOfWork]:
        """Open a transaction; it is rolled back unless committed."""
        with self.engine.connect() as conn:
            conn.begin()
            uow = SqlUnitOfWork(conn, self.lock_rows)
            try:
                yield uow
            finally:
                uow.close()
                conn.rollback()  # nothing, once committed

    def pending_messages(self, channel: str, platform: str | None = None, recipient: str | None = None) -> list[OutboundMessage]:
        """Return undelivered outbox rows, most urgent first, then in the order they were queued."""
        return self.outbox.pending(channel, platform, recipient)

    def mark_sent(self, message_id: int, now: datetime) -> None:
        """Record that an outbox row was delivered."""
        self.outbox.mark_sent(message_id, now)

    def claim_due_timers(self, now: datetime, limit: int) -> list[tuple[int, str]]:
        """Claim up to `limit` timers due at or before now, soonest first; other workers skip them for a while."""
        return claim_due_timers(self.engine, now, limit)
