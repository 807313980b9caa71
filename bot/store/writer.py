"""Write a step's effects inside the caller's transaction, with few SQL statements (Core, not ORM)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from bot.domain import effects as fx
from bot.flows.state import Conversation as ConversationState
from bot.services.ports import OutboundMessage, PatientRef
from bot.store.tables import ANSWER, HANDOFF, PATIENT, SCORE, SCREENING, TIMER, Statements


class EffectWriter:
    """Apply effects in order for one patient; messages and audit rows are inserted together at the end."""

    def __init__(self, conn: Connection, patient: PatientRef, now: datetime, screenings: dict[str, int], clinic_id: int):
        self.conn = conn
        self.patient = patient
        self.now = now
        self.screenings = screenings
        self.clinic_id = clinic_id
        self.handoffs: dict[str, int] = {}
        self.outbox: list[dict[str, Any]] = []
        self.queued: list[OutboundMessage] = []
        self.audit: list[dict[str, Any]] = []
        self.timers: list[dict[str, Any]] = []  # timers set by the effects just seen, moved together
        self.sql = Statements.for_dialect(conn.dialect.name)

    def write(self, conv: ConversationState, effects: list[fx.Effect], rendered: dict[int, dict]) -> None:
        """Store every effect, then the messages, the audit rows and the conversation's new state."""
        for index, effect in enumerate(effects):
            if not isinstance(effect, fx.TimerScheduled):
                self._set_timers()  # before an effect that may cancel them
            handler = getattr(self, f"_{type(effect).__name__}")
            if index in rendered:
                handler(effect, rendered[index])
            else:
                handler(effect)
        self._set_timers()
        if self.outbox:
            ids = self.conn.execute(self.sql.outbox, self.outbox).scalars().all()
            self.queued = [_queued(row_id, row) for row_id, row in zip(ids, self.outbox, strict=True)]
        if self.audit:
            self.conn.execute(self.sql.audit, self.audit)
        self.conn.execute(self.sql.conversation, {
            "b_patient_id": self.patient.id, "b_state": conv.state, "b_context": dict(conv.context), "b_at": self.now,
            "b_screening_id": self.screenings[conv.screening.ref] if conv.screening else None,
        })

    def _message(self, channel: str, platform: str, recipient: str, kind: str, priority: int, payload: dict,
                 ref: str | None = None, handoff_id: int | None = None) -> None:
        self.outbox.append({
            "channel": channel, "platform": platform, "recipient": recipient, "patient_id": self.patient.id,
            "handoff_id": handoff_id, "kind": kind, "ref": ref, "priority": priority, "payload": payload,
            "status": "pending", "attempts": 0, "created_at": self.now, "next_attempt_at": self.now,
            "sent_at": None, "platform_message_id": None,
        })

    def _log(self, action: str, detail: dict | None = None) -> None:
        self.audit.append({"at": self.now, "actor": f"patient:{self.patient.code}", "action": action,
                           "patient_id": self.patient.id, "detail": detail or {}})

    def _Say(self, effect: fx.Say, payload: dict) -> None:
        self._message("patient", self.patient.platform, self.patient.chat_id, effect.template, effect.priority, payload,
                      ref=effect.ref)

    def _Toast(self, effect: fx.Toast) -> None:
        """Toasts answer a press at once through the adapter; nothing to store."""

    def _QuestionAnswered(self, effect: fx.QuestionAnswered, payload: dict) -> None:
        self._message("patient", self.patient.platform, self.patient.chat_id, "answered", fx.REPLY, payload, ref=effect.ref)

    def _PageQueued(self, effect: fx.PageQueued, rendered: dict) -> None:
        """Queue the page (to the clinic's Slack channel if it has one) and set its first escalation timer."""
        handoff_id = self.handoffs.get(effect.handoff_ref) or self.conn.execute(
            select(HANDOFF.c.id).where(HANDOFF.c.ref == effect.handoff_ref)).scalar_one()
        if "payload" not in rendered:
            self._message("clinic", "slack", self.patient.clinic, "page", effect.priority, rendered, handoff_id=handoff_id)
            return
        self._message("clinic", "slack", rendered["recipient"], "page", effect.priority, rendered["payload"],
                      ref=effect.handoff_ref, handoff_id=handoff_id)
        still_open = self.conn.execute(update(HANDOFF).where(HANDOFF.c.id == handoff_id, HANDOFF.c.status == "open")
                                       .values(rung=0, updated_at=self.now)).rowcount
        self.conn.execute(update(TIMER).where(TIMER.c.handoff_id == handoff_id, TIMER.c.fired_at.is_(None))
                          .values(cancelled=True))
        if still_open and rendered["escalate_at"] is not None:
            self.conn.execute(insert(TIMER).values(kind="escalate", patient_id=self.patient.id, handoff_id=handoff_id,
                                                   due_at=rendered["escalate_at"], fired_at=None, cancelled=False))

    def _CallbackRequested(self, effect: fx.CallbackRequested, rendered: dict | None = None) -> None:
        """Mark the patient's own handoff as 'call later' once, and say so in its page's thread."""
        marked = self.conn.execute(update(HANDOFF).where(
            HANDOFF.c.ref == effect.handoff_ref, HANDOFF.c.patient_id == self.patient.id,
            HANDOFF.c.callback_requested.is_(False)).values(callback_requested=True, updated_at=self.now)).rowcount
        if not marked:
            return
        self._log("callback_requested", {"handoff": effect.handoff_ref})
        if rendered is not None:
            self._message("clinic", "slack", rendered["channel"], "thread", fx.REPLY, rendered, ref=effect.handoff_ref)

    def _ScreeningStarted(self, effect: fx.ScreeningStarted) -> None:
        result = self.conn.execute(self.sql.screening, {
            "ref": effect.ref, "patient_id": self.patient.id, "plan": effect.plan, "trigger": effect.trigger,
            "status": "open", "started_at": self.now, "updated_at": self.now})
        self.screenings[effect.ref] = result.inserted_primary_key[0]
        self._log("screening_started", {"screening": effect.ref, "plan": effect.plan, "trigger": effect.trigger})

    def _ScreeningEnded(self, effect: fx.ScreeningEnded) -> None:
        self.conn.execute(self.sql.end_screening,
                          {"b_id": self.screenings[effect.ref], "b_status": effect.status, "b_at": self.now})
        self._log("screening_ended", {"screening": effect.ref, "status": effect.status})

    def _AnswerSaved(self, effect: fx.AnswerSaved) -> None:
        self.conn.execute(self.sql.answer, {
            "b_screening_id": self.screenings[effect.screening_ref], "b_instrument": effect.instrument,
            "b_item": effect.item, "b_value": effect.value,
            "b_values": list(effect.values) if effect.values is not None else None, "b_seq": effect.seq, "b_at": self.now,
        })

    def _AnswerRemoved(self, effect: fx.AnswerRemoved) -> None:
        self.conn.execute(delete(ANSWER).where(ANSWER.c.screening_id == self.screenings[effect.screening_ref],
                                               ANSWER.c.instrument == effect.instrument, ANSWER.c.item == effect.item))
        self._log("answer_withdrawn", {"screening": effect.screening_ref, "instrument": effect.instrument})

    def _ScoreSaved(self, effect: fx.ScoreSaved) -> None:
        self.conn.execute(self.sql.score, {
            "screening_id": self.screenings[effect.screening_ref], "patient_id": self.patient.id,
            "instrument": effect.instrument, "total": effect.total, "band": effect.band, "positive": effect.positive,
            "flags": list(effect.flags), "subscales": dict(effect.subscales), "scored_at": self.now})

    def _ScoreRemoved(self, effect: fx.ScoreRemoved) -> None:
        self.conn.execute(delete(SCORE).where(SCORE.c.screening_id == self.screenings[effect.screening_ref],
                                              SCORE.c.instrument == effect.instrument))

    def _HandoffRequested(self, effect: fx.HandoffRequested) -> None:
        result = self.conn.execute(insert(HANDOFF).values(
            ref=effect.ref, patient_id=self.patient.id, clinic_id=self.clinic_id,
            screening_id=self._screening_id(effect.screening_ref) if effect.screening_ref else None,
            urgency=effect.urgency, reason=effect.reason, source=effect.source,
            callback_requested=effect.callback_requested, status="open", created_at=self.now, updated_at=self.now))
        self.handoffs[effect.ref] = result.inserted_primary_key[0]

    def _screening_id(self, ref: str) -> int | None:
        """Return a screening's id: the open one's from memory, an ended one's (an accepted offer) from its row."""
        if ref in self.screenings:
            return self.screenings[ref]
        return self.conn.execute(select(SCREENING.c.id).where(SCREENING.c.ref == ref)).scalar_one_or_none()

    def _HandoffUrgencyRaised(self, effect: fx.HandoffUrgencyRaised) -> None:
        self.conn.execute(update(HANDOFF).where(HANDOFF.c.ref == effect.ref)
                          .values(urgency=effect.urgency, reason=effect.reason, updated_at=self.now))

    def _TimerScheduled(self, effect: fx.TimerScheduled) -> None:
        """Set the screening's timer of this kind, replacing an earlier one (one row per kind)."""
        if effect.screening_ref is None:
            raise ValueError("a timer belongs to a screening")
        self.timers.append({"b_patient_id": self.patient.id, "b_screening_id": self.screenings[effect.screening_ref],
                            "b_kind": effect.kind, "b_due_at": effect.due_at})

    def _set_timers(self) -> None:
        """Move the timers just set (an answer moves two) in one statement; add those that are not there yet."""
        timers, self.timers = self.timers, []
        if len(timers) > 1 and self.conn.dialect.supports_sane_multi_rowcount:
            if self.conn.execute(self.sql.move_timer, timers).rowcount == len(timers):
                return
        for timer in timers:  # moving one again changes nothing
            if not self.conn.execute(self.sql.move_timer, timer).rowcount:
                self.conn.execute(self.sql.add_timer, timer)

    def _CheckInScheduled(self, effect: fx.CheckInScheduled) -> None:
        """Set the patient's one pending check-in timer of this instrument."""
        kind = f"checkin:{effect.instrument}"
        self.conn.execute(update(TIMER).where(TIMER.c.patient_id == self.patient.id, TIMER.c.kind == kind,
                                              TIMER.c.fired_at.is_(None), TIMER.c.cancelled.is_(False))
                          .values(cancelled=True))
        self.conn.execute(insert(TIMER).values(kind=kind, patient_id=self.patient.id, due_at=effect.due_at,
                                               fired_at=None, cancelled=False))

    def _TimersCancelled(self, effect: fx.TimersCancelled) -> None:
        self.conn.execute(self.sql.cancel_timers, {"b_screening_id": self.screenings[effect.screening_ref]})

    def _PatientUpdated(self, effect: fx.PatientUpdated) -> None:
        values = {name: getattr(effect, name) for name in ("locale", "status", "consented_at") if getattr(effect, name) is not None}
        if values:
            self.conn.execute(update(PATIENT).where(PATIENT.c.id == self.patient.id).values(**values))

    def _Audited(self, effect: fx.Audited) -> None:
        self._log(effect.action, effect.detail)


def _queued(row_id: int, row: dict[str, Any]) -> OutboundMessage:
    return OutboundMessage(row_id, row["channel"], row["platform"], row["recipient"], row["kind"], row["priority"],
                           row["payload"], patient_id=row["patient_id"], ref=row["ref"])
