"""The clinician's App Home: who is on duty, the open pages, their own handoffs and caseload, as mrkdwn sections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.clinic_config import Clinic
from bot.domain.registry import RegistryEntry
from bot.services.handle import Services
from bot.services.oncall import duty_now
from bot.services.oncall_command import duty_text
from bot.services.paging import waited
from bot.services.registry import flags, registry_in, trend_text

IN_PROGRESS = ("accepted", "contact_made", "scheduled")  # accepted and not yet closed
LIST_LIMIT = 50  # rows per list; the rest are counted
REASON_CHARS = 200
CASELOAD_LIMIT = 20  # registry rows in the Home tab; the rest are counted
CASELOAD_ROLES = ("bh", "care_manager")  # who sees their clinics' caseload
CASELOAD_INSTRUMENT = "phq9"  # the trend each caseload line shows


@dataclass(frozen=True)
class HandoffLine:
    """One handoff as a list in the Home tab shows it (the patient by pseudonymous code only)."""

    ref: str
    clinic: str
    urgency: str
    reason: str
    patient_code: str
    status: str
    rung: int
    created_at: datetime
    accepted_at: datetime | None


def home_view(services: Services, user: str) -> dict[str, Any]:
    """Return what a user's Home tab shows: {'sections': [{'heading', 'items'}], 'footer', 'overflow'}."""
    render = services.presenter.team
    overflow = render("team/home_overflow")
    clinics = [c for c in services.flow.config.clinics if c.slack is not None and c.slack.person(user) is not None]
    if not clinics:
        return {"sections": [{"heading": render("team/home_heading", section="welcome"),
                              "items": [render("team/home_not_staff")]}], "footer": None, "overflow": overflow}
    now = services.now()
    slugs = [c.slug for c in clinics]
    followed = [c.slug for c in clinics if c.slack.person(user).role in CASELOAD_ROLES]
    with services.store.unit_of_work() as uow:
        duty = [duty_text(render, clinic, duty_now(uow, clinic, now)) for clinic in clinics]
        open_pages, more_open = uow.caseload.open_handoffs(slugs, LIST_LIMIT)
        mine, more_mine = uow.caseload.accepted_by(user, slugs, IN_PROGRESS, LIST_LIMIT)
        entries = registry_in(uow, services.flow.config.care, followed, now) if followed else []
    names = {c.slug: c.name for c in clinics}
    pages = [_open_item(services, line, names, now) for line in open_pages]
    accepted = [_my_item(render, line, names, now) for line in mine]
    sections = [
        {"heading": render("team/home_heading", section="duty"), "items": duty},
        {"heading": render("team/home_heading", section="open"), "items": _listed(render, "open", pages, more_open)},
        {"heading": render("team/home_heading", section="mine"), "items": _listed(render, "mine", accepted, more_mine)},
    ]
    if followed:
        caseload = [_caseload_item(services, entry, names) for entry in entries[:CASELOAD_LIMIT]]
        sections.append({"heading": render("team/home_heading", section="caseload"),
                         "items": _listed(render, "caseload", caseload, max(0, len(entries) - CASELOAD_LIMIT))})
    return {
        "sections": sections,
        "footer": render("team/home_footer", at=_local(now, clinics[0]), timezone=clinics[0].timezone),
        "overflow": overflow,
    }


def _listed(render, section: str, items: list[str], more: int) -> list[str]:
    """Return a list's items, or the line saying it is empty, with the count of rows not shown."""
    if not items:
        return [render("team/home_empty", section=section)]
    return items + ([render("team/home_more", section=section, count=more)] if more else [])


def _open_item(services: Services, line: HandoffLine, names: dict[str, str], now: datetime) -> str:
    ladder = services.flow.config.escalation.ladder(line.urgency)
    rung = min(line.rung, len(ladder) - 1)
    return services.presenter.team(
        "team/home_open_page", urgency=line.urgency, patient=line.patient_code, clinic_name=names[line.clinic],
        reason=_one_line(line.reason), waited=waited(line.created_at, now), rung=rung + 1, rungs=len(ladder),
        notify=ladder[rung].notify)


def _my_item(render, line: HandoffLine, names: dict[str, str], now: datetime) -> str:
    since = line.accepted_at or line.created_at
    return render("team/home_my_handoff", urgency=line.urgency, patient=line.patient_code,
                  clinic_name=names[line.clinic], reason=_one_line(line.reason), status=line.status,
                  **_elapsed(since, now))


def _caseload_item(services: Services, entry: RegistryEntry, names: dict[str, str]) -> str:
    trend = next((t for t in entry.trends if t.instrument == CASELOAD_INSTRUMENT), None)
    catalog = services.flow.catalog
    title = catalog[CASELOAD_INSTRUMENT].short_title if CASELOAD_INSTRUMENT in catalog else CASELOAD_INSTRUMENT
    render = services.presenter.team
    return render("team/home_caseload", patient=entry.patient, clinic_name=names[entry.clinic],
                  weeks=int(entry.weeks_in_care), instrument=title,
                  trend=trend_text(render, trend) if trend else None,
                  flags=render("team/registry_flags", flags=flags(entry)))


def _one_line(text: str) -> str:
    """Return the first line of a reason, cut to a readable length."""
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return first if len(first) <= REASON_CHARS else first[: REASON_CHARS - 1] + "…"


def _elapsed(since: datetime, now: datetime) -> dict[str, int]:
    """Return the time between two moments as days, hours and minutes."""
    minutes = max(0, int((now - since).total_seconds()) // 60)
    return {"days": minutes // 1440, "hours": minutes // 60 % 24, "minutes": minutes % 60}


def _local(moment: datetime, clinic: Clinic) -> str:
    return moment.astimezone(ZoneInfo(clinic.timezone)).strftime("%a %H:%M")
