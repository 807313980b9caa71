"""PCP consults from Slack: check the request, page the on-duty clinician, and tell the requesting PCP."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.clinic_config import Clinic
from bot.domain.effects import CRISIS, REPLY
from bot.services.enrollment import token_hash
from bot.services.handle import Services
from bot.services.handoffs import page_facts
from bot.services.oncall import duty_now
from bot.services.paging import first_page, mention
from bot.services.ports import OutboundMessage

URGENCIES = ("routine", "urgent", "crisis")
REASON_LIMIT = 150
NOTE_LIMIT = 1000
LINK_DAYS = 7  # how long the enrollment link for a new patient stays valid


@dataclass(frozen=True)
class ConsultForm:
    """What the PCP filled in."""

    clinic: str | None
    patient: str  # pseudonymous code or the clinic's reference (MRN); for a new patient, an optional MRN
    new_patient: bool
    reason: str
    urgency: str
    in_room: bool = False
    note: str | None = None


@dataclass(frozen=True)
class ConsultReply:
    """How the request went: field errors in words, the PCP's confirmation, the messages queued."""

    status: str  # applied | invalid | refused | duplicate
    errors: dict[str, str] = field(default_factory=dict)  # form field -> what is wrong with it
    note: str | None = None
    queued: tuple[OutboundMessage, ...] = ()


def consult_clinics(services: Services, user: str) -> list[Clinic]:
    """Return the clinics whose PCP group (staff with role pcp) includes this Slack user."""
    return [c for c in services.flow.config.clinics if c.slack is not None and c.slack.person(user) is not None
            and c.slack.person(user).role == "pcp"]


def form_errors(form: ConsultForm, clinics: list[Clinic], render) -> dict[str, str]:
    """Return what is wrong with the form's fields, checked without the database."""
    errors = {}
    slugs = [c.slug for c in clinics]
    if (form.clinic or (slugs[0] if len(slugs) == 1 else None)) not in slugs:
        errors["clinic"] = render("team/consult_error", problem="clinic")
    if not form.new_patient and not form.patient.strip():
        errors["patient"] = render("team/consult_error", problem="patient_missing")
    reason = form.reason.strip()
    if not reason or len(reason) > REASON_LIMIT or "\n" in reason:
        errors["reason"] = render("team/consult_error", problem="reason", limit=REASON_LIMIT)
    if form.urgency not in URGENCIES:
        errors["urgency"] = render("team/consult_error", problem="urgency")
    if form.note and len(form.note) > NOTE_LIMIT:
        errors["note"] = render("team/consult_error", problem="note", limit=NOTE_LIMIT)
    return errors


def request_consult(services: Services, user: str, form: ConsultForm, key: str,
                    link_for: Callable[[str], str]) -> ConsultReply:
    """Open a consult handoff and page the team, exactly once per submitted form."""
    render = services.presenter.team
    clinics = consult_clinics(services, user)
    if not clinics:
        return ConsultReply("refused", note=render("team/consult_not_pcp"))
    errors = form_errors(form, clinics, render)
    if errors:
        return ConsultReply("invalid", errors)
    clinic = next(c for c in clinics if c.slug == (form.clinic or clinics[0].slug))
    now, actor = services.now(), f"clinician:{user}"
    with services.store.unit_of_work() as uow:
        if not uow.claim_event(key, now):
            return ConsultReply("duplicate")
        intake, handoffs = uow.intake, uow.handoffs
        clinic_id = intake.clinic_id(clinic.slug, clinic.name)
        link = None
        if form.new_patient:
            code = uow.unused_patient_code(services.ids)
            patient_id = intake.new_patient(clinic_id, code, form.patient.strip() or None, clinic.locale, actor, now)
            token = secrets.token_urlsafe(24)
            intake.bind_token(token_hash(token), clinic_id, patient_id, now, now + timedelta(days=LINK_DAYS))
            link = link_for(token)
        else:
            found = intake.find_patient(clinic.slug, form.patient)
            if found is None:  # nothing is committed: the PCP can correct the field and submit the same form
                return ConsultReply("invalid", {"patient": render("team/consult_error", problem="patient_unknown",
                                                                  clinic_name=clinic.name)})
            patient_id, code = found
        ref = services.ids.new("H")
        handoff_id = intake.open_consult(ref, patient_id, clinic_id, form.urgency, form.reason.strip(), user,
                                         form.in_room, (form.note or "").strip() or None, now)
        handoff = handoffs.get(handoff_id=handoff_id)
        page = first_page(services.presenter, services.flow.config.escalation, clinic, page_facts(services, handoff),
                          duty_now(uow, clinic, now))
        priority = CRISIS if form.urgency != "routine" else REPLY
        queued = [handoffs.queue(handoff, "slack", page["recipient"], "page", priority, page["payload"], now, ref=ref)]
        handoffs.escalate_at(handoff, page["escalate_at"])
        handoffs.audit(handoff, actor, "consult_requested", now, urgency=form.urgency, in_room=form.in_room,
                       new_patient=form.new_patient)
        note = render("team/consult_sent", patient=code, urgency=form.urgency, clinic_name=clinic.name,
                      target=mention(page["payload"]["mention"]), link=link)
        queued.append(handoffs.queue(handoff, "slack", user, "dm", REPLY, {"user": user, "text": note}, now))
        uow.commit()
    return ConsultReply("applied", note=note, queued=tuple(queued))
