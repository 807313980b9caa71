"""The KPI report's arithmetic: seed figures of collaborative care from plain rows, each with what it counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from math import ceil

from bot.care_config import Care
from bot.domain.registry import WEEK, Measure, trend

PHQ9 = "phq9"
CRISIS_PLAN = "crisis"  # the crisis protocol's own session: not a screening anyone was offered
COMPLETED = "completed"
URGENCIES = ("routine", "urgent", "crisis")
PAGED_URGENCIES = ("urgent", "crisis")
ENGAGED_WITHIN = timedelta(days=30)
WHOLE_DAY = timedelta(days=1)  # the last outcome week counts to the end of its last day: a late check-in still counts
PERCENT, COUNT, MINUTES = "percent", "count", "minutes"


@dataclass(frozen=True)
class ScreeningRow:
    plan: str
    trigger: str
    status: str


@dataclass(frozen=True)
class ScoreRow:
    instrument: str
    positive: bool


@dataclass(frozen=True)
class HandoffRow:
    urgency: str
    source: str
    created_at: datetime
    accepted_at: datetime | None


@dataclass(frozen=True)
class ReferralRow:
    """A positive score and a handoff of the same screening, with the handoff's first contact made."""

    patient_id: int
    positive_at: datetime
    contact_at: datetime | None


@dataclass(frozen=True)
class CareRow:
    """A patient in care and their PHQ-9 scores, oldest first."""

    patient_id: int
    care_started_at: datetime
    measures: tuple[Measure, ...]


@dataclass(frozen=True)
class PageRow:
    """A handoff from a screening, with the screening's last answer at or before the handoff was created."""

    urgency: str
    created_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class ReportRows:
    screenings: list[ScreeningRow]
    scores: list[ScoreRow]
    handoffs: list[HandoffRow]
    referrals: list[ReferralRow]
    in_care: list[CareRow]
    pages: list[PageRow]
    crisis_events: int


@dataclass(frozen=True)
class Figure:
    """One line of the report; name and note are keys of the report's labels, subject a code it is about."""

    name: str
    numerator: int | None
    denominator: int | None  # for minutes: how many durations the percentile is taken over
    value: float | None  # None when the denominator is zero
    unit: str  # percent | count | minutes
    note: str
    subject: str = ""


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """Return [first 00:00 UTC, the day after last 00:00 UTC), or raise ValueError if last is before first."""
    if last < first:
        raise ValueError("--to is before --from")
    start = datetime.combine(first, time(0), tzinfo=UTC)
    return start, datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)


def nearest_rank(values: list[float], percent: float) -> float | None:
    """Return the nearest-rank percentile: the smallest value with at least percent% of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, ceil(percent / 100 * len(ordered))) - 1]


def rate(name: str, numerator: int, denominator: int, note: str | None = None, subject: str = "") -> Figure:
    """Return a share as a percentage (no value when the denominator is zero)."""
    value = 100 * numerator / denominator if denominator else None
    return Figure(name, numerator, denominator, value, PERCENT, note or name, subject)


def count(name: str, number: int, note: str | None = None) -> Figure:
    """Return a plain count."""
    return Figure(name, number, None, float(number), COUNT, note or name)


def percentiles(name: str, minutes: list[float]) -> list[Figure]:
    """Return the p50 and p90 (nearest rank) of durations in minutes, each with how many there were."""
    return [Figure(f"{name}_p{p}", None, len(minutes), nearest_rank(minutes, p), MINUTES, name) for p in (50, 90)]


def screening_figures(rows: list[ScreeningRow]) -> list[Figure]:
    """Return completed / offered overall and for each trigger."""
    offered = [r for r in rows if r.plan != CRISIS_PLAN]
    figures = [rate("screening_rate", sum(r.status == COMPLETED for r in offered), len(offered))]
    for trigger in sorted({r.trigger for r in offered}):
        mine = [r for r in offered if r.trigger == trigger]
        figures.append(rate("screening_rate_by_trigger", sum(r.status == COMPLETED for r in mine), len(mine),
                            "screening_rate", trigger))
    return figures


def positive_figures(rows: list[ScoreRow]) -> list[Figure]:
    """Return positive scores / scores for each instrument."""
    return [rate("positive_rate", sum(r.positive for r in rows if r.instrument == instrument),
                 sum(r.instrument == instrument for r in rows), subject=instrument)
            for instrument in sorted({r.instrument for r in rows})]


def handoff_figures(rows: list[HandoffRow]) -> list[Figure]:
    """Return handoffs created, their shares by urgency and source, acceptance and time to accept."""
    urgencies, sources = Counter(r.urgency for r in rows), Counter(r.source for r in rows)
    known = [u for u in URGENCIES if u in urgencies] + sorted(set(urgencies) - set(URGENCIES))
    figures = [count("handoffs", len(rows))]
    figures += [rate("handoffs_by_urgency", urgencies[u], len(rows), subject=u) for u in known]
    figures += [rate("handoffs_by_source", sources[s], len(rows), subject=s) for s in sorted(sources)]
    accepted = [r for r in rows if r.accepted_at is not None]
    figures.append(rate("acceptance_rate", len(accepted), len(rows)))
    return figures + percentiles("time_to_accept", [_minutes(r.accepted_at - r.created_at) for r in accepted])


def engagement_figure(rows: list[ReferralRow]) -> Figure:
    """Return patients whose handoff had contact made within 30 days of the positive screen / patients referred."""
    engaged = {r.patient_id for r in rows
               if r.contact_at is not None and r.contact_at - r.positive_at <= ENGAGED_WITHIN}
    return rate("engagement", len(engaged), len({r.patient_id for r in rows}))


def outcome_figures(rows: list[CareRow], care: Care, start: datetime, end: datetime) -> list[Figure]:
    """Return response and remission among patients whose latest PHQ-9 in the outcome weeks (days 56-112) is in range."""
    first, last = care.outcome_weeks
    measured = response = remission = 0
    for row in rows:
        window = [m for m in row.measures if first * WEEK <= m.at - row.care_started_at < last * WEEK + WHOLE_DAY
                  and m.at < end]
        if not window or window[-1].at < start:
            continue
        upto = [m for m in row.measures if m.at <= window[-1].at]
        found = trend(care, PHQ9, upto, row.care_started_at)
        measured += 1
        response += bool(found and found.response)
        remission += bool(found and found.remission)
    weeks = f"{first:g}-{last:g}"
    return [rate("response", response, measured, subject=weeks), rate("remission", remission, measured, subject=weeks)]


def crisis_figures(crisis_events: int, pages: list[PageRow]) -> list[Figure]:
    """Return crisis protocols started and the time from the screening's last answer to an urgent or crisis page."""
    minutes = [_minutes(p.created_at - p.answered_at) for p in pages
               if p.urgency in PAGED_URGENCIES and p.answered_at is not None]
    return [count("crisis_events", crisis_events)] + percentiles("answer_to_page", minutes)


def report_figures(rows: ReportRows, care: Care, start: datetime, end: datetime) -> list[Figure]:
    """Return every figure of the report, in order."""
    return [*screening_figures(rows.screenings), *positive_figures(rows.scores), *handoff_figures(rows.handoffs),
            engagement_figure(rows.referrals), *outcome_figures(rows.in_care, care, start, end),
            *crisis_figures(rows.crisis_events, rows.pages)]


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60
