"""Start a patient's care and schedule their repeated measures (check-ins) from the clinic file."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clinic_config import Clinic, ClinicConfig

CHECKIN_PREFIX = "checkin:"  # a check-in timer's kind: checkin:<instrument>


def checkin_kind(instrument: str) -> str:
    """Return the timer kind of an instrument's check-in."""
    return f"{CHECKIN_PREFIX}{instrument}"


def start_care(uow, config: ClinicConfig, clinic: Clinic, patient_id: int, actor: str,
               now: datetime) -> dict[str, datetime] | None:
    """Put a patient in care (once) and schedule each check-in that applies; return them, or None if already in care."""
    care = uow.care
    if not care.start(patient_id, actor, now):
        return None
    scheduled = {}
    for checkin in config.care.checkins:
        if checkin.when == "intake_positive" and not care.latest_positive(patient_id, checkin.instrument):
            continue
        due = config.care.quiet_hours.next_allowed(now + timedelta(days=checkin.every_days), clinic.timezone)
        care.schedule(patient_id, checkin_kind(checkin.instrument), due)
        scheduled[checkin.instrument] = due
    return scheduled
