"""The SQL unit of work: one transaction per event, with the chat's row locked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.domain.effects import Effect
from bot.flows.state import Conversation as ConversationState
from bot.flows.state import ScreeningState
from bot.services.ports import OutboundMessage, PatientRef
from bot.store import models as m
from bot.store.db import is_sqlite
from bot.store.outbox import SqlOutbox
from bot.store.writer import EffectWriter


class SqlUnitOfWork:
    """A transaction on the SQL store (see services.ports.UnitOfWork)."""

    def __init__(self, session: Session, lock_rows: bool):
        self.session = session
        self.lock_rows = lock_rows

    def claim_event(self, key: str, now: datetime) -> bool:
        """Record an inbound event key; False if it was seen before (the event is then ignored)."""
        if self.session.get(m.InboundEvent, key) is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.add(m.InboundEvent(key=key, received_at=now))
        except IntegrityError:
            return False
        return True

    def patient_for_chat(self, platform: str, chat_id: str) -> PatientRef | None:
        """Return the patient linked to a chat, locking their conversation for this transaction."""
        link = self.session.exec(select(m.ChatLink).where(m.ChatLink.platform == platform, m.ChatLink.chat_id == chat_id)).first()
        return None if link is None else self._ref(link.patient_id, link)

    def patient_for_timer(self, timer_id: int, now: datetime) -> tuple[PatientRef, str, str | None] | None:
        """Mark a due timer fired and return its patient, kind and screening ref; None if not due."""
        timer = self.session.get(m.Timer, timer_id)
        if timer is None or timer.cancelled or timer.fired_at is not None:
            return None
        timer.fired_at = now
        self.session.add(timer)
        link = self.session.exec(select(m.ChatLink).where(m.ChatLink.patient_id == timer.patient_id)).first()
        screening = self.session.get(m.Screening, timer.screening_id) if timer.screening_id else None
        return self._ref(timer.patient_id, link), timer.kind, screening.ref if screening else None

    def _ref(self, patient_id: int, link: m.ChatLink | None) -> PatientRef:
        self._lock(patient_id)
        patient = self.session.get(m.Patient, patient_id)
        clinic = self.session.get(m.Clinic, patient.clinic_id)
        return PatientRef(
            patient.id, patient.code, clinic.slug, link.platform if link else "", link.chat_id if link else "", patient.locale
        )

    def _lock(self, patient_id: int) -> None:
        if self.lock_rows:
            self.session.exec(select(m.Conversation).where(m.Conversation.patient_id == patient_id).with_for_update()).first()

    def load_conversation(self, patient: PatientRef) -> ConversationState:
        """Build the pure conversation state of a patient from the tables."""
        row = self.session.get(m.Patient, patient.id)
        conv = self.session.get(m.Conversation, patient.id)
        state = ConversationState(
            patient_code=row.code,
            clinic=patient.clinic,
            locale=row.locale,
            status=row.status,
            consented=row.consented_at is not None,
            sex=row.sex,
            state=conv.state,
            context=dict(conv.context),
        )
        if conv.screening_id is not None:
            state.screening = self._screening_state(self.session.get(m.Screening, conv.screening_id))
        return state

    def _screening_state(self, screening: m.Screening) -> ScreeningState:
        state = ScreeningState(ref=screening.ref, plan=screening.plan, trigger=screening.trigger)
        answers = self.session.exec(select(m.Answer).where(m.Answer.screening_id == screening.id).order_by(m.Answer.seq)).all()
        for answer in answers:
            if answer.seq == 0:
                continue  # protocol answers (the crisis acuity question) are not part of the plan
            value = frozenset(answer.values) if answer.values is not None else answer.value
            state.answers.setdefault(answer.instrument, {})[answer.item] = value
            state.order.append((answer.instrument, answer.item))
            state.next_seq = answer.seq + 1
        return state

    def save(self, patient: PatientRef, conv: ConversationState, effects: list[Effect], rendered: dict[int, dict], now: datetime) -> None:
        """Store the step's effects and the new conversation state."""
        EffectWriter(self.session, patient, now).write(conv, effects, rendered)

    def create_patient(
        self, clinic: str, clinic_name: str, platform: str, chat_id: str, locale: str, now: datetime, code: str,
        external_ref: str | None = None,
    ) -> PatientRef:
        """Create a patient with a chat link and an empty conversation."""
        patient = m.Patient(code=code, clinic_id=self._clinic_id(clinic, clinic_name), external_ref=external_ref, locale=locale, created_at=now)
        self.session.add(patient)
        self.session.flush()
        self.session.add(m.ChatLink(patient_id=patient.id, platform=platform, chat_id=chat_id, created_at=now))
        self.session.add(m.Conversation(patient_id=patient.id, state="new", context={}, updated_at=now))
        self.session.add(m.AuditLog(at=now, actor="system", action="patient_enrolled", patient_id=patient.id, detail={"platform": platform}))
        self.session.flush()
        return PatientRef(patient.id, code, clinic, platform, chat_id, locale)

    def redeem_token(self, token_hash: str, now: datetime) -> tuple[str, str | None] | None:
        """Use up a valid enrollment token; return its clinic slug and external ref, or None."""
        token = self.session.exec(
            select(m.EnrollmentToken).where(m.EnrollmentToken.token_hash == token_hash).with_for_update()
        ).first()
        if token is None or token.used_at is not None or _aware(token.expires_at) <= now:
            return None
        token.used_at = now
        self.session.add(token)
        clinic = self.session.get(m.Clinic, token.clinic_id)
        return clinic.slug, token.external_ref

    def add_enrollment_token(self, token_hash: str, clinic: str, clinic_name: str, external_ref: str | None,
                             now: datetime, expires_at: datetime) -> None:
        """Store a new enrollment token (hashed) for a clinic."""
        self.session.add(m.EnrollmentToken(token_hash=token_hash, clinic_id=self._clinic_id(clinic, clinic_name),
                                           external_ref=external_ref, created_at=now, expires_at=expires_at))
        self.session.add(m.AuditLog(at=now, actor="admin", action="enrollment_link_created", detail={"clinic": clinic}))

    def _clinic_id(self, slug: str, name: str) -> int:
        clinic = self.session.exec(select(m.Clinic).where(m.Clinic.slug == slug)).first()
        if clinic is None:
            clinic = m.Clinic(slug=slug, name=name)
            self.session.add(clinic)
            self.session.flush()
        return clinic.id

    def unused_patient_code(self, ids) -> str:
        """Return a pseudonymous patient code no other patient has."""
        while True:
            code = ids.new("P")
            if self.session.exec(select(m.Patient.id).where(m.Patient.code == code)).first() is None:
                return code

    def queue_direct(self, platform: str, chat_id: str, payload: dict, priority: int, now: datetime) -> None:
        """Queue a message to a chat that has no patient (e.g. an invalid enrollment link)."""
        self.session.add(
            m.Outbox(channel="patient", platform=platform, recipient=chat_id, kind="message", priority=priority,
                     payload=payload, created_at=now, next_attempt_at=now)
        )

    def commit(self) -> None:
        """Commit the transaction."""
        self.session.commit()


