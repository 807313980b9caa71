"""The caseload registry's arithmetic: baseline, change, response, remission and the flags, from dated scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.care_config import Care

WEEK = timedelta(weeks=1)


@dataclass(frozen=True)
class Measure:
    """One scored instrument of a patient, as the registry sees it."""

    instrument: str
    total: int
    at: datetime
    positive: bool = False
    suicide_risk: bool = False


@dataclass(frozen=True)
class Trend:
    """One instrument followed in care: where it started, where it is, and what that means."""

    instrument: str
    baseline: Measure
    latest: Measure
    scores: tuple[Measure, ...]
    change: int  # latest minus baseline (negative is better)
    response: bool  # fell by at least the configured share of the baseline
    remission: bool  # below the instrument's remission threshold
    important_change: bool  # fell by at least the minimal important change
    next_due: datetime | None  # the next scheduled check-in of this instrument


@dataclass(frozen=True)
class RegistryEntry:
    """A patient in care, with the flags that put them on the team's lists."""

    patient: str
    clinic: str
    care_started_at: datetime
    weeks_in_care: float
    trends: tuple[Trend, ...]
    not_improving: bool  # no response by the configured week: on the psychiatric case-review list
    overdue: bool  # a scheduled check-in is late
    suicide_risk: bool  # any suicide-risk answer in the history

    def sort_key(self) -> tuple:
        """Order the registry: case review first, then overdue, then suicide risk, then longest in care."""
        return (not self.not_improving, not self.overdue, not self.suicide_risk, -self.weeks_in_care, self.patient)


def baseline_of(scores: list[Measure], care_started_at: datetime) -> Measure | None:
    """Return the last score at or before care started, or else the first one after it."""
    before = [m for m in scores if m.at <= care_started_at]
    return before[-1] if before else (scores[0] if scores else None)


def followed(care: Care, instrument: str, baseline: Measure | None) -> bool:
    """Say whether an instrument is followed with check-ins for this patient."""
    checkin = care.checkin(instrument)
    if checkin is None:
        return False
    return checkin.when == "always" or (baseline is not None and baseline.positive)


def trend(care: Care, instrument: str, scores: list[Measure], care_started_at: datetime) -> Trend | None:
    """Return an instrument's trend in care, or None without a score."""
    baseline = baseline_of(scores, care_started_at)
    if baseline is None:
        return None
    since = [m for m in scores if m.at >= baseline.at]
    latest = since[-1]
    drop = baseline.total - latest.total
    measured_in_care = latest is not baseline
    response = measured_in_care and baseline.total > 0 and drop >= care.response_drop * baseline.total
    below = care.remission_below.get(instrument)
    remission = measured_in_care and below is not None and latest.total < below
    minimal = care.minimal_change.get(instrument)
    checkin = care.checkin(instrument)
    next_due = None
    if checkin is not None:
        last = max(latest.at, care_started_at)
        next_due = last + timedelta(days=checkin.every_days)
    return Trend(instrument, baseline, latest, tuple(since), latest.total - baseline.total, response, remission,
                 minimal is not None and drop >= minimal, next_due)


def registry_entry(care: Care, patient: str, clinic: str, care_started_at: datetime, measures: list[Measure],
                   now: datetime) -> RegistryEntry:
    """Compute a patient's registry entry from all their scores (any order) as of now."""
    by_instrument: dict[str, list[Measure]] = {}
    for measure in sorted(measures, key=lambda m: m.at):
        by_instrument.setdefault(measure.instrument, []).append(measure)
    trends = []
    for checkin in care.checkins:
        scores = by_instrument.get(checkin.instrument, [])
        if followed(care, checkin.instrument, baseline_of(scores, care_started_at)):
            found = trend(care, checkin.instrument, scores, care_started_at)
            if found is not None:
                trends.append(found)
    weeks = (now - care_started_at) / WEEK
    improving = any(t.response or t.remission for t in trends)
    grace = timedelta(days=care.overdue_after_days)
    overdue = any(t.next_due is not None and now > t.next_due + grace for t in trends)
    return RegistryEntry(patient, clinic, care_started_at, weeks, tuple(trends),
                         not_improving=weeks >= care.not_improving_weeks and not improving and bool(trends),
                         overdue=overdue, suicide_risk=any(m.suicide_risk for m in measures))
