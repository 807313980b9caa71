"""Read-only queries for the KPI report: the rows of a date range, optionally of one clinic."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Select, func, select

from bot.services.report import (
    PHQ9,
    CareRow,
    HandoffRow,
    PageRow,
    ReferralRow,
    ReportRows,
    ScoreRow,
    ScreeningRow,
)
from bot.store.care import measure
from bot.store.tables import ANSWER, AUDIT, CLINIC, HANDOFF, PATIENT, SCORE, SCREENING

CONTACT_MADE = "handoff_contact_made"
CRISIS_PROTOCOL = "crisis_protocol"
SCREENING_SOURCE = "screening"


def _aware(moment: datetime | None) -> datetime | None:
    """Return a datetime read back from the database as UTC-aware (SQLite drops the zone)."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _screening_of_handoff():
    """Return a handoff's screening: its stored link, else (source 'screening') the last one ended before it."""
    # An offer the patient takes after the screening ended is stored without the link (screening_id is NULL).
    ended = (select(SCREENING.c.id)
             .where(HANDOFF.c.source == SCREENING_SOURCE, SCREENING.c.patient_id == HANDOFF.c.patient_id,
                    SCREENING.c.ended_at <= HANDOFF.c.created_at)
             .order_by(SCREENING.c.ended_at.desc(), SCREENING.c.id.desc()).limit(1).correlate(HANDOFF).scalar_subquery())
    return func.coalesce(HANDOFF.c.screening_id, ended)


def _of_patients(query: Select, clinic: str | None) -> Select:
    """Limit a query that reads PATIENT to one clinic's patients."""
    return query if clinic is None else query.join(CLINIC, CLINIC.c.id == PATIENT.c.clinic_id).where(
        CLINIC.c.slug == clinic)


def _of_clinic(query: Select, clinic: str | None) -> Select:
    """Limit a handoff query to one clinic."""
    return query if clinic is None else query.join(CLINIC, CLINIC.c.id == HANDOFF.c.clinic_id).where(
        CLINIC.c.slug == clinic)


def report_rows(conn: Connection, start: datetime, end: datetime, clinic: str | None = None) -> ReportRows:
    """Return every row the report needs for [start, end), of one clinic (by slug) or all."""
    return ReportRows(screenings=screenings(conn, start, end, clinic), scores=scores(conn, start, end, clinic),
                      handoffs=handoffs(conn, start, end, clinic), referrals=referrals(conn, start, end, clinic),
                      in_care=in_care(conn, start, end, clinic), pages=pages(conn, start, end, clinic),
                      crisis_events=crisis_events(conn, start, end, clinic))


def screenings(conn: Connection, start: datetime, end: datetime, clinic: str | None) -> list[ScreeningRow]:
    """Return the screenings started in the range."""
    query = (select(SCREENING.c.plan, SCREENING.c.trigger, SCREENING.c.status)
             .select_from(SCREENING.join(PATIENT, PATIENT.c.id == SCREENING.c.patient_id))
             .where(SCREENING.c.started_at >= start, SCREENING.c.started_at < end))
    return [ScreeningRow(r.plan, r.trigger, r.status) for r in conn.execute(_of_patients(query, clinic))]


def scores(conn: Connection, start: datetime, end: datetime, clinic: str | None) -> list[ScoreRow]:
    """Return the scores scored in the range."""
    query = (select(SCORE.c.instrument, SCORE.c.positive)
             .select_from(SCORE.join(PATIENT, PATIENT.c.id == SCORE.c.patient_id))
             .where(SCORE.c.scored_at >= start, SCORE.c.scored_at < end))
    return [ScoreRow(r.instrument, bool(r.positive)) for r in conn.execute(_of_patients(query, clinic))]


def handoffs(conn: Connection, start: datetime, end: datetime, clinic: str | None) -> list[HandoffRow]:
    """Return the handoffs created in the range."""
    query = (select(HANDOFF.c.urgency, HANDOFF.c.source, HANDOFF.c.created_at, HANDOFF.c.accepted_at)
             .where(HANDOFF.c.created_at >= start, HANDOFF.c.created_at < end))
    return [HandoffRow(r.urgency, r.source, _aware(r.created_at), _aware(r.accepted_at))
            for r in conn.execute(_of_clinic(query, clinic))]


