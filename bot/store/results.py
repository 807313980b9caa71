"""Read-only queries for exports: patients, and each patient's completed instruments with answers and scores."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from bot.instruments.schema import Instrument
from bot.instruments.scoring import Answer
from bot.services.results import InstrumentResult, PatientRecord, ScoreRow, attach_answers
from bot.store.tables import ANSWER, CLINIC, PATIENT, SCORE, SCREENING

_PATIENTS = select(PATIENT.c.code, CLINIC.c.slug, PATIENT.c.external_ref, PATIENT.c.locale, PATIENT.c.status).select_from(
    PATIENT.join(CLINIC, CLINIC.c.id == PATIENT.c.clinic_id))


def _aware(moment: datetime) -> datetime:
    """Return a datetime read back from the database as UTC-aware (SQLite drops the zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def patients(conn: Connection, code: str | None = None, clinic: str | None = None) -> list[PatientRecord]:
    """Return the patients with this code (any case) and/or of this clinic, or all of them, by code."""
    query = _PATIENTS
    if code is not None:
        query = query.where(func.upper(PATIENT.c.code) == code.strip().upper())
    if clinic is not None:
        query = query.where(CLINIC.c.slug == clinic)
    rows = conn.execute(query.order_by(PATIENT.c.code))
    return [PatientRecord(code=r.code, clinic=r.slug, external_ref=r.external_ref, locale=r.locale, status=r.status)
            for r in rows]


def instrument_results(conn: Connection, code: str, catalog: Mapping[str, Instrument]) -> list[InstrumentResult]:
    """Return a patient's scored instruments, oldest first, each with the answers it was scored from."""
    joined = SCORE.join(SCREENING, SCREENING.c.id == SCORE.c.screening_id).join(
        PATIENT, PATIENT.c.id == SCORE.c.patient_id)
    query = (
        select(SCREENING.c.ref, SCORE.c.instrument, SCORE.c.total, SCORE.c.band, SCORE.c.positive, SCORE.c.flags,
               SCORE.c.scored_at)
        .select_from(joined).where(PATIENT.c.code == code)
        .order_by(SCORE.c.scored_at, SCREENING.c.id, SCORE.c.id)
    )
    scores = [ScoreRow(screening_ref=r.ref, instrument=r.instrument, total=r.total, band=r.band, positive=r.positive,
                       flags=tuple(r.flags or ()), scored_at=_aware(r.scored_at)) for r in conn.execute(query)]
    return attach_answers(catalog, scores, _answers(conn, code)) if scores else []


def _answers(conn: Connection, code: str) -> dict[str, dict[str, dict[str, Answer]]]:
    """Return a patient's answers by screening ref, instrument and item."""
    joined = ANSWER.join(SCREENING, SCREENING.c.id == ANSWER.c.screening_id).join(
        PATIENT, PATIENT.c.id == SCREENING.c.patient_id)
    query = (select(SCREENING.c.ref, ANSWER.c.instrument, ANSWER.c.item, ANSWER.c.value,
                    ANSWER.c["values"].label("chosen"))
             .select_from(joined).where(PATIENT.c.code == code))
    found: dict[str, dict[str, dict[str, Answer]]] = {}
    for row in conn.execute(query):
        chosen = row.value if row.chosen is None else frozenset(row.chosen)
        if chosen is None:
            continue
        found.setdefault(row.ref, {}).setdefault(row.instrument, {})[row.item] = chosen
    return found
