"""A clinician puts a patient in care without a handoff: from the command line or with /registry start."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.services.checkins import start_care
from bot.services.handle import Services
from bot.store.care import OPTED_OUT

START_WORD = "start"  # /registry start P-XXXX


@dataclass(frozen=True)
class CareStart:
    """What putting a patient in care did: started (with the first check-ins), already in care, or why not."""

    status: str  # started | already | stopped | unknown
    code: str
    clinic: str | None = None
    since: datetime | None = None
    first_checkins: dict[str, datetime] = field(default_factory=dict)


def put_in_care(services: Services, clinics: list[str], code: str, actor: str) -> CareStart:
    """Start the care of the patient with this code in one of these clinics, once, and schedule their check-ins."""
    now = services.now()
    with services.store.unit_of_work() as uow:
        patient = uow.care.find(clinics, code)
        if patient is None:
            return CareStart("unknown", code.strip().upper())
        if patient.status == OPTED_OUT:
            return CareStart("stopped", patient.code, patient.clinic)
        if patient.care_started_at is not None:
            return CareStart("already", patient.code, patient.clinic, since=patient.care_started_at)
        clinic = services.flow.clinic(patient.clinic)
        scheduled = start_care(uow, services.flow.config, clinic, patient.id, actor, now) or {}
        uow.commit()
    return CareStart("started", patient.code, patient.clinic, since=now, first_checkins=scheduled)


def care_start_note(services: Services, user: str, text: str) -> str:
    """Put a patient in care for a clinician on a clinic's behavioral health roster; return the words for them."""
    render = services.presenter.team
    clinics = [c.slug for c in services.flow.config.clinics if c.slack is not None and c.slack.may_answer_pages(user)]
    if not clinics:
        return render("team/registry_refused")
    code = text.strip()
    if not code or " " in code:
        return render("team/registry_usage")
    return care_start_text(services, put_in_care(services, clinics, code, f"clinician:{user}"))


def care_start_text(services: Services, started: CareStart) -> str:
    """Return what putting a patient in care did, in the team's words and the clinic's dates."""
    if started.clinic is None:
        return services.presenter.team("team/care_started", status=started.status, code=started.code)
    clinic = services.flow.clinic(started.clinic)
    zone = ZoneInfo(clinic.timezone)
    catalog = services.flow.catalog
    checkins = [(catalog[i].short_title if i in catalog else i, due.astimezone(zone).date().isoformat())
                for i, due in started.first_checkins.items()]
    since = started.since.astimezone(zone).date().isoformat() if started.since else None
    return services.presenter.team("team/care_started", status=started.status, code=started.code,
                                   clinic=clinic.name, since=since, checkins=checkins)