def referrals(conn: Connection, start: datetime, end: datetime, clinic: str | None) -> list[ReferralRow]:
    """Return positive scores of the range whose screening led to a handoff, with its first contact made (any date)."""
    query = (select(SCORE.c.patient_id, SCORE.c.scored_at, HANDOFF.c.ref)
             .select_from(SCORE.join(HANDOFF, _screening_of_handoff() == SCORE.c.screening_id))
             .where(SCORE.c.positive.is_(True), SCORE.c.scored_at >= start, SCORE.c.scored_at < end))
    found = conn.execute(_of_clinic(query, clinic)).all()
    patient_ids = sorted({r.patient_id for r in found})
    contacts: dict[str, datetime] = {}
    if patient_ids:
        audit = (select(AUDIT.c.at, AUDIT.c.detail).where(AUDIT.c.action == CONTACT_MADE,
                                                          AUDIT.c.patient_id.in_(patient_ids))
                 .order_by(AUDIT.c.at, AUDIT.c.id))
        for row in conn.execute(audit):
            contacts.setdefault((row.detail or {}).get("handoff"), _aware(row.at))
    return [ReferralRow(r.patient_id, _aware(r.scored_at), contacts.get(r.ref)) for r in found]


def in_care(conn: Connection, start: datetime, end: datetime, clinic: str | None) -> list[CareRow]:
    """Return patients in care with a PHQ-9 scored in the range, each with all their PHQ-9 scores."""
    chosen = (select(PATIENT.c.id, PATIENT.c.care_started_at)
              .where(PATIENT.c.care_started_at.is_not(None),
                     PATIENT.c.id.in_(select(SCORE.c.patient_id).where(
                         SCORE.c.instrument == PHQ9, SCORE.c.total.is_not(None),
                         SCORE.c.scored_at >= start, SCORE.c.scored_at < end))))
    started = {r.id: _aware(r.care_started_at) for r in conn.execute(_of_patients(chosen, clinic))}
    if not started:
        return []
    rows = conn.execute(select(SCORE.c.patient_id, SCORE.c.instrument, SCORE.c.total, SCORE.c.scored_at,
                               SCORE.c.positive, SCORE.c.flags)
                        .where(SCORE.c.patient_id.in_(sorted(started)), SCORE.c.instrument == PHQ9,
                               SCORE.c.total.is_not(None))
                        .order_by(SCORE.c.scored_at, SCORE.c.id))
    measures: dict[int, list] = {patient_id: [] for patient_id in started}
    for row in rows:
        measures[row.patient_id].append(measure(row))
    return [CareRow(patient_id, started[patient_id], tuple(measures[patient_id])) for patient_id in sorted(started)]


def pages(conn: Connection, start: datetime, end: datetime, clinic: str | None) -> list[PageRow]:
    """Return handoffs from screenings created in the range, with the screening's last answer before each."""
    screening = _screening_of_handoff()
    last_answer = (select(func.max(ANSWER.c.answered_at))
                   .where(ANSWER.c.screening_id == screening, ANSWER.c.answered_at <= HANDOFF.c.created_at)
                   .correlate(HANDOFF).scalar_subquery())
    query = (select(HANDOFF.c.urgency, HANDOFF.c.created_at, last_answer.label("answered_at"))
             .where(screening.is_not(None), HANDOFF.c.created_at >= start, HANDOFF.c.created_at < end))
    return [PageRow(r.urgency, _aware(r.created_at), _aware(r.answered_at))
            for r in conn.execute(_of_clinic(query, clinic))]


def crisis_events(conn: Connection, start: datetime, end: datetime, clinic: str | None) -> int:
    """Return how many crisis protocols started in the range."""
    query = (select(func.count()).select_from(AUDIT.join(PATIENT, PATIENT.c.id == AUDIT.c.patient_id))
             .where(AUDIT.c.action == CRISIS_PROTOCOL, AUDIT.c.at >= start, AUDIT.c.at < end))
    return conn.execute(_of_patients(query, clinic)).scalar_one()
