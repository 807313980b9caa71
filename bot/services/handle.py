"""handle(event): the one entry point that changes anything, one transaction per event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import effects as fx
from bot.domain.events import Event, PatientCommand, PatientUnsupported, TimerDue
from bot.flows.context import FlowContext, Ids
from bot.flows.conversation import step
from bot.services.enrollment import enroll_from_start
from bot.services.oncall import duty_now
from bot.services.paging import PageFacts, first_page
from bot.services.ports import OutboundMessage, PatientRef, Presenter, Store, UnitOfWork


@dataclass(frozen=True)
class Services:
    """What handle() works with: the store, the flow's inputs, rendering, ids and the clock."""

    store: Store
    flow: FlowContext
    presenter: Presenter
    ids: Ids
    clock: object  # callable returning an aware datetime

    def now(self) -> datetime:
        """Return the current time from the injected clock."""
        return self.clock()


@dataclass(frozen=True)
class Handled:
    """How an event went: 'applied', 'duplicate' or 'ignored', a toast for a button press, the messages it queued."""

    status: str
    toast: str | None = None
    queued: tuple[OutboundMessage, ...] | None = ()  # None: some rows were queued that the worker must look up


def handle(services: Services, event: Event) -> Handled:
    """Apply one inbound event exactly once, in one transaction."""
    now = services.now()
    with services.store.unit_of_work() as uow:
        if not uow.claim_event(event.key, now):
            return Handled("duplicate")
        patient, event = _find_patient(services, uow, event, now)
        if patient is None:
            uow.commit()
            return Handled("ignored", queued=_queued(uow))
        conv = uow.load_conversation(patient)
        result = step(conv, event, now, services.flow, services.ids)
        uow.save(patient, result.conversation, result.effects, _render(services, uow, patient, result), now)
        uow.commit()
    toast = next((e for e in result.effects if isinstance(e, fx.Toast)), None)
    return Handled("applied", services.presenter.toast(toast.template, result.conversation.locale) if toast else None,
                   _queued(uow))


def _queued(uow: UnitOfWork) -> tuple[OutboundMessage, ...] | None:
    return None if uow.queued is None else tuple(uow.queued)


def _find_patient(services: Services, uow: UnitOfWork, event: Event, now: datetime) -> tuple[PatientRef | None, Event]:
    if isinstance(event, TimerDue):
        found = uow.patient_for_timer(event.timer_id, now)
        if found is None:
            return None, event
        patient, kind, screening_ref = found
        return patient, TimerDue(event.key, event.timer_id, kind, patient.code, screening_ref)
    patient = uow.patient_for_chat(event.platform, event.chat_id)
    if isinstance(event, PatientUnsupported) and event.kind == "group":
        refusal = services.presenter.patient_message(fx.Say("group_refused"), "en")
        uow.queue_direct(event.platform, event.chat_id, refusal, fx.REPLY, now)
        return None, event
    if patient is None:
        patient = enroll_from_start(services, uow, event, now)
        if patient is not None:
            event = PatientCommand(event.key, event.platform, event.chat_id, "start")
    return patient, event


def _render(services: Services, uow: UnitOfWork, patient: PatientRef, result) -> dict[int, dict]:
    """Render every message of the step in the patient's current language."""
    locale = result.conversation.locale
    rendered: dict[int, dict] = {}
    clinic = services.flow.clinic(patient.clinic)
    for index, effect in enumerate(result.effects):
        if isinstance(effect, fx.Say):
            rendered[index] = services.presenter.patient_message(effect, locale)
        elif isinstance(effect, fx.QuestionAnswered):
            rendered[index] = {"label": effect.text if effect.text is not None else services.presenter.label(effect.word, locale)}
        elif isinstance(effect, fx.PageQueued):
            rendered[index] = _page(services, uow, patient, clinic, effect)
        elif isinstance(effect, fx.CallbackRequested) and clinic.slack is not None:
            handoff = uow.handoffs.get(ref=effect.handoff_ref)
            if handoff is not None and handoff.patient_id == patient.id and not handoff.callback_requested:
                text = services.presenter.team("team/patient_call_later", user=handoff.accepted_by)
                rendered[index] = {"channel": clinic.slack.channel, "text": text}
    return rendered


def _page(services: Services, uow: UnitOfWork, patient: PatientRef, clinic, effect: fx.PageQueued) -> dict:
    """Render a page: for Slack when the clinic has a team there (with its first rung and timer), else one line."""
    if clinic.slack is None:
        variables = {"urgency": effect.urgency, "patient_code": patient.code, "clinic_name": clinic.name,
                     "reason": effect.reason, "callback": effect.callback_requested}
        return {"text": services.presenter.page(variables), "handoff": effect.handoff_ref, "urgency": effect.urgency,
                "patient_code": patient.code}
    now = services.now()
    mrn = uow.handoffs.external_ref(patient.id) if clinic.phi_in_slack else None
    facts = PageFacts(effect.handoff_ref, effect.urgency, effect.reason, patient.code, now, effect.callback_requested,
                      external_ref=mrn)
    return first_page(services.presenter, services.flow.config.escalation, clinic, facts, duty_now(uow, clinic, now))
