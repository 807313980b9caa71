"""Patients' completed results as plain data, for exports that must not touch the database themselves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.flows.plan import effective_answers
from bot.instruments.schema import Instrument
from bot.instruments.scoring import Answer


@dataclass(frozen=True)
class PatientRecord:
    """A patient as an export sees them: the pseudonymous code, the clinic, the clinic's reference and language."""

    code: str
    clinic: str
    external_ref: str | None
    locale: str
    status: str


@dataclass(frozen=True)
class ScoreRow:
    """A stored score, before its answers are attached."""

    screening_ref: str
    instrument: str
    total: int | None
    band: str | None
    positive: bool
    flags: tuple[str, ...]
    scored_at: datetime


@dataclass(frozen=True)
class InstrumentResult(ScoreRow):
    """One completed instrument of one screening: its score and the answers it was scored from, in item order."""

    answers: tuple[tuple[str, Answer], ...]  # (item id, value), or a frozenset of values for multiple choice


def attach_answers(
    catalog: Mapping[str, Instrument], scores: list[ScoreRow], answers: Mapping[str, Mapping[str, Mapping[str, Answer]]]
) -> list[InstrumentResult]:
    """Return each score with its screening's answers to that instrument, shared items included."""
    results = []
    for row in scores:
        given = effective_answers(catalog, row.instrument, answers.get(row.screening_ref, {}))
        order = [item.id for item in catalog[row.instrument].items] if row.instrument in catalog else sorted(given)
        items = tuple((item_id, given[item_id]) for item_id in order if item_id in given)
        results.append(InstrumentResult(**vars(row), answers=items))
    return results
