"""The caseload registry: every patient in care with their trends and flags, the ones needing attention first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.care_config import Care
from bot.domain.registry import RegistryEntry, Trend, registry_entry
from bot.services.handle import Services

FLAGS = ("case_review", "overdue", "suicide_risk")  # the words are in messages/en/team/registry_flags.j2


def registry(services: Services, clinic: str | None = None) -> list[RegistryEntry]:
    """Return the registry of one clinic (or of all), case review first, then overdue, then suicide risk."""
    with services.store.unit_of_work() as uow:
        return registry_in(uow, services.flow.config.care, None if clinic is None else [clinic], services.now())


def registry_in(uow, care: Care, clinics: Sequence[str] | None, now: datetime) -> list[RegistryEntry]:
    """Return the sorted registry of these clinics (None: all) in an open unit of work."""
    patients = uow.care.in_care(None if clinics is None else list(clinics))
    measures = uow.care.measures([patient_id for patient_id, *_ in patients])
    entries = [registry_entry(care, code, clinic, started, measures[patient_id], now)
               for patient_id, code, clinic, started in patients]
    return sorted(entries, key=RegistryEntry.sort_key)


def flags(entry: RegistryEntry) -> list[str]:
    """Return the names of an entry's flags, in the registry's order."""
    raised = {"case_review": entry.not_improving, "overdue": entry.overdue, "suicide_risk": entry.suicide_risk}
    return [flag for flag in FLAGS if raised[flag]]


def next_due(entry: RegistryEntry) -> datetime | None:
    """Return when the entry's next check-in is due (the soonest of its instruments)."""
    return min((t.next_due for t in entry.trends if t.next_due is not None), default=None)


def trend_text(render, trend: Trend) -> str:
    """Return an instrument's baseline, latest score and change as the team reads it."""
    return render("team/registry_trend", baseline=trend.baseline.total, latest=trend.latest.total,
                  change=trend.change)


def first_delivery(services: Services, key: str) -> bool:
    """Claim a /registry command's key in a transaction of its own; False if Slack sent the command before."""
    with services.store.unit_of_work() as uow:
        claimed = uow.claim_event(key, services.now())
        uow.commit()
    return claimed