def _aware(moment: datetime) -> datetime:
    """Return a datetime read back from the database as UTC-aware (SQLite drops the zone)."""
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SqlStore:
    """The SQL store (see services.ports.Store)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.lock_rows = not is_sqlite(engine)
        self.outbox = SqlOutbox(engine)

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlUnitOfWork]:
        """Open a transaction; it is rolled back unless committed."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield SqlUnitOfWork(session, self.lock_rows)
            finally:
                session.rollback()

    def pending_messages(self, channel: str, platform: str | None = None, recipient: str | None = None) -> list[OutboundMessage]:
        """Return undelivered outbox rows, most urgent first, then in the order they were queued."""
        return self.outbox.pending(channel, platform, recipient)

    def mark_sent(self, message_id: int, now: datetime) -> None:
        """Record that an outbox row was delivered."""
        self.outbox.mark_sent(message_id, now)

    def due_timer_ids(self, now: datetime) -> list[int]:
        """Return the ids of timers due at or before now, soonest first."""
        with Session(self.engine) as session:
            query = select(m.Timer.id).where(m.Timer.due_at <= now, m.Timer.fired_at.is_(None), m.Timer.cancelled.is_(False))
            return list(session.exec(query.order_by(m.Timer.due_at, m.Timer.id)).all())
