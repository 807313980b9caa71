"""Write a step's effects to the tables, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, delete, select, update

from bot.domain import effects as fx
from bot.flows.state import Conversation as ConversationState
from bot.services.ports import PatientRef
from bot.store import models as m


class EffectWriter:
    """Apply effects in order for one patient; every write joins the open transaction."""

    def __init__(self, session: Session, patient: PatientRef, now: datetime):
        self.session = session
        self.patient = patient
        self.now = now
        self._screenings: dict[str, int] = {}
        self._handoffs: dict[str, int] = {}

    def write(self, conv: ConversationState, effects: list[fx.Effect], rendered: dict[int, dict]) -> None:
        """Store every effect, then the conversation's new state."""
        for index, effect in enumerate(effects):
            handler = getattr(self, f"_{type(effect).__name__}")
            if index in rendered:
                handler(effect, rendered[index])
            else:
                handler(effect)
        row = self.session.get(m.Conversation, self.patient.id)
        row.state = conv.state
        row.context = dict(conv.context)
        row.screening_id = self._screening_id(conv.screening.ref) if conv.screening else None
        row.version += 1
        row.updated_at = self.now
        self.session.add(row)
        self.session.flush()

    def _screening_id(self, ref: str) -> int:
        if ref not in self._screenings:
            self._screenings[ref] = self.session.exec(select(m.Screening.id).where(m.Screening.ref == ref)).one()
        return self._screenings[ref]

    def _handoff_id(self, ref: str) -> int:
        if ref not in self._handoffs:
            self._handoffs[ref] = self.session.exec(select(m.HandoffRequest.id).where(m.HandoffRequest.ref == ref)).one()
        return self._handoffs[ref]

    def _audit(self, action: str, detail: dict | None = None) -> None:
        self.session.add(
            m.AuditLog(at=self.now, actor=f"patient:{self.patient.code}", action=action, patient_id=self.patient.id, detail=detail or {})
        )

    def _Say(self, effect: fx.Say, payload: dict) -> None:
        self.session.add(
            m.Outbox(channel="patient", platform=self.patient.platform, recipient=self.patient.chat_id,
                     patient_id=self.patient.id, kind=effect.template, ref=effect.ref, priority=effect.priority,
                     payload=payload, created_at=self.now, next_attempt_at=self.now)
        )

    def _Toast(self, effect: fx.Toast) -> None:
        """Toasts answer a press at once through the adapter; nothing to store."""

    def _QuestionAnswered(self, effect: fx.QuestionAnswered, payload: dict) -> None:
        self.session.add(
            m.Outbox(channel="patient", platform=self.patient.platform, recipient=self.patient.chat_id,
                     patient_id=self.patient.id, kind="answered", ref=effect.ref, priority=fx.REPLY, payload=payload,
                     created_at=self.now, next_attempt_at=self.now)
        )

    def _PageQueued(self, effect: fx.PageQueued, payload: dict) -> None:
        self.session.add(
            m.Outbox(channel="clinic", platform="slack", recipient=self.patient.clinic, patient_id=self.patient.id,
                     handoff_id=self._handoff_id(effect.handoff_ref), kind="page", priority=effect.priority,
                     payload=payload, created_at=self.now, next_attempt_at=self.now)
        )

    def _ScreeningStarted(self, effect: fx.ScreeningStarted) -> None:
        row = m.Screening(ref=effect.ref, patient_id=self.patient.id, plan=effect.plan, trigger=effect.trigger,
                          started_at=self.now, updated_at=self.now)
        self.session.add(row)
        self.session.flush()
        self._screenings[effect.ref] = row.id
        self._audit("screening_started", {"screening": effect.ref, "plan": effect.plan, "trigger": effect.trigger})

    def _ScreeningEnded(self, effect: fx.ScreeningEnded) -> None:
        row = self.session.get(m.Screening, self._screening_id(effect.ref))
        row.status, row.ended_at, row.updated_at = effect.status, self.now, self.now
        self.session.add(row)
        self._audit("screening_ended", {"screening": effect.ref, "status": effect.status})

    def _AnswerSaved(self, effect: fx.AnswerSaved) -> None:
        screening_id = self._screening_id(effect.screening_ref)
        self.session.execute(
            delete(m.Answer).where(m.Answer.screening_id == screening_id, m.Answer.instrument == effect.instrument,
                                   m.Answer.item == effect.item)
        )
        self.session.add(
            m.Answer(screening_id=screening_id, instrument=effect.instrument, item=effect.item, value=effect.value,
                     values=list(effect.values) if effect.values is not None else None, seq=effect.seq,
                     answered_at=self.now)
        )
        self.session.execute(update(m.Screening).where(m.Screening.id == screening_id).values(updated_at=self.now))

    def _AnswerRemoved(self, effect: fx.AnswerRemoved) -> None:
        self.session.execute(
            delete(m.Answer).where(m.Answer.screening_id == self._screening_id(effect.screening_ref),
                                   m.Answer.instrument == effect.instrument, m.Answer.item == effect.item)
        )
        self._audit("answer_withdrawn", {"screening": effect.screening_ref, "instrument": effect.instrument})

    def _ScoreSaved(self, effect: fx.ScoreSaved) -> None:
        self.session.add(
            m.Score(screening_id=self._screening_id(effect.screening_ref), patient_id=self.patient.id,
                    instrument=effect.instrument, total=effect.total, band=effect.band, positive=effect.positive,
                    flags=list(effect.flags), subscales=dict(effect.subscales), scored_at=self.now)
        )

    def _ScoreRemoved(self, effect: fx.ScoreRemoved) -> None:
        self.session.execute(
            delete(m.Score).where(m.Score.screening_id == self._screening_id(effect.screening_ref),
                                  m.Score.instrument == effect.instrument)
        )

    def _HandoffRequested(self, effect: fx.HandoffRequested) -> None:
        clinic_id = self.session.get(m.Patient, self.patient.id).clinic_id
        screening_id = self._screening_id(effect.screening_ref) if effect.screening_ref else None
        row = m.HandoffRequest(ref=effect.ref, patient_id=self.patient.id, clinic_id=clinic_id, screening_id=screening_id,
                               urgency=effect.urgency, reason=effect.reason, source=effect.source,
                               callback_requested=effect.callback_requested, created_at=self.now, updated_at=self.now)
        self.session.add(row)
        self.session.flush()
        self._handoffs[effect.ref] = row.id

    def _HandoffUrgencyRaised(self, effect: fx.HandoffUrgencyRaised) -> None:
        row = self.session.get(m.HandoffRequest, self._handoff_id(effect.ref))
        row.urgency, row.reason, row.updated_at = effect.urgency, effect.reason, self.now
        self.session.add(row)

    def _TimerScheduled(self, effect: fx.TimerScheduled) -> None:
        screening_id = self._screening_id(effect.screening_ref) if effect.screening_ref else None
        self.session.add(m.Timer(kind=effect.kind, patient_id=self.patient.id, screening_id=screening_id, due_at=effect.due_at))

    def _TimersCancelled(self, effect: fx.TimersCancelled) -> None:
        self.session.execute(
            update(m.Timer)
            .where(m.Timer.screening_id == self._screening_id(effect.screening_ref), m.Timer.fired_at.is_(None))
            .values(cancelled=True)
        )

    def _PatientUpdated(self, effect: fx.PatientUpdated) -> None:
        row = self.session.get(m.Patient, self.patient.id)
        for name in ("locale", "status", "consented_at"):
            value = getattr(effect, name)
            if value is not None:
                setattr(row, name, value)
        self.session.add(row)

    def _Audited(self, effect: fx.Audited) -> None:
        self._audit(effect.action, effect.detail)
