"""Care in the caller's transaction: start a patient's care, schedule check-ins, read scores for the registry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Connection, func, insert, select, update

from bot.domain.registry import Measure
from bot.store.tables import AUDIT, CLINIC, PATIENT, SCORE, TIMER

SUICIDE_RISK = "suicide_risk"
OPTED_OUT = "opted_out"


class CarePatient(NamedTuple):
    """A patient as care sees them: who, where, whether they stopped, and since when they are in care."""

    id: int
    code: str
    clinic: str
    status: str
    care_started_at: datetime | None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def measure(row) -> Measure:
    """Return a score row as the registry's Measure."""
    flags = row.flags or []
    return Measure(row.instrument, row.total, _aware(row.scored_at), bool(row.positive),
                   SUICIDE_RISK in flags or (row.instrument == "asq" and bool(row.positive)))


class SqlCare:
    """Care reads and writes on one connection (the unit of work's)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def start(self, patient_id: int, actor: str, now: datetime) -> bool:
        """Mark the patient in care from now; False if their care had already started."""
        started = self.conn.execute(update(PATIENT).where(PATIENT.c.id == patient_id,
                                                          PATIENT.c.care_started_at.is_(None))
                                    .values(care_started_at=now)).rowcount
        if started:
            self.conn.execute(insert(AUDIT).values(at=now, actor=actor, action="care_started", patient_id=patient_id,
                                                   detail={}))
        return bool(started)

    def find(self, clinic_slugs: list[str], code: str) -> CarePatient | None:
        """Return the patient with this code in one of these clinics."""
        row = self.conn.execute(
            select(PATIENT.c.id, PATIENT.c.code, CLINIC.c.slug, PATIENT.c.status, PATIENT.c.care_started_at)
            .select_from(PATIENT.join(CLINIC, CLINIC.c.id == PATIENT.c.clinic_id))
            .where(func.upper(PATIENT.c.code) == code.strip().upper(), CLINIC.c.slug.in_(clinic_slugs))).first()
        if row is None:
            return None
        started = None if row.care_started_at is None else _aware(row.care_started_at)
        return CarePatient(row.id, row.code, row.slug, row.status, started)

    def latest_positive(self, patient_id: int, instrument: str) -> bool:
        """Say whether the patient's latest score of an instrument was positive."""
        row = self.conn.execute(select(SCORE.c.positive).where(SCORE.c.patient_id == patient_id,
                                                               SCORE.c.instrument == instrument)
                                .order_by(SCORE.c.scored_at.desc(), SCORE.c.id.desc()).limit(1)).first()
        return bool(row and row.positive)

    def schedule(self, patient_id: int, kind: str, due_at: datetime) -> None:
        """Set the patient's one pending timer of this kind (a check-in), replacing an earlier one."""
        self.conn.execute(update(TIMER).where(TIMER.c.patient_id == patient_id, TIMER.c.kind == kind,
                                              TIMER.c.fired_at.is_(None), TIMER.c.cancelled.is_(False))
                          .values(cancelled=True))
        self.conn.execute(insert(TIMER).values(kind=kind, patient_id=patient_id, due_at=due_at, fired_at=None,
                                               cancelled=False))

    def measures(self, patient_ids: list[int]) -> dict[int, list[Measure]]:
        """Return every total score of these patients, oldest first."""
        found: dict[int, list[Measure]] = {patient_id: [] for patient_id in patient_ids}
        if not patient_ids:
            return found
        rows = self.conn.execute(
            select(SCORE.c.patient_id, SCORE.c.instrument, SCORE.c.total, SCORE.c.scored_at, SCORE.c.positive,
                   SCORE.c.flags).where(SCORE.c.patient_id.in_(patient_ids), SCORE.c.total.is_not(None))
            .order_by(SCORE.c.scored_at, SCORE.c.id))
        for row in rows:
            found[row.patient_id].append(measure(row))
        return found

    def in_care(self, clinic_slugs: list[str] | None) -> list[tuple[int, str, str, datetime]]:
        """Return (id, code, clinic slug, care start) of each patient in care who has not opted out."""
        query = (select(PATIENT.c.id, PATIENT.c.code, CLINIC.c.slug, PATIENT.c.care_started_at)
                 .select_from(PATIENT.join(CLINIC, CLINIC.c.id == PATIENT.c.clinic_id))
                 .where(PATIENT.c.care_started_at.is_not(None), PATIENT.c.status != OPTED_OUT)
                 .order_by(PATIENT.c.id))
        if clinic_slugs is not None:
            query = query.where(CLINIC.c.slug.in_(clinic_slugs))
        return [(row.id, row.code, row.slug, _aware(row.care_started_at)) for row in self.conn.execute(query)]
