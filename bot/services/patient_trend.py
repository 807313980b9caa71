"""/registry P-XXXX: one patient's registry entry for a clinician on their clinic's behavioral health roster."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.registry import RegistryEntry
from bot.services.handle import Services
from bot.services.registry import flags, registry_in


@dataclass(frozen=True)
class PatientTrend:
    """The entry to chart and its title, or a note saying why there is none (already in words)."""

    status: str  # found | refused | unknown | usage
    note: str | None = None
    entry: RegistryEntry | None = None
    title: str | None = None


def patient_trend(services: Services, user: str, text: str) -> PatientTrend:
    """Find a patient in care by code in the clinics where this user answers pages."""
    render = services.presenter.team
    clinics = [c for c in services.flow.config.clinics if c.slack is not None and c.slack.may_answer_pages(user)]
    if not clinics:
        return PatientTrend("refused", render("team/registry_refused"))
    code = text.strip().upper()
    if not code or " " in code:
        return PatientTrend("usage", render("team/registry_usage"))
    with services.store.unit_of_work() as uow:
        entries = registry_in(uow, services.flow.config.care, [c.slug for c in clinics], services.now())
        entry = next((e for e in entries if e.patient.upper() == code), None)
        if entry is None:
            return PatientTrend("unknown", render("team/registry_unknown", code=code))
        clinic = next(c for c in clinics if c.slug == entry.clinic)
        mrn = None
        if clinic.phi_in_slack:
            found = uow.intake.find_patient(clinic.slug, entry.patient)
            mrn = uow.handoffs.external_ref(found[0]) if found else None
    title = render("team/chart", part="title", code=entry.patient, mrn=mrn, clinic_name=clinic.name,
                   weeks=f"{entry.weeks_in_care:.0f}")
    words = render("team/registry_flags", flags=flags(entry)).strip()
    return PatientTrend("found", render("team/registry_summary", code=entry.patient, flags=words), entry, title)
